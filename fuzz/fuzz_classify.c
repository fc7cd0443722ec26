/* libFuzzer target for the response classifiers (every registered
 * profile's classify, and auth->token_response where a profile mints its
 * token). Input: byte 0 picks the bound profile (low nibble, modulo the
 * count; an http profile bound with every status rule is one more) and the
 * size of the err buffer (bits 4-6: '0'..'9' give the engine's 512 bytes);
 * byte 1 picks the HTTP status: 'a'..'p' (or anything below 0x80, modulo
 * 16) an entry of the table below, 0x80 and up a raw status made of its low
 * 7 bits and byte 2, minus 1000. The rest is the response body (NUL-ended,
 * as the transport hands it over). Aborts unless the verdict is a known
 * one and err is NUL-terminated within its size, on one line, printable
 * (no control character), empty for OK and non-empty otherwise; a minted
 * authorization must be a usable "Bearer ..." header value. Its corpus is
 * fuzz/corpus/classify/, replayed by ctest: a file there is "0d<errors>..."
 * = iovox.initiateCall answering 400. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s (profile %s)\n", __FILE__,  \
				__LINE__, #cond, current);                     \
			abort();                                               \
		}                                                              \
	} while (0)

/* 'a' 200, 'b' 201, 'c' 204, 'd' 400, 'e' 401, 'f' 403, 'g' 404, 'h' 408,
 * 'i' 429, 'j' 500, 'k' 502, 'l' 503, 'm' 0, 'n' 302, 'o' 599, 'p' 100. */
static const long statuses[16] = {200, 201, 204, 400, 401, 403, 404, 408,
				  429, 500, 502, 503, 0,   302, 599, 100};
/* Index 3 ('0'..'?') is the engine's size. */
static const size_t errlens[8] = {64, 1, 2, 512, 256, 8, 33, 512};

#define CTX_MAX 16

static struct bc_profile_ctx ctxs[CTX_MAX];
static const char *ctx_names[CTX_MAX];
static size_t nctx;
static const char *current = "(none)";

/* Every variable a profile reads, with a harmless fake value. */
static const char *fake_env(const char *name)
{
	static const char *const vars[] = {
	    "IOVOX_USERNAME",
	    "IOVOX_SECURE_KEY",
	    "SMARTFLO_TOKEN",
	    "MOR_USER",
	    "MOR_API_SECRET",
	    "VOIPNOW_CLIENT_ID",
	    "VOIPNOW_CLIENT_SECRET",
	    "API_TOKEN",
	    NULL,
	};
	for (size_t i = 0; vars[i]; i++)
		if (strcmp(name, vars[i]) == 0)
			return "fuzz-credential";
	return NULL;
}

static const char callflow_template[] =
    "<call id=\"call_1\" label=\"Call\" "
    "destinationPhoneNumber=\"{{phone}}\"/>\n";

static const char http_plain[] =
    "{\"method\":\"PUT\",\"url\":\"https://api.example.com/v1/x/{{id}}\","
    "\"headers\":{\"Authorization\":\"Bearer {{env:API_TOKEN}}\"},"
    "\"body\":{\"kind\":\"json\",\"template\":{\"note\":\"{{note}}\"}}}";

/* Every status rule set, so classify takes the configured branches. */
static const char http_rules[] =
    "{\"method\":\"POST\",\"url\":\"https://api.example.com/v1/x\","
    "\"body\":{\"kind\":\"form\",\"template\":\"id={{id}}\"},"
    "\"success\":[200,204],\"throttle\":{\"statuses\":[503],"
    "\"body_pattern\":\"Too many\"},\"retryable\":[500,502],"
    "\"fatal\":[401],\"error_field\":\"errors.0.message\"}";

/* Documented columns (not the "(any)" / "(template)" rows) plus extra
 * ones the template or profile file uses. */
static struct bc_columns *columns_of(const struct bc_profile *p,
				     const char *const *extra)
{
	static char *names[CTX_MAX][64];
	static struct bc_columns cols[CTX_MAX];
	size_t n = 0;
	for (size_t k = 0; p->columns && p->columns[k].name && n < 60; k++)
		if (p->columns[k].name[0] != '(')
			names[nctx][n++] = (char *)p->columns[k].name;
	for (size_t k = 0; extra && extra[k] && n < 63; k++)
		names[nctx][n++] = (char *)extra[k];
	cols[nctx].count = n;
	cols[nctx].names = names[nctx];
	return &cols[nctx];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	FUZZ_ASSERT(f);
	FUZZ_ASSERT(fputs(text, f) >= 0);
	FUZZ_ASSERT(fclose(f) == 0);
}

static void bind_one(const struct bc_profile *p, const char *label,
		     const struct bc_profile_config *cfg,
		     const char *const *extra)
{
	char err[512] = "";
	FUZZ_ASSERT(nctx < CTX_MAX);
	int r = bc_profile_bind(&ctxs[nctx], p, cfg, columns_of(p, extra), err,
				sizeof err);
	if (r != BC_OK) {
		fprintf(stderr, "fuzz_classify: cannot bind %s: %s\n", label,
			err);
		abort();
	}
	ctx_names[nctx++] = label;
}

static void release_all(void)
{
	for (size_t i = 0; i < nctx; i++)
		bc_profile_release(&ctxs[i]);
	nctx = 0;
}

static void init(void)
{
	static char dir[] = "/tmp/bc-fuzz-classify.XXXXXX";
	static char tpl_path[sizeof dir + 32];
	char plain_path[sizeof dir + 32], rules_path[sizeof dir + 32];
	FUZZ_ASSERT(mkdtemp(dir));
	snprintf(tpl_path, sizeof tpl_path, "%s/rules.xml", dir);
	snprintf(plain_path, sizeof plain_path, "%s/plain.json", dir);
	snprintf(rules_path, sizeof rules_path, "%s/rules.json", dir);
	write_file(tpl_path, callflow_template);
	write_file(plain_path, http_plain);
	write_file(rules_path, http_rules);

	static const char *const tpl_cols[] = {"phone", NULL};
	static const char *const http_cols[] = {"id", "note", NULL};
	const struct bc_profile *const *all = bc_profiles();
	for (size_t i = 0; all[i]; i++) {
		struct bc_profile_config cfg = {.need_credentials = 1,
						.getenv_fn = fake_env,
						.template_path = tpl_path,
						.profile_file = plain_path};
		const char *const *extra =
		    strcmp(all[i]->name, "iovox.updateCallFlow") == 0 ? tpl_cols
		    : strcmp(all[i]->name, "http") == 0 ? http_cols
							: NULL;
		bind_one(all[i], all[i]->name, &cfg, extra);
	}
	struct bc_profile_config cfg = {.need_credentials = 1,
					.getenv_fn = fake_env,
					.profile_file = rules_path};
	bind_one(bc_profile_find("http"), "http (status rules)", &cfg,
		 http_cols);
	/* The profiles keep what they read: the files can go. tpl_path stays
	 * referenced by iovox.updateCallFlow for its messages. */
	unlink(tpl_path);
	unlink(plain_path);
	unlink(rules_path);
	rmdir(dir);
	atexit(release_all);
}

/* NUL within errlen, no control character (a row's error is one line of a
 * CSV or log). */
static void check_err(const char *err, size_t errlen)
{
	const char *end = memchr(err, '\0', errlen);
	FUZZ_ASSERT(end);
	for (const char *p = err; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		FUZZ_ASSERT(c >= 0x20 && c != 0x7f);
	}
}

static void check_classify(struct bc_profile_ctx *ctx,
			   const struct bc_response *resp, size_t errlen)
{
	char *err = malloc(errlen);
	FUZZ_ASSERT(err);
	memset(err, 'X', errlen);
	enum bc_verdict v = ctx->profile->classify(ctx, resp, err, errlen);
	FUZZ_ASSERT(v == BC_VERDICT_OK || v == BC_VERDICT_FAILED ||
		    v == BC_VERDICT_THROTTLE || v == BC_VERDICT_RETRY ||
		    v == BC_VERDICT_FATAL);
	check_err(err, errlen);
	if (v == BC_VERDICT_OK)
		FUZZ_ASSERT(err[0] == '\0');
	else if (errlen > 1)
		FUZZ_ASSERT(err[0] != '\0');
	free(err);
}

static void check_token(struct bc_profile_ctx *ctx,
			const struct bc_response *resp, size_t errlen)
{
	char *err = malloc(errlen);
	FUZZ_ASSERT(err);
	memset(err, 'X', errlen);
	char *auth = (char *)"not set";
	long long expires = -1;
	int r = ctx->profile->auth->token_response(ctx, resp, &auth, &expires,
						   err, errlen);
	FUZZ_ASSERT(r == BC_OK || r == BC_EINVAL || r == BC_EFATAL ||
		    r == BC_ENOMEM);
	check_err(err, errlen);
	if (r == BC_OK) {
		FUZZ_ASSERT(auth && strncmp(auth, "Bearer ", 7) == 0 &&
			    auth[7]);
		/* It becomes a header value: no space, CR, LF or control. */
		for (const char *p = auth + 7; *p; p++)
			FUZZ_ASSERT((unsigned char)*p > 0x20 &&
				    (unsigned char)*p < 0x7f);
		FUZZ_ASSERT(expires >= 0);
		FUZZ_ASSERT(err[0] == '\0');
		free(auth);
	} else {
		FUZZ_ASSERT(auth == NULL);
		if (errlen > 1)
			FUZZ_ASSERT(err[0] != '\0');
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!nctx)
		init();
	if (size < 2)
		return 0;
	size_t pick = (data[0] & 0x0f) % nctx;
	struct bc_profile_ctx *ctx = &ctxs[pick];
	current = ctx_names[pick];
	size_t errlen = errlens[(data[0] >> 4) & 7];
	long status;
	size_t hdr = 2;
	if (data[1] >= 0x80) {
		if (size < 3)
			return 0;
		status = (long)(((data[1] & 0x7f) << 8) | data[2]) - 1000;
		hdr = 3;
	} else {
		status = statuses[(uint8_t)(data[1] - 'a') % 16];
	}
	/* The transport's body: exactly the bytes, NUL-terminated. */
	size_t len = size - hdr;
	char *body = malloc(len + 1);
	FUZZ_ASSERT(body);
	memcpy(body, data + hdr, len);
	body[len] = '\0';
	struct bc_response resp = {status, body, len,
				   data[0] & 0x80 ? "application/json" : NULL};
	check_classify(ctx, &resp, errlen);
	if (ctx->profile->auth)
		check_token(ctx, &resp, errlen);
	free(body);
	return 0;
}
