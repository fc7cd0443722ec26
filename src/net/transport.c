/* HTTP transport over libcurl's multi interface (include/bulkcall/transport.h).
 * Owns the easy-handle pool, K multi handles of ~conns_per_multi transfers
 * each, one epoll set that drives them all, and the per-run header lists.
 * The only file of the project that includes curl/curl.h; it knows nothing
 * of rows, profiles or the scheduler. Design: docs/transport.md. */
#define _GNU_SOURCE /* epoll */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bulkcall/buf.h"
#include "bulkcall/clock.h"
#include "bulkcall/error.h"
#include "bulkcall/transport.h"

#ifndef BC_VERSION
#define BC_VERSION "0"
#endif

#define DEF_TIMEOUT_MS 30000L
#define DEF_CONNECT_TIMEOUT_MS 10000L
#define DEF_MAX_BODY (1024u * 1024u)
#define DEF_CONNS_PER_MULTI 100u
#define DEF_MAX_IN_FLIGHT 100u
/* A body buffer that grew past this is freed when its handle is recycled,
 * so 10,000 idle handles never pin 10,000 large buffers. */
#define BODY_KEEP_CAP (64u * 1024u)
#define RETRY_AFTER_MAX 128u
#define EPOLL_BATCH 256
/* curl_multi_poll with several multi handles can only block on one of
 * them: it waits at most this long on each in turn (bench comparison only). */
#define POLL_SLICE_MS 1

enum xstate {
	X_FREE,   /* on the free list */
	X_FLIGHT, /* added to a multi handle */
	X_DONE,   /* finished, on the done queue */
	X_TAKEN   /* handed out by next_done; recycled on the next call */
};

struct tmulti;

/* One header list as sent: the per-run headers, Content-Type, "Expect:".
 * Shared by every transfer submitted with the same content type under the
 * same per-run headers; refcounted because set_header may replace it while
 * transfers using it are in flight. */
struct hdrlist {
	struct hdrlist *next;
	unsigned refs;
	char *content_type; /* NULL: none */
	struct curl_slist *slist;
};

struct xfer {
	CURL *easy;          /* created on first use, reused for good */
	struct tmulti *m;    /* while in flight */
	struct hdrlist *hdrs;
	struct xfer *next;   /* free list or done queue */
	uint64_t tag;
	enum xstate state;
	int prereq;          /* a request was about to go out (see classify) */
	int too_big;
	int no_resend;       /* never a second request for this transfer */
	struct bc_buf body;
	char retry_after[RETRY_AFTER_MAX];
	char errbuf[CURL_ERROR_SIZE];
	struct bc_transfer_done done;
};

struct tmulti {
	CURLM *multi;
	struct bc_transport *t;
	size_t in_flight;
	int64_t due_ms; /* libcurl's timer for this handle, -1: none */
};

/* A socket libcurl asked us to watch, registered with epoll once and found
 * again through curl_multi_assign(). Sockets removed during one epoll batch
 * wait on the graveyard until the batch is over: a later event of the same
 * batch may still point at them. */
struct tsock {
	curl_socket_t fd; /* CURL_SOCKET_BAD once removed */
	struct tmulti *m;
	uint32_t events;
	struct tsock *next;
};

struct bc_transport {
	long timeout_ms, connect_timeout_ms;
	char *cacert, *proxy;
	int insecure;
	int no_resend;
	size_t max_body;
	enum bc_transport_loop loop;

	int epfd;
	struct tmulti *multis;
	size_t nmulti;
	size_t poll_rr; /* BC_LOOP_POLL: whose turn to block */
	CURLSH *share;

	struct xfer *xfers;
	size_t nxfers;
	struct xfer *free_list;
	struct xfer *done_head, *done_tail;
	size_t ndone;
	struct xfer *taken;
	size_t in_flight;

	struct tsock *sock_free;
	struct tsock *sock_grave;

	/* per-run headers, "Name: value" (or "Name;" for an empty value) */
	char **hdr_lines;
	size_t nhdr, hdr_cap;
	struct hdrlist *hdr_cache; /* lists built for the current headers */

	int global_init;
};

static const char *const result_names[] = {
	[BC_NET_OK] = "ok",
	[BC_NET_NOT_SENT] = "not_sent",
	[BC_NET_MAYBE_SENT] = "maybe_sent",
	[BC_NET_TOO_BIG] = "too_big",
	[BC_NET_LOCAL] = "local",
};

const char *bc_net_result_name(enum bc_net_result r)
{
	switch (r) {
	case BC_NET_OK:
	case BC_NET_NOT_SENT:
	case BC_NET_MAYBE_SENT:
	case BC_NET_TOO_BIG:
	case BC_NET_LOCAL:
		return result_names[r];
	}
	return "?";
}

/* libcurl's timer callback speaks in relative ms and epoll_wait wants
 * relative ms; only differences of this clock matter. */
static int64_t now_ms(void)
{
	return bc_clock_mono_us() / 1000;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int eq_nocase(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* RFC 9110 token: header names and methods. */
static int is_token(const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (!strchr("!#$%&'*+-.^_`|~", c) || c == '\0')
			return 0;
	}
	return 1;
}

/* A header value may hold anything but CR, LF and NUL (NUL cannot occur in a
 * C string; the length check below catches an embedded one). */
static int value_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 0;
	return 1;
}

/* URLs go out as they are (libcurl does not encode), so nothing that could
 * split or bend the request line: no control byte, no space, no DEL. */
static int url_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* ---- header lists ------------------------------------------------------ */

static void hdrlist_unref(struct hdrlist *h)
{
	if (!h || --h->refs)
		return;
	curl_slist_free_all(h->slist);
	free(h->content_type);
	free(h);
}

/* Drops the cache's references: lists still used in flight live on until
 * their last transfer is recycled. */
static void hdr_cache_clear(struct bc_transport *t)
{
	while (t->hdr_cache) {
		struct hdrlist *h = t->hdr_cache;
		t->hdr_cache = h->next;
		hdrlist_unref(h);
	}
}

static int slist_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);
	if (!n)
		return BC_ENOMEM;
	*l = n;
	return BC_OK;
}

static size_t line_name_len(const char *line)
{
	return strcspn(line, ":;");
}

static struct hdrlist *hdrlist_get(struct bc_transport *t,
				   const char *content_type)
{
	for (struct hdrlist *h = t->hdr_cache; h; h = h->next) {
		if (!content_type ? !h->content_type
				  : h->content_type &&
					    !strcmp(h->content_type, content_type))
			return h;
	}

	struct hdrlist *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->refs = 1; /* the cache's */
	struct bc_buf line = BC_BUF_INIT(64u * 1024u);
	int err = BC_OK, run_ct = 0;
	if (content_type && !(h->content_type = strdup(content_type)))
		err = BC_ENOMEM;
	for (size_t i = 0; !err && i < t->nhdr; i++) {
		const char *l = t->hdr_lines[i];
		size_t n = line_name_len(l);
		if (n == 12 && eq_nocase(l, "content-type", 12)) {
			if (content_type)
				continue; /* the request's own wins */
			run_ct = 1;
		}
		err = slist_add(&h->slist, l);
	}
	if (!err && content_type) {
		err = bc_buf_addf(&line, "Content-Type: %s", content_type);
		if (!err)
			err = slist_add(&h->slist, line.ptr);
	} else if (!err && !run_ct) {
		/* else libcurl sends x-www-form-urlencoded with a body */
		err = slist_add(&h->slist, "Content-Type:");
	}
	if (!err) /* no 100-continue round trip for bodies over 1 KiB */
		err = slist_add(&h->slist, "Expect:");
	bc_buf_release(&line);
	if (err) {
		hdrlist_unref(h);
		return NULL;
	}
	h->next = t->hdr_cache;
	t->hdr_cache = h;
	return h;
}

static int header_set(struct bc_transport *t, const char *name,
		      size_t name_len, const char *value, size_t value_len)
{
	if (!is_token(name, name_len))
		return BC_EINVAL;
	if (value && !value_ok(value, value_len))
		return BC_EINVAL;

	size_t i;
	for (i = 0; i < t->nhdr; i++) {
		const char *l = t->hdr_lines[i];
		if (line_name_len(l) == name_len && eq_nocase(l, name, name_len))
			break;
	}
	if (!value) {
		if (i < t->nhdr) {
			free(t->hdr_lines[i]);
			memmove(&t->hdr_lines[i], &t->hdr_lines[i + 1],
				(t->nhdr - i - 1) * sizeof(char *));
			t->nhdr--;
			hdr_cache_clear(t);
		}
		return BC_OK;
	}

	/* "Name;" is libcurl's spelling of a header with an empty value. */
	size_t len = name_len + (value_len ? 2 + value_len : 1);
	char *l = malloc(len + 1);
	if (!l)
		return BC_ENOMEM;
	memcpy(l, name, name_len);
	if (value_len) {
		memcpy(l + name_len, ": ", 2);
		memcpy(l + name_len + 2, value, value_len);
	} else {
		l[name_len] = ';';
	}
	l[len] = '\0';

	if (i == t->nhdr) {
		if (t->nhdr == t->hdr_cap) {
			size_t cap = t->hdr_cap ? t->hdr_cap * 2 : 8;
			char **p = realloc(t->hdr_lines, cap * sizeof(char *));
			if (!p) {
				free(l);
				return BC_ENOMEM;
			}
			t->hdr_lines = p;
			t->hdr_cap = cap;
		}
		t->hdr_lines[t->nhdr++] = l;
	} else {
		free(t->hdr_lines[i]);
		t->hdr_lines[i] = l;
	}
	hdr_cache_clear(t);
	return BC_OK;
}

int bc_transport_set_header(struct bc_transport *t, const char *name,
			    const char *value)
{
	if (!name)
		return BC_EINVAL;
	return header_set(t, name, strlen(name), value,
			  value ? strlen(value) : 0);
}

/* ---- callbacks --------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	int err = bc_buf_add(&x->body, p, len);
	if (err) {
		x->too_big = err == BC_ETOOBIG;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return len;
}

/* Keeps Retry-After of the last response only: a status line starts a new
 * one (a 100 Continue, or libcurl's own retry on a dead reused
 * connection). */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
		x->retry_after[0] = '\0';
	} else if (len > 12 && eq_nocase(p, "retry-after:", 12)) {
		const char *v = p + 12, *end = p + len;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
				   end[-1] == ' ' || end[-1] == '\t'))
			end--;
		size_t vlen = (size_t)(end - v);
		if (vlen >= sizeof(x->retry_after))
			vlen = sizeof(x->retry_after) - 1;
		memcpy(x->retry_after, v, vlen);
		x->retry_after[vlen] = '\0';
	}
	return len;
}

/* libcurl calls this once the connection (TLS included) is up, new or
 * reused, just before the request is written: the exact line between "never
 * sent" and "may have been sent". CURLINFO_CONNECT_TIME_T is not: it stays 0
 * on a reused connection in 7.88. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip,
		     int primary_port, int local_port)
{
	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	struct xfer *x = ud;
	/* A second call for one transfer is libcurl re-sending on its own
	 * after a reused connection died without an answer: the server may
	 * have acted on the first copy. Not idempotent: refuse (the transfer
	 * ends as MAYBE_SENT). */
	if (x->no_resend && x->prereq)
		return CURL_PREREQFUNC_ABORT;
	x->prereq = 1;
	return CURL_PREREQFUNC_OK;
}

static void sock_release(struct bc_transport *t, struct tsock *s)
{
	s->fd = CURL_SOCKET_BAD;
	s->next = t->sock_grave;
	t->sock_grave = s;
}

/* Once an epoll batch is over, removed sockets can be reused. */
static void bury(struct bc_transport *t)
{
	while (t->sock_grave) {
		struct tsock *s = t->sock_grave;
		t->sock_grave = s->next;
		s->next = t->sock_free;
		t->sock_free = s;
	}
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	(void)easy;
	struct tmulti *m = userp;
	struct bc_transport *t = m->t;
	struct tsock *s = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
			curl_multi_assign(m->multi, fd, NULL);
			sock_release(t, s);
		}
		return 0;
	}

	uint32_t ev = 0;
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	struct epoll_event e = { .events = ev };

	if (!s) {
		if ((s = t->sock_free))
			t->sock_free = s->next;
		else if (!(s = malloc(sizeof(*s))))
			return -1;
		s->fd = fd;
		s->m = m;
		s->events = ev;
		e.data.ptr = s;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &e) &&
		    (errno != EEXIST ||
		     epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &e))) {
			sock_release(t, s);
			return -1;
		}
		curl_multi_assign(m->multi, fd, s);
	} else if (s->events != ev) {
		e.data.ptr = s;
		if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &e))
			return -1;
		s->events = ev;
	}
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct tmulti *m = userp;
	m->due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	return 0;
}

/* ---- finishing --------------------------------------------------------- */

static enum bc_net_result classify(CURLcode code, int too_big, int prereq)
{
	switch (code) {
	case CURLE_OK:
		return BC_NET_OK;
	case CURLE_FILESIZE_EXCEEDED: /* Content-Length over the cap */
		return BC_NET_TOO_BIG;
	case CURLE_WRITE_ERROR:
		if (too_big)
			return BC_NET_TOO_BIG;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_CERTPROBLEM: /* our client certificate */
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return BC_NET_LOCAL;
	default:
		break;
	}
	/* DNS, refused, TLS handshake and certificate errors, connect
	 * timeouts never reach the prereq callback: NOT_SENT. Timeouts, resets,
	 * empty replies, HTTP/2 stream errors and our own abort after it: the
	 * request may have left. So may a connect error after it: libcurl
	 * resends by itself when a reused connection dies without an answer,
	 * and the first try may have been received. */
	return prereq ? BC_NET_MAYBE_SENT : BC_NET_NOT_SENT;
}

static void push_done(struct bc_transport *t, struct xfer *x)
{
	x->state = X_DONE;
	x->next = NULL;
	if (t->done_tail)
		t->done_tail->next = x;
	else
		t->done_head = x;
	t->done_tail = x;
	t->ndone++;
}

/* Fills x's done record from its easy handle, already out of its multi. */
static void finish(struct bc_transport *t, struct xfer *x, CURLcode code,
		   const char *why)
{
	struct bc_transfer_done *d = &x->done;
	CURL *e = x->easy;
	long status = 0;
	curl_off_t total_us = 0;
	char *ct = NULL;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
	curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);

	d->tag = x->tag;
	d->result = classify(code, x->too_big, x->prereq);
	d->status = status;
	d->latency_us = (int64_t)total_us;
	d->content_type = ct;
	d->retry_after = x->retry_after[0] ? x->retry_after : NULL;
	if (d->result == BC_NET_OK) {
		d->body = bc_buf_str(&x->body);
		d->body_len = x->body.len;
		d->error[0] = '\0';
	} else {
		d->body = "";
		d->body_len = 0;
		if (why)
			snprintf(d->error, sizeof(d->error), "%s", why);
		else if (d->result == BC_NET_TOO_BIG)
			snprintf(d->error, sizeof(d->error),
				 "response body over %zu bytes", t->max_body);
		else if (x->errbuf[0])
			snprintf(d->error, sizeof(d->error), "%s", x->errbuf);
		else
			snprintf(d->error, sizeof(d->error), "%s",
				 curl_easy_strerror(code));
	}

	x->m->in_flight--;
	x->m = NULL;
	t->in_flight--;
	push_done(t, x);
}

static void read_info(struct bc_transport *t, struct tmulti *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode code = msg->data.result; /* msg dies on remove */
		char *priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		struct xfer *x = (struct xfer *)(void *)priv;
		curl_multi_remove_handle(m->multi, e);
		finish(t, x, code, NULL);
	}
}

static void recycle(struct bc_transport *t, struct xfer *x)
{
	hdrlist_unref(x->hdrs);
	x->hdrs = NULL;
	if (x->body.cap > BODY_KEEP_CAP)
		bc_buf_release(&x->body);
	else
		bc_buf_reset(&x->body);
	x->state = X_FREE;
	x->next = t->free_list;
	t->free_list = x;
}

/* ---- lifecycle --------------------------------------------------------- */

static int easy_setup(struct bc_transport *t, struct xfer *x)
{
	CURL *e = curl_easy_init();
	if (!e)
		return BC_ENOMEM;
	x->easy = e;
	CURLcode c = CURLE_OK;
#define SET(opt, val)                                                        \
	do {                                                                 \
		if (!c)                                                      \
			c = curl_easy_setopt(e, opt, val);                   \
	} while (0)
	SET(CURLOPT_PRIVATE, (void *)x);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, (void *)x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_PREREQFUNCTION, on_prereq);
	SET(CURLOPT_PREREQDATA, (void *)x);
	SET(CURLOPT_TIMEOUT_MS, t->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
	/* Provider answers are a few hundred bytes; libcurl's 16 KiB receive
	 * buffer per handle would be most of the memory at 10,000 in flight. */
	SET(CURLOPT_BUFFERSIZE, 4096L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "bulkcall/" BC_VERSION);
	SET(CURLOPT_SHARE, t->share);
	if (t->cacert)
		SET(CURLOPT_CAINFO, t->cacert);
	if (t->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->proxy)
		SET(CURLOPT_PROXY, t->proxy);
#undef SET
	return c == CURLE_OK ? BC_OK : BC_ENOMEM;
}

static int multi_setup(struct bc_transport *t, struct tmulti *m,
		       long maxconnects)
{
	m->t = t;
	m->due_ms = -1;
	if (!(m->multi = curl_multi_init()))
		return BC_ENOMEM;
	CURLMcode c = CURLM_OK;
#define MSET(opt, val)                                                       \
	do {                                                                 \
		if (!c)                                                      \
			c = curl_multi_setopt(m->multi, opt, val);           \
	} while (0)
	MSET(CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	MSET(CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	MSET(CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	MSET(CURLMOPT_MAXCONNECTS, maxconnects);
	if (t->loop == BC_LOOP_EPOLL) {
		MSET(CURLMOPT_SOCKETFUNCTION, on_socket);
		MSET(CURLMOPT_SOCKETDATA, (void *)m);
		MSET(CURLMOPT_TIMERFUNCTION, on_timer);
		MSET(CURLMOPT_TIMERDATA, (void *)m);
	}
#undef MSET
	return c == CURLM_OK ? BC_OK : BC_ENOMEM;
}

static char *dup_opt(const char *s, int *err)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*err = BC_ENOMEM;
	return d;
}

int bc_transport_new(struct bc_transport **out,
		     const struct bc_transport_options *o, char *err,
		     size_t errlen)
{
	static const struct bc_transport_options zero;
	struct bc_transport *t;
	int result = BC_OK;

	*out = NULL;
	if (!o)
		o = &zero;
	if (!(t = calloc(1, sizeof(*t)))) {
		set_err(err, errlen, "out of memory");
		return BC_ENOMEM;
	}
	t->epfd = -1;
	t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
	t->connect_timeout_ms = o->connect_timeout_ms > 0
					? o->connect_timeout_ms
					: DEF_CONNECT_TIMEOUT_MS;
	t->max_body = o->max_body ? o->max_body : DEF_MAX_BODY;
	t->insecure = o->insecure;
	t->no_resend = o->no_resend;
	t->loop = o->loop;
	t->cacert = dup_opt(o->cacert, &result);
	t->proxy = dup_opt(o->proxy, &result);
	if (result) {
		set_err(err, errlen, "out of memory");
		goto out;
	}

	if (t->proxy && !url_ok(t->proxy)) {
		set_err(err, errlen, "bad proxy URL '%s'", t->proxy);
		result = BC_EINVAL;
		goto out;
	}
	if (t->cacert && access(t->cacert, R_OK)) {
		set_err(err, errlen, "cannot read CA file '%s': %s", t->cacert,
			strerror(errno));
		result = BC_EIO;
		goto out;
	}
	for (size_t i = 0; i < o->nheaders; i++) {
		const char *l = o->headers[i];
		const char *colon = strchr(l, ':');
		if (!colon) {
			set_err(err, errlen, "bad header '%s': no ':'", l);
			result = BC_EINVAL;
			goto out;
		}
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		result = header_set(t, l, (size_t)(colon - l), v, strlen(v));
		if (result) {
			/* never echo the value: it may be a credential */
			set_err(err, errlen,
				"bad header '%.*s': the name must be a token "
				"and the value must not hold CR or LF",
				(int)(colon - l), l);
			goto out;
		}
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		set_err(err, errlen, "cannot initialise libcurl");
		result = BC_ENOMEM;
		goto out;
	}
	t->global_init = 1;

	/* One DNS cache and one TLS session cache for all multi handles; the
	 * connection pools stay per handle (that is the point of K handles).
	 * Single thread: no lock callbacks. */
	if (!(t->share = curl_share_init()) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		set_err(err, errlen, "cannot create a libcurl share handle");
		result = BC_ENOMEM;
		goto out;
	}

	if (t->loop == BC_LOOP_EPOLL &&
	    (t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		set_err(err, errlen, "epoll_create1: %s", strerror(errno));
		result = BC_EIO;
		goto out;
	}

	size_t max = o->max_in_flight ? o->max_in_flight : DEF_MAX_IN_FLIGHT;
	size_t per = o->conns_per_multi ? o->conns_per_multi
					: DEF_CONNS_PER_MULTI;
	if (per > max)
		per = max;
	t->nmulti = (max + per - 1) / per;
	/* Least-loaded placement keeps every handle at or under
	 * ceil(max / nmulti); keep that many idle connections and a margin. */
	size_t each = (max + t->nmulti - 1) / t->nmulti;
	long maxconnects = (long)(each + each / 4 + 4);
	/* One spare record: the one handed out by next_done stays readable
	 * while a full window is in flight again. */
	t->nxfers = max + 1;
	t->multis = calloc(t->nmulti, sizeof(*t->multis));
	t->xfers = calloc(t->nxfers, sizeof(*t->xfers));
	if (!t->multis || !t->xfers) {
		set_err(err, errlen, "out of memory");
		result = BC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->nmulti; i++) {
		if ((result = multi_setup(t, &t->multis[i], maxconnects))) {
			set_err(err, errlen, "cannot create a libcurl multi handle");
			goto out;
		}
	}
	for (size_t i = t->nxfers; i-- > 0;) {
		struct xfer *x = &t->xfers[i];
		bc_buf_init(&x->body, t->max_body);
		x->next = t->free_list;
		t->free_list = x;
	}

out:
	if (result) {
		bc_transport_free(t);
		return result;
	}
	*out = t;
	return BC_OK;
}

void bc_transport_free(struct bc_transport *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->xfers && i < t->nxfers; i++) {
		struct xfer *x = &t->xfers[i];
		if (x->state == X_FLIGHT)
			curl_multi_remove_handle(x->m->multi, x->easy);
		if (x->easy)
			curl_easy_cleanup(x->easy);
		hdrlist_unref(x->hdrs);
		bc_buf_release(&x->body);
	}
	for (size_t i = 0; t->multis && i < t->nmulti; i++)
		if (t->multis[i].multi)
			curl_multi_cleanup(t->multis[i].multi);
	if (t->share)
		curl_share_cleanup(t->share);
	if (t->global_init)
		curl_global_cleanup();
	if (t->epfd >= 0)
		close(t->epfd);
	for (struct tsock *s = t->sock_free, *n; s; s = n) {
		n = s->next;
		free(s);
	}
	for (struct tsock *s = t->sock_grave, *n; s; s = n) {
		n = s->next;
		free(s);
	}
	hdr_cache_clear(t);
	for (size_t i = 0; i < t->nhdr; i++)
		free(t->hdr_lines[i]);
	free(t->hdr_lines);
	free(t->xfers);
	free(t->multis);
	free(t->cacert);
	free(t->proxy);
	free(t);
}

/* ---- submitting -------------------------------------------------------- */

static int set_method(CURL *e, const char *method, const char *body,
		      size_t body_len)
{
	CURLcode c;
	int head = !strcmp(method, "HEAD");
	c = curl_easy_setopt(e, CURLOPT_NOBODY, (long)head);
	if (!c && body) {
		c = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				     (curl_off_t)body_len);
		if (!c)
			c = curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	} else if (!c && !head) {
		c = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	/* GET, HEAD and POST are what the options above already send. */
	int plain = head || (!strcmp(method, "GET") && !body) ||
		    (!strcmp(method, "POST") && body);
	if (!c)
		c = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
				     plain ? NULL : method);
	return c ? BC_ENOMEM : BC_OK;
}

static struct tmulti *least_loaded(struct bc_transport *t)
{
	/* A finished transfer leaves an idle connection in its handle's pool
	 * and lowers that handle's count, so the least-loaded handle is also
	 * the one most likely to hold an idle connection: placement stays
	 * sticky in steady state without tracking connections. */
	struct tmulti *best = &t->multis[0];
	for (size_t i = 1; i < t->nmulti && best->in_flight; i++)
		if (t->multis[i].in_flight < best->in_flight)
			best = &t->multis[i];
	return best;
}

int bc_transport_submit(struct bc_transport *t, uint64_t tag,
			const char *method, const char *url, const char *body,
			size_t body_len, const char *content_type)
{
	if (!method || !url || !is_token(method, strlen(method)) ||
	    !url_ok(url) ||
	    (content_type && !value_ok(content_type, strlen(content_type))))
		return BC_EINVAL;
	/* The spare record is the one next_done handed out last. */
	if (t->in_flight + t->ndone >= t->nxfers - 1 || !t->free_list)
		return BC_ETOOBIG;

	struct hdrlist *h = hdrlist_get(t, content_type);
	if (!h)
		return BC_ENOMEM;
	struct xfer *x = t->free_list;
	if (!x->easy && easy_setup(t, x)) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		x->easy = NULL;
		return BC_ENOMEM;
	}
	CURL *e = x->easy;
	/* https: a new transfer waits for a connection being set up, which may
	 * turn out to be HTTP/2, rather than opening one more. Not for http:
	 * there libcurl learns the connection is HTTP/1.1 only from the first
	 * response, and everything would wait for it. */
	long pipewait = eq_nocase(url, "https:", 6); /* stops at url's NUL */
	if (set_method(e, method, body, body_len) ||
	    curl_easy_setopt(e, CURLOPT_URL, url) ||
	    curl_easy_setopt(e, CURLOPT_PIPEWAIT, pipewait) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->slist))
		return BC_ENOMEM;

	struct tmulti *m = least_loaded(t);
	x->tag = tag;
	x->prereq = 0;
	x->no_resend = t->no_resend;
	x->too_big = 0;
	x->retry_after[0] = '\0';
	x->errbuf[0] = '\0';
	if (curl_multi_add_handle(m->multi, e))
		return BC_ENOMEM;
	t->free_list = x->next;
	x->next = NULL;
	h->refs++;
	x->hdrs = h;
	x->m = m;
	x->state = X_FLIGHT;
	m->in_flight++;
	t->in_flight++;
	return BC_OK;
}

/* ---- the loop ---------------------------------------------------------- */

static void run_timers(struct bc_transport *t, int64_t now, int64_t *next)
{
	int running;
	*next = -1;
	for (size_t i = 0; i < t->nmulti; i++) {
		struct tmulti *m = &t->multis[i];
		if (m->due_ms >= 0 && m->due_ms <= now) {
			m->due_ms = -1; /* the call below may set it again */
			curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT,
						 0, &running);
			read_info(t, m);
		}
		if (m->due_ms >= 0 && (*next < 0 || m->due_ms < *next))
			*next = m->due_ms;
	}
}

static int poll_epoll(struct bc_transport *t, int timeout_ms)
{
	struct epoll_event ev[EPOLL_BATCH];
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int running;

	for (;;) {
		int64_t now = now_ms(), next;
		run_timers(t, now, &next);
		/* Even when timers finished something, look at the sockets once
		 * (without waiting): returning straight away would let the
		 * timer-driven transfers starve the socket-driven ones. */
		int64_t wait = t->done_head ? 0 : deadline - now;
		if (next >= 0 && next - now < wait)
			wait = next - now;
		if (wait < 0)
			wait = 0;
		int n = epoll_wait(t->epfd, ev, EPOLL_BATCH, (int)wait);
		if (n < 0) {
			if (errno == EINTR)
				break;
			return BC_EIO;
		}
		for (int i = 0; i < n; i++) {
			struct tsock *s = ev[i].data.ptr;
			if (s->fd == CURL_SOCKET_BAD)
				continue; /* removed earlier in this batch */
			int flags = 0;
			if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
				flags |= CURL_CSELECT_IN;
			if (ev[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (ev[i].events & EPOLLERR)
				flags |= CURL_CSELECT_ERR;
			struct tmulti *m = s->m;
			curl_multi_socket_action(m->multi, s->fd, flags,
						 &running);
			read_info(t, m);
		}
		bury(t);
		if (t->done_head || now_ms() >= deadline) {
			/* one last look at timers that fell due meanwhile */
			if (!t->done_head)
				run_timers(t, now_ms(), &next);
			break;
		}
	}
	return (int)t->ndone;
}

/* curl_multi_perform walks every transfer of a handle on every call; kept
 * for the measurement in docs/transport.md. */
static int poll_multi(struct bc_transport *t, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int running;

	for (;;) {
		for (size_t i = 0; i < t->nmulti; i++) {
			struct tmulti *m = &t->multis[i];
			if (!m->in_flight)
				continue;
			curl_multi_perform(m->multi, &running);
			read_info(t, m);
		}
		int64_t left = deadline - now_ms();
		if (t->done_head || left <= 0)
			break;
		struct tmulti *m = &t->multis[t->poll_rr++ % t->nmulti];
		if (t->nmulti > 1 && left > POLL_SLICE_MS)
			left = POLL_SLICE_MS;
		if (curl_multi_poll(m->multi, NULL, 0, (int)left, NULL))
			return BC_EIO;
	}
	return (int)t->ndone;
}

int bc_transport_poll(struct bc_transport *t, int timeout_ms)
{
	switch (t->loop) {
	case BC_LOOP_EPOLL:
		return poll_epoll(t, timeout_ms);
	case BC_LOOP_POLL:
		return poll_multi(t, timeout_ms);
	}
	return BC_EINVAL;
}

int bc_transport_next_done(struct bc_transport *t,
			   struct bc_transfer_done *out)
{
	if (t->taken) {
		recycle(t, t->taken);
		t->taken = NULL;
	}
	struct xfer *x = t->done_head;
	if (!x)
		return 0;
	t->done_head = x->next;
	if (!t->done_head)
		t->done_tail = NULL;
	t->ndone--;
	x->state = X_TAKEN;
	t->taken = x;
	*out = x->done;
	return 1;
}

size_t bc_transport_in_flight(const struct bc_transport *t)
{
	return t->in_flight;
}

void bc_transport_abort_all(struct bc_transport *t)
{
	for (size_t i = 0; i < t->nxfers; i++) {
		struct xfer *x = &t->xfers[i];
		if (x->state != X_FLIGHT)
			continue;
		curl_multi_remove_handle(x->m->multi, x->easy);
		finish(t, x, CURLE_ABORTED_BY_CALLBACK,
		       "abandoned: interrupted while in flight");
	}
	bury(t); /* sockets closed above; no epoll batch is running */
}
