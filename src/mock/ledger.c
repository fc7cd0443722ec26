/* The ledger of bulkcall-mock: one NDJSON line per accepted operation,
 * each written with a single write() on an O_APPEND descriptor under a
 * mutex, so lines never interleave and every line is in the file as soon
 * as the request is answered (no user-space buffer to lose). Also owns the
 * request counters printed at exit. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mock/mock.h"

#define LEDGER_LINE_MAX (1u << 20)

static int ledger_fd = -1;
static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong ledger_lines;
static atomic_ullong ledger_errors;
static atomic_ullong counts[MOCK__OUTCOME_COUNT];
static atomic_ullong reset_after;

int mock_ledger_open(const char *path, char *err, size_t err_len)
{
	if (!path)
		return 0;
	ledger_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0644);
	if (ledger_fd < 0) {
		snprintf(err, err_len, "cannot open '%s': %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

void mock_ledger_close(void)
{
	if (ledger_fd >= 0 && close(ledger_fd))
		fprintf(stderr, "bulkcall-mock: cannot close the ledger: %s\n",
			strerror(errno));
	ledger_fd = -1;
}

static int build_line(struct bc_buf *b, const char *provider, const char *op,
		      const struct mock_fields *f)
{
	int err = bc_buf_adds(b, "{\"provider\":");
	if (!err)
		err = mock_json_str(b, provider, strlen(provider));
	if (!err)
		err = bc_buf_adds(b, ",\"op\":");
	if (!err)
		err = mock_json_str(b, op, strlen(op));
	for (size_t i = 0; i < f->n && !err; i++) {
		const struct mock_field *e = &f->f[i];
		err = bc_buf_addc(b, ',');
		if (!err)
			err = mock_json_str(b, e->name, strlen(e->name));
		if (!err)
			err = bc_buf_addc(b, ':');
		if (!err)
			err = e->raw ? bc_buf_adds(b, e->value)
				     : mock_json_str(b, e->value,
						     strlen(e->value));
	}
	if (!err)
		err = bc_buf_addf(b, ",\"t\":%llu}\n",
				  (unsigned long long)mock_wall_ms());
	return err;
}

int mock_ledger_write(const char *provider, const char *op,
		      const struct mock_fields *f)
{
	if (ledger_fd < 0)
		return 0;
	struct bc_buf line = BC_BUF_INIT(LEDGER_LINE_MAX);
	const char *why = NULL;
	if (build_line(&line, provider, op, f)) {
		why = "line too long or out of memory";
	} else {
		pthread_mutex_lock(&ledger_lock);
		ssize_t n;
		do
			n = write(ledger_fd, line.ptr, line.len);
		while (n < 0 && errno == EINTR);
		int saved = errno;
		pthread_mutex_unlock(&ledger_lock);
		if (n < 0)
			why = strerror(saved);
		else if ((size_t)n != line.len)
			why = "short write";
	}
	bc_buf_release(&line);
	if (why) {
		/* Loud: a test relying on the ledger must not pass quietly. */
		if (atomic_fetch_add(&ledger_errors, 1u) == 0)
			fprintf(stderr,
				"bulkcall-mock: cannot write the ledger: %s\n",
				why);
		return -1;
	}
	atomic_fetch_add_explicit(&ledger_lines, 1u, memory_order_relaxed);
	return 0;
}

void mock_stats_count(enum mock_outcome o)
{
	atomic_fetch_add_explicit(&counts[o], 1u, memory_order_relaxed);
}

static atomic_long delayed_peak;

void mock_stats_delayed(long now_delayed)
{
	long peak = atomic_load_explicit(&delayed_peak, memory_order_relaxed);
	while (now_delayed > peak &&
	       !atomic_compare_exchange_weak(&delayed_peak, &peak, now_delayed))
		;
}

void mock_stats_reset_after(void)
{
	atomic_fetch_add_explicit(&reset_after, 1u, memory_order_relaxed);
}

void mock_stats_print(void)
{
	unsigned long long total = 0;
	char line[512];
	size_t len = 0;
	for (int i = 0; i < MOCK__OUTCOME_COUNT; i++)
		total += atomic_load(&counts[i]);
	len += (size_t)snprintf(line + len, sizeof line - len,
				"bulkcall-mock: %llu requests:", total);
	for (int i = 0; i < MOCK__OUTCOME_COUNT && len < sizeof line; i++)
		len += (size_t)snprintf(line + len, sizeof line - len, " %s=%llu",
					mock_outcome_name((enum mock_outcome)i),
					atomic_load(&counts[i]));
	if (len < sizeof line)
		snprintf(line + len, sizeof line - len,
			 " reset_after=%llu ledger=%llu peak_delayed=%ld%s",
			 atomic_load(&reset_after), atomic_load(&ledger_lines),
			 atomic_load(&delayed_peak),
			 atomic_load(&ledger_errors) ? " (ledger write errors!)"
						     : "");
	fprintf(stderr, "%s\n", line);
}
