/* Buffered file writer for the output folder; gzip through zlib's gzFile.
 * Owns its fd. Knows nothing of rows or formats. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "out/sink.h"

static int fail(struct bc_sink *s, int errnum, char *err, size_t errlen)
{
	if (!s->failed_errno)
		s->failed_errno = errnum ? errnum : EIO;
	snprintf(err, errlen, "cannot write '%s': %s", s->path,
		 strerror(s->failed_errno));
	return BC_EIO;
}

int bc_sink_open(struct bc_sink *s, const char *path, int gzip, char *err,
		 size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	bc_buf_init(&s->buf, BC_SINK_CHUNK * 4);
	s->path = strdup(path);
	if (!s->path)
		return BC_ENOMEM;
	s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", path,
			 strerror(errno));
		return BC_EIO;
	}
	if (gzip) {
		int fd2 = dup(s->fd);
		s->gz = fd2 >= 0 ? gzdopen(fd2, "wb6") : NULL;
		if (!s->gz) {
			if (fd2 >= 0)
				close(fd2);
			return fail(s, errno, err, errlen);
		}
	}
	return BC_OK;
}

static int write_all(struct bc_sink *s, const char *p, size_t len)
{
	if (s->gz) {
		while (len) {
			unsigned n = len > (1u << 30) ? (1u << 30) : (unsigned)len;
			int w = gzwrite(s->gz, p, n);
			if (w <= 0)
				return errno ? errno : EIO;
			p += w;
			len -= (size_t)w;
		}
		return 0;
	}
	while (len) {
		ssize_t w = write(s->fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int bc_sink_flush(struct bc_sink *s, char *err, size_t errlen)
{
	if (s->failed_errno)
		return fail(s, s->failed_errno, err, errlen);
	if (s->buf.len) {
		int e = write_all(s, s->buf.ptr, s->buf.len);
		if (e)
			return fail(s, e, err, errlen);
		bc_buf_reset(&s->buf);
	}
	if (s->gz && gzflush(s->gz, Z_SYNC_FLUSH) != Z_OK)
		return fail(s, errno, err, errlen);
	return BC_OK;
}

int bc_sink_write(struct bc_sink *s, const void *data, size_t len, char *err,
		  size_t errlen)
{
	if (s->failed_errno)
		return fail(s, s->failed_errno, err, errlen);
	if (s->buf.len + len > BC_SINK_CHUNK) {
		int e = s->buf.len ? write_all(s, s->buf.ptr, s->buf.len) : 0;
		if (e)
			return fail(s, e, err, errlen);
		bc_buf_reset(&s->buf);
		if (len > BC_SINK_CHUNK) {
			e = write_all(s, data, len);
			return e ? fail(s, e, err, errlen) : BC_OK;
		}
	}
	int result = bc_buf_add(&s->buf, data, len);
	return result ? fail(s, ENOMEM, err, errlen) : BC_OK;
}

int bc_sink_close(struct bc_sink *s, char *err, size_t errlen)
{
	int result = BC_OK;
	if (s->fd >= 0 || s->gz) {
		if (!s->failed_errno) {
			int e = s->buf.len ? write_all(s, s->buf.ptr, s->buf.len)
					   : 0;
			if (e)
				result = fail(s, e, err, errlen);
		} else {
			result = fail(s, s->failed_errno, err, errlen);
		}
		if (s->gz && gzclose(s->gz) != Z_OK && !result)
			result = fail(s, errno, err, errlen);
		if (s->fd >= 0 && close(s->fd) != 0 && !result)
			result = fail(s, errno, err, errlen);
	}
	s->gz = NULL;
	s->fd = -1;
	bc_buf_release(&s->buf);
	free(s->path);
	s->path = NULL;
	return result;
}
