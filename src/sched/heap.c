/* Binary min-heap of due times with a hard cap (see
 * include/bulkcall/sched/heap.h). Owns its array, not the items' data.
 * Pure: never reads a clock. libc only. */
#include <stdlib.h>

#include "bulkcall/error.h"
#include "bulkcall/sched/heap.h"

void bc_heap_init(struct bc_heap *h, size_t max_len)
{
	h->items = NULL;
	h->len = 0;
	h->cap = 0;
	h->max = max_len;
	h->seq = 0;
}

void bc_heap_release(struct bc_heap *h)
{
	free(h->items);
	h->items = NULL;
	h->len = 0;
	h->cap = 0;
}

static int before(const struct bc_heap_item *a, const struct bc_heap_item *b)
{
	return a->due_ms < b->due_ms ||
	       (a->due_ms == b->due_ms && a->seq < b->seq);
}

int bc_heap_push(struct bc_heap *h, int64_t due_ms, void *data)
{
	if (h->len >= h->max)
		return BC_ETOOBIG;
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		if (cap > h->max)
			cap = h->max;
		struct bc_heap_item *p = realloc(h->items, cap * sizeof *p);
		if (!p)
			return BC_ENOMEM;
		h->items = p;
		h->cap = cap;
	}
	struct bc_heap_item it = { due_ms, h->seq++, data };
	size_t i = h->len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&it, &h->items[parent]))
			break;
		h->items[i] = h->items[parent];
		i = parent;
	}
	h->items[i] = it;
	return BC_OK;
}

const struct bc_heap_item *bc_heap_peek(const struct bc_heap *h)
{
	return h->len ? &h->items[0] : NULL;
}

int bc_heap_pop(struct bc_heap *h, struct bc_heap_item *out)
{
	if (h->len == 0)
		return 0;
	if (out)
		*out = h->items[0];
	struct bc_heap_item last = h->items[--h->len];
	size_t i = 0, n = h->len;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && before(&h->items[child + 1], &h->items[child]))
			child++;
		if (!before(&h->items[child], &last))
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (n)
		h->items[i] = last;
	return 1;
}

int bc_heap_pop_due(struct bc_heap *h, int64_t now_ms,
		    struct bc_heap_item *out)
{
	if (h->len == 0 || h->items[0].due_ms > now_ms)
		return 0;
	return bc_heap_pop(h, out);
}

size_t bc_heap_size(const struct bc_heap *h)
{
	return h->len;
}

int bc_heap_full(const struct bc_heap *h)
{
	return h->len >= h->max;
}
