/* Retry-After and HTTP-date parsing by hand (see
 * include/bulkcall/sched/retry_after.h): no strptime, timegm, locale or TZ,
 * so the result never depends on the host. libc only. */
#include <stddef.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/sched/retry_after.h"

struct cur {
	const char *p;
	const char *end;
};

static const char *const wkday[7] = { "Mon", "Tue", "Wed", "Thu",
				      "Fri", "Sat", "Sun" };
static const char *const weekday[7] = { "Monday", "Tuesday", "Wednesday",
					"Thursday", "Friday", "Saturday",
					"Sunday" };
static const char *const month[12] = { "Jan", "Feb", "Mar", "Apr",
				       "May", "Jun", "Jul", "Aug",
				       "Sep", "Oct", "Nov", "Dec" };

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
	c = lower(c);
	return c >= 'a' && c <= 'z';
}

static int same_word(const char *p, size_t len, const char *word)
{
	if (strlen(word) != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (lower((unsigned char)p[i]) != lower((unsigned char)word[i]))
			return 0;
	return 1;
}

static int eat(struct cur *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* Reads between min and max digits. */
static int num(struct cur *c, int min, int max, int *out)
{
	int n = 0, v = 0;
	while (n < max && c->p < c->end && is_digit((unsigned char)*c->p)) {
		v = v * 10 + (*c->p - '0');
		c->p++;
		n++;
	}
	if (n < min)
		return 0;
	*out = v;
	return 1;
}

/* Reads a run of letters; returns its index in names, or -1. */
static int word(struct cur *c, const char *const *names, int count)
{
	const char *start = c->p;
	while (c->p < c->end && is_alpha((unsigned char)*c->p))
		c->p++;
	for (int i = 0; i < count; i++)
		if (same_word(start, (size_t)(c->p - start), names[i]))
			return i;
	return -1;
}

static int hms(struct cur *c, int *h, int *m, int *s)
{
	return num(c, 2, 2, h) && eat(c, ':') && num(c, 2, 2, m) &&
	       eat(c, ':') && num(c, 2, 2, s) && *h <= 23 && *m <= 59 &&
	       *s <= 60;
}

static int gmt(struct cur *c)
{
	const char *start = c->p;
	while (c->p < c->end && is_alpha((unsigned char)*c->p))
		c->p++;
	size_t len = (size_t)(c->p - start);
	return same_word(start, len, "GMT") || same_word(start, len, "UTC");
}

int64_t bc_days_from_civil(int64_t year, int month_1, int day)
{
	/* H. Hinnant's days_from_civil: eras of 400 years, March-based. */
	int64_t y = year - (month_1 <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = month_1 > 2 ? month_1 - 3 : month_1 + 9;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : dim[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int bc_http_date_parse(const char *value, int64_t now_unix_ms,
		       int64_t *unix_ms)
{
	struct cur c = { value, value + strlen(value) };
	while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
		c.p++;
	while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
		c.end--;

	int day = 0, mon = -1, h = 0, mi = 0, s = 0, y = 0;
	int64_t year;
	const char *start = c.p;
	if (word(&c, wkday, 7) >= 0) {
		if (eat(&c, ',')) { /* IMF-fixdate */
			if (!eat(&c, ' ') || !num(&c, 1, 2, &day) ||
			    !eat(&c, ' ') || (mon = word(&c, month, 12)) < 0 ||
			    !eat(&c, ' ') || !num(&c, 4, 4, &y) ||
			    !eat(&c, ' ') || !hms(&c, &h, &mi, &s) ||
			    !eat(&c, ' ') || !gmt(&c))
				return BC_EPARSE;
			year = y;
		} else { /* asctime: day is 2DIGIT or SP 1DIGIT */
			if (!eat(&c, ' ') || (mon = word(&c, month, 12)) < 0 ||
			    !eat(&c, ' '))
				return BC_EPARSE;
			eat(&c, ' ');
			if (!num(&c, 1, 2, &day) || !eat(&c, ' ') ||
			    !hms(&c, &h, &mi, &s) || !eat(&c, ' ') ||
			    !num(&c, 4, 4, &y))
				return BC_EPARSE;
			year = y;
		}
	} else {
		c.p = start;
		if (word(&c, weekday, 7) < 0 || !eat(&c, ',') ||
		    !eat(&c, ' ') || !num(&c, 2, 2, &day) || !eat(&c, '-') ||
		    (mon = word(&c, month, 12)) < 0 || !eat(&c, '-') ||
		    !num(&c, 2, 4, &y) || !eat(&c, ' ') ||
		    !hms(&c, &h, &mi, &s) || !eat(&c, ' ') || !gmt(&c))
			return BC_EPARSE;
		year = y;
		if (y < 100) {
			/* RFC 9110: a two-digit year more than 50 years in
			 * the future is the most recent past one. */
			int64_t now_year = year_of_days(
				floor_div(now_unix_ms, 86400000));
			year = now_year - now_year % 100 + y;
			if (year > now_year + 50)
				year -= 100;
			else if (year + 100 <= now_year + 50)
				year += 100;
		}
	}
	if (c.p != c.end)
		return BC_EPARSE;
	if (day < 1 || day > days_in_month(year, mon + 1))
		return BC_EPARSE;
	int64_t days = bc_days_from_civil(year, mon + 1, day);
	*unix_ms = ((days * 24 + h) * 60 + mi) * INT64_C(60000) +
		   (int64_t)s * 1000;
	return BC_OK;
}

int bc_retry_after_parse(const char *value, int64_t now_unix_ms,
			 int64_t *delay_ms)
{
	const char *p = value, *end = value + strlen(value);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return BC_EPARSE;
	if (is_digit((unsigned char)*p)) {
		const char *q = p;
		int64_t secs = 0;
		for (; q < end && is_digit((unsigned char)*q); q++) {
			if (secs < BC_RETRY_AFTER_MAX_S)
				secs = secs * 10 + (*q - '0');
		}
		if (q == end) {
			if (secs > BC_RETRY_AFTER_MAX_S)
				secs = BC_RETRY_AFTER_MAX_S;
			*delay_ms = secs * 1000;
			return BC_OK;
		}
		/* Not all digits: an HTTP-date never starts with one. */
		return BC_EPARSE;
	}
	int64_t at_ms;
	int err = bc_http_date_parse(value, now_unix_ms, &at_ms);
	if (err)
		return err;
	/* at_ms is at most year 9999 and now_unix_ms a real clock, so the
	 * difference fits; clamp anyway for fake clocks. */
	if (now_unix_ms < 0 && at_ms > INT64_MAX + now_unix_ms)
		*delay_ms = INT64_MAX;
	else
		*delay_ms = at_ms > now_unix_ms ? at_ms - now_unix_ms : 0;
	return BC_OK;
}
