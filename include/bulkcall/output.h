/* The output folder (SPEC §5): results, retry, errors, unknown and
 * summary.json, written as rows finish.
 * Invariants: every row handed to bc_output_write gets exactly one line in
 * results and, by outcome, one record in retry / errors / unknown, holding
 * the row's original bytes; files are written through buffers flushed in
 * batches (bc_output_flush), so a stopped run leaves usable files; after
 * bc_output_commit every file is durable and ends on a record (and gzip
 * member) boundary, which the journal records (bulkcall/journal.h). A failed
 * write is sticky: every later call returns BC_EIO and err names the file. */
#ifndef BULKCALL_OUTPUT_H
#define BULKCALL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/reader.h"
#include "bulkcall/row.h"

enum bc_outcome {
	BC_OUTCOME_OK,
	BC_OUTCOME_FAILED,
	BC_OUTCOME_REJECTED,
	BC_OUTCOME_RETRY,
	BC_OUTCOME_UNKNOWN,
	BC_OUTCOME_VALID, /* check only: would be sent */
	BC_OUTCOME_COUNT
};
const char *bc_outcome_name(enum bc_outcome o);

struct bc_result {
	const struct bc_row *row;
	enum bc_outcome outcome;
	long http_status;   /* 0 = no answer */
	const char *error;  /* "" or NULL = none */
	unsigned attempts;
	int64_t latency_ms; /* < 0 = none */
	int64_t finished_at_ms; /* Unix time */
};

struct bc_output_options {
	const char *dir;
	int force;   /* write into a non-empty folder */
	int check;   /* check: results, errors and summary only */
	enum bc_format input_format;
	enum bc_format results_format; /* BC_FORMAT_AUTO = like the input */
	int gzip;
	/* The input's CSV header line, exactly (retry/errors/unknown). */
	const char *header;
	size_t header_len;
	const struct bc_columns *cols;
	const char *const *key_columns;
	/* Resume: the files exist; cut each to these lengths (the journal's
	 * last commit, in enum bc_out_file order), keep their headers, and
	 * count the results already there. NULL: a new folder. */
	const uint64_t *resume_len;
};

struct bc_output;

/* Creates dir (and parents) and opens the files. A non-empty dir is
 * refused with BC_EEXISTS unless force. */
int bc_output_open(struct bc_output **out, const struct bc_output_options *o,
		   char *err, size_t errlen);
int bc_output_write(struct bc_output *o, const struct bc_result *r,
		    char *err, size_t errlen);
int bc_output_flush(struct bc_output *o, char *err, size_t errlen);
/* Makes every file durable (fdatasync, gzip member ended) and sets len[]
 * to their lengths in enum bc_out_file order (0 for files not kept). */
int bc_output_commit(struct bc_output *o, uint64_t *len, char *err,
		     size_t errlen);
/* bc_output_commit without the fdatasync: every file is written and ends
 * on a record at len[]; fd[0..*nfiles) (path[] names them) are the files
 * that changed, for the caller to make durable before it counts len[] as
 * committed (bc_journal_sent_async). fd and path hold BC_OUT_FILES. */
int bc_output_commit_deferred(struct bc_output *o, uint64_t *len, int *fd,
			      const char **path, size_t *nfiles, char *err,
			      size_t errlen);
/* Counts so far, per outcome. */
const uint64_t *bc_output_counts(const struct bc_output *o);

struct bc_summary_info {
	const char *command;  /* "run" / "check" */
	const char *input;
	const char *profile;
	int64_t started_ms, ended_ms;
	const char *options_json; /* a JSON object, no secrets */
	const char *stopped_because; /* NULL when the input was finished */
	unsigned resumes; /* times the job was resumed */
};
/* Writes summary.json and closes every file. Returns BC_OK or BC_EIO.
 * bc_output_free() after close or on error paths. */
int bc_output_close(struct bc_output *o, const struct bc_summary_info *info,
		    char *err, size_t errlen);
/* Prints the human summary (counts, top errors, rate, latency). */
void bc_output_print_summary(const struct bc_output *o,
			     const struct bc_summary_info *info, void *stream);
const char *bc_output_dir(const struct bc_output *o);
void bc_output_free(struct bc_output *o);

#endif
