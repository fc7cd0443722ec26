/* struct bc_bucket: a token bucket in integer arithmetic (nginx limit_req
 * style). A rate in milli-requests per second is exactly micro-tokens per
 * millisecond, so refilling is one multiplication and never rounds.
 *
 * Invariants:
 *  - 0 <= level_u <= burst * BC_BUCKET_UNIT; one request costs one token
 *    (BC_BUCKET_UNIT micro-tokens).
 *  - In any closed window [t, t + W] (W in ms) with a constant rate, the
 *    number of tokens taken is at most rate * W / 1000 + burst.
 *  - Under saturated demand the long-run rate is exactly the rate: nothing
 *    is lost to rounding (waits round up, credit never rounds).
 *  - rate_milli == 0 means unlimited: every take succeeds and the level is
 *    not used.
 *  - Time never runs backwards here: a now earlier than the last refill
 *    adds nothing.
 * Time is a parameter (ms). To reach the rate, the loop that calls
 * bc_bucket_take() must come back at least every burst * 1e6 / rate_milli
 * ms (the time to fill the bucket); the default burst (1 s of rate) leaves
 * a second, while --burst 1 at 10000/s would need a 0.1 ms loop and caps
 * the achieved rate at 1000/s with a 1 ms loop. */
#ifndef BULKCALL_SCHED_BUCKET_H
#define BULKCALL_SCHED_BUCKET_H

#include <stdint.h>

#define BC_BUCKET_UNIT INT64_C(1000000) /* micro-tokens per token */
#define BC_RATE_MAX_MILLI INT64_C(1000000000) /* 1,000,000 requests/s */
#define BC_BURST_MAX INT64_C(100000000)

struct bc_bucket {
	int64_t rate_milli; /* milli-requests/s == micro-tokens/ms; 0 = unlimited */
	int64_t burst; /* capacity in tokens, >= 1 */
	int64_t level_u; /* micro-tokens available */
	int64_t last_ms; /* time of the last refill */
};

/* Converts a --rate / --key-rate value to milli-requests per second:
 * rounded to the nearest milli, a positive rate never becomes 0
 * (unlimited), clamped to BC_RATE_MAX_MILLI; <= 0 (or NaN) gives 0. */
int64_t bc_rate_to_milli(double rate);
/* The default --burst: one second of rate, at least 1 token. */
int64_t bc_burst_default(int64_t rate_milli);

/* Starts full (burst tokens available at now_ms). rate_milli is clamped to
 * [0, BC_RATE_MAX_MILLI], burst to [1, BC_BURST_MAX]. */
void bc_bucket_init(struct bc_bucket *b, int64_t rate_milli, int64_t burst,
		    int64_t now_ms);
/* Empties the bucket (no token until it refills). */
void bc_bucket_drain(struct bc_bucket *b);
/* Changes rate and burst at runtime: credit up to now_ms is earned at the
 * old rate, later credit at the new one; the level is cut to the new
 * capacity. */
void bc_bucket_set(struct bc_bucket *b, int64_t rate_milli, int64_t burst,
		   int64_t now_ms);
/* 0 when a token is available at now_ms, else the ms until one is. Takes
 * nothing. */
int64_t bc_bucket_peek(struct bc_bucket *b, int64_t now_ms);
/* Takes a token and returns 0, or takes nothing and returns the ms until a
 * token is available (> 0). */
int64_t bc_bucket_take(struct bc_bucket *b, int64_t now_ms);
/* 1 when the bucket is full at now_ms (a fresh bucket would behave the
 * same, so its state may be forgotten). Unlimited buckets are always full. */
int bc_bucket_full(struct bc_bucket *b, int64_t now_ms);

#endif
