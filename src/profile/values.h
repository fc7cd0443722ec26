/* What several profiles share beyond profile.h: a row's value as text or
 * as a list, form encoding, JSON bodies and messages, XML escaping with
 * libxml2, and reading a small file named by an option. Each function
 * that can reject a row writes "line N: column X: why" (bc_reject). */
#ifndef BC_PROFILE_VALUES_H
#define BC_PROFILE_VALUES_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "bulkcall/profile.h"

/* The value of column col as text, for a request. *out = NULL when the
 * value is absent, null or empty; a list, or a control character (CR,
 * LF, ...), rejects the row (BC_EINVAL). Numbers and booleans are their
 * text as written. */
int bc_value_text(const struct bc_row *row, long col, const char *name,
		  const char **out, size_t *len, char *err, size_t errlen);

/* A list of strings: an NDJSON array, or a cell (CSV or NDJSON string)
 * holding either a JSON array (`["a","b"]`) or items separated by ';'
 * (`a;b`, each item trimmed of spaces). Never split on '|'. Items must be
 * non-empty text; whole numbers are taken as their decimal text. *out is
 * a cJSON array of strings (caller deletes), NULL when the value is
 * absent or empty. */
int bc_value_list(const struct bc_row *row, long col, const char *name,
		  cJSON **out, char *err, size_t errlen);

/* Appends "key=value" to an application/x-www-form-urlencoded body,
 * preceded by '&' unless the body is empty. Key and value are
 * percent-encoded (every byte but A-Z a-z 0-9 - . _ ~), so no value can
 * start another parameter. */
int bc_form_add(struct bc_buf *body, const char *key, const char *val,
		size_t len);

/* Replaces body with obj printed as compact JSON. */
int bc_body_set_json(struct bc_buf *body, const cJSON *obj);

/* One line of text out of a JSON message: a string as is, an array's
 * items joined by "; ", an object's members as "key: value" joined by
 * "; ", numbers and booleans as their text. Line breaks become spaces;
 * truncated to outlen. */
void bc_json_text(const cJSON *v, char *out, size_t outlen);

/* Appends s XML-escaped by libxml2 (xmlEncodeSpecialChars: & < > " and
 * CR), plus ' as &apos; so a value is safe inside either kind of quote. */
int bc_xml_escape(struct bc_buf *out, const char *s);

/* Reads the whole file at path (at most max bytes) into a NUL-terminated
 * malloc'd buffer. BC_EUSAGE with err = "WHAT: cannot read 'PATH': why"
 * on failure; a NUL byte inside is refused too. */
int bc_file_read(const char *what, const char *path, size_t max, char **out,
		 size_t *len, char *err, size_t errlen);

/* Whether s[0..len) contains needle, ignoring ASCII case. */
int bc_contains_nocase(const char *s, size_t len, const char *needle);

#endif
