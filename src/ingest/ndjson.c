/* NDJSON rows out of the read window: one JSON object per line, parsed by
 * cJSON; values are strings, numbers (their text as written), booleans,
 * null or arrays of scalars (their JSON text). Keys become columns in
 * first-seen order. A bad line becomes a row with row->error. The only
 * file in src/ingest that includes cJSON.h. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/jsontext.h"
#include "ingest/ingest_internal.h"

static void fail(struct bc_row *row, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets "line N: ..." as the row's error unless one is set already. */
static void fail(struct bc_row *row, const char *fmt, ...)
{
	if (row->error[0])
		return;
	int n = snprintf(row->error, BC_ROW_ERROR_MAX,
			 "line %llu: ", (unsigned long long)row->line);
	if (n <= 0 || (size_t)n >= BC_ROW_ERROR_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(row->error + n, BC_ROW_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259 number grammar: cJSON's strtod also takes "01" and "1.". */
static int json_number(const char *p, size_t n)
{
	size_t i = 0;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else {
		if (i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i]))
			i++;
	}
	return i == n;
}

/* First pass over the parsed object: every value must be a scalar or an
 * array of scalars, every key non-empty. Returns 0 or 1 (bad row). */
static int check_values(const cJSON *root, struct bc_row *row)
{
	for (const cJSON *it = root->child; it; it = it->next) {
		const char *key = it->string ? it->string : "";
		if (!key[0]) {
			fail(row, "empty key");
			return 1;
		}
		if (cJSON_IsObject(it)) {
			fail(row, "value of \"%.64s\" is a nested object", key);
			return 1;
		}
		if (!cJSON_IsArray(it))
			continue;
		for (const cJSON *el = it->child; el; el = el->next) {
			if (cJSON_IsObject(el) || cJSON_IsArray(el)) {
				fail(row,
				     "value of \"%.64s\" is an array "
				     "containing an %s",
				     key,
				     cJSON_IsObject(el) ? "object" : "array");
				return 1;
			}
		}
	}
	return 0;
}

/* Second pass: walks the object's text next to cJSON's members (same
 * order) to recover each value's text as written, and stores the values.
 * Returns 0, 1 for a bad row (row->error set), or BC_ENOMEM. */
static int set_values(struct bc_reader *r, const cJSON *root,
		      struct bc_row *row, const char *s, size_t len)
{
	const char *end = s + len;
	const char *p = s;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* cJSON skips a BOM too */
	p = bc_json_skip_ws(p, end);
	if (p >= end || *p != '{')
		goto bad;
	p++;
	for (const cJSON *it = root->child; it; it = it->next) {
		p = bc_json_skip_ws(p, end);
		if (p >= end || *p != '"' || !(p = bc_json_skip_string(p, end)))
			goto bad;
		p = bc_json_skip_ws(p, end);
		if (p >= end || *p != ':')
			goto bad;
		p = bc_json_skip_ws(p + 1, end);
		const char *v = p;
		p = bc_json_skip_value(p, end);
		if (!p)
			goto bad;
		size_t vlen = (size_t)(p - v);
		p = bc_json_skip_ws(p, end);
		if (p < end && *p == ',')
			p++;

		const char *key = it->string;
		enum bc_value_kind kind;
		const char *val = v;
		if (cJSON_IsString(it)) {
			kind = BC_VAL_STRING;
			val = it->valuestring;
			vlen = strlen(val);
		} else if (cJSON_IsNumber(it)) {
			kind = BC_VAL_NUMBER;
			if (!json_number(v, vlen)) {
				fail(row, "invalid JSON at column %zu",
				     (size_t)(v - s) + 1);
				return 1;
			}
		} else if (cJSON_IsBool(it)) {
			kind = BC_VAL_BOOL;
		} else if (cJSON_IsNull(it)) {
			kind = BC_VAL_NULL;
			vlen = 0; /* no value: "" for templates */
		} else if (cJSON_IsArray(it)) {
			kind = BC_VAL_ARRAY;
		} else {
			goto bad;
		}
		if (vlen > BC_FIELD_MAX) {
			fail(row, "value of \"%.64s\" exceeds %u bytes", key,
			     BC_FIELD_MAX);
			return 1;
		}

		size_t id;
		int result = bc__colset_add(&r->cols, key, strlen(key), &id);
		if (result == BC_EEXISTS &&
		    bc_row_kind(row, (long)id) != BC_VAL_ABSENT) {
			fail(row, "duplicate key \"%.64s\"", key);
			return 1;
		}
		if (result == BC_ETOOBIG) {
			fail(row, "more than %u columns", BC_COLUMNS_MAX);
			return 1;
		}
		if (result && result != BC_EEXISTS)
			return result;
		result = bc_row_set(row, id, kind, val, vlen);
		if (result)
			return result;
	}
	return 0;
bad:
	fail(row, "invalid JSON at column %zu", (size_t)(p ? p - s : 0) + 1);
	return 1;
}

/* Makes a row of one complete line (raw, its '\n' included). */
static int parse_line(struct bc_reader *r, struct bc_row *row)
{
	const char *s = row->raw.ptr;
	size_t len = row->raw.len - 1;
	int result = 0;

	size_t bad = bc__utf8_check(s, len);
	if (bad < len) {
		fail(row, "%s at column %zu",
		     s[bad] ? "invalid UTF-8" : "NUL byte", bad + 1);
		return 0;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	if (!root) {
		size_t col = end && end >= s ? (size_t)(end - s) + 1 : 1;
		fail(row, "invalid JSON at column %zu", col);
		return 0;
	}
	while (end < s + len && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (end < s + len) {
		fail(row, "invalid JSON at column %zu", (size_t)(end - s) + 1);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(row, "not a JSON object");
		goto out;
	}
	if (check_values(root, row) == 0) {
		result = set_values(r, root, row, s, len);
		if (result > 0)
			result = BC_OK; /* a bad row is still a row */
	}
out:
	cJSON_Delete(root);
	return result;
}

static int is_blank(const struct bc_buf *raw)
{
	for (size_t i = 0; i < raw->len; i++) {
		char c = raw->ptr[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return 0;
	}
	return 1;
}

int bc__ndjson_next(struct bc_reader *r, struct bc_row *row, char *err,
		    size_t errlen)
{
	struct bc__window *w = &r->win;
	struct bc_buf *raw = &row->raw;
	uint64_t line = r->line;
	int mid_line = 0, dropped = 0;

	bc_row_reset(row);
	for (;;) {
		const char *p;
		size_t n;
		int eol, synthetic = 0;

		int result = bc__window_peek(w, &p, &n, &eol, err, errlen);
		if (result < 0)
			return result;
		if (result == 0) {
			if (!mid_line)
				return 0;
			/* Last line without a newline: add one (row.h). */
			p = "\n";
			n = 1;
			eol = 1;
			synthetic = 1;
		}
		if (!dropped &&
		    raw->len + n > BC_RECORD_MAX + (size_t)synthetic) {
			/* Too long to keep: skip to the line's end. */
			bc_buf_reset(raw);
			dropped = 1;
		}
		if (!dropped && bc_buf_add(raw, p, n))
			goto nomem;
		if (!synthetic)
			bc__window_consume(w, n);
		mid_line = !eol;
		if (!eol)
			continue;
		r->line++;
		if (!dropped && is_blank(raw)) {
			bc_buf_reset(raw);
			line = r->line;
			continue;
		}
		row->line = line;
		row->index = ++r->index;
		if (dropped) {
			fail(row, "record exceeds %u bytes", BC_RECORD_MAX);
			return 1;
		}
		result = parse_line(r, row);
		if (result < 0)
			goto nomem;
		return 1;
	}
nomem:
	bc__set_err(err, errlen, "cannot read '%s': out of memory",
		    bc__source_name(r->src));
	return BC_ENOMEM;
}
