/* Shared body of the reader fuzz targets (fuzz_csv.c, fuzz_ndjson.c): the
 * input goes through the in-memory reader whole, then in pieces whose size
 * depends on the input, and every row of both runs is checked and hashed;
 * any difference or malformed row aborts, so the fuzzer reports it. */
#ifndef BC_FUZZ_INGEST_H
#define BC_FUZZ_INGEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/reader.h"
#include "ingest/ingest_internal.h"

static uint64_t fuzz_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ull; /* FNV-1a */
	}
	return h ^ len;
}

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,     \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

/* Reads everything; returns a hash of what came out. */
static uint64_t fuzz_run(const uint8_t *data, size_t size, enum bc_format fmt,
			 size_t chunk)
{
	struct bc_reader *r = NULL;
	struct bc_row row;
	char err[BC__ERR_MAX] = "";
	uint64_t h = 14695981039346656037ull;
	uint64_t prev_line = 0, raw_total = 0;
	int result;

	bc_row_init(&row);
	result = bc__reader_open_mem(&r, "fuzz", fmt, data, size, chunk, err,
				     sizeof err);
	h = fuzz_hash(h, &result, sizeof result);
	h = fuzz_hash(h, err, strlen(err));
	if (result) {
		FUZZ_ASSERT(result < 0 && r == NULL && err[0]);
		goto out;
	}
	size_t hlen;
	const char *hdr = bc_reader_header(r, &hlen);
	h = fuzz_hash(h, hdr, hlen);
	raw_total = hlen;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1) {
		/* Every record gets the next index, starts on a later line,
		 * and keeps its bytes with their line end (or none at all
		 * when they were too long to keep). */
		FUZZ_ASSERT(row.index >= 1);
		FUZZ_ASSERT(row.line > prev_line);
		prev_line = row.line;
		FUZZ_ASSERT(row.raw.len == 0 ||
			    row.raw.ptr[row.raw.len - 1] == '\n');
		FUZZ_ASSERT(row.raw.len <= BC_RECORD_MAX + 1);
		FUZZ_ASSERT(strlen(row.error) < BC_ROW_ERROR_MAX);
		FUZZ_ASSERT(row.nvalues <= bc_reader_columns(r)->count);
		raw_total += row.raw.len;
		h = fuzz_hash(h, &row.index, sizeof row.index);
		h = fuzz_hash(h, &row.line, sizeof row.line);
		h = fuzz_hash(h, row.raw.ptr, row.raw.len);
		h = fuzz_hash(h, row.error, strlen(row.error));
		for (size_t i = 0; i < row.nvalues; i++) {
			size_t len;
			const char *v = bc_row_get(&row, (long)i, &len);
			h = fuzz_hash(h, &row.kind[i], 1);
			if (v) {
				FUZZ_ASSERT(v[len] == '\0' &&
					    len <= BC_FIELD_MAX);
				h = fuzz_hash(h, v, len);
			}
		}
	}
	h = fuzz_hash(h, &result, sizeof result);
	if (result) {
		FUZZ_ASSERT(result < 0 && err[0]);
		h = fuzz_hash(h, err, strlen(err));
	} else {
		/* Rows never hold more than the input (a missing final
		 * newline is the one byte added), and all of it is read. */
		uint64_t plain = bc_reader_offset(r);
		FUZZ_ASSERT(raw_total <= plain + 1);
		if (!bc__source_gzipped(r->src))
			FUZZ_ASSERT(plain == size);
	}
	const struct bc_columns *cols = bc_reader_columns(r);
	FUZZ_ASSERT(cols->count <= BC_COLUMNS_MAX);
	for (size_t i = 0; i < cols->count; i++)
		h = fuzz_hash(h, cols->names[i], strlen(cols->names[i]) + 1);
out:
	bc_reader_free(r);
	bc_row_release(&row);
	return h;
}

static void bc_fuzz_reader(const uint8_t *data, size_t size, enum bc_format fmt)
{
	uint64_t whole = fuzz_run(data, size, fmt, 0);
	size_t chunk = 1 + (size_t)(size ? data[size - 1] % 17 : 0);
	FUZZ_ASSERT(fuzz_run(data, size, fmt, chunk) == whole);
}

#endif
