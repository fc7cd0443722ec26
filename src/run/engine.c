/* bulkcall run: the engine. One thread, one loop: read rows into a bounded
 * pool of slots, ask the scheduler whether each may go, hand it to the
 * transport, classify the answer, and write every row's final record.
 * Owns the slots; the scheduler (src/sched) owns the limits, the transport
 * (src/net) owns the sockets, the output (src/out) owns the files and the
 * journal. Each row is a small state machine and every change goes through
 * slot_set(). Durability (commits, the "sent" barrier, stops that resume
 * can finish): docs/durability.md. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bulkcall/clock.h"
#include "bulkcall/error.h"
#include "bulkcall/journal.h"
#include "bulkcall/progress.h"
#include "bulkcall/sched.h"
#include "bulkcall/timefmt.h"
#include "bulkcall/transport.h"
#include "run/job_setup.h"

enum slot_state {
	SLOT_FREE,
	SLOT_READY,     /* waiting for the scheduler's yes */
	SLOT_HELD,      /* in the heap: not_before / delay, backoff, throttle */
	SLOT_IN_FLIGHT, /* handed to the transport */
	SLOT_SYNCING,   /* admitted; waits for its "sent" record to be durable */
};

static const char *const state_names[] = { "free", "ready", "held",
					   "in_flight", "syncing" };

struct slot {
	struct bc_row row;
	struct bc_request req;
	enum slot_state state;
	unsigned attempts;   /* counted for --max-attempts (throttles excluded) */
	int64_t first_ms;    /* first attempt (monotonic), for --max-retry-time */
	int64_t sent_ms;
	const char *key;     /* value of the --key column, NULL = account */
	char error[512];     /* last error, kept for a row that gives up */
	long status;
	int64_t latency_ms;
	unsigned token_gen;  /* minted token the request carried */
	/* Not idempotent, and an attempt may have reached the provider
	 * (--retry-unknown sent it again): if it does not end ok or failed
	 * it is unknown, never retry, whose file is fed back as is. */
	int maybe_sent;
};

/* A minted bearer token (OAuth client credentials), shared by every
 * transfer: minted before the first row, again before it expires, and
 * once after a 401 answered to the current token. */
enum token_state { TOKEN_NONE, TOKEN_MINTING, TOKEN_VALID };

/* Transfer tag of the token request: no slot has it. */
#define TOKEN_TAG UINT64_MAX
/* Mint again this long before the token expires. */
#define TOKEN_EARLY_MS 300000

struct token {
	enum token_state state;
	unsigned gen;           /* successful mints so far */
	unsigned remint_for_gen; /* a 401 already re-minted this generation */
	int pending_from_401;   /* the mint under way answers a 401 */
	int from_401;           /* the current token answers a 401 */
	int used_ok;            /* the current token has had a success */
	int64_t expires_ms;
	int64_t retry_at_ms;    /* next mint attempt after a failure */
	unsigned failures;
	struct bc_request req;
};

/* A commit (output files durable, then a journal record naming the rows
 * finished since the last one) at least this often, and after this many
 * rows: a crash redoes at most one batch. Never per row. */
#define COMMIT_MS 50
#define COMMIT_ROWS 1000
/* A non-idempotent run fdatasyncs the journal before each dispatch pass
 * anyway; a commit rides along when the last one is this old, so that a
 * crash leaves few finished rows uncommitted (they would be unknown).
 * Measured: at 5 ms the extra output-file syncs cost more than they
 * saved; at the commit interval they replace a commit's own sync. */
#define COMMIT_WITH_SENT_MS COMMIT_MS
/* There a commit due after COMMIT_ROWS rows waits for the next dispatch
 * pass too (its journal record then needs no sync of its own, and the
 * loop does not stand still for one); only twice as many rows force a
 * commit of their own (no dispatch for a while: throttled, or the input
 * is done and the last rows are in flight). */
#define COMMIT_ROWS_UNSENT (2 * COMMIT_ROWS)

/* Why dispatch stopped before the input ran out. */
enum stop_reason {
	STOP_NONE,
	STOP_SIGNAL,
	STOP_FATAL,
	STOP_HALT_FAIL,
	STOP_MAX_RUNTIME,
	STOP_OUTPUT,
	STOP_INPUT,
};

struct engine {
	const struct bc_job_options *opt;
	struct bc_job job;
	struct bc_sched sched;
	struct bc_backoff backoff;
	struct bc_rng rng;
	struct bc_halt halt;
	struct bc_heap held;
	struct bc_transport *net;
	struct bc_progress progress;
	struct bc_progress_state ps;
	struct token token;

	struct slot *slots;
	size_t nslots;
	size_t *free_list;
	size_t nfree;
	size_t *ready; /* FIFO of slot indices, dispatch order */
	size_t nready;
	size_t ready_target;

	long key_col;          /* -1: account-wide */
	int input_done;
	enum stop_reason stop;
	char stop_detail[768];
	int exit_code_hint;
	int64_t start_ms, deadline_ms;
	int have_window;
	struct bc_window window;
	int64_t window_said_ms; /* last "window opens at" line; 0: none */
	uint64_t rows_read;

	const struct bc_resume *rs; /* NULL: a new job */
	struct bc_journal *jr;
	int barrier;   /* not idempotent: "sent" is durable before the send */
	int stopping;  /* writing the rows a stop left unsent (not final) */
	int64_t last_commit_ms;
	size_t *batch; /* rows admitted in one dispatch pass */
	uint64_t *batch_rows;
	/* Admitted rows whose "sent" record is being synced by the journal's
	 * thread, in dispatch order (a ring): they go out once their ticket
	 * is durable, while the loop goes on reading answers. */
	struct parked {
		size_t slot;
		uint64_t ticket;
	} *parked;
	size_t parked_head, nparked;
	/* How far admission may run ahead of --concurrency (parked_limit):
	 * answers counted between the last two syncs seen to finish. */
	uint64_t answers, answers_at_sync, syncs_seen;
	size_t answers_per_sync;
	size_t parked_cap; /* parked_extra(), worked out once */
	int sync_on_loop;  /* bench/run's "before": commits sync on the loop */
	/* The run's rate once more where parked rows leave. The scheduler
	 * takes a token when it admits a row, and rows parked for a sync go
	 * out together once it is done: after a stalled sync that would be
	 * a clump of every row admitted meanwhile. So release_parked takes a
	 * token too, from this bucket at the scheduler's rate and burst, and
	 * no window of sends holds more than rate x window + burst. */
	struct bc_bucket send_bucket;
	int64_t send_wait_ms; /* parked rows wait for a send token until then */
};

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

static int64_t now_ms(void)
{
	return bc_clock_mono_us() / 1000;
}

static void slot_set(struct engine *e, struct slot *s, enum slot_state to)
{
	if (e->opt->verbose >= 2)
		fprintf(stderr, "bulkcall: row %llu (line %llu): %s -> %s\n",
			(unsigned long long)s->row.index,
			(unsigned long long)s->row.line, state_names[s->state],
			state_names[to]);
	s->state = to;
}

static size_t slot_index(const struct engine *e, const struct slot *s)
{
	return (size_t)(s - e->slots);
}

/* A write to the output folder failed: no more writing (the journal stays
 * at its last commit, which resume goes back to), no more dispatching. */
static void output_failed(struct engine *e, const char *err)
{
	if (e->stop == STOP_OUTPUT)
		return;
	fprintf(stderr, "bulkcall: %s\n", err);
	e->stop = STOP_OUTPUT;
	snprintf(e->stop_detail, sizeof e->stop_detail, "%s", err);
}

/* Output files durable first, then the journal record that says so. A
 * stopped commit ("R") covers rows written as retry because the run
 * stopped: resume cuts them off again and sends those rows. */
static void commit(struct engine *e, int stopped)
{
	e->last_commit_ms = now_ms();
	if (e->stop == STOP_OUTPUT)
		return;
	uint64_t len[BC_OUT_FILES];
	char err[512];
	if (bc_output_commit(e->job.output, len, err, sizeof err) != BC_OK ||
	    bc_journal_commit(e->jr, stopped, len, err, sizeof err) != BC_OK)
		output_failed(e, err);
}

/* Writes the row's final record and gives the slot back. */
static void finish(struct engine *e, struct slot *s, enum bc_outcome outcome,
		   const char *error)
{
	struct bc_result r = {
		.row = &s->row,
		.outcome = outcome,
		.http_status = s->status,
		.error = error,
		.attempts = s->attempts,
		.latency_ms = s->latency_ms,
		.finished_at_ms = bc_clock_unix_ms(),
	};
	if (e->opt->verbose)
		fprintf(stderr, "bulkcall: row %llu (line %llu): %s%s%s\n",
			(unsigned long long)s->row.index,
			(unsigned long long)s->row.line,
			bc_outcome_name(outcome), error && *error ? ": " : "",
			error ? error : "");
	char err[512];
	if (e->stop != STOP_OUTPUT) {
		if (bc_output_write(e->job.output, &r, err, sizeof err) != BC_OK) {
			output_failed(e, err);
		} else if (!e->stopping) {
			if (bc_journal_final(e->jr, s->row.index) != BC_OK)
				output_failed(e, "out of memory for the journal");
			else if (bc_journal_pending(e->jr) >=
				 (e->barrier ? COMMIT_ROWS_UNSENT : COMMIT_ROWS))
				commit(e, 0);
		}
	}
	e->ps.done++;
	if (outcome != BC_OUTCOME_OK)
		e->ps.not_ok++;
	if (outcome == BC_OUTCOME_OK || outcome == BC_OUTCOME_FAILED)
		bc_halt_record(&e->halt, outcome == BC_OUTCOME_FAILED);
	slot_set(e, s, SLOT_FREE);
	e->free_list[e->nfree++] = slot_index(e, s);
}

static void hold(struct engine *e, struct slot *s, int64_t due_ms)
{
	/* The heap has room for every slot, so this cannot fail. */
	bc_heap_push(&e->held, due_ms, s);
	slot_set(e, s, SLOT_HELD);
}

static void make_ready(struct engine *e, struct slot *s)
{
	e->ready[e->nready++] = slot_index(e, s);
	slot_set(e, s, SLOT_READY);
}

/* A row back from the transport goes to the queue again: its attempt did
 * not act (no answer reached the server, 5xx, throttle, 401), so resume
 * may send it again after a crash. Journalled for non-idempotent rows,
 * unless an earlier attempt may have acted: then the journal keeps
 * saying "may have been sent". */
static void requeued(struct engine *e, struct slot *s)
{
	if (e->barrier && !s->maybe_sent && e->stop != STOP_OUTPUT &&
	    bc_journal_not_acted(e->jr, s->row.index) != BC_OK)
		output_failed(e, "out of memory for the journal");
}

/* not_before (RFC 3339) or, for profiles whose API has no delay, `delay`
 * minutes: when the row may go, or 0 for now. -1 = bad value (rejected). */
static int64_t row_due(struct engine *e, struct slot *s, char *err,
		       size_t errlen)
{
	const struct bc_columns *cols = bc_reader_columns(e->job.reader);
	int64_t due = 0;
	const char *nb = bc_row_get(&s->row, bc_columns_find(cols, "not_before"),
				    NULL);
	if (nb && *nb) {
		int64_t at_unix;
		if (bc_rfc3339_parse(nb, &at_unix) != BC_OK) {
			bc_reject(err, errlen, &s->row, "not_before",
				  "'%.40s' is not an RFC 3339 time "
				  "(e.g. 2026-11-23T18:00:00Z)",
				  nb);
			return -1;
		}
		int64_t wait = at_unix - bc_clock_unix_ms();
		if (wait > 0)
			due = now_ms() + wait;
	}
	if (!e->job.profile->api_takes_delay) {
		const char *d = bc_row_get(&s->row, bc_columns_find(cols, "delay"),
					   NULL);
		long long minutes;
		if (d && *d) {
			if (bc_check_int(&s->row, "delay", d, 0, 525600,
					 &minutes, err, errlen))
				return -1;
			int64_t at = now_ms() + minutes * 60000;
			if (at > due)
				due = at;
		}
	}
	return due;
}

/* Reads, validates and builds one row into a free slot. Returns 1 when a
 * row was taken in, 0 at end of input, -1 on a fatal input error. */
static int intake_one(struct engine *e)
{
	size_t idx = e->free_list[--e->nfree];
	struct slot *s = &e->slots[idx];
	char err[512];
	int r = bc_reader_next(e->job.reader, &s->row, err, sizeof err);
	if (r <= 0) {
		e->free_list[e->nfree++] = idx;
		if (r < 0) {
			fprintf(stderr, "bulkcall: %s\n", err);
			snprintf(e->stop_detail, sizeof e->stop_detail, "%s", err);
			e->stop = STOP_INPUT;
		}
		e->input_done = 1;
		e->ps.input_done = 1; /* the total is exact from now on */
		return r < 0 ? -1 : 0;
	}
	e->rows_read++;
	e->ps.rows_read = e->rows_read;
	s->attempts = 0;
	s->first_ms = 0;
	s->status = 0;
	s->latency_ms = -1;
	s->error[0] = '\0';
	s->key = NULL;
	s->maybe_sent = 0;
	if (e->rs && bc_rowset_has(&e->rs->js.final, s->row.index)) {
		/* Final before the crash or stop: its record is kept. */
		e->free_list[e->nfree++] = idx;
		e->ps.done++;
		e->ps.skipped++;
		return 1;
	}
	if (e->rs && e->barrier && !e->opt->retry_unknown &&
	    bc_rowset_has(&e->rs->js.maybe_sent, s->row.index)) {
		/* Its request may have reached the provider: never twice. */
		s->attempts = 1;
		finish(e, s, BC_OUTCOME_UNKNOWN,
		       "in flight when the run stopped: may have been sent");
		return 1;
	}
	/* --retry-unknown sends it again, but it may have been sent. */
	s->maybe_sent = e->rs && e->barrier &&
			bc_rowset_has(&e->rs->js.maybe_sent, s->row.index);
	if (s->row.error[0]) {
		finish(e, s, BC_OUTCOME_REJECTED, s->row.error);
		return 1;
	}
	bc_request_reset(&s->req);
	int b = e->job.profile->build(&e->job.ctx, &s->row, &s->req, s->error,
				      sizeof s->error);
	if (b != BC_OK) {
		if (b != BC_EINVAL)
			snprintf(s->error, sizeof s->error,
				 "line %llu: cannot build the request: %s",
				 (unsigned long long)s->row.line, bc_strerror(b));
		finish(e, s, BC_OUTCOME_REJECTED, s->error);
		return 1;
	}
	int64_t due = row_due(e, s, s->error, sizeof s->error);
	if (due < 0) {
		finish(e, s, BC_OUTCOME_REJECTED, s->error);
		return 1;
	}
	if (e->key_col >= 0) {
		const char *k = bc_row_get(&s->row, e->key_col, NULL);
		s->key = k && *k ? k : NULL;
	}
	if (due > now_ms())
		hold(e, s, due);
	else
		make_ready(e, s);
	return 1;
}

/* A row that will not be sent again by this run: retry, whose file is
 * "feed it back"; or unknown when an attempt may have reached the
 * provider (maybe_sent), since feeding it back could call a person
 * twice. */
static void finish_not_done(struct engine *e, struct slot *s,
			    const char *why)
{
	if (!s->maybe_sent) {
		finish(e, s, BC_OUTCOME_RETRY, why);
		return;
	}
	char msg[700];
	snprintf(msg, sizeof msg, "may have been sent (--retry-unknown): %.600s",
		 why);
	finish(e, s, BC_OUTCOME_UNKNOWN, msg);
}

/* After a stop, rows that were not sent still get a record: the rest of
 * the input is read, validated and written as retry (unknown for a row
 * an earlier attempt may have sent). The journal does not make them final
 * (e->stopping): resume sends them, or finds them maybe sent. */
static void drain_unsent(struct engine *e, const char *why)
{
	struct bc_heap_item item;
	while (bc_heap_pop(&e->held, &item) == 1) {
		struct slot *s = item.data;
		finish_not_done(e, s, s->error[0] ? s->error : why);
	}
	for (size_t i = 0; i < e->nready; i++) {
		struct slot *s = &e->slots[e->ready[i]];
		finish_not_done(e, s, s->error[0] ? s->error : why);
	}
	e->nready = 0;
	while (!e->input_done && e->stop != STOP_OUTPUT && e->nfree) {
		if (intake_one(e) <= 0)
			break;
		/* intake_one leaves a valid row ready or held: not sent. */
		while (e->nready) {
			struct slot *s = &e->slots[e->ready[--e->nready]];
			finish_not_done(e, s, why);
		}
		while (bc_heap_pop(&e->held, &item) == 1)
			finish_not_done(e, item.data, why);
	}
}

static void stop_dispatch(struct engine *e, enum stop_reason why,
			  const char *detail)
{
	if (e->stop != STOP_NONE)
		return;
	e->stop = why;
	snprintf(e->stop_detail, sizeof e->stop_detail, "%s", detail);
	if (!e->opt->quiet)
		fprintf(stderr, "\nbulkcall: stopping: %s\n", detail);
}

static void token_mint(struct engine *e, int64_t now)
{
	struct token *t = &e->token;
	char err[512];
	bc_request_reset(&t->req);
	int r = e->job.profile->auth->token_request(&e->job.ctx, &t->req, err,
						    sizeof err);
	if (r == BC_OK)
		r = bc_transport_submit(e->net, TOKEN_TAG, t->req.method,
					bc_buf_str(&t->req.url), t->req.body.ptr,
					t->req.body.len, t->req.content_type);
	if (r != BC_OK) {
		char why[600];
		snprintf(why, sizeof why, "cannot request a token: %s", err);
		stop_dispatch(e, STOP_FATAL, why);
		return;
	}
	t->state = TOKEN_MINTING;
	if (e->opt->verbose)
		fprintf(stderr, "bulkcall: minting an access token\n");
	(void)now;
}

/* Rows may go when a token is valid (or none is needed). */
static int token_ready(struct engine *e, int64_t now)
{
	struct token *t = &e->token;
	if (!e->job.ctx.mint_token)
		return 1;
	int stale = t->state == TOKEN_VALID && now >= t->expires_ms - TOKEN_EARLY_MS;
	if ((t->state == TOKEN_NONE || stale) && now >= t->retry_at_ms &&
	    e->stop == STOP_NONE)
		token_mint(e, now);
	/* While a fresh token is minted the old one still works. */
	return t->gen > 0 && (t->state == TOKEN_VALID ||
			      (t->state == TOKEN_MINTING && now < t->expires_ms));
}

static void token_done(struct engine *e, const struct bc_transfer_done *d)
{
	struct token *t = &e->token;
	int64_t now = now_ms();
	char err[512] = "";
	char *auth = NULL;
	long long expires_in = 0;
	int r = BC_EINVAL;
	if (d->result == BC_NET_OK) {
		struct bc_response resp = { d->status, d->body, d->body_len,
					    d->content_type };
		r = e->job.profile->auth->token_response(
			&e->job.ctx, &resp, &auth, &expires_in, err, sizeof err);
	} else {
		snprintf(err, sizeof err, "%s", d->error);
	}
	if (r == BC_OK)
		r = bc_transport_set_header(e->net, "Authorization", auth);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (r == BC_OK) {
		t->state = TOKEN_VALID;
		t->gen++;
		t->failures = 0;
		t->from_401 = t->pending_from_401;
		t->pending_from_401 = 0;
		t->used_ok = 0;
		t->expires_ms = now + (expires_in > 0 ? expires_in * 1000 : 3600000);
		/* A token shorter-lived than the early margin: renew at 3/4. */
		if (expires_in > 0 && expires_in * 1000 <= 2 * TOKEN_EARLY_MS)
			t->expires_ms = now + expires_in * 750 + TOKEN_EARLY_MS;
		if (e->opt->verbose)
			fprintf(stderr, "bulkcall: access token minted (valid %lld s)\n",
				expires_in);
		return;
	}
	if (r == BC_EFATAL) {
		char why[600];
		snprintf(why, sizeof why, "token refused: %s", err);
		stop_dispatch(e, STOP_FATAL, why);
		t->state = TOKEN_NONE;
		return;
	}
	t->failures++;
	t->state = t->gen ? TOKEN_VALID : TOKEN_NONE;
	if (t->failures >= (unsigned)e->opt->max_attempts && !t->gen) {
		char why[600];
		snprintf(why, sizeof why, "cannot mint a token after %u tries: %s",
			 t->failures, err);
		stop_dispatch(e, STOP_FATAL, why);
		return;
	}
	t->retry_at_ms = now + bc_backoff_delay(&e->backoff, t->failures, &e->rng);
}

/* A 401 on a minted token. The row is sent again, without spending an
 * attempt, when its token is stale (a newer one exists), when a new one is
 * being minted already, or as the first 401 on the current token (which
 * starts that mint: tokens can be revoked before they expire). Fatal only
 * when a token minted because of a 401 is refused before any success. */
static int token_recover(struct engine *e, struct slot *s, int64_t now)
{
	struct token *t = &e->token;
	if (!e->job.ctx.mint_token)
		return 0;
	if (s->token_gen == t->gen && t->remint_for_gen != t->gen) {
		if (t->from_401 && !t->used_ok)
			return 0;
		t->remint_for_gen = t->gen;
		t->pending_from_401 = 1;
		t->state = TOKEN_NONE;
		t->expires_ms = now; /* stop using it */
		t->retry_at_ms = now;
	}
	s->attempts--;
	requeued(e, s);
	make_ready(e, s);
	return 1;
}

/* "fatal API answer (HTTP 401): why". A profile's message may say the
 * status already ("HTTP 401", or a provider's "HTTP 401: Unauthorized"):
 * it is said once. */
static void fatal_reason(char *out, size_t len, long status, const char *msg)
{
	char http[32];
	int n = snprintf(http, sizeof http, "HTTP %ld", status);
	if (n > 0 && strncmp(msg, http, (size_t)n) == 0) {
		if (msg[n] == '\0')
			msg += n;
		else if (msg[n] == ':' && msg[n + 1] == ' ')
			msg += n + 2;
	}
	snprintf(out, len, "fatal API answer (HTTP %ld)%s%s", status,
		 *msg ? ": " : "", msg);
}

/* A transient failure: back off and try again, or give up to retry. */
static void retry_later(struct engine *e, struct slot *s, int64_t now)
{
	int64_t at;
	enum bc_retry_verdict v = bc_retry_next(&e->backoff, s->attempts,
						s->first_ms, now, &e->rng, &at);
	if (v != BC_RETRY_AT) {
		char why[600];
		snprintf(why, sizeof why, "%s after %u attempts: %s",
			 v == BC_RETRY_NO_ATTEMPTS ? "gave up" : "out of retry time",
			 s->attempts, s->error);
		finish_not_done(e, s, why);
		return;
	}
	e->ps.retries++;
	hold(e, s, at);
}

/* retry_later for an answer that says the provider did not act. */
static void retry_not_acted(struct engine *e, struct slot *s, int64_t now)
{
	requeued(e, s);
	retry_later(e, s, now);
}

static void handle_done(struct engine *e, const struct bc_transfer_done *d)
{
	if (d->tag == TOKEN_TAG) {
		token_done(e, d);
		return;
	}
	struct slot *s = &e->slots[d->tag];
	int64_t now = now_ms();
	e->answers++;
	s->status = d->status;
	s->latency_ms = d->latency_us / 1000;
	struct bc_sched_outcome so = { .result = BC_SCHED_ERROR,
				       .sent_ms = s->sent_ms,
				       .retry_after_ms = -1 };
	const struct bc_profile *p = e->job.profile;
	enum bc_verdict v;
	switch (d->result) {
	case BC_NET_OK: {
		struct bc_response resp = { d->status, d->body, d->body_len,
					    d->content_type };
		v = p->classify(&e->job.ctx, &resp, s->error, sizeof s->error);
		break;
	}
	case BC_NET_NOT_SENT:
		snprintf(s->error, sizeof s->error, "%s", d->error);
		v = BC_VERDICT_RETRY;
		break;
	case BC_NET_MAYBE_SENT:
		snprintf(s->error, sizeof s->error, "%s", d->error);
		/* e->barrier, not the profile: a resumed job keeps the
		 * idempotency it was started with (setup()). */
		if (e->barrier && !e->opt->retry_unknown) {
			bc_sched_done(&e->sched, s->key, &so, now);
			finish(e, s, BC_OUTCOME_UNKNOWN, s->error);
			return;
		}
		/* --retry-unknown: sent again, but it may have acted. */
		s->maybe_sent |= e->barrier;
		v = BC_VERDICT_RETRY;
		break;
	case BC_NET_TOO_BIG:
	case BC_NET_LOCAL:
	default:
		snprintf(s->error, sizeof s->error, "%s", d->error);
		v = BC_VERDICT_FAILED;
		break;
	}
	switch (v) {
	case BC_VERDICT_OK:
		if (s->token_gen == e->token.gen)
			e->token.used_ok = 1;
		so.result = BC_SCHED_OK;
		bc_sched_done(&e->sched, s->key, &so, now);
		finish(e, s, BC_OUTCOME_OK, NULL);
		return;
	case BC_VERDICT_FAILED:
		so.result = BC_SCHED_OK;
		bc_sched_done(&e->sched, s->key, &so, now);
		finish(e, s, BC_OUTCOME_FAILED, s->error);
		if (bc_halt_tripped(&e->halt)) {
			char why[128];
			snprintf(why, sizeof why,
				 "--halt-fail: more than %g%% of the last %d "
				 "finished rows failed",
				 e->opt->halt_fail_pct, BC_HALT_WINDOW);
			stop_dispatch(e, STOP_HALT_FAIL, why);
		}
		return;
	case BC_VERDICT_THROTTLE: {
		so.result = BC_SCHED_THROTTLED;
		int64_t ra;
		if (d->retry_after &&
		    bc_retry_after_parse(d->retry_after, bc_clock_unix_ms(),
					 &ra) == BC_OK)
			so.retry_after_ms = ra;
		so.account = s->key == NULL;
		bc_sched_done(&e->sched, s->key, &so, now);
		e->ps.throttled++;
		/* Not an attempt: the provider did not act on it. */
		s->attempts--;
		int64_t at = bc_sched_paused_until(&e->sched, s->key, now);
		if (!bc_retry_in_time(&e->backoff, s->first_ms, at)) {
			char why[600];
			snprintf(why, sizeof why,
				 "throttled past --max-retry-time: %s", s->error);
			finish_not_done(e, s, why);
			return;
		}
		requeued(e, s);
		hold(e, s, at > now ? at : now);
		return;
	}
	case BC_VERDICT_RETRY:
		bc_sched_done(&e->sched, s->key, &so, now);
		/* A maybe-sent answer retried under --retry-unknown may have
		 * acted: no "not acted" record for it. */
		if (d->result == BC_NET_MAYBE_SENT)
			retry_later(e, s, now);
		else
			retry_not_acted(e, s, now);
		return;
	case BC_VERDICT_FATAL: {
		bc_sched_done(&e->sched, s->key, &so, now);
		if (d->status == 401 && token_recover(e, s, now))
			return;
		char why[600];
		fatal_reason(why, sizeof why, d->status, s->error);
		/* The provider refused to act: the row is safe to send again
		 * once the cause (credentials) is fixed. It waits with the
		 * other unsent rows and is written as retry by the stop, so
		 * resume sends it. */
		stop_dispatch(e, STOP_FATAL, why);
		snprintf(s->error, sizeof s->error, "%.500s", why);
		requeued(e, s);
		make_ready(e, s);
		return;
	}
	}
}

/* Is it outside --window now? Then *open_unix_ms is when it opens and
 * *reopen_mono the same on the engine's clock. Cheap on every pass: the
 * window caches its next change. */
static int window_closed(struct engine *e, int64_t now, int64_t *reopen_mono,
			 int64_t *open_unix_ms)
{
	if (!e->have_window)
		return 0;
	int64_t unix_now = bc_clock_unix_ms();
	if (bc_window_inside(&e->window, unix_now, open_unix_ms)) {
		e->window_said_ms = 0; /* the next wait says so again */
		return 0;
	}
	*reopen_mono = now + (*open_unix_ms - unix_now);
	return 1;
}

/* "at 2026-03-02 09:00 America/New_York (in 13h 05m)": the window's
 * opening in its own zone's local time. */
static void window_when(const struct engine *e, int64_t open_unix_ms,
			int64_t wait_ms, char *out, size_t len)
{
	char local[32];
	bc_window_local_time(&e->window, open_unix_ms, local, sizeof local);
	long long s = (long long)((wait_ms + 999) / 1000);
	char in[32];
	long long m = (s + 59) / 60;
	if (s >= 3600)
		snprintf(in, sizeof in, "%lldh %02lldm", m / 60, m % 60);
	else if (s >= 60)
		snprintf(in, sizeof in, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(in, sizeof in, "%llds", s);
	snprintf(out, len, "at %s %s (in %s)", local,
		 e->window.tz[0] ? e->window.tz : "local time", in);
}

/* Waiting outside the window: a line saying when it opens, then again at
 * most every WINDOW_SAY_MS, so a log shows why the run sends nothing. */
#define WINDOW_SAY_MS (10 * 60 * 1000)

static void window_say_wait(struct engine *e, int64_t now,
			    int64_t open_unix_ms, int64_t reopen_mono)
{
	if (e->opt->quiet ||
	    (e->window_said_ms && now - e->window_said_ms < WINDOW_SAY_MS))
		return;
	e->window_said_ms = now ? now : 1;
	char when[160];
	window_when(e, open_unix_ms, reopen_mono - now, when, sizeof when);
	fprintf(stderr, "%sbulkcall: outside --window %s: waiting; it opens %s\n",
		e->progress.enabled && e->progress.live ? "\n" : "",
		e->opt->window, when);
}

/* bench/run's "before" figures: BULKCALL_BENCH_BEFORE names optimisations
 * to leave out (comma-separated), so that before and after are measured in
 * one run with one binary. Not for production use. */
static int bench_before(const char *what)
{
	const char *v = getenv("BULKCALL_BENCH_BEFORE");
	size_t n = strlen(what);
	for (const char *p = v; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !memcmp(p, what, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* At most how many rows may wait parked for the barrier's sync on top of
 * --concurrency (the scheduler's bound; parked_limit is the working one). */
static size_t parked_extra(const struct engine *e,
			   const struct bc_job_options *o)
{
	if (!e->barrier || bench_before("group-commit"))
		return 0;
	size_t two = 2 * (size_t)o->concurrency;
	return two < 1024 ? two : 1024;
}

/* Hands one admitted row to the transport. */
static void submit(struct engine *e, size_t idx, int64_t now)
{
	struct slot *s = &e->slots[idx];
	int r = bc_transport_submit(e->net, idx, s->req.method,
				    bc_buf_str(&s->req.url), s->req.body.ptr,
				    s->req.body.len, s->req.content_type);
	if (r != BC_OK) {
		struct bc_sched_outcome so = { .result = BC_SCHED_ERROR,
					       .sent_ms = now,
					       .retry_after_ms = -1 };
		bc_sched_done(&e->sched, s->key, &so, now);
		snprintf(s->error, sizeof s->error,
			 "request refused locally: %s", bc_strerror(r));
		finish(e, s, BC_OUTCOME_FAILED, s->error);
		return;
	}
	s->attempts++;
	s->sent_ms = now;
	s->token_gen = e->token.gen;
	if (!s->first_ms)
		s->first_ms = now;
	slot_set(e, s, SLOT_IN_FLIGHT);
}

/* An admitted row goes back to the queue without being sent. */
static void unsend(struct engine *e, size_t idx, int64_t now)
{
	struct bc_sched_outcome so = { .result = BC_SCHED_ERROR,
				       .sent_ms = now,
				       .retry_after_ms = -1 };
	bc_sched_done(&e->sched, e->slots[idx].key, &so, now);
	make_ready(e, &e->slots[idx]);
}

/* Rows admitted (in flight or parked) at most: --concurrency, plus twice
 * the answers that came in between the last two syncs. Parked rows only
 * go out at sync boundaries, so that many must wait durable to refill the
 * transport between two syncs; against a fast server that is most of
 * --concurrency again (at 100, 100 in flight on average instead of 92),
 * against a slow one a few rows. Fewer parked rows, fewer rows that a
 * crash leaves unknown although they were never sent. */
#define PARKED_SLACK 16

static size_t parked_limit(const struct engine *e)
{
	size_t extra = 2 * e->answers_per_sync + PARKED_SLACK;
	size_t cap = e->parked_cap;
	return (size_t)e->opt->concurrency + (extra < cap ? extra : cap);
}

/* After each sync of the journal's thread: the answers since the last. */
static void count_syncs(struct engine *e)
{
	uint64_t n = bc_journal_syncs(e->jr);
	if (n == e->syncs_seen)
		return;
	e->syncs_seen = n;
	/* A slowly decaying maximum: answers come in bursts. */
	size_t now = (size_t)(e->answers - e->answers_at_sync);
	size_t decayed = e->answers_per_sync - e->answers_per_sync / 8;
	e->answers_per_sync = now > decayed ? now : decayed;
	e->answers_at_sync = e->answers;
}

/* Hands ready rows to the transport while the scheduler says yes. Returns
 * the earliest time something refused may be asked again. Rows admitted in
 * one pass go out together: for a non-idempotent profile, once one journal
 * record naming them all is durable (one fdatasync per pass, on the
 * journal's thread: they wait parked, release_parked sends them). */
static int64_t dispatch(struct engine *e, int64_t now)
{
	int64_t next = INT64_MAX;
	size_t keep = 0, skipped = 0, nbatch = 0, i;
	if (e->barrier)
		count_syncs(e);
	size_t limit = e->barrier ? parked_limit(e) : SIZE_MAX;
	size_t busy = bc_transport_in_flight(e->net) + e->nparked;
	for (i = 0; i < e->nready; i++) {
		struct slot *s = &e->slots[e->ready[i]];
		if (busy + nbatch >= limit) {
			/* like BC_WAIT_BUSY: an answer or a sync frees room */
			e->ready[keep++] = e->ready[i];
			break;
		}
		int64_t until = INT64_MAX;
		enum bc_admit a = bc_sched_admit(&e->sched, s->key, now, &until);
		if (a == BC_ADMIT) {
			e->batch_rows[nbatch] = s->row.index;
			e->batch[nbatch++] = e->ready[i];
			continue;
		}
		if (until < next)
			next = until;
		e->ready[keep++] = e->ready[i];
		/* A key-scoped refusal blocks only that key: look further. A
		 * run-wide one blocks everyone behind it. */
		if (a != BC_WAIT_KEY_PAUSED && a != BC_WAIT_KEY_RATE &&
		    a != BC_WAIT_KEY_BUSY)
			break;
		if (++skipped > 4096)
			break;
	}
	/* The row that stopped the scan is kept above; the rest follow. */
	for (i = i < e->nready ? i + 1 : i; i < e->nready; i++)
		e->ready[keep++] = e->ready[i];
	e->nready = keep;
	if (!nbatch)
		return next;
	char err[512];
	int r = BC_OK;
	uint64_t ticket = 0;
	if (e->barrier) {
		/* The barrier's fdatasync also commits the rows finished since
		 * the last commit when one is due: after a crash they stay ok
		 * instead of becoming unknown. */
		uint64_t len[BC_OUT_FILES];
		int fd[BC_OUT_FILES];
		const char *path[BC_OUT_FILES];
		size_t nfiles = 0;
		size_t pending = bc_journal_pending(e->jr);
		int with_commit =
			pending &&
			(now - e->last_commit_ms >= COMMIT_WITH_SENT_MS ||
			 pending >= COMMIT_ROWS);
		if (with_commit && e->sync_on_loop)
			r = bc_output_commit(e->job.output, len, err,
					     sizeof err);
		else if (with_commit)
			/* The sync thread makes the files durable, with the
			 * journal; the loop does not wait on the disk. */
			r = bc_output_commit_deferred(e->job.output, len, fd,
						      path, &nfiles, err,
						      sizeof err);
		if (with_commit)
			e->last_commit_ms = now;
		if (!r)
			r = bc_journal_sent_async(e->jr, with_commit, len, fd,
						  path, nfiles, e->batch_rows,
						  nbatch, &ticket, err,
						  sizeof err);
	}
	if (r != BC_OK) {
		/* Not durably "sent": not sent. Back to the queue, unsent. */
		output_failed(e, err);
		for (i = 0; i < nbatch; i++)
			unsend(e, e->batch[i], now);
		return next;
	}
	for (i = 0; i < nbatch; i++) {
		if (!e->barrier) {
			submit(e, e->batch[i], now);
			continue;
		}
		struct parked *pk =
			&e->parked[(e->parked_head + e->nparked++) % e->nslots];
		pk->slot = e->batch[i];
		pk->ticket = ticket;
		slot_set(e, &e->slots[e->batch[i]], SLOT_SYNCING);
	}
	return next;
}

/* Takes a send token for a parked row (see send_bucket); 0: none yet,
 * send_wait_ms says when. */
static int send_token(struct engine *e, int64_t now)
{
	int64_t rate = e->sched.bucket_rate_milli, burst = e->sched.bucket.burst;
	if (!rate)
		return 1; /* unlimited (or back to it) */
	struct bc_bucket *b = &e->send_bucket;
	if (!b->rate_milli)
		bc_bucket_init(b, rate, burst, now);
	else if (b->rate_milli != rate || b->burst != burst)
		bc_bucket_set(b, rate, burst, now);
	int64_t wait = bc_bucket_take(b, now);
	if (wait > 0) {
		e->send_wait_ms = now + wait;
		return 0;
	}
	return 1;
}

/* Sends the parked rows whose "sent" record is durable now, while the
 * transport has room; after a stop (or a failed sync) they go back to the
 * queue unsent instead. */
static void release_parked(struct engine *e, int64_t now)
{
	char err[512];
	while (e->nparked) {
		struct parked *pk = &e->parked[e->parked_head];
		int durable = 0;
		if (e->stop == STOP_NONE) {
			if (bc_transport_in_flight(e->net) >=
			    (size_t)e->opt->concurrency)
				return;
			int r = bc_journal_synced(e->jr, pk->ticket, err,
						  sizeof err);
			if (r == 0)
				return;
			if (r < 0)
				output_failed(e, err); /* a stop from now on */
			durable = r == 1;
		}
		if (durable && !send_token(e, now))
			return;
		if (durable) {
			submit(e, pk->slot, now);
		} else {
			/* Its S record may be durable: the N record says the
			 * row was not sent after all (when the journal still
			 * takes records). */
			requeued(e, &e->slots[pk->slot]);
			unsend(e, pk->slot, now);
		}
		e->parked_head = (e->parked_head + 1) % e->nslots;
		e->nparked--;
	}
}

/* The journal's sync thread finished a sync: parked rows may go. */
static void wake_loop(void *net)
{
	bc_transport_wake(net);
}

/* job.json (a new job), the journal, and a first commit holding the
 * files' headers (or, on resume, the lengths they were cut back to), all
 * durable before the first request. */
static int open_journal(struct engine *e, const struct bc_job_options *o)
{
	char err[512];
	const char *dir = e->job.out_dir;
	int result;
	if (!e->rs) {
		/* --force over an old job's folder: its journal must not be
		 * read as this job's should we crash before ours exists. */
		char old[4200];
		snprintf(old, sizeof old, "%s/%s", dir, BC_JOURNAL_NAME);
		unlink(old);
		snprintf(old, sizeof old, "%s/summary.json", dir);
		unlink(old);
		struct bc_jobfile jf = {
			.input = (char *)o->input,
			.profile = (char *)e->job.profile->name,
			.idempotent = e->job.profile->idempotent,
			.started_ms = bc_clock_unix_ms(),
		};
		char abs[4096];
		if (strcmp(o->input, "-") != 0) {
			jf.resumable = 1;
			result = bc_file_identity(o->input, &jf.input_size,
						  &jf.input_mtime_ms,
						  &jf.input_crc32, err,
						  sizeof err);
			if (result == BC_EINVAL) {
				/* A pipe: like stdin, it cannot be read again. */
				jf.resumable = 0;
			} else if (result) {
				fprintf(stderr, "bulkcall: %s\n", err);
				return BC_EXIT_INPUT;
			}
			if (bc_job_abspath(o->input, abs, sizeof abs) == BC_OK)
				jf.input = abs;
		}
		/* What the profile read at bind is part of the job too. */
		char tpl_abs[4096], pf_abs[4096];
		if (bc_job_dep_record(o->template_path, &jf.template_file,
				      tpl_abs, sizeof tpl_abs, err,
				      sizeof err) != BC_OK ||
		    bc_job_dep_record(o->profile_file, &jf.profile_file,
				      pf_abs, sizeof pf_abs, err,
				      sizeof err) != BC_OK) {
			fprintf(stderr, "bulkcall: %s\n", err);
			return BC_EXIT_USAGE;
		}
		jf.options_json =
			bc_job_options_json(o, e->job.profile->default_rate);
		jf.config_json = bc_job_options_config_json(o);
		result = jf.options_json && jf.config_json
				 ? bc_jobfile_write(dir, &jf, err, sizeof err)
				 : BC_ENOMEM;
		if (result == BC_ENOMEM)
			snprintf(err, sizeof err, "out of memory writing job.json");
		free(jf.options_json);
		free(jf.config_json);
		if (result) {
			fprintf(stderr, "bulkcall: %s\n", err);
			return BC_EXIT_OUTPUT;
		}
	}
	int64_t keep = e->rs && e->rs->js.found ? (int64_t)e->rs->js.valid_len
						: -1;
	result = bc_journal_open(&e->jr, dir, keep, e->rs ? e->rs->lock_fd : -1,
				 err, sizeof err);
	if (!result)
		result = bc_journal_begin(e->jr, e->rs ? "resume" : "run", err,
					  sizeof err);
	if (result) {
		fprintf(stderr, "bulkcall: %s\n", err);
		return BC_EXIT_OUTPUT;
	}
	bc_journal_set_waker(e->jr, wake_loop, e->net);
	if (bench_before("group-commit"))
		bc_journal_set_sync_period(e->jr, 0);
	commit(e, 0);
	return e->stop == STOP_OUTPUT ? BC_EXIT_OUTPUT : BC_EXIT_OK;
}

/* Transport worker threads: --net-threads, else AUTO_NET_THREADS, which
 * measured fastest on 2 cores (docs/transport.md). */
#define AUTO_NET_THREADS 2u
static unsigned net_threads(const struct bc_job_options *o)
{
	return o->net_threads >= 0 ? (unsigned)o->net_threads : AUTO_NET_THREADS;
}

static int setup(struct engine *e, const struct bc_job_options *o)
{
	char err[512];
	e->opt = o;
	int code = e->rs ? bc_job_setup_resume(&e->job, o, e->rs->js.len)
			 : bc_job_setup(&e->job, o, 1, 1, 0);
	if (code != BC_EXIT_OK)
		return code;
	const struct bc_profile *p = e->job.profile;
	/* A resumed job keeps the idempotency job.json recorded when it
	 * started (its journal's "sent" records were kept, or not, for that
	 * value), unless the profile now says a repeat is harmful: a row
	 * that may have been sent is never sent again because a profile
	 * changed between the crash and the resume. */
	int idempotent = p->idempotent && (!e->rs || e->rs->jf.idempotent);
	if (e->rs && e->rs->jf.idempotent != p->idempotent && !o->quiet)
		fprintf(stderr,
			"bulkcall resume: warning: job.json says the job's "
			"profile is %s, '%s' now says %s: its rows are handled "
			"as not idempotent\n",
			e->rs->jf.idempotent ? "idempotent" : "not idempotent",
			p->name,
			p->idempotent ? "idempotent" : "not idempotent");
	e->barrier = !idempotent;
	const char *key = o->key ? o->key : p->default_key;
	e->key_col = -1;
	if (strcmp(key, "*") != 0) {
		e->key_col = bc_columns_find(bc_reader_columns(e->job.reader), key);
		if (e->key_col < 0 && bc_reader_format(e->job.reader) == BC_FORMAT_CSV) {
			fprintf(stderr, "bulkcall: --key: the input has no column "
					"'%s'\n",
				key);
			return BC_EXIT_USAGE;
		}
	}
	if (o->window) {
		int r = bc_window_parse(&e->window, o->window, o->tz);
		if (r == BC_ENOTFOUND) {
			fprintf(stderr, "bulkcall: --tz: unknown time zone "
					"'%s'\n",
				o->tz);
			return BC_EXIT_USAGE;
		}
		if (r != BC_OK) {
			fprintf(stderr, "bulkcall: --window: '%s' must be "
					"HH:MM-HH:MM, start and end different\n",
				o->window);
			return BC_EXIT_USAGE;
		}
		/* The process runs in the window's zone (every time bulkcall
		 * writes is UTC), set before any thread exists: checking the
		 * window then never changes the environment while libcurl's
		 * threads read it (proxy variables, per transfer). */
		if (o->tz && *o->tz) {
			setenv("TZ", o->tz, 1);
			tzset();
		}
		e->have_window = 1;
	}

	double rate = o->rate >= 0 ? o->rate : p->default_rate;
	struct bc_sched_config sc;
	bc_sched_config_default(&sc);
	sc.rate_milli = bc_rate_to_milli(rate);
	sc.burst = o->burst > 0 ? (int64_t)o->burst : 0;
	/* Rows parked for the barrier's sync are not at the server yet:
	 * they may be admitted beyond --concurrency, so that the wire stays
	 * full while a sync runs (release_parked keeps the transport at
	 * --concurrency). */
	e->parked_cap = parked_extra(e, o);
	e->sync_on_loop = bench_before("sync-on-loop");
	sc.concurrency = (uint32_t)((size_t)o->concurrency + e->parked_cap);
	sc.key_rate_milli = bc_rate_to_milli(o->key_rate);
	sc.key_concurrency = (uint32_t)o->key_concurrency;
	sc.cooldown_ms = (int64_t)(o->throttle_cooldown_s * 1000);
	/* Polite from the first request: no window, not even the first,
	 * holds more than rate x window + burst (docs/scheduling.md). */
	sc.start_empty = 1;
	int64_t now = now_ms();
	if (bc_sched_init(&e->sched, &sc, now) != BC_OK) {
		fprintf(stderr, "bulkcall: invalid scheduling options\n");
		return BC_EXIT_USAGE;
	}
	bc_backoff_init(&e->backoff, o->backoff_min_ms, o->backoff_max_ms,
			(unsigned)o->max_attempts,
			(int64_t)(o->max_retry_time_s * 1000));
	bc_rng_seed(&e->rng, (uint64_t)bc_clock_mono_us());
	bc_halt_init(&e->halt, o->halt_fail_pct);

	/* Slots: everything in flight, plus as many again ready or held, so
	 * the dispatcher can look past rows blocked on their key. Memory is
	 * bounded by --concurrency, never by the input. */
	e->nslots = (size_t)o->concurrency * 2 + 1024;
	e->ready_target = (size_t)o->concurrency + 256;
	e->slots = calloc(e->nslots, sizeof *e->slots);
	e->free_list = calloc(e->nslots, sizeof *e->free_list);
	e->ready = calloc(e->nslots, sizeof *e->ready);
	e->batch = calloc(e->nslots, sizeof *e->batch);
	e->batch_rows = calloc(e->nslots, sizeof *e->batch_rows);
	e->parked = calloc(e->nslots, sizeof *e->parked);
	if (!e->slots || !e->free_list || !e->ready || !e->batch ||
	    !e->batch_rows || !e->parked) {
		fprintf(stderr, "bulkcall: out of memory for %zu slots\n",
			e->nslots);
		return BC_EXIT_OUTPUT;
	}
	for (size_t i = 0; i < e->nslots; i++) {
		bc_row_init(&e->slots[i].row);
		bc_request_init(&e->slots[i].req);
		e->free_list[e->nfree++] = e->nslots - 1 - i;
	}
	bc_heap_init(&e->held, e->nslots);
	bc_request_init(&e->token.req);

	const char *headers[BC_PROFILE_HEADERS_MAX];
	char header_text[BC_PROFILE_HEADERS_MAX][1024];
	for (size_t i = 0; i < e->job.ctx.nheaders; i++) {
		snprintf(header_text[i], sizeof header_text[i], "%s: %s",
			 e->job.ctx.headers[i].name, e->job.ctx.headers[i].value);
		headers[i] = header_text[i];
	}
	struct bc_transport_options to = {
		.timeout_ms = (long)(o->timeout_s * 1000),
		.connect_timeout_ms = (long)(o->connect_timeout_s * 1000),
		.cacert = o->cacert,
		.insecure = o->insecure,
		.proxy = o->proxy,
		.max_in_flight = (size_t)o->concurrency,
		.headers = headers,
		.nheaders = e->job.ctx.nheaders,
		/* --retry-unknown accepts repeats; otherwise a request of a
		 * non-idempotent profile goes out once at most. */
		.no_resend = e->barrier && !o->retry_unknown,
		.threads = net_threads(o),
		.readd_idle_sockets = bench_before("idle-sockets"),
		.setopt_in_caller = bench_before("home-loop"),
		.publish_at_batch_end = bench_before("publish-early"),
	};
	if (o->insecure)
		fprintf(stderr, "bulkcall: warning: --insecure: TLS certificates "
				"are not verified\n");
	int r = bc_transport_new(&e->net, &to, err, sizeof err);
	memset(header_text, 0, sizeof header_text); /* secrets */
	if (r != BC_OK) {
		fprintf(stderr, "bulkcall: %s\n", err);
		return BC_EXIT_USAGE;
	}
	e->start_ms = now;
	e->deadline_ms = o->max_runtime_s > 0
				 ? now + (int64_t)(o->max_runtime_s * 1000)
				 : INT64_MAX;
	bc_progress_init(&e->progress, stderr, o->progress, o->quiet,
			 bc_clock_mono_us());
	struct stat st;
	if (strcmp(o->input, "-") != 0 && stat(o->input, &st) == 0 &&
	    !strstr(o->input, ".gz"))
		e->ps.bytes_total = (uint64_t)st.st_size;
	return open_journal(e, o);
}

static void teardown(struct engine *e)
{
	/* The journal first: its sync thread wakes the transport. */
	bc_journal_free(e->jr);
	e->jr = NULL;
	if (e->net)
		bc_transport_free(e->net);
	for (size_t i = 0; e->slots && i < e->nslots; i++) {
		bc_row_release(&e->slots[i].row);
		bc_request_release(&e->slots[i].req);
	}
	free(e->slots);
	free(e->free_list);
	free(e->ready);
	free(e->batch);
	free(e->batch_rows);
	free(e->parked);
	bc_request_release(&e->token.req);
	bc_heap_release(&e->held);
	bc_sched_release(&e->sched);
	bc_job_release(&e->job);
}

static void loop(struct engine *e)
{
	int aborted = 0;
	for (;;) {
		int64_t now = now_ms();
		if (signals_seen && e->stop == STOP_NONE)
			stop_dispatch(e, STOP_SIGNAL,
				      "interrupted: finishing requests in "
				      "flight (interrupt again to abandon them)");
		if (signals_seen > 1 && !aborted) {
			aborted = 1;
			bc_transport_abort_all(e->net);
			/* Each abandoned transfer comes back now: its row
			 * becomes unknown or retry before the loop can end. */
			struct bc_transfer_done d;
			while (bc_transport_next_done(e->net, &d) == 1)
				handle_done(e, &d);
		}
		if (e->stop == STOP_NONE && now >= e->deadline_ms)
			stop_dispatch(e, STOP_MAX_RUNTIME,
				      "--max-runtime reached: rows not sent go "
				      "to retry");
		int64_t wake = now + 200;
		if (bc_journal_pending(e->jr) &&
		    e->last_commit_ms + COMMIT_MS < wake)
			wake = e->last_commit_ms + COMMIT_MS;
		if (e->stop == STOP_NONE) {
			while (!e->input_done && e->nfree &&
			       e->nready < e->ready_target &&
			       !bc_heap_full(&e->held))
				if (intake_one(e) < 0)
					break;
			struct bc_heap_item item;
			while (bc_heap_pop_due(&e->held, now, &item) == 1)
				make_ready(e, item.data);
			const struct bc_heap_item *top = bc_heap_peek(&e->held);
			if (top && top->due_ms < wake)
				wake = top->due_ms;
			int64_t reopen, open_unix;
			if (window_closed(e, now, &reopen, &open_unix)) {
				/* Wait for the window; the deadline check
				 * above ends the wait. If the window opens
				 * only after the deadline, no row can go:
				 * stop now. */
				if (reopen >= e->deadline_ms) {
					char when[160], why[300];
					window_when(e, open_unix, reopen - now,
						    when, sizeof when);
					snprintf(why, sizeof why,
						 "--window opens %s, after "
						 "--max-runtime ends: rows not "
						 "sent go to retry",
						 when);
					stop_dispatch(e, STOP_MAX_RUNTIME, why);
					continue;
				}
				window_say_wait(e, now, open_unix, reopen);
				if (reopen < wake)
					wake = reopen;
			} else if (e->nready && token_ready(e, now)) {
				int64_t next = dispatch(e, now);
				if (next < wake)
					wake = next;
			}
		}
		release_parked(e, now);
		if (e->nparked && e->send_wait_ms > now && e->send_wait_ms < wake)
			wake = e->send_wait_ms;
		size_t in_flight = bc_transport_in_flight(e->net);
		if (e->input_done && !in_flight && !e->nready &&
		    !e->nparked && bc_heap_size(&e->held) == 0)
			break;
		if (e->stop != STOP_NONE && !in_flight && !e->nparked)
			break;
		int timeout = wake > now ? (int)(wake - now) : 0;
		if (timeout > 200)
			timeout = 200;
		bc_transport_poll(e->net, timeout);
		struct bc_transfer_done d;
		while (bc_transport_next_done(e->net, &d) == 1)
			handle_done(e, &d);
		now = now_ms();
		release_parked(e, now);
		e->ps.in_flight = bc_transport_in_flight(e->net);
		e->ps.bytes_read = bc_reader_offset(e->job.reader);
		bc_progress_update(&e->progress, &e->ps, bc_clock_mono_us());
		if (bc_journal_pending(e->jr) &&
		    now - e->last_commit_ms >= COMMIT_MS)
			commit(e, 0);
	}
}

/* Tests only: a window in which the run has committed every row and not
 * yet written summary.json, so a kill can land there. */
static void test_pause_before_summary(void)
{
	const char *v = getenv("BULKCALL_TEST_PAUSE_BEFORE_SUMMARY_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;
	if (ms <= 0)
		return;
	fprintf(stderr, "bulkcall: test: pausing %ld ms before the summary\n",
		ms);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

int bc__run(const struct bc_job_options *o, const struct bc_resume *rs)
{
	struct engine e;
	memset(&e, 0, sizeof e);
	e.rs = rs;
	int code = setup(&e, o);
	if (code != BC_EXIT_OK) {
		teardown(&e);
		return code;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signals_seen = 0;

	struct bc_summary_info info = {
		.command = "run",
		.input = o->input,
		.profile = e.job.profile->name,
		.started_ms = rs && rs->jf.started_ms ? rs->jf.started_ms
						      : bc_clock_unix_ms(),
		.resumes = rs ? rs->js.runs : 0,
	};
	loop(&e);
	/* Every final record so far becomes durable; then, after a stop,
	 * the unsent rows are written as retry past that commit. */
	commit(&e, 0);
	int stopped = e.stop != STOP_NONE && e.stop != STOP_OUTPUT;
	if (stopped) {
		e.stopping = 1;
		drain_unsent(&e, e.stop_detail);
		commit(&e, 1);
	}
	/* After the drain, so the last line counts every row. */
	e.ps.in_flight = bc_transport_in_flight(e.net);
	e.ps.bytes_read = bc_reader_offset(e.job.reader);
	bc_progress_finish(&e.progress, &e.ps, bc_clock_mono_us());

	char *opts = bc_job_options_json(o, e.job.profile->default_rate);
	info.options_json = opts;
	info.ended_ms = bc_clock_unix_ms();
	info.stopped_because = e.stop != STOP_NONE ? e.stop_detail : NULL;
	char err[512];
	int closed = BC_OK;
	if (e.stop != STOP_OUTPUT) {
		test_pause_before_summary();
		closed = bc_output_close(e.job.output, &info, err, sizeof err);
	}
	free(opts);
	if (closed != BC_OK)
		output_failed(&e, err);
	const uint64_t *counts = bc_output_counts(e.job.output);
	uint64_t total = 0;
	for (int i = 0; i < BC_OUTCOME_COUNT; i++)
		total += counts[i];
	switch (e.stop) {
	case STOP_SIGNAL:
		code = BC_EXIT_INTERRUPTED;
		break;
	case STOP_FATAL:
		code = BC_EXIT_FATAL_API;
		break;
	case STOP_OUTPUT:
		code = BC_EXIT_OUTPUT;
		break;
	case STOP_INPUT:
		code = BC_EXIT_INPUT;
		break;
	case STOP_HALT_FAIL:
	case STOP_MAX_RUNTIME:
	case STOP_NONE:
		code = counts[BC_OUTCOME_OK] == total ? BC_EXIT_OK
						      : BC_EXIT_SOME_NOT_OK;
		break;
	}
	if (e.stop != STOP_OUTPUT &&
	    bc_journal_end(e.jr, e.stop == STOP_NONE, code, err, sizeof err) !=
		    BC_OK) {
		output_failed(&e, err);
		code = BC_EXIT_OUTPUT;
	}
	if (e.stop == STOP_OUTPUT)
		fprintf(stderr,
			"bulkcall: the output folder is consistent up to its "
			"last commit: once the cause is fixed, run 'bulkcall "
			"resume %s' to finish the job\n",
			e.job.out_dir);
	else if (!o->quiet)
		bc_output_print_summary(e.job.output, &info, stderr);
	teardown(&e);
	return code;
}

int bc_run(const struct bc_job_options *o)
{
	return bc__run(o, NULL);
}
