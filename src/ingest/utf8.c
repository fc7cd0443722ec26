/* UTF-8 validation of input fields and lines (RFC 3629): rejects overlong
 * forms, surrogates, code points above U+10FFFF, truncated sequences and
 * NUL (values travel as C strings). Pure function, libc only. */
#include <stdint.h>
#include <string.h>

#include "ingest/ingest_internal.h"

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

size_t bc__utf8_check(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		/* Most input is ASCII: take 8 bytes at a time while none has
		 * its high bit set and none is zero. */
		while (len - i >= 8) {
			uint64_t v;
			memcpy(&v, s + i, 8);
			if ((v & HIGHS) || ((v - ONES) & ~v & HIGHS))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		unsigned char c = s[i];
		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		unsigned char lo = 0x80, hi = 0xbf; /* range of 2nd byte */
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return i; /* NUL, continuation, C0, C1, F5..FF */
		}
		if (len - i <= need)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += need + 1;
	}
	return len;
}

size_t bc_utf8_check(const char *s, size_t len)
{
	return bc__utf8_check(s, len);
}
