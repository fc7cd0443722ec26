/* struct bc_keytab: per-key scheduler state (throttle scope, --key-rate
 * bucket, --key-concurrency count) in a bounded hash table keyed by the
 * value of the --key column.
 *
 * Invariants:
 *  - At most max entries exist. Memory is bounded by
 *    max * (sizeof(struct bc_keyent) + BC_KEY_MAX + 1) plus the slot array
 *    (a power of two >= max pointers), whatever the input holds.
 *  - Keys longer than BC_KEY_MAX bytes are folded to their first
 *    BC_KEY_MAX - 17 bytes, '~' and 16 hex digits of a 64-bit hash of the
 *    whole key. Two long keys folding to the same entry share limits and
 *    pauses, which errs on the side of sending less, never more.
 *  - Only idle entries are evicted: no request in flight, not paused, and
 *    the key bucket full (so a fresh entry behaves exactly the same). An
 *    evicted scope forgets its cooldown doubling.
 *  - Pinned entries (the account scope "*") are never evicted.
 *  - Eviction looks at up to BC_KEYTAB_SCAN least recently used entries,
 *    moving busy ones to the front, so repeated attempts cycle the table.
 * Time is a parameter (ms). */
#ifndef BULKCALL_SCHED_KEYTAB_H
#define BULKCALL_SCHED_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/sched/bucket.h"
#include "bulkcall/sched/throttle.h"

#define BC_KEY_MAX 256
#define BC_KEYTAB_SCAN 32
#define BC_KEYTAB_MAX ((size_t)1 << 24)

struct bc_keyent {
	struct bc_keyent *next; /* hash chain */
	struct bc_keyent *newer, *older; /* LRU list */
	uint64_t hash;
	struct bc_throttle throttle;
	struct bc_bucket bucket; /* --key-rate; rate 0 = unlimited */
	uint32_t inflight; /* requests of this key in flight */
	int pinned;
	size_t len;
	char key[]; /* NUL-terminated, possibly folded */
};

struct bc_keytab {
	struct bc_keyent **slots;
	size_t nslots; /* power of two */
	size_t count;
	size_t max;
	struct bc_keyent *newest, *oldest;
	int64_t rate_milli, burst; /* for the buckets of new entries */
};

/* max entries (1 .. BC_KEYTAB_MAX); new entries get a full bucket of
 * rate_milli (0 = none) and burst. BC_OK, BC_EINVAL or BC_ENOMEM. */
int bc_keytab_init(struct bc_keytab *t, size_t max, int64_t rate_milli,
		   int64_t burst);
void bc_keytab_release(struct bc_keytab *t);
/* The entry of key, or NULL; marks it recently used. */
struct bc_keyent *bc_keytab_find(struct bc_keytab *t, const char *key);
/* The entry of key, created when missing (evicting an idle one when the
 * table is full). BC_OK, BC_ETOOBIG when full of busy entries, or
 * BC_ENOMEM. */
int bc_keytab_get(struct bc_keytab *t, const char *key, int64_t now_ms,
		  struct bc_keyent **out);
/* 1 when the entry could be forgotten at now_ms without changing behaviour
 * (other than the cooldown doubling). */
int bc_keyent_idle(struct bc_keyent *e, int64_t now_ms);

#endif
