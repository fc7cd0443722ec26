/* --halt-fail: failure share of the last BC_HALT_WINDOW finished rows (see
 * include/bulkcall/sched/halt.h). Pure, fixed size. libc only. */
#include <string.h>

#include "bulkcall/sched/halt.h"

void bc_halt_init(struct bc_halt *h, double pct)
{
	memset(h, 0, sizeof *h);
	if (!(pct >= 0))
		h->pct_milli = -1;
	else if (pct >= 100)
		h->pct_milli = 100000;
	else
		h->pct_milli = (int64_t)(pct * 1000.0 + 0.5);
}

void bc_halt_record(struct bc_halt *h, int failed)
{
	unsigned char f = failed ? 1 : 0;
	if (h->rows == BC_HALT_WINDOW)
		h->failed -= h->failed_at[h->pos];
	else
		h->rows++;
	h->failed_at[h->pos] = f;
	h->failed += f;
	h->pos = (h->pos + 1) % BC_HALT_WINDOW;
	h->finished++;
	if (h->pct_milli >= 0 && h->rows >= BC_HALT_MIN_ROWS &&
	    (int64_t)h->failed * 100000 > h->pct_milli * (int64_t)h->rows)
		h->tripped = 1;
}

int bc_halt_tripped(const struct bc_halt *h)
{
	return h->tripped;
}
