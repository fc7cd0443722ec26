/* profile http: the --profile-file checks (every field's message), exact
 * requests for each body kind with per-target escaping (URL path and
 * query, JSON strings/num/bool/json/list, XML, form, raw), headers with
 * {{env:NAME}} and their secret flags, the bound copy's idempotency,
 * rate, key and key columns, rows missing columns (CSV header, NDJSON
 * row), and the configurable classifier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

static char tmpdir[] = "/tmp/bc-test-http.XXXXXX";
static char path[512];

static const char *fake_env(const char *name)
{
	if (strcmp(name, "API_TOKEN") == 0)
		return "s3cret";
	return NULL;
}

static const char *write_profile(const char *text)
{
	snprintf(path, sizeof path, "%s/profile.json", tmpdir);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

static char *colnames[] = { "id", "q", "n", "name", "on", "tags" };
static struct bc_columns cols = { 6, colnames };

static const struct bc_profile *p;

static int bind_text(struct bc_profile_ctx *ctx, const char *text,
		     const char *base, int need, char *err, size_t errlen)
{
	struct bc_profile_config cfg = { .base_url = base,
					 .profile_file = write_profile(text),
					 .need_credentials = need,
					 .getenv_fn = fake_env };
	return bc_profile_bind(ctx, p, &cfg, &cols, err, errlen);
}

struct bind_case {
	const char *text;
	const char *want_err; /* after "--profile-file 'PATH': " */
};

#define U "\"method\":\"PUT\",\"url\":\"https://a.example/x/{{id}}\""

static const struct bind_case bind_cases[] = {
	{ "{\"method\":\"PUT\",", "invalid JSON near byte 16" },
	{ "[1]", "not a JSON object" },
	{ "{" U ",\"methd\":1}",
	  "unknown field 'methd' (see 'bulkcall profiles http')" },
	{ "{\"url\":\"https://a/\"}",
	  "method: required: an HTTP method such as \"PUT\"" },
	{ "{\"method\":\"put\",\"url\":\"https://a/\"}",
	  "method: 'put' is not an HTTP method (upper-case letters, e.g. POST)" },
	{ "{\"method\":\"PUT\"}",
	  "url: required: a string like "
	  "\"https://api.example.com/v1/things/{{id}}\"" },
	{ "{\"method\":\"PUT\",\"url\":\"ftp://a/\"}",
	  "url: must start with http:// or https://" },
	{ "{\"method\":\"PUT\",\"url\":\"https://{{host}}.example/x\"}",
	  "url: placeholders are allowed in the path and query only, and the "
	  "host cannot hold spaces" },
	{ "{\"method\":\"PUT\",\"url\":\"https://a/x y\"}",
	  "url: space, control character or '#' at byte 12 (encode it)" },
	{ "{\"method\":\"PUT\",\"url\":\"https://a/x?k={{env:API_TOKEN}}\"}",
	  "url: {{env:API_TOKEN}}: environment variables are allowed in "
	  "headers only (secrets never go into URLs or bodies that render "
	  "prints)" },
	{ "{\"method\":\"PUT\",\"url\":\"https://a/x/{{bool:on}}\"}",
	  "url: {{...on}} at byte 4: bool:, json: and list: are for JSON "
	  "bodies only" },
	{ "{\"method\":\"PUT\",\"url\":\"https://a/x/{{id\"}",
	  "url: unclosed {{ at byte 4" },
	{ "{" U ",\"headers\":{\"X-Id\":\"{{id}}\"}}",
	  "headers.X-Id: only {{env:NAME}} placeholders are allowed in "
	  "headers (they are the same for every row)" },
	{ "{" U ",\"headers\":{\"Content-Type\":\"text/plain\"}}",
	  "headers.Content-Type: set by bulkcall (use body.content_type for "
	  "the content type)" },
	{ "{" U ",\"headers\":{\"Bad Name\":\"x\"}}",
	  "headers.Bad Name: not a header name (letters, digits, '-' ...)" },
	{ "{" U ",\"headers\":{\"X-N\":1}}", "headers.X-N: must be a string" },
	{ "{" U ",\"headers\":{\"Authorization\":\"Bearer {{env:NOPE}}\"}}",
	  "headers.Authorization: environment variable NOPE is not set" },
	{ "{" U ",\"headers\":[]}",
	  "headers: must be an object {\"Name\": \"value\"}" },
	{ "{" U ",\"body\":{\"template\":\"x\"}}",
	  "body.kind: required: json, xml, form or raw" },
	{ "{" U ",\"body\":{\"kind\":\"yaml\",\"template\":\"x\"}}",
	  "body.kind: 'yaml' is not json, xml, form or raw" },
	{ "{" U ",\"body\":{\"kind\":\"json\",\"tpl\":\"x\"}}",
	  "body: unknown field 'tpl' (kind, template, content_type)" },
	{ "{" U ",\"body\":{\"kind\":\"form\"}}",
	  "body.template: required: a string" },
	{ "{" U ",\"body\":{\"kind\":\"json\",\"template\":\"{\\\"a\\\":{{id}}}\"}}",
	  "body.template: {{id}} at byte 6 is outside a JSON string: write "
	  "\"{{id}}\" (or {{json:id}}) for a string, {{num:id}}, {{bool:id}} "
	  "or {{list:id}}" },
	{ "{" U ",\"body\":{\"kind\":\"json\",\"template\":{\"a\":\"n={{num:n}}\"}}}",
	  "body.template: {{...n}} at byte 9 is inside a JSON string: only "
	  "{{n}} can go there" },
	{ "{" U ",\"body\":{\"kind\":\"json\",\"template\":\"{\\\"a\\\":{{num:n}}\"}}",
	  "body.template: not valid JSON (checked with each placeholder "
	  "filled in)" },
	{ "{" U ",\"body\":{\"kind\":\"xml\",\"template\":\"<!DOCTYPE a><a/>\"}}",
	  "body.template: DOCTYPE and ENTITY declarations are not allowed" },
	{ "{" U ",\"body\":{\"kind\":\"xml\",\"template\":\"<a>{{id}}\"}}",
	  "body.template: not a well-formed XML document (malformed XML" },
	{ "{" U ",\"body\":{\"kind\":\"raw\",\"template\":\"{{json:id}}\"}}",
	  "body.template: {{...id}} at byte 1: bool:, json: and list: are for "
	  "JSON bodies only" },
	{ "{" U ",\"body\":{\"kind\":\"raw\",\"template\":\"x\","
	  "\"content_type\":\"a\\nb\"}}",
	  "body.content_type: must be a media type, e.g. application/json" },
	{ "{" U ",\"success\":200}",
	  "success: must be a list of HTTP status codes, e.g. [429]" },
	{ "{" U ",\"retryable\":[500,700]}",
	  "retryable: a value is not an HTTP status code (100-599)" },
	{ "{" U ",\"fatal\":[\"401\"]}",
	  "fatal: an item is not an HTTP status code (100-599)" },
	{ "{" U ",\"throttle\":[429]}",
	  "throttle: must be an object {\"statuses\": [429], \"body_pattern\": "
	  "\"...\"}" },
	{ "{" U ",\"throttle\":{\"status\":[429]}}",
	  "throttle: unknown field 'status' (statuses, body_pattern)" },
	{ "{" U ",\"throttle\":{\"body_pattern\":\"\"}}",
	  "throttle.body_pattern: must be a non-empty string" },
	{ "{" U ",\"idempotent\":\"yes\"}", "idempotent: must be true or false" },
	{ "{" U ",\"rate\":-1}",
	  "rate: must be a number of requests per second >= 0 (0 = no limit)" },
	{ "{" U ",\"required\":\"id\"}",
	  "required: must be a list of column names, e.g. [\"id\"]" },
	{ "{" U ",\"required\":[\"\"]}",
	  "required: every item must be a non-empty column name" },
	{ "{" U ",\"key_columns\":[]}",
	  "key_columns: must name at least one column" },
	{ "{" U ",\"default_key\":\"\"}",
	  "default_key: must be a column name or \"*\" (the whole account)" },
	{ "{" U ",\"error_field\":7}",
	  "error_field: must be a dotted path into a JSON answer, e.g. "
	  "\"error.code\"" },
	{ "{" U ",\"name\":7}", "name: must be a string" },
};

static void test_bind(void)
{
	struct bc_profile_ctx ctx;
	char err[512], want[1024];
	struct bc_profile_config none = { .need_credentials = 1 };
	CHECK_INT(bc_profile_bind(&ctx, p, &none, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "http needs --profile-file FILE (a JSON description of "
		       "the request: see 'bulkcall profiles http')");
	none.profile_file = "/nonexistent/p.json";
	CHECK_INT(bc_profile_bind(&ctx, p, &none, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "--profile-file: cannot read '/nonexistent/p.json': No "
		       "such file or directory");

	for (size_t i = 0; i < sizeof bind_cases / sizeof bind_cases[0]; i++) {
		const struct bind_case *c = &bind_cases[i];
		err[0] = '\0';
		int got = bind_text(&ctx, c->text, NULL, 1, err, sizeof err);
		CHECK_INT(got, BC_EUSAGE);
		if (got == BC_OK)
			bc_profile_release(&ctx);
		snprintf(want, sizeof want, "--profile-file '%s': %s", path,
			 c->want_err);
		if (strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "  bind case %zu\n", i);
			CHECK_STR(err, want);
		}
	}
	/* check/render: an unset variable empties the header. */
	CHECK_INT(bind_text(&ctx,
			    "{" U ",\"headers\":{\"Authorization\":\"Bearer "
			    "{{env:NOPE}}\"}}",
			    NULL, 0, err, sizeof err),
		  BC_OK);
	CHECK_STR(ctx.headers[0].value, "");
	CHECK(ctx.headers[0].secret);
	bc_profile_release(&ctx);
}

#define FULL                                                                 \
	"{\"name\":\"Things\",\"method\":\"PATCH\","                         \
	"\"url\":\"https://api.example.com/v1/things/{{id}}?q={{q}}&n={{num:n}}\"," \
	"\"headers\":{\"Authorization\":\"Bearer {{env:API_TOKEN}}\","       \
	"\"X-Client\":\"bulkcall\",\"X-Api-Key\":\"fixed\"},"               \
	"\"body\":{\"kind\":\"json\",\"template\":\"{\\\"name\\\": "         \
	"\\\"{{name}}\\\", \\\"n\\\": {{num:n}}, \\\"on\\\": {{bool:on}}, "  \
	"\\\"tags\\\": {{list:tags}}, \\\"raw\\\": {{json:name}}, "          \
	"\\\"s\\\": \\\"id={{id}}\\\\\\\"{{q}}\\\"}\"},"                     \
	"\"success\":[200,204],\"idempotent\":true,\"rate\":5,"              \
	"\"default_key\":\"id\",\"required\":[\"id\",\"name\"],"             \
	"\"key_columns\":[\"id\",\"q\"]}"

struct build_case {
	const char *values[6]; /* id q n name on tags; NULL = absent */
	int want;
	const char *want_url; /* or the error */
	const char *want_body;
};

static const struct build_case json_cases[] = {
	{ { "a/b c", "x&y=z#", "12.5", "Q\"uote\\ <&> \xc3\xa9", "true",
	    "a;b|c" },
	  BC_OK, "http://127.0.0.1:9/v1/things/a%2Fb%20c?q=x%26y%3Dz%23&n=12.5",
	  "{\"name\": \"Q\\\"uote\\\\ <&> \xc3\xa9\", \"n\": 12.5, \"on\": "
	  "true, \"tags\": [\"a\",\"b|c\"], \"raw\": \"Q\\\"uote\\\\ <&> "
	  "\xc3\xa9\", \"s\": \"id=a/b c\\\"x&y=z#\"}" },
	{ { "7", "", "-1e3", "n", "false", "[\"x\",\"y\"]" }, BC_OK,
	  "http://127.0.0.1:9/v1/things/7?q=&n=-1e3",
	  "{\"name\": \"n\", \"n\": -1e3, \"on\": false, \"tags\": "
	  "[\"x\",\"y\"], \"raw\": \"n\", \"s\": \"id=7\\\"\"}" },
	{ { "7", "q", "1", "n", "true", "" }, BC_OK,
	  "http://127.0.0.1:9/v1/things/7?q=q&n=1",
	  "{\"name\": \"n\", \"n\": 1, \"on\": true, \"tags\": [], \"raw\": "
	  "\"n\", \"s\": \"id=7\\\"q\"}" },
	{ { "", "q", "1", "n", "true", "a" }, BC_EINVAL,
	  "line 7: column id: required value is missing", NULL },
	{ { "7", "q", "1", NULL, "true", "a" }, BC_EINVAL,
	  "line 7: column name: required value is missing", NULL },
	{ { "7", NULL, "1", "n", "true", "a" }, BC_EINVAL,
	  "line 7: column q: missing, but the url uses {{q}}", NULL },
	{ { "7", "q", "1", "n", NULL, "a" }, BC_EINVAL,
	  "line 7: column on: missing, but the body uses {{on}}", NULL },
	{ { "7", "q", "01", "n", "true", "a" }, BC_EINVAL,
	  "line 7: column n: '01' is not a number", NULL },
	{ { "7", "q", "1", "n", "yes", "a" }, BC_EINVAL,
	  "line 7: column on: 'yes' must be true or false", NULL },
	{ { "7", "q", "1", "a\nb", "true", "a" }, BC_EINVAL,
	  "line 7: column name: line feed (LF) not allowed at byte 2", NULL },
	{ { "7", "q\r", "1", "n", "true", "a" }, BC_EINVAL,
	  "line 7: column q: carriage return (CR) not allowed at byte 2", NULL },
	{ { "7", "q", "1", "n", "true", "a;" }, BC_EINVAL,
	  "line 7: column tags: item 2 is empty", NULL },
};

static void set_row(struct bc_row *row, const char *const *values)
{
	bc_row_reset(row);
	row->index = 6;
	row->line = 7;
	for (size_t c = 0; c < 6; c++)
		if (values[c])
			bc_row_set(row, c, BC_VAL_STRING, values[c],
				   strlen(values[c]));
}

static void run_cases(struct bc_profile_ctx *ctx, const struct build_case *cases,
		      size_t n, const char *method, const char *ctype)
{
	struct bc_row row;
	struct bc_request req;
	char err[512];
	bc_row_init(&row);
	bc_request_init(&req);
	for (size_t i = 0; i < n; i++) {
		const struct build_case *c = &cases[i];
		set_row(&row, c->values);
		bc_request_reset(&req);
		err[0] = '\0';
		int got = ctx->profile->build(ctx, &row, &req, err, sizeof err);
		CHECK_INT(got, c->want);
		if (got != c->want)
			fprintf(stderr, "  case %zu: %s\n", i, err);
		if (c->want == BC_OK) {
			CHECK_STR(bc_buf_str(&req.url), c->want_url);
			CHECK_STR(bc_buf_str(&req.body), c->want_body);
			CHECK_STR(req.method, method);
			if (ctype)
				CHECK_STR(req.content_type, ctype);
			else
				CHECK(req.content_type == NULL);
		} else {
			CHECK_STR(err, c->want_url);
		}
	}
	bc_row_release(&row);
	bc_request_release(&req);
}

static void test_json(void)
{
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bind_text(&ctx, FULL, "http://127.0.0.1:9/", 1, err, sizeof err),
		  BC_OK);
	if (!ctx.profile)
		return;
	/* The bound copy carries the file's settings. */
	CHECK_STR(ctx.profile->name, "http");
	CHECK(ctx.profile->idempotent);
	CHECK(ctx.profile->default_rate == 5);
	CHECK_STR(ctx.profile->default_key, "id");
	CHECK_STR(ctx.profile->key_columns[0], "id");
	CHECK_STR(ctx.profile->key_columns[1], "q");
	CHECK(ctx.profile->key_columns[2] == NULL);
	CHECK_STR(ctx.profile->method, "PATCH");
	CHECK(strstr(ctx.profile->summary, "Things (from ") == ctx.profile->summary);
	CHECK(!p->idempotent); /* the registry's entry is untouched */
	CHECK_STR(ctx.base_url, "http://127.0.0.1:9");
	CHECK_INT(ctx.nheaders, 3);
	CHECK_STR(ctx.headers[0].name, "Authorization");
	CHECK_STR(ctx.headers[0].value, "Bearer s3cret");
	CHECK(ctx.headers[0].secret);
	CHECK_STR(ctx.headers[1].name, "X-Client");
	CHECK_STR(ctx.headers[1].value, "bulkcall");
	CHECK(!ctx.headers[1].secret);
	CHECK_STR(ctx.headers[2].name, "X-Api-Key");
	CHECK(ctx.headers[2].secret);
	run_cases(&ctx, json_cases, sizeof json_cases / sizeof json_cases[0],
		  "PATCH", "application/json");

	/* NDJSON: arrays for {{list:}}, numbers, booleans. */
	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	row.line = 9;
	bc_row_set(&row, 0, BC_VAL_NUMBER, "42", 2);
	bc_row_set(&row, 1, BC_VAL_STRING, "q", 1);
	bc_row_set(&row, 2, BC_VAL_NUMBER, "3", 1);
	bc_row_set(&row, 3, BC_VAL_STRING, "n", 1);
	bc_row_set(&row, 4, BC_VAL_BOOL, "true", 4);
	bc_row_set(&row, 5, BC_VAL_ARRAY, "[\"a\", 2]", 8);
	CHECK_INT(ctx.profile->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	CHECK_STR(bc_buf_str(&req.body),
		  "{\"name\": \"n\", \"n\": 3, \"on\": true, \"tags\": "
		  "[\"a\",\"2\"], \"raw\": \"n\", \"s\": \"id=42\\\"q\"}");
	bc_row_set(&row, 1, BC_VAL_ARRAY, "[\"q\"]", 5);
	CHECK_INT(ctx.profile->build(&ctx, &row, &req, err, sizeof err),
		  BC_EINVAL);
	CHECK_STR(err, "line 9: column q: a list is not accepted here");
	bc_row_release(&row);
	bc_request_release(&req);
	bc_profile_release(&ctx);

	/* Without --base-url the file's origin is used. */
	CHECK_INT(bind_text(&ctx, FULL, NULL, 1, err, sizeof err), BC_OK);
	CHECK_STR(ctx.base_url, "https://api.example.com");
	bc_profile_release(&ctx);

	/* A CSV header must hold every referenced and required column. */
	struct bc_profile_config cfg = { .profile_file = write_profile(FULL),
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_columns c2 = { 5, colnames }; /* no tags */
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
	char want[700];
	snprintf(want, sizeof want,
		 "header: --profile-file '%s' uses column 'tags' (in "
		 "body.template), but the input has no such column",
		 path);
	CHECK_STR(err, want);
	struct bc_columns c3 = { 1, colnames }; /* only id */
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c3, err, sizeof err),
		  BC_EHEADER);
	snprintf(want, sizeof want,
		 "header: --profile-file '%s' uses column 'q' (in url), but "
		 "the input has no such column",
		 path);
	CHECK_STR(err, want);
}

static const struct build_case xml_cases[] = {
	{ { "1", "q", "2", "O'Neil & <Sons> \"x\"", "", "" }, BC_OK,
	  "http://127.0.0.1:9/items/1",
	  "<?xml version=\"1.0\"?><req id='1' n=\"2\"><name>O&apos;Neil &amp; "
	  "&lt;Sons&gt; &quot;x&quot;</name><q a='O&apos;Neil &amp; &lt;Sons&gt; "
	  "&quot;x&quot;'/></req>" },
	{ { "1", "q", "2", "x", "", "" }, BC_OK, "http://127.0.0.1:9/items/1",
	  "<?xml version=\"1.0\"?><req id='1' n=\"2\"><name>x</name><q a='x'/>"
	  "</req>" },
	{ { "1", "q", "x", "x", "", "" }, BC_EINVAL,
	  "line 7: column n: 'x' is not a number", NULL },
};

static const struct build_case form_cases[] = {
	{ { "1", "q", "2", "a b&c=d+e/\xc3\xa9", "", "" }, BC_OK,
	  "http://127.0.0.1:9/items/1",
	  "name=a%20b%26c%3Dd%2Be%2F%C3%A9&n=2&fixed=1" },
};

static const struct build_case raw_cases[] = {
	{ { "1", "q", "2", "<b>\"as is\" & {}</b>", "", "" }, BC_OK,
	  "http://127.0.0.1:9/items/1", "name: <b>\"as is\" & {}</b>\n" },
	{ { "1", "q", "2", "a\r\nInjected: yes", "", "" }, BC_EINVAL,
	  "line 7: column name: carriage return (CR) not allowed at byte 2",
	  NULL },
};

static const struct build_case get_cases[] = {
	{ { "x y", "", "", "", "", "" }, BC_OK,
	  "http://127.0.0.1:9/items/x%20y", "" },
};

static void test_kinds(void)
{
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bind_text(&ctx,
			    "{\"method\":\"POST\",\"url\":\"https://h/items/{{id}}\","
			    "\"body\":{\"kind\":\"xml\",\"template\":\"<?xml "
			    "version=\\\"1.0\\\"?><req id='{{id}}' "
			    "n=\\\"{{num:n}}\\\"><name>{{name}}</name><q "
			    "a='{{name}}'/></req>\"}}",
			    "http://127.0.0.1:9", 1, err, sizeof err),
		  BC_OK);
	if (ctx.profile)
		run_cases(&ctx, xml_cases, sizeof xml_cases / sizeof xml_cases[0],
			  "POST", "application/xml");
	CHECK(!ctx.profile || !ctx.profile->idempotent);
	bc_profile_release(&ctx);

	CHECK_INT(bind_text(&ctx,
			    "{\"method\":\"POST\",\"url\":\"https://h/items/{{id}}\","
			    "\"body\":{\"kind\":\"form\",\"template\":"
			    "\"name={{name}}&n={{num:n}}&fixed=1\"}}",
			    "http://127.0.0.1:9", 1, err, sizeof err),
		  BC_OK);
	if (ctx.profile)
		run_cases(&ctx, form_cases,
			  sizeof form_cases / sizeof form_cases[0], "POST",
			  "application/x-www-form-urlencoded");
	bc_profile_release(&ctx);

	CHECK_INT(bind_text(&ctx,
			    "{\"method\":\"PUT\",\"url\":\"https://h/items/{{id}}\","
			    "\"body\":{\"kind\":\"raw\",\"content_type\":"
			    "\"text/x-custom\",\"template\":\"name: {{name}}\\n\"}}",
			    "http://127.0.0.1:9", 1, err, sizeof err),
		  BC_OK);
	if (ctx.profile)
		run_cases(&ctx, raw_cases, sizeof raw_cases / sizeof raw_cases[0],
			  "PUT", "text/x-custom");
	bc_profile_release(&ctx);

	CHECK_INT(bind_text(&ctx,
			    "{\"method\":\"DELETE\",\"url\":\"https://h/items/{{id}}\"}",
			    "http://127.0.0.1:9", 1, err, sizeof err),
		  BC_OK);
	if (ctx.profile) {
		run_cases(&ctx, get_cases, sizeof get_cases / sizeof get_cases[0],
			  "DELETE", NULL);
		CHECK(ctx.profile->key_columns[0] == NULL);
		CHECK_STR(ctx.profile->default_key, "*");
		CHECK(ctx.profile->default_rate == 10);
	}
	bc_profile_release(&ctx);
}

struct classify_case {
	long status;
	const char *body;
	enum bc_verdict want;
	const char *want_err;
};

/* Defaults: 2xx ok, 429 throttle, 401/403 fatal, 5xx retry. */
static const struct classify_case default_cases[] = {
	{ 200, "", BC_VERDICT_OK, "" },
	{ 201, "{\"message\":\"created\"}", BC_VERDICT_OK, "" },
	{ 400, "{\"message\":\"bad thing\"}", BC_VERDICT_FAILED, "bad thing" },
	{ 400, "{\"error\":{\"code\":\"e1\",\"message\":\"m\"}}",
	  BC_VERDICT_FAILED, "code: e1; message: m" },
	{ 422, "{\"errors\":[\"a\",\"b\"]}", BC_VERDICT_FAILED, "a; b" },
	{ 404, "<html>nope</html>", BC_VERDICT_FAILED, "HTTP 404" },
	{ 429, "", BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 401, "", BC_VERDICT_FATAL, "HTTP 401" },
	{ 403, "", BC_VERDICT_FATAL, "HTTP 403" },
	{ 500, "", BC_VERDICT_RETRY, "HTTP 500" },
	{ 599, "", BC_VERDICT_RETRY, "HTTP 599" },
	{ 400, "{\"message\":", BC_VERDICT_FAILED, "HTTP 400" },
};

/* Configured rules. */
static const struct classify_case custom_cases[] = {
	{ 201, "", BC_VERDICT_OK, "" },
	{ 200, "", BC_VERDICT_FAILED, "HTTP 200" },
	{ 400, "{\"error\":{\"code\":\"pce_x\",\"message\":\"m\"}}",
	  BC_VERDICT_FAILED, "pce_x" },
	{ 400, "{\"errors\":[{\"message\":\"first\"}]}", BC_VERDICT_FAILED,
	  "HTTP 400" },
	{ 400, "<errors><error>The number of calls allowed has been "
	       "exceeded</error></errors>",
	  BC_VERDICT_THROTTLE, "HTTP 400" },
	{ 201, "The number of calls allowed has been exceeded",
	  BC_VERDICT_OK, "" },
	{ 503, "", BC_VERDICT_THROTTLE, "HTTP 503" },
	{ 429, "", BC_VERDICT_FAILED, "HTTP 429" },
	{ 418, "", BC_VERDICT_FATAL, "HTTP 418" },
	{ 401, "", BC_VERDICT_FAILED, "HTTP 401" },
	{ 500, "", BC_VERDICT_FAILED, "HTTP 500" },
	{ 502, "", BC_VERDICT_RETRY, "HTTP 502" },
};

static void run_classify(struct bc_profile_ctx *ctx,
			 const struct classify_case *cases, size_t n)
{
	char err[512];
	for (size_t i = 0; i < n; i++) {
		const struct classify_case *c = &cases[i];
		struct bc_response resp = { c->status, c->body, strlen(c->body),
					    NULL };
		strcpy(err, "X");
		CHECK_INT(ctx->profile->classify(ctx, &resp, err, sizeof err),
			  c->want);
		CHECK_STR(err, c->want_err);
	}
}

static void test_classify(void)
{
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bind_text(&ctx, "{" U "}", NULL, 1, err, sizeof err), BC_OK);
	if (ctx.profile)
		run_classify(&ctx, default_cases,
			     sizeof default_cases / sizeof default_cases[0]);
	bc_profile_release(&ctx);
	CHECK_INT(bind_text(&ctx,
			    "{" U ",\"success\":[201],\"throttle\":{\"statuses\":"
			    "[503],\"body_pattern\":\"The number of calls "
			    "allowed\"},\"fatal\":[418],\"retryable\":[502],"
			    "\"error_field\":\"error.code\"}",
			    NULL, 1, err, sizeof err),
		  BC_OK);
	if (ctx.profile)
		run_classify(&ctx, custom_cases,
			     sizeof custom_cases / sizeof custom_cases[0]);
	bc_profile_release(&ctx);
	/* error_field through an array index. */
	CHECK_INT(bind_text(&ctx, "{" U ",\"error_field\":\"errors.1.message\"}",
			    NULL, 1, err, sizeof err),
		  BC_OK);
	struct bc_response resp = {
		400, "{\"errors\":[{\"message\":\"a\"},{\"message\":\"b\"}]}", 0,
		NULL
	};
	resp.body_len = strlen(resp.body);
	if (ctx.profile) {
		CHECK_INT(ctx.profile->classify(&ctx, &resp, err, sizeof err),
			  BC_VERDICT_FAILED);
		CHECK_STR(err, "b");
	}
	bc_profile_release(&ctx);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	p = bc_profile_find("http");
	CHECK(p != NULL);
	if (p) {
		CHECK(!p->idempotent);
		test_bind();
		test_json();
		test_kinds();
		test_classify();
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return bc_test_done();
}
