/* HTTP transport over libcurl's multi interface (include/bulkcall/transport.h).
 * Owns the easy-handle pool, K multi handles of ~conns_per_multi transfers
 * each, the loops (an epoll set each) that drive them — in the caller's
 * thread or in worker threads — and the per-run header lists.
 * The only file of the project that includes curl/curl.h; it knows nothing
 * of rows, profiles or the scheduler. Design: docs/transport.md. */
#define _GNU_SOURCE /* epoll, eventfd */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
#define MAX_THREADS 64u
#define USER_AGENT "bulkcall/" BC_VERSION

/* A worker with nothing due still looks at its wake-up queue this often. */
#define WORKER_IDLE_MS 1000
/* A body buffer that grew past this is freed when its handle is recycled,
 * so 10,000 idle handles never pin 10,000 large buffers. */
#define BODY_KEEP_CAP (64u * 1024u)
#define RETRY_AFTER_MAX 128u
#define EPOLL_BATCH 256
/* curl_multi_poll with several multi handles can only block on one of
 * them: it waits at most this long on each in turn (bench comparison only). */
#define POLL_SLICE_MS 1

/* Kept by the owning (caller's) thread; a worker never reads it. */
enum xstate {
	X_FREE,   /* on the free list */
	X_FLIGHT, /* submitted: in a multi handle, or on its way to one */
	X_DONE,   /* finished, on the done queue */
	X_TAKEN   /* handed out by next_done; recycled on the next call */
};

struct tmulti;
struct tloop;

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

/* A transfer. Between submit and its done record a worker thread owns
 * everything the loop touches (m, the active links, the callbacks' fields,
 * done); the hand-over queues' locks order the two threads' accesses. */
struct xfer {
	CURL *easy;          /* created on first use, reused for good */
	struct tloop *loop;  /* its home for good: see loop_add */
	/* the request, as submitted (the caller keeps the strings alive) */
	const char *method, *url, *req_body;
	size_t req_len;
	/* The URL the handle holds, also parsed into uh and handed to libcurl
	 * as CURLOPT_CURLU: the same URL again (a profile's one endpoint, row
	 * after row) is neither set nor parsed again. NULL: set it. */
	char *uh_url;
	CURLU *uh;
	long pipewait;
	int prepared;        /* the handle holds the request already */
	struct tmulti *m;    /* while in a multi handle (loop's field) */
	struct xfer *aprev, *anext; /* the loop's active list */
	struct hdrlist *hdrs;
	struct xfer *next;   /* free list, inbox, finished or done queue */
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
	struct tloop *loop;
	size_t in_flight;
	int64_t due_ms; /* libcurl's timer for this handle, -1: none */
};

/* A socket libcurl asked us to watch, registered with epoll once and found
 * again through curl_multi_assign(). Sockets removed during one epoll batch
 * wait on the graveyard until the batch is over: a later event of the same
 * batch may still point at them.
 *
 * A connection's socket (opened and closed through our callbacks, so we
 * know when its descriptor dies) stays in the epoll set while it idles in
 * libcurl's connection cache between two requests: libcurl removes it when
 * a transfer ends and adds it again for the next one, and keeping it saves
 * two epoll_ctl calls per request. An event while it idles (the server
 * closed it) takes it out of the set; libcurl checks the connection before
 * using it again. */
struct tsock {
	curl_socket_t fd; /* CURL_SOCKET_BAD once removed */
	struct tmulti *m;
	uint32_t events;        /* as registered with epoll */
	unsigned registered : 1; /* in the epoll set */
	unsigned watched : 1;    /* libcurl wants its events */
	unsigned conn : 1;       /* a connection's socket, in l->conn_socks */
	struct tsock *next;
};

/* One epoll set and the multi handles it drives. With threads == 0 there
 * is one, driven by bc_transport_poll(); otherwise one per worker thread,
 * which alone touches everything but the inbox and the owner's counter. */
struct tloop {
	struct bc_transport *t;
	int epfd;
	struct tmulti *multis;
	size_t nmulti;
	struct tsock *sock_free, *sock_grave;
	struct tsock **conn_socks; /* by descriptor: connections' sockets */
	size_t nconn_socks;
	struct xfer *free_list;  /* owner: this loop's unused transfers */
	struct xfer *active;     /* in one of this loop's multi handles */
	size_t nactive;
	struct xfer *fin_head, *fin_tail; /* finished, not yet published */
	size_t nfin;
	size_t submitted;        /* owner: in flight on this loop */

	/* worker threads only */
	pthread_t thread;
	int started;
	int wake_fd;             /* eventfd in epfd: inbox, stop, abort */
	pthread_mutex_t lock;    /* inbox, stop, abort */
	struct xfer *inbox_head, *inbox_tail;
	int stop, abort;
};

struct bc_transport {
	long timeout_ms, connect_timeout_ms;
	char *cacert, *proxy;
	int direct; /* no proxy at all: see no_proxy_anywhere */
	int insecure;
	int no_resend;
	int readd_idle_sockets; /* benchmarks: see bc_transport_options */
	int setopt_in_caller;   /* benchmarks: see bc_transport_options */
	int publish_at_batch_end; /* benchmarks: see bc_transport_options */
	size_t max_body;
	enum bc_transport_loop loop;

	struct tloop *loops;
	size_t nloops;
	unsigned threads;
	size_t poll_rr; /* BC_LOOP_POLL: whose turn to block */
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	int share_locks_ready;

	/* Workers publish finished transfers here; the owner collects them
	 * onto its done queue. main_wake (eventfd) is written when the list
	 * goes from empty to not. */
	pthread_mutex_t pub_lock;
	int pub_ready;
	struct xfer *pub_head, *pub_tail;
	int main_wake;

	struct xfer *xfers;
	size_t nxfers;
	struct xfer *done_head, *done_tail;
	size_t ndone;
	struct xfer *taken;
	size_t in_flight;

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
	int err = BC_OK, run_ct = 0, run_ua = 0;
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
		if (n == 10 && eq_nocase(l, "user-agent", 10))
			run_ua = 1;
		err = slist_add(&h->slist, l);
	}
	if (!err && !run_ua)
		err = slist_add(&h->slist, "User-Agent: " USER_AGENT);
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

/* Retry-After of the final response, from the headers libcurl stores
 * anyway (1xx responses are kept apart). Read once the transfer is over:
 * a header callback would run for every header line of every answer. */
static void read_retry_after(CURL *e, struct xfer *x)
{
	struct curl_header *h;
	x->retry_after[0] = '\0';
	if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &h) !=
		    CURLHE_OK ||
	    !h->value)
		return;
	snprintf(x->retry_after, sizeof(x->retry_after), "%s", h->value);
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

static void sock_release(struct tloop *l, struct tsock *s)
{
	s->fd = CURL_SOCKET_BAD;
	s->next = l->sock_grave;
	l->sock_grave = s;
}

/* Once an epoll batch is over, removed sockets can be reused. */
static void bury(struct tloop *l)
{
	while (l->sock_grave) {
		struct tsock *s = l->sock_grave;
		l->sock_grave = s->next;
		s->next = l->sock_free;
		l->sock_free = s;
	}
}

static struct tsock *sock_new(struct tloop *l, curl_socket_t fd,
			      struct tmulti *m)
{
	struct tsock *s = l->sock_free;
	if (s)
		l->sock_free = s->next;
	else if (!(s = malloc(sizeof(*s))))
		return NULL;
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->m = m;
	return s;
}

static struct tsock *conn_sock(const struct tloop *l, curl_socket_t fd)
{
	return fd >= 0 && (size_t)fd < l->nconn_socks ? l->conn_socks[fd]
						       : NULL;
}

/* libcurl opens a connection's socket: remembered, so that it can idle in
 * the epoll set (see struct tsock). */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *a)
{
	(void)purpose;
	struct tloop *l = clientp;
	curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC,
				  a->protocol);
	if (fd < 0 || !l || l->t->readd_idle_sockets)
		return fd;
	if ((size_t)fd >= l->nconn_socks) {
		size_t n = l->nconn_socks ? l->nconn_socks : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct tsock **v = realloc(l->conn_socks, n * sizeof *v);
		if (!v)
			return fd; /* an ordinary socket: removed when idle */
		memset(v + l->nconn_socks, 0,
		       (n - l->nconn_socks) * sizeof *v);
		l->conn_socks = v;
		l->nconn_socks = n;
	}
	/* A descriptor closed behind our back left its entry: gone from the
	 * epoll set with the close, so only the record goes. */
	if (l->conn_socks[fd])
		sock_release(l, l->conn_socks[fd]);
	struct tsock *s = sock_new(l, fd, NULL);
	if (s) {
		s->conn = 1;
		l->conn_socks[fd] = s;
	}
	return fd;
}

/* Closing a descriptor takes it out of every epoll set. */
static int on_close_socket(void *clientp, curl_socket_t fd)
{
	struct tloop *l = clientp;
	struct tsock *s = l ? conn_sock(l, fd) : NULL;
	if (s) {
		l->conn_socks[fd] = NULL;
		sock_release(l, s);
	}
	return close(fd);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	(void)easy;
	struct tmulti *m = userp;
	struct tloop *l = m->loop;
	struct tsock *s = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (!s)
			return 0;
		curl_multi_assign(m->multi, fd, NULL);
		if (s->conn) {
			s->watched = 0; /* idles in the set */
			return 0;
		}
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		sock_release(l, s);
		return 0;
	}

	uint32_t ev = 0;
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	struct epoll_event e = { .events = ev };

	if (!s && (s = conn_sock(l, fd))) {
		s->m = m;
		curl_multi_assign(m->multi, fd, s);
	} else if (!s) {
		if (!(s = sock_new(l, fd, m)))
			return -1;
		curl_multi_assign(m->multi, fd, s);
	}
	s->watched = 1;
	if (s->registered && s->events == ev)
		return 0;
	e.data.ptr = s;
	int op = s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &e) &&
	    (op != EPOLL_CTL_ADD || errno != EEXIST ||
	     epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e))) {
		curl_multi_assign(m->multi, fd, NULL);
		if (s->conn)
			s->registered = 0;
		else
			sock_release(l, s);
		return -1;
	}
	s->registered = 1;
	s->events = ev;
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

/* Appends x to a queue of transfers linked through next. */
static void xqueue_push(struct xfer **head, struct xfer **tail,
			struct xfer *x)
{
	x->next = NULL;
	if (*tail)
		(*tail)->next = x;
	else
		*head = x;
	*tail = x;
}

/* Owner: a finished transfer joins the done queue. */
static void push_done(struct bc_transport *t, struct xfer *x)
{
	x->state = X_DONE;
	xqueue_push(&t->done_head, &t->done_tail, x);
	t->ndone++;
	t->in_flight--;
	x->loop->submitted--;
}

static void active_link(struct tloop *l, struct xfer *x)
{
	x->aprev = NULL;
	x->anext = l->active;
	if (l->active)
		l->active->aprev = x;
	l->active = x;
	l->nactive++;
}

static void active_unlink(struct tloop *l, struct xfer *x)
{
	if (x->aprev)
		x->aprev->anext = x->anext;
	else
		l->active = x->anext;
	if (x->anext)
		x->anext->aprev = x->aprev;
	x->aprev = x->anext = NULL;
	l->nactive--;
}

static void publish(struct tloop *l);

/* Worker: whether the batch's finished transfers go to the owner now
 * rather than at the batch's end. A batch can hold an event for most of
 * the loop's transfers, and a transfer finished early in it would wait for
 * all of them before the owner could send the next row: at 100 in flight
 * that idled the window for a good part of each round trip. Once an
 * eighth of the loop's window has finished, the owner gets them; with
 * 1,000 in flight (500 a worker) that is a few hand-overs per batch of up
 * to EPOLL_BATCH events, each one lock. */
static int publish_now(const struct tloop *l)
{
	if (l->t->publish_at_batch_end)
		return 0;
	size_t every = l->nactive / 8;
	return l->nfin >= (every > 4 ? every : 4);
}

/* Loop: fills x's done record from its easy handle, already out of its
 * multi (or never added), and hands it on: straight to the done queue in
 * the caller's thread, to the finished list of a worker's batch otherwise. */
static void finish(struct tloop *l, struct xfer *x, CURLcode code,
		   const char *why)
{
	struct bc_transport *t = l->t;
	struct bc_transfer_done *d = &x->done;
	CURL *e = x->easy;
	long status = 0;
	curl_off_t total_us = 0;
	char *ct = NULL;

	/* Not in a multi handle: refused before libcurl ran it, and the
	 * handle (if any) still holds the previous transfer's figures. */
	if (e && x->m) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
		curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);
		read_retry_after(e, x);
	}

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

	if (x->m) {
		x->m->in_flight--;
		x->m = NULL;
		active_unlink(l, x);
	}
	if (!t->threads) {
		push_done(t, x);
		return;
	}
	xqueue_push(&l->fin_head, &l->fin_tail, x);
	l->nfin++;
	if (publish_now(l))
		publish(l);
}

static void read_info(struct tloop *l, struct tmulti *m)
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
		finish(l, x, code, NULL);
	}
}

static void recycle(struct xfer *x)
{
	hdrlist_unref(x->hdrs);
	x->hdrs = NULL;
	if (x->body.cap > BODY_KEEP_CAP)
		bc_buf_release(&x->body);
	else
		bc_buf_reset(&x->body);
	x->state = X_FREE;
	x->next = x->loop->free_list;
	x->loop->free_list = x;
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
	/* The header lists carry User-Agent (see hdrlist_get); libcurl's own
	 * is printed afresh for every transfer, and only a proxy's CONNECT
	 * still needs it. */
	if (!t->direct)
		SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_SHARE, t->share);
	if (t->loop == BC_LOOP_EPOLL) {
		/* a connection's socket belongs to the loop whose multi handle
		 * opens it: the transfer's home */
		SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		SET(CURLOPT_OPENSOCKETDATA, (void *)x->loop);
		SET(CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
		SET(CURLOPT_CLOSESOCKETDATA, (void *)x->loop);
	}
	if (t->cacert)
		SET(CURLOPT_CAINFO, t->cacert);
	if (t->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (t->proxy) {
		SET(CURLOPT_PROXY, t->proxy);
	} else if (t->direct) {
		/* what libcurl would find in the environment at every
		 * transfer: no proxy */
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "");
	}
#undef SET
	return c == CURLE_OK ? BC_OK : BC_ENOMEM;
}

static int multi_setup(struct tloop *l, struct tmulti *m, long maxconnects)
{
	m->loop = l;
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
	if (l->t->loop == BC_LOOP_EPOLL) {
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

/* The share handle is used from every worker: libcurl asks for its locks. */
static void share_lock(CURL *e, curl_lock_data data, curl_lock_access acc,
		       void *ud)
{
	(void)e;
	(void)acc;
	struct bc_transport *t = ud;
	pthread_mutex_lock(&t->share_locks[data]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *ud)
{
	(void)e;
	struct bc_transport *t = ud;
	pthread_mutex_unlock(&t->share_locks[data]);
}

static int share_setup(struct bc_transport *t)
{
	if (!(t->share = curl_share_init()))
		return BC_ENOMEM;
	if (t->threads) {
		for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_init(&t->share_locks[i], NULL);
		t->share_locks_ready = 1;
		if (curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock) ||
		    curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC,
				      share_unlock) ||
		    curl_share_setopt(t->share, CURLSHOPT_USERDATA, (void *)t))
			return BC_ENOMEM;
	}
	if (curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(t->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION))
		return BC_ENOMEM;
	return BC_OK;
}

static void *worker_main(void *arg);

/* Loop i of n gets its share of the nmulti multi handles (at least one). */
static int loop_setup(struct bc_transport *t, struct tloop *l, size_t nmulti,
		      long maxconnects, char *err, size_t errlen)
{
	l->t = t;
	l->epfd = -1;
	l->wake_fd = -1;
	if (t->loop == BC_LOOP_EPOLL &&
	    (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		set_err(err, errlen, "epoll_create1: %s", strerror(errno));
		return BC_EIO;
	}
	if (!(l->multis = calloc(nmulti, sizeof(*l->multis)))) {
		set_err(err, errlen, "out of memory");
		return BC_ENOMEM;
	}
	for (; l->nmulti < nmulti; l->nmulti++) {
		if (multi_setup(l, &l->multis[l->nmulti], maxconnects)) {
			set_err(err, errlen, "cannot create a libcurl multi handle");
			return BC_ENOMEM;
		}
	}
	/* epoll data NULL marks the wake-up descriptor (sockets carry theirs) */
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	if (!t->threads) {
		/* bc_transport_wake() interrupts the caller's own epoll_wait */
		if (l->epfd >= 0 &&
		    epoll_ctl(l->epfd, EPOLL_CTL_ADD, t->main_wake, &e)) {
			set_err(err, errlen, "epoll_ctl: %s", strerror(errno));
			return BC_EIO;
		}
		return BC_OK;
	}
	pthread_mutex_init(&l->lock, NULL);
	if ((l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &e)) {
		set_err(err, errlen, "eventfd: %s", strerror(errno));
		return BC_EIO;
	}
	/* Signals (Ctrl-C) belong to the caller's thread, whose poll they
	 * interrupt: the workers block them all. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&l->thread, NULL, worker_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		set_err(err, errlen, "cannot start a transport thread: %s",
			strerror(r));
		return BC_ENOMEM;
	}
	l->started = 1;
	return BC_OK;
}

/* libcurl reads these for every transfer that has no CURLOPT_PROXY (about
 * 2 % of a request's instructions). The environment does not change during
 * a run, so when none is set, saying "no proxy" once is the same. */
static int no_proxy_anywhere(void)
{
	static const char *const vars[] = {
		"no_proxy",    "NO_PROXY",  "http_proxy", "https_proxy",
		"HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]))
			return 0;
	return 1;
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
	t->main_wake = -1;
	t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
	t->connect_timeout_ms = o->connect_timeout_ms > 0
					? o->connect_timeout_ms
					: DEF_CONNECT_TIMEOUT_MS;
	t->max_body = o->max_body ? o->max_body : DEF_MAX_BODY;
	t->insecure = o->insecure;
	t->no_resend = o->no_resend;
	t->readd_idle_sockets = o->readd_idle_sockets;
	t->setopt_in_caller = o->setopt_in_caller;
	t->publish_at_batch_end = o->publish_at_batch_end;
	t->loop = o->loop;
	t->threads = o->threads;
	t->cacert = dup_opt(o->cacert, &result);
	t->proxy = dup_opt(o->proxy, &result);
	t->direct = !t->proxy && no_proxy_anywhere();
	if (result) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	if (t->threads && (t->loop != BC_LOOP_EPOLL || t->threads > MAX_THREADS)) {
		set_err(err, errlen, "transport threads: 1 to %u, epoll loop only",
			MAX_THREADS);
		result = BC_EINVAL;
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
	 * connection pools stay per handle (that is the point of K handles). */
	if ((result = share_setup(t))) {
		set_err(err, errlen, "cannot create a libcurl share handle");
		goto out;
	}
	pthread_mutex_init(&t->pub_lock, NULL);
	t->pub_ready = 1;
	if ((t->main_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		set_err(err, errlen, "eventfd: %s", strerror(errno));
		result = BC_EIO;
		goto out;
	}

	size_t max = o->max_in_flight ? o->max_in_flight : DEF_MAX_IN_FLIGHT;
	size_t per = o->conns_per_multi ? o->conns_per_multi
					: DEF_CONNS_PER_MULTI;
	if (per > max)
		per = max;
	size_t nmulti = (max + per - 1) / per;
	t->nloops = t->threads ? t->threads : 1;
	if (nmulti < t->nloops)
		nmulti = t->nloops;
	/* Least-loaded placement keeps every handle at or under
	 * ceil(max / nmulti); keep that many idle connections and a margin. */
	size_t each = (max + nmulti - 1) / nmulti;
	long maxconnects = (long)(each + each / 4 + 4);
	/* One spare record: the one handed out by next_done stays readable
	 * while a full window is in flight again. */
	t->nxfers = max + 1;
	t->loops = calloc(t->nloops, sizeof(*t->loops));
	t->xfers = calloc(t->nxfers, sizeof(*t->xfers));
	if (!t->loops || !t->xfers) {
		set_err(err, errlen, "out of memory");
		result = BC_ENOMEM;
		goto out;
	}
	for (size_t i = t->nxfers; i-- > 0;) {
		struct xfer *x = &t->xfers[i];
		bc_buf_init(&x->body, t->max_body);
		x->loop = &t->loops[i % t->nloops];
		x->next = x->loop->free_list;
		x->loop->free_list = x;
	}
	for (size_t i = 0; i < t->nloops; i++) {
		size_t share = nmulti / t->nloops + (i < nmulti % t->nloops);
		result = loop_setup(t, &t->loops[i], share, maxconnects, err,
				    errlen);
		if (result)
			goto out;
	}

out:
	if (result) {
		bc_transport_free(t);
		return result;
	}
	*out = t;
	return BC_OK;
}

static void wake(int fd)
{
	uint64_t one = 1;
	/* EAGAIN: the counter is already set, which is all a wake-up needs. */
	while (write(fd, &one, sizeof one) < 0 && errno == EINTR)
		;
}

static void drain_wake(int fd)
{
	uint64_t v;
	while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
		;
}

static void loop_release(struct tloop *l)
{
	if (l->started) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		pthread_mutex_unlock(&l->lock);
		wake(l->wake_fd);
		pthread_join(l->thread, NULL);
	}
	/* Joined (or never started): everything is the caller's now. */
	for (struct xfer *x = l->active; x; x = x->anext)
		curl_multi_remove_handle(x->m->multi, x->easy);
	for (size_t i = 0; l->multis && i < l->nmulti; i++)
		if (l->multis[i].multi)
			curl_multi_cleanup(l->multis[i].multi);
	free(l->multis);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	if (l->t->threads)
		pthread_mutex_destroy(&l->lock);
	/* Connections not closed through on_close_socket (none expected). */
	for (size_t i = 0; i < l->nconn_socks; i++)
		if (l->conn_socks[i])
			sock_release(l, l->conn_socks[i]);
	free(l->conn_socks);
	l->conn_socks = NULL;
	l->nconn_socks = 0;
	bury(l);
	for (struct tsock *s = l->sock_free, *n; s; s = n) {
		n = s->next;
		free(s);
	}
}

void bc_transport_free(struct bc_transport *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->loops && i < t->nloops; i++)
		if (t->loops[i].t)
			loop_release(&t->loops[i]);
	for (size_t i = 0; t->xfers && i < t->nxfers; i++) {
		struct xfer *x = &t->xfers[i];
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_url_cleanup(x->uh);
		free(x->uh_url);
		hdrlist_unref(x->hdrs);
		bc_buf_release(&x->body);
	}
	if (t->share)
		curl_share_cleanup(t->share);
	if (t->share_locks_ready)
		for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_destroy(&t->share_locks[i]);
	if (t->pub_ready)
		pthread_mutex_destroy(&t->pub_lock);
	if (t->main_wake >= 0)
		close(t->main_wake);
	if (t->global_init)
		curl_global_cleanup();
	hdr_cache_clear(t);
	for (size_t i = 0; i < t->nhdr; i++)
		free(t->hdr_lines[i]);
	free(t->hdr_lines);
	free(t->xfers);
	free(t->loops);
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

/* libcurl parses CURLOPT_URL afresh for every transfer, and prints the
 * normalised URL back out a character at a time: about 4 % of a request's
 * CPU in the profile. A URL parsed once into a CURLU skips both; the URL
 * is set as well so that libcurl reports it (errors, effective URL) as
 * before. A URL the parser refuses goes to libcurl alone, which fails the
 * transfer with its own error, as it did before. */
static int set_url(CURL *e, struct xfer *x)
{
	if (x->uh_url && !strcmp(x->uh_url, x->url))
		return BC_OK;
	free(x->uh_url);
	x->uh_url = NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, x->url))
		return BC_ENOMEM;
	if (!x->uh && !(x->uh = curl_url()))
		return BC_ENOMEM;
	/* the flags libcurl's own parse uses */
	CURLUcode uc = curl_url_set(x->uh, CURLUPART_URL, x->url,
				    CURLU_GUESS_SCHEME |
					    CURLU_NON_SUPPORT_SCHEME);
	if (uc) {
		curl_easy_setopt(e, CURLOPT_CURLU, (CURLU *)NULL);
		return uc == CURLUE_OUT_OF_MEMORY ? BC_ENOMEM : BC_OK;
	}
	if (!(x->uh_url = strdup(x->url)) ||
	    curl_easy_setopt(e, CURLOPT_CURLU, x->uh)) {
		curl_easy_setopt(e, CURLOPT_CURLU, (CURLU *)NULL);
		free(x->uh_url);
		x->uh_url = NULL;
		return BC_ENOMEM;
	}
	return BC_OK;
}

static struct tmulti *least_loaded(struct tloop *l)
{
	/* A finished transfer leaves an idle connection in its handle's pool
	 * and lowers that handle's count, so the least-loaded handle is also
	 * the one most likely to hold an idle connection: placement stays
	 * sticky in steady state without tracking connections. */
	struct tmulti *best = &l->multis[0];
	for (size_t i = 1; i < l->nmulti && best->in_flight; i++)
		if (l->multis[i].in_flight < best->in_flight)
			best = &l->multis[i];
	return best;
}

/* Loop: sets the request on the handle and adds it to the least-loaded
 * multi handle. Returns NULL or why it cannot go (nothing was sent).
 *
 * A transfer stays with one loop for good, and every libcurl call on its
 * handle is made here, by that loop's thread: libcurl frees at the next
 * curl_easy_setopt what it allocated during the last transfer (the URL
 * it normalised, say), and a free from another thread goes back to the
 * allocating thread's malloc arena under its lock. Made by the owner's
 * thread, those frees contended with the workers at every request (about
 * 40,000 futex calls per 200,000 requests). */
static const char *prepare(struct bc_transport *t, struct xfer *x)
{
	if (!x->easy && easy_setup(t, x)) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		x->easy = NULL;
		return "cannot create a libcurl handle";
	}
	CURL *e = x->easy;
	if (set_method(e, x->method, x->req_body, x->req_len) ||
	    set_url(e, x) ||
	    curl_easy_setopt(e, CURLOPT_PIPEWAIT, x->pipewait) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs->slist))
		return "out of memory setting up the request";
	x->prepared = 1;
	return NULL;
}

static const char *loop_add(struct tloop *l, struct xfer *x)
{
	const char *why = x->prepared ? NULL : prepare(l->t, x);
	x->prepared = 0;
	if (why)
		return why;
	struct tmulti *m = least_loaded(l);
	CURLMcode c = curl_multi_add_handle(m->multi, x->easy);
	if (c)
		return curl_multi_strerror(c);
	x->m = m;
	m->in_flight++;
	active_link(l, x);
	return NULL;
}

/* Owner: the loop with the fewest transfers of ours among those with a
 * free transfer record (NULL: none). */
static struct tloop *loop_for_submit(struct bc_transport *t)
{
	struct tloop *best = NULL;
	for (size_t i = 0; i < t->nloops; i++) {
		struct tloop *l = &t->loops[i];
		if (l->free_list && (!best || l->submitted < best->submitted))
			best = l;
	}
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
	struct tloop *l = loop_for_submit(t);
	if (t->in_flight + t->ndone >= t->nxfers - 1 || !l)
		return BC_ETOOBIG;

	struct hdrlist *h = hdrlist_get(t, content_type);
	if (!h)
		return BC_ENOMEM;
	struct xfer *x = l->free_list;
	x->method = method;
	x->url = url;
	x->req_body = body;
	x->req_len = body_len;
	/* https: a new transfer waits for a connection being set up, which may
	 * turn out to be HTTP/2, rather than opening one more. Not for http:
	 * there libcurl learns the connection is HTTP/1.1 only from the first
	 * response, and everything would wait for it. */
	x->pipewait = eq_nocase(url, "https:", 6); /* stops at url's NUL */
	x->hdrs = h;
	x->tag = tag;
	x->prereq = 0;
	x->no_resend = t->no_resend;
	x->too_big = 0;
	x->retry_after[0] = '\0';
	x->errbuf[0] = '\0';
	x->m = NULL;
	x->prepared = 0;
	if ((!t->threads && loop_add(l, x)) ||
	    (t->threads && t->setopt_in_caller && prepare(t, x))) {
		x->hdrs = NULL; /* no reference taken */
		return BC_ENOMEM;
	}
	l->free_list = x->next;
	x->next = NULL;
	h->refs++;
	x->state = X_FLIGHT;
	l->submitted++;
	t->in_flight++;
	if (t->threads) {
		/* The worker adds it to a multi handle; from here on the
		 * transfer is the worker's until it is published back. */
		pthread_mutex_lock(&l->lock);
		int was_empty = !l->inbox_head;
		xqueue_push(&l->inbox_head, &l->inbox_tail, x);
		pthread_mutex_unlock(&l->lock);
		if (was_empty)
			wake(l->wake_fd);
	}
	return BC_OK;
}

/* ---- the loop ---------------------------------------------------------- */

static void run_timers(struct tloop *l, int64_t now, int64_t *next)
{
	int running;
	*next = -1;
	for (size_t i = 0; i < l->nmulti; i++) {
		struct tmulti *m = &l->multis[i];
		if (m->due_ms >= 0 && m->due_ms <= now) {
			m->due_ms = -1; /* the call below may set it again */
			curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT,
						 0, &running);
			read_info(l, m);
		}
		if (m->due_ms >= 0 && (*next < 0 || m->due_ms < *next))
			*next = m->due_ms;
	}
}

/* Moves the wake-up descriptor's event (data NULL) out of a batch, so that
 * what is left are sockets. Returns whether it was there. */
static int split_wake(struct epoll_event *ev, int *n)
{
	int woken = 0, k = 0;
	for (int i = 0; i < *n; i++) {
		if (!ev[i].data.ptr)
			woken = 1;
		else
			ev[k++] = ev[i];
	}
	*n = k;
	return woken;
}

/* Runs libcurl for one batch of epoll events. */
static void socket_events(struct tloop *l, const struct epoll_event *ev,
			  int n)
{
	int running;
	for (int i = 0; i < n; i++) {
		struct tsock *s = ev[i].data.ptr;
		if (s->fd == CURL_SOCKET_BAD)
			continue; /* removed earlier in this batch */
		if (!s->watched) {
			/* An idle connection with news: closed by the server,
			 * most likely. Out of the set; libcurl checks it before
			 * any reuse. */
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
			s->registered = 0;
			continue;
		}
		int flags = 0;
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & EPOLLERR)
			flags |= CURL_CSELECT_ERR;
		struct tmulti *m = s->m;
		curl_multi_socket_action(m->multi, s->fd, flags, &running);
		read_info(l, m);
	}
	bury(l);
}

/* Abandons every transfer of the loop: removed from its multi handle, it
 * comes back as MAYBE_SENT or NOT_SENT (see classify). */
static void loop_abort(struct tloop *l)
{
	while (l->active) {
		struct xfer *x = l->active;
		curl_multi_remove_handle(x->m->multi, x->easy);
		finish(l, x, CURLE_ABORTED_BY_CALLBACK,
		       "abandoned: interrupted while in flight");
	}
	bury(l); /* sockets closed above; no epoll batch is running */
}

static int poll_epoll(struct bc_transport *t, int timeout_ms)
{
	struct tloop *l = &t->loops[0];
	struct epoll_event ev[EPOLL_BATCH];
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int64_t now = now_ms(), next;
		run_timers(l, now, &next);
		/* Even when timers finished something, look at the sockets once
		 * (without waiting): returning straight away would let the
		 * timer-driven transfers starve the socket-driven ones. */
		int64_t wait = t->done_head ? 0 : deadline - now;
		if (next >= 0 && next - now < wait)
			wait = next - now;
		if (wait < 0)
			wait = 0;
		int n = epoll_wait(l->epfd, ev, EPOLL_BATCH, (int)wait);
		if (n < 0) {
			if (errno == EINTR)
				break;
			return BC_EIO;
		}
		int woken = split_wake(ev, &n);
		if (woken)
			drain_wake(t->main_wake);
		socket_events(l, ev, n);
		if (woken || t->done_head || now_ms() >= deadline) {
			/* one last look at timers that fell due meanwhile */
			if (!t->done_head)
				run_timers(l, now_ms(), &next);
			break;
		}
	}
	return (int)t->ndone;
}

/* curl_multi_perform walks every transfer of a handle on every call; kept
 * for the measurement in docs/transport.md. */
static int poll_multi(struct bc_transport *t, int timeout_ms)
{
	struct tloop *l = &t->loops[0];
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int running;

	for (;;) {
		for (size_t i = 0; i < l->nmulti; i++) {
			struct tmulti *m = &l->multis[i];
			if (!m->in_flight)
				continue;
			curl_multi_perform(m->multi, &running);
			read_info(l, m);
		}
		int64_t left = deadline - now_ms();
		if (t->done_head || left <= 0)
			break;
		struct tmulti *m = &l->multis[t->poll_rr++ % l->nmulti];
		if (l->nmulti > 1 && left > POLL_SLICE_MS)
			left = POLL_SLICE_MS;
		if (curl_multi_poll(m->multi, NULL, 0, (int)left, NULL))
			return BC_EIO;
	}
	return (int)t->ndone;
}

/* ---- worker threads ---------------------------------------------------- */

/* Worker: hands the batch's finished transfers to the owner, with one
 * lock, and wakes it when its list was empty. */
static void publish(struct tloop *l)
{
	struct bc_transport *t = l->t;
	if (!l->fin_head)
		return;
	pthread_mutex_lock(&t->pub_lock);
	int was_empty = !t->pub_head;
	if (t->pub_tail)
		t->pub_tail->next = l->fin_head;
	else
		t->pub_head = l->fin_head;
	t->pub_tail = l->fin_tail;
	pthread_mutex_unlock(&t->pub_lock);
	l->fin_head = l->fin_tail = NULL;
	l->nfin = 0;
	if (was_empty)
		wake(t->main_wake);
}

/* Worker: takes what the owner sent. Returns 1 when told to stop. */
static int take_inbox(struct tloop *l)
{
	/* Read the counter first: a submit after this point wakes us again. */
	drain_wake(l->wake_fd);
	pthread_mutex_lock(&l->lock);
	struct xfer *x = l->inbox_head;
	l->inbox_head = l->inbox_tail = NULL;
	int stop = l->stop, abort_now = l->abort;
	l->abort = 0;
	pthread_mutex_unlock(&l->lock);
	if (stop) /* bc_transport_free cleans up after the join */
		return 1;
	while (x) {
		struct xfer *n = x->next;
		x->next = NULL;
		const char *why = abort_now ? NULL : loop_add(l, x);
		if (abort_now)
			finish(l, x, CURLE_ABORTED_BY_CALLBACK,
			       "abandoned: interrupted while in flight");
		else if (why)
			/* Nothing went out: NOT_SENT, safe to send again. */
			finish(l, x, CURLE_OUT_OF_MEMORY, why);
		x = n;
	}
	if (abort_now)
		loop_abort(l);
	return 0;
}

static void *worker_main(void *arg)
{
	struct tloop *l = arg;
	struct epoll_event ev[EPOLL_BATCH];
	for (;;) {
		int64_t now = now_ms(), next;
		run_timers(l, now, &next);
		publish(l);
		int64_t wait = next < 0 ? WORKER_IDLE_MS : next - now;
		if (wait < 0)
			wait = 0;
		if (wait > WORKER_IDLE_MS)
			wait = WORKER_IDLE_MS;
		int n = epoll_wait(l->epfd, ev, EPOLL_BATCH, (int)wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* cannot happen with a valid epfd */
		}
		/* The wake-up descriptor goes last, so that no socket event of
		 * the batch can point at a transfer an abort just finished. */
		int woken = split_wake(ev, &n);
		socket_events(l, ev, n);
		if (woken && take_inbox(l))
			break;
		publish(l);
	}
	return NULL;
}

/* Owner: moves what the workers published onto the done queue. */
static void collect(struct bc_transport *t)
{
	pthread_mutex_lock(&t->pub_lock);
	struct xfer *x = t->pub_head;
	t->pub_head = t->pub_tail = NULL;
	pthread_mutex_unlock(&t->pub_lock);
	while (x) {
		struct xfer *n = x->next;
		push_done(t, x);
		x = n;
	}
}

static int poll_workers(struct bc_transport *t, int timeout_ms)
{
	collect(t);
	if (t->done_head || timeout_ms <= 0)
		return (int)t->ndone;
	struct pollfd p = { .fd = t->main_wake, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n < 0 && errno != EINTR)
		return BC_EIO;
	if (n > 0)
		drain_wake(t->main_wake);
	collect(t);
	return (int)t->ndone;
}

int bc_transport_poll(struct bc_transport *t, int timeout_ms)
{
	if (t->threads)
		return poll_workers(t, timeout_ms);
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
		recycle(t->taken);
		t->taken = NULL;
	}
	if (!t->done_head && t->threads)
		collect(t);
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

void bc_transport_wake(struct bc_transport *t)
{
	wake(t->main_wake);
}

size_t bc_transport_in_flight(const struct bc_transport *t)
{
	return t->in_flight;
}

void bc_transport_abort_all(struct bc_transport *t)
{
	if (!t->threads) {
		loop_abort(&t->loops[0]);
		return;
	}
	for (size_t i = 0; i < t->nloops; i++) {
		struct tloop *l = &t->loops[i];
		pthread_mutex_lock(&l->lock);
		l->abort = 1;
		pthread_mutex_unlock(&l->lock);
		wake(l->wake_fd);
	}
	/* Every worker finishes what it holds and publishes it. */
	for (;;) {
		collect(t);
		if (!t->in_flight)
			break;
		struct pollfd p = { .fd = t->main_wake, .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			drain_wake(t->main_wake);
	}
}
