/* profile mor.deviceCallflowUpdate: exact form bodies whose hash is
 * checked against digests computed independently (sha1sum, see below),
 * the local rules, the extra-column policy (CSV header refused, NDJSON
 * row rejected), credentials, and the classifier on every message of
 * seed 004 and PROVIDERS.md, always with HTTP 200, plus hostile bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "tap.h"

#define P "mor.deviceCallflowUpdate"

static const char *secret = "mor-secret";

static const char *fake_env(const char *name)
{
	if (strcmp(name, "MOR_USER") == 0)
		return "admin";
	if (strcmp(name, "MOR_API_SECRET") == 0)
		return secret;
	return NULL;
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

enum { NCOLS = 12 };
static char *colnames[NCOLS] = {
	"device_id",	  "state",	"callflow_action", "forward_to_device",
	"external_number", "fax_device", "device_callerid", "src_callerid",
	"did_id",	  "custom",	"bulkcall_error",  "delay",
};
static struct bc_columns cols = { NCOLS, colnames };

struct build_case {
	const char *values[NCOLS]; /* NULL = absent */
	int want;
	const char *want_text; /* body or error */
};

/* The expected hashes were computed outside bulkcall, when this test was
 * written, with coreutils:
 *   printf '%s' '4forwardbefore_call37062699289callermor-secret' | sha1sum
 * i.e. the values of device_id, callflow_action, state, forward_to_device,
 * external_number, did_id, src_callerid, custom, fax_device (present ones,
 * in that order) followed by the secret. The input string of each is in
 * the comment above its case. */
static const struct build_case build_cases[] = {
	/* '4forwardbefore_call37062699289callermor-secret' (seed example) */
	{ { "4", "before_call", "forward", NULL, "37062699289", NULL, NULL,
	    NULL, NULL, "caller", NULL, NULL },
	  BC_OK,
	  "u=admin&device_id=4&state=before_call&callflow_action=forward"
	  "&external_number=37062699289&custom=caller"
	  "&hash=965ce931ee7eaa03e3d22b61f54fce9645e13fad" },
	/* '4fax_detectbefore_call2mor-secret' */
	{ { "4", "before_call", "fax_detect", "", "", "2", "", "", "", "",
	    "old error", "" },
	  BC_OK,
	  "u=admin&device_id=4&state=before_call&callflow_action=fax_detect"
	  "&fax_device=2&hash=d03a47d82df12b83e8c1367a477adadee87ed3d6" },
	/* '4forwardbusy12mor-secret': device_callerid sent, not hashed */
	{ { "4", "busy", "forward", "12", NULL, NULL, "true", NULL, NULL, NULL,
	    NULL, NULL },
	  BC_OK,
	  "u=admin&device_id=4&state=busy&callflow_action=forward"
	  "&forward_to_device=12&device_callerid=true"
	  "&hash=4ac0682b7bbb4a43bfd95d826cdd35c021bc85b3" },
	/* '7forwardno_answer12370truemor-secret' */
	{ { "7", "no_answer", "forward", "12", "370", NULL, NULL, "true", NULL,
	    NULL, NULL, NULL },
	  BC_OK,
	  "u=admin&device_id=7&state=no_answer&callflow_action=forward"
	  "&forward_to_device=12&external_number=370&src_callerid=true"
	  "&hash=dcbca74f6b53352c2dba192246e2248122d3e5fc" },
	/* '5voicemailfailed31mor-secret' */
	{ { "5", "failed", "voicemail", NULL, NULL, NULL, NULL, NULL, "31", NULL,
	    NULL, "30" },
	  BC_OK,
	  "u=admin&device_id=5&state=failed&callflow_action=voicemail"
	  "&did_id=31&hash=af245c1c0350b33ffafb6aa7d3f2edc636e11bd4" },
	/* '9emptybefore_callSales & Co <1>mor-secret': the value hashed as
	 * is, sent percent-encoded. */
	{ { "9", "before_call", "empty", NULL, NULL, NULL, NULL, NULL, NULL,
	    "Sales & Co <1>", NULL, NULL },
	  BC_OK,
	  "u=admin&device_id=9&state=before_call&callflow_action=empty"
	  "&custom=Sales%20%26%20Co%20%3C1%3E"
	  "&hash=5b2682b9ea89e30504bfb7005185023e9e359f4d" },
	{ { "", "busy", "voicemail" }, BC_EINVAL,
	  "line 7: column device_id: required value is missing" },
	{ { "4", NULL, "voicemail" }, BC_EINVAL,
	  "line 7: column state: required value is missing" },
	{ { "4", "busy", "" }, BC_EINVAL,
	  "line 7: column callflow_action: required value is missing" },
	{ { "4x", "busy", "voicemail" }, BC_EINVAL,
	  "line 7: column device_id: '4x' is not an id (digits)" },
	{ { "4", "ringing", "voicemail" }, BC_EINVAL,
	  "line 7: column state: 'ringing' must be before_call, no_answer, "
	  "failed or busy" },
	{ { "4", "busy", "hangup" }, BC_EINVAL,
	  "line 7: column callflow_action: 'hangup' must be empty, forward, "
	  "fax_detect or voicemail" },
	{ { "4", "busy", "forward" }, BC_EINVAL,
	  "line 7: column callflow_action: forward needs forward_to_device or "
	  "external_number" },
	{ { "4", "busy", "fax_detect", NULL, NULL, "2" }, BC_EINVAL,
	  "line 7: column callflow_action: fax_detect is only possible in "
	  "state before_call" },
	{ { "4", "before_call", "fax_detect" }, BC_EINVAL,
	  "line 7: column fax_device: fax_detect needs fax_device" },
	{ { "4", "busy", "forward", NULL, "+37062699289" }, BC_EINVAL,
	  "line 7: column external_number: '+37062699289' is not a phone "
	  "number (digits)" },
	{ { "4", "busy", "forward", "12a" }, BC_EINVAL,
	  "line 7: column forward_to_device: '12a' is not an id (digits)" },
	{ { "4", "busy", "voicemail", NULL, NULL, NULL, "yes" }, BC_EINVAL,
	  "line 7: column device_callerid: 'yes': only 'true' is accepted "
	  "(leave it empty for no change)" },
	{ { "4", "busy", "voicemail", NULL, NULL, NULL, NULL, "false" },
	  BC_EINVAL,
	  "line 7: column src_callerid: 'false': only 'true' is accepted "
	  "(leave it empty for no change)" },
	/* '4voicemailbusycmor-secret': two caller ID params are both sent
	 * (no document limits a row to one); device_callerid not hashed. */
	{ { "4", "busy", "voicemail", NULL, NULL, NULL, "true", NULL, NULL,
	    "c" },
	  BC_OK,
	  "u=admin&device_id=4&state=busy&callflow_action=voicemail"
	  "&device_callerid=true&custom=c"
	  "&hash=73773dcd7d5b185d0869a141d4c89ea50d09564e" },
	{ { "4", "busy", "voicemail", NULL, NULL, NULL, NULL, NULL, NULL,
	    "a\r\nb" },
	  BC_EINVAL,
	  "line 7: column custom: carriage return (CR) not allowed at byte 2" },
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
					 .need_credentials = 1,
					 .getenv_fn = fake_env };
	struct bc_profile_ctx ctx;
	char err[512];
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	CHECK_INT(ctx.nheaders, 0);

	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	for (size_t i = 0; i < sizeof build_cases / sizeof build_cases[0]; i++) {
		const struct build_case *c = &build_cases[i];
		set_row(&row, c->values, NCOLS);
		bc_request_reset(&req);
		err[0] = '\0';
		int got = p->build(&ctx, &row, &req, err, sizeof err);
		CHECK_INT(got, c->want);
		if (c->want == BC_OK) {
			CHECK_STR(bc_buf_str(&req.body), c->want_text);
			CHECK_STR(bc_buf_str(&req.url),
				  "http://127.0.0.1:9/billing/api/"
				  "device_callflow_update");
			CHECK_STR(req.method, "POST");
			CHECK_STR(req.content_type,
				  "application/x-www-form-urlencoded");
			/* The secret never travels. */
			CHECK(strstr(bc_buf_str(&req.body), secret) == NULL);
		} else {
			CHECK_STR(err, c->want_text);
		}
	}
	bc_profile_release(&ctx);

	/* Another secret, another hash: '5voicemailfailed31s3cr&t=1'. */
	secret = "s3cr&t=1";
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	set_row(&row, build_cases[4].values, NCOLS);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	CHECK_STR(bc_buf_str(&req.body),
		  "u=admin&device_id=5&state=failed&callflow_action=voicemail"
		  "&did_id=31&hash=0be4eb8034f97ad69a1f36f44257fb887e2645c1");
	bc_profile_release(&ctx);
	secret = "mor-secret";

	/* check/render without credentials: u empty, hash keyed with "":
	 * '4voicemailbusy'. */
	cfg.need_credentials = 0;
	cfg.getenv_fn = no_env;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err), BC_OK);
	const char *vm[] = { "4", "busy", "voicemail" };
	set_row(&row, vm, 3);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	CHECK_STR(bc_buf_str(&req.body),
		  "u=&device_id=4&state=busy&callflow_action=voicemail"
		  "&hash=ba269938448201733f2e0dbee2c4247e8876c4e1");
	bc_profile_release(&ctx);
	cfg.need_credentials = 1;
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err),
		  BC_EUSAGE);
	CHECK_STR(err, "MOR_USER is not set: export MOR_USER and MOR_API_SECRET "
		       "(the API user and its API_Secret_Key; credentials are "
		       "read from the environment only)");
	cfg.getenv_fn = fake_env;

	/* Extra columns: refused in a CSV header... */
	char *extra[] = { "device_id", "state", "callflow_action", "action" };
	struct bc_columns c2 = { 4, extra };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c2, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: column 'action' is not a parameter of "
		       "device_callflow_update, and MOR hashes every parameter "
		       "it knows: remove it (only the documented columns are "
		       "sent)");
	char *hash[] = { "device_id", "state", "callflow_action", "hash" };
	struct bc_columns c3 = { 4, hash };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c3, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: column 'hash' is set by bulkcall (u from "
		       "MOR_USER, hash computed)");
	char *nostate[] = { "device_id", "callflow_action" };
	struct bc_columns c4 = { 2, nostate };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c4, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "header: required column 'state' is missing");

	/* ...and an NDJSON row with another non-empty key is rejected. */
	char *nd[] = { "device_id", "state", "callflow_action", "u", "note" };
	struct bc_columns c5 = { 0, nd };
	CHECK_INT(bc_profile_bind(&ctx, p, &cfg, &c5, err, sizeof err), BC_OK);
	c5.count = 5;
	const char *r1[] = { "4", "busy", "voicemail", NULL, "" };
	set_row(&row, r1, 5);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_OK);
	const char *r2[] = { "4", "busy", "voicemail", "root", NULL };
	set_row(&row, r2, 5);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	CHECK_STR(err, "line 7: column u: is set by bulkcall (u from MOR_USER, "
		       "hash computed)");
	bc_row_set(&row, 3, BC_VAL_NULL, "", 0);
	bc_row_set(&row, 4, BC_VAL_NUMBER, "1", 1);
	CHECK_INT(p->build(&ctx, &row, &req, err, sizeof err), BC_EINVAL);
	CHECK_STR(err, "line 7: column note: is not a parameter of "
		       "device_callflow_update, and MOR hashes every parameter "
		       "it knows: remove it (only the documented columns are "
		       "sent)");
	bc_profile_release(&ctx);

	bc_row_release(&row);
	bc_request_release(&req);
}

struct classify_case {
	long status;
	const char *body;
	enum bc_verdict want;
	const char *want_err;
};

#define XH "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define PAGE_ERR(msg) XH "<page><error>" msg "</error></page>"
#define STATUS_ERR(msg) XH "<status><error>" msg "</error></status>"

static const struct classify_case classify_cases[] = {
	/* Seed 004's success page, as printed (a text node in callflow). */
	{ 200,
	  XH " <page> <status>Callflow was successfully updated</status> "
	     "<user>Test User #1</user> <device>IAX2/1002</device> <callflow> "
	     "<state>Before call</state> <priority>1</priority> "
	     "<action>Forward</action> IAX2/101 <callerid_type>From "
	     "Device</callerid_type> <callerid_data/> </callflow> </page>",
	  BC_VERDICT_OK, "" },
	{ 200, "<page><status>Callflow was successfully updated</status></page>",
	  BC_VERDICT_OK, "" },
	/* Action errors: the row fails with the message. */
	{ 200, PAGE_ERR("Device was not found"), BC_VERDICT_FAILED,
	  "Device was not found" },
	{ 200, PAGE_ERR("User was not found"), BC_VERDICT_FAILED,
	  "User was not found" },
	{ 200, PAGE_ERR("Callflow state was not found"), BC_VERDICT_FAILED,
	  "Callflow state was not found" },
	{ 200, PAGE_ERR("Callflow action was not found"), BC_VERDICT_FAILED,
	  "Callflow action was not found" },
	{ 200, PAGE_ERR("Missing forward parameters"), BC_VERDICT_FAILED,
	  "Missing forward parameters" },
	{ 200, PAGE_ERR("Local device was not found"), BC_VERDICT_FAILED,
	  "Local device was not found" },
	{ 200, PAGE_ERR("External number must be numeric"), BC_VERDICT_FAILED,
	  "External number must be numeric" },
	{ 200, PAGE_ERR("External number was not found"), BC_VERDICT_FAILED,
	  "External number was not found" },
	{ 200, PAGE_ERR("DID was not found"), BC_VERDICT_FAILED,
	  "DID was not found" },
	{ 200, PAGE_ERR("FAX device was not found"), BC_VERDICT_FAILED,
	  "FAX device was not found" },
	/* Account-wide: the run cannot go on. */
	{ 200, PAGE_ERR("You are not authorized to use this functionality"),
	  BC_VERDICT_FATAL, "You are not authorized to use this functionality" },
	{ 200, PAGE_ERR("You are not authorised to use this functionality"),
	  BC_VERDICT_FATAL, "You are not authorised to use this functionality" },
	{ 200, STATUS_ERR("Incorrect hash"), BC_VERDICT_FATAL, "Incorrect hash" },
	{ 200, STATUS_ERR("API must have Secret Key"), BC_VERDICT_FATAL,
	  "API must have Secret Key" },
	{ 200, STATUS_ERR("API Requests are disabled"), BC_VERDICT_FATAL,
	  "API Requests are disabled" },
	{ 200, STATUS_ERR("GET Requests are disabled"), BC_VERDICT_FATAL,
	  "GET Requests are disabled" },
	{ 200, STATUS_ERR("Bad login"), BC_VERDICT_FATAL, "Bad login" },
	{ 200, PAGE_ERR("Bad login"), BC_VERDICT_FATAL, "Bad login" },
	{ 200, "<error>Bad login</error>", BC_VERDICT_FATAL, "Bad login" },
	{ 200, "<html><body>Bad login</body></html>", BC_VERDICT_FATAL,
	  "Bad login" },
	/* Transport-level statuses. */
	{ 500, "<html><body><h1>We're sorry, but something went wrong.</h1>"
	       "</body></html>",
	  BC_VERDICT_RETRY, "HTTP 500" },
	{ 502, "", BC_VERDICT_RETRY, "HTTP 502" },
	{ 429, PAGE_ERR("Too many requests"), BC_VERDICT_THROTTLE, "HTTP 429" },
	{ 401, "", BC_VERDICT_FATAL, "HTTP 401" },
	{ 404, "<html>Not Found</html>", BC_VERDICT_FAILED, "HTTP 404" },
	/* Unexpected or hostile answers. */
	{ 200, "", BC_VERDICT_FAILED,
	  "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200, "<html><body>Welcome</body></html>", BC_VERDICT_FAILED,
	  "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200, "<page><user>x</user></page>", BC_VERDICT_FAILED,
	  "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200, "<page><status>ok", BC_VERDICT_FAILED,
	  "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200,
	  "<?xml version=\"1.0\"?><!DOCTYPE page [<!ENTITY a \"aaaaaaaa\">"
	  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><page><status>&b;</status>"
	  "</page>",
	  BC_VERDICT_FAILED, "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200,
	  "<?xml version=\"1.0\"?><!DOCTYPE page SYSTEM "
	  "\"http://127.0.0.1:1/evil.dtd\"><page><status>x</status></page>",
	  BC_VERDICT_FAILED, "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200, "{\"status\":\"ok\"}", BC_VERDICT_FAILED,
	  "unexpected answer (HTTP 200, not a MOR <page>)" },
	{ 200, "<page><error>two\nlines</error></page>", BC_VERDICT_FAILED,
	  "two lines" },
};

static void test_classify(const struct bc_profile *p)
{
	char err[512];
	for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
	     i++) {
		const struct classify_case *c = &classify_cases[i];
		struct bc_response resp = { c->status, c->body, strlen(c->body),
					    "text/html" };
		strcpy(err, "X");
		CHECK_INT(p->classify(NULL, &resp, err, sizeof err), c->want);
		CHECK_STR(err, c->want_err);
	}
	/* Huge answers are not parsed. */
	size_t n = 2u * 1024u * 1024u;
	char *big = malloc(n + 1);
	if (big) {
		memset(big, 'x', n);
		memcpy(big, "<page><status>", 14);
		big[n] = '\0';
		struct bc_response resp = { 200, big, n, NULL };
		CHECK_INT(p->classify(NULL, &resp, err, sizeof err),
			  BC_VERDICT_FAILED);
		free(big);
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
	CHECK_STR(p->default_base_url, "http://127.0.0.1");
	test_build(p);
	test_classify(p);
	return bc_test_done();
}
