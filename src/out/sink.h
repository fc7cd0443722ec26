/* struct bc_sink: one output file written through a buffer, plain or gzip.
 * Invariants: once a write fails the sink stays failed and every call
 * returns BC_EIO with a message naming the file and the errno. After
 * bc_sink_commit() the file ends at a record boundary that is on disk
 * (fdatasync), and a gzip file ends at the end of a complete member, so
 * truncating it to a committed length leaves a valid file. */
#ifndef BC_OUT_SINK_H
#define BC_OUT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "bulkcall/buf.h"

/* Bytes gathered before a write(2): batches many rows per system call. */
#define BC_SINK_CHUNK (64u * 1024u)

struct bc_sink {
	char *path;
	int fd;
	int gzip;
	gzFile gz; /* the open gzip member; NULL between members */
	struct bc_buf buf;
	int failed_errno;
	int dirty; /* bytes handed to the kernel since the last commit */
	int unsynced; /* a deferred commit left its sync to another thread */
};

/* Creates (or truncates) path. */
int bc_sink_open(struct bc_sink *s, const char *path, int gzip, char *err,
		 size_t errlen);
/* Opens an existing path (creating it when missing) and cuts it to
 * keep_len bytes, for resume; writing continues there. A file shorter than
 * keep_len fails with BC_EIO: the folder was changed behind our back. */
int bc_sink_reopen(struct bc_sink *s, const char *path, int gzip,
		   uint64_t keep_len, char *err, size_t errlen);
int bc_sink_write(struct bc_sink *s, const void *data, size_t len, char *err,
		  size_t errlen);
/* Pushes buffered bytes to the kernel (not fsync). */
int bc_sink_flush(struct bc_sink *s, char *err, size_t errlen);
/* Makes everything written so far durable: writes the buffer, ends the
 * gzip member, fdatasync()s when anything changed; *len = the file's
 * length, a valid truncation point. */
int bc_sink_commit(struct bc_sink *s, uint64_t *len, char *err, size_t errlen);
/* The same but without the fdatasync: *needs_sync = 1 when anything
 * changed, and the caller has s->fd synced (the journal's thread) before
 * it counts *len as committed. A later bc_sink_commit syncs again. */
int bc_sink_commit_deferred(struct bc_sink *s, uint64_t *len, int *needs_sync,
			    char *err, size_t errlen);
int bc_sink_close(struct bc_sink *s, char *err, size_t errlen);

#endif
