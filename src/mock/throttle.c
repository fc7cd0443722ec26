/* Throttle scopes of bulkcall-mock: per provider and per value of its
 * throttle key (or the whole account), a fixed window counting accepted
 * operations; the one past the limit blocks the scope for block_ms. Owns
 * the scope table (striped locks; stale scopes are dropped as buckets are
 * walked, so memory follows the traffic of one window). Time is a
 * parameter. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock/mock.h"

#define BUCKETS 65536u
#define STRIPES 256u

struct scope {
	struct scope *next;
	uint64_t hash;
	uint64_t window_start_ms;
	uint64_t blocked_until_ms;  /* 0 = not blocked */
	unsigned int count;
	const struct mock_provider *prov;
	char key[];
};

static struct scope **buckets;
static pthread_mutex_t stripes[STRIPES];

int mock_throttle_init(char *err, size_t err_len)
{
	buckets = calloc(BUCKETS, sizeof *buckets);
	if (!buckets) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	for (unsigned int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
	return 0;
}

void mock_throttle_release(void)
{
	if (!buckets)
		return;
	for (unsigned int i = 0; i < BUCKETS; i++) {
		struct scope *s = buckets[i];
		while (s) {
			struct scope *next = s->next;
			free(s);
			s = next;
		}
	}
	free(buckets);
	buckets = NULL;
}

static uint64_t hash_key(const struct mock_provider *p, const char *key)
{
	uint64_t h = 0xcbf29ce484222325u ^ (uint64_t)(uintptr_t)p;
	for (const unsigned char *s = (const unsigned char *)key; *s; s++)
		h = (h ^ *s) * 0x100000001b3u;
	return h ^ (h >> 29);
}

static uint64_t block_ms(const struct mock_throttle_cfg *c)
{
	return c->block_ms ? c->block_ms : c->window_ms;
}

/* A scope that is neither blocked nor inside its window holds nothing a
 * fresh one would not. */
static int stale(const struct mock_throttle_cfg *c, const struct scope *s,
		 uint64_t now_ms)
{
	return s->blocked_until_ms <= now_ms &&
	       now_ms - s->window_start_ms >= c->window_ms;
}

uint64_t mock_throttle_admit(const struct mock_provider *p, const char *key,
			     uint64_t now_ms)
{
	const struct mock_throttle_cfg *c = &p->throttle;
	if (!c->limit)
		return 0;
	uint64_t h = hash_key(p, key);
	size_t b = (size_t)(h % BUCKETS);
	pthread_mutex_t *lock = &stripes[b % STRIPES];
	uint64_t wait_ms = 0;

	pthread_mutex_lock(lock);
	struct scope **link = &buckets[b], *s = NULL;
	while (*link) {
		struct scope *e = *link;
		if (e->hash == h && e->prov == p && !strcmp(e->key, key)) {
			s = e;
			link = &e->next;
		} else if (stale(&e->prov->throttle, e, now_ms)) {
			*link = e->next;
			free(e);
		} else {
			link = &e->next;
		}
	}
	if (!s) {
		size_t len = strlen(key);
		s = malloc(sizeof *s + len + 1);
		if (!s)
			goto out;  /* untracked: admit rather than fail */
		memcpy(s->key, key, len + 1);
		s->hash = h;
		s->prov = p;
		s->window_start_ms = now_ms;
		s->blocked_until_ms = 0;
		s->count = 0;
		s->next = buckets[b];
		buckets[b] = s;
	}
	if (s->blocked_until_ms) {
		if (s->blocked_until_ms > now_ms) {
			wait_ms = s->blocked_until_ms - now_ms;
			goto out;
		}
		/* The block is over: a new window starts now. */
		s->blocked_until_ms = 0;
		s->window_start_ms = now_ms;
		s->count = 0;
	}
	if (now_ms - s->window_start_ms >= c->window_ms) {
		s->window_start_ms = now_ms;
		s->count = 0;
	}
	if (s->count >= c->limit) {
		wait_ms = block_ms(c);
		s->blocked_until_ms = now_ms + wait_ms;
		goto out;
	}
	s->count++;
out:
	pthread_mutex_unlock(lock);
	return wait_ms;
}

void mock_answer_throttled(struct mock_provider *p, struct mock_answer *a,
			   uint64_t wait_ms)
{
	if (mock_opts.retry_after_s != MOCK_RETRY_AFTER_AUTO) {
		/* Built at startup with any fixed Retry-After (server.c). */
		mock_answer_shared(a, p->throttle_status, p->throttle_resp,
				   MOCK_THROTTLED);
		return;
	}
	mock_answer_copy(a, p->throttle_status, p->content_type,
			 p->throttle_body, strlen(p->throttle_body),
			 MOCK_THROTTLED);
	if (a->resp) {
		char secs[24];
		snprintf(secs, sizeof secs, "%llu",
			 (unsigned long long)((wait_ms + 999u) / 1000u));
		MHD_add_response_header(a->resp, MHD_HTTP_HEADER_RETRY_AFTER,
					secs);
	}
}
