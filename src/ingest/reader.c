/* struct bc_reader (include/bulkcall/reader.h): opens the source, skips a
 * UTF-8 BOM, settles the format (flag, extension, else sniffing the first
 * byte) and dispatches to csv.c or ndjson.c. Owns the source, the window,
 * the column table and the header; parses nothing itself. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bulkcall/error.h"
#include "ingest/ingest_internal.h"

void bc__set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

enum bc_format bc_format_from_path(const char *path)
{
	if (!path)
		return BC_FORMAT_AUTO;
	size_t len = strlen(path);
	if (has_suffix(path, len, ".gz"))
		len -= 3;
	if (has_suffix(path, len, ".csv"))
		return BC_FORMAT_CSV;
	if (has_suffix(path, len, ".ndjson") || has_suffix(path, len, ".jsonl"))
		return BC_FORMAT_NDJSON;
	return BC_FORMAT_AUTO;
}

const char *bc_format_name(enum bc_format fmt)
{
	switch (fmt) {
	case BC_FORMAT_AUTO: return "auto";
	case BC_FORMAT_CSV: return "csv";
	case BC_FORMAT_NDJSON: return "ndjson";
	}
	return "unknown";
}

/* No format from the flag or the name: NDJSON when the first byte that is
 * not white space is '{', else CSV. Looks without consuming. */
static int sniff(struct bc_reader *r, char *err, size_t errlen)
{
	const char *p;
	size_t avail = 0, want = 256;

	for (;;) {
		int result =
		    bc__window_fill(&r->win, want, &p, &avail, err, errlen);
		if (result)
			return result;
		size_t i = 0;
		while (i < avail && (p[i] == ' ' || p[i] == '\t' ||
				     p[i] == '\r' || p[i] == '\n'))
			i++;
		if (i < avail) {
			r->fmt = p[i] == '{' ? BC_FORMAT_NDJSON : BC_FORMAT_CSV;
			return BC_OK;
		}
		/* All white space so far: look further, up to the window. */
		if (avail < want || want >= BC__WINDOW_SIZE)
			break;
		want = BC__WINDOW_SIZE;
	}
	r->fmt = BC_FORMAT_CSV;
	return BC_OK;
}

static int start(struct bc_reader *r, const char *name, enum bc_format fmt,
		 char *err, size_t errlen)
{
	const char *p;
	size_t avail;

	int result = bc__window_init(&r->win, r->src);
	if (result)
		goto nomem;
	result = bc__window_fill(&r->win, 3, &p, &avail, err, errlen);
	if (result)
		return result;
	if (avail >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		bc__window_consume(&r->win, 3);

	r->fmt = fmt;
	if (r->fmt == BC_FORMAT_AUTO)
		r->fmt = bc_format_from_path(name);
	if (r->fmt == BC_FORMAT_AUTO) {
		result = sniff(r, err, errlen);
		if (result)
			return result;
	}
	if (r->fmt == BC_FORMAT_CSV) {
		result = bc__csv_init(r);
		if (result)
			goto nomem;
		return bc__csv_header(r, err, errlen);
	}
	return BC_OK;
nomem:
	bc__set_err(err, errlen, "cannot read '%s': out of memory",
		    bc__source_name(r->src));
	return result;
}

static struct bc_reader *reader_new(void)
{
	struct bc_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	bc__colset_init(&r->cols);
	bc_buf_init(&r->header, BC_RECORD_MAX + 2);
	r->line = 1;
	return r;
}

int bc_reader_open(struct bc_reader **out, const char *path, enum bc_format fmt,
		   char *err, size_t errlen)
{
	int result = BC_ENOMEM;
	struct bc_reader *r = reader_new();

	*out = NULL;
	if (!r) {
		bc__set_err(err, errlen, "cannot open '%s': out of memory",
			    path);
		goto out;
	}
	result = bc__source_open_path(&r->src, path, err, errlen);
	if (result)
		goto out;
	result = start(r, strcmp(path, "-") == 0 ? "" : path, fmt, err, errlen);
	if (result)
		goto out;
	*out = r;
	r = NULL;
out:
	bc_reader_free(r);
	return result;
}

int bc__reader_open_fn(struct bc_reader **out, const char *name,
		       enum bc_format fmt, bc__read_fn read_fn, void *ctx,
		       char *err, size_t errlen)
{
	int result = BC_ENOMEM;
	struct bc_reader *r = reader_new();

	*out = NULL;
	if (!r) {
		bc__set_err(err, errlen, "cannot open '%s': out of memory",
			    name);
		goto out;
	}
	result = bc__source_open_fn(&r->src, name, read_fn, ctx, err, errlen);
	if (result)
		goto out;
	result = start(r, name, fmt, err, errlen);
	if (result)
		goto out;
	*out = r;
	r = NULL;
out:
	bc_reader_free(r);
	return result;
}

struct mem_cursor {
	const unsigned char *data;
	size_t len;
	size_t pos;
	size_t chunk;
};

static ssize_t mem_read(void *ctx, void *buf, size_t cap)
{
	struct mem_cursor *m = ctx;
	size_t n = m->len - m->pos;
	if (n > cap)
		n = cap;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	if (n)
		memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

int bc__reader_open_mem(struct bc_reader **out, const char *name,
			enum bc_format fmt, const void *data, size_t len,
			size_t chunk, char *err, size_t errlen)
{
	struct mem_cursor *m = calloc(1, sizeof *m);
	if (!m) {
		*out = NULL;
		bc__set_err(err, errlen, "cannot open '%s': out of memory",
			    name);
		return BC_ENOMEM;
	}
	m->data = data;
	m->len = len;
	m->chunk = chunk;
	int result =
	    bc__reader_open_fn(out, name, fmt, mem_read, m, err, errlen);
	if (result) {
		free(m);
		return result;
	}
	(*out)->owned_ctx = m;
	return BC_OK;
}

int bc_reader_next(struct bc_reader *r, struct bc_row *row, char *err,
		   size_t errlen)
{
	if (r->fatal) {
		bc__set_err(err, errlen, "%s", r->fatal_msg);
		return r->fatal;
	}
	int result = BC_OK;
	switch (r->fmt) {
	case BC_FORMAT_CSV:
		result =
		    bc__csv_next(r, row, r->fatal_msg, sizeof r->fatal_msg);
		break;
	case BC_FORMAT_NDJSON:
		result =
		    bc__ndjson_next(r, row, r->fatal_msg, sizeof r->fatal_msg);
		break;
	case BC_FORMAT_AUTO:
		bc__set_err(r->fatal_msg, sizeof r->fatal_msg,
			    "'%s': unknown format", bc__source_name(r->src));
		result = BC_EINVAL;
		break;
	}
	if (result < 0) {
		/* A failed source cannot be resumed: every later call
		 * reports the same error. */
		r->fatal = result;
		bc__set_err(err, errlen, "%s", r->fatal_msg);
	}
	return result;
}

const struct bc_columns *bc_reader_columns(const struct bc_reader *r)
{
	return &r->cols.cols;
}

const char *bc_reader_header(const struct bc_reader *r, size_t *len)
{
	if (len)
		*len = r->header.len;
	return bc_buf_str(&r->header);
}

enum bc_format bc_reader_format(const struct bc_reader *r)
{
	return r->fmt;
}

uint64_t bc_reader_offset(const struct bc_reader *r)
{
	return r->win.consumed;
}

void bc_reader_free(struct bc_reader *r)
{
	if (!r)
		return;
	bc__csv_free(r);
	bc__window_release(&r->win);
	bc__source_free(r->src);
	bc__colset_release(&r->cols);
	bc_buf_release(&r->header);
	free(r->owned_ctx);
	free(r);
}
