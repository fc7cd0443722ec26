/* The HTTP side of bulkcall-mock: the libmicrohttpd daemon, the provider
 * table, routing, and one request's life (body, faults, provider, latency,
 * answer or dropped connection). Owns the daemon; providers never see a
 * connection, only a struct mock_req and the answer they fill. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mock/mock.h"

struct mock_provider *const mock_providers[] = {
	&mock_iovox,
	&mock_smartflo,
	&mock_voipnow,
	&mock_mor,
	NULL,
};

enum { STAGE_RECEIVING, STAGE_DELAYED, STAGE_ANSWERED };

static struct MHD_Daemon *daemon_;
static struct MHD_Response *not_found_resp;
static struct MHD_Response *too_big_resp;
static struct MHD_Response *fail_resp;
static atomic_int stopping;
static atomic_int started;
static atomic_long suspended;

const char *mock_header(const struct mock_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *mock_query(const struct mock_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

const char *mock_bearer(const struct mock_req *req)
{
	const char *h = mock_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

struct arg_sink {
	struct mock_fields *f;
	int err;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct arg_sink *sink = cls;
	(void)kind;
	if (*key && !mock_fields_get(sink->f, key) &&
	    mock_fields_adds(sink->f, key, value ? value : "")) {
		sink->err = -1;
		return MHD_NO;
	}
	return MHD_YES;
}

int mock_query_fields(const struct mock_req *req, struct mock_fields *f)
{
	struct arg_sink sink = { f, 0 };
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_arg,
				  &sink);
	return sink.err;
}

int mock_accept(struct mock_provider *p, const char *op,
		const struct mock_fields *f, struct mock_answer *ans)
{
	const char *key = "*";
	if (p->throttle.key) {
		key = mock_fields_get(f, p->throttle.key);
		if (!key)
			key = "";
	}
	uint64_t wait_ms = mock_throttle_admit(p, key, mock_now_ms());
	if (wait_ms) {
		mock_answer_throttled(p, ans, wait_ms);
		return 0;
	}
	mock_ledger_write(p->name, op, f);
	return 1;
}

/* Paths ending in '/' are prefixes, others must match whole. */
static struct mock_provider *route(const char *url)
{
	for (size_t i = 0; mock_providers[i]; i++) {
		struct mock_provider *p = mock_providers[i];
		for (const char *const *path = p->paths; *path; path++) {
			size_t len = strlen(*path);
			if (!strncmp(url, *path, len) &&
			    ((*path)[len - 1] == '/' || url[len] == '\0'))
				return p;
		}
	}
	return NULL;
}

static void decide(struct mock_req *req)
{
	struct mock_answer *a = &req->ans;
	req->prov = route(req->url);
	switch (mock_fault_draw()) {
	case MOCK_FAULT_FAIL:
		if (req->prov)
			mock_answer_shared(a, req->prov->fail_status,
					   req->prov->fail_resp, MOCK_FAIL);
		else
			mock_answer_shared(a, 500, fail_resp, MOCK_FAIL);
		goto out;
	case MOCK_FAULT_RESET:
		mock_answer_shared(a, 0, NULL, MOCK_RESET);
		goto out;
	case MOCK_FAULT_NONE:
		break;
	}
	if (req->too_big)
		mock_answer_shared(a, 413, too_big_resp, MOCK_TOO_BIG);
	else if (!req->prov)
		mock_answer_shared(a, 404, not_found_resp, MOCK_NOT_FOUND);
	else
		req->prov->handle(req, a);
	if (mock_reset_after_draw()) {
		/* Processed (and in the ledger if accepted), never answered:
		 * the client cannot know whether it happened. */
		a->drop = 1;
		mock_stats_reset_after();
	}
out:
	mock_stats_count(a->outcome);
	if (mock_opts.verbose)
		fprintf(stderr, "bulkcall-mock: %s %s -> %u %s%s\n",
			req->method, req->url, a->status,
			mock_outcome_name(a->outcome),
			a->drop ? " (connection dropped)" : "");
}

static enum MHD_Result answer(struct mock_req *req)
{
	struct mock_answer *a = &req->ans;
	req->stage = STAGE_ANSWERED;
	if (a->drop) {
		/* Linger 0: close() sends RST, the client sees a reset (with
		 * MHD_USE_TURBO, MHD does not shutdown() first). */
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci) {
			struct linger lg = { 1, 0 };
			setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof lg);
		}
		return MHD_NO;
	}
	enum MHD_Result r = MHD_queue_response(req->conn, a->status, a->resp);
	if (a->owned)
		MHD_destroy_response(a->resp);
	a->resp = NULL;
	a->owned = 0;
	return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_len, void **con_cls)
{
	struct mock_req *req = *con_cls;
	(void)cls;
	(void)version;
	if (!req) {
		req = calloc(1, sizeof *req);
		if (!req)
			return MHD_NO;
		req->conn = conn;
		req->url = url;
		req->method = method;
		bc_buf_init(&req->body, mock_opts.max_body);
		*con_cls = req;
		return MHD_YES;
	}
	if (req->stage == STAGE_DELAYED) {
		atomic_fetch_sub(&suspended, 1);
		return answer(req);
	}
	if (req->stage == STAGE_ANSWERED)
		return MHD_YES;
	if (*upload_len) {
		if (!req->too_big &&
		    bc_buf_add(&req->body, upload, *upload_len))
			req->too_big = 1;
		*upload_len = 0;
		return MHD_YES;
	}
	decide(req);
	uint64_t delay_ms = mock_latency_draw_ms();
	if (delay_ms && !atomic_load(&stopping)) {
		req->stage = STAGE_DELAYED;
		mock_stats_delayed(atomic_fetch_add(&suspended, 1) + 1);
		MHD_suspend_connection(conn);
		/* +1: the clock is read in whole ms, never answer early. */
		mock_timer_add(conn, mock_now_ms() + delay_ms + 1);
		return MHD_YES;
	}
	return answer(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct mock_req *req = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (!req)
		return;
	if (req->stage == STAGE_DELAYED)
		atomic_fetch_sub(&suspended, 1);
	if (req->ans.owned && req->ans.resp)
		MHD_destroy_response(req->ans.resp);
	bc_buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* Client disconnects are routine under load: quiet unless asked. */
	if (!mock_opts.verbose && atomic_load(&started))
		return;
	fputs("bulkcall-mock: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static int shared_responses(char *err, size_t err_len)
{
	not_found_resp = mock_response_static("not found\n", "text/plain");
	too_big_resp = mock_response_static("request body too large\n",
					    "text/plain");
	fail_resp = mock_response_static("Internal Server Error\n",
					 "text/plain");
	if (!not_found_resp || !too_big_resp || !fail_resp)
		goto oom;
	for (size_t i = 0; mock_providers[i]; i++) {
		struct mock_provider *p = mock_providers[i];
		p->fail_resp = mock_response_static(p->fail_body,
						    p->content_type);
		p->throttle_resp = mock_response_static(p->throttle_body,
							p->content_type);
		if (!p->fail_resp || !p->throttle_resp)
			goto oom;
		if (mock_opts.retry_after_s >= 0) {
			char secs[16];
			snprintf(secs, sizeof secs, "%d",
				 mock_opts.retry_after_s);
			if (MHD_add_response_header(p->throttle_resp,
						    MHD_HTTP_HEADER_RETRY_AFTER,
						    secs) != MHD_YES)
				goto oom;
		}
		if (p->init && p->init(err, err_len))
			return -1;
	}
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
	return -1;
}

/* HOST:PORT or [V6]:PORT into addr. */
static int parse_listen(const char *s, struct sockaddr_storage *addr,
			int *v6)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return -1;
	memset(addr, 0, sizeof *addr);
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -1;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = 1;
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -1;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*v6 = 0;
	return 0;
}

int mock_listen_check(const char *s)
{
	struct sockaddr_storage addr;
	int v6;
	return parse_listen(s, &addr, &v6);
}

int mock_server_start(char *err, size_t err_len)
{
	struct sockaddr_storage addr;
	int v6;
	if (parse_listen(mock_opts.listen, &addr, &v6)) {
		snprintf(err, err_len, "invalid --listen '%s'",
			 mock_opts.listen);
		return -1;
	}
	if (shared_responses(err, err_len))
		return -1;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD |
			     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
			     MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* The pool option only when there is a pool: 1 thread is the
	 * daemon's own internal thread. */
	struct MHD_OptionItem pool[] = {
		{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)mock_opts.threads,
		  NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (mock_opts.threads < 2)
		pool[0].option = MHD_OPTION_END;
	daemon_ = MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, NULL,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_CONNECTION_LIMIT, mock_opts.connection_limit,
		MHD_OPTION_CONNECTION_TIMEOUT, mock_opts.timeout_s,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(8 * 1024),
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_END);
	if (!daemon_) {
		snprintf(err, err_len,
			 "cannot listen on %s (address in use, or too few "
			 "file descriptors for --connection-limit?)",
			 mock_opts.listen);
		return -1;
	}
	atomic_store(&started, 1);
	return 0;
}

uint16_t mock_server_port(void)
{
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void mock_server_stop(void)
{
	if (!daemon_)
		return;
	atomic_store(&stopping, 1);
	MHD_socket lfd = MHD_quiesce_daemon(daemon_);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	/* Every delayed answer goes out now; libmicrohttpd must not be
	 * stopped while a connection is still suspended. */
	mock_timer_stop();
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	for (int i = 0; i < 500 && atomic_load(&suspended) > 0; i++)
		nanosleep(&tick, NULL);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
	mock_responses_release();
}
