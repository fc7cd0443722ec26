/* net: the transport against an in-process HTTP/1.1 server on 127.0.0.1
 * (plain sockets + one thread, port 0) that answers by path: fixed status,
 * bodies over the cap, Retry-After, close without answering, late answers,
 * echo of the request. Also a listener whose accept queue is full, where
 * connects hang, and the path-segment escaping table. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bulkcall/buf.h"
#include "bulkcall/clock.h"
#include "bulkcall/error.h"
#include "bulkcall/transport.h"
#include "tap.h"

#define MAX_CONNS 2048
#define NTAGS 4096
#define BIG_LEN (2u * 1024u * 1024u)
#define CAP_LEN (1024u * 1024u)

/* ---- the server -------------------------------------------------------- */

struct conn {
	int fd;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	int64_t reply_at; /* a late answer waits in pending until then */
	char *pending;
	size_t pending_len;
	int bye; /* hang up once the answer is written */
};

struct server {
	int lfd, port;
	int stop[2];
	pthread_t thread;
	struct conn conns[MAX_CONNS];
	size_t nconns;
	atomic_int requests, accepts, closes, sleeps;
	atomic_int tag_hits[NTAGS];
};

static struct server srv;

static int64_t mono_ms(void)
{
	return bc_clock_mono_us() / 1000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	char *n = realloc(*p, c);
	if (!n)
		abort();
	*p = n;
	*cap = c;
}

static void out_add(struct conn *c, const void *data, size_t len)
{
	grow(&c->out, &c->out_cap, c->out_len + len);
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void out_addf(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_addf(struct conn *c, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	out_add(c, tmp, (size_t)n);
}

static void respond(struct conn *c, int status, const char *extra,
		    const char *body, size_t len)
{
	out_addf(c, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
		 len, extra ? extra : "");
	out_add(c, body, len);
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c->pending);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static const char *find_nocase(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;
		while (j < n && (hay[i + j] | 0x20) == (needle[j] | 0x20))
			j++;
		if (j == n)
			return hay + i;
	}
	return NULL;
}

/* Handles one complete request at the start of c->in; returns its length,
 * 0 when incomplete, -1 when the connection must close now. */
static long handle(struct conn *c)
{
	const char *end = find_nocase(c->in, c->in_len, "\r\n\r\n");
	if (!end)
		return 0;
	size_t hlen = (size_t)(end - c->in) + 4, clen = 0;
	const char *cl = find_nocase(c->in, hlen, "\r\ncontent-length:");
	if (cl)
		clen = strtoul(cl + 17, NULL, 10);
	if (c->in_len < hlen + clen)
		return 0;
	size_t total = hlen + clen;

	char method[16] = "", path[256] = "";
	sscanf(c->in, "%15s %255s", method, path);
	atomic_fetch_add(&srv.requests, 1);

	if (!strcmp(path, "/ok")) {
		respond(c, 200, "Content-Type: text/plain\r\n", "hello", 5);
	} else if (!strncmp(path, "/status/", 8)) {
		char body[32];
		int st = atoi(path + 8);
		int n = snprintf(body, sizeof(body), "status %d", st);
		respond(c, st, NULL, st == 204 ? "" : body,
			st == 204 ? 0 : (size_t)n);
	} else if (!strcmp(path, "/retry")) {
		respond(c, 429, "Retry-After:   7  \r\n", "slow down", 9);
	} else if (!strcmp(path, "/big") || !strcmp(path, "/exact")) {
		size_t n = path[1] == 'b' ? BIG_LEN : CAP_LEN;
		char *body = malloc(n);
		memset(body, 'x', n);
		respond(c, 200, NULL, body, n);
		free(body);
	} else if (!strcmp(path, "/bigchunk")) {
		static char chunk[65536];
		memset(chunk, 'y', sizeof(chunk));
		out_addf(c, "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (size_t i = 0; i < BIG_LEN / sizeof(chunk); i++) {
			out_addf(c, "%zx\r\n", sizeof(chunk));
			out_add(c, chunk, sizeof(chunk));
			out_add(c, "\r\n", 2);
		}
		out_add(c, "0\r\n\r\n", 5);
	} else if (!strcmp(path, "/ok-bye")) {
		/* a keep-alive answer, then the server drops the idle
		 * connection (as a keep-alive timeout does) */
		respond(c, 200, NULL, "bye", 3);
		c->bye = 1;
	} else if (!strcmp(path, "/close")) {
		atomic_fetch_add(&srv.closes, 1);
		return -1;
	} else if (!strncmp(path, "/sleep/", 7)) {
		atomic_fetch_add(&srv.sleeps, 1);
		c->reply_at = mono_ms() + atoi(path + 7);
		c->pending = strdup("HTTP/1.1 200 X\r\nContent-Length: 5\r\n\r\nslept");
		c->pending_len = strlen(c->pending);
	} else if (!strcmp(path, "/echo")) {
		respond(c, 200, "Content-Type: text/plain\r\n", c->in, total);
	} else if (!strncmp(path, "/tag/", 5)) {
		long tag = atol(path + 5);
		if (tag >= 0 && tag < NTAGS)
			atomic_fetch_add(&srv.tag_hits[tag], 1);
		respond(c, 200, NULL, path + 5, strlen(path + 5));
	} else {
		respond(c, 404, NULL, "no", 2);
	}
	return (long)total;
}

static void conn_read(struct conn *c)
{
	/* one spare byte: the buffer stays NUL-terminated for sscanf */
	grow(&c->in, &c->in_cap, c->in_len + 65536 + 1);
	ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	while (c->fd >= 0 && !c->pending) {
		long used = handle(c);
		if (used < 0) {
			conn_close(c);
			return;
		}
		if (!used)
			break;
		memmove(c->in, c->in + used, c->in_len - (size_t)used);
		c->in_len -= (size_t)used;
		c->in[c->in_len] = '\0';
	}
}

static void conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->bye) {
		c->bye = 0;
		conn_close(c);
	}
}

static void *server_main(void *arg)
{
	(void)arg;
	static struct pollfd pfd[MAX_CONNS + 2];
	static size_t idx[MAX_CONNS + 2];
	for (;;) {
		size_t n = 0;
		int64_t now = mono_ms(), wait = 100;
		pfd[n++] = (struct pollfd){ .fd = srv.stop[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = srv.lfd, .events = POLLIN };
		for (size_t i = 0; i < srv.nconns; i++) {
			struct conn *c = &srv.conns[i];
			if (c->fd < 0)
				continue;
			if (c->pending && c->reply_at <= now) {
				out_add(c, c->pending, c->pending_len);
				free(c->pending);
				c->pending = NULL;
				conn_write(c);
				if (c->fd < 0)
					continue;
			}
			if (c->pending && c->reply_at - now < wait)
				wait = c->reply_at - now;
			short ev = POLLIN;
			if (c->out_len)
				ev |= POLLOUT;
			idx[n] = i;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		if (poll(pfd, n, (int)(wait < 0 ? 0 : wait)) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			int fd = accept(srv.lfd, NULL, NULL);
			if (fd >= 0) {
				size_t i = 0;
				while (i < srv.nconns && srv.conns[i].fd >= 0)
					i++;
				if (i == MAX_CONNS) {
					close(fd);
				} else {
					if (i == srv.nconns)
						srv.nconns++;
					memset(&srv.conns[i], 0, sizeof(srv.conns[i]));
					srv.conns[i].fd = fd;
					atomic_fetch_add(&srv.accepts, 1);
				}
			}
		}
		for (size_t k = 2; k < n; k++) {
			struct conn *c = &srv.conns[idx[k]];
			if (c->fd < 0 || !pfd[k].revents)
				continue;
			if (pfd[k].revents & POLLOUT)
				conn_write(c);
			if (c->fd >= 0 && (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				conn_read(c);
			if (c->fd >= 0 && c->out_len)
				conn_write(c);
		}
	}
	for (size_t i = 0; i < srv.nconns; i++)
		if (srv.conns[i].fd >= 0)
			conn_close(&srv.conns[i]);
	return NULL;
}

/* A loopback listener; backlog 0 gives one whose queue fills at once. */
static int listen_on(int backlog, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog))
		abort();
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static void server_start(void)
{
	srv.lfd = listen_on(4096, &srv.port);
	if (pipe(srv.stop))
		abort();
	for (size_t i = 0; i < MAX_CONNS; i++)
		srv.conns[i].fd = -1;
	pthread_create(&srv.thread, NULL, server_main, NULL);
}

static void server_stop(void)
{
	if (write(srv.stop[1], "x", 1) != 1)
		abort();
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	close(srv.stop[0]);
	close(srv.stop[1]);
}

/* ---- helpers ----------------------------------------------------------- */

static char url_buf[4][256];

static const char *url(int slot, const char *path)
{
	snprintf(url_buf[slot], sizeof(url_buf[slot]), "http://127.0.0.1:%d%s",
		 srv.port, path);
	return url_buf[slot];
}

/* Worker threads for every transport the tests make (main runs the whole
 * table once in the caller's loop and once with workers). */
static unsigned test_threads;

static struct bc_transport *mk(const struct bc_transport_options *o)
{
	struct bc_transport *t = NULL;
	char err[256] = "";
	struct bc_transport_options opts = { 0 };
	if (o)
		opts = *o;
	if (opts.loop == BC_LOOP_EPOLL)
		opts.threads = test_threads;
	int rc = bc_transport_new(&t, &opts, err, sizeof(err));
	CHECK_INT(rc, BC_OK);
	if (rc)
		fprintf(stderr, "transport: %s\n", err);
	return t;
}

/* Waits for one done record (at most 10 s). */
static int wait_done(struct bc_transport *t, struct bc_transfer_done *d)
{
	int64_t until = mono_ms() + 10000;
	while (!bc_transport_next_done(t, d)) {
		if (mono_ms() > until)
			return 0;
		bc_transport_poll(t, 100);
	}
	return 1;
}

static int one(struct bc_transport *t, const char *method, const char *u,
	       const char *body, size_t len, const char *ct,
	       struct bc_transfer_done *d)
{
	memset(d, 0, sizeof(*d));
	if (bc_transport_submit(t, 42, method, u, body, len, ct))
		return 0;
	int got = wait_done(t, d);
	CHECK(got);
	CHECK_INT(d->tag, 42);
	return got;
}

static int contains(const struct bc_transfer_done *d, const char *s)
{
	return d->body && strstr(d->body, s) != NULL;
}

/* ---- tests ------------------------------------------------------------- */

static void test_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "@me", 3, "%40me" },
		{ "0003*210", 8, "0003%2A210" },
		{ "a/b", 3, "a%2Fb" },
		{ "a b", 3, "a%20b" },
		{ "\xc3\xa9t\xc3\xa9", 5, "%C3%A9t%C3%A9" },
		{ "AZaz09-._~", 10, "AZaz09-._~" },
		{ "%", 1, "%25" },
		{ "?#[]&=+,;:", 10, "%3F%23%5B%5D%26%3D%2B%2C%3B%3A" },
		{ "a\0b", 3, "a%00b" },
		{ "", 0, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bc_buf b = BC_BUF_INIT(1024);
		CHECK_INT(bc_url_escape_segment(&b, cases[i].in, cases[i].len),
			  BC_OK);
		CHECK_STR(bc_buf_str(&b), cases[i].want);
		bc_buf_release(&b);
	}
	/* appends, and a refusal leaves the buffer as it was */
	struct bc_buf b = BC_BUF_INIT(8);
	CHECK_INT(bc_buf_adds(&b, "/x/"), BC_OK);
	CHECK_INT(bc_url_escape_segment(&b, "@", 1), BC_OK);
	CHECK_STR(bc_buf_str(&b), "/x/%40");
	CHECK_INT(bc_url_escape_segment(&b, "@", 1), BC_ETOOBIG);
	CHECK_STR(bc_buf_str(&b), "/x/%40");
	bc_buf_release(&b);
}

static void test_ok_and_status(void)
{
	struct bc_transport *t = mk(NULL);
	struct bc_transfer_done d;
	if (!t)
		return;
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_INT(d.status, 200);
		CHECK_STR(d.body, "hello");
		CHECK_INT(d.body_len, 5);
		CHECK_STR(d.content_type, "text/plain");
		CHECK(d.retry_after == NULL);
		CHECK(d.latency_us > 0);
		CHECK_STR(d.error, "");
	}
	static const int statuses[] = { 200, 201, 204, 400, 401,
					404, 429, 500, 503 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/status/%d", statuses[i]);
		if (!one(t, "GET", url(0, path), NULL, 0, NULL, &d))
			continue;
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_INT(d.status, statuses[i]);
		CHECK(d.body != NULL);
	}
	if (one(t, "GET", url(0, "/retry"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_INT(d.status, 429);
		CHECK_STR(d.retry_after, "7");
		CHECK_STR(d.body, "slow down");
	}
	/* latency is the attempt's wall time */
	if (one(t, "GET", url(0, "/sleep/200"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_STR(d.body, "slept");
		CHECK(d.latency_us >= 190000 && d.latency_us < 2000000);
		printf("# /sleep/200 latency %lld us\n", (long long)d.latency_us);
	}
	/* Retry-After belongs to its response only */
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK(d.retry_after == NULL);
	CHECK_INT(bc_transport_in_flight(t), 0);
	CHECK_INT(bc_transport_next_done(t, &d), 0);
	bc_transport_free(t);
}

static void test_too_big(void)
{
	struct bc_transport *t = mk(NULL);
	struct bc_transfer_done d;
	if (!t)
		return;
	if (one(t, "GET", url(0, "/big"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_TOO_BIG);
		CHECK_INT(d.body_len, 0);
		CHECK(d.error[0] != '\0');
	}
	if (one(t, "GET", url(0, "/bigchunk"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_TOO_BIG); /* the write callback */
		CHECK_STR(d.body, "");
	}
	if (one(t, "GET", url(0, "/exact"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK); /* the cap itself is allowed */
		CHECK_INT(d.body_len, CAP_LEN);
	}
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_STR(d.body, "hello");
	}
	bc_transport_free(t);

	struct bc_transport_options o = { .max_body = 4 };
	t = mk(&o);
	if (t && one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_TOO_BIG);
	bc_transport_free(t);
}

static void test_refused(void)
{
	int port;
	int fd = listen_on(1, &port);
	close(fd); /* nobody listens there now */
	char u[64];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port);
	struct bc_transport *t = mk(NULL);
	struct bc_transfer_done d;
	if (t && one(t, "POST", u, "x", 1, "text/plain", &d)) {
		CHECK_INT(d.result, BC_NET_NOT_SENT);
		CHECK_INT(d.status, 0);
		CHECK(d.error[0] != '\0');
	}
	bc_transport_free(t);
}

static void test_close_and_timeout(void)
{
	struct bc_transfer_done d;
	struct bc_transport_options o = { .timeout_ms = 300 };
	struct bc_transport *t = mk(&o);
	if (!t)
		return;
	/* fresh connection: the server reads the request and hangs up */
	int before = atomic_load(&srv.closes);
	if (one(t, "POST", url(0, "/close"), "a=1", 3, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_MAYBE_SENT);
		CHECK(d.error[0] != '\0');
	}
	CHECK(atomic_load(&srv.closes) - before >= 1);

	/* the answer comes after the attempt's timeout */
	int64_t t0 = mono_ms();
	if (one(t, "POST", url(0, "/sleep/3000"), "a=1", 3, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_MAYBE_SENT);
		CHECK(strstr(d.error, "imeout") || strstr(d.error, "imed out"));
	}
	CHECK(mono_ms() - t0 < 2500);

	/* the same on a reused connection: its connect time still counts */
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_OK);
	if (one(t, "POST", url(0, "/sleep/3000"), "a=1", 3, NULL, &d))
		CHECK_INT(d.result, BC_NET_MAYBE_SENT);

	/* a reused connection closed after the request: libcurl resends once
	 * on a new connection by itself (see docs/transport.md) */
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_OK);
	before = atomic_load(&srv.closes);
	if (one(t, "POST", url(0, "/close"), "a=1", 3, NULL, &d))
		CHECK_INT(d.result, BC_NET_MAYBE_SENT);
	printf("# /close on a reused connection reached the server %d times\n",
	       atomic_load(&srv.closes) - before);
	bc_transport_free(t);

	/* no_resend (not idempotent): the same case reaches the server once,
	 * and the row is reported as maybe sent. */
	o.no_resend = 1;
	t = mk(&o);
	if (!t)
		return;
	for (int round = 0; round < 3; round++) {
		if (one(t, "POST", url(0, "/ok"), "x=1", 3, NULL, &d))
			CHECK_INT(d.result, BC_NET_OK);
		before = atomic_load(&srv.closes);
		if (one(t, "POST", url(0, "/close"), "a=1", 3, NULL, &d))
			CHECK_INT(d.result, BC_NET_MAYBE_SENT);
		CHECK_INT(atomic_load(&srv.closes) - before, 1);
	}
	/* and an ordinary POST body still arrives whole (PUT too) */
	if (one(t, "PUT", url(0, "/ok"), "abc", 3, "text/plain", &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_INT(d.status, 200);
	}
	bc_transport_free(t);
}

/* A listener whose accept queue is full: SYNs are dropped, connects hang. */
static int blackhole(int *port, int fillers[2])
{
	int fd = listen_on(0, port);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)*port);
	for (int i = 0; i < 2; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fillers[i], (struct sockaddr *)&a, sizeof(a));
		sleep_ms(50);
	}
	return fd;
}

static void test_connect_timeout(void)
{
	int port, fillers[2];
	int fd = blackhole(&port, fillers);
	char u[64];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port);
	struct bc_transport_options o = { .connect_timeout_ms = 300 };
	struct bc_transport *t = mk(&o);
	struct bc_transfer_done d;
	if (t && one(t, "POST", u, "x", 1, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_NOT_SENT);
		CHECK(d.error[0] != '\0');
	}
	bc_transport_free(t);
	close(fillers[0]);
	close(fillers[1]);
	close(fd);
}

static void test_refusals(void)
{
	char err[256] = "";
	struct bc_transport *t = NULL;
	const char *bad[] = { "X-Run: one", "X-Bad: a\r\nInjected: 1" };
	struct bc_transport_options o = { .headers = bad, .nheaders = 2 };
	CHECK_INT(bc_transport_new(&t, &o, err, sizeof(err)), BC_EINVAL);
	CHECK(t == NULL);
	CHECK(strstr(err, "X-Bad") != NULL);
	CHECK(strstr(err, "Injected") == NULL); /* values are never echoed */
	const char *lf[] = { "X-Bad: a\nb" };
	o = (struct bc_transport_options){ .headers = lf, .nheaders = 1 };
	CHECK_INT(bc_transport_new(&t, &o, err, sizeof(err)), BC_EINVAL);
	const char *nocolon[] = { "X-Bad" };
	o = (struct bc_transport_options){ .headers = nocolon, .nheaders = 1 };
	CHECK_INT(bc_transport_new(&t, &o, err, sizeof(err)), BC_EINVAL);
	const char *badname[] = { "X Bad: 1" };
	o = (struct bc_transport_options){ .headers = badname, .nheaders = 1 };
	CHECK_INT(bc_transport_new(&t, &o, err, sizeof(err)), BC_EINVAL);
	o = (struct bc_transport_options){ .cacert = "/nonexistent/ca.pem" };
	CHECK_INT(bc_transport_new(&t, &o, err, sizeof(err)), BC_EIO);
	CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);

	t = mk(NULL);
	if (!t)
		return;
	CHECK_INT(bc_transport_set_header(t, "X-A", "a\r\nX-B: b"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "X-A", "a\rb"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "X-A", "a\nb"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "X A", "v"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "X:A", "v"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "", "v"), BC_EINVAL);
	CHECK_INT(bc_transport_set_header(t, "X-A", "fine"), BC_OK);

	const char *u = url(0, "/ok");
	char inj[300];
	snprintf(inj, sizeof(inj), "%s\r\nX-Injected: 1", u);
	CHECK_INT(bc_transport_submit(t, 1, "GET", inj, NULL, 0, NULL),
		  BC_EINVAL);
	snprintf(inj, sizeof(inj), "%s?a=b c", u);
	CHECK_INT(bc_transport_submit(t, 1, "GET", inj, NULL, 0, NULL),
		  BC_EINVAL);
	CHECK_INT(bc_transport_submit(t, 1, "", u, NULL, 0, NULL), BC_EINVAL);
	CHECK_INT(bc_transport_submit(t, 1, "GET\r\nX: y", u, NULL, 0, NULL),
		  BC_EINVAL);
	CHECK_INT(bc_transport_submit(t, 1, "GET", "", NULL, 0, NULL),
		  BC_EINVAL);
	CHECK_INT(bc_transport_submit(t, 1, "POST", u, "x", 1, "a/b\r\nX: y"),
		  BC_EINVAL);
	CHECK_INT(bc_transport_in_flight(t), 0);

	/* what only libcurl can refuse comes back as a LOCAL done record */
	struct bc_transfer_done d;
	if (one(t, "GET", "ftp://127.0.0.1/x", NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_LOCAL);
	if (one(t, "GET", "http://[::1/x", NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_LOCAL);
	bc_transport_free(t);
}

static void test_headers_and_methods(void)
{
	const char *h[] = { "X-Run: one", "Authorization: Bearer old",
			    "X-Empty:" };
	struct bc_transport_options o = { .headers = h, .nheaders = 3 };
	struct bc_transport *t = mk(&o);
	struct bc_transfer_done d;
	if (!t)
		return;
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK(contains(&d, "GET /echo HTTP/1.1\r\n"));
		CHECK(contains(&d, "\r\nX-Run: one\r\n"));
		CHECK(contains(&d, "\r\nAuthorization: Bearer old\r\n"));
		CHECK(contains(&d, "\r\nX-Empty:"));
		CHECK(!contains(&d, "Content-Type"));
		CHECK(!contains(&d, "Expect"));
	}

	/* a transfer in flight keeps the headers it was submitted with */
	CHECK_INT(bc_transport_submit(t, 7, "GET", url(0, "/echo"), NULL, 0,
				      NULL),
		  BC_OK);
	CHECK_INT(bc_transport_set_header(t, "authorization", "Bearer new"),
		  BC_OK);
	if (wait_done(t, &d)) {
		CHECK_INT(d.tag, 7);
		CHECK(contains(&d, "Bearer old"));
		CHECK(contains(&d, "X-Run: one"));
	}
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK(contains(&d, "\r\nauthorization: Bearer new\r\n"));
		CHECK(!contains(&d, "Bearer old"));
		CHECK(contains(&d, "\r\nX-Run: one\r\n"));
	}
	CHECK_INT(bc_transport_set_header(t, "X-Run", NULL), BC_OK);
	CHECK_INT(bc_transport_set_header(t, "X-Other", "2"), BC_OK);
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK(!contains(&d, "X-Run"));
		CHECK(contains(&d, "\r\nX-Other: 2\r\n"));
		CHECK(contains(&d, "Bearer new"));
	}

	if (one(t, "POST", url(0, "/echo"), "{}", 2, "application/json", &d)) {
		CHECK(contains(&d, "POST /echo HTTP/1.1\r\n"));
		CHECK(contains(&d, "\r\nContent-Type: application/json\r\n"));
		CHECK(contains(&d, "\r\nContent-Length: 2\r\n"));
		CHECK(contains(&d, "\r\n\r\n{}"));
	}
	if (one(t, "PUT", url(0, "/echo"), "{\"a\":1}", 7, "application/json",
		&d)) {
		CHECK(contains(&d, "PUT /echo HTTP/1.1\r\n"));
		CHECK(contains(&d, "\r\n\r\n{\"a\":1}"));
	}
	if (one(t, "POST", url(0, "/echo"), "a=1", 3, NULL, &d)) {
		CHECK(contains(&d, "POST /echo"));
		CHECK(!contains(&d, "Content-Type")); /* no form default */
	}
	if (one(t, "POST", url(0, "/echo"), "", 0, "text/plain", &d))
		CHECK(contains(&d, "\r\nContent-Length: 0\r\n"));
	if (one(t, "DELETE", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK(contains(&d, "DELETE /echo HTTP/1.1\r\n"));
		CHECK(!contains(&d, "Content-Length"));
	}
	/* the handle that did DELETE does a plain GET again */
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d))
		CHECK(contains(&d, "GET /echo HTTP/1.1\r\n"));
	bc_transport_free(t);

	/* a large body goes without a 100-continue round trip (libcurl asks
	 * for one past its threshold, and this server never answers it) */
	struct bc_transport_options big_o = { .max_body = 4u << 20 };
	t = mk(&big_o);
	size_t big_len = 3u << 19; /* 1.5 MiB */
	char *big = malloc(big_len + 1);
	memset(big, 'b', big_len);
	big[big_len] = '\0';
	int64_t t0 = mono_ms();
	if (t && one(t, "PUT", url(0, "/echo"), big, big_len, "text/plain",
		     &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK(!contains(&d, "Expect"));
		CHECK(contains(&d, "\r\nContent-Length: 1572864\r\n"));
		CHECK_INT(d.body_len > big_len, 1);
	}
	CHECK(mono_ms() - t0 < 900);
	free(big);
	bc_transport_free(t);
}

static int count_of(const struct bc_transfer_done *d, const char *s)
{
	int n = 0;
	for (const char *p = d->body; p && (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* The handle keeps a parsed URL while the URL stays the same, and the
 * User-Agent travels in the header list (libcurl's own would be printed
 * afresh per transfer): each handle must still send what it was given. */
static void test_url_and_user_agent(void)
{
	struct bc_transport_options o = { .max_in_flight = 1 };
	struct bc_transport *t = mk(&o);
	struct bc_transfer_done d;
	if (!t)
		return;
	static const char *const paths[] = { "/tag/11", "/tag/11", "/tag/12",
					     "/tag/11", "/tag/13", "/tag/13" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (one(t, "GET", url(0, paths[i]), NULL, 0, NULL, &d))
			CHECK_STR(d.body, paths[i] + 5);
	if (one(t, "GET", url(0, "/tag/15?a=1&b=%41"), NULL, 0, NULL, &d))
		CHECK_STR(d.body, "15?a=1&b=%41");
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK(contains(&d, "GET /echo HTTP/1.1\r\n"));
		CHECK_INT(count_of(&d, "\r\nUser-Agent: bulkcall/"), 1);
	}
	/* refused by the parser: libcurl fails it as before, and the next
	 * good URL goes out again */
	if (one(t, "GET", "http://[::1/x", NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_LOCAL);
	if (one(t, "GET", url(0, "/tag/14"), NULL, 0, NULL, &d))
		CHECK_STR(d.body, "14");
	bc_transport_free(t);

	const char *h[] = { "user-agent: their-tool/2" };
	struct bc_transport_options ho = { .headers = h, .nheaders = 1 };
	if (!(t = mk(&ho)))
		return;
	if (one(t, "GET", url(0, "/echo"), NULL, 0, NULL, &d)) {
		CHECK_INT(count_of(&d, "their-tool/2"), 1);
		CHECK(!contains(&d, "bulkcall/"));
	}
	bc_transport_free(t);
}

/* "No proxy" is set once only when the environment names none: a proxy
 * from the environment (and no_proxy) still apply. The test server plays
 * the proxy for a URL whose own port is closed. */
static void test_proxy_from_environment(void)
{
	char proxy[64];
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", srv.port);
	struct bc_transfer_done d;
	setenv("http_proxy", proxy, 1);
	struct bc_transport *t = mk(NULL);
	if (t && one(t, "GET", "http://127.0.0.1:1/echo", NULL, 0, NULL, &d)) {
		CHECK_INT(d.result, BC_NET_OK);
		CHECK_INT(d.status, 404); /* the proxy saw an absolute URL */
	}
	bc_transport_free(t);

	setenv("no_proxy", "127.0.0.1", 1);
	t = mk(NULL);
	if (t && one(t, "GET", "http://127.0.0.1:1/echo", NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_NOT_SENT); /* went direct */
	bc_transport_free(t);
	unsetenv("no_proxy");
	unsetenv("http_proxy");

	t = mk(NULL);
	if (t && one(t, "GET", "http://127.0.0.1:1/echo", NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_NOT_SENT);
	bc_transport_free(t);
}

static void test_reuse_and_record_life(void)
{
	struct bc_transport_options o = { .max_in_flight = 4 };
	struct bc_transport *t = mk(&o);
	struct bc_transfer_done d, a;
	if (!t)
		return;
	int before = atomic_load(&srv.accepts);
	for (int i = 0; i < 20; i++)
		if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
			CHECK_INT(d.result, BC_NET_OK);
	CHECK_INT(atomic_load(&srv.accepts) - before, 1);

	/* a taken record stays readable while the loop runs on */
	CHECK_INT(bc_transport_submit(t, 1, "GET", url(0, "/tag/1"), NULL, 0,
				      NULL),
		  BC_OK);
	CHECK(wait_done(t, &a));
	for (int i = 0; i < 4; i++)
		CHECK_INT(bc_transport_submit(t, 10 + (uint64_t)i, "GET",
					      url(0, "/ok"), NULL, 0, NULL),
			  BC_OK);
	CHECK_INT(bc_transport_submit(t, 99, "GET", url(0, "/ok"), NULL, 0,
				      NULL),
		  BC_ETOOBIG);
	int64_t until = mono_ms() + 5000;
	while (bc_transport_in_flight(t) && mono_ms() < until)
		bc_transport_poll(t, 100);
	CHECK_STR(a.body, "1");
	CHECK_INT(a.tag, 1);
	for (int i = 0; i < 4; i++)
		CHECK_INT(bc_transport_next_done(t, &d), 1);
	CHECK_INT(bc_transport_next_done(t, &d), 0);
	bc_transport_free(t);
}

static void test_many(enum bc_transport_loop loop, int total, size_t window)
{
	struct bc_transport_options o = { .max_in_flight = window,
					  .loop = loop };
	struct bc_transport *t = mk(&o);
	if (!t)
		return;
	static char urls[NTAGS][64];
	static int seen[NTAGS];
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < total; i++)
		atomic_store(&srv.tag_hits[i], 0);
	int next = 0, got = 0, bad_body = 0, bad_result = 0, refused = 0;
	int64_t until = mono_ms() + 60000;
	while (got < total && mono_ms() < until) {
		while (next < total && bc_transport_in_flight(t) < window) {
			snprintf(urls[next], sizeof(urls[next]),
				 "http://127.0.0.1:%d/tag/%d", srv.port, next);
			if (bc_transport_submit(t, (uint64_t)next, "GET",
						urls[next], NULL, 0, NULL)) {
				refused++;
				break;
			}
			next++;
		}
		bc_transport_poll(t, 100);
		struct bc_transfer_done d;
		while (bc_transport_next_done(t, &d)) {
			got++;
			if (d.tag >= (uint64_t)total)
				continue;
			seen[d.tag]++;
			char want[16];
			snprintf(want, sizeof(want), "%d", (int)d.tag);
			if (d.result != BC_NET_OK || d.status != 200)
				bad_result++;
			else if (strcmp(d.body, want))
				bad_body++;
		}
	}
	CHECK_INT(got, total);
	CHECK_INT(refused, 0);
	CHECK_INT(bad_result, 0);
	CHECK_INT(bad_body, 0);
	int once = 0, sent_once = 0;
	for (int i = 0; i < total; i++) {
		once += seen[i] == 1;
		sent_once += atomic_load(&srv.tag_hits[i]) == 1;
	}
	CHECK_INT(once, total);
	CHECK_INT(sent_once, total);
	CHECK_INT(bc_transport_in_flight(t), 0);
	bc_transport_free(t);
}

static void test_abort_all(void)
{
	int port, fillers[2];
	int bfd = blackhole(&port, fillers);
	char hole[64];
	snprintf(hole, sizeof(hole), "http://127.0.0.1:%d/x", port);

	struct bc_transport *t = mk(NULL);
	if (!t)
		return;
	enum { NSLEEP = 30, NHOLE = 5 };
	int before = atomic_load(&srv.sleeps);
	for (int i = 0; i < NSLEEP; i++)
		CHECK_INT(bc_transport_submit(t, (uint64_t)i, "POST",
					      url(1, "/sleep/10000"), "k=v", 3,
					      NULL),
			  BC_OK);
	for (int i = 0; i < NHOLE; i++)
		CHECK_INT(bc_transport_submit(t, (uint64_t)(NSLEEP + i), "POST",
					      hole, "k=v", 3, NULL),
			  BC_OK);
	int64_t until = mono_ms() + 5000;
	while (atomic_load(&srv.sleeps) - before < NSLEEP && mono_ms() < until)
		bc_transport_poll(t, 20);
	CHECK_INT(atomic_load(&srv.sleeps) - before, NSLEEP);
	CHECK_INT(bc_transport_in_flight(t), NSLEEP + NHOLE);

	bc_transport_abort_all(t);
	CHECK_INT(bc_transport_in_flight(t), 0);
	int seen[NSLEEP + NHOLE] = { 0 }, maybe = 0, not_sent = 0, n = 0;
	struct bc_transfer_done d;
	while (bc_transport_next_done(t, &d)) {
		n++;
		if (d.tag >= NSLEEP + NHOLE)
			continue;
		seen[d.tag]++;
		if (d.tag < NSLEEP)
			maybe += d.result == BC_NET_MAYBE_SENT;
		else
			not_sent += d.result == BC_NET_NOT_SENT;
		CHECK(d.error[0] != '\0');
	}
	CHECK_INT(n, NSLEEP + NHOLE);
	int once = 0;
	for (int i = 0; i < NSLEEP + NHOLE; i++)
		once += seen[i] == 1;
	CHECK_INT(once, NSLEEP + NHOLE);
	CHECK_INT(maybe, NSLEEP);
	CHECK_INT(not_sent, NHOLE);

	/* nothing more comes later, and the transport still works */
	bc_transport_poll(t, 50);
	CHECK_INT(bc_transport_next_done(t, &d), 0);
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_OK);
	bc_transport_free(t);
	close(fillers[0]);
	close(fillers[1]);
	close(bfd);
}

/* Idle connections stay in the epoll set between requests (see struct
 * tsock in transport.c): one the server drops while idle must neither spin
 * the loop nor break the next request. */
static void test_idle_connection_dropped(void)
{
	struct bc_transport *t = mk(NULL);
	struct bc_transfer_done d;
	if (!t)
		return;
	int before = atomic_load(&srv.accepts);
	for (int i = 0; i < 3; i++) {
		if (one(t, "GET", url(0, "/ok-bye"), NULL, 0, NULL, &d)) {
			CHECK_INT(d.result, BC_NET_OK);
			CHECK_STR(d.body, "bye");
		}
		/* the hang-up arrives while the connection idles */
		struct rusage r0, r1;
		getrusage(RUSAGE_SELF, &r0);
		int64_t t0 = mono_ms();
		while (mono_ms() - t0 < 300)
			CHECK_INT(bc_transport_poll(t, 100), 0);
		getrusage(RUSAGE_SELF, &r1);
		long cpu_ms =
			(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000 +
			(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1000 +
			(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000 +
			(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1000;
		/* a loop woken by the dead socket would burn the whole wait */
		CHECK(cpu_ms < 150);
	}
	/* each request found its connection dead and opened a new one */
	CHECK_INT(atomic_load(&srv.accepts) - before, 3);
	if (one(t, "GET", url(0, "/ok"), NULL, 0, NULL, &d))
		CHECK_INT(d.result, BC_NET_OK);
	CHECK_INT(atomic_load(&srv.accepts) - before, 4);
	bc_transport_free(t);
}

static void test_idle_poll(void)
{
	struct bc_transport *t = mk(NULL);
	if (!t)
		return;
	/* poll returns as soon as something finished */
	CHECK_INT(bc_transport_submit(t, 5, "GET", url(0, "/ok"), NULL, 0,
				      NULL),
		  BC_OK);
	int64_t t1 = mono_ms();
	int got = 0;
	while (!got && mono_ms() - t1 < 5000)
		got = bc_transport_poll(t, 5000);
	CHECK_INT(got, 1);
	CHECK(mono_ms() - t1 < 1000);
	struct bc_transfer_done d;
	CHECK_INT(bc_transport_next_done(t, &d), 1);
	CHECK_INT(d.tag, 5);
	int64_t t0 = mono_ms();
	CHECK_INT(bc_transport_poll(t, 100), 0);
	int64_t el = mono_ms() - t0;
	CHECK(el >= 90 && el < 1000); /* nothing in flight: it sleeps */
	t0 = mono_ms();
	CHECK_INT(bc_transport_poll(t, 0), 0);
	CHECK(mono_ms() - t0 < 50);
	bc_transport_free(t);
}

int main(void)
{
	server_start();
	test_escape();
	static const unsigned modes[] = { 0, 2 };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		test_threads = modes[i];
		fprintf(stderr, "# transport threads: %u\n", test_threads);
		test_ok_and_status();
		test_too_big();
		test_refused();
		test_close_and_timeout();
		test_connect_timeout();
		test_refusals();
		test_headers_and_methods();
		test_url_and_user_agent();
		test_proxy_from_environment();
		test_reuse_and_record_life();
		test_many(BC_LOOP_EPOLL, 2000, 500);
		test_abort_all();
		test_idle_poll();
		test_idle_connection_dropped();
	}
	test_threads = 0;
	test_many(BC_LOOP_POLL, 1000, 200);
	server_stop();
	return bc_test_done();
}
