/* The read window: a fixed BC__WINDOW_SIZE buffer over a byte source, cut
 * into fragments of physical lines ('\n'-terminated) for the CSV and NDJSON
 * readers, plus a replay buffer for bytes a failed record gave back. A line
 * longer than the window comes out in several fragments, so memory stays
 * fixed whatever the input. Knows nothing of CSV or JSON. */
#include <stdlib.h>
#include <string.h>

#include "bulkcall/error.h"
#include "ingest/ingest_internal.h"

/* The replay holds the lines after the first of one failed record, plus
 * what was left of an earlier replay: at most two records' worth. */
#define REPLAY_MAX (2u * BC_RECORD_MAX + 16u)

int bc__window_init(struct bc__window *w, struct bc__source *src)
{
	memset(w, 0, sizeof *w);
	w->src = src;
	bc_buf_init(&w->replay, REPLAY_MAX);
	w->buf = malloc(BC__WINDOW_SIZE);
	return w->buf ? BC_OK : BC_ENOMEM;
}

void bc__window_release(struct bc__window *w)
{
	free(w->buf);
	w->buf = NULL;
	bc_buf_release(&w->replay);
}

/* Reads more into the window: compacts the unread part to the front, then
 * one read into the free tail. Returns bytes added (0 at end of input or
 * when the window is full), or a negative BC_E*. */
static ssize_t refill(struct bc__window *w, char *err, size_t errlen)
{
	if (w->eof)
		return 0;
	if (w->pos > 0) {
		size_t keep = w->end - w->pos;
		if (keep)
			memmove(w->buf, w->buf + w->pos, keep);
		w->scan = w->scan > w->pos ? w->scan - w->pos : 0;
		w->end = keep;
		w->pos = 0;
	}
	if (w->end == BC__WINDOW_SIZE)
		return 0;
	ssize_t n = bc__source_read(w->src, w->buf + w->end,
				    BC__WINDOW_SIZE - w->end, err, errlen);
	if (n < 0)
		return n;
	if (n == 0)
		w->eof = 1;
	w->end += (size_t)n;
	return n;
}

int bc__window_peek(struct bc__window *w, const char **p, size_t *n, int *eol,
		    char *err, size_t errlen)
{
	if (w->rpos < w->replay.len) {
		const char *s = w->replay.ptr + w->rpos;
		size_t avail = w->replay.len - w->rpos;
		const char *nl = memchr(s, '\n', avail);
		*p = s;
		*n = nl ? (size_t)(nl - s) + 1 : avail;
		*eol = nl != NULL;
		return 1;
	}
	if (w->scan < w->pos)
		w->scan = w->pos;
	for (;;) {
		const char *nl = NULL;
		if (w->scan < w->end)
			nl = memchr(w->buf + w->scan, '\n', w->end - w->scan);
		if (nl) {
			*p = w->buf + w->pos;
			*n = (size_t)(nl - *p) + 1;
			*eol = 1;
			return 1;
		}
		w->scan = w->end;
		/* No newline in sight: read more unless the window is full
		 * (a line longer than the window comes out in pieces). */
		if (w->eof || (w->pos == 0 && w->end == BC__WINDOW_SIZE))
			break;
		ssize_t got = refill(w, err, errlen);
		if (got < 0)
			return (int)got;
	}
	if (w->pos == w->end)
		return 0;
	*p = w->buf + w->pos;
	*n = w->end - w->pos;
	*eol = 0;
	return 1;
}

void bc__window_consume(struct bc__window *w, size_t n)
{
	if (w->rpos < w->replay.len) {
		w->rpos += n;
		if (w->rpos >= w->replay.len) {
			/* Keep the memory, drop the content. */
			bc_buf_reset(&w->replay);
			w->rpos = 0;
		}
		return;
	}
	w->pos += n;
	w->consumed += n;
}

int bc__window_unread(struct bc__window *w, const char *data, size_t len)
{
	if (len == 0)
		return BC_OK;
	if (w->rpos >= len) {
		/* data is what was just consumed from the replay: step
		 * back over it. */
		memcpy(w->replay.ptr + w->rpos - len, data, len);
		w->rpos -= len;
		return BC_OK;
	}
	size_t rest = w->replay.len - w->rpos;
	int result = bc_buf_grow(&w->replay, len > w->rpos ? len - w->rpos : 0);
	if (result)
		return result;
	memmove(w->replay.ptr + len, w->replay.ptr + w->rpos, rest);
	memcpy(w->replay.ptr, data, len);
	w->replay.len = len + rest;
	w->replay.ptr[w->replay.len] = '\0';
	w->rpos = 0;
	return BC_OK;
}

int bc__window_fill(struct bc__window *w, size_t want, const char **p,
		    size_t *avail, char *err, size_t errlen)
{
	if (want > BC__WINDOW_SIZE)
		want = BC__WINDOW_SIZE;
	while (w->end - w->pos < want && !w->eof) {
		ssize_t got = refill(w, err, errlen);
		if (got < 0)
			return (int)got;
		if (got == 0 && !w->eof)
			break; /* window full */
	}
	*p = w->buf + w->pos;
	*avail = w->end - w->pos;
	return BC_OK;
}
