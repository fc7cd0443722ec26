/* bulkcall-mock internals: options, the provider table, one request's
 * context, and the shared plumbing (faults, throttle, ledger, responses).
 * Invariants: a provider is data plus one handle() hook; it never touches
 * faults, latency or connections, only fills a struct mock_answer and calls
 * mock_accept() for an operation it would carry out. Nothing outside
 * src/mock includes this header. */
#ifndef BC_MOCK_H
#define BC_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "bulkcall/buf.h"

struct mock_req;
struct mock_answer;
struct mock_fields;

/* What became of a request; each has a counter in the exit summary. */
#define MOCK_OUTCOME_MAP(X)                                          \
	X(OK, "ok")                 /* operation accepted (ledger) */ \
	X(REJECTED, "rejected")     /* validation error answered */   \
	X(UNAUTHORIZED, "unauthorized")                               \
	X(THROTTLED, "throttled")                                     \
	X(NOT_FOUND, "not_found")   /* no provider serves the path */ \
	X(TOO_BIG, "too_big")       /* body over --max-body */        \
	X(FAIL, "fail")             /* --fail-rate 500 */             \
	X(RESET, "reset")           /* --reset-rate drop */           \
	X(TOKEN, "token")           /* OAuth token minted */

enum mock_outcome {
#define MOCK_OUTCOME_ENUM(name, text) MOCK_##name,
	MOCK_OUTCOME_MAP(MOCK_OUTCOME_ENUM)
#undef MOCK_OUTCOME_ENUM
	MOCK__OUTCOME_COUNT
};

const char *mock_outcome_name(enum mock_outcome o);

/* --retry-after values other than a number of seconds. */
#define MOCK_RETRY_AFTER_NONE (-1)
#define MOCK_RETRY_AFTER_AUTO (-2)

/* Throttle of one provider: more than limit accepted operations of one
 * scope within window_ms blocks the scope for block_ms. limit 0 = off. */
struct mock_throttle_cfg {
	unsigned int limit;
	uint64_t window_ms;
	uint64_t block_ms;  /* 0 = same as window_ms */
	const char *key;    /* field scoping the limit; NULL = the account */
};

/* A provider: what it serves and how it answers. The plumbing fills the
 * runtime part at startup. Adding a provider is one file defining one of
 * these and one line in the table of server.c. */
struct mock_provider {
	const char *name;          /* ledger "provider", option prefix */
	const char *const *paths;  /* URL path prefixes served, NULL-ended */
	const char *content_type;  /* of its fail and throttle bodies */
	unsigned int throttle_status;
	const char *throttle_body;
	unsigned int fail_status;
	const char *fail_body;
	/* Reads the environment, builds shared responses; 0 or -1 with a
	 * message in err. */
	int (*init)(char *err, size_t err_len);
	void (*handle)(struct mock_req *req, struct mock_answer *ans);

	/* runtime, set by the plumbing */
	struct mock_throttle_cfg throttle;
	struct MHD_Response *fail_resp;
	struct MHD_Response *throttle_resp;
};

/* NULL-terminated table of every provider (server.c). */
extern struct mock_provider *const mock_providers[];

struct mock_opts {
	const char *listen;       /* HOST:PORT as given */
	const char *port_file;
	unsigned int threads;
	unsigned int connection_limit;
	unsigned int timeout_s;
	size_t max_body;
	uint32_t latency_ms;
	uint32_t jitter_ms;
	double fail_rate;
	double reset_rate;
	double reset_after_rate;
	int retry_after_s;        /* >= 0, or MOCK_RETRY_AFTER_* */
	uint64_t seed;
	int seeded;
	const char *ledger_path;
	unsigned int token_ttl_s;
	unsigned long auth_fail_after; /* 0 = never: else credentials are
					  refused after this many requests */
	unsigned long token_revoke_every; /* 0 = never: else every minted
					     VoipNow token is revoked each
					     time this many requests used one */
	int verbose;
};

extern struct mock_opts mock_opts;

/* What a request gets: a status and a response, or a dropped connection.
 * A shared response (owned == 0) lives for the whole run; an owned one is
 * destroyed once queued. */
struct mock_answer {
	unsigned int status;
	struct MHD_Response *resp;
	int owned;
	int drop;
	enum mock_outcome outcome;
};

/* One HTTP request, from its first header to its completion. */
struct mock_req {
	struct MHD_Connection *conn;
	const char *url;           /* path, percent-decoded by MHD */
	const char *method;
	struct mock_provider *prov;
	struct bc_buf body;
	int too_big;
	int stage;                 /* server.c: receiving, delayed, answered */
	struct mock_answer ans;
};

const char *mock_header(const struct mock_req *req, const char *name);
const char *mock_query(const struct mock_req *req, const char *name);
/* The token of "Authorization: Bearer TOKEN", or NULL. */
const char *mock_bearer(const struct mock_req *req);
/* Adds the query arguments not in f yet; -1 when f is full or no memory. */
int mock_query_fields(const struct mock_req *req, struct mock_fields *f);

/* Name/value pairs of an operation: the ledger line and the throttle key
 * come from them. Values are copied; raw ones are JSON text. */
#define MOCK_FIELDS_MAX 48
struct mock_field {
	char *name;
	char *value;
	int raw;
};
struct mock_fields {
	size_t n;
	struct mock_field f[MOCK_FIELDS_MAX];
};

void mock_fields_init(struct mock_fields *f);
void mock_fields_release(struct mock_fields *f);
int mock_fields_add(struct mock_fields *f, const char *name,
		    const char *value, size_t len, int raw);
int mock_fields_adds(struct mock_fields *f, const char *name,
		     const char *value);
const char *mock_fields_get(const struct mock_fields *f, const char *name);
/* Parses application/x-www-form-urlencoded text into f (later duplicates
 * are ignored). 0 or -1 when f is full or memory ran out. */
int mock_form_parse(struct mock_fields *f, const char *s, size_t len);

/* respond.c: responses and escaping. */
struct MHD_Response *mock_response_static(const char *body,
					  const char *content_type);
void mock_responses_release(void);
void mock_answer_shared(struct mock_answer *a, unsigned int status,
			struct MHD_Response *resp, enum mock_outcome o);
/* Answers a copy of body; falls back to a shared 500 without memory. */
void mock_answer_copy(struct mock_answer *a, unsigned int status,
		      const char *content_type, const char *body, size_t len,
		      enum mock_outcome o);
int mock_xml_escape(struct bc_buf *b, const char *s);
/* Appends s as a JSON string literal, quotes included; invalid UTF-8
 * bytes become U+FFFD. */
int mock_json_str(struct bc_buf *b, const char *s, size_t len);

/* server.c: the accept path every provider shares. Checks the throttle
 * scope of the operation, then appends it to the ledger. Returns 1 when
 * accepted (the caller answers success), 0 when throttled (ans is set). */
int mock_accept(struct mock_provider *p, const char *op,
		const struct mock_fields *f, struct mock_answer *ans);
/* 0 when s is a valid --listen value. */
int mock_listen_check(const char *s);
int mock_server_start(char *err, size_t err_len);
uint16_t mock_server_port(void);
void mock_server_stop(void);

/* faults.c: PRNG, injected faults, latency timer. */
uint64_t mock_now_ms(void);    /* monotonic */
uint64_t mock_wall_ms(void);   /* Unix time */
uint64_t mock_rand(void);
double mock_rand_unit(void);   /* [0, 1) */
enum mock_fault { MOCK_FAULT_NONE, MOCK_FAULT_FAIL, MOCK_FAULT_RESET };
enum mock_fault mock_fault_draw(void);
int mock_reset_after_draw(void);
uint64_t mock_latency_draw_ms(void);
int mock_timer_start(char *err, size_t err_len);
/* Resumes c at due_ms; c must be suspended already. */
void mock_timer_add(struct MHD_Connection *c, uint64_t due_ms);
/* Resumes every pending connection now and joins the timer thread. */
void mock_timer_stop(void);

/* throttle.c */
/* 0 when the scope (provider, key) may take one more operation, which is
 * then counted; else the milliseconds until it unblocks. */
uint64_t mock_throttle_admit(const struct mock_provider *p, const char *key,
			     uint64_t now_ms);
void mock_answer_throttled(struct mock_provider *p, struct mock_answer *a,
			   uint64_t wait_ms);
int mock_throttle_init(char *err, size_t err_len);
void mock_throttle_release(void);

/* ledger.c: the NDJSON ledger and the request counters. */
int mock_ledger_open(const char *path, char *err, size_t err_len);
int mock_ledger_write(const char *provider, const char *op,
		      const struct mock_fields *f);
void mock_ledger_close(void);
void mock_stats_count(enum mock_outcome o);
void mock_stats_reset_after(void);
/* Requests waiting for --latency now: keeps the peak, which is how many
 * the client had in flight at once (the exit line's peak_delayed). */
void mock_stats_delayed(long now_delayed);
void mock_stats_print(void);

/* The providers. */
extern struct mock_provider mock_iovox;
extern struct mock_provider mock_smartflo;
extern struct mock_provider mock_voipnow;
extern struct mock_provider mock_mor;

#endif
