/* Additive-increase / multiplicative-decrease of the run's rate (see
 * include/bulkcall/sched/aimd.h). Pure: time is a parameter. Must not
 * depend on anything but libc. */
#include <string.h>

#include "bulkcall/sched/aimd.h"
#include "bulkcall/sched/bucket.h"

static int64_t slot_of(int64_t now_ms)
{
	/* Floor division, so negative fake-clock times work too. */
	int64_t q = now_ms / BC_AIMD_SLOT_MS;
	if (now_ms % BC_AIMD_SLOT_MS < 0)
		q--;
	return q;
}

static uint32_t *slot_ref(struct bc_aimd *a, int64_t slot)
{
	int64_t i = slot % BC_AIMD_SLOTS;
	if (i < 0)
		i += BC_AIMD_SLOTS;
	return &a->count[i];
}

/* Moves the ring forward to now, zeroing the slots it skips. */
static void advance(struct bc_aimd *a, int64_t now_ms)
{
	int64_t slot = slot_of(now_ms);
	if (slot <= a->slot)
		return;
	if (slot - a->slot >= BC_AIMD_SLOTS) {
		memset(a->count, 0, sizeof a->count);
	} else {
		for (int64_t s = a->slot + 1; s <= slot; s++)
			*slot_ref(a, s) = 0;
	}
	a->slot = slot;
}

static int64_t floor_of(int64_t ceil_milli)
{
	int64_t f = ceil_milli / BC_AIMD_FLOOR_DIV;
	if (f < BC_AIMD_FLOOR_MIN_MILLI)
		f = BC_AIMD_FLOOR_MIN_MILLI;
	return f > ceil_milli ? ceil_milli : f;
}

void bc_aimd_init(struct bc_aimd *a, int64_t conf_milli, int64_t now_ms)
{
	memset(a, 0, sizeof *a);
	a->conf_milli = conf_milli < 0 ? 0 : conf_milli;
	a->last_cut_ms = INT64_MIN;
	a->resume_ms = INT64_MIN;
	a->slot = slot_of(now_ms);
}

void bc_aimd_note_dispatch(struct bc_aimd *a, int64_t now_ms)
{
	advance(a, now_ms);
	uint32_t *c = slot_ref(a, a->slot);
	if (*c < UINT32_MAX)
		(*c)++;
}

int64_t bc_aimd_observed(struct bc_aimd *a, int64_t now_ms)
{
	advance(a, now_ms);
	int64_t last_1s = 0, last_5s = 0;
	for (int64_t i = 0; i < BC_AIMD_SLOTS; i++) {
		int64_t c = *slot_ref(a, a->slot - i);
		last_5s += c;
		if (i < 1000 / BC_AIMD_SLOT_MS)
			last_1s += c;
	}
	int64_t secs = (int64_t)BC_AIMD_SLOTS * BC_AIMD_SLOT_MS / 1000;
	int64_t r = last_1s * 1000;
	if (last_5s * 1000 / secs > r)
		r = last_5s * 1000 / secs;
	if (r == 0)
		r = BC_AIMD_UNKNOWN_MILLI;
	return r > BC_RATE_MAX_MILLI ? BC_RATE_MAX_MILLI : r;
}

int64_t bc_aimd_rate(const struct bc_aimd *a, int64_t now_ms)
{
	if (a->ceil_milli == 0)
		return a->conf_milli;
	int64_t full = a->conf_milli ? a->ceil_milli : 0;
	if (now_ms <= a->resume_ms)
		return a->base_milli;
	int64_t room = a->ceil_milli - a->base_milli;
	if (room <= 0)
		return full;
	int64_t step = a->ceil_milli * BC_AIMD_STEP_PCT / 100;
	if (step < 1)
		step = 1;
	int64_t dt = now_ms - a->resume_ms;
	/* Full once step * dt / 1000 >= room; the test avoids overflow. */
	if (dt >= (room * 1000 + step - 1) / step)
		return full;
	return a->base_milli + step * dt / 1000;
}

int bc_aimd_cut(struct bc_aimd *a, int64_t now_ms, int64_t sent_ms,
		int64_t resume_ms)
{
	if (sent_ms <= a->last_cut_ms)
		return 0;
	int64_t cur = bc_aimd_rate(a, now_ms);
	int64_t ceil_milli;
	if (a->conf_milli)
		ceil_milli = a->conf_milli;
	else if (cur == 0)
		ceil_milli = bc_aimd_observed(a, now_ms);
	else
		ceil_milli = a->ceil_milli; /* still recovering from a cut */
	if (cur == 0)
		cur = ceil_milli;
	int64_t base = cur / BC_AIMD_CUT_DEN * BC_AIMD_CUT_NUM;
	int64_t fl = floor_of(ceil_milli);
	a->ceil_milli = ceil_milli;
	a->base_milli = base < fl ? fl : base;
	a->last_cut_ms = now_ms;
	a->resume_ms = resume_ms > now_ms ? resume_ms : now_ms;
	return 1;
}
