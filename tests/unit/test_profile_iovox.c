/* profile iovox.initiateCall: validation table, exact XML bodies (escaping,
 * DTMF destinations, delay, custom variables), the classifier on every
 * error string of the seed document, and hostile response XML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

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

static char *colnames[] = { "link_id", "call_destination", "delay",
			    "first_name", "bulkcall_error", "bad name" };
static struct bc_columns cols = { 6, colnames };

struct build_case {
	const char *values[6]; /* NULL = absent */
	int want;              /* BC_OK or BC_EINVAL */
	const char *want_text; /* body or error */
};

#define HDR "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

static const struct build_case build_cases[] = {
	{ { "link123", "449789123123", NULL, NULL, NULL, NULL }, BC_OK,
	  HDR "<request><link_id>link123</link_id><call_variables>"
	      "<call_destination>449789123123</call_destination>"
	      "</call_variables></request>\n" },
	{ { "link123", "449789123123,,1,,2", "30", "Bob", "old error", "" },
	  BC_OK,
	  HDR "<request><link_id>link123</link_id><call_variables>"
	      "<call_destination>449789123123,,1,,2</call_destination>"
	      "<delay>30</delay><first_name>Bob</first_name>"
	      "</call_variables></request>\n" },
	{ { "l<&>\"'", "+4412*#", "0", "O'Neil & <Sons>", NULL, NULL }, BC_OK,
	  HDR "<request><link_id>l&lt;&amp;&gt;&quot;'</link_id><call_variables>"
	      "<call_destination>+4412*#</call_destination><delay>0</delay>"
	      "<first_name>O'Neil &amp; &lt;Sons&gt;</first_name>"
	      "</call_variables></request>\n" },
	{ { "link9", "", "", "", NULL, NULL }, BC_OK,
	  HDR "<request><link_id>link9</link_id></request>\n" },
	{ { "", "123", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column link_id: required value is missing" },
	{ { NULL, "123", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column link_id: required value is missing" },
	{ { "l", "12 34", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column call_destination: character ' ' at position 3 not "
	  "allowed (digits, leading '+', ',' pause, '*', '#')" },
	{ { "l", "1+2", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column call_destination: character '+' at position 2 not "
	  "allowed (digits, leading '+', ',' pause, '*', '#')" },
	{ { "l", ",1", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column call_destination: ',1' must start with a digit "
	  "(after an optional '+')" },
	{ { "l", "1", "1.5", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column delay: '1.5' is not a whole number" },
	{ { "l", "1", "-3", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column delay: '-3' is not a whole number" },
	{ { "l", "1", "525601", NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column delay: 525601 is out of range 0..525600" },
	{ { "l", "1", NULL, "a\nb", NULL, NULL }, BC_EINVAL,
	  "line 7: column first_name: line feed (LF) not allowed at byte 2" },
	{ { "l\r", "1", NULL, NULL, NULL, NULL }, BC_EINVAL,
	  "line 7: column link_id: carriage return (CR) not allowed at byte 2" },
	{ { "l", "1", NULL, NULL, NULL, "x" }, BC_EINVAL,
	  "line 7: column bad name: not a valid XML element name, so it "
	  "cannot be a call variable" },
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

static void test_build(void)
{
	const struct bc_profile *p = bc_profile_find("iovox.initiateCall");
	CHECK(p != NULL);
	if (!p)
		return;
	struct bc_profile_config cfg = { .base_url = "http://127.0.0.1:9/",
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_INT(ctx.nheaders, 2);
	CHECK_STR(ctx.headers[0].name, "username");
	CHECK_STR(ctx.headers[0].value, "user1");
	CHECK(ctx.headers[1].secret);

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
			CHECK_STR(bc_buf_str(&req.body), c->want_text);
			CHECK_STR(bc_buf_str(&req.url),
				  "http://127.0.0.1:9/Calling?v=3&method=initiateCall");
			CHECK_STR(req.method, "POST");
			CHECK_STR(req.content_type, "application/xml");
		} else {
			CHECK_STR(err, c->want_text);
		}
	}
	bc_row_release(&row);
	bc_request_release(&req);
	bc_profile_release(&ctx);

	/* Credentials: required for run, optional for check/render. */
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK(strstr(err, "IOVOX_USERNAME") != NULL);
	cfg.need_credentials = 0;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	bc_profile_release(&ctx);

	/* A CSV header without link_id is refused up front. */
	char *nolink[] = { "call_destination" };
	struct bc_columns c2 = { 1, nolink };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
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

static const struct classify_case classify_cases[] = {
	{ 201, "", BC_VERDICT_OK, "" },
	{ 204, "", BC_VERDICT_OK, "" },
	{ 400, ERR("400", "API Version Empty"), BC_VERDICT_FAILED, "API Version Empty" },
	{ 400, ERR("400", "API Version Invalid"), BC_VERDICT_FAILED, "API Version Invalid" },
	{ 400, ERR("400", "Request Method must be POST. PUT attempted"), BC_VERDICT_FAILED,
	  "Request Method must be POST. PUT attempted" },
	{ 400, ERR("400", "XML Empty"), BC_VERDICT_FAILED, "XML Empty" },
	{ 400, ERR("400", "XML parse error. x at line 1, column 2"), BC_VERDICT_FAILED,
	  "XML parse error. x at line 1, column 2" },
	{ 400, ERR("400", "Request Empty"), BC_VERDICT_FAILED, "Request Empty" },
	{ 400, ERR("400", "Link ID Empty"), BC_VERDICT_FAILED, "Link ID Empty" },
	{ 400, ERR("400", "Link ID does not exist"), BC_VERDICT_FAILED,
	  "Link ID does not exist" },
	{ 400, ERR("400", "Link ID has no Calling Rules"), BC_VERDICT_FAILED,
	  "Link ID has no Calling Rules" },
	{ 400, ERR("400", "Call Variable first_name Empty"), BC_VERDICT_FAILED,
	  "Call Variable first_name Empty" },
	{ 400, ERR("400", "The number of calls allowed has been exceeded"),
	  BC_VERDICT_THROTTLE, "The number of calls allowed has been exceeded" },
	{ 500, ERR("500", "Internal Server Error"), BC_VERDICT_RETRY,
	  "Internal Server Error" },
	{ 401, ERR("401", "HTTP 401: Unauthorized"), BC_VERDICT_FATAL,
	  "HTTP 401: Unauthorized" },
	{ 503, "", BC_VERDICT_RETRY, "HTTP 503" },
	{ 429, "", BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 404, "<html>not found</html>", BC_VERDICT_FAILED, "HTTP 404" },
	{ 400,
	  "<errors><error status=\"400\">Link ID Empty</error>"
	  "<error status=\"400\">Call Variable x Empty</error></errors>",
	  BC_VERDICT_FAILED, "Link ID Empty; Call Variable x Empty" },
	/* Hostile answers: no entity is expanded, nothing crashes. */
	{ 400,
	  "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaa\"><!ENTITY b "
	  "\"&a;&a;&a;&a;\">]><errors><error>&b;</error></errors>",
	  BC_VERDICT_FAILED, "HTTP 400" },
	{ 400,
	  "<?xml version=\"1.0\"?><!DOCTYPE e SYSTEM \"http://127.0.0.1:1/x\">"
	  "<errors><error>x</error></errors>",
	  BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "<errors><error>unterminated", BC_VERDICT_FAILED, "HTTP 400" },
	{ 400, "<errors><error>two\nlines</error></errors>", BC_VERDICT_FAILED,
	  "two lines" },
};

static void test_classify(void)
{
	const struct bc_profile *p = bc_profile_find("iovox.initiateCall");
	char err[512];
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
	     i++) {
		const struct classify_case *c = &classify_cases[i];
		struct bc_response resp = { c->status, c->body, strlen(c->body),
					    "application/xml" };
		err[0] = 'X';
		err[1] = '\0';
		enum bc_verdict v = p->classify(NULL, &resp, err, sizeof err);
		CHECK_INT(v, c->want);
		CHECK_STR(err, c->want_err);
	}
}

int main(void)
{
	test_build();
	test_classify();
	return bc_test_done();
}
