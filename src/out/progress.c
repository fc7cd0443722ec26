/* Progress line on stderr (include/bulkcall/progress.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bulkcall/progress.h"

#define LIVE_EVERY_US  200000
#define PLAIN_EVERY_US 10000000

void bc_progress_init(struct bc_progress *p, FILE *out,
		      enum bc_progress_mode mode, int quiet, int64_t now_us)
{
	int tty = isatty(fileno(out));
	p->out = out;
	p->live = tty && mode != BC_PROGRESS_NEVER;
	p->enabled = !quiet && mode != BC_PROGRESS_NEVER;
	p->always = mode == BC_PROGRESS_ALWAYS;
	p->printed = 0;
	p->start_us = now_us;
	p->last_us = now_us;
	p->last_len = 0;
}

/* The row total: exact once the input is read, else rows read scaled by
 * the share of bytes read; 0 = unknown (stdin, gzip, nothing read yet). */
static uint64_t total_rows(const struct bc_progress_state *s, int *estimate)
{
	*estimate = 0;
	if (s->input_done)
		return s->rows_read;
	if (!s->bytes_total || !s->bytes_read || !s->rows_read)
		return 0;
	*estimate = 1;
	if (s->bytes_read >= s->bytes_total)
		return s->rows_read;
	double est = (double)s->rows_read * (double)s->bytes_total /
		     (double)s->bytes_read;
	uint64_t n = (uint64_t)(est + 0.5);
	return n > s->rows_read ? n : s->rows_read;
}

static void duration(char *out, size_t len, double secs)
{
	long long t = (long long)(secs + 0.5);
	if (t < 60)
		snprintf(out, len, "%llds", t);
	else if (t < 3600)
		snprintf(out, len, "%lldm%02llds", t / 60, t % 60);
	else
		snprintf(out, len, "%lldh%02lldm", t / 3600, t / 60 % 60);
}

void bc_progress_format(const struct bc_progress_state *s, double secs,
			char *out, size_t len)
{
	int estimate;
	uint64_t total = total_rows(s, &estimate);
	uint64_t sent = s->done - (s->skipped < s->done ? s->skipped : s->done);
	double rate = secs > 0 ? (double)sent / secs : 0;
	char head[96], eta[48] = "";
	if (total) {
		/* Floor: 100% only when every row is done. */
		uint64_t done = s->done < total ? s->done : total;
		snprintf(head, sizeof head, "%llu / %s%llu rows (%llu%%)",
			 (unsigned long long)s->done, estimate ? "~" : "",
			 (unsigned long long)total,
			 (unsigned long long)(done * 100 / total));
		if (rate > 0 && done < total) {
			char d[24];
			duration(d, sizeof d, (double)(total - done) / rate);
			snprintf(eta, sizeof eta, ", ETA %s%s",
				 estimate ? "~" : "", d);
		}
	} else {
		snprintf(head, sizeof head, "%llu rows",
			 (unsigned long long)s->done);
	}
	snprintf(
	    out, len,
	    "%s, %llu not ok, %.0f rows/s, %llu in flight, %llu throttled, "
	    "%llu retries%s",
	    head, (unsigned long long)s->not_ok, rate,
	    (unsigned long long)s->in_flight, (unsigned long long)s->throttled,
	    (unsigned long long)s->retries, eta);
}

static void print_line(struct bc_progress *p, const struct bc_progress_state *s,
		       int64_t now_us)
{
	char line[256];
	bc_progress_format(s, (double)(now_us - p->start_us) / 1e6, line,
			   sizeof line);
	if (p->live) {
		size_t len = strlen(line);
		fprintf(p->out, "\r%s%*s", line,
			p->last_len > len ? (int)(p->last_len - len) : 0, "");
		p->last_len = len;
	} else {
		fprintf(p->out, "bulkcall: %s\n", line);
	}
	p->printed = 1;
	fflush(p->out);
}

void bc_progress_update(struct bc_progress *p,
			const struct bc_progress_state *s, int64_t now_us)
{
	if (!p->enabled)
		return;
	int64_t every = p->live ? LIVE_EVERY_US : PLAIN_EVERY_US;
	if (now_us - p->last_us < every)
		return;
	p->last_us = now_us;
	print_line(p, s, now_us);
}

void bc_progress_finish(struct bc_progress *p,
			const struct bc_progress_state *s, int64_t now_us)
{
	if (p->enabled && p->live && p->last_len) {
		fprintf(p->out, "\r%*s\r", (int)p->last_len, "");
		fflush(p->out);
	} else if (p->enabled && !p->live && (p->always || p->printed)) {
		/* A log ends with the final count, done == total. */
		print_line(p, s, now_us);
	}
	p->last_len = 0;
}
