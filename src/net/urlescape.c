/* Percent-encoding of one URL path segment (include/bulkcall/transport.h).
 * By hand rather than curl_easy_escape: no handle, no allocation per call,
 * and the result goes straight into the caller's capped bc_buf.
 * libc only. */
#include <stddef.h>

#include "bulkcall/buf.h"
#include "bulkcall/error.h"
#include "bulkcall/transport.h"

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int bc_url_escape_segment(struct bc_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = 0;
	for (size_t i = 0; i < len; i++)
		need += unreserved((unsigned char)s[i]) ? 1 : 3;
	/* Grow once so a refusal leaves out unchanged. */
	int err = bc_buf_grow(out, need);
	if (err)
		return err;
	char *p = out->ptr + out->len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c)) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	out->len += need;
	out->ptr[out->len] = '\0';
	return BC_OK;
}
