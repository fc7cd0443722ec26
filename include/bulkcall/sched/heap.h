/* struct bc_heap: a binary min-heap of (due time, item) for rows that wait:
 * retry backoff, throttle pauses, not_before / delay holds.
 *
 * Invariants:
 *  - bc_heap_peek() is an item with the smallest due_ms; among equal due
 *    times, the one pushed first (FIFO, so rows due together keep their
 *    order).
 *  - len <= max: a push into a full heap fails with BC_ETOOBIG and changes
 *    nothing, so intake pauses instead of memory growing. The array grows
 *    by doubling up to max and never shrinks before bc_heap_release().
 * Time is a parameter (ms); the heap never looks at a clock. */
#ifndef BULKCALL_SCHED_HEAP_H
#define BULKCALL_SCHED_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct bc_heap_item {
	int64_t due_ms;
	uint64_t seq; /* push order, breaks ties */
	void *data;
};

struct bc_heap {
	struct bc_heap_item *items;
	size_t len;
	size_t cap;
	size_t max;
	uint64_t seq;
};

#define BC_HEAP_INIT(max_len) { NULL, 0, 0, (max_len), 0 }

void bc_heap_init(struct bc_heap *h, size_t max_len);
void bc_heap_release(struct bc_heap *h);
/* BC_OK, BC_ETOOBIG when len == max, or BC_ENOMEM. */
int bc_heap_push(struct bc_heap *h, int64_t due_ms, void *data);
/* The earliest item, or NULL when empty. Valid until the next push/pop. */
const struct bc_heap_item *bc_heap_peek(const struct bc_heap *h);
/* Removes the earliest item into *out (may be NULL); 1, or 0 when empty. */
int bc_heap_pop(struct bc_heap *h, struct bc_heap_item *out);
/* Pops the earliest item only if due_ms <= now_ms; 1 or 0. */
int bc_heap_pop_due(struct bc_heap *h, int64_t now_ms,
		    struct bc_heap_item *out);
size_t bc_heap_size(const struct bc_heap *h);
int bc_heap_full(const struct bc_heap *h);

#endif
