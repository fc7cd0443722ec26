/* {{column}} templates (see template.h): parsed once into literal and
 * placeholder parts, filled per row through an escaping callback so the
 * caller decides what a value may become. Owns its parts; libc only
 * (the escaping libraries live in the callers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "profile/template.h"

static const struct {
	const char *prefix;
	enum bc_tpl_kind kind;
} kinds[] = {
	{ "env:", BC_TPL_ENV },   { "num:", BC_TPL_NUM },
	{ "bool:", BC_TPL_BOOL }, { "json:", BC_TPL_JSON },
	{ "list:", BC_TPL_LIST },
};

static int add_part(struct bc_tpl *t, const struct bc_tpl_part *p)
{
	if (t->nparts == BC_TPL_PARTS_MAX)
		return BC_ETOOBIG;
	if (t->nparts == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct bc_tpl_part *n = realloc(t->parts, cap * sizeof *n);
		if (!n)
			return BC_ENOMEM;
		t->parts = n;
		t->cap = cap;
	}
	t->parts[t->nparts++] = *p;
	return BC_OK;
}

static int placeholder(struct bc_tpl *t, const char *in, size_t len,
		       size_t offset, const char *what, char *err,
		       size_t errlen)
{
	while (len && *in == ' ') {
		in++;
		len--;
	}
	while (len && in[len - 1] == ' ')
		len--;
	struct bc_tpl_part p = { .kind = BC_TPL_PLAIN, .col = -1,
				 .offset = offset };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		size_t n = strlen(kinds[k].prefix);
		if (len >= n && memcmp(in, kinds[k].prefix, n) == 0) {
			p.kind = kinds[k].kind;
			in += n;
			len -= n;
			break;
		}
	}
	while (len && *in == ' ') {
		in++;
		len--;
	}
	if (len == 0) {
		snprintf(err, errlen, "%s: empty placeholder {{}} at byte %zu",
			 what, offset + 1);
		return BC_EUSAGE;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f || c == '{' || c == '}') {
			snprintf(err, errlen,
				 "%s: placeholder at byte %zu: a column name "
				 "cannot hold '{', '}' or control characters",
				 what, offset + 1);
			return BC_EUSAGE;
		}
	}
	/* Only now may the name be quoted: it holds no line break. */
	for (size_t i = 0; i < len; i++) {
		if (p.kind == BC_TPL_PLAIN && in[i] == ':') {
			snprintf(err, errlen,
				 "%s: placeholder {{%.*s}} at byte %zu: unknown "
				 "kind (env:, num:, bool:, json:, list:)",
				 what, (int)(len > 64 ? 64 : len), in,
				 offset + 1);
			return BC_EUSAGE;
		}
	}
	p.name = malloc(len + 1);
	if (!p.name)
		return BC_ENOMEM;
	memcpy(p.name, in, len);
	p.name[len] = '\0';
	int result = add_part(t, &p);
	if (result == BC_ETOOBIG)
		snprintf(err, errlen, "%s: more than %d parts", what,
			 BC_TPL_PARTS_MAX);
	if (result)
		free(p.name);
	return result == BC_ETOOBIG ? BC_EUSAGE : result;
}

int bc_tpl_parse(struct bc_tpl *t, const char *text, size_t len,
		 const char *what, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->src = malloc(len + 1);
	if (!t->src)
		return BC_ENOMEM;
	memcpy(t->src, text, len);
	t->src[len] = '\0';
	t->src_len = len;
	const char *s = t->src;
	size_t i = 0, lit = 0;
	int result = BC_OK;
	while (i < len && !result) {
		if (!(s[i] == '{' && i + 1 < len && s[i + 1] == '{')) {
			i++;
			continue;
		}
		const char *close = NULL;
		for (size_t k = i + 2; k + 1 < len; k++)
			if (s[k] == '}' && s[k + 1] == '}') {
				close = s + k;
				break;
			}
		if (!close) {
			snprintf(err, errlen, "%s: unclosed {{ at byte %zu",
				 what, i + 1);
			result = BC_EUSAGE;
			break;
		}
		if (i > lit) {
			struct bc_tpl_part p = { .kind = BC_TPL_TEXT,
						 .text = s + lit,
						 .len = i - lit,
						 .col = -1,
						 .offset = lit };
			result = add_part(t, &p);
			if (result == BC_ETOOBIG) {
				snprintf(err, errlen, "%s: more than %d parts",
					 what, BC_TPL_PARTS_MAX);
				result = BC_EUSAGE;
			}
			if (result)
				break;
		}
		result = placeholder(t, s + i + 2, (size_t)(close - s) - i - 2,
				     i, what, err, errlen);
		i = (size_t)(close - s) + 2;
		lit = i;
	}
	if (!result && len > lit) {
		struct bc_tpl_part p = { .kind = BC_TPL_TEXT,
					 .text = s + lit,
					 .len = len - lit,
					 .col = -1,
					 .offset = lit };
		result = add_part(t, &p);
		if (result == BC_ETOOBIG) {
			snprintf(err, errlen, "%s: more than %d parts", what,
				 BC_TPL_PARTS_MAX);
			result = BC_EUSAGE;
		}
	}
	if (result)
		bc_tpl_release(t);
	return result;
}

void bc_tpl_release(struct bc_tpl *t)
{
	for (size_t i = 0; i < t->nparts; i++)
		free(t->parts[i].name);
	free(t->parts);
	free(t->src);
	memset(t, 0, sizeof *t);
}

void bc_tpl_mark_json(struct bc_tpl *t)
{
	int in_string = 0, escaped = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		struct bc_tpl_part *p = &t->parts[i];
		if (p->kind != BC_TPL_TEXT) {
			p->in_string = in_string;
			escaped = 0;
			continue;
		}
		for (size_t k = 0; k < p->len; k++) {
			char c = p->text[k];
			if (escaped)
				escaped = 0;
			else if (in_string && c == '\\')
				escaped = 1;
			else if (c == '"')
				in_string = !in_string;
		}
	}
}

void bc_tpl_mark_query(struct bc_tpl *t)
{
	int in_query = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		struct bc_tpl_part *p = &t->parts[i];
		if (p->kind == BC_TPL_TEXT)
			in_query |= memchr(p->text, '?', p->len) != NULL;
		else
			p->in_query = in_query;
	}
}

void bc_tpl_resolve(struct bc_tpl *t, const struct bc_columns *cols)
{
	if (!cols || (t->cols_seen == cols->count && t->cols_seen))
		return;
	for (size_t i = 0; i < t->nparts; i++) {
		struct bc_tpl_part *p = &t->parts[i];
		if (p->kind != BC_TPL_TEXT && p->kind != BC_TPL_ENV)
			p->col = bc_columns_find(cols, p->name);
	}
	t->cols_seen = cols->count;
}

const char *bc_tpl_missing(struct bc_tpl *t, const struct bc_columns *cols)
{
	t->cols_seen = 0;
	bc_tpl_resolve(t, cols);
	for (size_t i = 0; i < t->nparts; i++) {
		const struct bc_tpl_part *p = &t->parts[i];
		if (p->kind != BC_TPL_TEXT && p->kind != BC_TPL_ENV && p->col < 0)
			return p->name;
	}
	return NULL;
}

size_t bc_tpl_count(const struct bc_tpl *t, enum bc_tpl_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nparts; i++)
		n += t->parts[i].kind == kind;
	return n;
}

int bc_tpl_fill(struct bc_tpl *t, const struct bc_columns *cols,
		const struct bc_row *row, const char *what,
		bc_tpl_escape_fn escape, void *arg, struct bc_buf *out,
		char *err, size_t errlen)
{
	bc_tpl_resolve(t, cols);
	int result = BC_OK;
	for (size_t i = 0; i < t->nparts && !result; i++) {
		const struct bc_tpl_part *p = &t->parts[i];
		if (p->kind == BC_TPL_TEXT) {
			result = bc_buf_add(out, p->text, p->len);
			continue;
		}
		if (p->kind == BC_TPL_ENV) {
			/* Callers fill env parts themselves (headers only). */
			result = BC_EINVAL;
			snprintf(err, errlen, "%s: {{env:%s}} cannot be filled "
					      "per row",
				 what, p->name);
			continue;
		}
		enum bc_value_kind vk = bc_row_kind(row, p->col);
		if (vk == BC_VAL_ABSENT || vk == BC_VAL_NULL) {
			result = bc_reject(err, errlen, row, p->name,
					   "missing, but %s uses {{%s}}", what,
					   p->name);
			continue;
		}
		size_t len = 0;
		const char *v = bc_row_get(row, p->col, &len);
		if (p->kind != BC_TPL_LIST) {
			if (vk == BC_VAL_ARRAY) {
				result = bc_reject(err, errlen, row, p->name,
						   "a list is not accepted "
						   "here");
				continue;
			}
			result = bc_check_text(row, p->name, v, len, err,
					       errlen);
			if (result)
				continue;
		}
		result = escape(arg, out, p, row, v, len, err, errlen);
	}
	return result;
}
