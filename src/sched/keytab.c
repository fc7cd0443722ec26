/* Bounded hash table of per-key scheduler state with LRU eviction of idle
 * entries (see include/bulkcall/sched/keytab.h). Owns its entries. Pure:
 * time is a parameter. libc only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/sched/keytab.h"

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* The stored form of key: itself, or folded when too long. */
static size_t fold(const char *key, char *out)
{
	size_t len = strlen(key);
	if (len <= BC_KEY_MAX) {
		memcpy(out, key, len + 1);
		return len;
	}
	size_t keep = BC_KEY_MAX - 17;
	memcpy(out, key, keep);
	snprintf(out + keep, 18, "~%016llx",
		 (unsigned long long)fnv1a(key, len));
	return BC_KEY_MAX;
}

static void lru_unlink(struct bc_keytab *t, struct bc_keyent *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct bc_keytab *t, struct bc_keyent *e)
{
	e->newer = NULL;
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	t->newest = e;
	if (!t->oldest)
		t->oldest = e;
}

static void touch(struct bc_keytab *t, struct bc_keyent *e)
{
	if (t->newest == e)
		return;
	lru_unlink(t, e);
	lru_push(t, e);
}

int bc_keytab_init(struct bc_keytab *t, size_t max, int64_t rate_milli,
		   int64_t burst)
{
	memset(t, 0, sizeof *t);
	if (max < 1 || max > BC_KEYTAB_MAX)
		return BC_EINVAL;
	size_t n = 16;
	while (n < max)
		n *= 2;
	t->slots = calloc(n, sizeof *t->slots);
	if (!t->slots)
		return BC_ENOMEM;
	t->nslots = n;
	t->max = max;
	t->rate_milli = rate_milli;
	t->burst = burst;
	return BC_OK;
}

void bc_keytab_release(struct bc_keytab *t)
{
	struct bc_keyent *e = t->newest;
	while (e) {
		struct bc_keyent *older = e->older;
		free(e);
		e = older;
	}
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static struct bc_keyent **lookup(struct bc_keytab *t, const char *key,
				 size_t len, uint64_t hash)
{
	struct bc_keyent **pp = &t->slots[hash & (t->nslots - 1)];
	while (*pp && !((*pp)->hash == hash && (*pp)->len == len &&
			memcmp((*pp)->key, key, len) == 0))
		pp = &(*pp)->next;
	return pp;
}

struct bc_keyent *bc_keytab_find(struct bc_keytab *t, const char *key)
{
	char k[BC_KEY_MAX + 1];
	size_t len = fold(key, k);
	struct bc_keyent *e = *lookup(t, k, len, fnv1a(k, len));
	if (e)
		touch(t, e);
	return e;
}

int bc_keyent_idle(struct bc_keyent *e, int64_t now_ms)
{
	return !e->pinned && e->inflight == 0 &&
	       !bc_throttle_paused(&e->throttle, now_ms) &&
	       bc_bucket_full(&e->bucket, now_ms);
}

static void unlink_entry(struct bc_keytab *t, struct bc_keyent *e)
{
	struct bc_keyent **pp = lookup(t, e->key, e->len, e->hash);
	if (*pp == e)
		*pp = e->next;
	lru_unlink(t, e);
	t->count--;
}

/* Frees one idle entry among the least recently used, or returns 0. */
static int evict(struct bc_keytab *t, int64_t now_ms)
{
	for (int i = 0; i < BC_KEYTAB_SCAN && t->oldest; i++) {
		struct bc_keyent *e = t->oldest;
		if (bc_keyent_idle(e, now_ms)) {
			unlink_entry(t, e);
			free(e);
			return 1;
		}
		/* Busy: move it out of the way so the next scan sees
		 * others. */
		touch(t, e);
	}
	return 0;
}

int bc_keytab_get(struct bc_keytab *t, const char *key, int64_t now_ms,
		  struct bc_keyent **out)
{
	char k[BC_KEY_MAX + 1];
	size_t len = fold(key, k);
	uint64_t hash = fnv1a(k, len);
	struct bc_keyent *e = *lookup(t, k, len, hash);
	if (e) {
		touch(t, e);
		*out = e;
		return BC_OK;
	}
	if (t->count >= t->max && !evict(t, now_ms))
		return BC_ETOOBIG;
	e = malloc(sizeof *e + len + 1);
	if (!e)
		return BC_ENOMEM;
	memset(e, 0, sizeof *e);
	memcpy(e->key, k, len + 1);
	e->len = len;
	e->hash = hash;
	bc_throttle_init(&e->throttle);
	bc_bucket_init(&e->bucket, t->rate_milli, t->burst, now_ms);
	/* Evicting may have changed the chain, so look the slot up again. */
	struct bc_keyent **pp = lookup(t, k, len, hash);
	e->next = *pp;
	*pp = e;
	lru_push(t, e);
	t->count++;
	*out = e;
	return BC_OK;
}
