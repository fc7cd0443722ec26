/* RFC 3339 parsing and daily windows (include/bulkcall/timefmt.h). The
 * window's zone is applied through TZ + localtime_r, the one portable way
 * libc offers; the engine calls it from its single thread. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulkcall/error.h"
#include "bulkcall/timefmt.h"

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

int bc_rfc3339_parse(const char *s, int64_t *unix_ms)
{
	int Y, M, D, h, m, sec, ms = 0;
	if (strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' ||
	    !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) ||
	    s[16] != ':' || !digits(s + 17, 2, &sec))
		return BC_EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return BC_EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		int n = 0;
		while (*p >= '0' && *p <= '9') {
			if (n < 3)
				ms = ms * 10 + (*p - '0');
			n++;
			p++;
		}
		if (n == 0)
			return BC_EINVAL;
		for (; n < 3; n++)
			ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return BC_EINVAL;
		offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return BC_EINVAL;
	}
	if (*p)
		return BC_EINVAL;
	struct tm tm = { 0 };
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*unix_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
	return BC_OK;
}

int bc_window_parse(struct bc_window *w, const char *spec, const char *tz)
{
	int h1, m1, h2, m2;
	if (strlen(spec) != 11 || !digits(spec, 2, &h1) || spec[2] != ':' ||
	    !digits(spec + 3, 2, &m1) || spec[5] != '-' ||
	    !digits(spec + 6, 2, &h2) || spec[8] != ':' ||
	    !digits(spec + 9, 2, &m2) || h1 > 23 || h2 > 24 || m1 > 59 ||
	    m2 > 59)
		return BC_EINVAL;
	w->start_min = h1 * 60 + m1;
	w->end_min = h2 * 60 + m2;
	snprintf(w->tz, sizeof w->tz, "%s", tz ? tz : "");
	return BC_OK;
}

static int minutes_of_day(const struct bc_window *w, time_t t, int *sec_in_min)
{
	struct tm tm;
	if (w->tz[0]) {
		const char *old = getenv("TZ");
		char saved[128] = "";
		int had = old != NULL;
		if (had)
			snprintf(saved, sizeof saved, "%s", old);
		setenv("TZ", w->tz, 1);
		tzset();
		localtime_r(&t, &tm);
		if (had)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
	} else {
		localtime_r(&t, &tm);
	}
	*sec_in_min = tm.tm_sec;
	return tm.tm_hour * 60 + tm.tm_min;
}

int bc_window_inside(const struct bc_window *w, int64_t unix_ms,
		     int64_t *next_open_ms)
{
	int sec;
	int now = minutes_of_day(w, (time_t)(unix_ms / 1000), &sec);
	int inside = w->start_min <= w->end_min
			     ? now >= w->start_min && now < w->end_min
			     : now >= w->start_min || now < w->end_min;
	if (inside) {
		*next_open_ms = unix_ms;
		return 1;
	}
	int wait_min = (w->start_min - now + 24 * 60) % (24 * 60);
	*next_open_ms = unix_ms + ((int64_t)wait_min * 60 - sec) * 1000 -
			unix_ms % 1000;
	return 0;
}
