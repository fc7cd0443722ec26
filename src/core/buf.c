/* Growable, capped byte buffer (see include/bulkcall/buf.h). libc only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkcall/buf.h"
#include "bulkcall/error.h"

void bc_buf_init(struct bc_buf *b, size_t max_len)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max_len;
}

void bc_buf_release(struct bc_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

void bc_buf_reset(struct bc_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int bc_buf_grow(struct bc_buf *b, size_t len)
{
	if (len > b->max - b->len)
		return BC_ETOOBIG;
	size_t need = b->len + len + 1;
	if (need <= b->cap)
		return BC_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->ptr, cap);
	if (!p)
		return BC_ENOMEM;
	b->ptr = p;
	b->cap = cap;
	return BC_OK;
}

int bc_buf_add(struct bc_buf *b, const void *data, size_t len)
{
	int err = bc_buf_grow(b, len);
	if (err)
		return err;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return BC_OK;
}

int bc_buf_adds(struct bc_buf *b, const char *s)
{
	return bc_buf_add(b, s, strlen(s));
}

int bc_buf_addc(struct bc_buf *b, char c)
{
	return bc_buf_add(b, &c, 1);
}

int bc_buf_vaddf(struct bc_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return BC_EINVAL;
	int err = bc_buf_grow(b, (size_t)n);
	if (err)
		return err;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BC_OK;
}

int bc_buf_addf(struct bc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = bc_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return err;
}

const char *bc_buf_str(const struct bc_buf *b)
{
	return b->ptr ? b->ptr : "";
}
