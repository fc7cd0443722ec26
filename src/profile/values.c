/* Helpers several profiles share (see values.h): row values as text and
 * lists, form encoding over bc_url_escape_segment, JSON bodies through
 * cJSON, XML escaping through libxml2, small option files. No state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/entities.h>

#include "bulkcall/error.h"
#include "bulkcall/transport.h"
#include "profile/values.h"

int bc_value_text(const struct bc_row *row, long col, const char *name,
		  const char **out, size_t *len, char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	enum bc_value_kind kind = bc_row_kind(row, col);
	if (kind == BC_VAL_ABSENT || kind == BC_VAL_NULL)
		return BC_OK;
	size_t n = 0;
	const char *v = bc_row_get(row, col, &n);
	if (kind == BC_VAL_ARRAY)
		return bc_reject(err, errlen, row, name,
				 "a list is not accepted here");
	if (!v || n == 0)
		return BC_OK;
	int result = bc_check_text(row, name, v, n, err, errlen);
	if (result)
		return result;
	*out = v;
	*len = n;
	return BC_OK;
}

/* The first control character of s[0..len), or 0 when there is none. */
static unsigned char control_char(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return c ? c : 0x7f;
	}
	return 0;
}

static int list_item(cJSON *list, const struct bc_row *row, const char *name,
		     size_t index, const char *s, size_t len, char *err,
		     size_t errlen)
{
	if (len == 0)
		return bc_reject(err, errlen, row, name, "item %zu is empty",
				 index);
	unsigned char c = control_char(s, len);
	if (c)
		return bc_reject(err, errlen, row, name,
				 "item %zu holds a %s", index,
				 c == '\n'   ? "line feed (LF)"
				 : c == '\r' ? "carriage return (CR)"
					     : "control character");
	char *copy = malloc(len + 1);
	if (!copy)
		return BC_ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	cJSON *item = cJSON_CreateString(copy);
	free(copy);
	if (!item || !cJSON_AddItemToArray(list, item)) {
		cJSON_Delete(item);
		return BC_ENOMEM;
	}
	return BC_OK;
}

static int list_from_json(cJSON *list, const struct bc_row *row,
			  const char *name, const char *text, size_t len,
			  char *err, size_t errlen)
{
	cJSON *arr = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		return bc_reject(err, errlen, row, name,
				 "not a JSON array of strings (write "
				 "[\"a\",\"b\"] or a;b)");
	}
	int result = BC_OK;
	size_t index = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		index++;
		char num[32];
		const char *s;
		if (cJSON_IsString(e)) {
			s = e->valuestring;
		} else if (cJSON_IsNumber(e) && e->valuedouble >= -1e15 &&
			   e->valuedouble <= 1e15 &&
			   e->valuedouble == (double)(long long)e->valuedouble) {
			snprintf(num, sizeof num, "%lld",
				 (long long)e->valuedouble);
			s = num;
		} else {
			result = bc_reject(err, errlen, row, name,
					   "item %zu is not a string", index);
			break;
		}
		result = list_item(list, row, name, index, s, strlen(s), err,
				   errlen);
		if (result)
			break;
	}
	cJSON_Delete(arr);
	return result;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int bc_value_list(const struct bc_row *row, long col, const char *name,
		  cJSON **out, char *err, size_t errlen)
{
	*out = NULL;
	enum bc_value_kind kind = bc_row_kind(row, col);
	if (kind == BC_VAL_ABSENT || kind == BC_VAL_NULL)
		return BC_OK;
	size_t len = 0;
	const char *v = bc_row_get(row, col, &len);
	if (!v)
		return BC_OK;
	while (len && is_space(*v)) {
		v++;
		len--;
	}
	while (len && is_space(v[len - 1]))
		len--;
	if (len == 0)
		return BC_OK;
	cJSON *list = cJSON_CreateArray();
	if (!list)
		return BC_ENOMEM;
	int result = BC_OK;
	if (kind == BC_VAL_ARRAY || v[0] == '[') {
		result = list_from_json(list, row, name, v, len, err, errlen);
	} else {
		/* a;b;c — '|' belongs to the values (extension|0504). */
		size_t index = 0, start = 0;
		for (size_t i = 0; i <= len && !result; i++) {
			if (i < len && v[i] != ';')
				continue;
			size_t a = start, b = i;
			while (a < b && is_space(v[a]))
				a++;
			while (b > a && is_space(v[b - 1]))
				b--;
			result = list_item(list, row, name, ++index, v + a,
					   b - a, err, errlen);
			start = i + 1;
		}
	}
	if (!result && cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(list);
		return BC_OK;
	}
	if (result) {
		cJSON_Delete(list);
		return result;
	}
	*out = list;
	return BC_OK;
}

int bc_form_add(struct bc_buf *body, const char *key, const char *val,
		size_t len)
{
	size_t mark = body->len;
	int result = body->len ? bc_buf_addc(body, '&') : BC_OK;
	if (!result)
		result = bc_url_escape_segment(body, key, strlen(key));
	if (!result)
		result = bc_buf_addc(body, '=');
	if (!result)
		result = bc_url_escape_segment(body, val, len);
	if (result) {
		/* Leave no half parameter behind. */
		body->len = mark;
		if (body->ptr)
			body->ptr[mark] = '\0';
	}
	return result;
}

int bc_body_set_json(struct bc_buf *body, const cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	if (!text)
		return BC_ENOMEM;
	bc_buf_reset(body);
	int result = bc_buf_adds(body, text);
	cJSON_free(text);
	return result;
}

struct text_out {
	char *p;
	size_t cap;
	size_t used;
};

static void out_add(struct text_out *o, const char *s)
{
	for (; *s && o->used + 1 < o->cap; s++) {
		unsigned char c = (unsigned char)*s;
		o->p[o->used++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	o->p[o->used] = '\0';
}

/* Deep nesting is not worth following: messages are shallow. */
#define JSON_TEXT_DEPTH 8

static void json_text(struct text_out *o, const cJSON *v, int depth)
{
	if (!v || depth > JSON_TEXT_DEPTH)
		return;
	if (cJSON_IsString(v)) {
		out_add(o, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		out_add(o, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		char num[64];
		snprintf(num, sizeof num, "%.15g", v->valuedouble);
		out_add(o, num);
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		int first = 1;
		for (const cJSON *e = v->child; e; e = e->next) {
			if (!first)
				out_add(o, "; ");
			first = 0;
			if (cJSON_IsObject(v) && e->string) {
				out_add(o, e->string);
				out_add(o, ": ");
			}
			json_text(o, e, depth + 1);
		}
	}
}

void bc_json_text(const cJSON *v, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	struct text_out o = { out, outlen, 0 };
	out[0] = '\0';
	json_text(&o, v, 0);
}

int bc_xml_escape(struct bc_buf *out, const char *s)
{
	xmlChar *esc = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
	if (!esc)
		return BC_ENOMEM;
	/* libxml2 leaves ' alone (it writes attributes in double quotes); a
	 * template may quote with either. */
	int result = BC_OK;
	const char *p = (const char *)esc;
	while (*p && !result) {
		const char *q = strchr(p, '\'');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		result = bc_buf_add(out, p, n);
		if (!result && q)
			result = bc_buf_adds(out, "&apos;");
		p += n + (q ? 1 : 0);
	}
	xmlFree(esc);
	return result;
}

int bc_file_read(const char *what, const char *path, size_t max, char **out,
		 size_t *len, char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read '%s': %s", what, path,
			 strerror(errno));
		return BC_EUSAGE;
	}
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return BC_ENOMEM;
	}
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	int result = BC_OK;
	if (bad) {
		snprintf(err, errlen, "%s: cannot read '%s'", what, path);
		result = BC_EUSAGE;
	} else if (n > max) {
		snprintf(err, errlen, "%s: '%s' is larger than %zu bytes", what,
			 path, max);
		result = BC_EUSAGE;
	} else if (memchr(buf, '\0', n)) {
		snprintf(err, errlen, "%s: '%s' holds a NUL byte (not a text "
				      "file?)",
			 what, path);
		result = BC_EUSAGE;
	}
	if (result) {
		free(buf);
		return result;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return BC_OK;
}

int bc_contains_nocase(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n && i + n <= len; i++) {
		size_t k = 0;
		while (k < n) {
			char a = s[i + k], b = needle[k];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
			k++;
		}
		if (k == n)
			return 1;
	}
	return 0;
}
