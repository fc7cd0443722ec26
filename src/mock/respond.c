/* Responses, escaping and operation fields shared by the providers of
 * bulkcall-mock. Owns the run-long shared responses (created at startup,
 * before any request thread runs). Knows no provider. */
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "mock/mock.h"

#define MOCK_SHARED_MAX 128

static struct MHD_Response *shared[MOCK_SHARED_MAX];
static size_t shared_len;

static const char *const outcome_names[] = {
#define MOCK_OUTCOME_NAME(name, text) text,
	MOCK_OUTCOME_MAP(MOCK_OUTCOME_NAME)
#undef MOCK_OUTCOME_NAME
};

const char *mock_outcome_name(enum mock_outcome o)
{
	return (size_t)o < MOCK__OUTCOME_COUNT ? outcome_names[o] : "?";
}

static int set_type(struct MHD_Response *r, const char *content_type)
{
	if (!content_type)
		return 0;
	return MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				       content_type) == MHD_YES ? 0 : -1;
}

struct MHD_Response *mock_response_static(const char *body,
					  const char *content_type)
{
	if (shared_len == MOCK_SHARED_MAX)
		return NULL;
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return NULL;
	if (set_type(r, content_type)) {
		MHD_destroy_response(r);
		return NULL;
	}
	shared[shared_len++] = r;
	return r;
}

void mock_responses_release(void)
{
	while (shared_len)
		MHD_destroy_response(shared[--shared_len]);
}

void mock_answer_shared(struct mock_answer *a, unsigned int status,
			struct MHD_Response *resp, enum mock_outcome o)
{
	a->status = status;
	a->resp = resp;
	a->owned = 0;
	a->drop = resp == NULL;
	a->outcome = o;
}

void mock_answer_copy(struct mock_answer *a, unsigned int status,
		      const char *content_type, const char *body, size_t len,
		      enum mock_outcome o)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r && set_type(r, content_type)) {
		MHD_destroy_response(r);
		r = NULL;
	}
	/* Without memory for an answer the connection is dropped: the
	 * client sees a failure either way. */
	mock_answer_shared(a, status, r, o);
	a->owned = r != NULL;
}

int mock_xml_escape(struct bc_buf *b, const char *s)
{
	int err = 0;
	for (; *s && !err; s++) {
		switch (*s) {
		case '<': err = bc_buf_adds(b, "&lt;"); break;
		case '>': err = bc_buf_adds(b, "&gt;"); break;
		case '&': err = bc_buf_adds(b, "&amp;"); break;
		case '"': err = bc_buf_adds(b, "&quot;"); break;
		default: err = bc_buf_addc(b, *s); break;
		}
	}
	return err;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t min, cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int mock_json_str(struct bc_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	int err = bc_buf_addc(b, '"');
	size_t i = 0;
	while (i < len && !err) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			err = bc_buf_add(b, esc, 2);
			i++;
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4],
					hex[c & 15] };
			err = bc_buf_add(b, esc, 6);
			i++;
		} else {
			size_t n = utf8_len(p + i, len - i);
			if (n) {
				err = bc_buf_add(b, p + i, n);
				i += n;
			} else {
				err = bc_buf_adds(b, "\\ufffd");
				i++;
			}
		}
	}
	return err ? err : bc_buf_addc(b, '"');
}

void mock_fields_init(struct mock_fields *f)
{
	f->n = 0;
}

void mock_fields_release(struct mock_fields *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->f[i].name);
		free(f->f[i].value);
	}
	f->n = 0;
}

static char *copy(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

int mock_fields_add(struct mock_fields *f, const char *name,
		    const char *value, size_t len, int raw)
{
	if (f->n == MOCK_FIELDS_MAX)
		return BC_ETOOBIG;
	struct mock_field *e = &f->f[f->n];
	e->name = copy(name, strlen(name));
	e->value = copy(value, len);
	e->raw = raw;
	if (!e->name || !e->value) {
		free(e->name);
		free(e->value);
		return BC_ENOMEM;
	}
	f->n++;
	return 0;
}

int mock_fields_adds(struct mock_fields *f, const char *name,
		     const char *value)
{
	return mock_fields_add(f, name, value, strlen(value), 0);
}

const char *mock_fields_get(const struct mock_fields *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->f[i].name, name))
			return f->f[i].value;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one form component (+ and %XX) into out. */
static int form_decode(struct bc_buf *out, const char *s, size_t len)
{
	bc_buf_reset(out);
	int err = bc_buf_grow(out, len);
	for (size_t i = 0; i < len && !err; i++) {
		char c = s[i];
		int hi, lo;
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < len &&
			   (hi = hexval(s[i + 1])) >= 0 &&
			   (lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		err = bc_buf_addc(out, c);
	}
	return err;
}

int mock_form_parse(struct mock_fields *f, const char *s, size_t len)
{
	struct bc_buf name = BC_BUF_INIT(len + 1);
	struct bc_buf value = BC_BUF_INIT(len + 1);
	int err = 0;
	size_t i = 0;
	while (i < len && !err) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && s[eq] != '=')
			eq++;
		err = form_decode(&name, s + i, eq - i);
		if (!err)
			err = form_decode(&value, s + (eq < end ? eq + 1 : end),
					  eq < end ? end - eq - 1 : 0);
		if (!err && name.len && !mock_fields_get(f, bc_buf_str(&name)))
			err = mock_fields_add(f, bc_buf_str(&name),
					      bc_buf_str(&value), value.len, 0);
		i = end + 1;
	}
	bc_buf_release(&name);
	bc_buf_release(&value);
	return err ? -1 : 0;
}
