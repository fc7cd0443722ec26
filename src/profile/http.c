/* http: any other API, described by a JSON --profile-file read at bind:
 * method, URL and body templated from columns with per-target escaping
 * (URL percent-encoding, cJSON strings, libxml2 entities, form encoding),
 * per-run headers with {{env:NAME}} secrets, and the status rules that
 * classify the answer. Owns the parsed file; the bound context points at
 * a copy of this profile carrying the file's idempotency, rate, key and
 * key columns. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "bulkcall/error.h"
#include "bulkcall/transport.h"
#include "profile/providers.h"
#include "profile/template.h"
#include "profile/values.h"
#include "profile/xmlsafe.h"

#define PROFILE_FILE_MAX (1024u * 1024u)
#define STATUS_LIST_MAX 64
#define NAMES_MAX 64
#define OPTION "--profile-file"

enum body_kind { BODY_NONE, BODY_JSON, BODY_XML, BODY_FORM, BODY_RAW };

struct status_list {
	int given; /* 0: the default applies */
	size_t n;
	int codes[STATUS_LIST_MAX];
};

struct http {
	struct bc_profile prof; /* this profile, specialised by the file */
	char *path;             /* the profile file, for messages */
	char *summary;
	char *method;
	struct bc_tpl url;
	enum body_kind kind;
	struct bc_tpl body;
	char *content_type;
	char *header_names[BC_PROFILE_HEADERS_MAX];
	struct status_list success, throttle, retryable, fatal;
	char *throttle_pattern;
	char *error_field;
	char *required[NAMES_MAX];
	size_t nrequired;
	long required_cols[NAMES_MAX];
	size_t cols_seen;
	char *key_columns[NAMES_MAX + 1];
	char *default_key;
};

static const struct bc_column_doc columns[] = {
	{ "(any)", "string", 0,
	  "every {{column}} of the profile file's url and body; those listed "
	  "in \"required\" must be non-empty" },
	{ NULL, NULL, 0, NULL },
};

/* ---- Reading the profile file. Every message names the field. */

static int fail(char *err, size_t errlen, const struct http *h,
		const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(char *err, size_t errlen, const struct http *h,
		const char *field, const char *fmt, ...)
{
	int n = snprintf(err, errlen, OPTION " '%s': %s%s", h->path,
			 field ? field : "", field ? ": " : "");
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return BC_EUSAGE;
}

static char *dup_string(const cJSON *v)
{
	return strdup(v->valuestring);
}

static int statuses(struct http *h, const cJSON *v, const char *field,
		    struct status_list *out, char *err, size_t errlen)
{
	if (!cJSON_IsArray(v))
		return fail(err, errlen, h, field,
			    "must be a list of HTTP status codes, e.g. [429]");
	out->given = 1;
	out->n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 100 ||
		    e->valuedouble > 599 ||
		    e->valuedouble != (double)(int)e->valuedouble)
			return fail(err, errlen, h, field,
				    "%s is not an HTTP status code (100-599)",
				    cJSON_IsNumber(e) ? "a value" : "an item");
		if (out->n == STATUS_LIST_MAX)
			return fail(err, errlen, h, field,
				    "more than %d codes", STATUS_LIST_MAX);
		out->codes[out->n++] = (int)e->valuedouble;
	}
	return BC_OK;
}

static int names(struct http *h, const cJSON *v, const char *field,
		 char **out, size_t *n, char *err, size_t errlen)
{
	if (!cJSON_IsArray(v))
		return fail(err, errlen, h, field,
			    "must be a list of column names, e.g. [\"id\"]");
	*n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) || !e->valuestring[0])
			return fail(err, errlen, h, field,
				    "every item must be a non-empty column "
				    "name");
		if (*n == NAMES_MAX)
			return fail(err, errlen, h, field, "more than %d names",
				    NAMES_MAX);
		out[*n] = dup_string(e);
		if (!out[*n])
			return BC_ENOMEM;
		(*n)++;
	}
	return BC_OK;
}

static int is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int secret_name(const char *name)
{
	static const char *const words[] = { "auth", "key",	 "token",
					     "secret", "password", "cookie",
					     NULL };
	for (size_t i = 0; words[i]; i++)
		if (bc_contains_nocase(name, strlen(name), words[i]))
			return 1;
	return 0;
}

static int header(struct bc_profile_ctx *ctx, struct http *h,
		  const struct bc_profile_config *cfg, const cJSON *v,
		  char *err, size_t errlen)
{
	const char *name = v->string;
	char field[160];
	snprintf(field, sizeof field, "headers.%.100s", name);
	if (!*name || strlen(name) > 100)
		return fail(err, errlen, h, field, "not a header name");
	for (const char *p = name; *p; p++)
		if (!is_token_char(*p))
			return fail(err, errlen, h, field,
				    "not a header name (letters, digits, "
				    "'-' ...)");
	if (strcasecmp(name, "Content-Type") == 0 ||
	    strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Host") == 0)
		return fail(err, errlen, h, field,
			    "set by bulkcall (use body.content_type for the "
			    "content type)");
	if (!cJSON_IsString(v))
		return fail(err, errlen, h, field, "must be a string");
	if (ctx->nheaders == BC_PROFILE_HEADERS_MAX)
		return fail(err, errlen, h, "headers", "more than %d headers",
			    BC_PROFILE_HEADERS_MAX);
	struct bc_tpl t;
	char what[300];
	snprintf(what, sizeof what, OPTION " '%.120s': %s", h->path, field);
	int result = bc_tpl_parse(&t, v->valuestring, strlen(v->valuestring),
				  what, err, errlen);
	if (result)
		return result;
	struct bc_buf value = BC_BUF_INIT(8192);
	int uses_env = 0, unset = 0;
	for (size_t i = 0; i < t.nparts && !result; i++) {
		const struct bc_tpl_part *p = &t.parts[i];
		if (p->kind == BC_TPL_TEXT) {
			result = bc_buf_add(&value, p->text, p->len);
			continue;
		}
		if (p->kind != BC_TPL_ENV) {
			result = fail(err, errlen, h, field,
				      "only {{env:NAME}} placeholders are "
				      "allowed in headers (they are the same "
				      "for every row)");
			break;
		}
		uses_env = 1;
		const char *e = bc_profile_env(cfg, p->name);
		if (!e && cfg && cfg->need_credentials) {
			result = fail(err, errlen, h, field,
				      "environment variable %s is not set",
				      p->name);
			break;
		}
		if (!e)
			unset = 1;
		else
			result = bc_buf_adds(&value, e);
	}
	bc_tpl_release(&t);
	if (result == BC_ETOOBIG)
		result = fail(err, errlen, h, field, "value too long");
	if (!result && has_control(bc_buf_str(&value)))
		result = fail(err, errlen, h, field,
			      "the value holds a line break or control "
			      "character");
	size_t slot = ctx->nheaders;
	if (!result) {
		h->header_names[slot] = strdup(name);
		if (!h->header_names[slot])
			result = BC_ENOMEM;
	}
	/* A variable not set (check, render): shown as "(not set)". */
	if (!result)
		result = bc_profile_add_header(ctx, h->header_names[slot],
					       unset ? "" : bc_buf_str(&value),
					       uses_env || secret_name(name));
	if (value.ptr)
		memset(value.ptr, 0, value.len);
	bc_buf_release(&value);
	return result;
}

/* Placeholder kinds each target takes. */
static int check_kinds(struct http *h, const struct bc_tpl *t,
		       const char *field, enum body_kind kind, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < t->nparts; i++) {
		const struct bc_tpl_part *p = &t->parts[i];
		if (p->kind == BC_TPL_TEXT)
			continue;
		if (p->kind == BC_TPL_ENV)
			return fail(err, errlen, h, field,
				    "{{env:%s}}: environment variables are "
				    "allowed in headers only (secrets never go "
				    "into URLs or bodies that render prints)",
				    p->name);
		if (kind != BODY_JSON) {
			if (p->kind != BC_TPL_PLAIN && p->kind != BC_TPL_NUM)
				return fail(err, errlen, h, field,
					    "{{...%s}} at byte %zu: bool:, "
					    "json: and list: are for JSON "
					    "bodies only",
					    p->name, p->offset + 1);
			continue;
		}
		if (p->kind == BC_TPL_PLAIN && !p->in_string)
			return fail(err, errlen, h, field,
				    "{{%s}} at byte %zu is outside a JSON "
				    "string: write \"{{%s}}\" (or {{json:%s}}) "
				    "for a string, {{num:%s}}, {{bool:%s}} or "
				    "{{list:%s}}",
				    p->name, p->offset + 1, p->name, p->name,
				    p->name, p->name, p->name);
		if (p->kind != BC_TPL_PLAIN && p->in_string)
			return fail(err, errlen, h, field,
				    "{{...%s}} at byte %zu is inside a JSON "
				    "string: only {{%s}} can go there",
				    p->name, p->offset + 1, p->name);
	}
	return BC_OK;
}

/* A stand-in value for each placeholder, to check the template's shape
 * at bind. */
static int fill_dummy(const struct bc_tpl *t, struct bc_buf *out)
{
	int result = BC_OK;
	for (size_t i = 0; i < t->nparts && !result; i++) {
		const struct bc_tpl_part *p = &t->parts[i];
		switch (p->kind) {
		case BC_TPL_TEXT:
			result = bc_buf_add(out, p->text, p->len);
			break;
		case BC_TPL_PLAIN:
		case BC_TPL_NUM:
		case BC_TPL_ENV:
			result = bc_buf_adds(out, "1");
			break;
		case BC_TPL_BOOL:
			result = bc_buf_adds(out, "true");
			break;
		case BC_TPL_JSON:
			result = bc_buf_adds(out, "\"1\"");
			break;
		case BC_TPL_LIST:
			result = bc_buf_adds(out, "[\"1\"]");
			break;
		}
	}
	return result;
}

static int check_shape(struct http *h, char *err, size_t errlen)
{
	if (h->kind != BODY_JSON && h->kind != BODY_XML)
		return BC_OK;
	struct bc_buf doc = BC_BUF_INIT(BC_BODY_MAX * 2);
	int result = fill_dummy(&h->body, &doc);
	if (result) {
		bc_buf_release(&doc);
		return result == BC_ETOOBIG ? fail(err, errlen, h, "body.template",
						   "too large")
					    : result;
	}
	if (h->kind == BODY_JSON) {
		/* The whole text, NUL included: nothing may follow the value
		 * but spaces (cJSON_ParseWithLength stops after the value). */
		cJSON *j = cJSON_ParseWithLengthOpts(bc_buf_str(&doc),
						     doc.len + 1, NULL, 1);
		if (!j)
			result = fail(err, errlen, h, "body.template",
				      "not valid JSON (checked with each "
				      "placeholder filled in)");
		cJSON_Delete(j);
	} else {
		char perr[200];
		xmlDocPtr d = bc_xml_parse_safe(bc_buf_str(&doc), doc.len, perr,
						sizeof perr);
		if (!d)
			result = fail(err, errlen, h, "body.template",
				      "not a well-formed XML document (%s)",
				      perr);
		else
			xmlFreeDoc(d);
	}
	bc_buf_release(&doc);
	return result;
}

static int body_spec(struct http *h, const cJSON *v, char *err, size_t errlen)
{
	if (!cJSON_IsObject(v))
		return fail(err, errlen, h, "body",
			    "must be an object {\"kind\": ..., \"template\": "
			    "...}");
	const cJSON *kind = NULL, *tpl = NULL, *ct = NULL;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (strcmp(e->string, "kind") == 0)
			kind = e;
		else if (strcmp(e->string, "template") == 0)
			tpl = e;
		else if (strcmp(e->string, "content_type") == 0)
			ct = e;
		else
			return fail(err, errlen, h, "body",
				    "unknown field '%.64s' (kind, template, "
				    "content_type)",
				    e->string);
	}
	static const struct {
		const char *name;
		enum body_kind kind;
		const char *content_type;
	} kinds[] = {
		{ "json", BODY_JSON, "application/json" },
		{ "xml", BODY_XML, "application/xml" },
		{ "form", BODY_FORM, "application/x-www-form-urlencoded" },
		{ "raw", BODY_RAW, "text/plain; charset=utf-8" },
	};
	if (!cJSON_IsString(kind))
		return fail(err, errlen, h, "body.kind",
			    "required: json, xml, form or raw");
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kind->valuestring, kinds[i].name) == 0) {
			h->kind = kinds[i].kind;
			h->content_type = strdup(kinds[i].content_type);
		}
	if (h->kind == BODY_NONE)
		return fail(err, errlen, h, "body.kind",
			    "'%.40s' is not json, xml, form or raw",
			    kind->valuestring);
	if (ct) {
		if (!cJSON_IsString(ct) || !ct->valuestring[0] ||
		    has_control(ct->valuestring) ||
		    strchr(ct->valuestring, ' ') == ct->valuestring)
			return fail(err, errlen, h, "body.content_type",
				    "must be a media type, e.g. "
				    "application/json");
		free(h->content_type);
		h->content_type = dup_string(ct);
	}
	if (!h->content_type)
		return BC_ENOMEM;
	char *text = NULL;
	if (cJSON_IsString(tpl))
		text = dup_string(tpl);
	else if (h->kind == BODY_JSON && (cJSON_IsObject(tpl) || cJSON_IsArray(tpl)))
		text = cJSON_PrintUnformatted(tpl);
	else
		return fail(err, errlen, h, "body.template",
			    "required: a string%s",
			    h->kind == BODY_JSON ? " or a JSON object" : "");
	if (!text)
		return BC_ENOMEM;
	size_t len = strlen(text);
	int result = BC_OK;
	if (h->kind == BODY_XML && (bc_contains_nocase(text, len, "<!DOCTYPE") ||
				    bc_contains_nocase(text, len, "<!ENTITY")))
		result = fail(err, errlen, h, "body.template",
			      "DOCTYPE and ENTITY declarations are not "
			      "allowed");
	char what[300];
	snprintf(what, sizeof what, OPTION " '%.200s': body.template", h->path);
	if (!result)
		result = bc_tpl_parse(&h->body, text, len, what, err, errlen);
	free(text);
	if (result)
		return result;
	if (h->kind == BODY_JSON)
		bc_tpl_mark_json(&h->body);
	result = check_kinds(h, &h->body, "body.template", h->kind, err, errlen);
	return result ? result : check_shape(h, err, errlen);
}

/* "https://host:port/path?query": the origin must be literal; the rest is
 * a template. --base-url replaces the origin. */
static int url_spec(struct bc_profile_ctx *ctx, struct http *h,
		    const struct bc_profile_config *cfg, const cJSON *v,
		    char *err, size_t errlen)
{
	if (!cJSON_IsString(v))
		return fail(err, errlen, h, "url",
			    "required: a string like "
			    "\"https://api.example.com/v1/things/{{id}}\"");
	const char *u = v->valuestring;
	const char *host = strncmp(u, "https://", 8) == 0  ? u + 8
			   : strncmp(u, "http://", 7) == 0 ? u + 7
							   : NULL;
	if (!host)
		return fail(err, errlen, h, "url",
			    "must start with http:// or https://");
	const char *rest = host + strcspn(host, "/?#");
	if (rest == host)
		return fail(err, errlen, h, "url", "has no host");
	for (const char *p = u; p < rest; p++)
		if (*p == '{' || *p == '}' || *p == ' ' ||
		    (unsigned char)*p < 0x20)
			return fail(err, errlen, h, "url",
				    "placeholders are allowed in the path and "
				    "query only, and the host cannot hold "
				    "spaces");
	for (const char *p = rest; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return fail(err, errlen, h, "url",
				    "space, control character or '#' at byte "
				    "%zu (encode it)",
				    (size_t)(p - u) + 1);
	if (!cfg || !cfg->base_url) {
		char *origin = strndup(u, (size_t)(rest - u));
		if (!origin)
			return BC_ENOMEM;
		free(ctx->base_url);
		ctx->base_url = origin;
	}
	char what[300];
	snprintf(what, sizeof what, OPTION " '%.200s': url", h->path);
	int result = bc_tpl_parse(&h->url, rest, strlen(rest), what, err,
				  errlen);
	if (result)
		return result;
	bc_tpl_mark_query(&h->url);
	return check_kinds(h, &h->url, "url", BODY_FORM, err, errlen);
}

static int read_profile(struct bc_profile_ctx *ctx, struct http *h,
			const struct bc_profile_config *cfg, const cJSON *root,
			char *err, size_t errlen)
{
	const cJSON *method = NULL, *url = NULL, *headers = NULL, *body = NULL;
	const cJSON *name = NULL;
	int result = BC_OK;
	const cJSON *e;
	h->prof.default_rate = 10;
	cJSON_ArrayForEach(e, root)
	{
		const char *f = e->string;
		if (result)
			break;
		if (strcmp(f, "name") == 0)
			name = e;
		else if (strcmp(f, "method") == 0)
			method = e;
		else if (strcmp(f, "url") == 0)
			url = e;
		else if (strcmp(f, "headers") == 0)
			headers = e;
		else if (strcmp(f, "body") == 0)
			body = e;
		else if (strcmp(f, "success") == 0)
			result = statuses(h, e, f, &h->success, err, errlen);
		else if (strcmp(f, "retryable") == 0)
			result = statuses(h, e, f, &h->retryable, err, errlen);
		else if (strcmp(f, "fatal") == 0)
			result = statuses(h, e, f, &h->fatal, err, errlen);
		else if (strcmp(f, "throttle") == 0) {
			if (!cJSON_IsObject(e)) {
				result = fail(err, errlen, h, f,
					      "must be an object {\"statuses\": "
					      "[429], \"body_pattern\": \"...\"}");
				break;
			}
			const cJSON *t;
			cJSON_ArrayForEach(t, e)
			{
				if (result)
					break;
				if (strcmp(t->string, "statuses") == 0)
					result = statuses(h, t,
							  "throttle.statuses",
							  &h->throttle, err,
							  errlen);
				else if (strcmp(t->string, "body_pattern") == 0 &&
					 cJSON_IsString(t) && t->valuestring[0])
					result = (h->throttle_pattern =
							  dup_string(t))
							 ? BC_OK
							 : BC_ENOMEM;
				else if (strcmp(t->string, "body_pattern") == 0)
					result = fail(err, errlen, h,
						      "throttle.body_pattern",
						      "must be a non-empty "
						      "string");
				else
					result = fail(err, errlen, h, f,
						      "unknown field '%.64s' "
						      "(statuses, "
						      "body_pattern)",
						      t->string);
			}
		} else if (strcmp(f, "idempotent") == 0) {
			if (!cJSON_IsBool(e))
				result = fail(err, errlen, h, f,
					      "must be true or false");
			h->prof.idempotent = cJSON_IsTrue(e);
		} else if (strcmp(f, "required") == 0) {
			result = names(h, e, f, h->required, &h->nrequired, err,
				       errlen);
		} else if (strcmp(f, "key_columns") == 0) {
			size_t n = 0;
			result = names(h, e, f, h->key_columns, &n, err, errlen);
			if (!result && n == 0)
				result = fail(err, errlen, h, f,
					      "must name at least one column");
		} else if (strcmp(f, "default_key") == 0) {
			if (!cJSON_IsString(e) || !e->valuestring[0])
				result = fail(err, errlen, h, f,
					      "must be a column name or \"*\" "
					      "(the whole account)");
			else if (!(h->default_key = dup_string(e)))
				result = BC_ENOMEM;
		} else if (strcmp(f, "rate") == 0) {
			if (!cJSON_IsNumber(e) || e->valuedouble < 0 ||
			    e->valuedouble > 1e6)
				result = fail(err, errlen, h, f,
					      "must be a number of requests "
					      "per second >= 0 (0 = no limit)");
			else
				h->prof.default_rate = e->valuedouble;
		} else if (strcmp(f, "error_field") == 0) {
			if (!cJSON_IsString(e) || !e->valuestring[0])
				result = fail(err, errlen, h, f,
					      "must be a dotted path into a "
					      "JSON answer, e.g. \"error.code\"");
			else if (!(h->error_field = dup_string(e)))
				result = BC_ENOMEM;
		} else {
			result = fail(err, errlen, h, NULL,
				      "unknown field '%.64s' (see 'bulkcall "
				      "profiles http')",
				      f);
		}
	}
	if (result)
		return result;
	if (name && (!cJSON_IsString(name) || has_control(name->valuestring)))
		return fail(err, errlen, h, "name", "must be a string");
	if (!cJSON_IsString(method) || !method->valuestring[0] ||
	    strlen(method->valuestring) > 16)
		return fail(err, errlen, h, "method",
			    "required: an HTTP method such as \"PUT\"");
	for (const char *p = method->valuestring; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return fail(err, errlen, h, "method",
				    "'%.16s' is not an HTTP method (upper-case "
				    "letters, e.g. POST)",
				    method->valuestring);
	if (!(h->method = dup_string(method)))
		return BC_ENOMEM;
	result = url_spec(ctx, h, cfg, url, err, errlen);
	if (!result && body)
		result = body_spec(h, body, err, errlen);
	if (!result && headers && !cJSON_IsObject(headers))
		result = fail(err, errlen, h, "headers",
			      "must be an object {\"Name\": \"value\"}");
	if (!result && headers) {
		cJSON_ArrayForEach(e, headers)
		{
			result = header(ctx, h, cfg, e, err, errlen);
			if (result)
				break;
		}
	}
	if (result)
		return result;
	size_t n = strlen(name ? name->valuestring : "") + strlen(h->path) + 64;
	h->summary = malloc(n);
	if (!h->summary)
		return BC_ENOMEM;
	snprintf(h->summary, n, "%s (from %s)",
		 name ? name->valuestring : "HTTP API", h->path);
	return BC_OK;
}

static void release(struct bc_profile_ctx *ctx)
{
	struct http *h = ctx->priv;
	if (h) {
		free(h->path);
		free(h->summary);
		free(h->method);
		bc_tpl_release(&h->url);
		bc_tpl_release(&h->body);
		free(h->content_type);
		for (size_t i = 0; i < BC_PROFILE_HEADERS_MAX; i++)
			free(h->header_names[i]);
		free(h->throttle_pattern);
		free(h->error_field);
		for (size_t i = 0; i < h->nrequired; i++)
			free(h->required[i]);
		for (size_t i = 0; h->key_columns[i]; i++)
			free(h->key_columns[i]);
		free(h->default_key);
		free(h);
	}
	ctx->priv = NULL;
}

static int bind(struct bc_profile_ctx *ctx,
		const struct bc_profile_config *cfg, char *err, size_t errlen)
{
	if (!cfg || !cfg->profile_file) {
		snprintf(err, errlen, "http needs " OPTION " FILE (a JSON "
				      "description of the request: see "
				      "'bulkcall profiles http')");
		return BC_EUSAGE;
	}
	struct http *h = calloc(1, sizeof *h);
	if (!h)
		return BC_ENOMEM;
	ctx->priv = h;
	h->prof = bc_profile_http;
	h->path = strdup(cfg->profile_file);
	if (!h->path)
		return BC_ENOMEM;
	char *text;
	size_t len;
	int result = bc_file_read(OPTION, cfg->profile_file, PROFILE_FILE_MAX,
				  &text, &len, err, errlen);
	if (result)
		return result;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!cJSON_IsObject(root)) {
		size_t at = end && end >= text ? (size_t)(end - text) + 1 : 1;
		result = root ? fail(err, errlen, h, NULL, "not a JSON object")
			      : fail(err, errlen, h, NULL,
				     "invalid JSON near byte %zu", at);
	} else {
		result = read_profile(ctx, h, cfg, root, err, errlen);
	}
	cJSON_Delete(root);
	free(text);
	if (result)
		return result;

	/* Key columns default to the required ones. */
	if (!h->key_columns[0])
		for (size_t i = 0; i < h->nrequired; i++)
			if (!(h->key_columns[i] = strdup(h->required[i])))
				return BC_ENOMEM;
	h->prof.summary = h->summary;
	h->prof.method = h->method;
	h->prof.default_key = h->default_key ? h->default_key : "*";
	h->prof.key_columns = (const char *const *)h->key_columns;
	/* The run sees the file's idempotency, rate, key and key columns
	 * through ctx->profile. */
	ctx->profile = &h->prof;
	return BC_OK;
}

static void resolve_required(struct http *h, const struct bc_columns *cols)
{
	if (h->cols_seen == cols->count && h->cols_seen)
		return;
	for (size_t i = 0; i < h->nrequired; i++)
		h->required_cols[i] = bc_columns_find(cols, h->required[i]);
	h->cols_seen = cols->count;
}

static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	struct http *h = ctx->priv;
	const struct bc_columns *cols = ctx->cols;
	if (!cols->count)
		return BC_OK; /* NDJSON: checked row by row */
	const char *missing = bc_tpl_missing(&h->url, cols);
	const char *where = "url";
	if (!missing && h->kind != BODY_NONE) {
		missing = bc_tpl_missing(&h->body, cols);
		where = "body.template";
	}
	for (size_t i = 0; !missing && i < h->nrequired; i++)
		if (bc_columns_find(cols, h->required[i]) < 0) {
			missing = h->required[i];
			where = "required";
		}
	if (missing) {
		snprintf(err, errlen,
			 "header: " OPTION " '%s' uses column '%s' (in %s), "
			 "but the input has no such column",
			 h->path, missing, where);
		return BC_EHEADER;
	}
	return BC_OK;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int check_number(const struct bc_tpl_part *part,
			const struct bc_row *row, const char *val, char *err,
			size_t errlen)
{
	if (part->kind == BC_TPL_NUM && !json_number(val))
		return bc_reject(err, errlen, row, part->name,
				 "'%.40s' is not a number", val);
	return BC_OK;
}

static int escape_url(void *arg, struct bc_buf *out,
		      const struct bc_tpl_part *part, const struct bc_row *row,
		      const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	int result = check_number(part, row, val, err, errlen);
	/* One encoding serves a path segment and a query value alike: every
	 * byte but A-Z a-z 0-9 - . _ ~ becomes %XX, so '/', '?', '&', '='
	 * and '#' in a value stay data. */
	return result ? result : bc_url_escape_segment(out, val, len);
}

static int escape_json(void *arg, struct bc_buf *out,
		       const struct bc_tpl_part *part, const struct bc_row *row,
		       const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	(void)len;
	cJSON *item = NULL;
	int strip_quotes = 0;
	switch (part->kind) {
	case BC_TPL_TEXT:
	case BC_TPL_ENV:
		return BC_EINVAL;
	case BC_TPL_NUM: {
		int result = check_number(part, row, val, err, errlen);
		return result ? result : bc_buf_adds(out, val);
	}
	case BC_TPL_BOOL:
		if (strcmp(val, "true") && strcmp(val, "false"))
			return bc_reject(err, errlen, row, part->name,
					 "'%.40s' must be true or false", val);
		return bc_buf_adds(out, val);
	case BC_TPL_LIST: {
		int result = bc_value_list(row, part->col, part->name, &item,
					   err, errlen);
		if (result)
			return result;
		if (!item && !(item = cJSON_CreateArray()))
			return BC_ENOMEM;
		break;
	}
	case BC_TPL_PLAIN:
		strip_quotes = 1;
		item = cJSON_CreateString(val);
		break;
	case BC_TPL_JSON:
		item = cJSON_CreateString(val);
		break;
	}
	if (!item)
		return BC_ENOMEM;
	char *text = cJSON_PrintUnformatted(item);
	cJSON_Delete(item);
	if (!text)
		return BC_ENOMEM;
	size_t n = strlen(text);
	int result = strip_quotes ? bc_buf_add(out, text + 1, n - 2)
				  : bc_buf_add(out, text, n);
	cJSON_free(text);
	return result;
}

static int escape_xml(void *arg, struct bc_buf *out,
		      const struct bc_tpl_part *part, const struct bc_row *row,
		      const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	(void)len;
	int result = check_number(part, row, val, err, errlen);
	return result ? result : bc_xml_escape(out, val);
}

static int escape_form(void *arg, struct bc_buf *out,
		       const struct bc_tpl_part *part, const struct bc_row *row,
		       const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	int result = check_number(part, row, val, err, errlen);
	return result ? result : bc_url_escape_segment(out, val, len);
}

/* Raw bodies take the value as is; bc_tpl_fill has refused control
 * characters (CR, LF, ...) already. */
static int escape_raw(void *arg, struct bc_buf *out,
		      const struct bc_tpl_part *part, const struct bc_row *row,
		      const char *val, size_t len, char *err, size_t errlen)
{
	(void)arg;
	int result = check_number(part, row, val, err, errlen);
	return result ? result : bc_buf_add(out, val, len);
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	struct http *h = ctx->priv;
	resolve_required(h, ctx->cols);
	for (size_t i = 0; i < h->nrequired; i++) {
		long col = h->required_cols[i];
		enum bc_value_kind kind = bc_row_kind(row, col);
		size_t n = 0;
		bc_row_get(row, col, &n);
		if (kind == BC_VAL_ABSENT || kind == BC_VAL_NULL || n == 0)
			return bc_reject(err, errlen, row, h->required[i],
					 "required value is missing");
	}
	int result = bc_request_set_url(req, ctx, "");
	if (!result)
		result = bc_tpl_fill(&h->url, ctx->cols, row, "the url",
				     escape_url, NULL, &req->url, err, errlen);
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the URL is longer than %u bytes", BC_URL_MAX);
	if (result)
		return result;
	bc_buf_reset(&req->body);
	bc_tpl_escape_fn esc = h->kind == BODY_JSON  ? escape_json
			       : h->kind == BODY_XML ? escape_xml
			       : h->kind == BODY_FORM ? escape_form
						      : escape_raw;
	if (h->kind != BODY_NONE)
		result = bc_tpl_fill(&h->body, ctx->cols, row, "the body",
				     esc, NULL, &req->body, err, errlen);
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the body is larger than %u bytes",
				 BC_BODY_MAX);
	if (result)
		return result;
	/* Nothing leaves unless the body is what its kind says. */
	if (h->kind == BODY_JSON) {
		cJSON *j = cJSON_ParseWithLengthOpts(
		    bc_buf_str(&req->body), req->body.len + 1, NULL, 1);
		if (!j)
			return bc_reject(err, errlen, row, NULL,
					 "the body filled with this row is not "
					 "valid JSON");
		cJSON_Delete(j);
	} else if (h->kind == BODY_XML) {
		char perr[200];
		xmlDocPtr d = bc_xml_parse_safe(bc_buf_str(&req->body),
						req->body.len, perr, sizeof perr);
		if (!d)
			return bc_reject(err, errlen, row, NULL,
					 "the body filled with this row is not "
					 "well-formed XML (%s)",
					 perr);
		xmlFreeDoc(d);
	}
	req->method = h->method;
	req->content_type = h->kind == BODY_NONE ? NULL : h->content_type;
	return BC_OK;
}

static int in_list(const struct status_list *l, long status)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->codes[i] == status)
			return 1;
	return 0;
}

/* The value at a dotted path ("error.code", "errors.0.message"). */
static const cJSON *json_path(const cJSON *v, const char *path)
{
	char seg[128];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		path += n + (path[n] == '.');
		if (cJSON_IsArray(v)) {
			char *endp;
			long i = strtol(seg, &endp, 10);
			v = *seg && !*endp && i >= 0 && i < 1000000
				    ? cJSON_GetArrayItem(v, (int)i)
				    : NULL;
		} else {
			v = cJSON_GetObjectItemCaseSensitive(v, seg);
		}
	}
	return v;
}

static void error_text(const struct http *h, const struct bc_response *resp,
		       char *err, size_t errlen)
{
	char msg[512] = "";
	cJSON *root = resp->body_len ? cJSON_ParseWithLength(resp->body,
							     resp->body_len)
				     : NULL;
	if (root) {
		const cJSON *v = NULL;
		if (h->error_field) {
			v = json_path(root, h->error_field);
		} else if (cJSON_IsObject(root)) {
			static const char *const keys[] = { "message", "error",
							    "errors", NULL };
			for (size_t i = 0; !v && keys[i]; i++)
				v = cJSON_GetObjectItemCaseSensitive(root,
								     keys[i]);
		}
		bc_json_text(v, msg, sizeof msg);
	}
	cJSON_Delete(root);
	if (msg[0])
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "HTTP %ld", resp->status);
}

static enum bc_verdict classify(struct bc_profile_ctx *ctx,
				const struct bc_response *resp, char *err,
				size_t errlen)
{
	const struct http *h = ctx->priv;
	long status = resp->status;
	err[0] = '\0';
	int ok = h->success.given ? in_list(&h->success, status)
				  : status >= 200 && status < 300;
	if (ok)
		return BC_VERDICT_OK;
	error_text(h, resp, err, errlen);
	int throttled = h->throttle.given ? in_list(&h->throttle, status)
					  : status == 429;
	if (!throttled && h->throttle_pattern && resp->body_len &&
	    strlen(h->throttle_pattern) <= resp->body_len) {
		size_t n = strlen(h->throttle_pattern);
		for (size_t i = 0; !throttled && i + n <= resp->body_len; i++)
			throttled = memcmp(resp->body + i, h->throttle_pattern,
					   n) == 0;
	}
	if (throttled)
		return BC_VERDICT_THROTTLE;
	if (h->fatal.given ? in_list(&h->fatal, status)
			   : status == 401 || status == 403)
		return BC_VERDICT_FATAL;
	if (h->retryable.given ? in_list(&h->retryable, status)
			       : status >= 500 && status < 600)
		return BC_VERDICT_RETRY;
	return BC_VERDICT_FAILED;
}

const struct bc_profile bc_profile_http = {
	.name = "http",
	.summary = "any other HTTP API, described by a JSON --profile-file "
		   "(method, URL, headers, body template, status rules)",
	.method = "METHOD",
	.default_base_url = "https://HOST (from --profile-file)",
	.default_key = "*",
	.default_rate = 10,
	.idempotent = 0,
	.api_takes_delay = 0,
	.columns = columns,
	.key_columns = NULL,
	.notes =
		"Needs --profile-file FILE, a JSON object read at bind "
		"(unknown fields are refused):\n"
		"  \"name\": \"...\"                    shown in summaries\n"
		"  \"method\": \"PUT\"                  required\n"
		"  \"url\": \"https://api.example.com/v1/things/{{id}}?x={{x}}\"\n"
		"      required; {{column}} in the path and query only, each "
		"value percent-encoded (every byte but A-Z a-z 0-9 - . _ ~), "
		"so '/', '?', '&' stay data. --base-url replaces the "
		"scheme://host:port part.\n"
		"  \"headers\": {\"Authorization\": \"Bearer {{env:API_TOKEN}}\"}\n"
		"      the same for every row: only {{env:NAME}} placeholders, "
		"read at bind (run fails when one is unset); a header using "
		"one, or named like auth/key/token/secret, is masked by "
		"render.\n"
		"  \"body\": {\"kind\": \"json|xml|form|raw\", \"template\": "
		"\"...\", \"content_type\": \"...\"}\n"
		"      json: \"{{x}}\" inside a JSON string is the value "
		"JSON-escaped (cJSON); outside strings write {{json:x}} (a "
		"quoted string), {{num:x}} (a number), {{bool:x}} (true/false) "
		"or {{list:x}} (an array of strings from an NDJSON array, a "
		"[\"a\",\"b\"] cell or a;b); the template may be a JSON "
		"object instead of a string. xml: values XML-escaped "
		"(libxml2). form: values percent-encoded. raw: values as is. "
		"The filled body must be valid JSON / well-formed XML, else "
		"the row is rejected. {{num:x}} works in every kind.\n"
		"  \"success\": [200, 201, 204]        default: any 2xx\n"
		"  \"throttle\": {\"statuses\": [429], \"body_pattern\": "
		"\"Too many\"}  a listed status, or a non-success body "
		"containing the pattern (default: 429)\n"
		"  \"fatal\": [401, 403]  \"retryable\": [500, 502, 503, 504] "
		"(defaults: 401/403 and any 5xx)\n"
		"  \"error_field\": \"error.code\"       the row's error, from a "
		"JSON answer (default: message, error or errors)\n"
		"  \"idempotent\": false   \"rate\": 10   \"default_key\": \"*\"\n"
		"  \"required\": [\"id\"]   non-empty columns\n"
		"  \"key_columns\": [\"id\"]  copied into results (default: "
		"required)\n"
		"Every {{column}} must exist: a CSV without it is refused "
		"before any row, an NDJSON row without it (or with null) is "
		"rejected naming the column; an empty value is filled in as "
		"empty. Values with control characters (CR, LF, ...) are "
		"rejected. \"{{\" always opens a placeholder.",
	.bind = bind,
	.check_columns = check_columns,
	.build = build,
	.classify = classify,
	.release = release,
};
