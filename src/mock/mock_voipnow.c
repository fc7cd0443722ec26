/* VoipNow UnifiedAPI mock: OAuth 2.0 client-credentials tokens from
 * POST /oauth/token.php (expiring after --token-ttl) and
 * PUT /uapi/extensions/{user}/{ext}/phoneCallEvents/{type}/{id} with the
 * seed's pce_* validation codes in {"error":{"code","message"}}. Owns the
 * table of minted tokens. Message texts are guesses where the docs are
 * silent, marked [GUESS]. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "mock/mock.h"

#define CT_JSON "application/json"
#define TOKEN_LEN 40
#define TOKENS_MAX (1u << 20)

static void voipnow_handle(struct mock_req *req, struct mock_answer *a);
static int voipnow_init(char *err, size_t err_len);

static const char *const paths[] = { "/oauth/token.php", "/uapi/", NULL };

struct mock_provider mock_voipnow = {
	.name = "voipnow",
	.paths = paths,
	.content_type = CT_JSON,
	/* [GUESS] no throttle is documented; clients map 429. */
	.throttle_status = 429,
	.throttle_body = "{\"error\":{\"code\":\"too_many_requests\","
			 "\"message\":\"Too many requests.\"}}",
	.fail_status = 500,
	.fail_body = "{\"error\":{\"code\":\"internal_error\",\"message\":"
		     "\"Internal Server Error\"}}",
	.init = voipnow_init,
	.handle = voipnow_handle,
};

static const char *client_id;
static const char *client_secret;
static const char *static_token;
static struct MHD_Response *unauthorized;
static struct MHD_Response *not_found;
static struct MHD_Response *not_allowed;
static struct MHD_Response *bad_client;
static struct MHD_Response *bad_grant;
static struct MHD_Response *no_content;

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static int voipnow_init(char *err, size_t err_len)
{
	client_id = env_or("MOCK_VOIPNOW_CLIENT_ID", "voipnow-client");
	client_secret = env_or("MOCK_VOIPNOW_CLIENT_SECRET", "voipnow-secret");
	static_token = env_or("MOCK_VOIPNOW_TOKEN", "voipnow-token");
	unauthorized = mock_response_static(
		"{\"error\":{\"code\":\"unauthorized\",\"message\":\"The "
		"access token is missing, invalid or expired.\"}}",
		CT_JSON);
	not_found = mock_response_static(
		"{\"error\":{\"code\":\"not_found\",\"message\":\"Resource "
		"not found.\"}}",
		CT_JSON);
	not_allowed = mock_response_static(
		"{\"error\":{\"code\":\"method_not_allowed\",\"message\":"
		"\"Method not allowed.\"}}",
		CT_JSON);
	/* OAuth 2.0 (RFC 6749 5.2) error bodies, as 4PSA's clients read. */
	bad_client = mock_response_static(
		"{\"error\":\"invalid_client\",\"error_description\":"
		"\"Client authentication failed.\"}",
		CT_JSON);
	bad_grant = mock_response_static(
		"{\"error\":\"unsupported_grant_type\",\"error_description\":"
		"\"Only client_credentials is supported.\"}",
		CT_JSON);
	no_content = mock_response_static("", NULL);
	if (!unauthorized || !not_found || !not_allowed || !bad_client ||
	    !bad_grant || !no_content) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- Minted tokens: an open-addressed table, expired ones reused. */

struct token {
	char value[TOKEN_LEN + 1];
	uint64_t expires_ms;
};

static struct {
	pthread_mutex_t lock;
	struct token *slots;
	size_t cap;
	size_t used;
} tokens = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t token_hash(const char *s)
{
	size_t h = 5381;
	for (; *s; s++)
		h = h * 33u + (unsigned char)*s;
	return h;
}

/* Caller holds the lock. Rebuilds the table without expired tokens, at
 * twice the size when it is still more than half full. */
static int tokens_rehash(uint64_t now_ms)
{
	size_t live = 0;
	for (size_t i = 0; i < tokens.cap; i++)
		live += tokens.slots[i].value[0] &&
			tokens.slots[i].expires_ms > now_ms;
	size_t cap = tokens.cap ? tokens.cap : 1024;
	while (live * 2 >= cap)
		cap *= 2;
	if (cap > TOKENS_MAX * 2)
		return -1;
	struct token *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < tokens.cap; i++) {
		struct token *t = &tokens.slots[i];
		if (!t->value[0] || t->expires_ms <= now_ms)
			continue;
		size_t j = token_hash(t->value) & (cap - 1);
		while (slots[j].value[0])
			j = (j + 1) & (cap - 1);
		slots[j] = *t;
	}
	free(tokens.slots);
	tokens.slots = slots;
	tokens.cap = cap;
	tokens.used = live;
	return 0;
}

static int token_mint(char out[TOKEN_LEN + 1], uint64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < TOKEN_LEN; i += 16) {
		uint64_t r = mock_rand();
		for (size_t k = 0; k < 16 && i + k < TOKEN_LEN; k++, r >>= 4)
			out[i + k] = hex[r & 15u];
	}
	out[TOKEN_LEN] = '\0';
	int err = 0;
	pthread_mutex_lock(&tokens.lock);
	if ((tokens.used + 1) * 2 > tokens.cap)
		err = tokens_rehash(now_ms);
	if (!err) {
		size_t j = token_hash(out) & (tokens.cap - 1);
		while (tokens.slots[j].value[0])
			j = (j + 1) & (tokens.cap - 1);
		memcpy(tokens.slots[j].value, out, TOKEN_LEN + 1);
		tokens.slots[j].expires_ms =
			now_ms + (uint64_t)mock_opts.token_ttl_s * 1000u;
		tokens.used++;
	}
	pthread_mutex_unlock(&tokens.lock);
	return err;
}

static int token_valid(const char *t, uint64_t now_ms)
{
	if (!strcmp(t, static_token))
		return 1;
	if (strlen(t) != TOKEN_LEN)
		return 0;
	int ok = 0;
	static unsigned long uses;
	pthread_mutex_lock(&tokens.lock);
	/* --token-revoke-every: a server-side revocation mid-run, before
	 * expiry, so a client has to mint again after a 401. */
	if (mock_opts.token_revoke_every &&
	    ++uses % mock_opts.token_revoke_every == 0)
		for (size_t i = 0; i < tokens.cap; i++)
			tokens.slots[i].expires_ms = 0;
	if (tokens.cap) {
		size_t j = token_hash(t) & (tokens.cap - 1);
		for (; tokens.slots[j].value[0]; j = (j + 1) & (tokens.cap - 1))
			if (!strcmp(tokens.slots[j].value, t)) {
				ok = tokens.slots[j].expires_ms > now_ms;
				break;
			}
	}
	pthread_mutex_unlock(&tokens.lock);
	return ok;
}

static void token_endpoint(struct mock_req *req, struct mock_answer *a)
{
	if (strcmp(req->method, "POST")) {
		mock_answer_shared(a, 405, not_allowed, MOCK_REJECTED);
		return;
	}
	struct mock_fields f;
	mock_fields_init(&f);
	if (mock_form_parse(&f, bc_buf_str(&req->body), req->body.len) ||
	    mock_query_fields(req, &f)) {
		mock_answer_shared(a, 500, mock_voipnow.fail_resp,
				   MOCK_REJECTED);
		goto out;
	}
	const char *grant = mock_fields_get(&f, "grant_type");
	const char *id = mock_fields_get(&f, "client_id");
	const char *secret = mock_fields_get(&f, "client_secret");
	if (!grant || strcmp(grant, "client_credentials")) {
		mock_answer_shared(a, 400, bad_grant, MOCK_REJECTED);
		goto out;
	}
	if (!id || !secret || strcmp(id, client_id) ||
	    strcmp(secret, client_secret)) {
		mock_answer_shared(a, 401, bad_client, MOCK_UNAUTHORIZED);
		goto out;
	}
	char t[TOKEN_LEN + 1];
	if (token_mint(t, mock_now_ms())) {
		mock_answer_shared(a, 500, mock_voipnow.fail_resp,
				   MOCK_REJECTED);
		goto out;
	}
	char body[160];
	int n = snprintf(body, sizeof body,
			 "{\"access_token\":\"%s\",\"expires_in\":%u,"
			 "\"token_type\":\"Bearer\"}",
			 t, mock_opts.token_ttl_s);
	mock_answer_copy(a, 200, CT_JSON, body, (size_t)n, MOCK_TOKEN);
out:
	mock_fields_release(&f);
}

/* ---- PUT phoneCallEvents. */

static void voipnow_error(struct mock_answer *a, unsigned int status,
			  const char *code, const char *msg)
{
	struct bc_buf b = BC_BUF_INIT(4096);
	int err = bc_buf_addf(&b, "{\"error\":{\"code\":\"%s\",\"message\":",
			      code);
	err = err || mock_json_str(&b, msg, strlen(msg));
	err = err || bc_buf_adds(&b, "}}");
	if (err)
		mock_answer_shared(a, 0, NULL, MOCK_REJECTED);
	else
		mock_answer_copy(a, status, CT_JSON, b.ptr, b.len,
				 MOCK_REJECTED);
	bc_buf_release(&b);
}

static int digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Phone terminal, queue, conference or IVR: 0003*210 or 210. */
static int extension_ok(const char *s)
{
	size_t len = strlen(s);
	return (len == 3 && digits(s, 3)) ||
	       (len == 8 && digits(s, 4) && s[4] == '*' && digits(s + 5, 3));
}

static int user_ok(const char *s)
{
	return !strcmp(s, "@me") || !strcmp(s, "@viewer") ||
	       !strcmp(s, "@owner") ||
	       (*s && strlen(s) <= 20 && digits(s, strlen(s)));
}

static int id_ok(const char *s)
{
	size_t len = strlen(s);
	if (!len || len > 255)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A value given as "1" or 1 (the docs send numbers as strings). */
static int small_enum(const cJSON *v, int max)
{
	if (cJSON_IsNumber(v))
		return v->valuedouble >= 0 && v->valuedouble <= max &&
		       v->valuedouble == (double)(int)v->valuedouble;
	return cJSON_IsString(v) && v->valuestring[0] >= '0' &&
	       v->valuestring[0] <= '0' + max && !v->valuestring[1];
}

static int url_ok(const cJSON *v)
{
	if (!cJSON_IsString(v))
		return 0;
	const char *s = v->valuestring;
	const char *host = !strncmp(s, "http://", 7)	? s + 7
			   : !strncmp(s, "https://", 8) ? s + 8
							: NULL;
	if (!host || !*host || *host == '/' || strlen(s) > 2048)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ')
			return 0;
	return 1;
}

#define SEGMENTS 6

/* /uapi/extensions/U/E/phoneCallEvents/T/I into seg; -1 if not that. */
static int split_path(const char *url, char seg[SEGMENTS][256])
{
	static const char prefix[] = "/uapi/";
	if (strncmp(url, prefix, sizeof prefix - 1))
		return -1;
	const char *p = url + sizeof prefix - 1;
	for (int i = 0; i < SEGMENTS; i++) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!len || len >= 256 || (i < SEGMENTS - 1 && !end) ||
		    (i == SEGMENTS - 1 && end))
			return -1;
		memcpy(seg[i], p, len);
		seg[i][len] = '\0';
		p += len + (end ? 1 : 0);
	}
	return strcmp(seg[0], "extensions") || strcmp(seg[3], "phoneCallEvents")
		? -1
		: 0;
}

/* Validates the partial PhoneCallEvent; the code of the first error. */
static const char *validate(const cJSON *body)
{
	const cJSON *v;
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "type")) &&
	    !small_enum(v, 4))
		return "pce_type_invalid";
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "method")) &&
	    !small_enum(v, 1))
		return "pce_method_invalid";
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "status")) &&
	    !small_enum(v, 1))
		return "pce_status_invalid";
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "note")) &&
	    (!cJSON_IsString(v) || strlen(v->valuestring) > 1024))
		return "pce_note_invalid";
	if ((v = cJSON_GetObjectItemCaseSensitive(body, "url")) && !url_ok(v))
		return "pce_url_invalid";
	return NULL;
}

/* [DOC] seed 003 descriptions, shortened. */
static const char *message_of(const char *code)
{
	static const char *const table[][2] = {
		{ "pce_type_invalid", "Value supplied in type parameter is "
				      "missing or invalid." },
		{ "pce_id_invalid", "Value supplied in id parameter is "
				    "invalid." },
		{ "pce_method_invalid", "Value supplied in method parameter "
					"is missing or invalid." },
		{ "pce_note_invalid", "Value supplied in note parameter is "
				      "missing or invalid." },
		{ "pce_url_invalid", "Value supplied in request URL parameter "
				     "is missing or invalid." },
		{ "pce_status_invalid", "Value supplied in status parameter "
					"is missing or invalid." },
		{ "extension_invalid", "Value supplied in the URI-Fragment as "
				       "extension is invalid." },
		{ "user_invalid", "Value supplied in the URI-Fragment as user "
				  "is invalid." },
		{ "pce_not_found", "The phone call event does not exist." },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(table[i][0], code))
			return table[i][1];
	return "Invalid request.";
}

static void iso8601_now(char *out, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void update_event(struct mock_req *req, struct mock_answer *a)
{
	char seg[SEGMENTS][256];
	if (split_path(req->url, seg)) {
		mock_answer_shared(a, 404, not_found, MOCK_NOT_FOUND);
		return;
	}
	if (strcmp(req->method, "PUT")) {
		mock_answer_shared(a, 405, not_allowed, MOCK_REJECTED);
		return;
	}
	const char *t = mock_bearer(req);
	const char *q = mock_query(req, "accessRequestToken");
	if (!t && q && !strncmp(q, "Bearer ", 7))
		t = q + 7;
	if (!t || !token_valid(t, mock_now_ms())) {
		mock_answer_shared(a, 401, unauthorized, MOCK_UNAUTHORIZED);
		return;
	}
	const char *user = seg[1], *ext = seg[2], *type = seg[4], *id = seg[5];
	const char *code = !user_ok(user)	 ? "user_invalid"
			   : !extension_ok(ext) ? "extension_invalid"
			   : !(type[0] >= '0' && type[0] <= '4' && !type[1])
				   ? "pce_type_invalid"
			   : !id_ok(id) ? "pce_id_invalid"
					: NULL;
	if (code) {
		voipnow_error(a, 400, code, message_of(code));
		return;
	}
	if (!strncmp(id, "missing", 7)) {
		voipnow_error(a, 404, "pce_not_found", message_of("pce_not_found"));
		return;
	}
	cJSON *body = cJSON_ParseWithLengthOpts(bc_buf_str(&req->body),
						req->body.len + 1, NULL, 1);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		voipnow_error(a, 400, "invalid_request",
			      "The request body must be a JSON object.");
		return;
	}
	if ((code = validate(body))) {
		cJSON_Delete(body);
		voipnow_error(a, 400, code, message_of(code));
		return;
	}

	struct mock_fields f;
	mock_fields_init(&f);
	char *text = cJSON_PrintUnformatted(body);
	int err = !text || mock_fields_adds(&f, "user_id", user) ||
		  mock_fields_adds(&f, "extension", ext) ||
		  mock_fields_adds(&f, "event_type", type) ||
		  mock_fields_adds(&f, "event_id", id) ||
		  mock_fields_add(&f, "body", text, strlen(text), 1);
	cJSON_free(text);
	if (err) {
		mock_answer_shared(a, 500, mock_voipnow.fail_resp,
				   MOCK_REJECTED);
	} else if (mock_accept(&mock_voipnow, "updatePhoneCallEvent", &f, a)) {
		/* 200 with the event, as the seed's example answers. */
		char modified[32];
		iso8601_now(modified, sizeof modified);
		cJSON_DeleteItemFromObjectCaseSensitive(body, "type");
		cJSON_DeleteItemFromObjectCaseSensitive(body, "id");
		cJSON_DeleteItemFromObjectCaseSensitive(body, "modified");
		cJSON_DeleteItemFromObjectCaseSensitive(body, "links");
		cJSON_AddStringToObject(body, "type", type);
		cJSON_AddStringToObject(body, "id", id);
		cJSON_AddStringToObject(body, "modified", modified);
		text = cJSON_PrintUnformatted(body);
		if (text)
			mock_answer_copy(a, 200, CT_JSON, text, strlen(text),
					 MOCK_OK);
		else
			mock_answer_shared(a, 204, no_content, MOCK_OK);
		cJSON_free(text);
	}
	mock_fields_release(&f);
	cJSON_Delete(body);
}

static void voipnow_handle(struct mock_req *req, struct mock_answer *a)
{
	if (!strcmp(req->url, "/oauth/token.php"))
		token_endpoint(req, a);
	else
		update_event(req, a);
}
