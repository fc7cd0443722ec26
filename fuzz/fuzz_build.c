/* libFuzzer target for the profiles' request builders: input rows read
 * by the real readers (NDJSON or CSV, in memory) go through one bound
 * profile's build(). Byte 0 picks the profile (low nibble, modulo the
 * table below: '0' iovox.initiateCall, '1' iovox.updateCallFlow,
 * '2' smartflo.updateIVR, '3' voipnow.updatePhoneCallEvent,
 * '4' mor.deviceCallflowUpdate, '5'..'8' http with a json, xml, form or
 * raw body) and the format (bit 6: 'P'..'X' CSV, else NDJSON); the rest
 * is the input file.
 *
 * Checks: build either refuses the row (BC_EINVAL, one-line
 * "line N: ..." message) or gives a method, a URL on the bound base with
 * no space or control byte, and a body that is what its content type
 * says: XML that libxml2 parses (no DOCTYPE), one whole JSON value, a
 * form of key=value pairs with every other byte percent-encoded, or raw
 * text without control characters. Its corpus is fuzz/corpus/build/,
 * replayed by ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "bulkcall/reader.h"
#include "ingest/ingest_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s (profile %s)\n", __FILE__,  \
				__LINE__, #cond, current);                     \
			abort();                                               \
		}                                                              \
	} while (0)

#define ROWS_MAX 32

static const char *current = "(none)";

static const char callflow_template[] =
    "<call id=\"call_1\" label=\"{{label}}\" "
    "destinationPhoneNumber=\"{{phone}}\" timeout=\"{{num:ring}}\">\n"
    "  <calledMessage><soundFile soundLabel=\"{{whisper}}\"/>"
    "</calledMessage>\n</call>\n";

#define HTTP_URL                                                               \
	"\"method\":\"PUT\",\"url\":\"https://api.example.com/v1/"             \
	"{{a}}?q={{b}}\""

static const char http_json[] =
    "{" HTTP_URL ",\"headers\":{\"Authorization\":\"Bearer "
    "{{env:API_TOKEN}}\"},\"body\":{\"kind\":\"json\",\"template\":"
    "\"{\\\"s\\\":\\\"<{{a}}> and {{b}}\\\",\\\"n\\\":{{num:n}},"
    "\\\"on\\\":{{bool:on}},\\\"j\\\":{{json:b}},"
    "\\\"tags\\\":{{list:tags}}}\"},\"required\":[\"a\"]}";

static const char http_xml[] =
    "{" HTTP_URL ",\"body\":{\"kind\":\"xml\",\"template\":"
    "\"<r a='{{a}}' b=\\\"{{b}}\\\"><n>{{num:n}}</n>{{b}}</r>\"}}";

static const char http_form[] =
    "{" HTTP_URL ",\"body\":{\"kind\":\"form\",\"template\":"
    "\"a={{a}}&b={{b}}&n={{num:n}}\"}}";

static const char http_raw[] =
    "{" HTTP_URL ",\"body\":{\"kind\":\"raw\",\"template\":"
    "\"a={{a}} b={{b}}\"}}";

struct target {
	const char *profile;
	const char *file_text; /* --template or --profile-file content */
	char path[64];
};

static struct target targets[] = {
    {"iovox.initiateCall", NULL, ""},
    {"iovox.updateCallFlow", callflow_template, ""},
    {"smartflo.updateIVR", NULL, ""},
    {"voipnow.updatePhoneCallEvent", NULL, ""},
    {"mor.deviceCallflowUpdate", NULL, ""},
    {"http", http_json, ""},
    {"http", http_xml, ""},
    {"http", http_form, ""},
    {"http", http_raw, ""},
};
#define NTARGETS (sizeof targets / sizeof targets[0])

static int ready;
static char dir[] = "/tmp/bc-fuzz-build.XXXXXX";

static const char *fake_env(const char *name)
{
	static const char *const vars[] = {
	    "IOVOX_USERNAME", "IOVOX_SECURE_KEY", "SMARTFLO_TOKEN", "MOR_USER",
	    "MOR_API_SECRET", "VOIPNOW_TOKEN",	  "API_TOKEN",	    NULL,
	};
	for (size_t i = 0; vars[i]; i++)
		if (strcmp(name, vars[i]) == 0)
			return "fuzz-credential";
	return NULL;
}

static void cleanup(void)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (targets[i].path[0])
			unlink(targets[i].path);
	rmdir(dir);
}

static void init(void)
{
	FUZZ_ASSERT(mkdtemp(dir));
	for (size_t i = 0; i < NTARGETS; i++) {
		struct target *t = &targets[i];
		FUZZ_ASSERT(bc_profile_find(t->profile));
		if (!t->file_text)
			continue;
		snprintf(t->path, sizeof t->path, "%s/%zu", dir, i);
		FILE *f = fopen(t->path, "w");
		FUZZ_ASSERT(f && fputs(t->file_text, f) >= 0 && fclose(f) == 0);
	}
	atexit(cleanup);
	ready = 1;
}

static void check_reject(const struct bc_row *row, const char *err,
			 size_t errlen)
{
	const char *end = memchr(err, '\0', errlen);
	FUZZ_ASSERT(end && end > err);
	for (const char *p = err; p < end; p++)
		FUZZ_ASSERT(*p != '\n' && *p != '\r');
	char want[48];
	snprintf(want, sizeof want,
		 "line %llu: ", (unsigned long long)row->line);
	FUZZ_ASSERT(strncmp(err, want, strlen(want)) == 0);
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* key=value&key=value, every other byte as %XX. */
static void check_form(const char *s, size_t len)
{
	int eq = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '&') {
			FUZZ_ASSERT(eq == 1);
			eq = 0;
		} else if (c == '=') {
			eq++;
		} else if (c == '%') {
			FUZZ_ASSERT(i + 2 < len && hex(s[i + 1]) &&
				    hex(s[i + 2]));
			i += 2;
		} else {
			FUZZ_ASSERT(unreserved(c));
		}
	}
	FUZZ_ASSERT(len == 0 || eq == 1);
}

static void check_request(const struct bc_profile_ctx *ctx,
			  const struct bc_request *req)
{
	FUZZ_ASSERT(req->method && req->method[0]);
	const char *url = bc_buf_str(&req->url);
	FUZZ_ASSERT(strncmp(url, ctx->base_url, strlen(ctx->base_url)) == 0);
	FUZZ_ASSERT(strlen(url) == req->url.len);
	for (const char *p = url; *p; p++)
		FUZZ_ASSERT((unsigned char)*p > 0x20 &&
			    (unsigned char)*p < 0x7f);
	const char *body = bc_buf_str(&req->body);
	size_t len = req->body.len;
	const char *ct = req->content_type;
	if (!ct) {
		FUZZ_ASSERT(len == 0);
	} else if (strcmp(ct, "application/xml") == 0) {
		xmlDocPtr d = xmlReadMemory(
		    body, (int)len, "fuzz.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		FUZZ_ASSERT(d && xmlDocGetRootElement(d) && !d->intSubset);
		xmlFreeDoc(d);
	} else if (strcmp(ct, "application/json") == 0) {
		FUZZ_ASSERT(strlen(body) == len);
		cJSON *j = cJSON_ParseWithOpts(body, NULL, 1);
		FUZZ_ASSERT(j);
		cJSON_Delete(j);
	} else if (strcmp(ct, "application/x-www-form-urlencoded") == 0) {
		check_form(body, len);
	} else {
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT((unsigned char)body[i] >= 0x20 &&
				    body[i] != 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		init();
	if (size < 1)
		return 0;
	struct target *t = &targets[(data[0] & 0x0f) % NTARGETS];
	current = t->profile;
	enum bc_format fmt = data[0] & 0x40 ? BC_FORMAT_CSV : BC_FORMAT_NDJSON;
	struct bc_reader *r = NULL;
	char err[512];
	if (bc__reader_open_mem(&r, "fuzz", fmt, data + 1, size - 1, 0, err,
				sizeof err))
		return 0;
	struct bc_profile_config cfg = {.need_credentials = 1,
					.getenv_fn = fake_env};
	if (strcmp(t->profile, "http") == 0)
		cfg.profile_file = t->path;
	else if (t->file_text)
		cfg.template_path = t->path;
	struct bc_profile_ctx ctx;
	if (bc_profile_bind(&ctx, bc_profile_find(t->profile), &cfg,
			    bc_reader_columns(r), err, sizeof err)) {
		/* Only a CSV header can be refused. */
		FUZZ_ASSERT(fmt == BC_FORMAT_CSV);
		bc_reader_free(r);
		return 0;
	}
	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	for (int n = 0;
	     n < ROWS_MAX && bc_reader_next(r, &row, err, sizeof err) == 1;
	     n++) {
		if (row.error[0])
			continue; /* the reader's own rejection */
		bc_request_reset(&req);
		memset(err, 'X', sizeof err);
		int result =
		    ctx.profile->build(&ctx, &row, &req, err, sizeof err);
		if (result) {
			FUZZ_ASSERT(result == BC_EINVAL);
			check_reject(&row, err, sizeof err);
		} else {
			check_request(&ctx, &req);
		}
	}
	bc_request_release(&req);
	bc_row_release(&row);
	bc_profile_release(&ctx);
	bc_reader_free(r);
	return 0;
}
