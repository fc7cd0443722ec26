/* iovox.initiateCall: one click-to-call per row. POST /Calling, XML body
 * <request><link_id/><call_variables>...</call_variables></request>.
 * Not idempotent: a repeat calls the person again. */
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "profile/iovox.h"

enum { COL_LINK_ID, COL_DESTINATION, COL_DELAY, COL_NOT_BEFORE, COL_COUNT };

/* One year of minutes: beyond that a delay is surely a data error. */
#define DELAY_MAX_MINUTES 525600
#define DESTINATION_MAX 64
#define LINK_ID_MAX 255

static const struct bc_column_doc columns[] = {
	{ "link_id", "string", 1,
	  "the Link ID whose Calling Rules the call follows (1-255 chars)" },
	{ "call_destination", "phone+keys", 0,
	  "number to dial: optional leading '+', digits, then ',' (2 s pause "
	  "from ANSWER), digits, '*', '#' as keypresses, e.g. "
	  "449789123123,,1,,2; empty = not sent" },
	{ "delay", "integer", 0,
	  "minutes to delay the call (0-525600), sent to the API" },
	{ "not_before", "RFC 3339", 0,
	  "held locally until this time; never sent" },
	{ NULL, NULL, 0, NULL },
};

static const char *const key_columns[] = { "link_id", "call_destination",
					   NULL };


static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	/* NDJSON learns its keys row by row; only a CSV header is final. */
	if (ctx->cols->count && bc_profile_col(ctx, COL_LINK_ID) < 0) {
		snprintf(err, errlen, "header: required column 'link_id' is missing");
		return BC_EHEADER;
	}
	return BC_OK;
}

static int check_destination(const struct bc_row *row, const char *v,
			     size_t len, char *err, size_t errlen)
{
	const char *name = "call_destination";
	if (len > DESTINATION_MAX)
		return bc_reject(err, errlen, row, name,
				 "longer than %d characters", DESTINATION_MAX);
	size_t i = v[0] == '+' ? 1 : 0;
	if (v[i] < '0' || v[i] > '9')
		return bc_reject(err, errlen, row, name,
				 "'%.64s' must start with a digit (after an "
				 "optional '+')",
				 v);
	for (; i < len; i++) {
		char c = v[i];
		if ((c >= '0' && c <= '9') || c == ',' || c == '*' || c == '#')
			continue;
		return bc_reject(err, errlen, row, name,
				 "character '%c' at position %zu not allowed "
				 "(digits, leading '+', ',' pause, '*', '#')",
				 (c >= 0x20 && c < 0x7f) ? c : '?', i + 1);
	}
	return BC_OK;
}

static int is_known(long col, const long *known)
{
	for (size_t k = 0; k < COL_COUNT; k++)
		if (known[k] == col)
			return 1;
	return 0;
}

/* A present, non-empty value usable as element text. */
static const char *text_value(const struct bc_row *row, long col,
			      const char *name, size_t *len, int *result,
			      char *err, size_t errlen)
{
	*result = BC_OK;
	enum bc_value_kind kind = bc_row_kind(row, col);
	if (kind == BC_VAL_ABSENT || kind == BC_VAL_NULL)
		return NULL;
	const char *v = bc_row_get(row, col, len);
	if (kind == BC_VAL_ARRAY) {
		*result = bc_reject(err, errlen, row, name,
				    "a list is not accepted here");
		return NULL;
	}
	if (*len == 0)
		return NULL;
	*result = bc_check_text(row, name, v, *len, err, errlen);
	return *result ? NULL : v;
}

static int add_value(struct bc_buf *body, const struct bc_row *row, long col,
		     const char *name)
{
	size_t len;
	const char *v = bc_row_get(row, col, &len);
	return bc_xml_add_element(body, name, v, len);
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	long known[COL_COUNT];
	for (size_t k = 0; k < COL_COUNT; k++)
		known[k] = bc_profile_col(ctx, k);
	size_t len;
	int result;

	const char *link = text_value(row, known[COL_LINK_ID], "link_id", &len,
				      &result, err, errlen);
	if (result)
		return result;
	if (!link)
		return bc_reject(err, errlen, row, "link_id",
				 "required value is missing");
	if (len > LINK_ID_MAX)
		return bc_reject(err, errlen, row, "link_id",
				 "longer than %d characters", LINK_ID_MAX);

	const char *dest = text_value(row, known[COL_DESTINATION],
				      "call_destination", &len, &result, err,
				      errlen);
	if (result)
		return result;
	if (dest && (result = check_destination(row, dest, len, err, errlen)))
		return result;

	const char *delay = text_value(row, known[COL_DELAY], "delay", &len,
				       &result, err, errlen);
	if (result)
		return result;
	if (delay && (result = bc_check_int(row, "delay", delay, 0,
					    DELAY_MAX_MINUTES, NULL, err,
					    errlen)))
		return result;

	/* Custom call variables: every other column, checked before the
	 * document is started so a rejected row costs no XML work. */
	const struct bc_columns *cols = ctx->cols;
	size_t ncustom = 0;
	for (size_t c = 0; c < cols->count && c < row->nvalues; c++) {
		if (is_known((long)c, known) || bc_column_ignored(cols->names[c]))
			continue;
		const char *v = text_value(row, (long)c, cols->names[c], &len,
					   &result, err, errlen);
		if (result)
			return result;
		if (!v)
			continue;
		if (!bc_xml_name_valid(cols->names[c]))
			return bc_reject(err, errlen, row, cols->names[c],
					 "not a valid XML element name, so it "
					 "cannot be a call variable");
		ncustom++;
	}

	/* The document is small and fixed in shape: built straight into the
	 * body, each value escaped by libxml2 (bc_xml_add_element). */
	struct bc_buf *body = &req->body;
	bc_buf_reset(body);
	result = bc_buf_adds(body, BC_XML_DECLARATION "<request>");
	if (!result)
		result = add_value(body, row, known[COL_LINK_ID], "link_id");
	if (!result && (dest || delay || ncustom)) {
		result = bc_buf_adds(body, "<call_variables>");
		if (!result && dest)
			result = add_value(body, row, known[COL_DESTINATION],
					   "call_destination");
		if (!result && delay)
			result = add_value(body, row, known[COL_DELAY], "delay");
		for (size_t c = 0; !result && ncustom && c < cols->count &&
				   c < row->nvalues;
		     c++) {
			if (is_known((long)c, known) ||
			    bc_column_ignored(cols->names[c]))
				continue;
			size_t vlen;
			const char *v = bc_row_get(row, (long)c, &vlen);
			enum bc_value_kind k = bc_row_kind(row, (long)c);
			if (v && vlen && k != BC_VAL_NULL)
				result = bc_xml_add_element(body, cols->names[c],
							    v, vlen);
		}
		if (!result)
			result = bc_buf_adds(body, "</call_variables>");
	}
	if (!result)
		result = bc_buf_adds(body, "</request>\n");
	if (result)
		return result;
	req->method = "POST";
	req->content_type = "application/xml";
	return bc_request_set_url(req, ctx, "/Calling?v=3&method=initiateCall");
}

const struct bc_profile bc_profile_iovox_initiate_call = {
	.name = "iovox.initiateCall",
	.summary = "IOVOX v3 initiateCall: start a call that follows a "
		   "link's Calling Rules",
	.method = "POST",
	.default_base_url = BC_IOVOX_BASE_URL,
	.path = "/Calling?v=3&method=initiateCall",
	.default_key = "*",
	.default_rate = 10,
	.idempotent = 0,
	.api_takes_delay = 1,
	.columns = columns,
	.key_columns = key_columns,
	.notes =
		"Every other column is a custom call variable filling a '?' "
		"field of the Call Flow; its name must be a valid XML element "
		"name, and an empty cell means the variable is not sent.\n"
		"Headers: username and secureKey from IOVOX_USERNAME and "
		"IOVOX_SECURE_KEY.\n"
		"Success: 201. Throttle: 400 \"" BC_IOVOX_THROTTLE_MESSAGE "\" "
		"(pauses the --key scope, default the whole account). "
		"500 is retried; 401 stops the run (exit 5).\n"
		"Not idempotent: a call whose answer was lost becomes "
		"'unknown' and is never repeated unless --retry-unknown.",
	.bind = bc_iovox_bind,
	.check_columns = check_columns,
	.build = build,
	.classify = bc_iovox_classify,
};
