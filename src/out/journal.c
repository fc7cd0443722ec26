/* The journal of an output folder (see bulkcall/journal.h and
 * docs/durability.md): append-only text records, each line
 * "<type> <fields> #<crc32 of what precedes ' #'>\n". Owns its fd, the
 * rows pending until the next commit, and the thread that makes "sent"
 * barriers durable off the caller's path. libc, pthreads and zlib only. */
/* F_OFD_SETLK: a lock owned by the open file, not the process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "bulkcall/buf.h"
#include "bulkcall/error.h"
#include "bulkcall/journal.h"

#define JOURNAL_MAGIC "J bulkcall-journal 1"
/* A record longer than this is not one of ours: the tail is corrupt. */
#define RECORD_MAX (16u * 1024u * 1024u)

/* ---- row sets ---- */

int bc_rowset_add(struct bc_rowset *s, uint64_t row)
{
	if (row >= s->cap_bits) {
		uint64_t cap = s->cap_bits ? s->cap_bits : 1u << 16;
		while (cap <= row)
			cap *= 2;
		uint8_t *p = realloc(s->bits, (size_t)(cap / 8));
		if (!p)
			return BC_ENOMEM;
		memset(p + s->cap_bits / 8, 0,
		       (size_t)((cap - s->cap_bits) / 8));
		s->bits = p;
		s->cap_bits = cap;
	}
	uint8_t m = (uint8_t)(1u << (row & 7));
	if (!(s->bits[row / 8] & m)) {
		s->bits[row / 8] |= m;
		s->count++;
	}
	return BC_OK;
}

void bc_rowset_del(struct bc_rowset *s, uint64_t row)
{
	if (row >= s->cap_bits)
		return;
	uint8_t m = (uint8_t)(1u << (row & 7));
	if (s->bits[row / 8] & m) {
		s->bits[row / 8] &= (uint8_t)~m;
		s->count--;
	}
}

int bc_rowset_has(const struct bc_rowset *s, uint64_t row)
{
	return row < s->cap_bits && (s->bits[row / 8] >> (row & 7)) & 1;
}

void bc_rowset_release(struct bc_rowset *s)
{
	free(s->bits);
	memset(s, 0, sizeof *s);
}

/* ---- writing ---- */

struct rowlist {
	uint64_t *v;
	size_t n, cap;
};

static int rowlist_add(struct rowlist *l, uint64_t row)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint64_t *p = realloc(l->v, cap * sizeof *p);
		if (!p)
			return BC_ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = row;
	return BC_OK;
}

struct bc_journal {
	char *path;
	int fd;
	struct bc_buf out; /* whole records not yet written */
	struct bc_buf rec; /* the record being built */
	struct rowlist final, not_acted, scratch;
	int failed_errno;
	const char *failed_what;
	const char *failed_path; /* NULL: the journal itself */

	/* The sync thread (started by the first async barrier). Tickets
	 * count sync requests; a request is made after its records were
	 * written, so a sync that starts after ticket T covers T. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int started, quit;
	uint64_t requested, synced; /* tickets */
	uint64_t syncs;             /* finished by the thread */
	int sync_errno;             /* a sync of the thread failed */
	const char *sync_errpath;   /* ... of this file (NULL: the journal) */
	long sync_period_us;        /* see pace_sync */
	/* Tests only (BULKCALL_TEST_SYNC_STALL=N:MS): sync number N (from 1)
	 * first sleeps MS, as a stalled disk would. */
	uint64_t stall_at;
	long stall_ms;
	void (*wake)(void *);
	void *wake_arg;
	pthread_cond_t idle;        /* broadcast after each sync */
	/* Output files the next sync makes durable before the journal's own
	 * fdatasync (bc_journal_sent_async with commit). */
	int file_fd[BC_OUT_FILES];
	const char *file_path[BC_OUT_FILES];
	size_t nfiles;

	/* Commit records whose files the sync thread makes durable: they
	 * are written only after the sync named deferred_ticket is done, so
	 * that no commit on disk counts bytes that are not (owner only). */
	struct bc_buf deferred;
	uint64_t deferred_ticket;
};

static int jfail(struct bc_journal *j, const char *what, int errnum, char *err,
		 size_t errlen)
{
	if (!j->failed_errno) {
		j->failed_errno = errnum ? errnum : EIO;
		j->failed_what = what;
	}
	snprintf(err, errlen, "cannot %s '%s': %s", j->failed_what,
		 j->failed_path ? j->failed_path : j->path,
		 strerror(j->failed_errno));
	return BC_EIO;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Appends rows as sorted ranges "a-b,c,d-e" ("-" when empty). */
static int add_rows(struct bc_buf *b, uint64_t *rows, size_t n)
{
	if (!n)
		return bc_buf_addc(b, '-');
	qsort(rows, n, sizeof *rows, cmp_u64);
	int result = BC_OK;
	for (size_t i = 0; i < n && !result;) {
		size_t k = i;
		while (k + 1 < n && rows[k + 1] <= rows[k] + 1)
			k++;
		if (i)
			result = bc_buf_addc(b, ',');
		if (!result)
			result = bc_buf_addu(b, rows[i]);
		if (!result && rows[k] != rows[i])
			result = bc_buf_addc(b, '-');
		if (!result && rows[k] != rows[i])
			result = bc_buf_addu(b, rows[k]);
		i = k + 1;
	}
	return result;
}

/* Seals j->rec as a record (checksum, newline) into dst. */
static int seal_to(struct bc_journal *j, struct bc_buf *dst)
{
	uLong crc = crc32(0L, (const Bytef *)j->rec.ptr, (uInt)j->rec.len);
	int result = bc_buf_addf(&j->rec, " #%08lx\n", (unsigned long)crc);
	if (!result)
		result = bc_buf_add(dst, j->rec.ptr, j->rec.len);
	bc_buf_reset(&j->rec);
	return result;
}

/* ... into j->out, the records written next. */
static int seal(struct bc_journal *j)
{
	return seal_to(j, &j->out);
}

static int write_buf(struct bc_journal *j, struct bc_buf *b, char *err,
		     size_t errlen)
{
	const char *p = b->ptr;
	size_t len = b->len;
	while (len) {
		ssize_t w = write(j->fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return jfail(j, "write", errno, err, errlen);
		}
		p += w;
		len -= (size_t)w;
	}
	bc_buf_reset(b);
	return BC_OK;
}

static int write_out(struct bc_journal *j, char *err, size_t errlen)
{
	return write_buf(j, &j->out, err, errlen);
}

static int sync_out(struct bc_journal *j, char *err, size_t errlen)
{
	int result = write_out(j, err, errlen);
	if (result)
		return result;
	uint64_t covers = 0;
	if (j->started) {
		pthread_mutex_lock(&j->lock);
		covers = j->requested;
		pthread_mutex_unlock(&j->lock);
	}
	if (fdatasync(j->fd) != 0)
		return jfail(j, "sync", errno, err, errlen);
	if (j->started) {
		/* Every async barrier asked for so far is durable too. */
		pthread_mutex_lock(&j->lock);
		if (j->synced < covers)
			j->synced = covers;
		pthread_mutex_unlock(&j->lock);
	}
	return BC_OK;
}

/* Group commit: a sync starts sync_period_us (BC_JOURNAL_SYNC_PERIOD_US)
 * after the previous one started at the earliest. Back to back, under full
 * load, syncs ran about 3,000 a second at some 65 us of CPU each plus the
 * file system's own journal commit; paced, one sync covers every record
 * of the last millisecond. A parked row waits at most that much longer, and the
 * engine admits rows beyond --concurrency while they wait, so the wire
 * stays full. An idle thread syncs at once. */
static void pace_sync(long period_us, struct timespec *last_start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct timespec due = *last_start;
	due.tv_sec += period_us / 1000000;
	due.tv_nsec += (period_us % 1000000) * 1000L;
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	if (now.tv_sec < due.tv_sec ||
	    (now.tv_sec == due.tv_sec && now.tv_nsec < due.tv_nsec)) {
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due,
				       NULL) == EINTR)
			;
		now = due;
	}
	*last_start = now;
}

void bc_journal_set_sync_period(struct bc_journal *j, long period_us)
{
	j->sync_period_us = period_us > 0 ? period_us : 0;
}

static void *sync_main(void *arg)
{
	struct bc_journal *j = arg;
	struct timespec last_start = { 0, 0 };
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->quit && j->synced >= j->requested)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->quit)
			break;
		pthread_mutex_unlock(&j->lock);
		pace_sync(j->sync_period_us, &last_start);
		pthread_mutex_lock(&j->lock);
		uint64_t target = j->requested;
		int fd[BC_OUT_FILES];
		const char *path[BC_OUT_FILES];
		size_t nfiles = j->nfiles;
		memcpy(fd, j->file_fd, sizeof fd);
		memcpy(path, j->file_path, sizeof path);
		j->nfiles = 0;
		int stall = j->stall_at && j->syncs + 1 == j->stall_at;
		pthread_mutex_unlock(&j->lock);
		if (stall) {
			struct timespec ts = { j->stall_ms / 1000,
					       (j->stall_ms % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) != 0)
				;
		}
		/* The output files first: a commit record counting their
		 * bytes is written once this sync is done. */
		int e = 0;
		const char *failed = NULL;
		for (size_t i = 0; i < nfiles && !e; i++)
			if (fdatasync(fd[i]) != 0) {
				e = errno;
				failed = path[i];
			}
		if (!e && fdatasync(j->fd) != 0)
			e = errno;
		pthread_mutex_lock(&j->lock);
		if (e && !j->sync_errno) {
			j->sync_errno = e;
			j->sync_errpath = failed;
		}
		/* After a failure nothing counts as durable again: a commit
		 * waiting for the failed file must never be written. */
		if (!e && !j->sync_errno && j->synced < target)
			j->synced = target;
		j->syncs++;
		pthread_cond_broadcast(&j->idle);
		if (j->wake)
			j->wake(j->wake_arg);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Asks the sync thread for a sync covering everything written so far,
 * and the files[0..nfiles) before it. */
static int request_sync(struct bc_journal *j, const int *file_fd,
			const char *const *file_path, size_t nfiles,
			uint64_t *ticket, char *err, size_t errlen)
{
	if (!j->started) {
		pthread_mutex_init(&j->lock, NULL);
		pthread_cond_init(&j->cond, NULL);
		pthread_cond_init(&j->idle, NULL);
		int r = pthread_create(&j->thread, NULL, sync_main, j);
		if (r) {
			pthread_cond_destroy(&j->idle);
			pthread_cond_destroy(&j->cond);
			pthread_mutex_destroy(&j->lock);
			return jfail(j, "start a sync thread for", r, err, errlen);
		}
		j->started = 1;
	}
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < nfiles; i++) {
		size_t k = 0;
		while (k < j->nfiles && j->file_fd[k] != file_fd[i])
			k++;
		if (k == j->nfiles && k < BC_OUT_FILES) {
			j->file_fd[k] = file_fd[i];
			j->file_path[k] = file_path[i];
			j->nfiles++;
		}
	}
	*ticket = ++j->requested;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return BC_OK;
}

/* Writes the deferred commit records once their files are durable:
 * when the sync they wait for is done, or now (the caller synced every
 * output file itself). Ahead of any record sealed after them. */
static int release_deferred(struct bc_journal *j, int files_synced, char *err,
			    size_t errlen)
{
	if (!j->deferred.len)
		return BC_OK;
	if (!files_synced) {
		pthread_mutex_lock(&j->lock);
		files_synced = j->synced >= j->deferred_ticket;
		pthread_mutex_unlock(&j->lock);
	}
	return files_synced ? write_buf(j, &j->deferred, err, errlen) : BC_OK;
}

/* Waits until no sync asked for is still under way (the output files it
 * may be syncing are about to be synced, or closed, by the caller). */
static int wait_idle(struct bc_journal *j, char *err, size_t errlen)
{
	if (!j->started)
		return BC_OK;
	pthread_mutex_lock(&j->lock);
	while (j->synced < j->requested && !j->sync_errno)
		pthread_cond_wait(&j->idle, &j->lock);
	int e = j->sync_errno;
	const char *path = j->sync_errpath;
	pthread_mutex_unlock(&j->lock);
	if (e) {
		j->failed_path = path;
		return jfail(j, "sync", e, err, errlen);
	}
	return BC_OK;
}

static int nomem(struct bc_journal *j, char *err, size_t errlen)
{
	return jfail(j, "record rows in", ENOMEM, err, errlen);
}

/* Pending "N" rows become a record ahead of whatever comes next. */
static int seal_not_acted(struct bc_journal *j)
{
	if (!j->not_acted.n)
		return BC_OK;
	int result = bc_buf_adds(&j->rec, "N ");
	if (!result)
		result = add_rows(&j->rec, j->not_acted.v, j->not_acted.n);
	if (!result)
		result = seal(j);
	j->not_acted.n = 0;
	return result;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = fsync(fd) != 0 ? errno : 0;
	close(fd);
	/* Some file systems refuse fsync on a directory: nothing to do. */
	return e == EINVAL ? 0 : e;
}

/* An open file description lock (Linux): it dies with the process (kill -9
 * included), and unlike a POSIX record lock it is not dropped when the
 * process closes another fd of the same file (bc_journal_load does). */
static int lock_fd(int fd)
{
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	return fcntl(fd, F_OFD_SETLK, &lk);
}

int bc_journal_lock(const char *dir, int *fd, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, BC_JOURNAL_NAME);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(errno));
		return BC_EIO;
	}
	if (lock_fd(*fd) != 0) {
		snprintf(err, errlen,
			 "another bulkcall is working in '%s' (its journal is "
			 "locked)",
			 dir);
		close(*fd);
		*fd = -1;
		return BC_EEXISTS;
	}
	return BC_OK;
}

int bc_journal_open(struct bc_journal **out, const char *dir, int64_t keep_len,
		    int locked_fd, char *err, size_t errlen)
{
	*out = NULL;
	struct bc_journal *j = calloc(1, sizeof *j);
	if (!j)
		return BC_ENOMEM;
	j->fd = -1;
	j->sync_period_us = BC_JOURNAL_SYNC_PERIOD_US;
	const char *stall = getenv("BULKCALL_TEST_SYNC_STALL");
	if (stall && sscanf(stall, "%" SCNu64 ":%ld", &j->stall_at,
			    &j->stall_ms) != 2)
		j->stall_at = 0;
	bc_buf_init(&j->out, RECORD_MAX * 2);
	bc_buf_init(&j->rec, RECORD_MAX);
	bc_buf_init(&j->deferred, SIZE_MAX);
	size_t plen = strlen(dir) + sizeof BC_JOURNAL_NAME + 2;
	j->path = malloc(plen);
	if (!j->path) {
		free(j);
		return BC_ENOMEM;
	}
	snprintf(j->path, plen, "%s/%s", dir, BC_JOURNAL_NAME);
	*out = j;
	if (locked_fd >= 0) {
		/* The same open file: the lock is shared, not taken twice. */
		j->fd = fcntl(locked_fd, F_DUPFD_CLOEXEC, 0);
		if (j->fd < 0)
			return jfail(j, "open", errno, err, errlen);
	} else {
		j->fd = open(j->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (j->fd < 0)
			return jfail(j, keep_len < 0 ? "create" : "open", errno,
				     err, errlen);
		if (lock_fd(j->fd) != 0) {
			snprintf(err, errlen,
				 "another bulkcall is working in '%s' (its "
				 "journal is locked)",
				 dir);
			j->failed_errno = EBUSY;
			j->failed_what = "lock";
			return BC_EEXISTS;
		}
	}
	off_t at = keep_len < 0 ? 0 : (off_t)keep_len;
	if (ftruncate(j->fd, at) != 0)
		return jfail(j, "truncate", errno, err, errlen);
	if (lseek(j->fd, at, SEEK_SET) < 0)
		return jfail(j, "seek in", errno, err, errlen);
	if (at > 0)
		return BC_OK;
	int result = bc_buf_adds(&j->rec, JOURNAL_MAGIC);
	if (!result)
		result = seal(j);
	if (result)
		return nomem(j, err, errlen);
	result = sync_out(j, err, errlen);
	if (!result) {
		int e = fsync_dir(dir);
		if (e) {
			snprintf(err, errlen, "cannot sync folder '%s': %s",
				 dir, strerror(e));
			result = BC_EIO;
		}
	}
	return result;
}

int bc_journal_begin(struct bc_journal *j, const char *what, char *err,
		     size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	int result = bc_buf_addf(&j->rec, "B %s", what);
	if (!result)
		result = seal(j);
	return result ? nomem(j, err, errlen) : BC_OK;
}

static int seal_commit(struct bc_journal *j, int stopped,
		       const uint64_t len[BC_OUT_FILES], struct bc_buf *dst);

/* Seals the "S" record (after pending "N" records) into j->out. */
static int seal_sent(struct bc_journal *j, const uint64_t *rows, size_t n)
{
	j->scratch.n = 0;
	for (size_t i = 0; i < n; i++)
		if (rowlist_add(&j->scratch, rows[i]))
			return BC_ENOMEM;
	int result = seal_not_acted(j);
	if (!result)
		result = bc_buf_adds(&j->rec, "S ");
	if (!result)
		result = add_rows(&j->rec, j->scratch.v, j->scratch.n);
	if (!result)
		result = seal(j);
	return result;
}

int bc_journal_sent(struct bc_journal *j, const uint64_t *rows, size_t n,
		    char *err, size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	if (seal_sent(j, rows, n))
		return nomem(j, err, errlen);
	return sync_out(j, err, errlen);
}

int bc_journal_sent_async(struct bc_journal *j, int commit,
			  const uint64_t len[BC_OUT_FILES], const int *file_fd,
			  const char *const *file_path, size_t nfiles,
			  const uint64_t *rows, size_t n, uint64_t *ticket,
			  char *err, size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	int result = release_deferred(j, 0, err, errlen);
	if (result)
		return result;
	/* The commit record waits aside for the sync below, which makes
	 * its files durable first. */
	if ((commit && seal_commit(j, 0, len, &j->deferred)) ||
	    seal_sent(j, rows, n))
		return nomem(j, err, errlen);
	result = write_out(j, err, errlen);
	if (!result)
		result = request_sync(j, file_fd, file_path,
				      commit ? nfiles : 0, ticket, err, errlen);
	/* The commit record is sealed: its rows are no longer pending. If
	 * its sync fails the job stops here and resume redoes them. */
	if (!result && commit) {
		j->final.n = 0;
		j->deferred_ticket = *ticket;
	}
	return result;
}

int bc_journal_synced(struct bc_journal *j, uint64_t ticket, char *err,
		      size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	if (!j->started)
		return 1;
	pthread_mutex_lock(&j->lock);
	int e = j->sync_errno;
	const char *path = j->sync_errpath;
	int done = j->synced >= ticket;
	pthread_mutex_unlock(&j->lock);
	if (e) {
		j->failed_path = path;
		return jfail(j, "sync", e, err, errlen);
	}
	return done;
}

uint64_t bc_journal_syncs(struct bc_journal *j)
{
	if (!j->started)
		return 0;
	pthread_mutex_lock(&j->lock);
	uint64_t n = j->syncs;
	pthread_mutex_unlock(&j->lock);
	return n;
}

void bc_journal_set_waker(struct bc_journal *j, void (*wake)(void *),
			  void *arg)
{
	j->wake = wake;
	j->wake_arg = arg;
}

int bc_journal_not_acted(struct bc_journal *j, uint64_t row)
{
	return rowlist_add(&j->not_acted, row);
}

int bc_journal_final(struct bc_journal *j, uint64_t row)
{
	return rowlist_add(&j->final, row);
}

size_t bc_journal_pending(const struct bc_journal *j)
{
	return j->final.n;
}

/* Seals a "C" (or "R") record for the pending final rows into dst;
 * pending "N" records go to j->out first: one must never land after an
 * "S" that sends its row again. */
static int seal_commit(struct bc_journal *j, int stopped,
		       const uint64_t len[BC_OUT_FILES], struct bc_buf *dst)
{
	int result = seal_not_acted(j);
	if (!result)
		result = bc_buf_addf(
		    &j->rec,
		    "%c %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " ",
		    stopped ? 'R' : 'C', len[0], len[1], len[2], len[3]);
	if (!result)
		result = stopped ? bc_buf_addc(&j->rec, '-')
				 : add_rows(&j->rec, j->final.v, j->final.n);
	if (!result)
		result = seal_to(j, dst);
	return result;
}

int bc_journal_commit(struct bc_journal *j, int stopped,
		      const uint64_t len[BC_OUT_FILES], char *err,
		      size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	/* The caller synced every output file: earlier commits waiting for
	 * the sync thread go first. No sync of it is left under way. */
	int result = wait_idle(j, err, errlen);
	if (!result)
		result = release_deferred(j, 1, err, errlen);
	if (result)
		return result;
	if (seal_commit(j, stopped, len, &j->out))
		return nomem(j, err, errlen);
	result = sync_out(j, err, errlen);
	if (!result)
		j->final.n = 0;
	return result;
}

int bc_journal_end(struct bc_journal *j, int complete, int exit_code, char *err,
		   size_t errlen)
{
	if (j->failed_errno)
		return jfail(j, j->failed_what, j->failed_errno, err, errlen);
	int result = seal_not_acted(j);
	if (!result)
		result =
		    bc_buf_addf(&j->rec, "E %s %d",
				complete ? "complete" : "stopped", exit_code);
	if (!result)
		result = seal(j);
	if (result)
		return nomem(j, err, errlen);
	return sync_out(j, err, errlen);
}

void bc_journal_free(struct bc_journal *j)
{
	if (!j)
		return;
	if (j->started) {
		pthread_mutex_lock(&j->lock);
		j->quit = 1;
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
		pthread_cond_destroy(&j->idle);
		pthread_cond_destroy(&j->cond);
		pthread_mutex_destroy(&j->lock);
	}
	if (j->fd >= 0)
		close(j->fd);
	bc_buf_release(&j->out);
	bc_buf_release(&j->rec);
	bc_buf_release(&j->deferred);
	free(j->final.v);
	free(j->not_acted.v);
	free(j->scratch.v);
	free(j->path);
	free(j);
}

/* ---- reading ---- */

/* Parses "a-b,c" (or "-") calling fn for each row. */
static int parse_rows(const char *p, struct bc_rowset *set, int add)
{
	if (p[0] == '-' && !p[1])
		return BC_OK;
	while (*p) {
		char *end;
		uint64_t a = strtoull(p, &end, 10), b = a;
		if (end == p || a == 0)
			return BC_EPARSE;
		p = end;
		if (*p == '-') {
			b = strtoull(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return BC_EPARSE;
			p = end;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return BC_EPARSE;
		for (uint64_t r = a; r <= b; r++) {
			if (add) {
				if (bc_rowset_add(set, r))
					return BC_ENOMEM;
			} else {
				bc_rowset_del(set, r);
			}
		}
	}
	return BC_OK;
}

/* Checks and strips " #crc\n"; returns the payload length or -1. */
static long record_payload(char *line, size_t len)
{
	/* " #" + 8 hex digits + "\n" */
	if (len < 12 || line[len - 1] != '\n')
		return -1;
	size_t plen = len - 11;
	if (line[plen] != ' ' || line[plen + 1] != '#')
		return -1;
	char *end;
	unsigned long want = strtoul(line + plen + 2, &end, 16);
	if (end != line + len - 1)
		return -1;
	uLong crc = crc32(0L, (const Bytef *)line, (uInt)plen);
	if (crc != want)
		return -1;
	line[plen] = '\0';
	return (long)plen;
}

static int apply_record(struct bc_journal_state *st, char *rec)
{
	char type = rec[0];
	if (!type || (rec[1] && rec[1] != ' '))
		return BC_EPARSE;
	const char *args = rec[1] ? rec + 2 : "";
	switch (type) {
	case 'J': return strcmp(rec, JOURNAL_MAGIC) == 0 ? BC_OK : BC_EPARSE;
	case 'B':
		st->runs++;
		st->complete = 0;
		return BC_OK;
	case 'S': return parse_rows(args, &st->maybe_sent, 1);
	case 'N': return parse_rows(args, &st->maybe_sent, 0);
	case 'C':
	case 'R': {
		uint64_t len[BC_OUT_FILES];
		const char *p = args;
		for (int i = 0; i < BC_OUT_FILES; i++) {
			char *end;
			len[i] = strtoull(p, &end, 10);
			if (end == p || *end != ' ')
				return BC_EPARSE;
			p = end + 1;
		}
		if (type == 'R')
			return BC_OK; /* stopped rows: resume sends them */
		int result = parse_rows(p, &st->final, 1);
		if (result)
			return result;
		memcpy(st->len, len, sizeof len);
		st->has_commit = 1;
		st->complete = 0;
		return BC_OK;
	}
	case 'E': {
		int code = 0;
		char what[16];
		if (sscanf(args, "%15s %d", what, &code) != 2)
			return BC_EPARSE;
		st->complete = strcmp(what, "complete") == 0;
		st->exit_code = code;
		return BC_OK;
	}
	default: return BC_EPARSE;
	}
}

int bc_journal_load(const char *dir, struct bc_journal_state *st, char *err,
		    size_t errlen)
{
	memset(st, 0, sizeof *st);
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, BC_JOURNAL_NAME);
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return BC_OK;
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(errno));
		return BC_EIO;
	}
	st->found = 1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t at = 0;
	int result = BC_OK, first = 1;
	while ((n = getline(&line, &cap, f)) > 0) {
		/* A torn or corrupt record ends the valid journal: everything
		 * after it was never acknowledged by an fdatasync. */
		if ((size_t)n > RECORD_MAX ||
		    record_payload(line, (size_t)n) < 0)
			break;
		if (first && strcmp(line, JOURNAL_MAGIC) != 0) {
			snprintf(err, errlen, "'%s' is not a bulkcall journal",
				 path);
			result = BC_EPARSE;
			break;
		}
		first = 0;
		int r = apply_record(st, line);
		if (r == BC_ENOMEM) {
			snprintf(err, errlen, "out of memory reading '%s'",
				 path);
			result = r;
			break;
		}
		if (r)
			break;
		at += (uint64_t)n;
	}
	if (!result && ferror(f)) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 strerror(errno));
		result = BC_EIO;
	}
	struct stat stt;
	if (!result && fstat(fileno(f), &stt) == 0 &&
	    (uint64_t)stt.st_size > at)
		st->torn_bytes = (uint64_t)stt.st_size - at;
	st->valid_len = at;
	free(line);
	fclose(f);
	return result;
}

void bc_journal_state_release(struct bc_journal_state *st)
{
	bc_rowset_release(&st->final);
	bc_rowset_release(&st->maybe_sent);
}
