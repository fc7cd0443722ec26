/* struct bc_halt: --halt-fail PCT over a sliding window of the last
 * BC_HALT_WINDOW finished rows.
 *
 * Invariants:
 *  - The window holds the outcomes (failed or not) of the last
 *    min(finished, BC_HALT_WINDOW) rows; failed counts the failed ones.
 *  - The halt trips when, after a record, at least BC_HALT_MIN_ROWS rows
 *    have finished and failed * 100 > PCT * rows in the window ("more
 *    than PCT %", so exactly PCT % does not trip). Before
 *    BC_HALT_MIN_ROWS rows the window is too small to judge (3 failures
 *    out of the first 4 rows should not stop a million-row run).
 *  - Once tripped it stays tripped: rows still in flight when dispatch
 *    stops finish and are recorded, but cannot undo the halt.
 *  - Disabled (PCT < 0) it never trips.
 * PCT is kept in milli-percent so 2.5 % compares exactly. */
#ifndef BULKCALL_SCHED_HALT_H
#define BULKCALL_SCHED_HALT_H

#include <stddef.h>
#include <stdint.h>

#define BC_HALT_WINDOW 200
#define BC_HALT_MIN_ROWS 50

struct bc_halt {
	int64_t pct_milli; /* < 0: disabled */
	unsigned char failed_at[BC_HALT_WINDOW]; /* ring of 0/1 */
	size_t pos; /* next slot to write */
	size_t rows; /* rows in the window, <= BC_HALT_WINDOW */
	size_t failed; /* failed rows in the window */
	uint64_t finished; /* rows recorded, all time */
	int tripped;
};

/* pct: the --halt-fail value in percent (fractions allowed, rounded to
 * 0.001 %); negative disables. */
void bc_halt_init(struct bc_halt *h, double pct);
/* Records one finished row (failed: 1 or 0). */
void bc_halt_record(struct bc_halt *h, int failed);
int bc_halt_tripped(const struct bc_halt *h);

#endif
