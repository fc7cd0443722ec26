/* Time arithmetic for the scheduler: times and durations are int64_t
 * milliseconds passed in by the caller (src/sched never reads a clock).
 * Invariant: bc_ms_add never overflows; it saturates at INT64_MAX/MIN, so
 * "paused until the end of time" is representable and comparable. */
#ifndef BULKCALL_SCHED_MS_H
#define BULKCALL_SCHED_MS_H

#include <stdint.h>

/* Returns t + d, saturated to [INT64_MIN, INT64_MAX]. */
static inline int64_t bc_ms_add(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

#endif
