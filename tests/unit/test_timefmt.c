/* core/timefmt: the daily --window (parsing, 24:00, empty windows, zone
 * names), its openings and closings in UTC, across midnight and across DST
 * in America/New_York, the cache that keeps the engine's per-pass check
 * cheap, and the process's TZ left as it was. Zone cases skip when the
 * machine has no zoneinfo. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bulkcall/error.h"
#include "bulkcall/timefmt.h"
#include "tap.h"

/* 2026-03-02T00:00:00Z, a Monday with no DST change anywhere near. */
#define DAY0	INT64_C(1772409600000)
#define MIN_MS	INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS	(24 * HOUR_MS)

static int have_zoneinfo(void)
{
	struct stat st;
	return stat("/usr/share/zoneinfo/America/New_York", &st) == 0;
}

static void test_parse(void)
{
	static const struct {
		const char *spec;
		int result;
	} cases[] = {
	    {"09:00-17:00", BC_OK},	{"22:00-06:00", BC_OK},
	    {"00:00-24:00", BC_OK},	{"23:59-24:00", BC_OK},
	    {"09:00-09:00", BC_EINVAL}, {"00:00-00:00", BC_EINVAL},
	    {"24:00-01:00", BC_EINVAL}, {"10:00-24:30", BC_EINVAL},
	    {"10:00-25:00", BC_EINVAL}, {"9:00-17:00", BC_EINVAL},
	    {"09:60-17:00", BC_EINVAL}, {"09:00 17:00", BC_EINVAL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bc_window w;
		int r = bc_window_parse(&w, cases[i].spec, "UTC");
		if (r != cases[i].result)
			fprintf(stderr, "window '%s'\n", cases[i].spec);
		CHECK_INT(r, cases[i].result);
	}
	struct bc_window w;
	CHECK_INT(bc_window_parse(&w, "00:00-24:00", NULL), BC_OK);
	CHECK_INT(w.end_min, 1440);
}

static void test_zone_names(void)
{
	static const char *const bad[] = {
	    "America/New_Yrok",
	    "Nowhere",
	    "",
	    "/etc/localtime",
	    "../../etc/passwd",
	    "America/../Europe/London",
	    "America//New_York",
	    "./UTC",
	    ":America/New_York",
	    "America/New York",
	    "zone.tab",
	    "tzdata.zi",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (bc_tz_valid(bad[i]))
			fprintf(stderr, "zone '%s' taken\n", bad[i]);
		CHECK(!bc_tz_valid(bad[i]));
	}
	CHECK(bc_tz_valid("UTC"));
	CHECK(bc_tz_valid("GMT"));
	struct bc_window w;
	CHECK_INT(bc_window_parse(&w, "09:00-17:00", "America/New_Yrok"),
		  BC_ENOTFOUND);
	if (!have_zoneinfo()) {
		printf("# skip: no /usr/share/zoneinfo\n");
		return;
	}
	CHECK(bc_tz_valid("America/New_York"));
	CHECK(bc_tz_valid("Europe/London"));
	CHECK(bc_tz_valid("Asia/Kathmandu"));
	CHECK(bc_tz_valid("Etc/GMT+5"));
}

static void test_utc(void)
{
	struct bc_window w;
	int64_t open;
	CHECK_INT(bc_window_parse(&w, "09:00-17:00", "UTC"), BC_OK);
	CHECK_INT(bc_window_inside(&w, DAY0 + 8 * HOUR_MS + 59 * MIN_MS + 30500,
				   &open),
		  0);
	CHECK_INT(open, DAY0 + 9 * HOUR_MS);
	CHECK_INT(bc_window_inside(&w, DAY0 + 9 * HOUR_MS, &open), 1);
	CHECK_INT(open, DAY0 + 9 * HOUR_MS);
	CHECK_INT(bc_window_inside(&w, DAY0 + 17 * HOUR_MS - 1, &open), 1);
	CHECK_INT(bc_window_inside(&w, DAY0 + 17 * HOUR_MS, &open), 0);
	CHECK_INT(open, DAY0 + DAY_MS + 9 * HOUR_MS);

	/* Across midnight. */
	CHECK_INT(bc_window_parse(&w, "22:00-06:00", "UTC"), BC_OK);
	CHECK_INT(bc_window_inside(&w, DAY0 + 23 * HOUR_MS, &open), 1);
	CHECK_INT(bc_window_inside(&w, DAY0 + DAY_MS + 5 * HOUR_MS, &open), 1);
	CHECK_INT(bc_window_inside(&w, DAY0 + DAY_MS + 6 * HOUR_MS, &open), 0);
	CHECK_INT(open, DAY0 + DAY_MS + 22 * HOUR_MS);

	/* The whole day: always open, 24:00 included. */
	CHECK_INT(bc_window_parse(&w, "00:00-24:00", "UTC"), BC_OK);
	for (int64_t t = DAY0; t < DAY0 + 2 * DAY_MS; t += 7 * MIN_MS + 13)
		CHECK_INT(bc_window_inside(&w, t, &open), 1);
	CHECK_INT(bc_window_inside(&w, DAY0 + DAY_MS - 1, &open), 1);
	CHECK_INT(bc_window_inside(&w, DAY0 + DAY_MS, &open), 1);
}

/* A window asked at one time after another (the engine's loop) answers
 * like a fresh one asked once, forwards and after the clock is set back;
 * and between two changes it does not look at the zone again. */
static void test_cache(const char *tz)
{
	struct bc_window w, fresh;
	int64_t open, fresh_open;
	CHECK_INT(bc_window_parse(&w, "09:30-17:15", tz), BC_OK);
	int mismatches = 0;
	for (int64_t t = DAY0 - DAY_MS; t < DAY0 + 3 * DAY_MS;
	     t += 11 * MIN_MS + 7) {
		int in = bc_window_inside(&w, t, &open);
		bc_window_parse(&fresh, "09:30-17:15", tz);
		int fresh_in = bc_window_inside(&fresh, t, &fresh_open);
		mismatches += in != fresh_in || open != fresh_open;
	}
	CHECK_INT(mismatches, 0);
	/* Set back a day: still right. */
	int in = bc_window_inside(&w, DAY0 - DAY_MS + 10 * HOUR_MS, &open);
	bc_window_parse(&fresh, "09:30-17:15", tz);
	CHECK_INT(in, bc_window_inside(&fresh, DAY0 - DAY_MS + 10 * HOUR_MS,
				       &fresh_open));
	/* Between changes: the cached answer, nothing recomputed. */
	bc_window_parse(&w, "09:30-17:15", "UTC");
	CHECK_INT(bc_window_inside(&w, DAY0 + 2 * HOUR_MS, &open), 0);
	int64_t from = w.from_ms;
	CHECK_INT(w.change_ms, DAY0 + 9 * HOUR_MS + 30 * MIN_MS);
	for (int64_t t = DAY0 + 2 * HOUR_MS; t < w.change_ms; t += 997)
		bc_window_inside(&w, t, &open);
	CHECK_INT(w.from_ms, from);
	CHECK_INT(bc_window_inside(&w, w.change_ms, &open), 1);
	CHECK(w.from_ms != from);
	CHECK_INT(w.change_ms, DAY0 + 17 * HOUR_MS + 15 * MIN_MS);
}

/* America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00
 * EDT -> 01:00 EST. The opening is at 09:00 local either side. */
static void test_dst(void)
{
	if (!have_zoneinfo()) {
		printf("# skip: no /usr/share/zoneinfo\n");
		return;
	}
	struct bc_window w;
	int64_t open;
	char local[32];
	const int64_t mar8 = INT64_C(1772928000000); /* 2026-03-08T00:00Z */
	CHECK_INT(bc_window_parse(&w, "09:00-17:00", "America/New_York"),
		  BC_OK);
	/* Sat 20:00 EST: opens Sun 09:00 EDT = 13:00Z, not 14:00Z. */
	CHECK_INT(bc_window_inside(&w, mar8 + HOUR_MS, &open), 0);
	CHECK_INT(open, mar8 + 13 * HOUR_MS);
	bc_window_local_time(&w, open, local, sizeof local);
	CHECK_STR(local, "2026-03-08 09:00");
	CHECK_INT(bc_window_inside(&w, mar8 + 13 * HOUR_MS, &open), 1);
	CHECK_INT(bc_window_inside(&w, mar8 + 21 * HOUR_MS - 1, &open), 1);
	CHECK_INT(bc_window_inside(&w, mar8 + 21 * HOUR_MS, &open), 0);

	/* A window that starts in the skipped hour opens at 03:00 EDT. */
	CHECK_INT(bc_window_parse(&w, "02:30-04:00", "America/New_York"),
		  BC_OK);
	CHECK_INT(bc_window_inside(&w, mar8 + HOUR_MS, &open), 0);
	CHECK_INT(open, mar8 + 7 * HOUR_MS);

	const int64_t nov1 = INT64_C(1793491200000); /* 2026-11-01T00:00Z */
	CHECK_INT(bc_window_parse(&w, "09:00-17:00", "America/New_York"),
		  BC_OK);
	/* Sat 20:00 EDT: opens Sun 09:00 EST = 14:00Z. */
	CHECK_INT(bc_window_inside(&w, nov1, &open), 0);
	CHECK_INT(open, nov1 + 14 * HOUR_MS);
	bc_window_local_time(&w, open, local, sizeof local);
	CHECK_STR(local, "2026-11-01 09:00");
	test_cache("America/New_York");
}

/* The zone is applied for the call only: the process's TZ, set or not,
 * is left as it was. */
static void test_tz_restored(void)
{
	struct bc_window w;
	int64_t open;
	char local[32];
	CHECK_INT(bc_window_parse(&w, "09:00-17:00", "UTC"), BC_OK);
	unsetenv("TZ");
	bc_window_inside(&w, DAY0, &open);
	CHECK(getenv("TZ") == NULL);
	setenv("TZ", "Asia/Tokyo", 1);
	bc_window_parse(&w, "09:00-17:00", "UTC");
	bc_window_inside(&w, DAY0, &open);
	bc_window_local_time(&w, DAY0, local, sizeof local);
	CHECK_STR(local, "2026-03-02 00:00");
	CHECK_STR(getenv("TZ"), "Asia/Tokyo");
	unsetenv("TZ");
}

int main(void)
{
	test_parse();
	test_zone_names();
	test_utc();
	test_cache("UTC");
	test_dst();
	test_tz_restored();
	return bc_test_done();
}
