/* LD_PRELOAD shim for tests/fault/test_disk.sh: makes writes (or syncs) to
 * files under a path fail, the way a full or failing disk does, after a
 * byte budget. Built by the test with cc -shared -fPIC; not part of
 * bulkcall. Environment:
 *   BC_FAULT_PATH   absolute path prefix of the files to fail
 *   BC_FAULT_AFTER  bytes those files may take in total before failing
 *   BC_FAULT_ERRNO  ENOSPC (default) or EIO
 *   BC_FAULT_SYNC   1: writes succeed; fsync/fdatasync fail once the
 *                   budget is spent (a disk that loses writes) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long spent;

static int watched(int fd)
{
	const char *prefix = getenv("BC_FAULT_PATH");
	if (!prefix || !*prefix)
		return 0;
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strncmp(path, prefix, strlen(prefix)) == 0;
}

static long long budget(void)
{
	const char *v = getenv("BC_FAULT_AFTER");
	return v ? atoll(v) : 0;
}

static int fault_errno(void)
{
	const char *v = getenv("BC_FAULT_ERRNO");
	return v && strcmp(v, "EIO") == 0 ? EIO : ENOSPC;
}

static int sync_mode(void)
{
	const char *v = getenv("BC_FAULT_SYNC");
	return v && *v == '1';
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT,
								    "write");
	if (!watched(fd))
		return real(fd, buf, len);
	long long left = budget() - spent;
	if (!sync_mode()) {
		if (left <= 0) {
			errno = fault_errno();
			return -1;
		}
		if ((long long)len > left)
			len = (size_t)left; /* a short write, then the error */
	}
	ssize_t w = real(fd, buf, len);
	if (w > 0)
		spent += w;
	return w;
}

static int fail_sync(int fd)
{
	if (sync_mode() && watched(fd) && spent >= budget()) {
		errno = fault_errno();
		return -1;
	}
	return 0;
}

int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return fail_sync(fd) ? -1 : real(fd);
}

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return fail_sync(fd) ? -1 : real(fd);
}
