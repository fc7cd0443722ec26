/* Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date,
 * parsed by hand (no strptime, no timegm, no locale, no TZ).
 *
 * Invariants: the delay is never negative (a date in the past is 0); a
 * date is honoured to the second, with the caller's wall clock in ms, so
 * nothing is sent before the named second; huge values saturate instead of
 * overflowing. All three HTTP-date forms are accepted, as recipients must:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years more
 *                than 50 years ahead of now are the previous century)
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Names are matched case-insensitively and the weekday is not checked
 * against the date. Surrounding spaces and tabs are ignored. */
#ifndef BULKCALL_SCHED_RETRY_AFTER_H
#define BULKCALL_SCHED_RETRY_AFTER_H

#include <stdint.h>

#define BC_RETRY_AFTER_MAX_S INT64_C(1000000000000) /* saturation point */

/* Sets *delay_ms from a Retry-After value, given the wall clock (Unix ms).
 * Returns BC_OK, or BC_EPARSE (with *delay_ms untouched) when the value is
 * neither delay-seconds nor an HTTP-date; fall back to the cooldown then. */
int bc_retry_after_parse(const char *value, int64_t now_unix_ms,
			 int64_t *delay_ms);
/* Parses an HTTP-date (any of the three forms) to Unix ms. now_unix_ms is
 * only used to place RFC 850 two-digit years. BC_OK or BC_EPARSE. */
int bc_http_date_parse(const char *value, int64_t now_unix_ms,
		       int64_t *unix_ms);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t bc_days_from_civil(int64_t year, int month, int day);

#endif
