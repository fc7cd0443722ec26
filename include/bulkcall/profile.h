/* Profiles: one API operation each, described as data plus a few hooks
 * (nginx's module table). A profile validates a row, builds its request
 * (URL and body; the per-run headers live in the context) and classifies
 * the provider's answer. Adding a provider is one file plus one line in
 * the registry (src/profile/registry.c); the scheduler never changes.
 * Profiles must not depend on the transport: they see bytes, not curl. */
#ifndef BULKCALL_PROFILE_H
#define BULKCALL_PROFILE_H

#include <stddef.h>

#include "bulkcall/buf.h"
#include "bulkcall/row.h"

#define BC_PROFILE_HEADERS_MAX 8
#define BC_PROFILE_COLS_MAX 32
#define BC_URL_MAX (16u * 1024u)
#define BC_BODY_MAX (1024u * 1024u)

/* What an answer means for its row. "Try later" is an outcome, not an
 * error. */
enum bc_verdict {
	BC_VERDICT_OK,       /* accepted */
	BC_VERDICT_FAILED,   /* refused for good: the row's error says why */
	BC_VERDICT_THROTTLE, /* the provider asks us to slow down */
	BC_VERDICT_RETRY,    /* transient: try again after a backoff */
	BC_VERDICT_FATAL     /* the run cannot go on (bad credentials) */
};
const char *bc_verdict_name(enum bc_verdict v);

struct bc_header {
	const char *name;
	char *value;
	int secret; /* printed as *** by render and never logged */
};

struct bc_column_doc {
	const char *name;
	const char *type;  /* "string", "integer", "digits", ... */
	int required;
	const char *rule;  /* one line for `bulkcall profiles NAME` */
};

/* Run-level inputs a profile may use when it binds. */
struct bc_profile_config {
	const char *base_url;      /* NULL: the profile's production URL */
	const char *template_path; /* --template, for profiles that take one */
	const char *profile_file;  /* JSON profile file for `http` */
	/* Credentials are required for run, optional for check/render. */
	int need_credentials;
	/* Environment lookup, injectable by tests; NULL means getenv. */
	const char *(*getenv_fn)(const char *name);
};

struct bc_profile;
struct bc_response;
struct bc_request;
struct bc_profile_ctx;

/* Profiles whose bearer token is minted (OAuth 2.0 client credentials).
 * The engine sends the token request before the first row, shares the
 * token with every transfer, mints again before it expires and once
 * after a 401, and holds rows meanwhile (none is lost or counted as an
 * attempt). */
struct bc_auth_hooks {
	/* Builds the token request (method, URL, form body). */
	int (*token_request)(struct bc_profile_ctx *ctx, struct bc_request *req,
			     char *err, size_t errlen);
	/* Reads the token answer: BC_OK with *authorization = the full
	 * header value ("Bearer ...", malloc'd, caller frees) and
	 * *expires_in_s; BC_EFATAL when the client credentials are refused;
	 * BC_EINVAL for an answer worth asking again. err says why. */
	int (*token_response)(struct bc_profile_ctx *ctx,
			      const struct bc_response *resp,
			      char **authorization, long long *expires_in_s,
			      char *err, size_t errlen);
};

/* A profile bound to one run. */
struct bc_profile_ctx {
	const struct bc_profile *profile;
	char *base_url; /* without a trailing slash */
	struct bc_header headers[BC_PROFILE_HEADERS_MAX];
	size_t nheaders;
	/* Column ids of the profile's documented columns, in the order of
	 * profile->columns, refreshed when the input's column table grows
	 * (NDJSON discovers keys as it goes). -1 = not in the input. */
	long col_ids[BC_PROFILE_COLS_MAX];
	size_t cols_seen;
	const struct bc_columns *cols;
	/* Set by bind when the token must be minted through
	 * profile->auth (e.g. no VOIPNOW_TOKEN, but client credentials). */
	int mint_token;
	void *priv; /* the profile's own state */
};

struct bc_request {
	const char *method;
	const char *content_type;
	struct bc_buf url;
	struct bc_buf body;
};

struct bc_response {
	long status;
	const char *body;
	size_t body_len;
	const char *content_type; /* may be NULL */
};

struct bc_profile {
	const char *name;
	const char *summary;
	const char *method;
	const char *default_base_url;
	/* The request's path and query after the base URL, {column} for a
	 * row's value, as `profiles NAME` shows it; NULL when the profile
	 * takes the whole URL from elsewhere (http). */
	const char *path;
	const char *default_key; /* a column, or "*" for the whole account */
	double default_rate;     /* requests per second, 0 = no limit */
	int idempotent;          /* a repeat is harmless */
	int api_takes_delay;     /* `delay` is sent, not held locally */
	/* Columns the profile knows, ended by a { NULL } entry. */
	const struct bc_column_doc *columns;
	/* Columns copied into results next to each outcome, NULL-ended. */
	const char *const *key_columns;
	const char *notes; /* rules and examples for `profiles NAME` */
	const struct bc_auth_hooks *auth; /* NULL: static credentials */

	/* Reads credentials and options; fills ctx->headers. Returns BC_OK,
	 * or BC_EUSAGE with err naming the missing variable or option. */
	int (*bind)(struct bc_profile_ctx *ctx,
		    const struct bc_profile_config *cfg, char *err,
		    size_t errlen);
	/* Checks the column table once it is known (CSV: the header). A
	 * missing required column is BC_EHEADER. May be NULL. */
	int (*check_columns)(struct bc_profile_ctx *ctx, char *err,
			     size_t errlen);
	/* Validates row and builds its request. BC_OK, or BC_EINVAL with
	 * err = "line N: column X: why" (the row is rejected). */
	int (*build)(struct bc_profile_ctx *ctx, const struct bc_row *row,
		     struct bc_request *req, char *err, size_t errlen);
	/* What the answer means; err gets the provider's message or code. */
	enum bc_verdict (*classify)(struct bc_profile_ctx *ctx,
				    const struct bc_response *resp, char *err,
				    size_t errlen);
	void (*release)(struct bc_profile_ctx *ctx);
};

/* Registry */
const struct bc_profile *bc_profile_find(const char *name);
/* NULL-terminated list of all profiles. */
const struct bc_profile *const *bc_profiles(void);

/* Lifecycle of a bound profile. bc_profile_bind sets ctx->cols = cols. */
int bc_profile_bind(struct bc_profile_ctx *ctx, const struct bc_profile *p,
		    const struct bc_profile_config *cfg,
		    const struct bc_columns *cols, char *err, size_t errlen);
void bc_profile_release(struct bc_profile_ctx *ctx);
/* Column id for the profile's i-th documented column (see col_ids). */
long bc_profile_col(struct bc_profile_ctx *ctx, size_t i);
/* The base URL with path appended, into req->url. */
int bc_request_set_url(struct bc_request *req, const struct bc_profile_ctx *ctx,
		       const char *path);
/* Looks up an environment variable through cfg (tests inject their own). */
const char *bc_profile_env(const struct bc_profile_config *cfg,
			   const char *name);
/* Adds a per-run header; value is copied. */
int bc_profile_add_header(struct bc_profile_ctx *ctx, const char *name,
			  const char *value, int secret);

/* Row validation helpers shared by profiles; each writes
 * "line N: column NAME: why" into err and returns BC_EINVAL. */
int bc_reject(char *err, size_t errlen, const struct bc_row *row,
	      const char *column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A value usable as text: no control characters (CR, LF, NUL, ...). */
int bc_check_text(const struct bc_row *row, const char *column,
		  const char *val, size_t len, char *err, size_t errlen);
/* A whole number in [min, max] (digits only, optional leading '-' when
 * min < 0). */
int bc_check_int(const struct bc_row *row, const char *column,
		 const char *val, long long min, long long max,
		 long long *out, char *err, size_t errlen);

void bc_request_init(struct bc_request *req);
void bc_request_reset(struct bc_request *req);
void bc_request_release(struct bc_request *req);

#endif
