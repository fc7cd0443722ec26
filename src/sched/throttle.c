/* Pause state of one throttle scope (see include/bulkcall/sched/throttle.h).
 * Pure: time is a parameter. Must not depend on anything but libc. */
#include "bulkcall/sched/throttle.h"
#include "bulkcall/sched/ms.h"

void bc_throttle_init(struct bc_throttle *t)
{
	t->paused_until_ms = INT64_MIN;
	t->pause_start_ms = INT64_MIN;
	t->strikes = 0;
}

int64_t bc_throttle_cooldown(int64_t cooldown_ms, unsigned strikes)
{
	if (cooldown_ms <= 0)
		return 0;
	int64_t mult = 1;
	for (unsigned i = 1; i < strikes && mult < BC_THROTTLE_MAX_MULT; i++)
		mult *= 2;
	if (cooldown_ms > INT64_MAX / mult)
		return INT64_MAX;
	return cooldown_ms * mult;
}

static void extend(struct bc_throttle *t, int64_t until_ms)
{
	if (until_ms > t->paused_until_ms)
		t->paused_until_ms = until_ms;
}

int bc_throttle_signal(struct bc_throttle *t, int64_t now_ms, int64_t sent_ms,
		       int64_t retry_after_ms, int64_t cooldown_ms)
{
	if (sent_ms <= t->pause_start_ms) {
		/* In flight when the pause began: same episode. The server
		 * may still name a later time, which we honour. */
		if (retry_after_ms >= 0)
			extend(t, bc_ms_add(now_ms, retry_after_ms));
		return 0;
	}
	if (t->strikes < 64)
		t->strikes++;
	int64_t delay = retry_after_ms >= 0
				? retry_after_ms
				: bc_throttle_cooldown(cooldown_ms, t->strikes);
	extend(t, bc_ms_add(now_ms, delay));
	t->pause_start_ms = now_ms;
	return 1;
}

void bc_throttle_success(struct bc_throttle *t, int64_t sent_ms)
{
	if (sent_ms > t->pause_start_ms)
		t->strikes = 0;
}

int bc_throttle_paused(const struct bc_throttle *t, int64_t now_ms)
{
	return now_ms < t->paused_until_ms;
}
