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
	/* Most appends fit the room there is: grow only when they do not. */
	if (len >= b->cap - b->len || !b->ptr) {
		int err = bc_buf_grow(b, len);
		if (err)
			return err;
	} else if (len > b->max - b->len) {
		return BC_ETOOBIG;
	}
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
	if (b->ptr && b->len + 1 < b->cap && b->len < b->max) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return BC_OK;
	}
	return bc_buf_add(b, &c, 1);
}

/* Room kept free for a formatted append to land in one pass. */
#define FORMAT_SLACK 64

int bc_buf_vaddf(struct bc_buf *b, const char *fmt, va_list ap)
{
	/* The fields formatted per row are short: print into the room there
	 * is, and measure and print again only when the text did not fit
	 * (vsnprintf twice per call was a tenth of the engine's time). */
	if (b->cap - b->len < FORMAT_SLACK && b->max - b->len >= FORMAT_SLACK)
		(void)bc_buf_grow(b, FORMAT_SLACK);
	size_t room = b->ptr ? b->cap - b->len : 0;
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, copy);
	va_end(copy);
	if (n >= 0 && (size_t)n < room && (size_t)n <= b->max - b->len) {
		b->len += (size_t)n;
		return BC_OK;
	}
	if (b->ptr)
		b->ptr[b->len] = '\0'; /* nothing appended after all */
	if (n < 0)
		return BC_EINVAL;
	int err = bc_buf_grow(b, (size_t)n);
	if (err)
		return err;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BC_OK;
}

int bc_buf_addu(struct bc_buf *b, unsigned long long v)
{
	char digits[24];
	char *p = digits + sizeof digits;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return bc_buf_add(b, p, (size_t)(digits + sizeof digits - p));
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
