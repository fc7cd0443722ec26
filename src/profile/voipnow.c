/* voipnow.updatePhoneCallEvent: PUT /uapi/extensions/{user}/{ext}/
 * phoneCallEvents/{type}/{id} on a VoipNow UnifiedAPI server, every path
 * segment percent-encoded, a partial PhoneCallEvent as the JSON body.
 * Bearer token from VOIPNOW_TOKEN, or minted through OAuth 2.0 client
 * credentials (the auth hooks below; the engine schedules them).
 * Idempotent: the same update twice leaves the same event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "bulkcall/error.h"
#include "bulkcall/transport.h"
#include "profile/values.h"

#define VOIPNOW_BASE_URL "https://uapi.voipnow.com"
#define NOTE_MAX_CHARS 1024
#define URL_MAX 2048
#define EVENT_ID_MAX 255
#define EXTENSION_MAX 32
#define USER_ID_MAX 20
#define TOKEN_MAX 4096

enum {
	COL_USER_ID,
	COL_EXTENSION,
	COL_EVENT_TYPE,
	COL_EVENT_ID,
	COL_METHOD,
	COL_NOTE,
	COL_URL,
	COL_STATUS,
	COL_COUNT
};

static const struct bc_column_doc columns[] = {
	{ "user_id", "string", 0,
	  "owner of the extension: @me (default when empty), @viewer, "
	  "@owner or a numeric user id" },
	{ "extension", "extension", 1,
	  "extension number: digits and '*', e.g. 0003*210 or 210; not @self" },
	{ "event_type", "0|1|2", 1, "0 dial-in, 1 dial-out, 2 hangup" },
	{ "event_id", "alnum", 1,
	  "the existing event's id: letters and digits, 1-255" },
	{ "method", "0|1", 0, "0 GET, 1 POST; empty = unchanged" },
	{ "note", "string", 0, "at most 1024 characters; empty = unchanged" },
	{ "url", "URL", 0,
	  "http:// or https:// URL called on the event; empty = unchanged" },
	/* Seed 003's words (pce_status_invalid). PROVIDERS.md reads the
	 * Resource page as 0 off, 1 on: the opposite, so say only what the
	 * seed says; the value is sent as given either way. */
	{ "status", "0|1", 0,
	  "0 for enabled or 1 for disabled; empty = unchanged" },
	{ NULL, NULL, 0, NULL },
};

static const char *const key_columns[] = { "extension", "event_type",
					   "event_id", NULL };

struct voipnow {
	char *client_id;
	char *client_secret;
};

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static void release(struct bc_profile_ctx *ctx)
{
	struct voipnow *v = ctx->priv;
	if (v) {
		wipe_free(v->client_id);
		wipe_free(v->client_secret);
		free(v);
	}
	ctx->priv = NULL;
}

static int bind(struct bc_profile_ctx *ctx,
		const struct bc_profile_config *cfg, char *err, size_t errlen)
{
	const char *token = bc_profile_env(cfg, "VOIPNOW_TOKEN");
	const char *id = bc_profile_env(cfg, "VOIPNOW_CLIENT_ID");
	const char *secret = bc_profile_env(cfg, "VOIPNOW_CLIENT_SECRET");
	int need = cfg && cfg->need_credentials;
	char value[TOKEN_MAX + 8];
	int result;

	if (token) {
		if (strlen(token) > TOKEN_MAX) {
			snprintf(err, errlen, "VOIPNOW_TOKEN is too long");
			return BC_EUSAGE;
		}
		snprintf(value, sizeof value, "Bearer %s", token);
		result = bc_profile_add_header(ctx, "Authorization", value, 1);
		memset(value, 0, sizeof value);
		if (result == BC_EINVAL) {
			snprintf(err, errlen, "VOIPNOW_TOKEN contains a line break");
			return BC_EUSAGE;
		}
		return result;
	}
	if (need && (!id || !secret)) {
		if (id || secret)
			snprintf(err, errlen,
				 "%s is not set: export VOIPNOW_CLIENT_ID and "
				 "VOIPNOW_CLIENT_SECRET (or VOIPNOW_TOKEN)",
				 id ? "VOIPNOW_CLIENT_SECRET" : "VOIPNOW_CLIENT_ID");
		else
			snprintf(err, errlen,
				 "VoipNow credentials are not set: export "
				 "VOIPNOW_TOKEN, or VOIPNOW_CLIENT_ID and "
				 "VOIPNOW_CLIENT_SECRET (credentials are read "
				 "from the environment only)");
		return BC_EUSAGE;
	}
	if (id && secret) {
		struct voipnow *v = calloc(1, sizeof *v);
		if (!v)
			return BC_ENOMEM;
		ctx->priv = v;
		v->client_id = strdup(id);
		v->client_secret = strdup(secret);
		if (!v->client_id || !v->client_secret)
			return BC_ENOMEM;
		ctx->mint_token = 1;
	}
	/* Empty until a token is minted (or, for check/render, never). */
	return bc_profile_add_header(ctx, "Authorization", "", 1);
}

static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	if (!ctx->cols->count)
		return BC_OK; /* NDJSON: checked row by row */
	for (size_t k = COL_EXTENSION; k <= COL_EVENT_ID; k++)
		if (bc_profile_col(ctx, k) < 0) {
			snprintf(err, errlen,
				 "header: required column '%s' is missing",
				 columns[k].name);
			return BC_EHEADER;
		}
	int any = 0;
	for (size_t k = COL_METHOD; k < COL_COUNT; k++)
		any |= bc_profile_col(ctx, k) >= 0;
	if (!any) {
		snprintf(err, errlen, "header: nothing to update: the input "
				      "needs at least one of the columns "
				      "method, note, url, status");
		return BC_EHEADER;
	}
	return BC_OK;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* Characters, not bytes: the input is valid UTF-8. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int check_values(const struct bc_row *row, const char **v, char *err,
			size_t errlen)
{
	const char *u = v[COL_USER_ID];
	if (u && strcmp(u, "@me") && strcmp(u, "@viewer") && strcmp(u, "@owner") &&
	    !(all_digits(u) && strlen(u) <= USER_ID_MAX))
		return bc_reject(err, errlen, row, "user_id",
				 "'%.40s' must be @me, @viewer, @owner or a "
				 "numeric user id",
				 u);
	const char *e = v[COL_EXTENSION];
	if (!e)
		return bc_reject(err, errlen, row, "extension",
				 "required value is missing");
	if (strcmp(e, "@self") == 0)
		return bc_reject(err, errlen, row, "extension",
				 "cannot be @self (name the extension, e.g. "
				 "0003*210)");
	size_t elen = strlen(e);
	if (elen > EXTENSION_MAX || e[0] == '*')
		return bc_reject(err, errlen, row, "extension",
				 "'%.40s' is not an extension number (digits "
				 "and '*', e.g. 0003*210)",
				 e);
	for (const char *p = e; *p; p++)
		if ((*p < '0' || *p > '9') && *p != '*')
			return bc_reject(err, errlen, row, "extension",
					 "'%.40s' is not an extension number "
					 "(digits and '*', e.g. 0003*210)",
					 e);
	const char *t = v[COL_EVENT_TYPE];
	if (!t)
		return bc_reject(err, errlen, row, "event_type",
				 "required value is missing");
	if (!(t[0] >= '0' && t[0] <= '2' && !t[1]))
		return bc_reject(err, errlen, row, "event_type",
				 "'%.40s' must be 0 (dial-in), 1 (dial-out) or "
				 "2 (hangup)",
				 t);
	const char *id = v[COL_EVENT_ID];
	if (!id)
		return bc_reject(err, errlen, row, "event_id",
				 "required value is missing");
	size_t idlen = strlen(id);
	if (idlen > EVENT_ID_MAX)
		return bc_reject(err, errlen, row, "event_id",
				 "longer than %d characters", EVENT_ID_MAX);
	for (size_t i = 0; i < idlen; i++)
		if (!is_alnum(id[i]))
			return bc_reject(err, errlen, row, "event_id",
					 "character '%c' at position %zu not "
					 "allowed (letters and digits only)",
					 (id[i] > 0x20 && id[i] < 0x7f) ? id[i]
									: '?',
					 i + 1);
	static const size_t flags[] = { COL_METHOD, COL_STATUS };
	for (size_t k = 0; k < 2; k++) {
		const char *f = v[flags[k]];
		if (f && !((f[0] == '0' || f[0] == '1') && !f[1]))
			return bc_reject(err, errlen, row,
					 columns[flags[k]].name,
					 "'%.40s' must be 0 or 1", f);
	}
	const char *note = v[COL_NOTE];
	if (note && utf8_chars(note) > NOTE_MAX_CHARS)
		return bc_reject(err, errlen, row, "note",
				 "longer than %d characters", NOTE_MAX_CHARS);
	const char *url = v[COL_URL];
	if (url) {
		const char *host = strncmp(url, "http://", 7) == 0    ? url + 7
				   : strncmp(url, "https://", 8) == 0 ? url + 8
								      : NULL;
		if (!host)
			return bc_reject(err, errlen, row, "url",
					 "'%.60s' must start with http:// or "
					 "https://",
					 url);
		if (!*host || *host == '/' || *host == '?' || *host == '#')
			return bc_reject(err, errlen, row, "url",
					 "'%.60s' has no host", url);
		if (strlen(url) > URL_MAX)
			return bc_reject(err, errlen, row, "url",
					 "longer than %d characters", URL_MAX);
		for (const char *p = url; *p; p++)
			if (*p == ' ')
				return bc_reject(err, errlen, row, "url",
						 "space at position %zu (encode "
						 "it as %%20)",
						 (size_t)(p - url) + 1);
	}
	if (!v[COL_METHOD] && !note && !url && !v[COL_STATUS])
		return bc_reject(err, errlen, row, NULL,
				 "nothing to update: set at least one of "
				 "method, note, url, status");
	return BC_OK;
}

static int add_segment(struct bc_request *req, const char *s)
{
	int result = bc_buf_addc(&req->url, '/');
	return result ? result
		      : bc_url_escape_segment(&req->url, s, strlen(s));
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	const char *v[COL_COUNT];
	size_t len;
	for (size_t k = 0; k < COL_COUNT; k++) {
		int result = bc_value_text(row, bc_profile_col(ctx, k),
					   columns[k].name, &v[k], &len, err,
					   errlen);
		if (result)
			return result;
	}
	int result = check_values(row, v, err, errlen);
	if (result)
		return result;

	/* The documented example sends every value as a JSON string. */
	cJSON *body = cJSON_CreateObject();
	if (!body)
		return BC_ENOMEM;
	for (size_t k = COL_METHOD; k < COL_COUNT && !result; k++)
		if (v[k] && !cJSON_AddStringToObject(body, columns[k].name, v[k]))
			result = BC_ENOMEM;
	if (!result)
		result = bc_body_set_json(&req->body, body);
	cJSON_Delete(body);
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the request is larger than %u bytes",
				 BC_BODY_MAX);
	if (result)
		return result;

	result = bc_request_set_url(req, ctx, "/uapi/extensions");
	if (!result)
		result = add_segment(req, v[COL_USER_ID] ? v[COL_USER_ID] : "@me");
	if (!result)
		result = add_segment(req, v[COL_EXTENSION]);
	if (!result)
		result = bc_buf_adds(&req->url, "/phoneCallEvents");
	if (!result)
		result = add_segment(req, v[COL_EVENT_TYPE]);
	if (!result)
		result = add_segment(req, v[COL_EVENT_ID]);
	req->method = "PUT";
	req->content_type = "application/json";
	return result;
}

/* err = "code: message", "code" or "message" out of an error body:
 * UnifiedAPI's {"error":{"code","message"}} or OAuth's
 * {"error":"code","error_description":"..."}. Returns 1 when found. */
static int error_of(const cJSON *root, char *err, size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = NULL, *msg = NULL;
	if (cJSON_IsObject(e)) {
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	} else if (cJSON_IsString(e)) {
		code = e;
		msg = cJSON_GetObjectItemCaseSensitive(root, "error_description");
	}
	char c[128] = "", m[384] = "";
	bc_json_text(code, c, sizeof c);
	bc_json_text(msg, m, sizeof m);
	if (c[0] && m[0])
		snprintf(err, errlen, "%s: %s", c, m);
	else if (c[0] || m[0])
		snprintf(err, errlen, "%s", c[0] ? c : m);
	return c[0] || m[0];
}

static enum bc_verdict classify(struct bc_profile_ctx *ctx,
				const struct bc_response *resp, char *err,
				size_t errlen)
{
	(void)ctx;
	long status = resp->status;
	err[0] = '\0';
	/* Seed 003 lists exactly these two: 200 (the event returned) and
	 * 204 (no content). Another 2xx is not a documented success. */
	if (status == 200 || status == 204)
		return BC_VERDICT_OK;
	if (status >= 200 && status < 300) {
		snprintf(err, errlen, "unexpected HTTP %ld: the API answers an "
				      "update with 200 or 204",
			 status);
		return BC_VERDICT_FAILED;
	}
	cJSON *root = resp->body_len ? cJSON_ParseWithLength(resp->body,
							     resp->body_len)
				     : NULL;
	if (!cJSON_IsObject(root) || !error_of(root, err, errlen))
		snprintf(err, errlen, "HTTP %ld", status);
	cJSON_Delete(root);
	if (status == 429)
		return BC_VERDICT_THROTTLE;
	/* A minted token is minted again once by the engine before this
	 * stops the run. */
	if (status == 401)
		return BC_VERDICT_FATAL;
	if (status >= 500 || status == 408)
		return BC_VERDICT_RETRY;
	return BC_VERDICT_FAILED;
}

/* ---- OAuth 2.0 client credentials, as 4PSA's own clients ask. */

static int token_request(struct bc_profile_ctx *ctx, struct bc_request *req,
			 char *err, size_t errlen)
{
	struct voipnow *v = ctx->priv;
	if (!v) {
		snprintf(err, errlen, "no VOIPNOW_CLIENT_ID/VOIPNOW_CLIENT_SECRET");
		return BC_EUSAGE;
	}
	int result = bc_request_set_url(req, ctx, "/oauth/token.php");
	/* 4PSA's clients send this redirect_uri, "ouath" typo included,
	 * "for compatibility"; the grant does not redirect anywhere. */
	struct bc_buf redirect = BC_BUF_INIT(BC_URL_MAX);
	if (!result)
		result = bc_buf_adds(&redirect, ctx->base_url);
	if (!result)
		result = bc_buf_adds(&redirect, "/ouath/token.php");
	bc_buf_reset(&req->body);
	if (!result)
		result = bc_form_add(&req->body, "client_id", v->client_id,
				     strlen(v->client_id));
	if (!result)
		result = bc_form_add(&req->body, "client_secret",
				     v->client_secret, strlen(v->client_secret));
	if (!result)
		result = bc_form_add(&req->body, "grant_type",
				     "client_credentials", 18);
	if (!result)
		result = bc_form_add(&req->body, "type", "unifiedapi", 10);
	if (!result)
		result = bc_form_add(&req->body, "redirect_uri",
				     bc_buf_str(&redirect), redirect.len);
	bc_buf_release(&redirect);
	if (result)
		snprintf(err, errlen, "cannot build the token request: %s",
			 bc_strerror(result));
	req->method = "POST";
	req->content_type = "application/x-www-form-urlencoded";
	return result;
}

static int token_chars_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int token_response(struct bc_profile_ctx *ctx,
			  const struct bc_response *resp, char **authorization,
			  long long *expires_in_s, char *err, size_t errlen)
{
	(void)ctx;
	*authorization = NULL;
	*expires_in_s = 0;
	long status = resp->status;
	cJSON *root = resp->body_len ? cJSON_ParseWithLength(resp->body,
							     resp->body_len)
				     : NULL;
	int result = BC_EINVAL;
	if (status < 200 || status >= 300) {
		char msg[400];
		if (!cJSON_IsObject(root) || !error_of(root, msg, sizeof msg))
			snprintf(msg, sizeof msg, "no error message");
		snprintf(err, errlen, "HTTP %ld from the token endpoint: %s",
			 status, msg);
		/* Refused client credentials (invalid_client and the other
		 * RFC 6749 errors) do not get better by asking again. */
		if (status == 400 || status == 401 || status == 403)
			result = BC_EFATAL;
		goto out;
	}
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "token_type");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
	if (!cJSON_IsObject(root) || !cJSON_IsString(tok) || !tok->valuestring[0]) {
		snprintf(err, errlen, "the token endpoint answered HTTP %ld "
				      "without an access_token",
			 status);
		goto out;
	}
	if (strlen(tok->valuestring) > TOKEN_MAX ||
	    !token_chars_ok(tok->valuestring)) {
		snprintf(err, errlen, "the access_token is not a usable header "
				      "value");
		goto out;
	}
	if (type && !(cJSON_IsString(type) &&
		      strcasecmp(type->valuestring, "bearer") == 0)) {
		snprintf(err, errlen, "token_type is not Bearer");
		goto out;
	}
	long long seconds = 0;
	if (cJSON_IsNumber(exp) && exp->valuedouble > 0 &&
	    exp->valuedouble < 1e9)
		seconds = (long long)exp->valuedouble;
	else if (cJSON_IsString(exp) && all_digits(exp->valuestring) &&
		 strlen(exp->valuestring) < 10)
		seconds = atoll(exp->valuestring);
	size_t n = strlen(tok->valuestring) + 8;
	char *auth = malloc(n);
	if (!auth) {
		result = BC_ENOMEM;
		goto out;
	}
	snprintf(auth, n, "Bearer %s", tok->valuestring);
	*authorization = auth;
	*expires_in_s = seconds;
	err[0] = '\0';
	result = BC_OK;
out:
	if (root && cJSON_IsObject(root)) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
		if (cJSON_IsString(t))
			memset(t->valuestring, 0, strlen(t->valuestring));
	}
	cJSON_Delete(root);
	return result;
}

static const struct bc_auth_hooks auth = {
	.token_request = token_request,
	.token_response = token_response,
};

const struct bc_profile bc_profile_voipnow_update_phone_call_event = {
	.name = "voipnow.updatePhoneCallEvent",
	.summary = "VoipNow UnifiedAPI: update a phone call event of an "
		   "extension (method, note, url, status)",
	.method = "PUT",
	.default_base_url = VOIPNOW_BASE_URL,
	.path = "/uapi/extensions/{user_id}/{extension}/phoneCallEvents/"
		 "{event_type}/{event_id}",
	.default_key = "*",
	.default_rate = 10,
	.idempotent = 1,
	.api_takes_delay = 0,
	.columns = columns,
	.key_columns = key_columns,
	.notes =
		"PUT {base}/uapi/extensions/{user_id}/{extension}/"
		"phoneCallEvents/{event_type}/{event_id}; every path segment "
		"is percent-encoded (@me -> %40me, 0003*210 -> 0003%2A210). "
		"The body holds the columns given among method, note, url, "
		"status, as JSON strings ({\"method\":\"1\",\"note\":\"...\"}); "
		"at least one is needed.\n"
		"--base-url is your VoipNow server (the default is a "
		"placeholder).\n"
		"Credentials: VOIPNOW_TOKEN (Authorization: Bearer), or "
		"VOIPNOW_CLIENT_ID and VOIPNOW_CLIENT_SECRET: an OAuth 2.0 "
		"client-credentials token from {base}/oauth/token.php, minted "
		"before the first row, again before it expires and once "
		"after a 401.\n"
		"Success: 200 or 204 (another 2xx fails the row). Errors "
		"{\"error\":{\"code\":\"pce_...\",\"message\":...}}: the "
		"row's error is \"code: message\". 429 "
		"throttles; 401 stops the run (exit 5); 5xx is retried.\n"
		"Idempotent: an update whose answer was lost is sent again.",
	.auth = &auth,
	.bind = bind,
	.check_columns = check_columns,
	.build = build,
	.classify = classify,
	.release = release,
};
