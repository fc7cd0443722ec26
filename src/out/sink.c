/* Buffered file writer for the output folder; gzip through zlib's gzFile,
 * one gzip member per commit (concatenated members are one valid stream).
 * Owns its fd. Knows nothing of rows or formats. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "out/sink.h"

static int fail_as(struct bc_sink *s, const char *what, int errnum, char *err,
		   size_t errlen)
{
	if (!s->failed_errno)
		s->failed_errno = errnum ? errnum : EIO;
	snprintf(err, errlen, "cannot %s '%s': %s", what, s->path,
		 strerror(s->failed_errno));
	return BC_EIO;
}

static int fail(struct bc_sink *s, int errnum, char *err, size_t errlen)
{
	return fail_as(s, "write", errnum, err, errlen);
}

static int open_at(struct bc_sink *s, const char *path, int gzip,
		   int64_t keep_len, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->gzip = gzip;
	bc_buf_init(&s->buf, BC_SINK_CHUNK * 4);
	s->path = strdup(path);
	if (!s->path)
		return BC_ENOMEM;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
	if (keep_len < 0)
		flags |= O_TRUNC;
	s->fd = open(path, flags, 0644);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot %s '%s': %s",
			 keep_len < 0 ? "create" : "open", path,
			 strerror(errno));
		return BC_EIO;
	}
	if (keep_len < 0)
		return BC_OK;
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		return fail_as(s, "open", errno, err, errlen);
	if ((uint64_t)st.st_size < (uint64_t)keep_len) {
		snprintf(
		    err, errlen,
		    "'%s' holds %lld bytes but the journal committed %lld: "
		    "the folder was changed outside bulkcall",
		    path, (long long)st.st_size, (long long)keep_len);
		s->failed_errno = EIO;
		return BC_EIO;
	}
	if (ftruncate(s->fd, (off_t)keep_len) != 0)
		return fail_as(s, "truncate", errno, err, errlen);
	if (lseek(s->fd, (off_t)keep_len, SEEK_SET) < 0)
		return fail_as(s, "seek in", errno, err, errlen);
	if ((uint64_t)st.st_size != (uint64_t)keep_len)
		s->dirty = 1;
	return BC_OK;
}

int bc_sink_open(struct bc_sink *s, const char *path, int gzip, char *err,
		 size_t errlen)
{
	return open_at(s, path, gzip, -1, err, errlen);
}

int bc_sink_reopen(struct bc_sink *s, const char *path, int gzip,
		   uint64_t keep_len, char *err, size_t errlen)
{
	return open_at(s, path, gzip, (int64_t)keep_len, err, errlen);
}

/* Starts a gzip member on a dup of the fd (gzclose closes the dup). */
static int member_open(struct bc_sink *s)
{
	int fd2 = dup(s->fd);
	s->gz = fd2 >= 0 ? gzdopen(fd2, "wb6") : NULL;
	if (!s->gz) {
		int e = errno ? errno : ENOMEM;
		if (fd2 >= 0)
			close(fd2);
		return e;
	}
	return 0;
}

static int write_all(struct bc_sink *s, const char *p, size_t len)
{
	s->dirty = 1;
	if (s->gzip) {
		if (!s->gz) {
			int e = member_open(s);
			if (e)
				return e;
		}
		while (len) {
			unsigned n =
			    len > (1u << 30) ? (1u << 30) : (unsigned)len;
			errno = 0;
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

/* Writes the buffer and ends the gzip member: the file is whole up to
 * *len. */
static int seal_file(struct bc_sink *s, uint64_t *len, char *err,
		     size_t errlen)
{
	if (s->failed_errno)
		return fail(s, s->failed_errno, err, errlen);
	if (s->buf.len) {
		int e = write_all(s, s->buf.ptr, s->buf.len);
		if (e)
			return fail(s, e, err, errlen);
		bc_buf_reset(&s->buf);
	}
	if (s->gz) {
		/* Ends the member with its trailer: the file is a valid gzip
		 * stream up to here. The next write starts a new member. */
		errno = 0;
		int r = gzclose(s->gz);
		s->gz = NULL;
		if (r != Z_OK)
			return fail(s, errno, err, errlen);
	}
	off_t at = lseek(s->fd, 0, SEEK_CUR);
	if (at < 0)
		return fail_as(s, "seek in", errno, err, errlen);
	*len = (uint64_t)at;
	return BC_OK;
}

int bc_sink_commit(struct bc_sink *s, uint64_t *len, char *err, size_t errlen)
{
	int result = seal_file(s, len, err, errlen);
	if (result)
		return result;
	if (s->dirty || s->unsynced) {
		if (fdatasync(s->fd) != 0)
			return fail_as(s, "sync", errno, err, errlen);
		s->dirty = 0;
		s->unsynced = 0;
	}
	return BC_OK;
}

int bc_sink_commit_deferred(struct bc_sink *s, uint64_t *len, int *needs_sync,
			    char *err, size_t errlen)
{
	int result = seal_file(s, len, err, errlen);
	if (result)
		return result;
	*needs_sync = s->dirty;
	if (s->dirty) {
		s->dirty = 0;
		s->unsynced = 1;
	}
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
			int e = s->buf.len
				    ? write_all(s, s->buf.ptr, s->buf.len)
				    : 0;
			if (e)
				result = fail(s, e, err, errlen);
		} else {
			result = fail(s, s->failed_errno, err, errlen);
		}
		/* A .gz file that got no byte is still a valid (empty) gzip
		 * stream for zcat and friends. */
		if (!result && s->gzip && !s->gz && s->fd >= 0 &&
		    lseek(s->fd, 0, SEEK_CUR) == 0) {
			int e = member_open(s);
			if (e)
				result = fail(s, e, err, errlen);
		}
		errno = 0;
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
