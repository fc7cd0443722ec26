/* struct bc_row storage: one value buffer plus offset/length/kind tables,
 * all reused from row to row so steady-state reading does not allocate. */
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "bulkcall/row.h"

long bc_columns_find(const struct bc_columns *cols, const char *name)
{
	for (size_t i = 0; i < cols->count; i++)
		if (strcmp(cols->names[i], name) == 0)
			return (long)i;
	return -1;
}

int bc_column_ignored(const char *name)
{
	return strcmp(name, BC_ERROR_COLUMN) == 0;
}

void bc_row_init(struct bc_row *row)
{
	memset(row, 0, sizeof *row);
	bc_buf_init(&row->raw, BC_RECORD_MAX + 2);
	bc_buf_init(&row->data, BC_RECORD_MAX + BC_COLUMNS_MAX);
}

void bc_row_release(struct bc_row *row)
{
	bc_buf_release(&row->raw);
	bc_buf_release(&row->data);
	free(row->off);
	free(row->len);
	free(row->kind);
	bc_row_init(row);
}

void bc_row_reset(struct bc_row *row)
{
	bc_buf_reset(&row->raw);
	bc_buf_reset(&row->data);
	if (row->nvalues)
		memset(row->kind, BC_VAL_ABSENT, row->nvalues);
	row->nvalues = 0;
	row->index = 0;
	row->line = 0;
	row->error[0] = '\0';
}

static int reserve_values(struct bc_row *row, size_t count)
{
	if (count <= row->values_cap)
		return BC_OK;
	if (count > BC_COLUMNS_MAX)
		return BC_ETOOBIG;
	size_t cap = row->values_cap ? row->values_cap : 16;
	while (cap < count)
		cap *= 2;
	uint32_t *off = realloc(row->off, cap * sizeof *off);
	if (!off)
		return BC_ENOMEM;
	row->off = off;
	uint32_t *len = realloc(row->len, cap * sizeof *len);
	if (!len)
		return BC_ENOMEM;
	row->len = len;
	unsigned char *kind = realloc(row->kind, cap);
	if (!kind)
		return BC_ENOMEM;
	memset(kind + row->values_cap, BC_VAL_ABSENT, cap - row->values_cap);
	row->kind = kind;
	row->values_cap = cap;
	return BC_OK;
}

int bc_row_set(struct bc_row *row, size_t col, enum bc_value_kind kind,
	       const char *val, size_t len)
{
	int err = reserve_values(row, col + 1);
	if (err)
		return err;
	if (len > BC_FIELD_MAX)
		return BC_ETOOBIG;
	size_t at = row->data.len;
	err = bc_buf_add(&row->data, val, len);
	if (!err)
		err = bc_buf_addc(&row->data, '\0');
	if (err)
		return err;
	for (size_t i = row->nvalues; i < col; i++)
		row->kind[i] = BC_VAL_ABSENT;
	if (col >= row->nvalues)
		row->nvalues = col + 1;
	row->off[col] = (uint32_t)at;
	row->len[col] = (uint32_t)len;
	row->kind[col] = (unsigned char)kind;
	return BC_OK;
}

const char *bc_row_get(const struct bc_row *row, long col, size_t *len)
{
	if (col < 0 || (size_t)col >= row->nvalues ||
	    row->kind[col] == BC_VAL_ABSENT) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = row->len[col];
	return row->data.ptr + row->off[col];
}

enum bc_value_kind bc_row_kind(const struct bc_row *row, long col)
{
	if (col < 0 || (size_t)col >= row->nvalues)
		return BC_VAL_ABSENT;
	return (enum bc_value_kind)row->kind[col];
}

int bc_row_copy(struct bc_row *dst, const struct bc_row *src)
{
	bc_row_reset(dst);
	int err = reserve_values(dst, src->nvalues);
	if (!err)
		err = bc_buf_add(&dst->raw, src->raw.ptr, src->raw.len);
	if (!err)
		err = bc_buf_add(&dst->data, src->data.ptr, src->data.len);
	if (err)
		return err;
	if (src->nvalues) {
		memcpy(dst->off, src->off, src->nvalues * sizeof *dst->off);
		memcpy(dst->len, src->len, src->nvalues * sizeof *dst->len);
		memcpy(dst->kind, src->kind, src->nvalues);
	}
	dst->nvalues = src->nvalues;
	dst->index = src->index;
	dst->line = src->line;
	memcpy(dst->error, src->error, sizeof dst->error);
	return BC_OK;
}
