/* profile iovox.updateCallFlow: --template loading (missing, DOCTYPE,
 * malformed, no rules, unknown placeholder kinds), header checks, exact
 * request bodies with XML-escaped {{column}} values, rows whose filled
 * template is not well formed, NDJSON rows missing a column, and the
 * classifier on every error string of the seed's updateCallFlow table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

#define P "iovox.updateCallFlow"

static const char *fake_env(const char *name)
{
	if (strcmp(name, "IOVOX_USERNAME") == 0)
		return "user1";
	if (strcmp(name, "IOVOX_SECURE_KEY") == 0)
		return "key1";
	return NULL;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

static char tmpdir[] = "/tmp/bc-test-callflow.XXXXXX";

/* Writes text to a file in the scratch folder; returns its path. */
static const char *write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return p;
}

#define TEMPLATE                                                             \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                       \
	"<call id=\"call_1\" label=\"Call\" destinationPhoneNumber=\"{{phone}}\" " \
	"timeout=\"{{num:ring}}\"><calledMessage><soundFile soundLabel='{{ whisper }}'/>" \
	"</calledMessage></call>"

/* The template as it goes into the body: declaration dropped. */
#define RULES(phone, ring, whisper)                                          \
	"<call id=\"call_1\" label=\"Call\" destinationPhoneNumber=\"" phone  \
	"\" timeout=\"" ring "\"><calledMessage><soundFile soundLabel='"     \
	whisper "'/></calledMessage></call>"

#define HDR "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

static char *colnames[] = { "name",  "new_name", "notes",
			    "phone", "ring",     "whisper" };
static struct bc_columns cols = { 6, colnames };

struct build_case {
	const char *values[6]; /* NULL = absent */
	int want;
	const char *want_text; /* body or error */
};

static const struct build_case build_cases[] = {
	{ { "Call Agent", "Call Agent + Whisper Called",
	    "Will Call the agent, can be used for every agent in my account.",
	    "447700900001", "20", "Lead brought by IOVOX" },
	  BC_OK,
	  HDR "<request><callFlow name=\"Call Agent\" newName=\"Call Agent + "
	      "Whisper Called\" notes=\"Will Call the agent, can be used for "
	      "every agent in my account.\">" RULES(
		      "447700900001", "20",
		      "Lead brought by IOVOX") "</callFlow></request>\n" },
	/* Escaping: attributes by the writer, template values by libxml2
	 * plus &apos; (the template quotes soundLabel with '). */
	{ { "A&B <\"x\">", "", "", "\"/><evil x=\"", "-1.5",
	    "O'Neil & <Sons>" },
	  BC_OK,
	  HDR "<request><callFlow name=\"A&amp;B &lt;&quot;x&quot;&gt;\">" RULES(
		  "&quot;/&gt;&lt;evil x=&quot;", "-1.5",
		  "O&apos;Neil &amp; &lt;Sons&gt;") "</callFlow></request>\n" },
	/* An empty value is filled in as empty. */
	{ { "flow", NULL, NULL, "", "0", "" }, BC_OK,
	  HDR "<request><callFlow name=\"flow\">" RULES(
		  "", "0", "") "</callFlow></request>\n" },
	{ { "", "n", NULL, "1", "1", "w" }, BC_EINVAL,
	  "line 7: column name: required value is missing" },
	{ { NULL, "n", NULL, "1", "1", "w" }, BC_EINVAL,
	  "line 7: column name: required value is missing" },
	{ { "f", "n\nx", NULL, "1", "1", "w" }, BC_EINVAL,
	  "line 7: column new_name: line feed (LF) not allowed at byte 2" },
	{ { "f", NULL, "a\rb", "1", "1", "w" }, BC_EINVAL,
	  "line 7: column notes: carriage return (CR) not allowed at byte 2" },
	{ { "f", NULL, NULL, "1\t2", "1", "w" }, BC_EINVAL,
	  "line 7: column phone: tab not allowed at byte 2" },
	{ { "f", NULL, NULL, "1", "soon", "w" }, BC_EINVAL,
	  "line 7: column ring: 'soon' is not a number" },
	{ { "f", NULL, NULL, "1", "1.", "w" }, BC_EINVAL,
	  "line 7: column ring: '1.' is not a number" },
	{ { "f", NULL, NULL, NULL, "1", "w" }, BC_EINVAL,
	  "line 7: column phone: missing, but the template uses {{phone}}" },
};

static void set_row(struct bc_row *row, const char *const *values, size_t n)
{
	bc_row_reset(row);
	row->index = 6;
	row->line = 7;
	for (size_t c = 0; c < n; c++)
		if (values[c])
			bc_row_set(row, c, BC_VAL_STRING, values[c],
				   strlen(values[c]));
}

static void test_build(const struct bc_profile *p)
{
	struct bc_profile_config cfg = { .base_url = "http://127.0.0.1:9/",
					 .template_path = write_file("t.xml", TEMPLATE),
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_INT(ctx.nheaders, 2);
	CHECK_STR(ctx.headers[0].name, "username");
	CHECK_STR(ctx.headers[0].value, "user1");
	CHECK_STR(ctx.headers[1].name, "secureKey");
	CHECK_STR(ctx.headers[1].value, "key1");
	CHECK(ctx.headers[0].secret && ctx.headers[1].secret);
	CHECK(!ctx.mint_token);

	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
		const struct build_case *c = &build_cases[i];
		set_row(&row, c->values, 6);
		bc_request_reset(&req);
		err[0] = '\0';
		int got = p->build(&ctx, &row, &req, err, sizeof err);
		CHECK_INT(got, c->want);
		if (c->want == BC_OK) {
			CHECK_STR(bc_buf_str(&req.body), c->want_text);
			CHECK_STR(bc_buf_str(&req.url),
				  "http://127.0.0.1:9/CallFlow?v=3&method=updateCallFlow");
			CHECK_STR(req.method, "PUT");
			CHECK_STR(req.content_type, "application/xml");
		} else {
			CHECK_STR(err, c->want_text);
		}
	}
	bc_profile_release(&ctx);

	/* A value that makes the filled template malformed (it stands in an
	 * element name) rejects the row before anything is sent. */
	cfg.template_path = write_file("name.xml", "<x{{tag}} id=\"a\" label=\"b\"/>");
	char *tcols[] = { "name", "tag" };
	struct bc_columns c2 = { 2, tcols };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err), BC_OK);
	const char *ok[] = { "f", "yz" };
	set_row(&row, ok, 2);
	bc_request_reset(&req);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	CHECK_STR(bc_buf_str(&req.body),
		  HDR "<request><callFlow name=\"f\"><xyz id=\"a\" label=\"b\"/>"
		      "</callFlow></request>\n");
	const char *bad[] = { "f", "a b=\"1\"" };
	set_row(&row, bad, 2);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	const char *want = "line 7: the template filled with this row is not "
			   "well-formed XML (";
	CHECK(strncmp(err, want, strlen(want)) == 0);
	bc_profile_release(&ctx);

	/* NDJSON: the columns arrive with the rows. */
	struct bc_columns nd = { 0, colnames };
	cfg.template_path = write_file("t.xml", TEMPLATE);
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &nd, err, sizeof err), BC_OK);
	nd.count = 3; /* name, new_name, notes seen so far */
	const char *v3[] = { "flow", NULL, NULL };
	set_row(&row, v3, 3);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	CHECK_STR(err, "line 7: column phone: missing, but the template uses "
		       "{{phone}}");
	nd.count = 6;
	const char *v6[] = { "flow", NULL, NULL, "1", "2", "w" };
	set_row(&row, v6, 6);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	/* null counts as missing; a list is not a value. */
	bc_row_set(&row, 3, BC_VAL_NULL, "", 0);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	CHECK_STR(err, "line 7: column phone: missing, but the template uses "
		       "{{phone}}");
	bc_row_set(&row, 3, BC_VAL_ARRAY, "[\"1\"]", 5);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	CHECK_STR(err, "line 7: column phone: a list is not accepted here");
	bc_row_set(&row, 3, BC_VAL_NUMBER, "4477", 4);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	bc_profile_release(&ctx);

	bc_row_release(&row);
	bc_request_release(&req);
}

struct bind_case {
	const char *template; /* NULL: no --template */
	int want;
	const char *want_err; /* prefix; %s = the template path */
};

static const struct bind_case bind_cases[] = {
	{ NULL, BC_EUSAGE,
	  "iovox.updateCallFlow needs --template FILE (the call-flow rules, "
	  "XML with {{column}} placeholders)" },
	{ "<!DOCTYPE x [<!ENTITY a \"b\">]><call id=\"a\" label=\"b\"/>",
	  BC_EUSAGE,
	  "--template '%s': a DOCTYPE or ENTITY declaration is not allowed in "
	  "call-flow rules" },
	{ "<call id=\"a\" label=\"b\">&ent;</call>", BC_EUSAGE,
	  "--template '%s': not well-formed XML rules: malformed XML" },
	{ "<call id=\"a\" label=\"b\">", BC_EUSAGE,
	  "--template '%s': not well-formed XML rules: malformed XML" },
	{ "  <!-- nothing -->  ", BC_EUSAGE,
	  "--template '%s': no rules (the template holds the elements inside "
	  "<callFlow>, e.g. <call .../>)" },
	{ "<call id=\"{{env:HOME}}\" label=\"b\"/>", BC_EUSAGE,
	  "--template '%s': placeholder {{...HOME}}: only {{column}} and "
	  "{{num:column}} are allowed in XML rules" },
	{ "<call id=\"{{phone\" label=\"b\"/>", BC_EUSAGE,
	  "--template '%s': unclosed {{ at byte 11" },
	{ "<call id=\"{{}}\" label=\"b\"/>", BC_EUSAGE,
	  "--template '%s': empty placeholder {{}} at byte 11" },
	{ "<call id=\"{{x:y}}\" label=\"b\"/>", BC_EUSAGE,
	  "--template '%s': placeholder {{x:y}} at byte 11: unknown kind "
	  "(env:, num:, bool:, json:, list:)" },
	{ "<call id=\"{{name}}\" label=\"{{notes}}\"/><play id=\"p\" label=\"l\"/>",
	  BC_OK, "" },
};

/* want = tmpl with its "%s" replaced by path. */
static void subst(char *want, size_t len, const char *tmpl, const char *path)
{
	const char *at = strstr(tmpl, "%s");
	if (!at)
		snprintf(want, len, "%s", tmpl);
	else
		snprintf(want, len, "%.*s%s%s", (int)(at - tmpl), tmpl, path,
			 at + 2);
}

static void test_bind(const struct bc_profile *p)
{
	struct bc_profile_config cfg = { .base_url = NULL,
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_profile_ctx ctx;
	char err[512], want[512];
	for (size_t i = 0; i < sizeof bind_cases / sizeof bind_cases[0]; i++) {
		const struct bind_case *c = &bind_cases[i];
		cfg.template_path = c->template ? write_file("b.xml", c->template)
						: NULL;
		err[0] = '\0';
		int got = bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err);
		CHECK_INT(got, c->want);
		subst(want, sizeof want, c->want_err,
		      cfg.template_path ? cfg.template_path : "");
		if (strncmp(err, want, strlen(want)) != 0) {
			CHECK_STR(err, want);
		}
		if (got == BC_OK) {
			CHECK_STR(ctx.base_url, "https://api.iovox.com:444");
			bc_profile_release(&ctx);
		}
	}
	cfg.template_path = "/nonexistent/t.xml";
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "--template: cannot read '/nonexistent/t.xml': No such "
		       "file or directory");

	/* Credentials: required for run, optional for check/render. */
	cfg.template_path = write_file("t.xml", TEMPLATE);
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK(strstr(err, "IOVOX_USERNAME") != NULL);
	cfg.need_credentials = 0;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	bc_profile_release(&ctx);

	/* A CSV header must hold name and every templated column. */
	char *noname[] = { "phone", "ring", "whisper" };
	struct bc_columns c1 = { 3, noname };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c1, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: required column 'name' is missing");
	char *nowhisper[] = { "name", "phone", "ring" };
	struct bc_columns c2 = { 3, nowhisper };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
	snprintf(want, sizeof want,
		 "header: --template '%s' uses {{whisper}}, but the input has "
		 "no column 'whisper'",
		 cfg.template_path);
	CHECK_STR(err, want);
}

struct classify_case {
	long status;
	const char *body;
	enum bc_verdict want;
	const char *want_err;
};

#define ERR(status, msg)                                                     \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error status=\"" \
	status "\">" msg "</error></errors>"

/* Seed 000's updateCallFlow error table, every row. */
static const struct classify_case classify_cases[] = {
	{ 204, "", BC_VERDICT_OK, "" },
	{ 200, "<response/>", BC_VERDICT_OK, "" },
	{ 400, ERR("400", "API Version Empty"), BC_VERDICT_FAILED, "API Version Empty" },
	{ 400, ERR("400", "API Version Invalid"), BC_VERDICT_FAILED,
	  "API Version Invalid" },
	{ 400, ERR("400", "Request Method must be PUT. POST attempted"),
	  BC_VERDICT_FAILED, "Request Method must be PUT. POST attempted" },
	{ 400, ERR("400", "XML Empty"), BC_VERDICT_FAILED, "XML Empty" },
	{ 400, ERR("400", "XML parse error. x at line 1, column 2"),
	  BC_VERDICT_FAILED, "XML parse error. x at line 1, column 2" },
	{ 400, ERR("400", "Request Empty"), BC_VERDICT_FAILED, "Request Empty" },
	{ 400, ERR("400", "There are no Rules in this Template"),
	  BC_VERDICT_FAILED, "There are no Rules in this Template" },
	{ 400, ERR("400", "CallFlow Name does not exist"), BC_VERDICT_FAILED,
	  "CallFlow Name does not exist" },
	{ 400, ERR("400", "New CallFlow Name already exists"), BC_VERDICT_FAILED,
	  "New CallFlow Name already exists" },
	{ 400, ERR("400", "New CallFlow Name too long"), BC_VERDICT_FAILED,
	  "New CallFlow Name too long" },
	{ 500, ERR("500", "Internal Server Error"), BC_VERDICT_RETRY,
	  "Internal Server Error" },
	{ 401, ERR("401", "HTTP 401: Unauthorized"), BC_VERDICT_FATAL,
	  "HTTP 401: Unauthorized" },
	{ 400, ERR("400", "The number of calls allowed has been exceeded"),
	  BC_VERDICT_THROTTLE, "The number of calls allowed has been exceeded" },
	{ 429, "", BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 502, "<html>bad gateway</html>", BC_VERDICT_RETRY, "HTTP 502" },
	/* Hostile answers. */
	{ 400,
	  "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaa\">]>"
	  "<errors><error>&a;</error></errors>",
	  BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "{\"not\":\"xml\"}", BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "<errors><error>unterminated", BC_VERDICT_FAILED, "HTTP 400" },
};

static void test_classify(const struct bc_profile *p)
{
	char err[512];
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
	     i++) {
		const struct classify_case *c = &classify_cases[i];
		struct bc_response resp = { c->status, c->body, strlen(c->body),
					    "application/xml" };
		strcpy(err, "X");
		CHECK_INT(p->classify(NULL, &resp, err, sizeof err), c->want);
		CHECK_STR(err, c->want_err);
	}
	/* A huge answer is not parsed, nothing crashes. */
	size_t n = 3u * 1024u * 1024u;
	char *big = malloc(n);
	if (big) {
		memset(big, '<', n);
		struct bc_response resp = { 400, big, n, NULL };
		CHECK_INT(p->classify(NULL, &resp, err, sizeof err),
			  BC_VERDICT_FAILED);
		CHECK_STR(err, "HTTP 400");
		free(big);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	const struct bc_profile *p = bc_profile_find(P);
	CHECK(p != NULL);
	if (p) {
		CHECK(p->idempotent);
		CHECK_STR(p->default_key, "*");
		CHECK_STR(p->key_columns[0], "name");
		test_bind(p);
		test_build(p);
		test_classify(p);
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return bc_test_done();
}
