/* RFC 3339 parsing and daily windows (include/bulkcall/timefmt.h). The
 * window's zone is applied through TZ + localtime_r, the one portable way
 * libc offers, once per opening or closing (the window caches the next
 * one); the engine calls it from its single thread. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Lets libc take the name for a zone only if it is one: TZ=America/New_Yrok
 * would silently be UTC. */
int bc_tz_valid(const char *tz)
{
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0)
		return 1; /* libc knows these without a file */
	size_t n = strlen(tz);
	if (n == 0 || n >= sizeof((struct bc_window *)0)->tz || tz[0] == '/')
		return 0;
	const char *part = tz;
	for (const char *p = tz;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - part);
			if (len == 0 || (len == 1 && part[0] == '.') ||
			    (len == 2 && part[0] == '.' && part[1] == '.'))
				return 0; /* stays inside the zoneinfo folder */
			if (!*p)
				break;
			part = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '_' &&
			   *p != '-' && *p != '+' && *p != '.') {
			return 0;
		}
	}
	const char *dir = getenv("TZDIR");
	char path[4200];
	snprintf(path, sizeof path, "%s/%s",
		 dir && dir[0] ? dir : "/usr/share/zoneinfo", tz);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	char magic[4];
	/* The folder also holds tables (zone.tab, tzdata.zi): a zone is a
	 * regular file in TZif format. */
	int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		 read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
		 memcmp(magic, "TZif", sizeof magic) == 0;
	close(fd);
	return ok;
}

int bc_window_parse(struct bc_window *w, const char *spec, const char *tz)
{
	int h1, m1, h2, m2;
	if (strlen(spec) != 11 || !digits(spec, 2, &h1) || spec[2] != ':' ||
	    !digits(spec + 3, 2, &m1) || spec[5] != '-' ||
	    !digits(spec + 6, 2, &h2) || spec[8] != ':' ||
	    !digits(spec + 9, 2, &m2) || h1 > 23 || m1 > 59 || m2 > 59 ||
	    h2 > 24 || (h2 == 24 && m2 != 0))
		return BC_EINVAL;
	if (h1 * 60 + m1 == h2 * 60 + m2)
		return BC_EINVAL; /* empty: it would never open */
	if (tz && tz[0] && !bc_tz_valid(tz))
		return BC_ENOTFOUND;
	memset(w, 0, sizeof *w);
	w->start_min = h1 * 60 + m1;
	w->end_min = h2 * 60 + m2;
	snprintf(w->tz, sizeof w->tz, "%s", tz ? tz : "");
	return BC_OK;
}

/* The window's zone for a few localtime_r calls, then the process's own
 * TZ back. */
struct zone_saved {
	int swapped, had;
	char value[256];
};

static void zone_enter(const struct bc_window *w, struct zone_saved *z)
{
	const char *old = getenv("TZ");
	/* Already the process's zone (bulkcall run sets it before starting
	 * threads): the environment is left alone. */
	z->swapped = w->tz[0] != '\0' && !(old && !strcmp(old, w->tz));
	if (!z->swapped)
		return;
	z->had = old != NULL;
	snprintf(z->value, sizeof z->value, "%s", old ? old : "");
	setenv("TZ", w->tz, 1);
	tzset();
}

static void zone_leave(const struct zone_saved *z)
{
	if (!z->swapped)
		return;
	if (z->had)
		setenv("TZ", z->value, 1);
	else
		unsetenv("TZ");
	tzset();
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Local minute of the day; the zone is entered. */
static int minute_of_day(int64_t unix_ms)
{
	time_t t = (time_t)floor_div(unix_ms, 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

static int inside_at(const struct bc_window *w, int minute)
{
	return w->start_min < w->end_min
		   ? minute >= w->start_min && minute < w->end_min
		   : minute >= w->start_min || minute < w->end_min;
}

/* Zone offsets in use are whole minutes, so the window opens and closes
 * only on a UTC minute boundary: the next change is the first boundary
 * whose local minute is on the other side. Scanning rather than adding
 * (start - now) minutes gets DST days right (23 or 25 hours, a start
 * inside the skipped hour). Two days of boundaries is at most ~3,000
 * localtime_r calls, made once per change. */
#define SCAN_MINUTES (49 * 60)

static void window_update(struct bc_window *w, int64_t unix_ms)
{
	struct zone_saved z;
	zone_enter(w, &z);
	w->inside = inside_at(w, minute_of_day(unix_ms));
	int64_t at = (floor_div(unix_ms, 60000) + 1) * 60000;
	for (int i = 0; i < SCAN_MINUTES; i++, at += 60000)
		if (inside_at(w, minute_of_day(at)) != w->inside)
			break;
	zone_leave(&z);
	/* No change found (00:00-24:00): the answer holds that long, then it
	 * is looked at again. */
	w->from_ms = unix_ms;
	w->change_ms = at;
}

int bc_window_inside(struct bc_window *w, int64_t unix_ms,
		     int64_t *next_open_ms)
{
	/* Before from_ms: the clock was set back; look again. */
	if (unix_ms < w->from_ms || unix_ms >= w->change_ms)
		window_update(w, unix_ms);
	*next_open_ms = w->inside ? unix_ms : w->change_ms;
	return w->inside;
}

void bc_window_local_time(const struct bc_window *w, int64_t unix_ms, char *out,
			  size_t len)
{
	struct zone_saved z;
	zone_enter(w, &z);
	time_t t = (time_t)floor_div(unix_ms, 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	zone_leave(&z);
	if (!strftime(out, len, "%Y-%m-%d %H:%M", &tm) && len)
		out[0] = '\0';
}
