/* struct bc_stats: what summary.json and the human summary report, kept
 * in fixed memory: outcome counts, a log-linear latency histogram (about
 * 3 % precision) and the most frequent error messages (bounded table). */
#ifndef BC_OUT_STATS_H
#define BC_OUT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/output.h"

#define BC_LATENCY_BUCKETS (64 + 26 * 32)
#define BC_ERROR_KINDS_MAX 512
#define BC_UNKNOWN_KINDS_MAX 64

struct bc_error_count {
	char *message;
	uint64_t count;
};

struct bc_stats {
	uint64_t outcomes[BC_OUTCOME_COUNT];
	uint64_t rows;
	uint64_t attempts;
	uint64_t latency[BC_LATENCY_BUCKETS];
	uint64_t latency_n;
	int64_t latency_max_ms;
	struct bc_error_count errors[BC_ERROR_KINDS_MAX];
	size_t nerrors;
	uint64_t other_errors; /* messages past the table's bound */
	/* Why rows are unknown: the same grouping, unknown rows only. */
	struct bc_error_count unknown[BC_UNKNOWN_KINDS_MAX];
	size_t nunknown;
	uint64_t other_unknown;
};

void bc_stats_add(struct bc_stats *st, const struct bc_result *r);
/* Latency (ms) at quantile q in [0,1]; -1 when none recorded. */
int64_t bc_stats_latency_ms(const struct bc_stats *st, double q);
/* Error kinds sorted by count, most frequent first. */
void bc_stats_sort_errors(struct bc_stats *st);
void bc_stats_release(struct bc_stats *st);
/* The message without its "line N: " prefix, so equal causes group. */
const char *bc_error_kind(const char *message);

#endif
