/* struct bc_aimd: the run's effective rate under throttling, additive
 * increase / multiplicative decrease.
 *
 * Invariants:
 *  - Not cut, the effective rate is the configured rate (0 = unlimited).
 *  - A cut sets the rate to max(floor, current * 1/2), where the floor is
 *    max(ceiling / 64, 0.1 rps) but never above the ceiling.
 *  - From resume_ms on, the rate grows linearly by 5 % of the ceiling per
 *    second and never exceeds the ceiling; the ceiling is the configured
 *    rate.
 *  - Unlimited runs (configured rate 0) have nothing to cut, so a cut
 *    derives a ceiling from the dispatch rate observed over the last
 *    second (max of the last 1 s count and the last 5 s average, counted
 *    in 100 ms slots by bc_aimd_note_dispatch(); 1 rps when nothing was
 *    dispatched) and cuts that. Once recovered to that ceiling the run is
 *    unlimited again, and the next cut derives a fresh ceiling.
 *  - One cut per round trip: a signal for a request sent at or before the
 *    last cut was sent at the old rate and does not cut again (otherwise a
 *    hundred in-flight 429s would cut the rate a hundred times).
 * Time is a parameter (ms); rates are milli-requests per second. */
#ifndef BULKCALL_SCHED_AIMD_H
#define BULKCALL_SCHED_AIMD_H

#include <stdint.h>

#define BC_AIMD_CUT_NUM 1 /* a cut multiplies the rate by NUM/DEN */
#define BC_AIMD_CUT_DEN 2
#define BC_AIMD_FLOOR_DIV 64 /* floor: ceiling / 64 ... */
#define BC_AIMD_FLOOR_MIN_MILLI 100 /* ... but at least 0.1 rps */
#define BC_AIMD_STEP_PCT 5 /* recovery: % of the ceiling per second */
#define BC_AIMD_UNKNOWN_MILLI 1000 /* derived ceiling with no dispatches */
#define BC_AIMD_SLOT_MS 100
#define BC_AIMD_SLOTS 50 /* 5 s of dispatch history */

struct bc_aimd {
	int64_t conf_milli; /* configured rate; 0 = unlimited */
	int64_t ceil_milli; /* recovery ceiling; 0 = never cut */
	int64_t base_milli; /* rate right after the last cut */
	int64_t resume_ms; /* recovery starts here */
	int64_t last_cut_ms;
	int64_t slot; /* index (time / BC_AIMD_SLOT_MS) of the newest slot */
	uint32_t count[BC_AIMD_SLOTS]; /* dispatches per slot, ring */
};

void bc_aimd_init(struct bc_aimd *a, int64_t conf_milli, int64_t now_ms);
/* Counts one dispatch (only used to derive a rate for unlimited runs). */
void bc_aimd_note_dispatch(struct bc_aimd *a, int64_t now_ms);
/* A throttle signal for a request sent at sent_ms. Returns 1 when the rate
 * was cut, 0 when the signal was an echo of the last cut. Recovery starts
 * at max(now_ms, resume_ms): pass the end of the account pause so a long
 * cooldown does not recover the rate before the first request after it. */
int bc_aimd_cut(struct bc_aimd *a, int64_t now_ms, int64_t sent_ms,
		int64_t resume_ms);
/* The effective rate at now_ms in milli-requests/s; 0 = unlimited. */
int64_t bc_aimd_rate(const struct bc_aimd *a, int64_t now_ms);
/* The dispatch rate seen over the last second (see above), milli-rps. */
int64_t bc_aimd_observed(struct bc_aimd *a, int64_t now_ms);

#endif
