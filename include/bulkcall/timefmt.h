/* Time text: RFC 3339 parsing for `not_before`, and the daily calling
 * window (--window HH:MM-HH:MM --tz ZONE). Pure: times are parameters. */
#ifndef BULKCALL_TIMEFMT_H
#define BULKCALL_TIMEFMT_H

#include <stdint.h>

/* "2026-11-23T18:00:00Z", "...T18:00:00.250+01:00" -> Unix ms.
 * Returns 0, or BC_EINVAL when s is not an RFC 3339 date-time. */
int bc_rfc3339_parse(const char *s, int64_t *unix_ms);

struct bc_window {
	int start_min, end_min; /* minutes after local midnight */
	char tz[64];            /* "" = the process's local zone */
};
/* Parses "HH:MM-HH:MM"; end < start spans midnight. BC_EINVAL if bad. */
int bc_window_parse(struct bc_window *w, const char *spec, const char *tz);
/* Is unix_ms inside the window? *next_open_ms gets when it next opens
 * (unix_ms itself when inside). */
int bc_window_inside(const struct bc_window *w, int64_t unix_ms,
		     int64_t *next_open_ms);

#endif
