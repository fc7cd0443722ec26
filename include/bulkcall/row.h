/* struct bc_row: one input record, CSV or NDJSON, with its exact original
 * bytes (for byte-exact retry/errors files) and its 1-based position.
 * A row owns its memory and is reused across reads: bc_reader_next()
 * overwrites it, so a caller that keeps rows in flight keeps one struct per
 * slot and releases it with bc_row_release(). Values are NUL-terminated and
 * indexed by column id (see struct bc_columns); an NDJSON key absent from a
 * line has kind BC_VAL_ABSENT. */
#ifndef BULKCALL_ROW_H
#define BULKCALL_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/buf.h"

/* Limits that keep one hostile row from costing the run its memory. */
#define BC_FIELD_MAX (64u * 1024u)
#define BC_RECORD_MAX (1024u * 1024u)
#define BC_COLUMNS_MAX 1024u
#define BC_ROW_ERROR_MAX 256u

enum bc_value_kind {
	BC_VAL_ABSENT = 0,
	BC_VAL_STRING, /* CSV cells are always strings */
	BC_VAL_NUMBER, /* NDJSON number: its text as written */
	BC_VAL_BOOL,   /* "true" / "false" */
	BC_VAL_NULL,   /* NDJSON null */
	BC_VAL_ARRAY   /* NDJSON array of scalars: its JSON text */
};

struct bc_columns {
	size_t count;
	char **names;
};

/* Returns the column id of name, or -1. */
long bc_columns_find(const struct bc_columns *cols, const char *name);
/* The column a fed-back errors file carries: never part of a request. */
#define BC_ERROR_COLUMN "bulkcall_error"
int bc_column_ignored(const char *name);

struct bc_row {
	uint64_t index; /* 1-based data row (header not counted) */
	uint64_t line;  /* input line where the record starts */
	struct bc_buf raw; /* original bytes incl. line terminator; a missing
			      final newline is added so files stay appendable */
	struct bc_buf data; /* values, each NUL-terminated */
	size_t nvalues;     /* entries used in off/len/kind */
	size_t values_cap;
	uint32_t *off;
	uint32_t *len;
	unsigned char *kind; /* enum bc_value_kind */
	/* Non-empty when the reader could not make a row of the record
	 * (e.g. "line 7: unbalanced quote"); such a row is rejected. */
	char error[BC_ROW_ERROR_MAX];
};

void bc_row_init(struct bc_row *row);
void bc_row_release(struct bc_row *row);
/* Empties the row for reuse, keeping its memory. */
void bc_row_reset(struct bc_row *row);
/* Sets value `col` (growing the tables as needed). */
int bc_row_set(struct bc_row *row, size_t col, enum bc_value_kind kind,
	       const char *val, size_t len);
/* Value of column col, or NULL when absent. */
const char *bc_row_get(const struct bc_row *row, long col, size_t *len);
enum bc_value_kind bc_row_kind(const struct bc_row *row, long col);
/* Copies src into dst (dst keeps its own memory). */
int bc_row_copy(struct bc_row *dst, const struct bc_row *src);

#endif
