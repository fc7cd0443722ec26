/* Text templates with {{column}} placeholders, filled per row with each
 * value escaped for its target by a caller-supplied function (XML text,
 * JSON string, URL segment, form value). Used by iovox.updateCallFlow
 * (--template) and http (--profile-file). A template is parsed once, at
 * bind; filling it allocates nothing but the output buffer's growth.
 *
 * Syntax: "{{" always opens a placeholder and "}}" closes it; the inside,
 * trimmed of spaces, is a column name, optionally prefixed by a kind:
 *   {{name}}        the value, escaped for where it stands
 *   {{env:NAME}}    an environment variable (read at bind, by the caller)
 *   {{num:name}}    the value, which must be a number (JSON: unquoted)
 *   {{bool:name}}   true/false (JSON only)
 *   {{json:name}}   the value as a JSON string, quotes included (JSON only)
 *   {{list:name}}   a list (NDJSON array, JSON-array cell or a;b) as a JSON
 *                   array of strings (JSON only) */
#ifndef BC_PROFILE_TEMPLATE_H
#define BC_PROFILE_TEMPLATE_H

#include <stddef.h>

#include "bulkcall/profile.h"

enum bc_tpl_kind {
	BC_TPL_TEXT,  /* literal text */
	BC_TPL_PLAIN, /* {{name}} */
	BC_TPL_ENV,   /* {{env:NAME}} */
	BC_TPL_NUM,   /* {{num:name}} */
	BC_TPL_BOOL,  /* {{bool:name}} */
	BC_TPL_JSON,  /* {{json:name}} */
	BC_TPL_LIST   /* {{list:name}} */
};

struct bc_tpl_part {
	enum bc_tpl_kind kind;
	const char *text; /* literal text (not NUL-terminated) */
	size_t len;
	char *name;       /* placeholder: column or variable name */
	long col;         /* placeholder: column id, -1 = not in the input */
	int in_string;    /* JSON: inside a string literal of the template */
	int in_query;     /* URL: after the '?' */
	size_t offset;    /* byte offset of the part in the template */
};

struct bc_tpl {
	char *src; /* owned copy of the template text */
	size_t src_len;
	struct bc_tpl_part *parts;
	size_t nparts;
	size_t cap;
	size_t cols_seen; /* column count the ids were looked up for */
};

#define BC_TPL_PARTS_MAX 4096

/* Parses text. BC_EUSAGE with err = "WHAT: why" for a malformed
 * placeholder (unclosed, empty name, unknown kind). */
int bc_tpl_parse(struct bc_tpl *t, const char *text, size_t len,
		 const char *what, char *err, size_t errlen);
void bc_tpl_release(struct bc_tpl *t);
/* Marks each placeholder inside or outside a JSON string literal. */
void bc_tpl_mark_json(struct bc_tpl *t);
/* Marks each placeholder before or after the URL's '?'. */
void bc_tpl_mark_query(struct bc_tpl *t);
/* Looks the column ids up again when the column table has grown. */
void bc_tpl_resolve(struct bc_tpl *t, const struct bc_columns *cols);
/* The first column placeholder whose column is not in cols, or NULL. */
const char *bc_tpl_missing(struct bc_tpl *t, const struct bc_columns *cols);
/* Number of placeholders of the given kind. */
size_t bc_tpl_count(const struct bc_tpl *t, enum bc_tpl_kind kind);

/* Appends one placeholder's value to out, escaped for its target. val is
 * the row's value (NUL-terminated, control characters already refused
 * unless kind is a list), or for a list its JSON text or cell. BC_OK,
 * BC_EINVAL (row rejected, err set) or another BC_E*. */
typedef int (*bc_tpl_escape_fn)(void *arg, struct bc_buf *out,
				const struct bc_tpl_part *part,
				const struct bc_row *row, const char *val,
				size_t len, char *err, size_t errlen);

/* Fills the template for row into out (appended). A column placeholder
 * whose value is absent or null rejects the row ("line N: column X:
 * missing, but WHAT uses {{X}}"); an empty value is filled in as empty.
 * {{env:...}} parts cannot be filled per row: callers that allow them
 * (headers) expand them at bind. */
int bc_tpl_fill(struct bc_tpl *t, const struct bc_columns *cols,
		const struct bc_row *row, const char *what,
		bc_tpl_escape_fn escape, void *arg, struct bc_buf *out,
		char *err, size_t errlen);

#endif
