/* struct bc_sink: one output file written through a buffer, plain or gzip.
 * Invariant: once a write fails the sink stays failed and every call
 * returns BC_EIO with a message naming the file and the errno. */
#ifndef BC_OUT_SINK_H
#define BC_OUT_SINK_H

#include <stddef.h>

#include <zlib.h>

#include "bulkcall/buf.h"

/* Bytes gathered before a write(2): batches many rows per system call. */
#define BC_SINK_CHUNK (64u * 1024u)

struct bc_sink {
	char *path;
	int fd;
	gzFile gz;
	struct bc_buf buf;
	int failed_errno;
	size_t records;
};

int bc_sink_open(struct bc_sink *s, const char *path, int gzip, char *err,
		 size_t errlen);
int bc_sink_write(struct bc_sink *s, const void *data, size_t len, char *err,
		  size_t errlen);
/* Pushes buffered bytes to the kernel (not fsync). */
int bc_sink_flush(struct bc_sink *s, char *err, size_t errlen);
int bc_sink_close(struct bc_sink *s, char *err, size_t errlen);

#endif
