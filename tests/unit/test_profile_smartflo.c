/* profile smartflo.updateIVR: exact JSON bodies (every seed field,
 * integers as numbers, option/destination from JSON-array cells, ';'
 * lists and NDJSON arrays, '|' never splitting), the validation table,
 * the header checks and credentials, and the classifier: success false
 * as a boolean and as the string "false", messages as strings, lists
 * and field maps, the account-wide 429, hostile bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

#define P "smartflo.updateIVR"

static const char *fake_env(const char *name)
{
	return strcmp(name, "SMARTFLO_TOKEN") == 0 ? "tok-123" : NULL;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

enum { NCOLS = 16 };
static char *colnames[NCOLS] = {
	"id",
	"name",
	"description",
	"recording",
	"timeout",
	"incorrect_count",
	"invalid_recording",
	"invalid_destination",
	"timeout_retry_recording",
	"timeout_recording",
	"timeout_destination",
	"timeout_tries",
	"recording_invalid",
	"option",
	"destination",
	"bulkcall_error",
};
static struct bc_columns cols = { NCOLS, colnames };

/* A valid row; cases override single columns. */
static const char *const base[NCOLS] = {
	"349",
	"Support IVR",
	"IVR for the support team",
	"recording|0231",
	"20",
	"5",
	"recording|349",
	"extension|05047530002",
	"recording|52156",
	"recording|123",
	"extension|05047530002",
	"3",
	"recording|58999",
	"[\"1\",\"2\"]",
	"[\"extension|05047530002\",\"extension|845\"]",
	"old error",
};

#define BODY(name, opt, dest)                                                \
	"{\"name\":\"" name "\",\"description\":\"IVR for the support "      \
	"team\",\"recording\":\"recording|0231\",\"timeout\":20,"            \
	"\"incorrect_count\":5,\"invalid_recording\":\"recording|349\","     \
	"\"invalid_destination\":\"extension|05047530002\","                 \
	"\"timeout_retry_recording\":\"recording|52156\","                   \
	"\"timeout_recording\":\"recording|123\","                           \
	"\"timeout_destination\":\"extension|05047530002\","                 \
	"\"timeout_tries\":3,\"recording_invalid\":\"recording|58999\","     \
	"\"option\":" opt ",\"destination\":" dest "}"

#define OPT2 "[\"1\",\"2\"]"
#define DEST2 "[\"extension|05047530002\",\"extension|845\"]"

struct build_case {
	int col;           /* column to override, -1 = none */
	const char *value; /* NULL = absent */
	int kind;          /* BC_VAL_* of the override */
	int want;
	const char *want_text; /* body or error */
	const char *want_url;  /* NULL: .../v1/ivr/349 */
};

#define S BC_VAL_STRING

static const struct build_case build_cases[] = {
	{ -1, NULL, S, BC_OK, BODY("Support IVR", OPT2, DEST2), NULL },
	/* ';' lists, spaces trimmed, '|' kept inside values. */
	{ 13, " 1 ; 2 ", S, BC_OK, BODY("Support IVR", OPT2, DEST2), NULL },
	{ 14, "extension|05047530002;extension|845", S, BC_OK,
	  BODY("Support IVR", OPT2, DEST2), NULL },
	/* NDJSON arrays, numbers taken as their text. */
	{ 13, "[1,2]", BC_VAL_ARRAY, BC_OK, BODY("Support IVR", OPT2, DEST2),
	  NULL },
	{ 14, "[\"extension|05047530002\", \"extension|845\"]", BC_VAL_ARRAY,
	  BC_OK, BODY("Support IVR", OPT2, DEST2), NULL },
	/* NDJSON numbers for integer fields. */
	{ 4, "20", BC_VAL_NUMBER, BC_OK, BODY("Support IVR", OPT2, DEST2), NULL },
	/* JSON escaping of strings. */
	{ 1, "Q\"uote\\ & <tag> \xc3\xa9", S, BC_OK,
	  BODY("Q\\\"uote\\\\ & <tag> \xc3\xa9", OPT2, DEST2), NULL },
	{ 0, "", S, BC_EINVAL, "line 7: column id: required value is missing",
	  NULL },
	{ 0, "34a", S, BC_EINVAL,
	  "line 7: column id: '34a' is not an IVR id (digits)", NULL },
	{ 0, "../1", S, BC_EINVAL,
	  "line 7: column id: '../1' is not an IVR id (digits)", NULL },
	{ 1, NULL, S, BC_EINVAL, "line 7: column name: required value is missing",
	  NULL },
	{ 12, "", S, BC_EINVAL,
	  "line 7: column recording_invalid: required value is missing", NULL },
	{ 2, "two\nlines", S, BC_EINVAL,
	  "line 7: column description: line feed (LF) not allowed at byte 4",
	  NULL },
	{ 4, "20.5", BC_VAL_NUMBER, BC_EINVAL,
	  "line 7: column timeout: '20.5' is not a whole number", NULL },
	{ 5, "-1", S, BC_EINVAL,
	  "line 7: column incorrect_count: '-1' is not a whole number", NULL },
	{ 11, "2147483648", S, BC_EINVAL,
	  "line 7: column timeout_tries: 2147483648 is out of range "
	  "0..2147483647",
	  NULL },
	{ 11, "three", S, BC_EINVAL,
	  "line 7: column timeout_tries: 'three' is not a whole number", NULL },
	{ 13, "", S, BC_EINVAL, "line 7: column option: required value is missing",
	  NULL },
	{ 13, "[]", BC_VAL_ARRAY, BC_EINVAL,
	  "line 7: column option: required value is missing", NULL },
	{ 13, "1;2;3", S, BC_EINVAL,
	  "line 7: column destination: 2 items, but option has 3 (they pair "
	  "up one to one)",
	  NULL },
	{ 14, "extension|1", S, BC_EINVAL,
	  "line 7: column destination: 1 item, but option has 2 (they pair up "
	  "one to one)",
	  NULL },
	{ 13, "1;;2", S, BC_EINVAL, "line 7: column option: item 2 is empty",
	  NULL },
	{ 13, "[\"1\",true]", S, BC_EINVAL,
	  "line 7: column option: item 2 is not a string", NULL },
	{ 13, "[\"1\",\"2\"", S, BC_EINVAL,
	  "line 7: column option: not a JSON array of strings (write "
	  "[\"a\",\"b\"] or a;b)",
	  NULL },
	{ 14, "[\"a\\nb\",\"c\"]", BC_VAL_ARRAY, BC_EINVAL,
	  "line 7: column destination: item 1 holds a line feed (LF)", NULL },
	{ 1, "[\"x\"]", BC_VAL_ARRAY, BC_EINVAL,
	  "line 7: column name: a list is not accepted here", NULL },
};

static void set_row(struct bc_row *row, const struct build_case *c)
{
	bc_row_reset(row);
	row->index = 6;
	row->line = 7;
	for (int k = 0; k < NCOLS; k++) {
		const char *v = k == c->col ? c->value : base[k];
		int kind = k == c->col ? c->kind : BC_VAL_STRING;
		if (v)
			bc_row_set(row, (size_t)k, (enum bc_value_kind)kind, v,
				   strlen(v));
	}
}

static void test_build(const struct bc_profile *p)
{
	struct bc_profile_config cfg = { .base_url = "http://127.0.0.1:9",
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_INT(ctx.nheaders, 2);
	CHECK_STR(ctx.headers[0].name, "Authorization");
	CHECK_STR(ctx.headers[0].value, "Bearer tok-123");
	CHECK(ctx.headers[0].secret);
	CHECK_STR(ctx.headers[1].name, "Accept");
	CHECK_STR(ctx.headers[1].value, "application/json");
	CHECK(!ctx.headers[1].secret);

	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
		const struct build_case *c = &build_cases[i];
		set_row(&row, c);
		bc_request_reset(&req);
		err[0] = '\0';
		int got = p->build(&ctx, &row, &req, err, sizeof err);
		CHECK_INT(got, c->want);
		if (got != c->want)
			fprintf(stderr, "  case %zu: %s\n", i, err);
		if (c->want == BC_OK) {
			CHECK_STR(bc_buf_str(&req.body), c->want_text);
			CHECK_STR(bc_buf_str(&req.url),
				  c->want_url ? c->want_url
					      : "http://127.0.0.1:9/v1/ivr/349");
			CHECK_STR(req.method, "PUT");
			CHECK_STR(req.content_type, "application/json");
		} else {
			CHECK_STR(err, c->want_text);
		}
	}
	bc_row_release(&row);
	bc_request_release(&req);
	bc_profile_release(&ctx);

	/* The production URL by default. */
	cfg.base_url = NULL;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_STR(ctx.base_url, "https://api-smartflo.tatateleservices.com");
	bc_profile_release(&ctx);

	/* Credentials: required for run, optional for check/render. */
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "SMARTFLO_TOKEN is not set: export SMARTFLO_TOKEN (the "
		       "API token; credentials are read from the environment "
		       "only)");
	cfg.need_credentials = 0;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_STR(ctx.headers[0].value, "");
	bc_profile_release(&ctx);

	/* Every field is mandatory: a CSV without one is refused. */
	struct bc_columns c2 = { 14, colnames }; /* no destination */
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: required column 'destination' is missing "
		       "(Update IVR needs every field)");
	/* NDJSON (no columns yet) binds; rows are checked one by one. */
	struct bc_columns c3 = { 0, colnames };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c3, err, sizeof err), BC_OK);
	bc_profile_release(&ctx);
}

struct classify_case {
	long status;
	const char *body;
	enum bc_verdict want;
	const char *want_err;
};

static const struct classify_case classify_cases[] = {
	{ 200, "{\"success\":true,\"message\":\"IVR updated successfully.\"}",
	  BC_VERDICT_OK, "" },
	{ 200, "", BC_VERDICT_OK, "" },
	{ 204, "", BC_VERDICT_OK, "" },
	{ 200, "not json", BC_VERDICT_OK, "" },
	{ 200, "{\"success\":\"true\"}", BC_VERDICT_OK, "" },
	{ 200, "{\"success\":false,\"message\":\"IVR name already exists.\"}",
	  BC_VERDICT_FAILED, "IVR name already exists." },
	{ 200, "{\"success\":\"false\",\"message\":\"Invalid destination.\"}",
	  BC_VERDICT_FAILED, "Invalid destination." },
	{ 200, "{\"success\":false}", BC_VERDICT_FAILED,
	  "HTTP 200 with success false" },
	{ 400, "{\"success\":false,\"message\":\"The timeout must be an "
	       "integer.\"}",
	  BC_VERDICT_FAILED, "The timeout must be an integer." },
	{ 422,
	  "{\"success\":false,\"message\":{\"name\":[\"The name field is "
	  "required.\"],\"option\":[\"The option must be an array.\",\"x\"]}}",
	  BC_VERDICT_FAILED,
	  "name: The name field is required.; option: The option must be an "
	  "array.; x" },
	{ 400, "{\"success\":false,\"message\":[\"first\",\"second\"]}",
	  BC_VERDICT_FAILED, "first; second" },
	{ 422, "{\"message\":\"The given data was invalid.\",\"errors\":{}}",
	  BC_VERDICT_FAILED, "The given data was invalid." },
	{ 404, "{\"success\":false,\"message\":\"IVR not found.\"}",
	  BC_VERDICT_FAILED, "IVR not found." },
	{ 429, "{ \"success\": \"false\", \"message\": \"Too many requests.\" }",
	  BC_VERDICT_THROTTLE, "Too many requests." },
	{ 429, "", BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 200, "{\"success\":\"false\",\"message\":\"Too many requests.\"}",
	  BC_VERDICT_THROTTLE, "Too many requests." },
	{ 401, "{\"success\":false,\"message\":\"Unauthenticated.\"}",
	  BC_VERDICT_FATAL, "Unauthenticated." },
	{ 403, "", BC_VERDICT_FATAL, "HTTP 403" },
	{ 500, "{\"success\":false,\"message\":\"Internal Server Error\"}",
	  BC_VERDICT_RETRY, "Internal Server Error" },
	{ 503, "<html>down</html>", BC_VERDICT_RETRY, "HTTP 503" },
	/* Hostile: line breaks flattened, deep nesting, garbage. */
	{ 400, "{\"success\":false,\"message\":\"a\\nb\\r\\nc\"}",
	  BC_VERDICT_FAILED, "a b  c" },
	{ 400, "{\"success\":false,\"message\":[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]}",
	  BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "{\"success\":false,\"message\":", BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "[1,2,3]", BC_VERDICT_FAILED, "HTTP 400" },
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
	/* A long message is cut to the buffer, never overflows it. */
	char body[3000];
	static const char head[] = "{\"success\":false,\"message\":\"";
	memcpy(body, head, sizeof head - 1);
	memset(body + sizeof head - 1, 'm', 2000);
	strcpy(body + sizeof head - 1 + 2000, "\"}");
	struct bc_response resp = { 400, body, strlen(body), NULL };
	char small[64];
	CHECK_INT(p->classify(NULL, &resp, small, sizeof small),
		  BC_VERDICT_FAILED);
	CHECK_INT(strlen(small), sizeof small - 1);

	/* Deep nesting past cJSON's limit and a huge body: no crash. */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 64);
	if (deep) {
		size_t n = 0;
		n += (size_t)sprintf(deep, "{\"success\":false,\"message\":");
		memset(deep + n, '[', depth);
		n += depth;
		memset(deep + n, ']', depth);
		n += depth;
		deep[n++] = '}';
		struct bc_response d = { 400, deep, n, NULL };
		CHECK_INT(p->classify(NULL, &d, err, sizeof err),
			  BC_VERDICT_FAILED);
		CHECK_STR(err, "HTTP 400");
		free(deep);
	}
	size_t hn = 4u * 1024u * 1024u;
	char *huge = malloc(hn);
	if (huge) {
		memset(huge, ' ', hn);
		memcpy(huge, "{\"success\":false,\"message\":\"big\"", 32);
		huge[hn - 1] = '}';
		struct bc_response h = { 422, huge, hn, NULL };
		CHECK_INT(p->classify(NULL, &h, err, sizeof err),
			  BC_VERDICT_FAILED);
		CHECK_STR(err, "big");
		free(huge);
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
	CHECK(p->default_rate == 3);
	CHECK_STR(p->key_columns[0], "id");
	test_build(p);
	test_classify(p);
	return bc_test_done();
}
