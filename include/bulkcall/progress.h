/* Progress on stderr for long work: a live line redrawn in place on a
 * TTY, or a plain status line every 10 s when stderr is a file or pipe.
 * Time is passed in; nothing here reads the clock. */
#ifndef BULKCALL_PROGRESS_H
#define BULKCALL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "bulkcall/job.h"

struct bc_progress_state {
	uint64_t done;
	uint64_t in_flight;
	uint64_t throttled; /* throttle signals so far */
	uint64_t retries;   /* attempts beyond the first */
	uint64_t not_ok;    /* failed + rejected + retry + unknown */
	uint64_t bytes_read, bytes_total; /* total 0 = unknown (stdin, gzip) */
};

struct bc_progress {
	FILE *out;
	int live;    /* redraw one line (TTY) */
	int enabled;
	int64_t start_us, last_us;
	size_t last_len;
};

void bc_progress_init(struct bc_progress *p, FILE *out,
		      enum bc_progress_mode mode, int quiet, int64_t now_us);
/* Prints when a line is due (200 ms live, 10 s plain). */
void bc_progress_update(struct bc_progress *p, const struct bc_progress_state *s,
			int64_t now_us);
/* Clears the live line before the final summary. */
void bc_progress_finish(struct bc_progress *p);

#endif
