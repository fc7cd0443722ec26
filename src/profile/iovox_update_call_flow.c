/* iovox.updateCallFlow: PUT /CallFlow, XML body
 * <request><callFlow name newName notes>RULES</callFlow></request>, the
 * rules filled from a --template file with XML-escaped {{column}} values
 * and the whole body checked to be well formed before it is sent.
 * Idempotent: the same update twice leaves the same call flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "profile/iovox.h"
#include "profile/template.h"
#include "profile/values.h"
#include "profile/xmlsafe.h"

enum { COL_NAME, COL_NEW_NAME, COL_NOTES, COL_COUNT };

#define TEMPLATE_MAX (256u * 1024u)
#define OPTION "--template"

static const struct bc_column_doc columns[] = {
	{ "name", "string", 1,
	  "the existing Call Flow to update (callFlow name attribute)" },
	{ "new_name", "string", 0,
	  "rename it (newName attribute); empty = keep the name" },
	{ "notes", "string", 0, "notes attribute; empty = not sent" },
	{ "(template)", "string", 0,
	  "every {{column}} of the --template file: its value, XML-escaped" },
	{ NULL, NULL, 0, NULL },
};

static const char *const key_columns[] = { "name", "new_name", NULL };

struct flow {
	struct bc_xml_out xml;
	struct bc_tpl tpl;
	struct bc_buf rules;
	const char *path;
};

static void release(struct bc_profile_ctx *ctx)
{
	struct flow *f = ctx->priv;
	if (f) {
		bc_xml_out_release(&f->xml);
		bc_tpl_release(&f->tpl);
		bc_buf_release(&f->rules);
		free(f);
	}
	ctx->priv = NULL;
}

/* A number as XML attribute text: optional '-', digits, optional
 * fraction. */
static int is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int escape_xml(void *arg, struct bc_buf *out,
		      const struct bc_tpl_part *part, const struct bc_row *row,
		      const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	(void)len;
	if (part->kind == BC_TPL_NUM && !is_number(val))
		return bc_reject(err, errlen, row, part->name,
				 "'%.40s' is not a number", val);
	return bc_xml_escape(out, val);
}

/* The template's own text: a leading BOM and XML declaration dropped (the
 * rules go inside the request document), DOCTYPE and ENTITY refused. */
static int load_template(struct flow *f, const char *path, char *err,
			 size_t errlen)
{
	char *text;
	size_t len;
	int result = bc_file_read(OPTION, path, TEMPLATE_MAX, &text, &len, err,
				  errlen);
	if (result)
		return result;
	const char *s = text;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	for (int pass = 0; pass < 2; pass++) {
		while (len && (*s == ' ' || *s == '\n' || *s == '\r' ||
			       *s == '\t')) {
			s++;
			len--;
		}
		const char *end = len >= 5 && memcmp(s, "<?xml", 5) == 0
					  ? strstr(s, "?>")
					  : NULL;
		if (!end)
			break;
		len -= (size_t)(end + 2 - s);
		s = end + 2;
	}
	if (bc_contains_nocase(s, len, "<!DOCTYPE") ||
	    bc_contains_nocase(s, len, "<!ENTITY")) {
		snprintf(err, errlen,
			 OPTION " '%s': a DOCTYPE or ENTITY declaration is not "
				"allowed in call-flow rules",
			 path);
		free(text);
		return BC_EUSAGE;
	}
	char what[300];
	snprintf(what, sizeof what, OPTION " '%.200s'", path);
	result = bc_tpl_parse(&f->tpl, s, len, what, err, errlen);
	free(text);
	if (result)
		return result;
	for (size_t i = 0; i < f->tpl.nparts; i++) {
		const struct bc_tpl_part *p = &f->tpl.parts[i];
		if (p->kind != BC_TPL_TEXT && p->kind != BC_TPL_PLAIN &&
		    p->kind != BC_TPL_NUM) {
			snprintf(err, errlen,
				 "%s: placeholder {{...%s}}: only {{column}} "
				 "and {{num:column}} are allowed in XML rules",
				 what, p->name);
			return BC_EUSAGE;
		}
	}
	return BC_OK;
}

/* The template must be well formed with any value: fill each placeholder
 * with "1" (a number, so {{num:x}} fits too) and parse it inside a
 * callFlow element. It must also hold at least one rule. */
static int check_template(struct flow *f, char *err, size_t errlen)
{
	struct bc_buf doc = BC_BUF_INIT(TEMPLATE_MAX * 2);
	int result = bc_buf_adds(&doc, "<callFlow>");
	for (size_t i = 0; !result && i < f->tpl.nparts; i++) {
		const struct bc_tpl_part *p = &f->tpl.parts[i];
		result = p->kind == BC_TPL_TEXT ? bc_buf_add(&doc, p->text, p->len)
						: bc_buf_adds(&doc, "1");
	}
	if (!result)
		result = bc_buf_adds(&doc, "</callFlow>");
	if (result) {
		bc_buf_release(&doc);
		return result == BC_ETOOBIG ? BC_EUSAGE : result;
	}
	char perr[256];
	xmlDocPtr d = bc_xml_parse_safe(doc.ptr, doc.len, perr, sizeof perr);
	bc_buf_release(&doc);
	if (!d) {
		snprintf(err, errlen, OPTION " '%s': not well-formed XML rules: %s",
			 f->path, perr);
		return BC_EUSAGE;
	}
	int rules = 0;
	for (xmlNodePtr n = xmlDocGetRootElement(d)->children; n; n = n->next)
		rules += n->type == XML_ELEMENT_NODE;
	xmlFreeDoc(d);
	if (!rules) {
		snprintf(err, errlen,
			 OPTION " '%s': no rules (the template holds the "
				"elements inside <callFlow>, e.g. <call .../>)",
			 f->path);
		return BC_EUSAGE;
	}
	return BC_OK;
}

static int bind(struct bc_profile_ctx *ctx,
		const struct bc_profile_config *cfg, char *err, size_t errlen)
{
	if (!cfg || !cfg->template_path) {
		snprintf(err, errlen, "iovox.updateCallFlow needs " OPTION
				      " FILE (the call-flow rules, XML with "
				      "{{column}} placeholders)");
		return BC_EUSAGE;
	}
	struct flow *f = calloc(1, sizeof *f);
	if (!f)
		return BC_ENOMEM;
	ctx->priv = f;
	f->path = cfg->template_path;
	bc_buf_init(&f->rules, BC_BODY_MAX);
	int result = load_template(f, cfg->template_path, err, errlen);
	if (!result)
		result = check_template(f, err, errlen);
	if (!result)
		result = bc_iovox_bind(ctx, cfg, err, errlen);
	return result;
}

static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	struct flow *f = ctx->priv;
	/* NDJSON learns its keys row by row; only a CSV header is final. */
	if (!ctx->cols->count)
		return BC_OK;
	if (bc_profile_col(ctx, COL_NAME) < 0) {
		snprintf(err, errlen, "header: required column 'name' is missing");
		return BC_EHEADER;
	}
	const char *missing = bc_tpl_missing(&f->tpl, ctx->cols);
	if (missing) {
		snprintf(err, errlen,
			 "header: " OPTION " '%s' uses {{%s}}, but the input "
			 "has no column '%s'",
			 f->path, missing, missing);
		return BC_EHEADER;
	}
	return BC_OK;
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	struct flow *f = ctx->priv;
	const char *v[COL_COUNT];
	size_t len;
	for (size_t k = 0; k < COL_COUNT; k++) {
		int result = bc_value_text(row, bc_profile_col(ctx, k),
					   columns[k].name, &v[k], &len, err,
					   errlen);
		if (result)
			return result;
	}
	if (!v[COL_NAME])
		return bc_reject(err, errlen, row, "name",
				 "required value is missing");

	bc_buf_reset(&f->rules);
	int result = bc_tpl_fill(&f->tpl, ctx->cols, row, "the template",
				 escape_xml, NULL, &f->rules, err, errlen);
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the filled template is larger than %u bytes",
				 BC_BODY_MAX);
	if (result)
		return result;

	struct bc_xml_out *x = &f->xml;
	result = bc_xml_out_start(x);
	if (result)
		return result;
	int ok = xmlTextWriterStartElement(x->w, BAD_CAST "request") >= 0;
	ok = ok && xmlTextWriterStartElement(x->w, BAD_CAST "callFlow") >= 0;
	ok = ok && xmlTextWriterWriteAttribute(x->w, BAD_CAST "name",
					       BAD_CAST v[COL_NAME]) >= 0;
	if (ok && v[COL_NEW_NAME])
		ok = xmlTextWriterWriteAttribute(x->w, BAD_CAST "newName",
						 BAD_CAST v[COL_NEW_NAME]) >= 0;
	if (ok && v[COL_NOTES])
		ok = xmlTextWriterWriteAttribute(x->w, BAD_CAST "notes",
						 BAD_CAST v[COL_NOTES]) >= 0;
	/* The rules are already XML: the template's own markup with every
	 * value escaped. */
	ok = ok && xmlTextWriterWriteRawLen(x->w, BAD_CAST bc_buf_str(&f->rules),
					    (int)f->rules.len) >= 0;
	ok = ok && xmlTextWriterEndElement(x->w) >= 0;
	ok = ok && xmlTextWriterEndElement(x->w) >= 0;
	result = bc_xml_out_finish(x, &req->body);
	if (!ok && !result)
		result = BC_ENOMEM;
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the request is larger than %u bytes",
				 BC_BODY_MAX);
	if (result)
		return result;

	/* Nothing leaves unless the whole document parses. */
	char perr[256];
	xmlDocPtr d = bc_xml_parse_safe(req->body.ptr, req->body.len, perr,
					sizeof perr);
	if (!d)
		return bc_reject(err, errlen, row, NULL,
				 "the template filled with this row is not "
				 "well-formed XML (%s)",
				 perr);
	xmlFreeDoc(d);

	req->method = "PUT";
	req->content_type = "application/xml";
	return bc_request_set_url(req, ctx, "/CallFlow?v=3&method=updateCallFlow");
}

const struct bc_profile bc_profile_iovox_update_call_flow = {
	.name = "iovox.updateCallFlow",
	.summary = "IOVOX v3 updateCallFlow: replace a Call Flow's rules "
		   "(from --template), rename it, set its notes",
	.method = "PUT",
	.default_base_url = BC_IOVOX_BASE_URL,
	.path = "/CallFlow?v=3&method=updateCallFlow",
	.default_key = "*",
	.default_rate = 10,
	.idempotent = 1,
	.api_takes_delay = 0,
	.columns = columns,
	.key_columns = key_columns,
	.notes =
		"Needs --template FILE: the rules that go inside <callFlow> "
		"(e.g. <call id=\"call_1\" label=\"Call\" "
		"destinationPhoneNumber=\"{{phone}}\"/>), XML with {{column}} "
		"placeholders. Each placeholder is replaced by the row's "
		"value, XML-escaped (& < > \" ' become entities), so a value "
		"can never add markup; {{num:column}} also requires a number. "
		"A leading XML declaration is dropped; DOCTYPE and ENTITY "
		"declarations are refused.\n"
		"A CSV without a column the template uses is refused before "
		"any row; an NDJSON row without it is rejected. An empty value "
		"is filled in as empty. The filled request must be well-formed "
		"XML, else the row is rejected and nothing is sent.\n"
		"Headers: username and secureKey from IOVOX_USERNAME and "
		"IOVOX_SECURE_KEY.\n"
		"Success: 2xx (204). Errors are the <error> messages, e.g. "
		"\"CallFlow Name does not exist\", \"New CallFlow Name already "
		"exists\". Throttle: 400 \"" BC_IOVOX_THROTTLE_MESSAGE "\" or "
		"429. 500 is retried; 401/403 stop the run (exit 5).\n"
		"Idempotent: an update whose answer was lost is sent again.",
	.bind = bind,
	.check_columns = check_columns,
	.build = build,
	.classify = bc_iovox_classify,
	.release = release,
};
