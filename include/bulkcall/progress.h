/* Progress on stderr for long work: a live line redrawn in place on a
 * TTY, or a plain status line every 10 s when stderr is a file or pipe.
 * "done / total" counts finished rows; the total is exact once the input
 * is read to its end, and before that estimated from the bytes read
 * ("~N"), since reading runs ahead of finished rows. Percent and ETA come
 * from finished rows, never from bytes read. Time is passed in; nothing
 * here reads the clock. */
#ifndef BULKCALL_PROGRESS_H
#define BULKCALL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "bulkcall/job.h"

struct bc_progress_state {
	uint64_t done;      /* rows with a final record (skipped included) */
	uint64_t skipped;   /* of those, final before (resume): not counted
			       in rows/s */
	uint64_t in_flight;
	uint64_t throttled; /* throttle signals so far */
	uint64_t retries;   /* attempts beyond the first */
	uint64_t not_ok;    /* failed + rejected + retry + unknown */
	uint64_t rows_read; /* rows taken from the input so far */
	int input_done;     /* rows_read is the total */
	uint64_t bytes_read, bytes_total; /* total 0 = unknown (stdin, gzip) */
};

/* The line's text for state s, secs seconds after the start: "1200 /
 * ~5000 rows (24%), 3 not ok, 400 rows/s, ...". For tests. */
void bc_progress_format(const struct bc_progress_state *s, double secs,
			char *out, size_t len);

struct bc_progress {
	FILE *out;
	int live;    /* redraw one line (TTY) */
	int enabled;
	int always;  /* --progress always: a plain final line too */
	int printed; /* a line was printed */
	int64_t start_us, last_us;
	size_t last_len;
};

void bc_progress_init(struct bc_progress *p, FILE *out,
		      enum bc_progress_mode mode, int quiet, int64_t now_us);
/* Prints when a line is due (200 ms live, 10 s plain). */
void bc_progress_update(struct bc_progress *p, const struct bc_progress_state *s,
			int64_t now_us);
/* At the end, with the final state: clears the live line before the
 * summary; on a file or pipe prints one last plain line (done == total)
 * when lines were printed or --progress always. */
void bc_progress_finish(struct bc_progress *p, const struct bc_progress_state *s,
			int64_t now_us);

#endif
