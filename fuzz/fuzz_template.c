/* libFuzzer target for the {{column}} template renderer
 * (src/profile/template.c) and the profiles that fill templates: http
 * (--profile-file, every body kind) and iovox.updateCallFlow (--template).
 *
 * Input: byte 0 picks the target, low nibble modulo 6: '0' http json body,
 * '1' xml, '2' form, '3' raw, '4' iovox.updateCallFlow, '5' the template
 * API only; bit 6 ('@'..'E', 'P'..'U') adds placeholders to the http URL.
 * The rest, split at NUL bytes: the template text, then the values of the
 * columns a, b, c and d (missing = absent). A value's first byte may give
 * its kind: 'S' string, 'N' number, 'B' bool, 'Z' null, 'L' list (JSON
 * array text); any other byte belongs to a string value.
 *
 * Checks: a parse either fails with a one-line message or gives parts that
 * rebuild the text exactly; a fill matches a reference rendering (or is
 * refused for the reason the reference predicts); a profile that binds the
 * template builds a body that is valid JSON (the whole of it) or
 * well-formed XML, a form/raw body and a URL that are exactly the text
 * with each value percent-encoded (form, URL) or as is (raw), or refuses
 * the row with a "line N: ..." message. Its corpus is
 * fuzz/corpus/template/, replayed by ctest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"
#include "ingest/ingest_internal.h"
#include "profile/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,     \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

#define NVALUES	 4
#define ROW_LINE 7

enum target { T_JSON, T_XML, T_FORM, T_RAW, T_CALLFLOW, T_API, T_COUNT };

struct input {
	enum target target;
	int url_placeholders;
	const char *text;
	size_t text_len;
	int present[NVALUES];
	enum bc_value_kind kind[NVALUES];
	const char *val[NVALUES];
	size_t len[NVALUES];
	int utf8; /* every value is valid UTF-8, as the readers guarantee */
};

static char *colnames[] = {"a", "b", "c", "d", "name", "new_name", "notes"};
static struct bc_columns cols = {7, colnames};

static int ready;
static char dir[] = "/tmp/bc-fuzz-template.XXXXXX";
static char file_path[sizeof dir + 32];

static void cleanup(void)
{
	unlink(file_path);
	rmdir(dir);
}

static void init(void)
{
	FUZZ_ASSERT(mkdtemp(dir));
	snprintf(file_path, sizeof file_path, "%s/file", dir);
	atexit(cleanup);
	ready = 1;
}

static void parse_input(struct input *in, const uint8_t *data, size_t size)
{
	memset(in, 0, sizeof *in);
	in->target = (enum target)((data[0] & 0x0f) % T_COUNT);
	in->url_placeholders = (data[0] & 0x40) != 0;
	const char *p = (const char *)data + 1,
		   *end = (const char *)data + size;
	const char *nul = memchr(p, '\0', (size_t)(end - p));
	in->text = p;
	in->text_len = (size_t)((nul ? nul : end) - p);
	p = nul ? nul + 1 : end;
	in->utf8 = 1;
	for (size_t i = 0; i < NVALUES && (nul || p < end); i++) {
		nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = (size_t)((nul ? nul : end) - p);
		enum bc_value_kind k = BC_VAL_STRING;
		size_t skip = 1;
		switch (n ? *p : 0) {
		case 'N': k = BC_VAL_NUMBER; break;
		case 'B': k = BC_VAL_BOOL; break;
		case 'Z': k = BC_VAL_NULL; break;
		case 'L': k = BC_VAL_ARRAY; break;
		case 'S': break;
		default: skip = 0;
		}
		in->present[i] = 1;
		in->kind[i] = k;
		in->val[i] = p + skip;
		in->len[i] = n - skip;
		if (bc__utf8_check(in->val[i], in->len[i]) < in->len[i])
			in->utf8 = 0;
		p = nul ? nul + 1 : end;
	}
}

static void make_row(struct bc_row *row, const struct input *in)
{
	bc_row_init(row);
	row->index = 1;
	row->line = ROW_LINE;
	for (size_t i = 0; i < NVALUES; i++)
		if (in->present[i])
			FUZZ_ASSERT(
			    bc_row_set(
				row, i, in->kind[i],
				in->kind[i] == BC_VAL_NULL ? "" : in->val[i],
				in->kind[i] == BC_VAL_NULL ? 0 : in->len[i]) ==
			    BC_OK);
}

/* A message for the user: NUL-terminated in its buffer, one line. */
static void check_message(const char *err, size_t errlen)
{
	const char *end = memchr(err, '\0', errlen);
	FUZZ_ASSERT(end && end > err);
	FUZZ_ASSERT(!memchr(err, '\n', (size_t)(end - err)));
	FUZZ_ASSERT(!memchr(err, '\r', (size_t)(end - err)));
}

static void check_reject(const char *err, size_t errlen)
{
	check_message(err, errlen);
	char want[32];
	snprintf(want, sizeof want, "line %d: ", ROW_LINE);
	FUZZ_ASSERT(strncmp(err, want, strlen(want)) == 0);
}

/* ---- The template API against a reference rendering. */

/* Writes "[value]" so the output shows where each value went. */
static int escape_mark(void *arg, struct bc_buf *out,
		       const struct bc_tpl_part *part, const struct bc_row *row,
		       const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	(void)part;
	(void)row;
	(void)err;
	(void)errlen;
	FUZZ_ASSERT(val && val[len] == '\0');
	int result = bc_buf_addc(out, '[');
	if (!result)
		result = bc_buf_add(out, val, len);
	return result ? result : bc_buf_addc(out, ']');
}

static int has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static long column_of(const char *name)
{
	for (size_t i = 0; i < NVALUES; i++)
		if (strcmp(name, colnames[i]) == 0)
			return (long)i;
	return -1;
}

static void check_api(const struct input *in)
{
	struct bc_tpl t;
	char err[512];
	memset(err, 'X', sizeof err);
	int r =
	    bc_tpl_parse(&t, in->text, in->text_len, "fuzz", err, sizeof err);
	if (r) {
		FUZZ_ASSERT(r == BC_EUSAGE || r == BC_ENOMEM);
		FUZZ_ASSERT(t.nparts == 0 && t.parts == NULL && t.src == NULL);
		if (r == BC_EUSAGE) {
			check_message(err, sizeof err);
			FUZZ_ASSERT(strncmp(err, "fuzz: ", 6) == 0);
		}
		return;
	}
	FUZZ_ASSERT(t.src_len == in->text_len &&
		    memcmp(t.src, in->text, in->text_len) == 0);
	/* The parts cover the text in order: literal text without "{{",
	 * placeholders "{{ [kind:] name }}" whose name has no brace or
	 * control character. */
	size_t at = 0;
	for (size_t i = 0; i < t.nparts; i++) {
		const struct bc_tpl_part *p = &t.parts[i];
		FUZZ_ASSERT(p->offset == at);
		size_t end =
		    i + 1 < t.nparts ? t.parts[i + 1].offset : t.src_len;
		FUZZ_ASSERT(end > at && end <= t.src_len);
		if (p->kind == BC_TPL_TEXT) {
			FUZZ_ASSERT(p->text == t.src + at &&
				    p->len == end - at);
			for (size_t k = 0; k + 1 < p->len; k++)
				FUZZ_ASSERT(!(p->text[k] == '{' &&
					      p->text[k + 1] == '{'));
			FUZZ_ASSERT(p->name == NULL);
		} else {
			FUZZ_ASSERT(end - at >= 5);
			FUZZ_ASSERT(memcmp(t.src + at, "{{", 2) == 0);
			FUZZ_ASSERT(memcmp(t.src + end - 2, "}}", 2) == 0);
			size_t n = strlen(p->name);
			FUZZ_ASSERT(n > 0 && n <= end - at - 4);
			FUZZ_ASSERT(!has_control(p->name, n));
			FUZZ_ASSERT(!strchr(p->name, '{') &&
				    !strchr(p->name, '}'));
			FUZZ_ASSERT(p->name[0] != ' ' && p->name[n - 1] != ' ');
			if (p->kind == BC_TPL_PLAIN)
				FUZZ_ASSERT(!strchr(p->name, ':'));
			/* The name is in the placeholder's text. */
			int found = 0;
			for (size_t k = at; !found && k + n <= end; k++)
				found = memcmp(t.src + k, p->name, n) == 0;
			FUZZ_ASSERT(found);
		}
		at = end;
	}
	FUZZ_ASSERT(at == t.src_len);
	bc_tpl_mark_json(&t);
	bc_tpl_mark_query(&t);

	/* Reference rendering of the row. */
	struct bc_row row;
	make_row(&row, in);
	struct bc_buf want = BC_BUF_INIT(BC_BODY_MAX * 4);
	int want_result = BC_OK;
	for (size_t i = 0; i < t.nparts && !want_result; i++) {
		const struct bc_tpl_part *p = &t.parts[i];
		if (p->kind == BC_TPL_TEXT) {
			FUZZ_ASSERT(bc_buf_add(&want, p->text, p->len) ==
				    BC_OK);
			continue;
		}
		if (p->kind == BC_TPL_ENV) {
			want_result = BC_EINVAL;
			continue;
		}
		long c = column_of(p->name);
		if (c < 0 || !in->present[c] || in->kind[c] == BC_VAL_NULL) {
			want_result = BC_EINVAL; /* missing */
			continue;
		}
		if (p->kind != BC_TPL_LIST &&
		    (in->kind[c] == BC_VAL_ARRAY ||
		     has_control(in->val[c], in->len[c]))) {
			want_result = BC_EINVAL;
			continue;
		}
		FUZZ_ASSERT(bc_buf_addc(&want, '[') == BC_OK);
		FUZZ_ASSERT(bc_buf_add(&want, in->val[c], in->len[c]) == BC_OK);
		FUZZ_ASSERT(bc_buf_addc(&want, ']') == BC_OK);
	}
	for (int pass = 0; pass < 2; pass++) {
		struct bc_buf out = BC_BUF_INIT(BC_BODY_MAX * 4);
		memset(err, 'X', sizeof err);
		r = bc_tpl_fill(&t, &cols, &row, "the fuzz", escape_mark, NULL,
				&out, err, sizeof err);
		FUZZ_ASSERT(r == want_result);
		if (r == BC_OK)
			FUZZ_ASSERT(out.len == want.len &&
				    memcmp(bc_buf_str(&out), bc_buf_str(&want),
					   want.len) == 0);
		else
			check_message(err, sizeof err);
		bc_buf_release(&out);
	}
	FUZZ_ASSERT(bc_tpl_count(&t, BC_TPL_TEXT) <= t.nparts);
	const char *missing = bc_tpl_missing(&t, &cols);
	FUZZ_ASSERT(!missing || column_of(missing) < 0);
	bc_buf_release(&want);
	bc_row_release(&row);
	bc_tpl_release(&t);
}

/* ---- Profiles that fill a template. */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static void add_encoded(struct bc_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c))
			FUZZ_ASSERT(bc_buf_addc(b, (char)c) == BC_OK);
		else
			FUZZ_ASSERT(bc_buf_addf(b, "%%%02X", c) == BC_OK);
	}
}

static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(file_path, "wb");
	FUZZ_ASSERT(f);
	FUZZ_ASSERT(fwrite(text, 1, len, f) == len);
	FUZZ_ASSERT(fclose(f) == 0);
}

static const char *const url_plain = "https://h.example/t";
static const char *const url_tpl = "https://h.example/t/{{a}}?q={{b}}";

/* The http profile file for the input, written with cJSON so the template
 * text arrives as is. */
static void write_http_profile(const struct input *in)
{
	static const char *const kinds[] = {"json", "xml", "form", "raw"};
	cJSON *root = cJSON_CreateObject();
	cJSON *body = cJSON_CreateObject();
	char *text = malloc(in->text_len + 1);
	FUZZ_ASSERT(root && body && text);
	memcpy(text, in->text, in->text_len);
	text[in->text_len] = '\0';
	FUZZ_ASSERT(cJSON_AddStringToObject(root, "method", "POST"));
	FUZZ_ASSERT(cJSON_AddStringToObject(
	    root, "url", in->url_placeholders ? url_tpl : url_plain));
	FUZZ_ASSERT(cJSON_AddStringToObject(body, "kind", kinds[in->target]));
	FUZZ_ASSERT(cJSON_AddStringToObject(body, "template", text));
	FUZZ_ASSERT(cJSON_AddItemToObject(root, "body", body));
	char *json = cJSON_PrintUnformatted(root);
	FUZZ_ASSERT(json);
	write_file(json, strlen(json));
	cJSON_free(json);
	cJSON_Delete(root);
	free(text);
}

/* The value of column c as the profile fills it. */
static int expect_value(const struct input *in, long c, const char **v,
			size_t *n)
{
	if (c < 0 || c >= NVALUES || !in->present[c] ||
	    in->kind[c] == BC_VAL_NULL || in->kind[c] == BC_VAL_ARRAY ||
	    has_control(in->val[c], in->len[c]))
		return 0;
	*v = in->val[c];
	*n = in->len[c];
	return 1;
}

/* The call flow's own columns, which check_profile sets in every row. */
static const char row_name[] = "Call & <Agent>";
static const char row_notes[] = "\"quoted\" 'notes'";

/* The value the profile fills {{name}} with (a, b, c, d, or the row's own
 * name and notes). */
static int expect_named(const struct input *in, const char *name,
			const char **v, size_t *n)
{
	if (strcmp(name, "name") == 0 || strcmp(name, "notes") == 0) {
		*v = name[1] == 'a' ? row_name : row_notes;
		*n = strlen(*v);
		return 1;
	}
	return expect_value(in, column_of(name), v, n);
}

/* form and raw bodies: the text with each value percent-encoded (form)
 * or as is (raw); 0 when the row cannot be filled. */
static int expect_body(const struct input *in, struct bc_buf *want)
{
	struct bc_tpl t;
	char err[512];
	if (bc_tpl_parse(&t, in->text, in->text_len, "x", err, sizeof err))
		return 0;
	int ok = 1;
	for (size_t i = 0; i < t.nparts && ok; i++) {
		const struct bc_tpl_part *p = &t.parts[i];
		const char *v;
		size_t n;
		if (p->kind == BC_TPL_TEXT)
			FUZZ_ASSERT(bc_buf_add(want, p->text, p->len) == BC_OK);
		else if (!(ok = expect_named(in, p->name, &v, &n)))
			break;
		else if (in->target == T_FORM)
			add_encoded(want, v, n);
		else
			FUZZ_ASSERT(bc_buf_add(want, v, n) == BC_OK);
	}
	bc_tpl_release(&t);
	return ok;
}

static void check_http_request(const struct input *in,
			       const struct bc_request *req)
{
	/* The URL: the fixed text with a and b percent-encoded. */
	struct bc_buf want = BC_BUF_INIT(BC_URL_MAX * 4);
	const char *v;
	size_t n;
	if (in->url_placeholders) {
		FUZZ_ASSERT(bc_buf_adds(&want, "https://h.example/t/") ==
			    BC_OK);
		FUZZ_ASSERT(expect_value(in, 0, &v, &n));
		add_encoded(&want, v, n);
		FUZZ_ASSERT(bc_buf_adds(&want, "?q=") == BC_OK);
		FUZZ_ASSERT(expect_value(in, 1, &v, &n));
		add_encoded(&want, v, n);
	} else {
		FUZZ_ASSERT(bc_buf_adds(&want, url_plain) == BC_OK);
	}
	FUZZ_ASSERT(strcmp(bc_buf_str(&req->url), bc_buf_str(&want)) == 0);
	bc_buf_release(&want);

	const char *body = bc_buf_str(&req->body);
	size_t len = req->body.len;
	FUZZ_ASSERT(strlen(body) == len);
	if (in->target == T_JSON) {
		/* The whole body is one JSON value. */
		cJSON *j = cJSON_ParseWithOpts(body, NULL, 1);
		FUZZ_ASSERT(j);
		cJSON_Delete(j);
	} else if (in->target == T_XML) {
		xmlDocPtr d = xmlReadMemory(
		    body, (int)len, "fuzz.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		FUZZ_ASSERT(d && xmlDocGetRootElement(d));
		FUZZ_ASSERT(!d->intSubset && !d->extSubset);
		xmlFreeDoc(d);
	} else {
		struct bc_buf b = BC_BUF_INIT(BC_BODY_MAX * 4);
		FUZZ_ASSERT(expect_body(in, &b));
		FUZZ_ASSERT(b.len == len &&
			    memcmp(bc_buf_str(&b), body, len) == 0);
		bc_buf_release(&b);
	}
}

static void check_callflow_request(const struct bc_request *req)
{
	const char *body = bc_buf_str(&req->body);
	xmlDocPtr d = xmlReadMemory(body, (int)req->body.len, "fuzz.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	FUZZ_ASSERT(d && !d->intSubset);
	xmlNodePtr root = xmlDocGetRootElement(d);
	FUZZ_ASSERT(root && strcmp((const char *)root->name, "request") == 0);
	xmlNodePtr flow = root->children;
	while (flow && flow->type != XML_ELEMENT_NODE)
		flow = flow->next;
	FUZZ_ASSERT(flow && strcmp((const char *)flow->name, "callFlow") == 0);
	/* The row's name, intact, is the only name attribute. */
	xmlChar *name = xmlGetProp(flow, BAD_CAST "name");
	FUZZ_ASSERT(name && strcmp((const char *)name, row_name) == 0);
	xmlFree(name);
	xmlFreeDoc(d);
}

static const char *fake_env(const char *name)
{
	return strncmp(name, "IOVOX_", 6) == 0 ? "fuzz-credential" : NULL;
}

static void check_profile(const struct input *in)
{
	if (in->target == T_API || !in->utf8)
		return;
	const struct bc_profile *p;
	struct bc_profile_config cfg = {.need_credentials = 1,
					.getenv_fn = fake_env};
	if (in->target == T_CALLFLOW) {
		write_file(in->text, in->text_len);
		cfg.template_path = file_path;
		p = bc_profile_find("iovox.updateCallFlow");
	} else {
		write_http_profile(in);
		cfg.profile_file = file_path;
		p = bc_profile_find("http");
	}
	FUZZ_ASSERT(p);
	struct bc_profile_ctx ctx;
	char err[512];
	memset(err, 'X', sizeof err);
	int r = bc_profile_bind(&ctx, p, &cfg, &cols, err, sizeof err);
	if (r) {
		/* A template refused at bind, or a column it names missing. */
		FUZZ_ASSERT(r == BC_EUSAGE || r == BC_EHEADER);
		check_message(err, sizeof err);
		return;
	}
	struct bc_row row;
	make_row(&row, in);
	/* The call flow's own columns. */
	FUZZ_ASSERT(bc_row_set(&row, 4, BC_VAL_STRING, row_name,
			       strlen(row_name)) == BC_OK);
	FUZZ_ASSERT(bc_row_set(&row, 6, BC_VAL_STRING, row_notes,
			       strlen(row_notes)) == BC_OK);
	struct bc_request req;
	bc_request_init(&req);
	for (int pass = 0; pass < 2; pass++) {
		bc_request_reset(&req);
		memset(err, 'X', sizeof err);
		r = ctx.profile->build(&ctx, &row, &req, err, sizeof err);
		if (r) {
			FUZZ_ASSERT(r == BC_EINVAL);
			check_reject(err, sizeof err);
			continue;
		}
		FUZZ_ASSERT(req.method && req.content_type);
		if (in->target == T_CALLFLOW)
			check_callflow_request(&req);
		else
			check_http_request(in, &req);
	}
	bc_request_release(&req);
	bc_row_release(&row);
	bc_profile_release(&ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		init();
	if (size < 1 || size > 64 * 1024)
		return 0;
	struct input in;
	parse_input(&in, data, size);
	check_api(&in);
	check_profile(&in);
	return 0;
}
