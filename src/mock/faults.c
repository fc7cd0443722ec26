/* Faults of bulkcall-mock: the per-thread PRNG, the fail/reset draws, and
 * the latency timer. A delayed request holds no thread: its connection is
 * suspended and one timer thread resumes it from a min-heap of due times.
 * Owns the clock reads and the timer thread; knows no provider. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mock/mock.h"

uint64_t mock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t mock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- PRNG: xorshift64* per thread, each seeded from --seed and the
 * order in which threads first draw (deterministic with --threads 1). */

static _Thread_local uint64_t rng_state;
static atomic_uint rng_threads;

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

uint64_t mock_rand(void)
{
	if (!rng_state) {
		uint64_t seed = mock_opts.seeded
			? mock_opts.seed
			: mock_wall_ms() ^ ((uint64_t)getpid() << 32);
		unsigned int n = atomic_fetch_add(&rng_threads, 1u);
		rng_state = splitmix64(seed + n) | 1u;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

double mock_rand_unit(void)
{
	return (double)(mock_rand() >> 11) * 0x1.0p-53;
}

enum mock_fault mock_fault_draw(void)
{
	if (mock_opts.fail_rate <= 0 && mock_opts.reset_rate <= 0)
		return MOCK_FAULT_NONE;
	/* One draw split into ranges, so the rates add up exactly. */
	double u = mock_rand_unit();
	if (u < mock_opts.fail_rate)
		return MOCK_FAULT_FAIL;
	if (u < mock_opts.fail_rate + mock_opts.reset_rate)
		return MOCK_FAULT_RESET;
	return MOCK_FAULT_NONE;
}

int mock_reset_after_draw(void)
{
	return mock_opts.reset_after_rate > 0 &&
	       mock_rand_unit() < mock_opts.reset_after_rate;
}

uint64_t mock_latency_draw_ms(void)
{
	uint64_t ms = mock_opts.latency_ms;
	if (mock_opts.jitter_ms)
		ms += mock_rand() % ((uint64_t)mock_opts.jitter_ms + 1u);
	return ms;
}

/* ---- Latency timer. */

struct timer_entry {
	uint64_t due_ms;
	struct MHD_Connection *conn;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	struct timer_entry *heap;
	size_t len;
	size_t cap;
	int running;   /* thread started and not told to stop */
	int started;
} timer = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void heap_swap(size_t a, size_t b)
{
	struct timer_entry t = timer.heap[a];
	timer.heap[a] = timer.heap[b];
	timer.heap[b] = t;
}

static void heap_up(size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (timer.heap[parent].due_ms <= timer.heap[i].due_ms)
			break;
		heap_swap(parent, i);
		i = parent;
	}
}

static void heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < timer.len && timer.heap[l].due_ms < timer.heap[m].due_ms)
			m = l;
		if (r < timer.len && timer.heap[r].due_ms < timer.heap[m].due_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static struct timer_entry heap_pop(void)
{
	struct timer_entry top = timer.heap[0];
	timer.heap[0] = timer.heap[--timer.len];
	heap_down(0);
	return top;
}

static void deadline(struct timespec *ts, uint64_t wait_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(wait_ms / 1000u);
	ts->tv_nsec += (long)(wait_ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

#define TIMER_BATCH 256

static void *timer_main(void *arg)
{
	struct MHD_Connection *batch[TIMER_BATCH];
	(void)arg;
	pthread_mutex_lock(&timer.lock);
	for (;;) {
		uint64_t now = mock_now_ms();
		size_t n = 0;
		while (timer.len && n < TIMER_BATCH &&
		       (!timer.running || timer.heap[0].due_ms <= now))
			batch[n++] = heap_pop().conn;
		if (n) {
			/* Resume outside the lock: it takes MHD's locks. */
			pthread_mutex_unlock(&timer.lock);
			for (size_t i = 0; i < n; i++)
				MHD_resume_connection(batch[i]);
			pthread_mutex_lock(&timer.lock);
			continue;
		}
		if (!timer.running)
			break;
		if (!timer.len) {
			pthread_cond_wait(&timer.wake, &timer.lock);
		} else {
			struct timespec ts;
			deadline(&ts, timer.heap[0].due_ms - now);
			pthread_cond_timedwait(&timer.wake, &timer.lock, &ts);
		}
	}
	pthread_mutex_unlock(&timer.lock);
	return NULL;
}

int mock_timer_start(char *err, size_t err_len)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (!rc)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(&timer.wake, &attr);
	pthread_condattr_destroy(&attr);
	if (!rc) {
		timer.running = 1;
		rc = pthread_create(&timer.thread, NULL, timer_main, NULL);
		if (rc)
			timer.running = 0;
	}
	if (rc) {
		snprintf(err, err_len, "cannot start the timer thread: %s",
			 strerror(rc));
		return -1;
	}
	timer.started = 1;
	return 0;
}

void mock_timer_add(struct MHD_Connection *c, uint64_t due_ms)
{
	int at_once = 0;
	pthread_mutex_lock(&timer.lock);
	if (!timer.running) {
		at_once = 1;
	} else if (timer.len == timer.cap) {
		size_t cap = timer.cap ? timer.cap * 2 : 1024;
		struct timer_entry *p = realloc(timer.heap, cap * sizeof *p);
		if (p) {
			timer.heap = p;
			timer.cap = cap;
		} else {
			at_once = 1;
		}
	}
	if (!at_once) {
		timer.heap[timer.len].due_ms = due_ms;
		timer.heap[timer.len].conn = c;
		heap_up(timer.len++);
		/* Wake the thread only when its next deadline moved up; with
		 * a fixed latency new entries go to the back. */
		if (timer.heap[0].conn == c)
			pthread_cond_signal(&timer.wake);
	}
	pthread_mutex_unlock(&timer.lock);
	/* Stopping, or no memory: answer now rather than never. */
	if (at_once)
		MHD_resume_connection(c);
}

void mock_timer_stop(void)
{
	if (!timer.started)
		return;
	pthread_mutex_lock(&timer.lock);
	timer.running = 0;
	pthread_cond_signal(&timer.wake);
	pthread_mutex_unlock(&timer.lock);
	pthread_join(timer.thread, NULL);
	timer.started = 0;
	free(timer.heap);
	timer.heap = NULL;
	timer.len = timer.cap = 0;
}
