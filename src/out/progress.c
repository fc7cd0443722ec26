/* Progress line on stderr (include/bulkcall/progress.h). */
#include <stdio.h>
#include <unistd.h>

#include "bulkcall/progress.h"

#define LIVE_EVERY_US 200000
#define PLAIN_EVERY_US 10000000

void bc_progress_init(struct bc_progress *p, FILE *out,
		      enum bc_progress_mode mode, int quiet, int64_t now_us)
{
	int tty = isatty(fileno(out));
	p->out = out;
	p->live = tty && mode != BC_PROGRESS_NEVER;
	p->enabled = !quiet && mode != BC_PROGRESS_NEVER;
	p->start_us = now_us;
	p->last_us = now_us;
	p->last_len = 0;
}

void bc_progress_update(struct bc_progress *p, const struct bc_progress_state *s,
			int64_t now_us)
{
	if (!p->enabled)
		return;
	int64_t every = p->live ? LIVE_EVERY_US : PLAIN_EVERY_US;
	if (now_us - p->last_us < every)
		return;
	p->last_us = now_us;
	double secs = (double)(now_us - p->start_us) / 1e6;
	double rate = secs > 0 ? (double)s->done / secs : 0;
	char eta[32] = "";
	if (s->bytes_total && s->bytes_read && s->bytes_read <= s->bytes_total) {
		double frac = (double)s->bytes_read / (double)s->bytes_total;
		double left = frac > 0 ? secs / frac - secs : 0;
		snprintf(eta, sizeof eta, " %3.0f%% ETA %.0fs", frac * 100, left);
	}
	char line[256];
	int n = snprintf(line, sizeof line,
			 "%llu done (%llu not ok), %.0f rows/s, %llu in flight, "
			 "%llu throttled, %llu retries%s",
			 (unsigned long long)s->done,
			 (unsigned long long)s->not_ok, rate,
			 (unsigned long long)s->in_flight,
			 (unsigned long long)s->throttled,
			 (unsigned long long)s->retries, eta);
	if (n < 0)
		return;
	if (p->live) {
		size_t len = (size_t)n;
		fprintf(p->out, "\r%s%*s", line,
			p->last_len > len ? (int)(p->last_len - len) : 0, "");
		p->last_len = len;
	} else {
		fprintf(p->out, "bulkcall: %s\n", line);
	}
	fflush(p->out);
}

void bc_progress_finish(struct bc_progress *p)
{
	if (p->enabled && p->live && p->last_len) {
		fprintf(p->out, "\r%*s\r", (int)p->last_len, "");
		fflush(p->out);
	}
	p->last_len = 0;
}
