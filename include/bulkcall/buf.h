/* struct bc_buf: a growable byte buffer with a hard cap (curl's dynbuf).
 * Invariants: ptr is NULL or NUL-terminated at ptr[len]; len < cap when ptr;
 * len never exceeds max. Appends that would pass max fail with BC_ETOOBIG
 * and leave the buffer unchanged. */
#ifndef BULKCALL_BUF_H
#define BULKCALL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct bc_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
};

#define BC_BUF_INIT(max_len) { NULL, 0, 0, (max_len) }

void bc_buf_init(struct bc_buf *b, size_t max_len);
/* Frees the memory; the buffer can be used again after bc_buf_init. */
void bc_buf_release(struct bc_buf *b);
/* Empties the buffer but keeps its memory for reuse. */
void bc_buf_reset(struct bc_buf *b);
int bc_buf_add(struct bc_buf *b, const void *data, size_t len);
int bc_buf_adds(struct bc_buf *b, const char *s);
int bc_buf_addc(struct bc_buf *b, char c);
/* Appends v in decimal, without a printf pass (per-row numbers). */
int bc_buf_addu(struct bc_buf *b, unsigned long long v);
int bc_buf_addf(struct bc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bc_buf_vaddf(struct bc_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Makes room for at least len more bytes without changing the content. */
int bc_buf_grow(struct bc_buf *b, size_t len);
/* Returns the content, "" for an empty buffer (never NULL). */
const char *bc_buf_str(const struct bc_buf *b);

#endif
