/* What `bulkcall resume` needs from an output folder (docs/durability.md):
 * job.json, the job's identity and options, written once before anything
 * is sent; and the journal, an append-only log of text records, each line
 * ending in its own CRC-32 so a torn tail is recognised and dropped.
 *
 * Invariants of the journal:
 *  - a commit record ("C") is appended only after every output file was
 *    written and fdatasync()ed up to the lengths it names, and the rows it
 *    lists are exactly the rows whose final records lie below those
 *    lengths and above the previous commit's;
 *  - a "sent" record ("S") naming a row is durable before that row's
 *    request is handed to the transport (non-idempotent profiles only), and
 *    a "not acted" record ("N") follows when the attempt provably did not
 *    act (the row goes back to the queue);
 *  - records after the last commit never make a row final: resume cuts the
 *    output files back to the last commit's lengths.
 * Depends on core only. */
#ifndef BULKCALL_JOURNAL_H
#define BULKCALL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/* Output files a commit measures, in this order. */
enum bc_out_file {
	BC_OUT_RESULTS,
	BC_OUT_RETRY,
	BC_OUT_ERRORS,
	BC_OUT_UNKNOWN,
	BC_OUT_FILES
};

#define BC_JOURNAL_NAME "journal"
#define BC_JOBFILE_NAME "job.json"

/* A set of row numbers (1-based), one bit each: 125 kB per million rows. */
struct bc_rowset {
	uint8_t *bits;
	uint64_t cap_bits;
	uint64_t count;
};

int bc_rowset_add(struct bc_rowset *s, uint64_t row);
void bc_rowset_del(struct bc_rowset *s, uint64_t row);
int bc_rowset_has(const struct bc_rowset *s, uint64_t row);
void bc_rowset_release(struct bc_rowset *s);

/* ---- writing ---- */

struct bc_journal;

/* Creates dir/journal (keep_len < 0: empty, then the format record), or
 * cuts it to keep_len bytes (resume: the valid records bc_journal_load
 * found). locked_fd: the fd of bc_journal_lock, or -1 to open and lock the
 * file here (BC_EEXISTS when another process holds it). */
int bc_journal_open(struct bc_journal **out, const char *dir, int64_t keep_len,
		    int locked_fd, char *err, size_t errlen);
/* Locks dir/journal (created empty when missing) until *fd is closed or
 * the process dies: a second bulkcall on the same folder fails with
 * BC_EEXISTS. Taken by resume before it reads or changes anything. */
int bc_journal_lock(const char *dir, int *fd, char *err, size_t errlen);
/* "B what": a run or a resume starts. Written, not synced. */
int bc_journal_begin(struct bc_journal *j, const char *what, char *err,
		     size_t errlen);
/* The barrier before a non-idempotent dispatch: appends one "S" record for
 * rows[0..n) (after any pending "N" records) and fdatasync()s. */
int bc_journal_sent(struct bc_journal *j, const uint64_t *rows, size_t n,
		    char *err, size_t errlen);
/* The same barrier off the caller's path: appends the "S" record for
 * rows[0..n) (after any pending "N" records), writes it, and asks the
 * journal's sync thread to fdatasync. *ticket names that sync: the rows
 * may go once bc_journal_synced(ticket) says 1.
 * commit != 0 also commits the pending final rows at the output lengths
 * len[], written but not yet durable: the same sync fdatasyncs
 * file_fd[0..nfiles) (file_path names each in errors) before the
 * journal, and the commit record is written only after that sync is done
 * (by a later call), so it never counts bytes that are not on disk. */
int bc_journal_sent_async(struct bc_journal *j, int commit,
			  const uint64_t len[BC_OUT_FILES], const int *file_fd,
			  const char *const *file_path, size_t nfiles,
			  const uint64_t *rows, size_t n, uint64_t *ticket,
			  char *err, size_t errlen);
/* 1: every record written before the ticket was asked for is durable; 0:
 * not yet; BC_EIO: a sync failed (err says which file and why: the
 * journal takes no more records). */
int bc_journal_synced(struct bc_journal *j, uint64_t ticket, char *err,
		      size_t errlen);
/* How many syncs the sync thread has finished. */
uint64_t bc_journal_syncs(struct bc_journal *j);
/* wake(arg) is called from the sync thread after each sync, so that a
 * caller waiting elsewhere (bc_transport_wake) looks again. */
void bc_journal_set_waker(struct bc_journal *j, void (*wake)(void *),
			  void *arg);
/* The sync thread starts a sync period_us after the previous one started
 * at the earliest (group commit; default BC_JOURNAL_SYNC_PERIOD_US; 0:
 * back to back). Call before the first async barrier. */
#define BC_JOURNAL_SYNC_PERIOD_US 1000
void bc_journal_set_sync_period(struct bc_journal *j, long period_us);
/* A row whose last attempt did not act is queued again (buffered; goes out
 * with the next record). */
int bc_journal_not_acted(struct bc_journal *j, uint64_t row);
/* A row's final record was handed to the output (buffered until commit). */
int bc_journal_final(struct bc_journal *j, uint64_t row);
/* Rows made final since the last commit. */
size_t bc_journal_pending(const struct bc_journal *j);
/* Appends a commit record with the output lengths len[] (already
 * durable) and the pending final rows, then fdatasync()s. stopped != 0
 * writes an "R" record instead: the files hold, past the last commit, the
 * records of rows written as retry because the run stopped, which resume
 * will send; it lists no rows. Commit records of bc_journal_sent_async
 * still waiting for their sync go first (every file is durable now); it
 * returns once the sync thread has no sync under way. */
int bc_journal_commit(struct bc_journal *j, int stopped,
		      const uint64_t len[BC_OUT_FILES], char *err,
		      size_t errlen);
/* "E complete|stopped CODE", synced: the run ended (after summary.json). */
int bc_journal_end(struct bc_journal *j, int complete, int exit_code, char *err,
		   size_t errlen);
/* Closes; records not yet written are dropped (the caller commits). */
void bc_journal_free(struct bc_journal *j);

/* ---- reading (resume) ---- */

struct bc_journal_state {
	int found;		     /* a journal file exists */
	int has_commit;		     /* at least one "C" record */
	uint64_t len[BC_OUT_FILES];  /* lengths of the last "C" */
	uint64_t valid_len;	     /* bytes of whole, valid records */
	uint64_t torn_bytes;	     /* bytes after them (dropped) */
	int complete;		     /* the last record is "E complete" */
	int exit_code;		     /* of that "E" record */
	unsigned runs;		     /* "B" records: the run and its resumes */
	struct bc_rowset final;	     /* rows of "C" records */
	struct bc_rowset maybe_sent; /* last "S" not followed by "N" */
};

/* Reads dir/journal. A missing journal is not an error (found = 0). */
int bc_journal_load(const char *dir, struct bc_journal_state *st, char *err,
		    size_t errlen);
void bc_journal_state_release(struct bc_journal_state *st);

/* ---- job.json ---- */

/* A file the profile reads at bind (--template, --profile-file): its
 * contents are part of the job, so resume checks them like the input's. */
struct bc_jobfile_dep {
	char *path;	 /* absolute; NULL: not used, or not recorded */
	int regular;	 /* 0: a pipe or device, whose size and CRC are unknown */
	uint64_t size;
	uint32_t crc32;
};

struct bc_jobfile {
	char *input;   /* absolute path, or "-" */
	int resumable; /* 0: stdin, which cannot be read again */
	uint64_t input_size;
	int64_t input_mtime_ms;
	uint32_t input_crc32; /* zlib crc32 over the file's bytes */
	char *profile;
	int idempotent;
	int64_t started_ms; /* Unix ms */
	char *options_json; /* the options as summary.json shows them */
	char *config_json;  /* the same as a -c config object, for resume */
	struct bc_jobfile_dep template_file, profile_file;
};

/* Size, mtime and CRC-32 of a regular file (reads it once). BC_EINVAL for
 * a pipe or device (not read), BC_EIO when it cannot be opened or read. */
int bc_file_identity(const char *path, uint64_t *size, int64_t *mtime_ms,
		     uint32_t *crc, char *err, size_t errlen);
/* Writes dir/job.json atomically and durably (tmp, fsync, rename, fsync
 * of the folder). */
int bc_jobfile_write(const char *dir, const struct bc_jobfile *jf, char *err,
		     size_t errlen);
/* BC_ENOTFOUND when dir has no job.json; BC_EPARSE when it is not ours. */
int bc_jobfile_read(const char *dir, struct bc_jobfile *jf, char *err,
		    size_t errlen);
void bc_jobfile_release(struct bc_jobfile *jf);

#endif
