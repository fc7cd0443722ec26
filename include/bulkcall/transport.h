/* HTTP transport: thousands of requests in flight on libcurl's multi
 * interface, driven by the caller's loop or by worker threads (no curl type
 * leaks through this header).
 * Invariants:
 *  - every transfer accepted by bc_transport_submit() comes back from
 *    bc_transport_next_done() exactly once: answered, failed, or abandoned
 *    by bc_transport_abort_all();
 *  - at most max_in_flight transfers are in flight; submit refuses more, it
 *    never queues (the scheduler owns the queue);
 *  - no header value, URL or method containing CR, LF or NUL is ever sent;
 *  - one thread owns a transport: every call comes from that thread (with
 *    worker threads, the workers only drive libcurl; they never call back
 *    into the caller).
 * Design and measurements: docs/transport.md. */
#ifndef BULKCALL_TRANSPORT_H
#define BULKCALL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/buf.h"

/* How the loop waits. EPOLL (curl_multi_socket_action, sockets registered
 * once) is the default and the faster; POLL (curl_multi_perform +
 * curl_multi_poll) is kept only so bench/transport_bench.c can compare. */
enum bc_transport_loop {
	BC_LOOP_EPOLL = 0,
	BC_LOOP_POLL
};

/* A zeroed struct means the defaults. Strings are copied by
 * bc_transport_new(); nothing here must outlive that call. */
struct bc_transport_options {
	long timeout_ms;         /* whole attempt; 0: 30000 */
	long connect_timeout_ms; /* TCP + TLS handshake; 0: 10000 */
	const char *cacert;      /* CA bundle file; NULL: the system's */
	int insecure;            /* no peer/host verification (the CLI warns) */
	const char *proxy;       /* any URL libcurl's CURLOPT_PROXY takes */
	size_t max_body;         /* response body cap; 0: 1 MiB */
	size_t conns_per_multi;  /* transfers per multi handle; 0: 100 */
	size_t max_in_flight;    /* == --concurrency; 0: 100 */
	/* Per-run constant headers, "Name: value" each; "Name:" sends the
	 * header with an empty value. A name that is not a token, or CR, LF or
	 * NUL in a value: bc_transport_new fails. */
	const char *const *headers;
	size_t nheaders;
	enum bc_transport_loop loop;
	/* The operation is not idempotent: a request body that has gone out
	 * once is never sent again by libcurl on its own. (libcurl 7.88
	 * re-sends a request, on a new connection, when a reused connection
	 * dies without an answer; the server may have acted on the first
	 * copy.) Such a transfer ends as BC_NET_MAYBE_SENT instead. */
	int no_resend;
	/* 0: the caller's bc_transport_poll() drives libcurl. N > 0: N worker
	 * threads, each with its own epoll set and share of the multi
	 * handles, drive it; submit and next_done hand transfers over through
	 * locked queues, and poll waits for finished ones. EPOLL loop only. */
	unsigned threads;
	/* Benchmarks only (bench/run's before/after): remove an idle
	 * connection's socket from epoll and add it again for the next
	 * request, as libcurl asks, instead of keeping it registered. */
	int readd_idle_sockets;
	/* Benchmarks only: make the curl_easy_setopt calls of a submit in the
	 * caller's thread, as before, instead of the worker's (see loop_add in
	 * transport.c). */
	int setopt_in_caller;
	/* Benchmarks only: a worker hands its finished transfers over only at
	 * the end of each epoll batch, as before, instead of once an eighth of
	 * its window has finished (see publish_now in transport.c). */
	int publish_at_batch_end;
};

enum bc_net_result {
	BC_NET_OK,         /* got an HTTP response (any status) */
	BC_NET_NOT_SENT,   /* never reached the server (DNS, refused, TLS
			    * handshake, connect timeout): safe to retry */
	BC_NET_MAYBE_SENT, /* timeout, reset or empty reply after the
			    * connection was up: may have reached the server */
	BC_NET_TOO_BIG,    /* response body over max_body */
	BC_NET_LOCAL       /* refused here (bad URL, unsupported scheme,
			    * unreadable CA file): sending again will not help */
};
const char *bc_net_result_name(enum bc_net_result r);

/* One finished transfer. Pointers stay valid until the next call of
 * bc_transport_next_done() or bc_transport_free(). */
struct bc_transfer_done {
	uint64_t tag;
	enum bc_net_result result;
	long status;              /* HTTP status of the last response, or 0 */
	const char *body;         /* NUL-terminated, never NULL ("" when none;
				   * "" for TOO_BIG) */
	size_t body_len;
	const char *content_type; /* or NULL */
	const char *retry_after;  /* the Retry-After value as sent, or NULL */
	int64_t latency_us;       /* whole attempt, from libcurl */
	char error[256];          /* "" for BC_NET_OK */
};

struct bc_transport;

/* Creates a transport. Returns 0, or a BC_E* code with a message in err. */
int bc_transport_new(struct bc_transport **out,
		     const struct bc_transport_options *o, char *err,
		     size_t errlen);

/* Starts a request. method is an HTTP token ("GET", "POST", "PUT", ...);
 * body may be NULL (no body); content_type NULL sends none. The caller keeps
 * url and body alive until the transfer's done record has been taken.
 * Returns 0; BC_EINVAL for CR/LF/NUL/space/control bytes in method, url or
 * content_type (nothing is sent, no done record); BC_ETOOBIG when
 * max_in_flight transfers are in flight or finished and not yet taken;
 * BC_ENOMEM. body NULL sends no body; "" with body_len 0 sends an empty one
 * (Content-Length: 0). */
int bc_transport_submit(struct bc_transport *t, uint64_t tag,
			const char *method, const char *url, const char *body,
			size_t body_len, const char *content_type);

/* Drives the event loop for at most timeout_ms (0: do what is ready and
 * return), returning early once a transfer has finished or a signal
 * arrived. With nothing in flight it simply sleeps, so the engine can use it
 * as its wait. Returns the number of done records waiting, or a BC_E*. */
int bc_transport_poll(struct bc_transport *t, int timeout_ms);

/* Makes a bc_transport_poll() under way (or the next one) return early.
 * The one call any thread may make: for work done elsewhere that the
 * owner's loop waits for (e.g. the journal's sync thread). */
void bc_transport_wake(struct bc_transport *t);

/* Takes one finished transfer: 1, or 0 when none is waiting. The record's
 * pointers stay valid until the next call. */
int bc_transport_next_done(struct bc_transport *t,
			   struct bc_transfer_done *out);

/* Transfers submitted and not yet finished (done records waiting to be
 * taken are not counted). */
size_t bc_transport_in_flight(const struct bc_transport *t);

/* Sets, replaces (names compare case-insensitively) or, with value NULL,
 * removes a per-run header, e.g. a re-minted "Authorization: Bearer ...".
 * Affects transfers submitted afterwards. Returns BC_EINVAL for a name that
 * is not an HTTP token or a value with CR, LF or NUL. */
int bc_transport_set_header(struct bc_transport *t, const char *name,
			    const char *value);

/* Abandons every transfer in flight (second Ctrl-C). Each comes back from
 * next_done as BC_NET_MAYBE_SENT, or BC_NET_NOT_SENT when its connection was
 * provably never up. */
void bc_transport_abort_all(struct bc_transport *t);

/* Abandons what is in flight (without done records) and frees everything. */
void bc_transport_free(struct bc_transport *t);

/* Appends s[0..len) to out as one URL path segment: every byte but the
 * RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) becomes %XX (upper-case
 * hex), so "/", "?", "#", "%", "@", "*", space and UTF-8 bytes are all
 * encoded. Returns 0 or BC_ETOOBIG (out unchanged). */
int bc_url_escape_segment(struct bc_buf *out, const char *s, size_t len);

#endif
