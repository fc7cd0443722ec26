/* CSV records (RFC 4180) out of the read window, parsed by libcsv in strict
 * mode and fed one physical line at a time: a record ends on the line where
 * libcsv reports its end, so each row keeps its exact bytes and start line.
 * A bad record becomes a row with row->error and reading resumes at the next
 * line. Owns the libcsv parser; the only file that includes csv.h. */
#include <csv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "ingest/ingest_internal.h"

/* libcsv's parser states (libcsv.c, unchanged since 3.0): after a line we
 * look at csv_parser.pstate to tell a record that ended cleanly from one a
 * bare CR cut short, and why a strict parse failed. */
#define CSV_ROW_NOT_BEGUN	   0
#define CSV_FIELD_MIGHT_HAVE_ENDED 3

#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI)

struct bc__csv {
	struct csv_parser p;
	struct bc_reader *r;
	/* The record being read. */
	struct bc_row *row;
	int header;    /* fields are column names */
	uint64_t line; /* where the record starts */
	size_t nfields;
	size_t ends; /* end-of-record callbacks so far */
	int result;  /* BC_ENOMEM from a callback */
	/* Set once a piece of the record failed the UTF-8 check (or ended
	 * inside a sequence): from then on each field is checked, to name
	 * the bad one. A valid record is checked once, not field by field. */
	int check_fields;
};

/* RFC 4180 fields keep their spaces and tabs: libcsv would trim them
 * around unquoted fields and after a closing quote. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

int bc__csv_init(struct bc_reader *r)
{
	struct bc__csv *c = calloc(1, sizeof *c);
	if (!c)
		return BC_ENOMEM;
	csv_init(&c->p, CSV_OPTIONS);
	csv_set_space_func(&c->p, no_space);
	/* Grow the field buffer in large steps: the default 128 bytes
	 * would make a 1 MiB field cost thousands of reallocs. */
	csv_set_blk_size(&c->p, BC__WINDOW_SIZE);
	c->r = r;
	r->csv = c;
	return BC_OK;
}

void bc__csv_free(struct bc_reader *r)
{
	if (!r->csv)
		return;
	csv_free(&r->csv->p);
	free(r->csv);
	r->csv = NULL;
}

/* Back to "no record begun", keeping the field buffer. csv_fini() resets
 * but refuses to while a quoted field is open under CSV_STRICT_FINI; with
 * no callbacks it emits nothing. */
static void parser_reset(struct bc__csv *c)
{
	csv_set_opts(&c->p, CSV_STRICT);
	csv_fini(&c->p, NULL, NULL, NULL);
	csv_set_opts(&c->p, CSV_OPTIONS);
}

static void vfail(struct bc__csv *c, int force, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Sets the row's error, "line N: ..." ("header: ..." for the header); the
 * first problem found is the one reported unless force. */
static void vfail(struct bc__csv *c, int force, const char *fmt, va_list ap)
{
	char *e = c->row->error;
	if (e[0] && !force)
		return;
	int n;
	if (c->header)
		n = snprintf(e, BC_ROW_ERROR_MAX, "header: ");
	else
		n = snprintf(e, BC_ROW_ERROR_MAX,
			     "line %llu: ", (unsigned long long)c->line);
	if (n > 0 && (size_t)n < BC_ROW_ERROR_MAX)
		vsnprintf(e + n, BC_ROW_ERROR_MAX - (size_t)n, fmt, ap);
}

static void fail(struct bc__csv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct bc__csv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(c, 0, fmt, ap);
	va_end(ap);
}

static void fail_force(struct bc__csv *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail_force(struct bc__csv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(c, 1, fmt, ap);
	va_end(ap);
}

/* " (name)" for data field k (1-based) when the header has it. */
static const char *field_name(const struct bc__csv *c, size_t k, char *buf,
			      size_t len)
{
	const struct bc_columns *cols = &c->r->cols.cols;
	if (c->header || k == 0 || k > cols->count)
		return "";
	snprintf(buf, len, " (%.64s)", cols->names[k - 1]);
	return buf;
}

static void header_field(struct bc__csv *c, const char *s, size_t len, size_t k)
{
	if (len > BC_FIELD_MAX) {
		fail(c, "column %zu exceeds %u bytes", k, BC_FIELD_MAX);
		return;
	}
	size_t bad = bc__utf8_check(s, len);
	if (bad < len) {
		fail(c, "%s in column %zu",
		     s[bad] ? "invalid UTF-8" : "NUL byte", k);
		return;
	}
	if (len == 0) {
		fail(c, "column %zu is empty", k);
		return;
	}
	size_t id;
	int result = bc__colset_add(&c->r->cols, s, len, &id);
	if (result == BC_EEXISTS)
		fail(c, "duplicate column '%.64s' (columns %zu and %zu)",
		     c->r->cols.cols.names[id], id + 1, k);
	else if (result == BC_ETOOBIG)
		fail(c, "more than %u columns", BC_COLUMNS_MAX);
	else if (result)
		c->result = result;
}

/* libcsv field callback: one value, already unquoted. */
static void on_field(void *field, size_t len, void *data)
{
	struct bc__csv *c = data;
	const char *s = field;
	size_t k = ++c->nfields;
	char name[80];

	/* A field after the end of the record: a bare CR ended it early,
	 * which read_record() reports. */
	if (c->row->error[0] || c->result || c->ends)
		return;
	if (c->header) {
		header_field(c, s, len, k);
		return;
	}
	if (len > BC_FIELD_MAX) {
		fail(c, "field %zu exceeds %u bytes", k, BC_FIELD_MAX);
		return;
	}
	size_t bad = c->check_fields ? bc__utf8_check(s, len) : len;
	if (bad < len) {
		fail(c, "%s in field %zu%s",
		     s[bad] ? "invalid UTF-8" : "NUL byte", k,
		     field_name(c, k, name, sizeof name));
		return;
	}
	if (k <= c->r->cols.cols.count) {
		int result = bc_row_set(c->row, k - 1, BC_VAL_STRING, s, len);
		if (result)
			c->result = result;
	}
}

/* libcsv end-of-record callback. */
static void on_record(int term, void *data)
{
	struct bc__csv *c = data;
	(void)term;
	c->ends++;
}

static int is_blank(const struct bc_buf *raw)
{
	for (size_t i = 0; i < raw->len; i++)
		if (raw->ptr[i] != '\r' && raw->ptr[i] != '\n')
			return 0;
	return 1;
}

static int finish(struct bc__csv *c)
{
	struct bc_reader *r = c->r;
	struct bc_row *row = c->row;
	size_t ncols = r->cols.cols.count;

	if (!c->header) {
		if (c->nfields != ncols) {
			/* A fed-back errors file: its bulkcall_error column
			 * is ours, not part of the user's data, so the
			 * count the user must match leaves it out. */
			size_t ignored = 0;
			for (size_t k = 0; k < ncols; k++)
				ignored += (size_t)bc_column_ignored(
					r->cols.cols.names[k]);
			if (ignored)
				fail(c, "expected %zu fields plus "
					BC_ERROR_COLUMN ", found %zu in all",
				     ncols - ignored, c->nfields);
			else
				fail(c, "expected %zu fields, found %zu", ncols,
				     c->nfields);
		}
		row->index = ++r->index;
	}
	row->line = c->line;
	return 1;
}

/* The record's bytes from cut on go back to be read again, from line
 * c->line + cut_lines: a quote opened at the end of the kept part never
 * closed (end of input, record too long, or a later quote that makes no
 * sense), so the lines it swallowed are likely rows of their own. */
static int unbalanced(struct bc__csv *c, size_t cut, uint64_t cut_lines,
		      char *err, size_t errlen)
{
	struct bc_reader *r = c->r;
	struct bc_buf *raw = &c->row->raw;

	parser_reset(c);
	if (raw->len > cut) {
		int result =
		    bc__window_unread(&r->win, raw->ptr + cut, raw->len - cut);
		if (result) {
			bc__set_err(err, errlen,
				    "cannot read '%s': out of memory",
				    bc__source_name(r->src));
			return result;
		}
		raw->len = cut;
		raw->ptr[cut] = '\0';
		r->line = c->line + cut_lines;
	}
	fail_force(c, "unbalanced quote");
	return finish(c);
}

/* Reads one record into row: 1, 0 at end of input, or a negative BC_E*. */
static int read_record(struct bc__csv *c, struct bc_row *row, char *err,
		       size_t errlen)
{
	struct bc_reader *r = c->r;
	struct bc__window *w = &r->win;
	struct bc_buf *raw = &row->raw;
	size_t nlines = 0; /* complete lines in the record */
	size_t cut = 0;	   /* end of the line where the open quote began */
	uint64_t cut_lines = 0;
	size_t fields_at_eol = 0;
	int started = 0, mid_line = 0, skip = 0, dropped = 0;
	int result;

	bc_row_reset(row);
	c->row = row;
	c->line = r->line;
	c->nfields = 0;
	c->ends = 0;
	c->result = 0;
	c->check_fields = c->header;

	for (;;) {
		const char *p;
		size_t n;
		int eol, synthetic = 0;

		result = bc__window_peek(w, &p, &n, &eol, err, errlen);
		if (result < 0)
			return result;
		if (result == 0) {
			if (mid_line) {
				/* Last line without a newline: add one, to
				 * the parser and to the row (see row.h). */
				p = "\n";
				n = 1;
				eol = 1;
				synthetic = 1;
			} else if (!started) {
				return 0;
			} else {
				return unbalanced(c, cut, cut_lines, err,
						  errlen);
			}
		}
		started = 1;

		if (skip) {
			/* The rest of a bad line: kept for the row, not
			 * parsed. */
			if (!dropped &&
			    raw->len + n > BC_RECORD_MAX + (size_t)synthetic) {
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
			return finish(c);
		}

		if (!synthetic && raw->len + n > BC_RECORD_MAX) {
			if (nlines > 0)
				return unbalanced(c, cut, cut_lines, err,
						  errlen);
			/* One line longer than a record may be: its bytes
			 * cannot be kept, only skipped. */
			fail(c, "record exceeds %u bytes", BC_RECORD_MAX);
			parser_reset(c);
			bc_buf_reset(raw);
			skip = dropped = 1;
			continue;
		}
		if (bc_buf_add(raw, p, n))
			goto nomem;
		/* Fields are pieces of the record split at ASCII bytes: when
		 * the piece is valid UTF-8, so is every field in it. */
		if (!c->check_fields && bc__utf8_check(p, n) < n)
			c->check_fields = 1;
		size_t used = csv_parse(&c->p, p, n, on_field, on_record, c);
		if (!synthetic)
			bc__window_consume(w, n);
		mid_line = !eol;
		if (c->result)
			goto nomem;
		if (used < n) {
			if (csv_error(&c->p) != CSV_EPARSE)
				goto nomem;
			int state = c->p.pstate;
			parser_reset(c);
			/* A quote left open at an earlier line's end that
			 * "closes" here with junk after it was the bad one. */
			if (nlines > 0 && c->nfields == fields_at_eol)
				return unbalanced(c, cut, cut_lines, err,
						  errlen);
			char name[80];
			size_t k = c->nfields + 1;
			if (c->ends)
				fail(c, "carriage return outside quotes");
			else if (state == CSV_FIELD_MIGHT_HAVE_ENDED)
				fail(c,
				     "character after closing quote in field "
				     "%zu%s",
				     k, field_name(c, k, name, sizeof name));
			else
				fail(c, "quote inside unquoted field %zu%s", k,
				     field_name(c, k, name, sizeof name));
			skip = 1;
			if (!eol)
				continue;
			r->line++;
			return finish(c);
		}
		if (!eol)
			continue;

		r->line++;
		nlines++;
		if (c->ends == 0) {
			if (nlines == 1 && is_blank(raw)) {
				/* Empty lines between records are not rows. */
				bc_buf_reset(raw);
				started = 0;
				nlines = 0;
				c->line = r->line;
				continue;
			}
			/* Inside a quoted field: the record goes on. Note
			 * where the open quote began, for unbalanced(). */
			if (nlines == 1 || c->nfields != fields_at_eol) {
				cut = raw->len;
				cut_lines = nlines;
			}
			fields_at_eol = c->nfields;
			if (synthetic)
				return unbalanced(c, cut, cut_lines, err,
						  errlen);
			continue;
		}
		if (c->ends > 1 || c->p.pstate != CSV_ROW_NOT_BEGUN) {
			/* libcsv ends a record at a bare CR too; RFC 4180
			 * allows CR only in CRLF or inside quotes. */
			fail(c, "carriage return outside quotes");
			parser_reset(c);
		}
		return finish(c);
	}
nomem:
	bc__set_err(err, errlen, "cannot read '%s': out of memory",
		    bc__source_name(r->src));
	return BC_ENOMEM;
}

int bc__csv_header(struct bc_reader *r, char *err, size_t errlen)
{
	struct bc__csv *c = r->csv;
	struct bc_row tmp;
	int result;

	bc_row_init(&tmp);
	c->header = 1;
	result = read_record(c, &tmp, err, errlen);
	c->header = 0;
	if (result < 0)
		goto out;
	if (result == 0) {
		bc__set_err(err, errlen, "'%s': no header line",
			    bc__source_name(r->src));
		result = BC_EHEADER;
		goto out;
	}
	if (tmp.error[0]) {
		bc__set_err(err, errlen, "'%s': %s", bc__source_name(r->src),
			    tmp.error);
		result = BC_EHEADER;
		goto out;
	}
	result = bc_buf_add(&r->header, tmp.raw.ptr, tmp.raw.len);
	if (result)
		bc__set_err(err, errlen, "cannot read '%s': out of memory",
			    bc__source_name(r->src));
out:
	bc_row_release(&tmp);
	return result;
}

int bc__csv_next(struct bc_reader *r, struct bc_row *row, char *err,
		 size_t errlen)
{
	return read_record(r->csv, row, err, errlen);
}
