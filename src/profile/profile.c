/* Profile lifecycle and the helpers every profile shares: binding to the
 * input's columns, per-run headers, row validation messages. Depends on
 * core only; a provider's own rules live in its file. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/profile.h"

const char *bc_verdict_name(enum bc_verdict v)
{
	switch (v) {
	case BC_VERDICT_OK:
		return "ok";
	case BC_VERDICT_FAILED:
		return "failed";
	case BC_VERDICT_THROTTLE:
		return "throttle";
	case BC_VERDICT_RETRY:
		return "retry";
	case BC_VERDICT_FATAL:
		return "fatal";
	}
	return "?";
}

const char *bc_profile_env(const struct bc_profile_config *cfg,
			   const char *name)
{
	const char *v = cfg && cfg->getenv_fn ? cfg->getenv_fn(name)
					      : getenv(name);
	return v && *v ? v : NULL;
}

int bc_profile_add_header(struct bc_profile_ctx *ctx, const char *name,
			  const char *value, int secret)
{
	if (ctx->nheaders == BC_PROFILE_HEADERS_MAX)
		return BC_ETOOBIG;
	/* A header value must not be able to start a new header line. */
	for (const char *p = value; *p; p++)
		if (*p == '\r' || *p == '\n')
			return BC_EINVAL;
	char *copy = strdup(value);
	if (!copy)
		return BC_ENOMEM;
	struct bc_header *h = &ctx->headers[ctx->nheaders++];
	h->name = name;
	h->value = copy;
	h->secret = secret;
	return BC_OK;
}

int bc_profile_bind(struct bc_profile_ctx *ctx, const struct bc_profile *p,
		    const struct bc_profile_config *cfg,
		    const struct bc_columns *cols, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->profile = p;
	ctx->cols = cols;
	const char *base = cfg && cfg->base_url ? cfg->base_url
						: p->default_base_url;
	ctx->base_url = strdup(base);
	if (!ctx->base_url)
		return BC_ENOMEM;
	size_t n = strlen(ctx->base_url);
	while (n && ctx->base_url[n - 1] == '/')
		ctx->base_url[--n] = '\0';
	if (strncmp(ctx->base_url, "http://", 7) != 0 &&
	    strncmp(ctx->base_url, "https://", 8) != 0) {
		snprintf(err, errlen, "base URL '%s' must start with http:// or https://",
			 ctx->base_url);
		bc_profile_release(ctx);
		return BC_EUSAGE;
	}
	int result = p->bind ? p->bind(ctx, cfg, err, errlen) : BC_OK;
	if (result == BC_OK && p->check_columns && cols)
		result = p->check_columns(ctx, err, errlen);
	if (result != BC_OK)
		bc_profile_release(ctx);
	return result;
}

void bc_profile_release(struct bc_profile_ctx *ctx)
{
	if (ctx->profile && ctx->profile->release)
		ctx->profile->release(ctx);
	for (size_t i = 0; i < ctx->nheaders; i++)
		free(ctx->headers[i].value);
	free(ctx->base_url);
	memset(ctx, 0, sizeof *ctx);
}

long bc_profile_col(struct bc_profile_ctx *ctx, size_t i)
{
	/* NDJSON keeps discovering columns: refresh the ids when the table
	 * has grown since the last look. */
	if (!ctx->cols)
		return -1;
	if (ctx->cols_seen != ctx->cols->count || ctx->cols_seen == 0) {
		const struct bc_column_doc *c = ctx->profile->columns;
		for (size_t k = 0; c && c[k].name && k < BC_PROFILE_COLS_MAX; k++)
			ctx->col_ids[k] = bc_columns_find(ctx->cols, c[k].name);
		ctx->cols_seen = ctx->cols->count;
	}
	return i < BC_PROFILE_COLS_MAX ? ctx->col_ids[i] : -1;
}

void bc_request_init(struct bc_request *req)
{
	memset(req, 0, sizeof *req);
	bc_buf_init(&req->url, BC_URL_MAX);
	bc_buf_init(&req->body, BC_BODY_MAX);
}

void bc_request_reset(struct bc_request *req)
{
	req->method = NULL;
	req->content_type = NULL;
	bc_buf_reset(&req->url);
	bc_buf_reset(&req->body);
}

void bc_request_release(struct bc_request *req)
{
	bc_buf_release(&req->url);
	bc_buf_release(&req->body);
}

int bc_request_set_url(struct bc_request *req, const struct bc_profile_ctx *ctx,
		       const char *path)
{
	bc_buf_reset(&req->url);
	int err = bc_buf_adds(&req->url, ctx->base_url);
	if (!err)
		err = bc_buf_adds(&req->url, path);
	return err;
}

int bc_reject(char *err, size_t errlen, const struct bc_row *row,
	      const char *column, const char *fmt, ...)
{
	int n = column ? snprintf(err, errlen, "line %llu: column %s: ",
				  (unsigned long long)row->line, column)
		       : snprintf(err, errlen, "line %llu: ",
				  (unsigned long long)row->line);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* Column names come from the input (an NDJSON key may hold a CR or
	 * LF): the message stays on one line. */
	for (size_t i = 0; i < errlen && err[i]; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = ' ';
	return BC_EINVAL;
}

int bc_check_text(const struct bc_row *row, const char *column,
		  const char *val, size_t len, char *err, size_t errlen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)val[i];
		if (c < 0x20 || c == 0x7f) {
			const char *what = c == '\n'   ? "line feed (LF)"
					   : c == '\r' ? "carriage return (CR)"
					   : c == '\t' ? "tab"
					   : c == 0    ? "NUL byte"
						       : "control character";
			return bc_reject(err, errlen, row, column,
					 "%s not allowed at byte %zu", what,
					 i + 1);
		}
	}
	return BC_OK;
}

int bc_check_int(const struct bc_row *row, const char *column,
		 const char *val, long long min, long long max,
		 long long *out, char *err, size_t errlen)
{
	const char *p = val;
	int neg = 0;
	if (*p == '-' && min < 0) {
		neg = 1;
		p++;
	}
	if (!*p)
		return bc_reject(err, errlen, row, column,
				 "'%s' is not a whole number", val);
	long long v = 0;
	size_t digits = 0;
	for (; *p; p++, digits++) {
		if (*p < '0' || *p > '9')
			return bc_reject(err, errlen, row, column,
					 "'%.40s' is not a whole number", val);
		/* 18 digits always fit in a long long. */
		if (digits == 18)
			return bc_reject(err, errlen, row, column,
					 "%.40s is out of range %lld..%lld",
					 val, min, max);
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return bc_reject(err, errlen, row, column,
				 "%.40s is out of range %lld..%lld", val, min,
				 max);
	if (out)
		*out = v;
	return BC_OK;
}
