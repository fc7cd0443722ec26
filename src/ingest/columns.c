/* The column table of a reader: the CSV header's names or the NDJSON keys
 * in first-seen order, with a fixed hash index so looking a key up costs
 * the same with 6 columns or 1024. Owns the names; libc only. */
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "ingest/ingest_internal.h"

/* Power of two, at least twice BC_COLUMNS_MAX: probes stay short. */
#define SLOTS 2048u

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

void bc__colset_init(struct bc__colset *s)
{
	memset(s, 0, sizeof *s);
}

void bc__colset_release(struct bc__colset *s)
{
	for (size_t i = 0; i < s->cols.count; i++)
		free(s->cols.names[i]);
	free(s->cols.names);
	free(s->lens);
	free(s->slots);
	bc__colset_init(s);
}

long bc__colset_find(const struct bc__colset *s, const char *name, size_t len)
{
	if (!s->slots)
		return -1;
	for (uint32_t i = hash(name, len) & (SLOTS - 1);;
	     i = (i + 1) & (SLOTS - 1)) {
		uint32_t slot = s->slots[i];
		if (slot == 0)
			return -1;
		size_t id = slot - 1;
		if (s->lens[id] == len &&
		    memcmp(s->cols.names[id], name, len) == 0)
			return (long)id;
	}
}

int bc__colset_add(struct bc__colset *s, const char *name, size_t len,
		   size_t *id)
{
	long found = bc__colset_find(s, name, len);
	if (found >= 0) {
		*id = (size_t)found;
		return BC_EEXISTS;
	}
	if (s->cols.count >= BC_COLUMNS_MAX)
		return BC_ETOOBIG;
	if (!s->slots) {
		s->slots = calloc(SLOTS, sizeof *s->slots);
		if (!s->slots)
			return BC_ENOMEM;
	}
	if (s->cols.count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **names = realloc(s->cols.names, cap * sizeof *names);
		if (!names)
			return BC_ENOMEM;
		s->cols.names = names;
		size_t *lens = realloc(s->lens, cap * sizeof *lens);
		if (!lens)
			return BC_ENOMEM;
		s->lens = lens;
		s->cap = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return BC_ENOMEM;
	memcpy(copy, name, len);
	copy[len] = '\0';

	size_t n = s->cols.count;
	uint32_t i = hash(name, len) & (SLOTS - 1);
	while (s->slots[i])
		i = (i + 1) & (SLOTS - 1);
	s->slots[i] = (uint32_t)n + 1;
	s->cols.names[n] = copy;
	s->lens[n] = len;
	s->cols.count = n + 1;
	*id = n;
	return BC_OK;
}
