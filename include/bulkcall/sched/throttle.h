/* struct bc_throttle: the pause state of one throttle scope (a value of the
 * --key column, or "*" for the whole account).
 *
 * Invariants:
 *  - The scope is paused while now < paused_until_ms; nothing of the scope
 *    may be dispatched before paused_until_ms.
 *  - A new signal pauses for its Retry-After delay if it had one, else for
 *    cooldown * 2^(strikes - 1) capped at BC_THROTTLE_MAX_MULT * cooldown,
 *    where strikes counts consecutive signals (1 for the first).
 *  - A pause is never shortened: paused_until_ms only grows until it has
 *    passed.
 *  - Echoes do not escalate: a signal for a request sent at or before the
 *    start of the current pause was already in flight when the scope was
 *    paused, so it only extends the pause to its own Retry-After (if any)
 *    and does not count as a strike.
 *  - A success resets strikes to 0, but only for a request sent after the
 *    pause started (an old request answered late proves nothing).
 * Time is a parameter (ms). */
#ifndef BULKCALL_SCHED_THROTTLE_H
#define BULKCALL_SCHED_THROTTLE_H

#include <stdint.h>

#define BC_THROTTLE_MAX_MULT 16
#define BC_THROTTLE_COOLDOWN_MS INT64_C(60000) /* --throttle-cooldown */

struct bc_throttle {
	int64_t paused_until_ms; /* INT64_MIN: never paused */
	int64_t pause_start_ms; /* INT64_MIN: never paused */
	unsigned strikes; /* consecutive signals since the last success */
};

void bc_throttle_init(struct bc_throttle *t);
/* A throttle signal at now_ms for a request sent at sent_ms.
 * retry_after_ms is the Retry-After delay (>= 0), or -1 when the response
 * had none. Returns 1 for a new signal (a strike), 0 for an echo. */
int bc_throttle_signal(struct bc_throttle *t, int64_t now_ms, int64_t sent_ms,
		       int64_t retry_after_ms, int64_t cooldown_ms);
/* A request sent at sent_ms was answered without a throttle signal. */
void bc_throttle_success(struct bc_throttle *t, int64_t sent_ms);
/* 1 while the scope is paused at now_ms. */
int bc_throttle_paused(const struct bc_throttle *t, int64_t now_ms);
/* The pause for the given strike count without Retry-After:
 * cooldown_ms * min(2^(strikes - 1), BC_THROTTLE_MAX_MULT); strikes 0
 * counts as 1. */
int64_t bc_throttle_cooldown(int64_t cooldown_ms, unsigned strikes);

#endif
