/* The only place that reads the clock. Everything else takes time as a
 * parameter, so schedulers and limiters run on a fake clock in tests. */
#ifndef BULKCALL_CLOCK_H
#define BULKCALL_CLOCK_H

#include <stdint.h>

/* Monotonic time in microseconds (durations, deadlines). */
int64_t bc_clock_mono_us(void);
/* Wall-clock Unix time in milliseconds (timestamps in files). */
int64_t bc_clock_unix_ms(void);

#endif
