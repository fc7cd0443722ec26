/* sched: token bucket, AIMD, throttle scopes and Retry-After, per-key
 * limits, admission, backoff, due-time heap, halt-fail and retry time, all
 * on a fake clock (plain int64_t ms) with a seeded PRNG, so every run is
 * the same run. */
#include <stdlib.h>

#include "bulkcall/error.h"
#include "bulkcall/sched.h"
#include "tap.h"

/* ---------------------------------------------------------------- */
/* Token bucket */

/* The most dispatch times in any closed window [t, t + w_ms]; times are
 * sorted. The worst window can always start at a dispatch. */
static size_t max_in_window(const int64_t *t, size_t n, int64_t w_ms)
{
	size_t best = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		if (j < i)
			j = i;
		while (j < n && t[j] <= t[i] + w_ms)
			j++;
		if (j - i > best)
			best = j - i;
	}
	return best;
}

/* rate * W / 1000 + burst, compared in micro-tokens (exact). */
static int within_bound(size_t count, int64_t rate_milli, int64_t burst,
			int64_t w_ms)
{
	return (int64_t)count * BC_BUCKET_UNIT <=
	       rate_milli * w_ms + burst * BC_BUCKET_UNIT;
}

enum demand {
	SATURATED, /* ask again exactly when told */
	JITTER_LOOP, /* a loop that wakes 1..7 ms later, whatever it was told */
	BURSTY /* idle gaps, then a backlog drained as fast as allowed */
};

/* Drives a bucket from t = 0 to end_ms and records the dispatch times. */
static size_t drive(struct bc_bucket *b, enum demand d, int64_t end_ms,
		    struct bc_rng *rng, int64_t *times, size_t cap)
{
	size_t n = 0;
	int64_t t = 0, backlog = 0;
	while (t <= end_ms && n < cap) {
		if (d == BURSTY && backlog == 0) {
			t += (int64_t)bc_rng_below(rng, 3000);
			backlog = 1 + (int64_t)bc_rng_below(
					      rng, (uint64_t)(3 * b->burst + 5));
			continue;
		}
		int64_t w = bc_bucket_take(b, t);
		if (w == 0) {
			times[n++] = t;
			backlog--;
		} else if (d == JITTER_LOOP) {
			t += 1 + (int64_t)bc_rng_below(rng, 7);
		} else {
			t += w;
		}
	}
	return n;
}

struct rate_case {
	double rate;
	int64_t end_ms; /* simulated time */
};

static const struct rate_case rate_cases[] = {
	{ 1, 300000 }, { 10, 60000 }, { 2000, 10000 }, { 0.5, 600000 },
};

static void test_bucket_windows(void)
{
	size_t cap = 200000;
	int64_t *times = malloc(cap * sizeof *times);
	CHECK(times != NULL);
	if (!times)
		return;
	struct bc_rng rng;
	bc_rng_seed(&rng, 42);
	static const int64_t windows[] = { 100, 1000, 10000 };
	for (size_t i = 0; i < sizeof rate_cases / sizeof *rate_cases; i++) {
		int64_t rate = bc_rate_to_milli(rate_cases[i].rate);
		int64_t def = bc_burst_default(rate);
		int64_t bursts[] = { def, 1, 3 * def };
		for (size_t bi = 0; bi < 3; bi++) {
			for (int d = SATURATED; d <= BURSTY; d++) {
				struct bc_bucket b;
				bc_bucket_init(&b, rate, bursts[bi], 0);
				size_t n = drive(&b, (enum demand)d,
						 rate_cases[i].end_ms, &rng,
						 times, cap);
				CHECK(n > 0);
				for (size_t w = 0; w < 3; w++) {
					size_t m = max_in_window(times, n,
								 windows[w]);
					if (!within_bound(m, rate, bursts[bi],
							  windows[w]))
						fprintf(stderr,
							"rate %g burst %lld demand %d "
							"window %lld: %zu\n",
							rate_cases[i].rate,
							(long long)bursts[bi], d,
							(long long)windows[w], m);
					CHECK(within_bound(m, rate, bursts[bi],
							   windows[w]));
				}
			}
		}
	}
	free(times);
}

/* Saturated demand: the achieved rate after the first burst is within 1 %
 * of the rate, for a loop that wakes when told and for a sloppy one. */
static void test_bucket_long_run(void)
{
	size_t cap = 200000;
	int64_t *times = malloc(cap * sizeof *times);
	CHECK(times != NULL);
	if (!times)
		return;
	struct bc_rng rng;
	bc_rng_seed(&rng, 7);
	for (size_t i = 0; i < sizeof rate_cases / sizeof *rate_cases; i++) {
		for (int d = SATURATED; d <= JITTER_LOOP; d++) {
			int64_t rate = bc_rate_to_milli(rate_cases[i].rate);
			int64_t burst = bc_burst_default(rate);
			struct bc_bucket b;
			bc_bucket_init(&b, rate, burst, 0);
			int64_t end = rate_cases[i].end_ms;
			size_t n = drive(&b, (enum demand)d, end, &rng, times,
					 cap);
			/* Expected after the burst: rate * end, in tokens. */
			int64_t want = rate * end / BC_BUCKET_UNIT;
			int64_t got = (int64_t)n - burst;
			int64_t diff = got > want ? got - want : want - got;
			if (diff * 100 > want)
				fprintf(stderr, "rate %g demand %d: %lld, want %lld\n",
					rate_cases[i].rate, d, (long long)got,
					(long long)want);
			CHECK(diff * 100 <= want);
			if (d == SATURATED) /* exact: credit never rounds */
				CHECK_INT(got, want);
		}
	}
	free(times);
}

static void test_bucket_burst(void)
{
	struct bc_bucket b;
	bc_bucket_init(&b, 10000, 5, 1000); /* 10/s, burst 5 */
	for (int i = 0; i < 5; i++)
		CHECK_INT(bc_bucket_take(&b, 1000), 0);
	CHECK_INT(bc_bucket_take(&b, 1000), 100); /* one token per 100 ms */
	CHECK_INT(bc_bucket_take(&b, 1099), 1);
	CHECK_INT(bc_bucket_take(&b, 1100), 0);
	/* A long idle refills to the burst, not beyond. */
	CHECK(!bc_bucket_full(&b, 1200));
	CHECK(bc_bucket_full(&b, 1600));
	int got = 0;
	while (bc_bucket_take(&b, 1000000) == 0)
		got++;
	CHECK_INT(got, 5);
	/* Time running backwards earns nothing. */
	CHECK(bc_bucket_take(&b, 500) > 0);
	/* peek takes nothing. */
	bc_bucket_init(&b, 1000, 1, 0);
	CHECK_INT(bc_bucket_peek(&b, 0), 0);
	CHECK_INT(bc_bucket_peek(&b, 0), 0);
	CHECK_INT(bc_bucket_take(&b, 0), 0);
	CHECK_INT(bc_bucket_peek(&b, 0), 1000);
	/* Unlimited never refuses. */
	bc_bucket_init(&b, 0, 1, 0);
	for (int i = 0; i < 100000; i++)
		if (bc_bucket_take(&b, 0) != 0)
			break;
	CHECK_INT(bc_bucket_take(&b, 0), 0);
	CHECK(bc_bucket_full(&b, 0));
	/* Default burst and rate conversion. */
	CHECK_INT(bc_burst_default(bc_rate_to_milli(2000)), 2000);
	CHECK_INT(bc_burst_default(bc_rate_to_milli(0.5)), 1);
	CHECK_INT(bc_burst_default(bc_rate_to_milli(2.9)), 2);
	CHECK_INT(bc_rate_to_milli(0.5), 500);
	CHECK_INT(bc_rate_to_milli(0.0001), 1); /* never unlimited */
	CHECK_INT(bc_rate_to_milli(0), 0);
	CHECK_INT(bc_rate_to_milli(-3), 0);
	CHECK_INT(bc_rate_to_milli(1e12), BC_RATE_MAX_MILLI);
	/* A drained bucket waits a full token. */
	bc_bucket_init(&b, 500, 3, 0);
	bc_bucket_drain(&b);
	CHECK_INT(bc_bucket_take(&b, 0), 2000);
	CHECK_INT(bc_bucket_take(&b, 2000), 0);
}

static void test_bucket_rate_change(void)
{
	struct bc_bucket b;
	bc_bucket_init(&b, 10000, 10, 0);
	size_t n = 0;
	int64_t t = 0;
	/* 10/s for 5 s, then 100/s for 5 s. */
	for (; t < 5000; t++)
		while (bc_bucket_take(&b, t) == 0)
			n++;
	CHECK_INT(n, 10 + 49); /* burst, then one per 100 ms up to 4900 */
	bc_bucket_set(&b, 100000, 100, 5000);
	size_t before = n;
	for (; t <= 10000; t++)
		while (bc_bucket_take(&b, t) == 0)
			n++;
	/* Credit from 4900..5000 at the old rate (1 token), then 100/s. */
	CHECK_INT(n - before, 1 + 500);
	/* A cut clamps what is stored to the new burst. */
	bc_bucket_init(&b, 100000, 100, 0);
	bc_bucket_set(&b, 10000, 10, 0);
	int got = 0;
	while (bc_bucket_take(&b, 0) == 0)
		got++;
	CHECK_INT(got, 10);
	CHECK_INT(bc_bucket_take(&b, 0), 100);
	/* Switching to unlimited and back. */
	bc_bucket_set(&b, 0, 10, 50);
	CHECK_INT(bc_bucket_take(&b, 50), 0);
	/* 0..50 ms earned half a token at 10/s before the switch. */
	bc_bucket_set(&b, 10000, 10, 50);
	CHECK_INT(bc_bucket_take(&b, 50), 50);
}

/* ---------------------------------------------------------------- */
/* AIMD */

static void test_aimd(void)
{
	struct bc_aimd a;
	bc_aimd_init(&a, 100000, 0); /* 100 rps */
	CHECK_INT(bc_aimd_rate(&a, 0), 100000);
	CHECK_INT(bc_aimd_cut(&a, 1000, 900, 1000), 1);
	CHECK_INT(bc_aimd_rate(&a, 1000), 50000);
	/* Echo: sent before the cut. */
	CHECK_INT(bc_aimd_cut(&a, 1010, 999, 1010), 0);
	CHECK_INT(bc_aimd_cut(&a, 1010, 1000, 1010), 0);
	CHECK_INT(bc_aimd_rate(&a, 1000), 50000);
	/* Recovery: +5 rps per second of the 100 rps ceiling. */
	CHECK_INT(bc_aimd_rate(&a, 2000), 55000);
	CHECK_INT(bc_aimd_rate(&a, 1500), 52500);
	CHECK_INT(bc_aimd_rate(&a, 10999), 99995);
	CHECK_INT(bc_aimd_rate(&a, 11000), 100000);
	CHECK_INT(bc_aimd_rate(&a, 1000000000), 100000);
	/* Repeated new signals bottom out at the floor (100/64 rps). */
	int64_t t = 20000;
	for (int i = 0; i < 20; i++, t += 10)
		CHECK_INT(bc_aimd_cut(&a, t, t - 1, t), 1);
	CHECK_INT(bc_aimd_rate(&a, t - 10), 100000 / 64);
	CHECK_INT(bc_aimd_rate(&a, t), 100000 / 64 + 50); /* 10 ms later */
	/* Recovery waits for resume_ms (the end of an account pause). */
	bc_aimd_init(&a, 100000, 0);
	bc_aimd_cut(&a, 1000, 999, 61000);
	CHECK_INT(bc_aimd_rate(&a, 60000), 50000);
	CHECK_INT(bc_aimd_rate(&a, 61000), 50000);
	CHECK_INT(bc_aimd_rate(&a, 62000), 55000);
	/* Floor of a slow configured rate: 0.1 rps, never above the rate. */
	bc_aimd_init(&a, 500, 0);
	bc_aimd_cut(&a, 10, 5, 10);
	CHECK_INT(bc_aimd_rate(&a, 10), 250);
	bc_aimd_cut(&a, 20, 15, 20);
	bc_aimd_cut(&a, 30, 25, 30);
	CHECK_INT(bc_aimd_rate(&a, 30), 100);
	bc_aimd_init(&a, 50, 0);
	bc_aimd_cut(&a, 10, 5, 10);
	CHECK_INT(bc_aimd_rate(&a, 10), 50);
}

static void test_aimd_unlimited(void)
{
	struct bc_aimd a;
	bc_aimd_init(&a, 0, 0);
	CHECK_INT(bc_aimd_rate(&a, 0), 0);
	/* 300 dispatches spread over the second before t = 5000. */
	for (int i = 0; i < 300; i++)
		bc_aimd_note_dispatch(&a, 4000 + i * 3);
	CHECK_INT(bc_aimd_observed(&a, 4999), 300000);
	CHECK_INT(bc_aimd_cut(&a, 4999, 4998, 4999), 1);
	CHECK_INT(bc_aimd_rate(&a, 4999), 150000);
	/* Recovers by 15 rps per second and is unlimited again after 10 s. */
	CHECK_INT(bc_aimd_rate(&a, 5999), 165000);
	CHECK(bc_aimd_rate(&a, 14998) > 0);
	CHECK_INT(bc_aimd_rate(&a, 14999), 0);
	/* Nothing dispatched lately: 1 rps, cut to 0.5 (above the floor). */
	bc_aimd_init(&a, 0, 0);
	CHECK_INT(bc_aimd_observed(&a, 100000), BC_AIMD_UNKNOWN_MILLI);
	bc_aimd_cut(&a, 100000, 99999, 100000);
	CHECK_INT(bc_aimd_rate(&a, 100000), 500);
	/* The 5 s average wins when the last second was quiet. */
	bc_aimd_init(&a, 0, 0);
	for (int i = 0; i < 1000; i++)
		bc_aimd_note_dispatch(&a, 1000 + i);
	CHECK_INT(bc_aimd_observed(&a, 5500), 200000);
	CHECK_INT(bc_aimd_observed(&a, 60000), BC_AIMD_UNKNOWN_MILLI);
}

/* ---------------------------------------------------------------- */
/* Retry-After */

#define OCT21 INT64_C(1445412480000) /* Wed, 21 Oct 2015 07:28:00 GMT */

struct ra_case {
	const char *value;
	int64_t now_unix_ms;
	int err;
	int64_t delay_ms;
};

static const struct ra_case ra_cases[] = {
	{ "120", 0, BC_OK, 120000 },
	{ "0", 0, BC_OK, 0 },
	{ " \t5 ", 0, BC_OK, 5000 },
	{ "007", 0, BC_OK, 7000 },
	{ "99999999999999999999999", 0, BC_OK, BC_RETRY_AFTER_MAX_S * 1000 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", OCT21 - 90000, BC_OK, 90000 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", OCT21 - 1, BC_OK, 1 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", OCT21, BC_OK, 0 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", OCT21 + 5000, BC_OK, 0 },
	{ "wed, 21 oct 2015 07:28:00 gmt", OCT21 - 1500, BC_OK, 1500 },
	{ "Wednesday, 21-Oct-15 07:28:00 GMT", OCT21 - 90000, BC_OK, 90000 },
	{ "Wed Oct 21 07:28:00 2015", OCT21 - 90000, BC_OK, 90000 },
	{ "Sun Nov  6 08:49:37 1994", INT64_C(784111777000) - 2, BC_OK, 2 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT", INT64_C(784111777000) - 2, BC_OK, 2 },
	{ "Sun, 29 Feb 2004 00:00:00 GMT", INT64_C(1078012800000) - 10, BC_OK,
	  10 },
	{ "Thu, 21 Oct 2015 07:28:00 GMT", OCT21 - 1000, BC_OK, 1000 },
	{ "", 0, BC_EPARSE, 0 },
	{ "   ", 0, BC_EPARSE, 0 },
	{ "soon", 0, BC_EPARSE, 0 },
	{ "-5", 0, BC_EPARSE, 0 },
	{ "1.5", 0, BC_EPARSE, 0 },
	{ "12s", 0, BC_EPARSE, 0 },
	{ "Wed, 32 Oct 2015 07:28:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Foo 2015 07:28:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 2015 24:00:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 2015 07:60:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 2015 07:28:61 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 31 Dec 2014 23:59:60 GMT", OCT21, BC_OK, 0 }, /* leap second */
	{ "Thu, 01 Jan 2015 00:00:00 UTC", INT64_C(1420070400000) - 20, BC_OK,
	  20 },
	{ "Sun, 29 Feb 2015 00:00:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 2015 07:28:00", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT x", 0, BC_EPARSE, 0 },
	{ "Wed, 21 Oct 15 07:28:00 GMT", 0, BC_EPARSE, 0 },
	{ "Xyz, 21 Oct 2015 07:28:00 GMT", 0, BC_EPARSE, 0 },
	{ "Wed Oct 21 07:28:00", 0, BC_EPARSE, 0 },
};

static void test_retry_after(void)
{
	for (size_t i = 0; i < sizeof ra_cases / sizeof *ra_cases; i++) {
		const struct ra_case *c = &ra_cases[i];
		int64_t delay = -12345;
		int err = bc_retry_after_parse(c->value, c->now_unix_ms, &delay);
		if (err != c->err || (!err && delay != c->delay_ms))
			fprintf(stderr, "case %zu '%s': err %d delay %lld\n", i,
				c->value, err, (long long)delay);
		CHECK_INT(err, c->err);
		CHECK_INT(delay, c->err ? -12345 : c->delay_ms);
	}
	/* RFC 850 two-digit years, seen from 2025-06-01. */
	int64_t now = INT64_C(1748736000000), at = 0;
	CHECK_INT(bc_http_date_parse("Thursday, 01-Jan-70 00:00:00 GMT", now,
				     &at),
		  BC_OK);
	CHECK_INT(at, INT64_C(3155760000000)); /* 2070: 45 years ahead */
	CHECK_INT(bc_http_date_parse("Thursday, 01-Jan-76 00:00:00 GMT", now,
				     &at),
		  BC_OK);
	CHECK_INT(at, INT64_C(189302400000)); /* 2076 would be 51 years */
	CHECK_INT(bc_http_date_parse("Friday, 31-Dec-99 23:59:59 GMT", now,
				     &at),
		  BC_OK);
	CHECK_INT(at, INT64_C(946684799000));
	/* Seen from 2090-01-01, "05" is 2105 (15 years ahead), not 2005. */
	int64_t y2090 = bc_days_from_civil(2090, 1, 1) * 86400000;
	CHECK_INT(bc_http_date_parse("Monday, 01-Jan-05 00:00:00 GMT", y2090,
				     &at),
		  BC_OK);
	CHECK_INT(at, bc_days_from_civil(2105, 1, 1) * 86400000);
	CHECK_INT(bc_http_date_parse("Sunday, 01-Jan-40 00:00:00 GMT", y2090,
				     &at),
		  BC_OK);
	CHECK_INT(at, bc_days_from_civil(2140, 1, 1) * 86400000);
	CHECK_INT(bc_http_date_parse("Sunday, 01-Jan-41 00:00:00 GMT", y2090,
				     &at),
		  BC_OK);
	CHECK_INT(at, bc_days_from_civil(2041, 1, 1) * 86400000);
	/* days_from_civil: anchors, then every day from 1900 to 2100 is one
	 * more than the day before. */
	CHECK_INT(bc_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(bc_days_from_civil(1969, 12, 31), -1);
	CHECK_INT(bc_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT(bc_days_from_civil(2015, 10, 21), 16729);
	static const int dim[12] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int64_t prev = bc_days_from_civil(1899, 12, 31);
	int bad = 0;
	for (int64_t y = 1900; y <= 2100; y++) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		for (int m = 1; m <= 12; m++) {
			int days = dim[m - 1] + (m == 2 && leap);
			for (int d = 1; d <= days; d++) {
				int64_t cur = bc_days_from_civil(y, m, d);
				bad += cur != prev + 1;
				prev = cur;
			}
		}
	}
	CHECK_INT(bad, 0);
}

/* ---------------------------------------------------------------- */
/* Throttle scope state */

static void test_throttle_doubling(void)
{
	struct bc_throttle t;
	bc_throttle_init(&t);
	CHECK(!bc_throttle_paused(&t, 0));
	static const int64_t want[] = { 1000, 2000, 4000, 8000,
					16000, 16000, 16000, 16000 };
	int64_t now = 100;
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		/* Each signal is for a request sent after the last pause. */
		CHECK_INT(bc_throttle_signal(&t, now, now - 1, -1, 1000), 1);
		CHECK_INT(t.paused_until_ms - now, want[i]);
		CHECK(bc_throttle_paused(&t, t.paused_until_ms - 1));
		CHECK(!bc_throttle_paused(&t, t.paused_until_ms));
		now = t.paused_until_ms + 5;
	}
	CHECK_INT(bc_throttle_cooldown(1000, 0), 1000);
	CHECK_INT(bc_throttle_cooldown(1000, 1000000), 16000);
	CHECK_INT(bc_throttle_cooldown(INT64_MAX / 2, 9), INT64_MAX);
	/* A success sent before the pause started resets nothing... */
	int64_t start = t.pause_start_ms;
	bc_throttle_success(&t, start - 1);
	bc_throttle_success(&t, start);
	CHECK(t.strikes > 1);
	/* ...one sent after it does. */
	bc_throttle_success(&t, start + 1);
	CHECK_INT(t.strikes, 0);
	now += 100000;
	bc_throttle_signal(&t, now, now - 1, -1, 1000);
	CHECK_INT(t.paused_until_ms - now, 1000);
	/* Echo: in flight when the pause began; no strike, no shortening,
	 * but a later Retry-After extends the pause. */
	int64_t until = t.paused_until_ms;
	CHECK_INT(bc_throttle_signal(&t, now + 10, now - 5, -1, 1000), 0);
	CHECK_INT(t.strikes, 1);
	CHECK_INT(t.paused_until_ms, until);
	CHECK_INT(bc_throttle_signal(&t, now + 10, now - 5, 100, 1000), 0);
	CHECK_INT(t.paused_until_ms, until);
	CHECK_INT(bc_throttle_signal(&t, now + 10, now - 5, 5000, 1000), 0);
	CHECK_INT(t.paused_until_ms, now + 5010);
	/* Retry-After beats the cooldown and still counts as a strike. */
	bc_throttle_init(&t);
	CHECK_INT(bc_throttle_signal(&t, 0, -1, 3000, 60000), 1);
	CHECK_INT(t.paused_until_ms, 3000);
	CHECK_INT(bc_throttle_signal(&t, 3000, 2999, -1, 60000), 1);
	CHECK_INT(t.paused_until_ms, 3000 + 120000);
	/* Saturation instead of overflow. */
	bc_throttle_init(&t);
	bc_throttle_signal(&t, INT64_MAX - 10, INT64_MAX - 11, INT64_MAX, 1);
	CHECK_INT(t.paused_until_ms, INT64_MAX);
}

/* ---------------------------------------------------------------- */
/* Admission */

static struct bc_sched_outcome outcome(enum bc_sched_result r,
				       int64_t sent_ms, int64_t retry_after_ms,
				       int account)
{
	struct bc_sched_outcome o = { r, sent_ms, retry_after_ms, account };
	return o;
}

/* A rate so high that the AIMD cut after a throttle (to 50000 rps) never
 * gets in the way of what a scope test looks at. */
#define FAST_MILLI INT64_C(100000000)

static int sched_open(struct bc_sched *s, int64_t rate_milli,
		      uint32_t concurrency, int64_t cooldown_ms)
{
	struct bc_sched_config cfg;
	bc_sched_config_default(&cfg);
	cfg.rate_milli = rate_milli;
	cfg.concurrency = concurrency;
	cfg.cooldown_ms = cooldown_ms;
	return bc_sched_init(s, &cfg, 0);
}

/* Retry-After, as seconds and as an HTTP-date, is honoured to the ms:
 * nothing of the scope before it, the first row exactly at it. */
static void test_sched_retry_after(void)
{
	struct {
		const char *value;
		int account;
	} cases[] = {
		{ "120", 0 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT", 0 },
		{ "Wed, 21 Oct 2015 07:28:00 GMT", 1 },
		{ "3", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct bc_sched s;
		CHECK_INT(sched_open(&s, FAST_MILLI, 0, 60000), BC_OK);
		/* Monotonic ms t maps to wall clock OCT21 - 75 s + t. */
		int64_t wall0 = OCT21 - 75000, t = 5000, wu = 0;
		CHECK_INT(bc_sched_admit(&s, "a", t, &wu), BC_ADMIT);
		CHECK_INT(bc_sched_admit(&s, "b", t, &wu), BC_ADMIT);
		int64_t delay = -1;
		t = 5250;
		CHECK_INT(bc_retry_after_parse(cases[i].value, wall0 + t, &delay),
			  BC_OK);
		int64_t until = t + delay;
		struct bc_sched_outcome o = outcome(BC_SCHED_THROTTLED, 5000,
						    delay, cases[i].account);
		bc_sched_done(&s, "a", &o, t);
		CHECK_INT(bc_sched_paused_until(&s, "a", t), until);
		int early = 0, other = 0;
		for (int64_t now = t; now < until; now += 7) {
			early += bc_sched_admit(&s, "a", now, &wu) == BC_ADMIT;
			if (!cases[i].account) {
				/* Other scopes keep flowing. */
				other += bc_sched_admit(&s, "b", now, &wu) ==
					 BC_ADMIT;
				struct bc_sched_outcome ok =
					outcome(BC_SCHED_OK, now, -1, 0);
				bc_sched_done(&s, "b", &ok, now);
			}
		}
		CHECK_INT(early, 0);
		enum bc_admit r = bc_sched_admit(&s, "a", until - 1, &wu);
		CHECK_INT(r, cases[i].account ? BC_WAIT_PAUSED
					      : BC_WAIT_KEY_PAUSED);
		CHECK_INT(wu, until);
		if (cases[i].account) {
			CHECK_INT(bc_sched_admit(&s, "zzz", until - 1, &wu),
				  BC_WAIT_PAUSED);
			CHECK_INT(bc_sched_admit(&s, NULL, until - 1, &wu),
				  BC_WAIT_PAUSED);
		} else {
			CHECK(other > 0);
		}
		CHECK_INT(bc_sched_admit(&s, "a", until, &wu), BC_ADMIT);
		bc_sched_release(&s);
	}
}

/* Cooldown doubling through the admission API, the 16x cap, echoes of a
 * pause, and the reset by a success. */
static void test_sched_cooldown(void)
{
	struct bc_sched s;
	CHECK_INT(sched_open(&s, FAST_MILLI, 0, 1000), BC_OK);
	static const int64_t want[] = { 1000, 2000, 4000, 8000,
					16000, 16000, 16000 };
	int64_t t = 0, wu;
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		/* Five requests in flight; all come back throttled. */
		for (int j = 0; j < 5; j++)
			CHECK_INT(bc_sched_admit(&s, "k", t, &wu), BC_ADMIT);
		int64_t sent = t;
		t += 20;
		for (int j = 0; j < 5; j++) {
			struct bc_sched_outcome o =
				outcome(BC_SCHED_THROTTLED, sent, -1, 0);
			bc_sched_done(&s, "k", &o, t + j);
		}
		CHECK_INT(bc_sched_paused_until(&s, "k", t) - t, want[i]);
		CHECK_INT(bc_sched_admit(&s, "k", t + want[i] - 1, &wu),
			  BC_WAIT_KEY_PAUSED);
		t += want[i];
	}
	/* A success resets the doubling. */
	CHECK_INT(bc_sched_admit(&s, "k", t, &wu), BC_ADMIT);
	struct bc_sched_outcome ok = outcome(BC_SCHED_OK, t, -1, 0);
	bc_sched_done(&s, "k", &ok, t + 10);
	t += 20;
	CHECK_INT(bc_sched_admit(&s, "k", t, &wu), BC_ADMIT);
	struct bc_sched_outcome th = outcome(BC_SCHED_THROTTLED, t, -1, 0);
	bc_sched_done(&s, "k", &th, t + 10);
	CHECK_INT(bc_sched_paused_until(&s, "k", t + 10) - (t + 10), 1000);
	/* An error (no answer) neither pauses nor resets. */
	t += 2000;
	CHECK_INT(bc_sched_admit(&s, "k", t, &wu), BC_ADMIT);
	struct bc_sched_outcome err = outcome(BC_SCHED_ERROR, t, -1, 0);
	bc_sched_done(&s, "k", &err, t + 10);
	CHECK_INT(bc_sched_admit(&s, "k", t + 10, &wu), BC_ADMIT);
	th = outcome(BC_SCHED_THROTTLED, t + 10, -1, 0);
	bc_sched_done(&s, "k", &th, t + 20);
	CHECK_INT(bc_sched_paused_until(&s, "k", t + 20) - (t + 20), 2000);
	/* The account's doubling is reset by a success of any key sent
	 * after its pause began. */
	t += 10000;
	for (int i = 0; i < 2; i++) {
		CHECK_INT(bc_sched_admit(&s, "x", t, &wu), BC_ADMIT);
		th = outcome(BC_SCHED_THROTTLED, t, -1, 1);
		bc_sched_done(&s, "x", &th, t + 10);
		t = bc_sched_paused_until(&s, NULL, t + 10);
	}
	CHECK_INT(s.account->throttle.strikes, 2);
	CHECK_INT(bc_sched_admit(&s, "y", t, &wu), BC_ADMIT);
	ok = outcome(BC_SCHED_OK, t, -1, 0);
	bc_sched_done(&s, "y", &ok, t + 10);
	CHECK_INT(s.account->throttle.strikes, 0);
	CHECK_INT(bc_sched_admit(&s, "x", t + 20, &wu), BC_ADMIT);
	th = outcome(BC_SCHED_THROTTLED, t + 20, -1, 1);
	bc_sched_done(&s, "x", &th, t + 30);
	CHECK_INT(bc_sched_paused_until(&s, "x", t + 30) - (t + 30), 1000);
	CHECK_INT(bc_sched_inflight(&s), 0);
	bc_sched_release(&s);
}

/* A throttled key pauses only itself; "*" pauses all. */
static void test_sched_scopes(void)
{
	struct bc_sched s;
	CHECK_INT(sched_open(&s, FAST_MILLI, 0, 60000), BC_OK);
	int64_t wu;
	CHECK_INT(bc_sched_admit(&s, "a", 0, &wu), BC_ADMIT);
	struct bc_sched_outcome th = outcome(BC_SCHED_THROTTLED, 0, -1, 0);
	bc_sched_done(&s, "a", &th, 10);
	static const char *const keys[] = { "b", "c", "*", "ab", "A" };
	for (int64_t t = 10; t < 60010; t += 1000) {
		CHECK_INT(bc_sched_admit(&s, "a", t, &wu), BC_WAIT_KEY_PAUSED);
		CHECK_INT(wu, 60010);
		for (size_t k = 0; k < 5; k++) {
			CHECK_INT(bc_sched_admit(&s, keys[k], t, &wu), BC_ADMIT);
			struct bc_sched_outcome ok = outcome(BC_SCHED_OK, t, -1, 0);
			bc_sched_done(&s, keys[k], &ok, t);
		}
	}
	CHECK_INT(bc_sched_admit(&s, "a", 60010, &wu), BC_ADMIT);
	struct bc_sched_outcome ok = outcome(BC_SCHED_OK, 60010, -1, 0);
	bc_sched_done(&s, "a", &ok, 60010);
	/* A throttle of a row whose key is "*" is the account's. */
	CHECK_INT(bc_sched_admit(&s, "*", 70000, &wu), BC_ADMIT);
	th = outcome(BC_SCHED_THROTTLED, 70000, 5000, 0);
	bc_sched_done(&s, "*", &th, 70000);
	for (size_t k = 0; k < 5; k++) {
		CHECK_INT(bc_sched_admit(&s, keys[k], 74999, &wu),
			  BC_WAIT_PAUSED);
		CHECK_INT(wu, 75000);
	}
	CHECK_INT(bc_sched_admit(&s, "a", 75000, &wu), BC_ADMIT);
	bc_sched_release(&s);
}

/* --key-concurrency, --concurrency and --key-rate. */
static void test_sched_key_limits(void)
{
	struct bc_sched_config cfg;
	bc_sched_config_default(&cfg);
	cfg.concurrency = 5;
	cfg.key_concurrency = 2;
	struct bc_sched s;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_OK);
	int64_t wu;
	CHECK_INT(bc_sched_admit(&s, "a", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "a", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "a", 0, &wu), BC_WAIT_KEY_BUSY);
	CHECK_INT(wu, INT64_MAX);
	CHECK_INT(bc_sched_admit(&s, "b", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "b", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "c", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_inflight(&s), 5);
	CHECK_INT(bc_sched_admit(&s, "d", 0, &wu), BC_WAIT_BUSY);
	CHECK_INT(wu, INT64_MAX);
	struct bc_sched_outcome ok = outcome(BC_SCHED_OK, 0, -1, 0);
	bc_sched_done(&s, "a", &ok, 5);
	CHECK_INT(bc_sched_admit(&s, "a", 5, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "d", 5, &wu), BC_WAIT_BUSY);
	bc_sched_done(&s, "c", &ok, 6);
	CHECK_INT(bc_sched_admit(&s, "a", 6, &wu), BC_WAIT_KEY_BUSY);
	CHECK_INT(bc_sched_admit(&s, "d", 6, &wu), BC_ADMIT);
	bc_sched_release(&s);

	/* One call per second per key; keys do not share tokens. */
	bc_sched_config_default(&cfg);
	cfg.concurrency = 0;
	cfg.key_rate_milli = 1000;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_OK);
	int64_t times[64];
	size_t n = 0;
	int b_count = 0, early = 0;
	for (int64_t t = 0; t <= 10000; t++) {
		if (bc_sched_admit(&s, "a", t, &wu) == BC_ADMIT) {
			if (n < 64)
				times[n++] = t;
			bc_sched_done(&s, "a", &ok, t);
		} else {
			early += wu <= t;
		}
		if (bc_sched_admit(&s, "b", t, &wu) == BC_ADMIT) {
			b_count++;
			bc_sched_done(&s, "b", &ok, t);
		}
	}
	CHECK_INT(early, 0); /* a refusal always names a later time */
	CHECK_INT(n, 11); /* 0, 1000, ..., 10000 */
	CHECK_INT(b_count, 11);
	CHECK(max_in_window(times, n, 999) == 1);
	CHECK_INT(bc_sched_admit(&s, "a", 10001, &wu), BC_WAIT_KEY_RATE);
	CHECK_INT(wu, 11000);
	bc_sched_release(&s);
}

/* The key table stays bounded, evicts only idle keys, and never forgets a
 * pause, an in-flight count or a partly spent key bucket. */
static void test_sched_key_table(void)
{
	struct bc_sched_config cfg;
	bc_sched_config_default(&cfg);
	cfg.concurrency = 0;
	cfg.key_max = 4; /* "*" and three more */
	cfg.key_rate_milli = 1000;
	cfg.cooldown_ms = 60000;
	struct bc_sched s;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_OK);
	int64_t wu;
	struct bc_sched_outcome ok = outcome(BC_SCHED_OK, 0, -1, 0);
	/* k1: spent its token; k2: in flight; k3: paused. */
	CHECK_INT(bc_sched_admit(&s, "k1", 0, &wu), BC_ADMIT);
	bc_sched_done(&s, "k1", &ok, 0);
	CHECK_INT(bc_sched_admit(&s, "k2", 0, &wu), BC_ADMIT);
	CHECK_INT(bc_sched_admit(&s, "k3", 0, &wu), BC_ADMIT);
	struct bc_sched_outcome th = outcome(BC_SCHED_THROTTLED, 0, -1, 0);
	bc_sched_done(&s, "k3", &th, 1);
	CHECK_INT(s.keys.count, 4);
	CHECK_INT(bc_sched_admit(&s, "new", 10, &wu), BC_WAIT_FULL);
	CHECK_INT(wu, 10 + BC_SCHED_FULL_WAIT_MS);
	CHECK_INT(s.keys.count, 4);
	CHECK_INT(bc_sched_admit(&s, "k1", 20, &wu), BC_WAIT_KEY_RATE);
	/* Once k1's bucket is full again it is idle and may go. */
	CHECK_INT(bc_sched_admit(&s, "new", 1000, &wu), BC_ADMIT);
	CHECK(bc_keytab_find(&s.keys, "k1") == NULL);
	CHECK(bc_keytab_find(&s.keys, "k2") != NULL);
	CHECK_INT(bc_sched_admit(&s, "k3", 1000, &wu), BC_WAIT_KEY_PAUSED);
	CHECK_INT(s.keys.count, 4);
	/* Churn of many keys through the one free place. */
	bc_sched_done(&s, "new", &ok, 1000);
	int admitted = 0, over = 0;
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "churn%d", i);
		int64_t t = 3000 + (int64_t)i * 1000;
		if (bc_sched_admit(&s, key, t, &wu) == BC_ADMIT) {
			admitted++;
			bc_sched_done(&s, key, &ok, t);
		}
		over += s.keys.count > 4;
	}
	CHECK_INT(over, 0);
	CHECK_INT(admitted, 1000);
	CHECK(bc_keytab_find(&s.keys, "k2") != NULL);
	/* k3's pause (60 s from t = 1) ended long ago; its entry went. */
	CHECK(bc_keytab_find(&s.keys, "k3") == NULL);
	bc_sched_done(&s, "k2", &ok, 2000000);
	CHECK_INT(bc_sched_inflight(&s), 0);
	bc_sched_release(&s);

	/* Long keys are folded, yet stay distinct and findable. */
	struct bc_keytab t;
	CHECK_INT(bc_keytab_init(&t, 8, 0, 1), BC_OK);
	char *k1 = malloc(5001), *k2 = malloc(5001);
	CHECK(k1 && k2);
	if (k1 && k2) {
		memset(k1, 'x', 5000);
		memset(k2, 'x', 5000);
		k1[5000] = k2[5000] = '\0';
		k2[4000] = 'y';
		struct bc_keyent *e1, *e2;
		CHECK_INT(bc_keytab_get(&t, k1, 0, &e1), BC_OK);
		CHECK_INT(bc_keytab_get(&t, k2, 0, &e2), BC_OK);
		CHECK(e1 != e2);
		CHECK(bc_keytab_find(&t, k1) == e1);
		CHECK_INT(e1->len, BC_KEY_MAX);
		CHECK_INT(t.count, 2);
	}
	free(k1);
	free(k2);
	bc_keytab_release(&t);
	CHECK_INT(bc_keytab_init(&t, 0, 0, 1), BC_EINVAL);
}

struct flight {
	int64_t sent;
	int key;
};

/* A whole run on a fake 1 ms loop: 3 keys, 20 in flight, 50 ms latency,
 * 100 rps burst 100, with key and account throttles injected. No window
 * exceeds the configured rate, nothing is sent into a pause, the rate is
 * cut after the account throttle, and the run keeps going. */
static void test_sched_run(void)
{
	struct bc_sched_config cfg;
	bc_sched_config_default(&cfg);
	cfg.rate_milli = 100000;
	cfg.concurrency = 20;
	cfg.cooldown_ms = 1000;
	struct bc_sched s;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_OK);
	static const char *const keys[] = { "a", "b", "c" };
	size_t cap = 20000;
	int64_t *times = malloc(cap * sizeof *times);
	struct flight q[64];
	size_t qh = 0, qn = 0, n = 0;
	int64_t b_paused_from = -1, b_paused_to = -1;
	int64_t acct_from = -1, acct_to = -1;
	int into_pause = 0, over_cap = 0;
	int throttle_b = 0, throttle_acct = 0, rr = 0;
	CHECK(times != NULL);
	if (!times)
		return;
	for (int64_t t = 0; t <= 60000; t++) {
		if (t == 5000 || t == 20000)
			throttle_b = 1;
		if (t == 30000)
			throttle_acct = 1;
		while (qn && q[qh].sent + 50 <= t) {
			struct flight f = q[qh];
			qh = (qh + 1) % 64;
			qn--;
			struct bc_sched_outcome o =
				outcome(BC_SCHED_OK, f.sent, -1, 0);
			if (throttle_b && f.key == 1) {
				o.result = BC_SCHED_THROTTLED;
				throttle_b = 0;
			} else if (throttle_acct) {
				o = outcome(BC_SCHED_THROTTLED, f.sent, 2000, 1);
				throttle_acct = 0;
			}
			bc_sched_done(&s, keys[f.key], &o, t);
			if (o.result == BC_SCHED_THROTTLED && !o.account) {
				b_paused_from = t;
				b_paused_to = bc_sched_paused_until(&s, "b", t);
				CHECK_INT(b_paused_to - t, 1000);
			} else if (o.result == BC_SCHED_THROTTLED) {
				acct_from = t;
				acct_to = t + 2000;
				CHECK_INT(bc_sched_paused_until(&s, NULL, t),
					  acct_to);
				CHECK_INT(bc_sched_rate(&s, t), 50000);
			}
		}
		/* Round robin over the keys, one admission at a time, until
		 * all three are refused. */
		for (int refused = 0; refused < 3; rr = (rr + 1) % 3) {
			int k = rr;
			int64_t wu;
			if (bc_sched_admit(&s, keys[k], t, &wu) != BC_ADMIT) {
				refused++;
			} else {
				refused = 0;
				if (n < cap)
					times[n++] = t;
				into_pause += k == 1 && t >= b_paused_from &&
					      t < b_paused_to;
				into_pause += t >= acct_from && t < acct_to;
				size_t tail = (qh + qn) % 64;
				q[tail].sent = t;
				q[tail].key = k;
				qn++;
				over_cap += bc_sched_inflight(&s) > 20;
			}
		}
	}
	CHECK_INT(into_pause, 0);
	CHECK_INT(over_cap, 0);
	CHECK(acct_from > 0 && b_paused_from > 0);
	CHECK(within_bound(max_in_window(times, n, 100), 100000, 100, 100));
	CHECK(within_bound(max_in_window(times, n, 1000), 100000, 100, 1000));
	CHECK(within_bound(max_in_window(times, n, 10000), 100000, 100, 10000));
	/* The second after the account pause runs at the cut rate (50 rps,
	 * burst 50, recovering 5 rps/s), far below the 200 an uncut bucket
	 * would allow. */
	size_t after = 0, late = 0;
	for (size_t i = 0; i < n; i++) {
		after += times[i] >= acct_to && times[i] <= acct_to + 1000;
		late += times[i] >= 59000;
	}
	CHECK(after <= 50 + 53);
	CHECK(after >= 50);
	/* Recovered by the end: a full 100 rps. */
	CHECK(late >= 99 && late <= 101);
	CHECK_INT(bc_sched_rate(&s, 60000), 100000);
	free(times);
	bc_sched_release(&s);
}

/* Unlimited rate: a throttle derives a rate from what was dispatched, and
 * the cut holds from the next request on. */
static void test_sched_unlimited_cut(void)
{
	struct bc_sched s;
	CHECK_INT(sched_open(&s, 0, 0, 1000), BC_OK);
	int64_t wu;
	struct bc_sched_outcome ok = outcome(BC_SCHED_OK, 0, -1, 0);
	for (int64_t t = 0; t < 1000; t += 2) {
		CHECK_INT(bc_sched_admit(&s, "a", t, &wu), BC_ADMIT);
		bc_sched_done(&s, "a", &ok, t);
	}
	CHECK_INT(bc_sched_rate(&s, 999), 0);
	CHECK_INT(bc_sched_admit(&s, "b", 999, &wu), BC_ADMIT);
	struct bc_sched_outcome th = outcome(BC_SCHED_THROTTLED, 999, -1, 0);
	bc_sched_done(&s, "b", &th, 1000);
	int64_t rate = bc_sched_rate(&s, 1000);
	/* About 500 rps observed, halved. */
	CHECK(rate >= 200000 && rate <= 260000);
	int admitted = 0;
	/* Bounded loops: without the cut this would admit forever. */
	for (int64_t t = 1000; t < 1100 && admitted < 100000; t++)
		while (admitted < 100000 &&
		       bc_sched_admit(&s, "a", t, &wu) == BC_ADMIT) {
			admitted++;
			bc_sched_done(&s, "a", &ok, t);
		}
	CHECK(admitted <= rate * 100 / BC_BUCKET_UNIT + 1);
	CHECK(admitted >= rate * 100 / BC_BUCKET_UNIT - 1);
	bc_sched_release(&s);
	/* Bad configurations. */
	struct bc_sched_config cfg;
	bc_sched_config_default(&cfg);
	cfg.rate_milli = -1;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_EINVAL);
	bc_sched_config_default(&cfg);
	cfg.cooldown_ms = -5;
	CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_EINVAL);
	CHECK_STR(bc_admit_name(BC_WAIT_KEY_PAUSED), "key-paused");
	CHECK_STR(bc_admit_name(BC_ADMIT), "admit");
}

/* ---------------------------------------------------------------- */
/* Backoff, attempts, retry time */

/* start_empty: even the first 100 ms hold at most rate x 100 ms; without
 * it the first window also holds the burst. Saturated demand, 1 ms ticks. */
static void test_sched_start_empty(void)
{
	for (int empty = 0; empty <= 1; empty++) {
		struct bc_sched_config cfg;
		bc_sched_config_default(&cfg);
		cfg.rate_milli = 2000 * 1000;
		cfg.burst = 20;
		cfg.concurrency = 0;
		cfg.start_empty = empty;
		struct bc_sched s;
		CHECK_INT(bc_sched_init(&s, &cfg, 0), BC_OK);
		int first_window = 0;
		for (int64_t now = 0; now < 100; now++) {
			int64_t until;
			while (bc_sched_admit(&s, NULL, now, &until) == BC_ADMIT) {
				struct bc_sched_outcome o = { BC_SCHED_OK, now, -1, 0 };
				bc_sched_done(&s, NULL, &o, now);
				first_window++;
			}
		}
		if (empty)
			CHECK(first_window <= 200);
		else
			CHECK(first_window > 200 && first_window <= 220);
		bc_sched_release(&s);
	}
}

static void test_backoff(void)
{
	struct bc_backoff b;
	bc_backoff_default(&b);
	static const int64_t cap[] = { 500,   1000,  2000,  4000,  8000,
				       16000, 32000, 60000, 60000, 60000 };
	struct bc_rng rng;
	bc_rng_seed(&rng, 12345);
	for (unsigned n = 1; n <= 10; n++) {
		CHECK_INT(bc_backoff_cap(&b, n), cap[n - 1]);
		int64_t lo = INT64_MAX, hi = -1, sum = 0;
		int over = 0;
		const int samples = 20000;
		for (int i = 0; i < samples; i++) {
			int64_t d = bc_backoff_delay(&b, n, &rng);
			over += d < 0 || d > cap[n - 1] ||
				d > (int64_t)500 << (n - 1);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += d;
		}
		CHECK_INT(over, 0);
		/* Full jitter uses the whole range, evenly. */
		CHECK(lo * 100 <= cap[n - 1]);
		CHECK(hi * 100 >= cap[n - 1] * 99);
		int64_t mean = sum / samples;
		CHECK(mean * 100 >= cap[n - 1] * 48 &&
		      mean * 100 <= cap[n - 1] * 52);
	}
	CHECK_INT(bc_backoff_cap(&b, 0), 500);
	CHECK_INT(bc_backoff_cap(&b, 100000), 60000);
	/* 0 is a possible draw; nothing below it, nothing above 1 ms here. */
	bc_backoff_init(&b, 1, 1, 5, 0);
	int zeros = 0, ones = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t d = bc_backoff_delay(&b, 1, &rng);
		zeros += d == 0;
		ones += d == 1;
	}
	CHECK(zeros > 400 && ones > 400 && zeros + ones == 1000);
	bc_backoff_init(&b, 500, 100, 0, -1); /* max below min */
	CHECK_INT(b.max_ms, 500);
	CHECK_INT(b.max_retry_ms, 0);
	CHECK_INT(bc_backoff_cap(&b, 7), 500);
	bc_backoff_init(&b, 0, 0, 3, 0);
	CHECK_INT(bc_backoff_delay(&b, 9, &rng), 0);
	/* Huge caps do not overflow. */
	bc_backoff_init(&b, INT64_MAX / 4, INT64_MAX, 0, 0);
	CHECK_INT(bc_backoff_cap(&b, 64), INT64_MAX);
}

static void test_retry_policy(void)
{
	struct bc_backoff b;
	bc_backoff_default(&b); /* 5 attempts, 3600 s */
	struct bc_rng rng;
	bc_rng_seed(&rng, 99);
	int64_t at = -1;
	for (unsigned n = 1; n < 5; n++) {
		at = -1;
		CHECK_INT(bc_retry_next(&b, n, 0, 1000, &rng, &at), BC_RETRY_AT);
		CHECK(at >= 1000 && at <= 1000 + bc_backoff_cap(&b, n));
	}
	at = -1;
	CHECK_INT(bc_retry_next(&b, 5, 0, 1000, &rng, &at),
		  BC_RETRY_NO_ATTEMPTS);
	CHECK_INT(at, -1);
	CHECK_INT(bc_retry_next(&b, 6, 0, 1000, &rng, &at),
		  BC_RETRY_NO_ATTEMPTS);
	/* --max-retry-time: strictly less than 3600 s after the first try. */
	CHECK(bc_retry_in_time(&b, 1000, 1000 + 3600000 - 1));
	CHECK(!bc_retry_in_time(&b, 1000, 1000 + 3600000));
	CHECK(bc_retry_in_time(&b, 1000, 1000));
	/* A wait that would end past it gives up now. */
	CHECK_INT(bc_retry_next(&b, 1, 0, 3600000, &rng, &at),
		  BC_RETRY_NO_TIME);
	int ok = 0, late = 0;
	for (int i = 0; i < 2000; i++) {
		enum bc_retry_verdict v =
			bc_retry_next(&b, 1, 0, 3599750, &rng, &at);
		ok += v == BC_RETRY_AT && at < 3600000;
		late += v == BC_RETRY_NO_TIME;
	}
	CHECK(ok > 0 && late > 0 && ok + late == 2000);
	/* 0 = no limit, for both. */
	bc_backoff_init(&b, 500, 60000, 0, 0);
	CHECK_INT(bc_retry_next(&b, 1000, 0, INT64_C(1) << 50, &rng, &at),
		  BC_RETRY_AT);
	CHECK(bc_retry_in_time(&b, 0, INT64_MAX));
	CHECK_STR(bc_retry_verdict_name(BC_RETRY_NO_TIME), "retry time spent");
}

/* ---------------------------------------------------------------- */
/* Due-time heap */

static void test_heap(void)
{
	struct bc_heap h = BC_HEAP_INIT(1000);
	struct bc_rng rng;
	bc_rng_seed(&rng, 2024);
	/* Reference: a plain array searched for the min (due, seq). */
	struct bc_heap_item ref[1000];
	size_t rn = 0;
	uint64_t seq = 0;
	int bad = 0;
	for (int step = 0; step < 50000; step++) {
		int push = rn == 0 || (rn < 1000 && bc_rng_below(&rng, 100) < 55);
		if (push) {
			int64_t due = (int64_t)bc_rng_below(&rng, 500) - 100;
			uintptr_t id = (uintptr_t)seq + 1;
			bad += bc_heap_push(&h, due, (void *)id) != BC_OK;
			ref[rn].due_ms = due;
			ref[rn].seq = seq++;
			ref[rn].data = (void *)id;
			rn++;
		} else {
			size_t m = 0;
			for (size_t i = 1; i < rn; i++)
				if (ref[i].due_ms < ref[m].due_ms ||
				    (ref[i].due_ms == ref[m].due_ms &&
				     ref[i].seq < ref[m].seq))
					m = i;
			const struct bc_heap_item *top = bc_heap_peek(&h);
			struct bc_heap_item got;
			bad += !top || top->data != ref[m].data;
			bad += bc_heap_pop(&h, &got) != 1;
			bad += got.data != ref[m].data ||
			       got.due_ms != ref[m].due_ms;
			ref[m] = ref[--rn];
		}
		bad += bc_heap_size(&h) != rn;
	}
	CHECK_INT(bad, 0);
	/* Draining gives non-decreasing due times. */
	struct bc_heap_item it, prev = { INT64_MIN, 0, NULL };
	size_t drained = 0;
	bad = 0;
	while (bc_heap_pop(&h, &it)) {
		bad += it.due_ms < prev.due_ms ||
		       (it.due_ms == prev.due_ms && it.seq < prev.seq);
		prev = it;
		drained++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(drained, rn);
	CHECK(bc_heap_peek(&h) == NULL);
	CHECK_INT(bc_heap_pop(&h, NULL), 0);
	bc_heap_release(&h);

	/* Capacity: the push past max is refused and changes nothing. */
	bc_heap_init(&h, 100);
	for (int i = 0; i < 100; i++)
		CHECK_INT(bc_heap_push(&h, 1000 - i, NULL), BC_OK);
	CHECK(bc_heap_full(&h));
	CHECK_INT(bc_heap_push(&h, -5, NULL), BC_ETOOBIG);
	CHECK_INT(bc_heap_size(&h), 100);
	CHECK_INT(bc_heap_peek(&h)->due_ms, 901);
	CHECK_INT(bc_heap_pop_due(&h, 900, &it), 0);
	CHECK_INT(bc_heap_pop_due(&h, 901, &it), 1);
	CHECK_INT(it.due_ms, 901);
	CHECK_INT(bc_heap_push(&h, -5, NULL), BC_OK);
	CHECK_INT(bc_heap_push(&h, -6, NULL), BC_ETOOBIG);
	CHECK_INT(bc_heap_peek(&h)->due_ms, -5);
	bc_heap_release(&h);
	/* FIFO among equal due times. */
	bc_heap_init(&h, 10);
	static int ids[5];
	for (int i = 0; i < 5; i++)
		bc_heap_push(&h, 7, &ids[i]);
	for (int i = 0; i < 5; i++) {
		bc_heap_pop(&h, &it);
		CHECK(it.data == &ids[i]);
	}
	bc_heap_release(&h);
	bc_heap_init(&h, 0);
	CHECK_INT(bc_heap_push(&h, 1, NULL), BC_ETOOBIG);
	bc_heap_release(&h);
}

/* ---------------------------------------------------------------- */
/* --halt-fail */

static void record_n(struct bc_halt *h, int n, int failed)
{
	for (int i = 0; i < n; i++)
		bc_halt_record(h, failed);
}

static void test_halt(void)
{
	struct bc_halt h;
	/* Exactly 10 % of 200 does not trip; one more does. */
	bc_halt_init(&h, 10);
	record_n(&h, 180, 0);
	record_n(&h, 20, 1);
	CHECK_INT(h.failed, 20);
	CHECK(!bc_halt_tripped(&h));
	record_n(&h, 180, 0); /* slides out the first 180 ok rows */
	CHECK_INT(h.failed, 20);
	record_n(&h, 20, 0); /* slides out the 20 failures */
	CHECK_INT(h.failed, 0);
	record_n(&h, 20, 1);
	bc_halt_record(&h, 0); /* slides out an ok row: still 20 */
	CHECK_INT(h.failed, 20);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_record(&h, 1);
	CHECK_INT(h.failed, 21);
	CHECK(bc_halt_tripped(&h));
	/* Latched. */
	record_n(&h, 500, 0);
	CHECK(bc_halt_tripped(&h));
	/* Not before 50 rows. */
	bc_halt_init(&h, 10);
	record_n(&h, 49, 1);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_record(&h, 0);
	CHECK(bc_halt_tripped(&h));
	/* Over the rows so far when fewer than 200: 5 of 50 is 10 %. */
	bc_halt_init(&h, 10);
	record_n(&h, 45, 0);
	record_n(&h, 5, 1);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_record(&h, 1); /* 6 of 51 */
	CHECK(bc_halt_tripped(&h));
	/* Fractions compare exactly: 2.5 % of 200 is 5. */
	bc_halt_init(&h, 2.5);
	record_n(&h, 195, 0);
	record_n(&h, 5, 1);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_record(&h, 1);
	CHECK(bc_halt_tripped(&h));
	/* 0 %: the first failure after 50 rows trips; disabled never. */
	bc_halt_init(&h, 0);
	record_n(&h, 60, 0);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_record(&h, 1);
	CHECK(bc_halt_tripped(&h));
	bc_halt_init(&h, -1);
	record_n(&h, 1000, 1);
	CHECK(!bc_halt_tripped(&h));
	bc_halt_init(&h, 100);
	record_n(&h, 1000, 1);
	CHECK(!bc_halt_tripped(&h));
}

/* ---------------------------------------------------------------- */

static void test_rng(void)
{
	struct bc_rng a, b;
	bc_rng_seed(&a, 5);
	bc_rng_seed(&b, 5);
	int same = 1;
	for (int i = 0; i < 100; i++)
		same &= bc_rng_next(&a) == bc_rng_next(&b);
	CHECK(same);
	bc_rng_seed(&a, 0);
	CHECK(bc_rng_next(&a) != 0);
	CHECK_INT(bc_rng_below(&a, 0), 0);
	int hist[3] = { 0, 0, 0 };
	for (int i = 0; i < 30000; i++)
		hist[bc_rng_below(&a, 3)]++;
	for (int i = 0; i < 3; i++)
		CHECK(hist[i] > 9500 && hist[i] < 10500);
}

int main(void)
{
	test_sched_start_empty();
	test_rng();
	test_bucket_windows();
	test_bucket_long_run();
	test_bucket_burst();
	test_bucket_rate_change();
	test_aimd();
	test_aimd_unlimited();
	test_retry_after();
	test_throttle_doubling();
	test_sched_retry_after();
	test_sched_cooldown();
	test_sched_scopes();
	test_sched_key_limits();
	test_sched_key_table();
	test_sched_run();
	test_sched_unlimited_cut();
	test_backoff();
	test_retry_policy();
	test_heap();
	test_halt();
	return bc_test_done();
}
