/* profile voipnow.updatePhoneCallEvent: exact URLs (every segment
 * percent-encoded) and JSON bodies, the validation table, credentials
 * (static token, client credentials -> minted token, missing ones), the
 * OAuth token request body and token answers (invalid_client is fatal),
 * and the classifier on every pce_* code of the seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

#define P "voipnow.updatePhoneCallEvent"

static const char *env_token(const char *name)
{
	return strcmp(name, "VOIPNOW_TOKEN") == 0 ? "static-tok" : NULL;
}

static const char *env_client(const char *name)
{
	if (strcmp(name, "VOIPNOW_CLIENT_ID") == 0)
		return "app id";
	if (strcmp(name, "VOIPNOW_CLIENT_SECRET") == 0)
		return "s&cret=1";
	return NULL;
}

static const char *env_id_only(const char *name)
{
	return strcmp(name, "VOIPNOW_CLIENT_ID") == 0 ? "app" : NULL;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

enum { NCOLS = 8 };
static char *colnames[NCOLS] = { "user_id", "extension", "event_type",
				 "event_id", "method", "note",
				 "url", "status" };
static struct bc_columns cols = { NCOLS, colnames };

struct build_case {
	const char *values[NCOLS]; /* NULL = absent */
	int want;
	const char *want_url; /* after the base URL; or the error */
	const char *want_body;
};

#define EV "NqeyDRqo4FtabmFj8gNWq3hsiGNYyq"

static char long_id[300];
static char long_note[1100];
static char utf8_note[3 * 1024 + 1];

static const struct build_case build_cases[] = {
	/* The seed's example. */
	{ { NULL, "0003*210", "0", EV, "1", "I want to use POST for my event",
	    NULL, NULL },
	  BC_OK, "/uapi/extensions/%40me/0003%2A210/phoneCallEvents/0/" EV,
	  "{\"method\":\"1\",\"note\":\"I want to use POST for my event\"}" },
	{ { "", "0003*210", "0", EV, "1", NULL, NULL, NULL }, BC_OK,
	  "/uapi/extensions/%40me/0003%2A210/phoneCallEvents/0/" EV,
	  "{\"method\":\"1\"}" },
	{ { "@owner", "210", "2", "Hangup01", NULL, NULL,
	    "https://hooks.example.com/h?a=1&b=%2A", "0" },
	  BC_OK, "/uapi/extensions/%40owner/210/phoneCallEvents/2/Hangup01",
	  "{\"url\":\"https://hooks.example.com/h?a=1&b=%2A\",\"status\":\"0\"}" },
	{ { "1042", "0003*210", "1", "abc", "0", "say \"hi\" \\ \xc3\xa9",
	    "http://x.example", "1" },
	  BC_OK, "/uapi/extensions/1042/0003%2A210/phoneCallEvents/1/abc",
	  "{\"method\":\"0\",\"note\":\"say \\\"hi\\\" \\\\ \xc3\xa9\","
	  "\"url\":\"http://x.example\",\"status\":\"1\"}" },
	{ { "@viewer", "0003*210", "0", "a", NULL, NULL, NULL, "1" }, BC_OK,
	  "/uapi/extensions/%40viewer/0003%2A210/phoneCallEvents/0/a",
	  "{\"status\":\"1\"}" },
	{ { NULL, NULL, "0", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column extension: required value is missing", NULL },
	{ { NULL, "@self", "0", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column extension: cannot be @self (name the extension, e.g. "
	  "0003*210)",
	  NULL },
	{ { NULL, "0003/210", "0", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column extension: '0003/210' is not an extension number "
	  "(digits and '*', e.g. 0003*210)",
	  NULL },
	{ { "bob", "210", "0", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column user_id: 'bob' must be @me, @viewer, @owner or a "
	  "numeric user id",
	  NULL },
	{ { NULL, "210", "", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_type: required value is missing", NULL },
	{ { NULL, "210", "3", EV, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_type: '3' must be 0 (dial-in), 1 (dial-out) or "
	  "2 (hangup)",
	  NULL },
	{ { NULL, "210", "0", NULL, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_id: required value is missing", NULL },
	{ { NULL, "210", "0", "my-event", "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_id: character '-' at position 3 not allowed "
	  "(letters and digits only)",
	  NULL },
	{ { NULL, "210", "0", "a/../b", "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_id: character '/' at position 2 not allowed "
	  "(letters and digits only)",
	  NULL },
	{ { NULL, "210", "0", long_id, "1", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column event_id: longer than 255 characters", NULL },
	{ { NULL, "210", "0", EV, "2", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column method: '2' must be 0 or 1", NULL },
	{ { NULL, "210", "0", EV, NULL, NULL, NULL, "on" }, BC_EINVAL,
	  "line 7: column status: 'on' must be 0 or 1", NULL },
	{ { NULL, "210", "0", EV, NULL, long_note, NULL, NULL }, BC_EINVAL,
	  "line 7: column note: longer than 1024 characters", NULL },
	{ { NULL, "210", "0", EV, NULL, "a\nb", NULL, NULL }, BC_EINVAL,
	  "line 7: column note: line feed (LF) not allowed at byte 2", NULL },
	{ { NULL, "210", "0", EV, NULL, NULL, "ftp://x/y", NULL }, BC_EINVAL,
	  "line 7: column url: 'ftp://x/y' must start with http:// or https://",
	  NULL },
	{ { NULL, "210", "0", EV, NULL, NULL, "https:///path", NULL }, BC_EINVAL,
	  "line 7: column url: 'https:///path' has no host", NULL },
	{ { NULL, "210", "0", EV, NULL, NULL, "http://x/a b", NULL }, BC_EINVAL,
	  "line 7: column url: space at position 11 (encode it as %20)", NULL },
	{ { NULL, "210", "0", EV, "", "", "", "" }, BC_EINVAL,
	  "line 7: nothing to update: set at least one of method, note, url, "
	  "status",
	  NULL },
};

static void set_row(struct bc_row *row, const char *const *values)
{
	bc_row_reset(row);
	row->index = 6;
	row->line = 7;
	for (size_t c = 0; c < NCOLS; c++)
		if (values[c])
			bc_row_set(row, c, BC_VAL_STRING, values[c],
				   strlen(values[c]));
}

static void test_build(const struct bc_profile *p)
{
	memset(long_id, 'a', 256);
	memset(long_note, 'n', 1025);
	/* 1024 two-byte characters: 2048 bytes, within the limit. */
	for (size_t i = 0; i < 1024; i++)
		memcpy(utf8_note + 2 * i, "\xc3\xa9", 2);

	struct bc_profile_config cfg = { .base_url = "http://127.0.0.1:9",
					 .need_credentials = 1,
					 .getenv_fn = env_token };
	struct bc_profile_ctx ctx;
	char err[512], want[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_INT(ctx.nheaders, 1);
	CHECK_STR(ctx.headers[0].name, "Authorization");
	CHECK_STR(ctx.headers[0].value, "Bearer static-tok");
	CHECK(ctx.headers[0].secret);
	CHECK(!ctx.mint_token);

	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
		const struct build_case *c = &build_cases[i];
		set_row(&row, c->values);
		bc_request_reset(&req);
		err[0] = '\0';
		int got = p->build(&ctx, &row, &req, err, sizeof err);
		CHECK_INT(got, c->want);
		if (c->want == BC_OK) {
			snprintf(want, sizeof want, "http://127.0.0.1:9%s",
				 c->want_url);
			CHECK_STR(bc_buf_str(&req.url), want);
			CHECK_STR(bc_buf_str(&req.body), c->want_body);
			CHECK_STR(req.method, "PUT");
			CHECK_STR(req.content_type, "application/json");
		} else {
			CHECK_STR(err, c->want_url);
		}
	}
	/* 1024 characters of two bytes each are fine. */
	const char *u8[NCOLS] = { NULL, "210", "0", "e", NULL, utf8_note, NULL,
				  NULL };
	set_row(&row, u8);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	/* NDJSON numbers and booleans arrive as their text. */
	bc_row_reset(&row);
	row.line = 7;
	bc_row_set(&row, 1, BC_VAL_STRING, "210", 3);
	bc_row_set(&row, 2, BC_VAL_NUMBER, "1", 1);
	bc_row_set(&row, 3, BC_VAL_STRING, "e1", 2);
	bc_row_set(&row, 4, BC_VAL_NUMBER, "1", 1);
	bc_row_set(&row, 7, BC_VAL_NULL, "", 0);
	bc_request_reset(&req);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	CHECK_STR(bc_buf_str(&req.body), "{\"method\":\"1\"}");
	CHECK_STR(bc_buf_str(&req.url),
		  "http://127.0.0.1:9/uapi/extensions/%40me/210/phoneCallEvents/1/e1");
	bc_row_release(&row);
	bc_request_release(&req);
	bc_profile_release(&ctx);

	/* A CSV needs the path columns and something to update. */
	struct bc_columns c2 = { 4, colnames };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: nothing to update: the input needs at least one "
		       "of the columns method, note, url, status");
	char *noid[] = { "extension", "event_type", "note" };
	struct bc_columns c3 = { 3, noid };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c3, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: required column 'event_id' is missing");
}

static void test_credentials(const struct bc_profile *p)
{
	struct bc_profile_config cfg = { .base_url = "http://127.0.0.1:9",
					 .need_credentials = 1,
					 .getenv_fn = env_client };
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK(ctx.mint_token);
	CHECK_INT(ctx.nheaders, 1);
	CHECK_STR(ctx.headers[0].name, "Authorization");
	CHECK_STR(ctx.headers[0].value, "");
	CHECK(ctx.headers[0].secret);
	CHECK(p->auth != NULL);

	/* The token request, as 4PSA's own clients send it. */
	struct bc_request req;
	bc_request_init(&req);
	CHECK_INT(p->auth->token_request(&ctx, &req, err, sizeof err), BC_OK);
	CHECK_STR(req.method, "POST");
	CHECK_STR(bc_buf_str(&req.url), "http://127.0.0.1:9/oauth/token.php");
	CHECK_STR(req.content_type, "application/x-www-form-urlencoded");
	CHECK_STR(bc_buf_str(&req.body),
		  "client_id=app%20id&client_secret=s%26cret%3D1"
		  "&grant_type=client_credentials&type=unifiedapi"
		  "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fouath%2Ftoken.php");
	/* Built twice: the same bytes, not appended. */
	bc_request_reset(&req);
	CHECK_INT(p->auth->token_request(&ctx, &req, err, sizeof err), BC_OK);
	CHECK(strncmp(bc_buf_str(&req.body), "client_id=app%20id&", 19) == 0);
	CHECK_INT(req.body.len, strlen("client_id=app%20id&client_secret=s%26cret%3D1"
				       "&grant_type=client_credentials&type=unifiedapi"
				       "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fouath%2Ftoken.php"));
	bc_request_release(&req);

	struct {
		long status;
		const char *body;
		int want;
		const char *want_auth; /* or the error */
		long long want_expires;
	} cases[] = {
		{ 200, "{\"access_token\":\"abc.DEF-123\",\"expires_in\":3600,"
		       "\"token_type\":\"Bearer\"}",
		  BC_OK, "Bearer abc.DEF-123", 3600 },
		{ 200, "{\"access_token\":\"t\",\"expires_in\":\"900\","
		       "\"token_type\":\"bearer\",\"refresh_token\":\"r\"}",
		  BC_OK, "Bearer t", 900 },
		{ 200, "{\"access_token\":\"t\"}", BC_OK, "Bearer t", 0 },
		{ 401, "{\"error\":\"invalid_client\",\"error_description\":"
		       "\"Client authentication failed.\"}",
		  BC_EFATAL,
		  "HTTP 401 from the token endpoint: invalid_client: Client "
		  "authentication failed.",
		  0 },
		{ 400, "{\"error\":\"invalid_client\"}", BC_EFATAL,
		  "HTTP 400 from the token endpoint: invalid_client", 0 },
		{ 400, "{\"error\":\"unsupported_grant_type\"}", BC_EFATAL,
		  "HTTP 400 from the token endpoint: unsupported_grant_type", 0 },
		{ 500, "{\"error\":{\"code\":\"internal_error\",\"message\":"
		       "\"Internal Server Error\"}}",
		  BC_EINVAL,
		  "HTTP 500 from the token endpoint: internal_error: Internal "
		  "Server Error",
		  0 },
		{ 503, "<html>down</html>", BC_EINVAL,
		  "HTTP 503 from the token endpoint: no error message", 0 },
		{ 429, "", BC_EINVAL,
		  "HTTP 429 from the token endpoint: no error message", 0 },
		{ 200, "garbage", BC_EINVAL,
		  "the token endpoint answered HTTP 200 without an access_token",
		  0 },
		{ 200, "{\"token\":\"x\"}", BC_EINVAL,
		  "the token endpoint answered HTTP 200 without an access_token",
		  0 },
		{ 200, "{\"access_token\":\"a\\r\\nX-Evil: 1\"}", BC_EINVAL,
		  "the access_token is not a usable header value", 0 },
		{ 200, "{\"access_token\":\"a\",\"token_type\":\"mac\"}",
		  BC_EINVAL, "token_type is not Bearer", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bc_response resp = { cases[i].status, cases[i].body,
					    strlen(cases[i].body),
					    "application/json" };
		char *auth = (char *)"untouched";
		long long exp = -1;
		err[0] = '\0';
		int got = p->auth->token_response(&ctx, &resp, &auth, &exp, err,
						  sizeof err);
		CHECK_INT(got, cases[i].want);
		if (got == BC_OK) {
			CHECK_STR(auth, cases[i].want_auth);
			CHECK_INT(exp, cases[i].want_expires);
			free(auth);
		} else {
			CHECK(auth == NULL);
			CHECK_STR(err, cases[i].want_auth);
		}
	}
	bc_profile_release(&ctx);

	/* Missing credentials name the variables. */
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "VoipNow credentials are not set: export VOIPNOW_TOKEN, "
		       "or VOIPNOW_CLIENT_ID and VOIPNOW_CLIENT_SECRET "
		       "(credentials are read from the environment only)");
	cfg.getenv_fn = env_id_only;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "VOIPNOW_CLIENT_SECRET is not set: export "
		       "VOIPNOW_CLIENT_ID and VOIPNOW_CLIENT_SECRET (or "
		       "VOIPNOW_TOKEN)");
	/* check/render need none. */
	cfg.need_credentials = 0;
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK(!ctx.mint_token);
	CHECK_STR(ctx.headers[0].value, "");
	CHECK_STR(ctx.base_url, "http://127.0.0.1:9");
	bc_profile_release(&ctx);
	cfg.base_url = NULL;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_STR(ctx.base_url, "https://uapi.voipnow.com");
	bc_profile_release(&ctx);
}

struct classify_case {
	long status;
	const char *body;
	enum bc_verdict want;
	const char *want_err;
};

#define VERR(code, msg) "{\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"

/* Seed 003's failure table, every code, plus the create page's spelling. */
static const struct classify_case classify_cases[] = {
	{ 200, "{\"type\":\"0\",\"id\":\"" EV "\",\"method\":\"1\"}",
	  BC_VERDICT_OK, "" },
	{ 204, "", BC_VERDICT_OK, "" },
	/* Exactly 200 and 204 are success: another 2xx is a failed row. */
	{ 201, "{\"id\":\"" EV "\"}", BC_VERDICT_FAILED,
	  "unexpected HTTP 201: the API answers an update with 200 or 204" },
	{ 202, "", BC_VERDICT_FAILED,
	  "unexpected HTTP 202: the API answers an update with 200 or 204" },
	{ 206, VERR("pce_type_invalid", "t"), BC_VERDICT_FAILED,
	  "unexpected HTTP 206: the API answers an update with 200 or 204" },
	{ 299, "", BC_VERDICT_FAILED,
	  "unexpected HTTP 299: the API answers an update with 200 or 204" },
	{ 400, VERR("pce_type_invalid", "Value supplied in type parameter is "
					"missing or invalid."),
	  BC_VERDICT_FAILED,
	  "pce_type_invalid: Value supplied in type parameter is missing or "
	  "invalid." },
	{ 400, VERR("pcet_type_invalid", "bad type"), BC_VERDICT_FAILED,
	  "pcet_type_invalid: bad type" },
	{ 400, VERR("pce_id_invalid", "Value supplied in id parameter is invalid."),
	  BC_VERDICT_FAILED,
	  "pce_id_invalid: Value supplied in id parameter is invalid." },
	{ 400, VERR("pce_method_invalid", "m"), BC_VERDICT_FAILED,
	  "pce_method_invalid: m" },
	{ 400, VERR("pce_note_invalid", "n"), BC_VERDICT_FAILED,
	  "pce_note_invalid: n" },
	{ 400, VERR("pce_url_invalid", "u"), BC_VERDICT_FAILED,
	  "pce_url_invalid: u" },
	{ 400, VERR("pce_status_invalid", "s"), BC_VERDICT_FAILED,
	  "pce_status_invalid: s" },
	{ 400, VERR("extension_invalid", "e"), BC_VERDICT_FAILED,
	  "extension_invalid: e" },
	{ 400, VERR("pce_access_denied", "You are not allowed to manage the "
					 "phone call events."),
	  BC_VERDICT_FAILED,
	  "pce_access_denied: You are not allowed to manage the phone call "
	  "events." },
	{ 400, "{\"error\":{\"code\":\"pce_type_invalid\"}}", BC_VERDICT_FAILED,
	  "pce_type_invalid" },
	{ 404, VERR("pce_not_found", "The phone call event does not exist."),
	  BC_VERDICT_FAILED,
	  "pce_not_found: The phone call event does not exist." },
	{ 403, VERR("forbidden", "no"), BC_VERDICT_FAILED, "forbidden: no" },
	{ 401, VERR("unauthorized", "The access token is missing, invalid or "
				    "expired."),
	  BC_VERDICT_FATAL,
	  "unauthorized: The access token is missing, invalid or expired." },
	{ 401, "{\"error\":\"invalid_token\"}", BC_VERDICT_FATAL,
	  "invalid_token" },
	{ 429, VERR("too_many_requests", "Too many requests."),
	  BC_VERDICT_THROTTLE, "too_many_requests: Too many requests." },
	{ 429, "", BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 500, VERR("internal_error", "Internal Server Error"), BC_VERDICT_RETRY,
	  "internal_error: Internal Server Error" },
	{ 502, "<html>", BC_VERDICT_RETRY, "HTTP 502" },
	/* Hostile. */
	{ 400, "{\"error\":{\"code\":\"a\\nb\",\"message\":[1,{\"x\":true}]}}",
	  BC_VERDICT_FAILED, "a b: 1; x: true" },
	{ 400, "{\"error\":", BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "{\"error\":{}}", BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "\"just a string\"", BC_VERDICT_FAILED, "HTTP 400" },
};

static void test_classify(const struct bc_profile *p)
{
	char err[512];
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
	     i++) {
		const struct classify_case *c = &classify_cases[i];
		struct bc_response resp = { c->status, c->body, strlen(c->body),
					    "application/json" };
		strcpy(err, "X");
		CHECK_INT(p->classify(NULL, &resp, err, sizeof err), c->want);
		CHECK_STR(err, c->want_err);
	}
	/* Nesting past cJSON's limit: not parsed, no crash. */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 1);
	if (deep) {
		memset(deep, '[', depth);
		memset(deep + depth, ']', depth);
		deep[2 * depth] = '\0';
		struct bc_response d = { 400, deep, 2 * depth, NULL };
		CHECK_INT(p->classify(NULL, &d, err, sizeof err),
			  BC_VERDICT_FAILED);
		CHECK_STR(err, "HTTP 400");
		char *auth = NULL;
		long long exp = 0;
		struct bc_response t = { 200, deep, 2 * depth, NULL };
		CHECK_INT(p->auth->token_response(NULL, &t, &auth, &exp, err,
						  sizeof err),
			  BC_EINVAL);
		CHECK(auth == NULL);
		free(deep);
	}
}

int main(void)
{
	const struct bc_profile *p = bc_profile_find(P);
	CHECK(p != NULL);
	if (!p)
		return bc_test_done();
	CHECK(p->idempotent);
	CHECK_STR(p->default_key, "*");
	CHECK_STR(p->key_columns[2], "event_id");
	/* The status column says what seed 003 says (pce_status_invalid). */
	CHECK_STR(p->columns[7].name, "status");
	CHECK(strstr(p->columns[7].rule, "0 for enabled or 1 for disabled") !=
	      NULL);
	CHECK(strstr(p->notes, "Success: 200 or 204 (another 2xx fails the "
			       "row).") != NULL);
	test_build(p);
	test_credentials(p);
	test_classify(p);
	return bc_test_done();
}
