/* struct bc_sched: admission control for one run. The engine owns the rows
 * and the transport and asks one question per row: "may I send a row of
 * key K now, and if not, until when should it wait?" (bc_sched_admit), and
 * reports every admitted request back (bc_sched_done).
 *
 * Invariants:
 *  - Every BC_ADMIT is counted in flight (globally and for its key) until
 *    the matching bc_sched_done(); at most concurrency are in flight, at
 *    most key_concurrency of one key.
 *  - Admissions follow the run's token bucket at the effective rate
 *    (bc_aimd: the configured rate, cut on throttle signals and recovering)
 *    and each key's --key-rate bucket. With a constant configured rate R
 *    and burst B, any window of W ms admits at most R * W / 1000 + B.
 *  - Nothing of a paused scope is admitted before its pause ends: the
 *    account scope "*" pauses every key, a key scope only itself.
 *  - Nothing is consumed by a refused admission; tokens of both buckets are
 *    taken together, or neither.
 *  - Key state lives in a bounded table (see keytab.h); "*" and NULL both
 *    name the account scope, which is never evicted.
 * Time is a parameter: int64_t milliseconds of a monotonic clock chosen by
 * the caller (e.g. bc_clock_mono_us() / 1000). Nothing in src/sched reads
 * a clock, sleeps or draws random numbers of its own; see
 * docs/scheduling.md. */
#ifndef BULKCALL_SCHED_H
#define BULKCALL_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/sched/aimd.h"
#include "bulkcall/sched/backoff.h"
#include "bulkcall/sched/bucket.h"
#include "bulkcall/sched/halt.h"
#include "bulkcall/sched/heap.h"
#include "bulkcall/sched/keytab.h"
#include "bulkcall/sched/ms.h"
#include "bulkcall/sched/retry_after.h"
#include "bulkcall/sched/rng.h"
#include "bulkcall/sched/throttle.h"

#define BC_SCHED_ACCOUNT "*"
#define BC_SCHED_KEYS_MIN 4096 /* default key table: max(this, 4 * concurrency) */
#define BC_SCHED_FULL_WAIT_MS 100

struct bc_sched_config {
	int64_t rate_milli; /* --rate, milli-requests/s; 0 = unlimited */
	int64_t burst; /* --burst in tokens; 0 = 1 s of rate, at least 1 */
	uint32_t concurrency; /* --concurrency; 0 = unlimited */
	int64_t key_rate_milli; /* --key-rate; 0 = none */
	int64_t key_burst; /* 0 = 1: strict spacing of 1/key-rate */
	uint32_t key_concurrency; /* --key-concurrency; 0 = none */
	int64_t cooldown_ms; /* --throttle-cooldown */
	size_t key_max; /* key table bound; 0 = default (see above) */
	int start_empty; /* the run's bucket starts empty: the burst is
			    earned, never spent at the start (a run that
			    opens with a full bucket sends rate + burst in
			    its first window) */
};

/* The answer to "may I send this row now?". Every refusal sets
 * *wait_until_ms: the time to ask again, or INT64_MAX when only a
 * bc_sched_done() can change the answer. */
enum bc_admit {
	BC_ADMIT = 0, /* send it; call bc_sched_done() when it ends */
	BC_WAIT_PAUSED, /* the account scope "*" is paused */
	BC_WAIT_KEY_PAUSED, /* this key's scope is paused */
	BC_WAIT_RATE, /* no token in the run's bucket yet */
	BC_WAIT_KEY_RATE, /* no token in the key's bucket yet */
	BC_WAIT_BUSY, /* --concurrency reached: after any done */
	BC_WAIT_KEY_BUSY, /* --key-concurrency reached: after a done of key */
	BC_WAIT_FULL /* key table full of busy keys (or out of memory) */
};

/* What became of an admitted request, as far as scheduling cares. */
enum bc_sched_result {
	BC_SCHED_OK, /* answered, not a throttle signal (row may have failed) */
	BC_SCHED_ERROR, /* no usable answer: transport error, timeout, 5xx,
			   abandoned */
	BC_SCHED_THROTTLED /* a throttle signal (429 or the profile's) */
};

struct bc_sched_outcome {
	enum bc_sched_result result;
	int64_t sent_ms; /* when the request was admitted */
	int64_t retry_after_ms; /* THROTTLED: Retry-After delay, or -1 */
	int account; /* THROTTLED: the signal is account-wide whatever the key */
};

struct bc_sched {
	struct bc_sched_config cfg;
	int64_t burst; /* the resolved configured burst */
	struct bc_bucket bucket; /* the run's bucket at the effective rate */
	int64_t bucket_rate_milli; /* rate the bucket runs at; 0 = bypassed */
	struct bc_aimd aimd;
	struct bc_keytab keys;
	struct bc_keyent *account; /* "*", pinned in keys */
	uint32_t inflight;
	uint64_t admitted;
};

/* Defaults of SPEC section 2 with no rate: unlimited rate, concurrency 100,
 * cooldown 60 s, no per-key limits. */
void bc_sched_config_default(struct bc_sched_config *cfg);
/* BC_OK, BC_EINVAL for a negative or out-of-range setting, BC_ENOMEM. */
int bc_sched_init(struct bc_sched *s, const struct bc_sched_config *cfg,
		  int64_t now_ms);
void bc_sched_release(struct bc_sched *s);
/* May a row of key (NULL or "*": the account) be sent at now_ms? */
enum bc_admit bc_sched_admit(struct bc_sched *s, const char *key,
			     int64_t now_ms, int64_t *wait_until_ms);
/* An admitted request of key ended at now_ms: releases its slots; a
 * throttle signal pauses its scope (the key's, or the account's when
 * o->account or the key is "*") and cuts the run's rate; an OK answer
 * resets the cooldown doubling of the key and of the account. */
void bc_sched_done(struct bc_sched *s, const char *key,
		   const struct bc_sched_outcome *o, int64_t now_ms);
/* When the scope of key (NULL/"*": the account alone) stops being paused;
 * <= now_ms when it is not paused. Includes the account pause for keys. */
int64_t bc_sched_paused_until(struct bc_sched *s, const char *key,
			      int64_t now_ms);
/* The run's effective rate at now_ms, milli-requests/s; 0 = unlimited. */
int64_t bc_sched_rate(struct bc_sched *s, int64_t now_ms);
uint32_t bc_sched_inflight(const struct bc_sched *s);
/* "admit", "paused", "key-paused", "rate", "key-rate", "busy", "key-busy",
 * "full": for traces. */
const char *bc_admit_name(enum bc_admit a);

#endif
