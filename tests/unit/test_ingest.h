/* Helpers shared by the ingest tests (test_ingest_*.c): a chunked in-memory
 * source, a transcript of everything a reader hands out (so two ways of
 * feeding the same bytes can be compared), and a table checker for
 * expected rows. Static functions only: each test is one program. */
#ifndef BC_TEST_INGEST_H
#define BC_TEST_INGEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/reader.h"
#include "ingest/ingest_internal.h"
#include "tap.h"

/* Hands out data as one first piece of `first` bytes (if non-zero), then
 * pieces of k bytes: every split point and every chunk size. */
struct chunk_src {
	const char *data;
	size_t len;
	size_t pos;
	size_t first;
	size_t k;
	size_t max_ahead; /* largest read request seen */
};

static inline ssize_t chunk_read(void *ctx, void *buf, size_t cap)
{
	struct chunk_src *c = ctx;
	size_t n = c->len - c->pos;
	size_t piece = c->pos == 0 && c->first ? c->first : c->k;
	if (piece && n > piece)
		n = piece;
	if (n > cap)
		n = cap;
	if (cap > c->max_ahead)
		c->max_ahead = cap;
	memcpy(buf, c->data + c->pos, n);
	c->pos += n;
	return (ssize_t)n;
}

static inline void put_escaped(struct bc_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			bc_buf_adds(b, "\\\\");
		else if (c == '\n')
			bc_buf_adds(b, "\\n");
		else if (c == '\r')
			bc_buf_adds(b, "\\r");
		else if (c < 0x20 || c >= 0x7f)
			bc_buf_addf(b, "\\x%02x", c);
		else
			bc_buf_addc(b, (char)c);
	}
}

/* "v1|v2|..." over the reader's columns; with kinds, each value is
 * prefixed s: n: b: z: a: (string number bool null array), absent is "-". */
static inline void put_values(struct bc_buf *b, const struct bc_reader *r,
			      const struct bc_row *row, int kinds)
{
	const struct bc_columns *cols = bc_reader_columns(r);
	for (size_t i = 0; i < cols->count; i++) {
		size_t len;
		const char *v = bc_row_get(row, (long)i, &len);
		if (i)
			bc_buf_addc(b, '|');
		if (!v) {
			bc_buf_addc(b, '-');
			continue;
		}
		if (kinds)
			bc_buf_addf(b,
				    "%c:", "-snbza"[bc_row_kind(row, (long)i)]);
		put_escaped(b, v, len);
	}
}

/* Everything a reader hands out over the bytes src gives it. */
static inline char *transcript_src(struct chunk_src *src, const char *name,
				   enum bc_format fmt)
{
	struct bc_buf b = BC_BUF_INIT(1u << 30);
	struct bc_reader *r = NULL;
	struct bc_row row;
	char err[BC__ERR_MAX] = "";

	bc_row_init(&row);
	int result =
	    bc__reader_open_fn(&r, name, fmt, chunk_read, src, err, sizeof err);
	bc_buf_addf(&b, "open %d %s\n", result, err);
	if (result)
		goto out;
	size_t hlen;
	const char *h = bc_reader_header(r, &hlen);
	bc_buf_adds(&b, "header ");
	put_escaped(&b, h, hlen);
	bc_buf_addf(&b, "\nformat %s\n", bc_format_name(bc_reader_format(r)));
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1) {
		bc_buf_addf(&b, "#%llu L%llu ", (unsigned long long)row.index,
			    (unsigned long long)row.line);
		put_escaped(&b, row.raw.ptr, row.raw.len);
		bc_buf_addf(&b, " err=%s v=", row.error);
		put_values(&b, r, &row, 1);
		bc_buf_addc(&b, '\n');
	}
	bc_buf_addf(&b, "end %d %s offset %llu\ncolumns", result,
		    result ? err : "", (unsigned long long)bc_reader_offset(r));
	const struct bc_columns *cols = bc_reader_columns(r);
	for (size_t i = 0; i < cols->count; i++)
		bc_buf_addf(&b, " %s", cols->names[i]);
out:
	bc_reader_free(r);
	bc_row_release(&row);
	return b.ptr;
}

static inline char *transcript(const char *data, size_t len, enum bc_format fmt,
			       size_t first, size_t k)
{
	struct chunk_src src = {data, len, 0, first, k, 0};
	return transcript_src(&src, "sample", fmt);
}

/* Feeds data split at every offset, in chunks of every size (up to a cap
 * for long samples, to keep the run short), and checks each transcript
 * equals the one from reading it whole. */
static inline void check_splits(const char *what, const char *data, size_t len,
				enum bc_format fmt)
{
	static const size_t some_k[] = {1, 2, 3, 4, 5, 7, 8, 13, 64, 4096};
	char *want = transcript(data, len, fmt, 0, 0);
	int bad = 0;

	for (size_t first = 0; first <= len && !bad; first++) {
		size_t nk =
		    len <= 160 ? len + 1 : sizeof some_k / sizeof *some_k;
		for (size_t i = 0; i < nk && !bad; i++) {
			size_t k = len <= 160 ? i + 1 : some_k[i];
			char *got = transcript(data, len, fmt, first, k);
			if (strcmp(got, want) != 0) {
				fprintf(stderr,
					"%s: split at %zu, chunks of %zu:\n"
					"got:\n%s\nwant:\n%s\n",
					what, first, k, got, want);
				bad = 1;
			}
			free(got);
		}
	}
	CHECK(!bad);
	free(want);
}

/* One expected row: its line, raw bytes, error ("" = none), and values
 * as put_values() writes them (NULL = not checked). */
struct want_row {
	uint64_t line;
	const char *raw;
	const char *error;
	const char *values;
};

struct rows_case {
	const char *name;
	const char *input;
	size_t nrows;
	struct want_row rows[8];
};

/* Reads input whole and compares every row with the table. */
static inline void check_rows(const struct rows_case *tc, enum bc_format fmt,
			      int kinds)
{
	struct bc_reader *r = NULL;
	struct bc_row row;
	char err[BC__ERR_MAX] = "";
	size_t n = 0;
	int result;

	bc_row_init(&row);
	result = bc__reader_open_mem(&r, "case", fmt, tc->input,
				     strlen(tc->input), 0, err, sizeof err);
	if (result) {
		fprintf(stderr, "%s: open: %s\n", tc->name, err);
		CHECK(result == 0);
		goto out;
	}
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1) {
		if (n >= tc->nrows) {
			n++;
			continue;
		}
		const struct want_row *w = &tc->rows[n++];
		struct bc_buf v = BC_BUF_INIT(1u << 24);
		put_values(&v, r, &row, kinds);
		int ok = row.index == n && row.line == w->line &&
			 strcmp(bc_buf_str(&row.raw), w->raw) == 0 &&
			 strcmp(row.error, w->error) == 0 &&
			 (!w->values || strcmp(bc_buf_str(&v), w->values) == 0);
		if (!ok)
			fprintf(stderr,
				"%s: row %zu: got #%llu L%llu raw \"%s\" "
				"err \"%s\" v \"%s\"\n  want L%llu raw \"%s\" "
				"err \"%s\" v \"%s\"\n",
				tc->name, n, (unsigned long long)row.index,
				(unsigned long long)row.line,
				bc_buf_str(&row.raw), row.error, bc_buf_str(&v),
				(unsigned long long)w->line, w->raw, w->error,
				w->values ? w->values : "(any)");
		CHECK(ok);
		bc_buf_release(&v);
	}
	CHECK_INT(result, 0);
	if (n != tc->nrows)
		fprintf(stderr, "%s: %zu rows, want %zu\n", tc->name, n,
			tc->nrows);
	CHECK_INT(n, tc->nrows);
out:
	bc_reader_free(r);
	bc_row_release(&row);
}

#endif
