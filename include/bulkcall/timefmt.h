/* Time text: RFC 3339 parsing for `not_before`, and the daily calling
 * window (--window HH:MM-HH:MM --tz ZONE). Times are parameters; only
 * bc_tz_valid looks at the file system. */
#ifndef BULKCALL_TIMEFMT_H
#define BULKCALL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-23T18:00:00Z", "...T18:00:00.250+01:00" -> Unix ms.
 * Returns 0, or BC_EINVAL when s is not an RFC 3339 date-time. */
int bc_rfc3339_parse(const char *s, int64_t *unix_ms);

/* Is tz a zone the window can apply: "UTC", "GMT", or the name of a TZif
 * file under $TZDIR (default /usr/share/zoneinfo), e.g. "Europe/London"?
 * Absolute paths, ".." and other odd names are refused: libc would take
 * any unknown name silently as UTC. Reads the file's first bytes. */
int bc_tz_valid(const char *tz);

struct bc_window {
	int start_min, end_min; /* minutes after local midnight; end <= 1440 */
	char tz[64];            /* "" = the process's local zone */
	/* What bc_window_inside found: `inside` holds from from_ms until
	 * change_ms, when the window next opens or closes. The zone's rules
	 * are applied once per change, not on every call. */
	int64_t from_ms, change_ms;
	int inside;
};
/* Parses "HH:MM-HH:MM" (end may be 24:00; end < start spans midnight).
 * BC_EINVAL if the spec is bad or start == end (a window that never
 * opens), BC_ENOTFOUND if tz is set and not bc_tz_valid(). */
int bc_window_parse(struct bc_window *w, const char *spec, const char *tz);
/* Is unix_ms inside the window? *next_open_ms gets when it next opens
 * (unix_ms itself when inside). Cheap between changes: see from_ms. */
int bc_window_inside(struct bc_window *w, int64_t unix_ms,
		     int64_t *next_open_ms);
/* unix_ms as local time of the window's zone, "YYYY-MM-DD HH:MM". */
void bc_window_local_time(const struct bc_window *w, int64_t unix_ms, char *out,
			  size_t len);

#endif
