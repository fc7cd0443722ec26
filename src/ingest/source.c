/* The byte source under every reader: a file, stdin or a callback, read in
 * large blocks and gunzipped on the fly (zlib) when the stream starts with
 * the gzip magic 1f 8b, whatever the file is called; concatenated members
 * are one stream. Owns the fd, the zlib state and the compressed-input
 * buffer. Knows nothing of lines or formats; the only file with zlib.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bulkcall/error.h"
#include "ingest/ingest_internal.h"

struct bc__source {
	char *name; /* for messages */
	int fd;	    /* -1 for a callback source */
	int own_fd;
	bc__read_fn read_fn;
	void *ctx;

	/* Bytes read ahead of the caller: the magic probe, and compressed
	 * input for zlib. */
	unsigned char *in;
	size_t in_len;
	size_t in_pos; /* plain stream: probe bytes not yet handed out */
	int in_eof;
	int probed;
	int gz;

	z_stream zs;
	int zs_init;
	int member_done; /* a gzip member ended; another may follow */
	/* A corrupt stream found while bytes decoded before the damage were
	 * still to hand out: they go first, the error on the next read, so
	 * what comes out does not depend on how the input was chunked. */
	int failed;
	char fail_msg[BC__ERR_MAX];
};

static ssize_t raw_read(struct bc__source *s, void *buf, size_t cap, char *err,
			size_t errlen)
{
	ssize_t n;

	do {
		if (s->read_fn)
			n = s->read_fn(s->ctx, buf, cap);
		else
			n = read(s->fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		bc__set_err(err, errlen, "cannot read '%s': %s", s->name,
			    strerror(errno));
		return BC_EIO;
	}
	return n;
}

static int source_new(struct bc__source **out, const char *name, char *err,
		      size_t errlen)
{
	struct bc__source *s = calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	s->fd = -1;
	s->name = strdup(name);
	s->in = malloc(BC__WINDOW_SIZE);
	if (!s->name || !s->in)
		goto nomem;
	*out = s;
	return BC_OK;
nomem:
	bc__source_free(s);
	bc__set_err(err, errlen, "cannot open '%s': out of memory", name);
	return BC_ENOMEM;
}

int bc__source_open_path(struct bc__source **out, const char *path, char *err,
			 size_t errlen)
{
	struct bc__source *s = NULL;
	int stdin_ = strcmp(path, "-") == 0;
	int result = source_new(&s, stdin_ ? "<stdin>" : path, err, errlen);
	if (result)
		return result;

	if (stdin_) {
		s->fd = STDIN_FILENO;
	} else {
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0)
			goto fail;
		s->own_fd = 1;
		/* open(2) succeeds on a directory; say so now rather than
		 * failing on the first read. */
		struct stat st;
		if (fstat(s->fd, &st) != 0)
			goto fail;
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			goto fail;
		}
	}
	*out = s;
	return BC_OK;
fail:
	bc__set_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
	bc__source_free(s);
	return BC_EIO;
}

int bc__source_open_fn(struct bc__source **out, const char *name,
		       bc__read_fn read_fn, void *ctx, char *err, size_t errlen)
{
	struct bc__source *s = NULL;
	int result = source_new(&s, name, err, errlen);
	if (result)
		return result;
	s->read_fn = read_fn;
	s->ctx = ctx;
	*out = s;
	return BC_OK;
}

/* Reads ahead into s->in (after its first in_len bytes) until it holds
 * at least want bytes or the input ends. */
static int fill_in(struct bc__source *s, size_t want, char *err, size_t errlen)
{
	while (s->in_len < want && !s->in_eof) {
		ssize_t n = raw_read(s, s->in + s->in_len,
				     BC__WINDOW_SIZE - s->in_len, err, errlen);
		if (n < 0)
			return (int)n;
		if (n == 0)
			s->in_eof = 1;
		s->in_len += (size_t)n;
	}
	return BC_OK;
}

/* Looks at the first two bytes to decide between plain and gzip. */
static int probe(struct bc__source *s, char *err, size_t errlen)
{
	int result = fill_in(s, 2, err, errlen);
	if (result)
		return result;
	s->probed = 1;
	if (s->in_len < 2 || s->in[0] != 0x1f || s->in[1] != 0x8b)
		return BC_OK;
	s->gz = 1;
	/* 16 + MAX_WBITS: gzip wrapper only, we checked the magic. */
	if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
		bc__set_err(err, errlen,
			    "cannot decompress '%s': out of memory", s->name);
		return BC_ENOMEM;
	}
	s->zs_init = 1;
	s->zs.next_in = s->in;
	s->zs.avail_in = (uInt)s->in_len;
	return BC_OK;
}

static ssize_t gz_read(struct bc__source *s, char *buf, size_t cap, char *err,
		       size_t errlen)
{
	size_t produced = 0;

	while (produced == 0) {
		if (s->zs.avail_in == 0 && !s->in_eof) {
			s->in_len = 0;
			int result = fill_in(s, 1, err, errlen);
			if (result)
				return result;
			s->zs.next_in = s->in;
			s->zs.avail_in = (uInt)s->in_len;
		}
		if (s->member_done) {
			if (s->zs.avail_in == 0) {
				if (s->in_eof)
					return 0;
				continue;
			}
			/* Concatenated members (cat a.gz b.gz) are one
			 * stream; anything else after a member is corrupt. */
			if (inflateReset(&s->zs) != Z_OK)
				goto corrupt;
			s->member_done = 0;
		}
		if (s->zs.avail_in == 0 && s->in_eof) {
			bc__set_err(err, errlen,
				    "cannot decompress '%s': truncated gzip "
				    "stream",
				    s->name);
			return BC_EGZIP;
		}
		s->zs.next_out = (unsigned char *)buf;
		s->zs.avail_out = (uInt)cap;
		int ret = inflate(&s->zs, Z_NO_FLUSH);
		produced = cap - s->zs.avail_out;
		if (ret == Z_STREAM_END)
			s->member_done = 1;
		else if (ret == Z_BUF_ERROR && s->zs.avail_in == 0)
			continue; /* needs more input */
		else if (ret != Z_OK)
			goto corrupt;
	}
	return (ssize_t)produced;
corrupt:
	s->failed = BC_EGZIP;
	bc__set_err(s->fail_msg, sizeof s->fail_msg,
		    "cannot decompress '%s': corrupt gzip stream%s%s%s",
		    s->name, s->zs.msg ? " (" : "", s->zs.msg ? s->zs.msg : "",
		    s->zs.msg ? ")" : "");
	if (produced)
		return (ssize_t)produced;
	bc__set_err(err, errlen, "%s", s->fail_msg);
	return BC_EGZIP;
}

ssize_t bc__source_read(struct bc__source *s, char *buf, size_t cap, char *err,
			size_t errlen)
{
	if (cap == 0)
		return 0;
	if (!s->probed) {
		int result = probe(s, err, errlen);
		if (result)
			return result;
	}
	if (s->failed) {
		bc__set_err(err, errlen, "%s", s->fail_msg);
		return s->failed;
	}
	if (s->gz)
		return gz_read(s, buf, cap, err, errlen);
	if (s->in_pos < s->in_len) {
		size_t n = s->in_len - s->in_pos;
		if (n > cap)
			n = cap;
		memcpy(buf, s->in + s->in_pos, n);
		s->in_pos += n;
		return (ssize_t)n;
	}
	if (s->in_eof)
		return 0;
	ssize_t n = raw_read(s, buf, cap, err, errlen);
	if (n == 0)
		s->in_eof = 1;
	return n;
}

const char *bc__source_name(const struct bc__source *s)
{
	return s->name;
}

int bc__source_gzipped(const struct bc__source *s)
{
	return s->gz;
}

void bc__source_free(struct bc__source *s)
{
	if (!s)
		return;
	if (s->zs_init)
		inflateEnd(&s->zs);
	if (s->own_fd)
		close(s->fd);
	free(s->in);
	free(s->name);
	free(s);
}
