/* Run statistics in bounded memory (see stats.h). libc only. */
#include <stdlib.h>
#include <string.h>

#include "out/stats.h"

static size_t bucket_of(int64_t ms)
{
	if (ms < 64)
		return ms < 0 ? 0 : (size_t)ms;
	unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)ms);
	size_t idx = 64 + (e - 6) * 32 + (((unsigned long long)ms >> (e - 5)) & 31);
	return idx < BC_LATENCY_BUCKETS ? idx : BC_LATENCY_BUCKETS - 1;
}

static int64_t bucket_value(size_t idx)
{
	if (idx < 64)
		return (int64_t)idx;
	size_t e = (idx - 64) / 32 + 6, sub = (idx - 64) % 32;
	return (int64_t)((32 + sub) << (e - 5));
}

const char *bc_error_kind(const char *message)
{
	if (strncmp(message, "line ", 5) == 0) {
		const char *p = message + 5;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p[0] == ':' && p[1] == ' ')
			return p + 2;
	}
	return message;
}

static void count_in(struct bc_error_count *table, size_t *n, size_t max,
		     uint64_t *other, const char *message)
{
	const char *kind = bc_error_kind(message);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(table[i].message, kind) == 0) {
			table[i].count++;
			return;
		}
	char *copy = *n < max ? strdup(kind) : NULL;
	if (!copy) {
		(*other)++;
		return;
	}
	table[*n].message = copy;
	table[*n].count = 1;
	(*n)++;
}

void bc_stats_add(struct bc_stats *st, const struct bc_result *r)
{
	st->rows++;
	st->outcomes[r->outcome]++;
	st->attempts += r->attempts;
	if (r->latency_ms >= 0) {
		st->latency[bucket_of(r->latency_ms)]++;
		st->latency_n++;
		if (r->latency_ms > st->latency_max_ms)
			st->latency_max_ms = r->latency_ms;
	}
	if (r->error && r->error[0])
		count_in(st->errors, &st->nerrors, BC_ERROR_KINDS_MAX,
			 &st->other_errors, r->error);
	if (r->outcome == BC_OUTCOME_UNKNOWN)
		count_in(st->unknown, &st->nunknown, BC_UNKNOWN_KINDS_MAX,
			 &st->other_unknown,
			 r->error && r->error[0] ? r->error : "no reason given");
}

int64_t bc_stats_latency_ms(const struct bc_stats *st, double q)
{
	if (!st->latency_n)
		return -1;
	uint64_t want = (uint64_t)(q * (double)st->latency_n);
	if (want >= st->latency_n)
		want = st->latency_n - 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < BC_LATENCY_BUCKETS; i++) {
		seen += st->latency[i];
		if (seen > want) {
			int64_t v = bucket_value(i);
			return v > st->latency_max_ms ? st->latency_max_ms : v;
		}
	}
	return st->latency_max_ms;
}

static int by_count(const void *a, const void *b)
{
	const struct bc_error_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->message, y->message);
}

void bc_stats_sort_errors(struct bc_stats *st)
{
	qsort(st->errors, st->nerrors, sizeof st->errors[0], by_count);
	qsort(st->unknown, st->nunknown, sizeof st->unknown[0], by_count);
}

void bc_stats_release(struct bc_stats *st)
{
	for (size_t i = 0; i < st->nerrors; i++)
		free(st->errors[i].message);
	st->nerrors = 0;
	for (size_t i = 0; i < st->nunknown; i++)
		free(st->unknown[i].message);
	st->nunknown = 0;
}
