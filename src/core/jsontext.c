/* Walking JSON text cJSON accepted (include/bulkcall/jsontext.h).
 * libc only; no allocation. */
#include <stddef.h>

#include "bulkcall/jsontext.h"

const char *bc_json_skip_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ')
		p++;
	return p;
}

const char *bc_json_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

const char *bc_json_skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return bc_json_skip_string(p, end);
	if (*p == '[' || *p == '{') {
		size_t depth = 0;
		while (p < end) {
			if (*p == '"') {
				p = bc_json_skip_string(p, end);
				if (!p)
					return NULL;
				continue;
			}
			if (*p == '[' || *p == '{')
				depth++;
			else if ((*p == ']' || *p == '}') && --depth == 0)
				return p + 1;
			p++;
		}
		return NULL;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ']' &&
	       (unsigned char)*p > ' ')
		p++;
	return p;
}
