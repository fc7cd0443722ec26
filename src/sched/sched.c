/* Admission control: the run's bucket at the AIMD rate, concurrency caps,
 * scope pauses and per-key limits behind one question (see
 * include/bulkcall/sched.h). Owns the key table. Pure: time is a parameter;
 * must not depend on the transport, the profiles or a clock. */
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/sched.h"

void bc_sched_config_default(struct bc_sched_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->concurrency = 100;
	cfg->cooldown_ms = BC_THROTTLE_COOLDOWN_MS;
}

static int is_account(const char *key)
{
	return key == NULL || strcmp(key, BC_SCHED_ACCOUNT) == 0;
}

/* The run's burst at an effective rate: the configured burst scaled like
 * the rate, so a cut also shrinks what can go out at once. */
static int64_t burst_at(const struct bc_sched *s, int64_t rate_milli)
{
	int64_t b;
	if (s->cfg.rate_milli > 0)
		b = s->burst * rate_milli / s->cfg.rate_milli;
	else
		b = bc_burst_default(rate_milli);
	return b < 1 ? 1 : b;
}

/* Brings the bucket to the effective rate at now. */
static void sync_rate(struct bc_sched *s, int64_t now_ms)
{
	int64_t rate = bc_aimd_rate(&s->aimd, now_ms);
	if (rate == s->bucket_rate_milli)
		return;
	if (rate == 0) {
		/* Recovered to unlimited: bypass the bucket. */
	} else if (s->bucket_rate_milli == 0) {
		/* Unlimited run after its first cut: start empty, so the cut
		 * rate holds from the first request on. */
		bc_bucket_init(&s->bucket, rate, burst_at(s, rate), now_ms);
		bc_bucket_drain(&s->bucket);
	} else {
		bc_bucket_set(&s->bucket, rate, burst_at(s, rate), now_ms);
	}
	s->bucket_rate_milli = rate;
}

int bc_sched_init(struct bc_sched *s, const struct bc_sched_config *cfg,
		  int64_t now_ms)
{
	memset(s, 0, sizeof *s);
	if (cfg->rate_milli < 0 || cfg->rate_milli > BC_RATE_MAX_MILLI ||
	    cfg->burst < 0 || cfg->burst > BC_BURST_MAX ||
	    cfg->key_rate_milli < 0 || cfg->key_rate_milli > BC_RATE_MAX_MILLI ||
	    cfg->key_burst < 0 || cfg->key_burst > BC_BURST_MAX ||
	    cfg->cooldown_ms < 0 || cfg->key_max > BC_KEYTAB_MAX)
		return BC_EINVAL;
	s->cfg = *cfg;
	s->burst = cfg->burst ? cfg->burst : bc_burst_default(cfg->rate_milli);
	s->bucket_rate_milli = cfg->rate_milli;
	bc_bucket_init(&s->bucket, cfg->rate_milli, s->burst, now_ms);
	if (cfg->start_empty)
		bc_bucket_drain(&s->bucket);
	bc_aimd_init(&s->aimd, cfg->rate_milli, now_ms);

	size_t key_max = cfg->key_max;
	if (key_max == 0) {
		key_max = (size_t)cfg->concurrency * 4;
		if (key_max < BC_SCHED_KEYS_MIN)
			key_max = BC_SCHED_KEYS_MIN;
		if (key_max > BC_KEYTAB_MAX)
			key_max = BC_KEYTAB_MAX;
	}
	s->cfg.key_max = key_max;
	int64_t key_burst = cfg->key_burst ? cfg->key_burst : 1;
	int err = bc_keytab_init(&s->keys, key_max, cfg->key_rate_milli,
				 key_burst);
	if (err)
		return err;
	err = bc_keytab_get(&s->keys, BC_SCHED_ACCOUNT, now_ms, &s->account);
	if (err) {
		bc_keytab_release(&s->keys);
		return err;
	}
	s->account->pinned = 1;
	return BC_OK;
}

void bc_sched_release(struct bc_sched *s)
{
	bc_keytab_release(&s->keys);
	s->account = NULL;
}

static enum bc_admit wait(int64_t *wait_until_ms, int64_t until_ms,
			  enum bc_admit why)
{
	*wait_until_ms = until_ms;
	return why;
}

enum bc_admit bc_sched_admit(struct bc_sched *s, const char *key,
			     int64_t now_ms, int64_t *wait_until_ms)
{
	sync_rate(s, now_ms);
	if (bc_throttle_paused(&s->account->throttle, now_ms))
		return wait(wait_until_ms, s->account->throttle.paused_until_ms,
			    BC_WAIT_PAUSED);

	struct bc_keyent *e = s->account;
	if (!is_account(key) &&
	    bc_keytab_get(&s->keys, key, now_ms, &e) != BC_OK)
		return wait(wait_until_ms,
			    bc_ms_add(now_ms, BC_SCHED_FULL_WAIT_MS),
			    BC_WAIT_FULL);
	if (bc_throttle_paused(&e->throttle, now_ms))
		return wait(wait_until_ms, e->throttle.paused_until_ms,
			    BC_WAIT_KEY_PAUSED);

	if (s->cfg.concurrency && s->inflight >= s->cfg.concurrency)
		return wait(wait_until_ms, INT64_MAX, BC_WAIT_BUSY);
	if (s->cfg.key_concurrency && e->inflight >= s->cfg.key_concurrency)
		return wait(wait_until_ms, INT64_MAX, BC_WAIT_KEY_BUSY);

	int64_t run_wait = s->bucket_rate_milli
				   ? bc_bucket_peek(&s->bucket, now_ms)
				   : 0;
	int64_t key_wait = bc_bucket_peek(&e->bucket, now_ms);
	if (run_wait > 0 || key_wait > 0) {
		/* Both tokens are needed: wait for the later one. */
		if (run_wait >= key_wait)
			return wait(wait_until_ms, bc_ms_add(now_ms, run_wait),
				    BC_WAIT_RATE);
		return wait(wait_until_ms, bc_ms_add(now_ms, key_wait),
			    BC_WAIT_KEY_RATE);
	}

	/* Both peeks said yes at this now, so both takes succeed. */
	if (s->bucket_rate_milli)
		bc_bucket_take(&s->bucket, now_ms);
	bc_bucket_take(&e->bucket, now_ms);
	s->inflight++;
	e->inflight++;
	s->admitted++;
	bc_aimd_note_dispatch(&s->aimd, now_ms);
	*wait_until_ms = now_ms;
	return BC_ADMIT;
}

void bc_sched_done(struct bc_sched *s, const char *key,
		   const struct bc_sched_outcome *o, int64_t now_ms)
{
	if (s->inflight)
		s->inflight--;
	struct bc_keyent *e = is_account(key) ? s->account
					      : bc_keytab_find(&s->keys, key);
	if (e && e->inflight)
		e->inflight--;

	switch (o->result) {
	case BC_SCHED_OK:
		bc_throttle_success(&s->account->throttle, o->sent_ms);
		if (e)
			bc_throttle_success(&e->throttle, o->sent_ms);
		break;
	case BC_SCHED_ERROR:
		break;
	case BC_SCHED_THROTTLED: {
		struct bc_keyent *scope = e;
		/* A key we cannot track (never admitted, table full) is
		 * paused as the account: sending less is the safe side. */
		if (o->account || !scope ||
		    (scope != s->account &&
		     bc_keytab_get(&s->keys, key, now_ms, &scope) != BC_OK))
			scope = s->account;
		bc_throttle_signal(&scope->throttle, now_ms, o->sent_ms,
				   o->retry_after_ms, s->cfg.cooldown_ms);
		/* The account pause stops everything, so recovery starts
		 * when it ends; a key pause leaves the others flowing at the
		 * cut rate, recovering from now. */
		int64_t resume = scope == s->account
					 ? scope->throttle.paused_until_ms
					 : now_ms;
		bc_aimd_cut(&s->aimd, now_ms, o->sent_ms, resume);
		sync_rate(s, now_ms);
		break;
	}
	}
}

int64_t bc_sched_paused_until(struct bc_sched *s, const char *key,
			      int64_t now_ms)
{
	int64_t until = s->account->throttle.paused_until_ms;
	if (!is_account(key)) {
		struct bc_keyent *e = bc_keytab_find(&s->keys, key);
		if (e && e->throttle.paused_until_ms > until)
			until = e->throttle.paused_until_ms;
	}
	return until > now_ms ? until : now_ms;
}

int64_t bc_sched_rate(struct bc_sched *s, int64_t now_ms)
{
	return bc_aimd_rate(&s->aimd, now_ms);
}

uint32_t bc_sched_inflight(const struct bc_sched *s)
{
	return s->inflight;
}

const char *bc_admit_name(enum bc_admit a)
{
	switch (a) {
	case BC_ADMIT:
		return "admit";
	case BC_WAIT_PAUSED:
		return "paused";
	case BC_WAIT_KEY_PAUSED:
		return "key-paused";
	case BC_WAIT_RATE:
		return "rate";
	case BC_WAIT_KEY_RATE:
		return "key-rate";
	case BC_WAIT_BUSY:
		return "busy";
	case BC_WAIT_KEY_BUSY:
		return "key-busy";
	case BC_WAIT_FULL:
		return "full";
	}
	return "?";
}
