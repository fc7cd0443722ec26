/* out/journal, out/jobfile and the sink's commits: row sets, the journal
 * written and read back, a torn journal cut at every offset of its last
 * records (the state is always that of the last whole record), corrupt
 * bytes, gzip sinks truncated at a commit, job.json round trip. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "bulkcall/error.h"
#include "bulkcall/journal.h"
#include "out/sink.h"
#include "tap.h"

static char dir[256];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
}

static void test_rowset(void)
{
	struct bc_rowset s = {0};
	CHECK(!bc_rowset_has(&s, 1));
	CHECK_INT(bc_rowset_add(&s, 1), BC_OK);
	CHECK_INT(bc_rowset_add(&s, 1000000), BC_OK);
	CHECK_INT(bc_rowset_add(&s, 1000000), BC_OK);
	CHECK(bc_rowset_has(&s, 1));
	CHECK(bc_rowset_has(&s, 1000000));
	CHECK(!bc_rowset_has(&s, 999999));
	CHECK(!bc_rowset_has(&s, 5000000));
	CHECK_INT(s.count, 2);
	bc_rowset_del(&s, 1);
	bc_rowset_del(&s, 77777777);
	CHECK(!bc_rowset_has(&s, 1));
	CHECK_INT(s.count, 1);
	bc_rowset_release(&s);
}

/* Polls bc_journal_synced until the ticket is durable (or 5 s pass). */
static int wait_synced(struct bc_journal *j, uint64_t ticket, char *err,
		       size_t errlen)
{
	int r = 0;
	for (int i = 0; i < 5000 && (r = bc_journal_synced(j, ticket, err,
							    errlen)) == 0;
	     i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return r;
}

/* A journal of two runs: the first crashed after two commits, the second
 * (a resume) stopped and wrote its unsent rows ("R"). */
static void write_journal(void)
{
	char err[256];
	struct bc_journal *j;
	CHECK_INT(bc_journal_open(&j, dir, -1, -1, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_begin(j, "run", err, sizeof err), BC_OK);
	uint64_t len0[BC_OUT_FILES] = {10, 20, 30, 40};
	CHECK_INT(bc_journal_commit(j, 0, len0, err, sizeof err), BC_OK);
	uint64_t sent[] = {3, 1, 2, 4, 5, 9};
	CHECK_INT(bc_journal_sent(j, sent, 6, err, sizeof err), BC_OK);
	bc_journal_final(j, 2);
	bc_journal_final(j, 1);
	bc_journal_final(j, 3);
	bc_journal_final(j, 7); /* rejected: never sent */
	CHECK_INT(bc_journal_pending(j), 4);
	bc_journal_not_acted(j, 4); /* a 503: queued again */
	uint64_t len1[BC_OUT_FILES] = {100, 20, 35, 40};
	CHECK_INT(bc_journal_commit(j, 0, len1, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_pending(j), 0);
	uint64_t again[] = {4};
	bc_journal_final(j, 5);
	uint64_t len2[BC_OUT_FILES] = {120, 20, 35, 40};
	uint64_t ticket = 0;
	/* A commit riding on the async barrier, its file synced by the
	 * journal's thread: the record waits for that sync, so a crash
	 * before it leaves the previous commit in force. */
	char fpath[512];
	snprintf(fpath, sizeof fpath, "%s/results.csv", dir);
	int fd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	const char *fname = fpath;
	CHECK_INT(bc_journal_sent_async(j, 1, len2, &fd, &fname, 1, again, 1,
					&ticket, err, sizeof err),
		  BC_OK);
	CHECK_INT(bc_journal_pending(j), 0);
	struct bc_journal_state st;
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK_INT(st.len[0], 100);
	CHECK(!bc_rowset_has(&st.final, 5));
	CHECK(bc_rowset_has(&st.maybe_sent, 4)); /* the "S" is written */
	bc_journal_state_release(&st);
	CHECK_INT(wait_synced(j, ticket, err, sizeof err), 1);
	/* The next barrier writes it, ahead of its own "S". */
	uint64_t next[] = {10};
	uint64_t len_unused[BC_OUT_FILES] = {0, 0, 0, 0};
	CHECK_INT(bc_journal_sent_async(j, 0, len_unused, NULL, NULL, 0, next,
					1, &ticket, err, sizeof err),
		  BC_OK);
	bc_journal_free(j);
	close(fd);
}

static void test_journal_roundtrip(void)
{
	write_journal();
	char err[256];
	struct bc_journal_state st;
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK(st.found);
	CHECK(st.has_commit);
	CHECK_INT(st.runs, 1);
	CHECK_INT(st.len[0], 120);
	CHECK_INT(st.len[2], 35);
	CHECK_INT(st.final.count, 5);
	for (uint64_t r = 1; r <= 3; r++)
		CHECK(bc_rowset_has(&st.final, r));
	CHECK(bc_rowset_has(&st.final, 7));
	CHECK(bc_rowset_has(&st.final, 5));
	/* Sent, not final, not "not acted": 4 (sent again) and 9. */
	CHECK(bc_rowset_has(&st.maybe_sent, 4));
	CHECK(bc_rowset_has(&st.maybe_sent, 9));
	CHECK(bc_rowset_has(&st.maybe_sent, 10));
	CHECK(!st.complete);
	CHECK_INT(st.torn_bytes, 0);
	uint64_t valid = st.valid_len;
	bc_journal_state_release(&st);

	/* Resume: cut to the valid length, a stop writes unsent rows as an
	 * "R" record, which makes nothing final, then E stopped. */
	struct bc_journal *j;
	CHECK_INT(bc_journal_open(&j, dir, (int64_t)valid, -1, err, sizeof err),
		  BC_OK);
	CHECK_INT(bc_journal_begin(j, "resume", err, sizeof err), BC_OK);
	bc_journal_final(j, 6);
	uint64_t len3[BC_OUT_FILES] = {130, 20, 35, 40};
	CHECK_INT(bc_journal_commit(j, 0, len3, err, sizeof err), BC_OK);
	bc_journal_final(j, 8); /* ignored in a stopped commit */
	uint64_t len4[BC_OUT_FILES] = {170, 60, 35, 40};
	CHECK_INT(bc_journal_commit(j, 1, len4, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_end(j, 0, 130, err, sizeof err), BC_OK);
	bc_journal_free(j);
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK_INT(st.runs, 2);
	CHECK_INT(st.len[0], 130); /* the R record does not move it */
	CHECK_INT(st.len[1], 20);
	CHECK(bc_rowset_has(&st.final, 6));
	CHECK(!bc_rowset_has(&st.final, 8));
	CHECK(!st.complete);
	CHECK_INT(st.exit_code, 130);
	bc_journal_state_release(&st);
}

static int wakes;
static void count_wake(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&wakes, 1, __ATOMIC_SEQ_CST);
}

/* The async barrier: the records are written at once, the sync thread
 * makes the ticket durable and wakes the caller; a synchronous commit
 * covers every ticket asked for before it; the records read back like
 * the synchronous ones. */
static void test_journal_async(void)
{
	char err[256];
	struct bc_journal *j;
	CHECK_INT(bc_journal_open(&j, dir, -1, -1, err, sizeof err), BC_OK);
	bc_journal_set_waker(j, count_wake, NULL);
	CHECK_INT(bc_journal_begin(j, "run", err, sizeof err), BC_OK);
	uint64_t len0[BC_OUT_FILES] = {10, 0, 0, 0};
	uint64_t t1 = 0, t2 = 0, t3 = 0;
	uint64_t a[] = {1, 2, 3};
	CHECK_INT(bc_journal_sent_async(j, 0, len0, NULL, NULL, 0, a, 3, &t1, err,
					sizeof err),
		  BC_OK);
	CHECK(t1 > 0);
	int r = 0;
	r = wait_synced(j, t1, err, sizeof err);
	CHECK_INT(r, 1);
	CHECK(__atomic_load_n(&wakes, __ATOMIC_SEQ_CST) >= 1);
	/* the thread's syncs are counted (the engine paces admission by
	 * the answers between two of them) */
	CHECK(bc_journal_syncs(j) >= 1);
	/* a commit riding on the barrier: its rows stop being pending */
	bc_journal_final(j, 1);
	bc_journal_final(j, 2);
	uint64_t len1[BC_OUT_FILES] = {50, 0, 0, 0};
	uint64_t b[] = {4};
	CHECK_INT(bc_journal_sent_async(j, 1, len1, NULL, NULL, 0, b, 1, &t2, err,
					sizeof err),
		  BC_OK);
	CHECK(t2 > t1);
	CHECK_INT(bc_journal_pending(j), 0);
	bc_journal_not_acted(j, 3);
	uint64_t c[] = {5};
	CHECK_INT(bc_journal_sent_async(j, 0, len1, NULL, NULL, 0, c, 1, &t3, err,
					sizeof err),
		  BC_OK);
	/* a synchronous commit makes every earlier ticket durable */
	CHECK_INT(bc_journal_commit(j, 0, len1, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_synced(j, t3, err, sizeof err), 1);
	uint64_t before = bc_journal_syncs(j);
	uint64_t d[] = {6};
	uint64_t t4 = 0;
	CHECK_INT(bc_journal_sent_async(j, 0, len1, NULL, NULL, 0, d, 1, &t4, err,
					sizeof err),
		  BC_OK);
	r = wait_synced(j, t4, err, sizeof err);
	CHECK_INT(r, 1);
	CHECK(bc_journal_syncs(j) >= before + 1);
	/* Row 6 did not act and goes again in a pass with a commit: its
	 * "N" stays ahead of the new "S" while the commit waits aside. */
	bc_journal_not_acted(j, 6);
	bc_journal_final(j, 5);
	uint64_t len2[BC_OUT_FILES] = {60, 0, 0, 0};
	uint64_t t5 = 0;
	CHECK_INT(bc_journal_sent_async(j, 1, len2, NULL, NULL, 0, d, 1, &t5,
					err, sizeof err),
		  BC_OK);
	CHECK_INT(wait_synced(j, t5, err, sizeof err), 1);
	CHECK_INT(bc_journal_commit(j, 0, len2, err, sizeof err), BC_OK);
	bc_journal_free(j);

	struct bc_journal_state st;
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK(bc_rowset_has(&st.final, 1));
	CHECK(bc_rowset_has(&st.final, 2));
	CHECK(!bc_rowset_has(&st.maybe_sent, 3)); /* sent, then not acted */
	CHECK(bc_rowset_has(&st.maybe_sent, 4));
	CHECK(bc_rowset_has(&st.maybe_sent, 5));
	CHECK(bc_rowset_has(&st.maybe_sent, 6)); /* not acted, then sent */
	CHECK_INT(st.len[0], 60);
	CHECK(bc_rowset_has(&st.final, 5));
	CHECK_INT(st.torn_bytes, 0);
	bc_journal_state_release(&st);
}

/* An output file that the sync thread cannot make durable (a pipe:
 * fdatasync says EINVAL): the barrier fails naming that file, and the
 * commit that counted its bytes never reaches the journal. */
static void test_journal_file_sync_fails(void)
{
	char err[256];
	struct bc_journal *j;
	CHECK_INT(bc_journal_open(&j, dir, -1, -1, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_begin(j, "run", err, sizeof err), BC_OK);
	int p[2];
	CHECK_INT(pipe(p), 0);
	const char *name = "/folder/results.csv";
	bc_journal_final(j, 1);
	uint64_t len[BC_OUT_FILES] = {77, 0, 0, 0};
	uint64_t rows[] = {2};
	uint64_t t = 0;
	CHECK_INT(bc_journal_sent_async(j, 1, len, &p[1], &name, 1, rows, 1,
					&t, err, sizeof err),
		  BC_OK);
	/* The sync fails; later syncs of the journal alone work, but the
	 * failed file's ticket and every later one stay undurable, so the
	 * commit waiting for it is never written. */
	nanosleep(&(struct timespec){ 0, 30000000 }, NULL);
	uint64_t more[] = {3}, yet[] = {4};
	uint64_t t2 = 0, t3 = 0;
	CHECK_INT(bc_journal_sent_async(j, 0, len, NULL, NULL, 0, more, 1, &t2,
					err, sizeof err),
		  BC_OK);
	nanosleep(&(struct timespec){ 0, 30000000 }, NULL);
	CHECK_INT(bc_journal_sent_async(j, 0, len, NULL, NULL, 0, yet, 1, &t3,
					err, sizeof err),
		  BC_OK);
	CHECK_INT(bc_journal_synced(j, t, err, sizeof err), BC_EIO);
	CHECK(strstr(err, "cannot sync '/folder/results.csv'") != NULL);
	/* Nothing more is taken. */
	CHECK_INT(bc_journal_synced(j, t2, err, sizeof err), BC_EIO);
	CHECK_INT(bc_journal_commit(j, 0, len, err, sizeof err), BC_EIO);
	bc_journal_free(j);
	close(p[0]);
	close(p[1]);
	struct bc_journal_state st;
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK(!st.has_commit);
	CHECK(!bc_rowset_has(&st.final, 1));
	CHECK(bc_rowset_has(&st.maybe_sent, 2));
	bc_journal_state_release(&st);
}

/* Cut the journal at every offset: the state read is always that of the
 * last whole record before the cut, and the rest counts as torn. */
static void test_journal_torn(void)
{
	write_journal();
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/journal", dir);
	size_t len;
	char *full = slurp(path, &len);
	CHECK(full != NULL);
	if (!full)
		return;
	/* The commit naming row 5 is the second-to-last record. */
	size_t c_end = len - 1;
	while (c_end && full[c_end - 1] != '\n')
		c_end--;
	int bad = 0;
	for (size_t cut = 0; cut <= len; cut++) {
		spit(path, full, cut);
		/* The last newline at or before cut ends the valid part. */
		size_t want = cut;
		while (want && full[want - 1] != '\n')
			want--;
		struct bc_journal_state st;
		int r = bc_journal_load(dir, &st, err, sizeof err);
		if (r != BC_OK || st.valid_len != want ||
		    st.torn_bytes != cut - want)
			bad++;
		/* Row 5 is final exactly when its commit is whole. */
		if (bc_rowset_has(&st.final, 5) != (cut >= c_end))
			bad++;
		bc_journal_state_release(&st);
	}
	CHECK_INT(bad, 0);

	/* A flipped byte inside the second-to-last record: the journal ends
	 * before it. */
	char *copy = malloc(len);
	memcpy(copy, full, len);
	size_t last = len - 1;
	while (last && copy[last - 1] != '\n')
		last--;
	size_t prev = last - 1;
	while (prev && copy[prev - 1] != '\n')
		prev--;
	copy[prev + 2] ^= 1;
	spit(path, copy, len);
	struct bc_journal_state st;
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK_INT(st.valid_len, prev);
	CHECK(!bc_rowset_has(&st.final, 5));
	bc_journal_state_release(&st);
	/* Not a journal at all. */
	spit(path, "hello #00000000\n", 16);
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK_INT(st.valid_len, 0);
	bc_journal_state_release(&st);
	free(copy);
	free(full);
	unlink(path);
	CHECK_INT(bc_journal_load(dir, &st, err, sizeof err), BC_OK);
	CHECK(!st.found);
	bc_journal_state_release(&st);
}

/* One writer per folder: a second lock fails, the holder's writer works,
 * and closing another fd of the journal keeps the lock. */
static void test_journal_lock(void)
{
	char err[256], path[512];
	int fd, fd2;
	CHECK_INT(bc_journal_lock(dir, &fd, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_lock(dir, &fd2, err, sizeof err), BC_EEXISTS);
	CHECK(strstr(err, "another bulkcall") != NULL);
	struct bc_journal *j;
	CHECK_INT(bc_journal_open(&j, dir, -1, -1, err, sizeof err),
		  BC_EEXISTS);
	bc_journal_free(j);
	CHECK_INT(bc_journal_open(&j, dir, -1, fd, err, sizeof err), BC_OK);
	CHECK_INT(bc_journal_begin(j, "run", err, sizeof err), BC_OK);
	bc_journal_free(j);
	snprintf(path, sizeof path, "%s/journal", dir);
	int other = open(path, O_RDONLY);
	close(other);
	CHECK_INT(bc_journal_lock(dir, &fd2, err, sizeof err), BC_EEXISTS);
	close(fd);
	CHECK_INT(bc_journal_lock(dir, &fd2, err, sizeof err), BC_OK);
	close(fd2);
	unlink(path);
}

static size_t gunzip_file(const char *path, char *out, size_t cap)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return 0;
	int n = gzread(gz, out, (unsigned)cap);
	gzclose(gz);
	return n > 0 ? (size_t)n : 0;
}

/* A gzip sink cut back to a commit is a valid stream of what that commit
 * held; writing goes on in a new member. */
static void test_sink_gzip_commit(void)
{
	char path[512], err[256], out[256];
	snprintf(path, sizeof path, "%s/x.csv.gz", dir);
	struct bc_sink s;
	uint64_t len1, len2;
	CHECK_INT(bc_sink_open(&s, path, 1, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_write(&s, "a\n", 2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_commit(&s, &len1, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_commit(&s, &len2, err, sizeof err), BC_OK);
	CHECK_INT(len2, len1); /* nothing new: no empty member */
	CHECK_INT(bc_sink_write(&s, "b\n", 2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_commit(&s, &len2, err, sizeof err), BC_OK);
	CHECK(len2 > len1);
	CHECK_INT(bc_sink_write(&s, "c\n", 2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_flush(&s, err, sizeof err), BC_OK);
	/* A crash here: "c" is half a member past the commit. */
	close(s.fd);
	s.fd = -1;
	if (s.gz)
		gzclose(s.gz); /* writes the rest into the dup */
	s.gz = NULL;
	bc_sink_close(&s, err, sizeof err);
	CHECK_INT(bc_sink_reopen(&s, path, 1, len2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_write(&s, "d\n", 2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_close(&s, err, sizeof err), BC_OK);
	size_t n = gunzip_file(path, out, sizeof out - 1);
	out[n] = '\0';
	CHECK_STR(out, "a\nb\nd\n");
	/* A file shorter than the commit says was changed behind our back. */
	CHECK_INT(bc_sink_reopen(&s, path, 1, 1u << 20, err, sizeof err),
		  BC_EIO);
	CHECK(strstr(err, "changed outside bulkcall") != NULL);
	bc_sink_close(&s, err, sizeof err);
	/* An untouched .gz file is still valid gzip (empty). */
	CHECK_INT(bc_sink_open(&s, path, 1, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_close(&s, err, sizeof err), BC_OK);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size > 0);
	CHECK_INT(gunzip_file(path, out, sizeof out), 0);
	unlink(path);
}

static void test_sink_plain_commit(void)
{
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/y.csv", dir);
	struct bc_sink s;
	uint64_t len;
	CHECK_INT(bc_sink_open(&s, path, 0, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_write(&s, "h\n1\n", 4, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_commit(&s, &len, err, sizeof err), BC_OK);
	CHECK_INT(len, 4);
	CHECK_INT(bc_sink_write(&s, "2\n3", 3, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_close(&s, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_reopen(&s, path, 0, 4, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_write(&s, "4\n", 2, err, sizeof err), BC_OK);
	CHECK_INT(bc_sink_close(&s, err, sizeof err), BC_OK);
	size_t n;
	char *got = slurp(path, &n);
	CHECK_INT(n, 6);
	CHECK(got && memcmp(got, "h\n1\n4\n", 6) == 0);
	free(got);
	unlink(path);
}

static void test_jobfile(void)
{
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/input.csv", dir);
	spit(path, "a,b\n1,2\n", 8);
	struct bc_jobfile jf = {
	    .input = path,
	    .resumable = 1,
	    .profile = "iovox.initiateCall",
	    .idempotent = 0,
	    .started_ms = 1790000000123LL,
	    .options_json = "{\"rate\":5}",
	    .config_json = "{\"rate\":5,\"gzip\":true}",
	};
	CHECK_INT(bc_file_identity(path, &jf.input_size, &jf.input_mtime_ms,
				   &jf.input_crc32, err, sizeof err),
		  BC_OK);
	CHECK_INT(jf.input_size, 8);
	CHECK_INT(jf.input_crc32, crc32(0L, (const Bytef *)"a,b\n1,2\n", 8));
	CHECK_INT(bc_jobfile_write(dir, &jf, err, sizeof err), BC_OK);
	struct bc_jobfile back;
	CHECK_INT(bc_jobfile_read(dir, &back, err, sizeof err), BC_OK);
	CHECK_STR(back.input, path);
	CHECK_STR(back.profile, "iovox.initiateCall");
	CHECK(back.resumable);
	CHECK(!back.idempotent);
	CHECK_INT(back.input_size, 8);
	CHECK_INT(back.input_crc32, jf.input_crc32);
	CHECK_INT(back.started_ms, 1790000000123LL);
	CHECK_STR(back.config_json, "{\"rate\":5,\"gzip\":true}");
	bc_jobfile_release(&back);
	jf.resumable = 0;
	jf.input = "-";
	CHECK_INT(bc_jobfile_write(dir, &jf, err, sizeof err), BC_OK);
	CHECK_INT(bc_jobfile_read(dir, &back, err, sizeof err), BC_OK);
	CHECK(!back.resumable);
	bc_jobfile_release(&back);
	snprintf(path, sizeof path, "%s/job.json", dir);
	spit(path, "{\"x\":1}", 7);
	CHECK_INT(bc_jobfile_read(dir, &back, err, sizeof err), BC_EPARSE);
	unlink(path);
	CHECK_INT(bc_jobfile_read(dir, &back, err, sizeof err), BC_ENOTFOUND);
	snprintf(path, sizeof path, "%s/input.csv", dir);
	unlink(path);
	CHECK_INT(bc_file_identity(path, &jf.input_size, &jf.input_mtime_ms,
				   &jf.input_crc32, err, sizeof err),
		  BC_EIO);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/bc-journal-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_rowset();
	test_journal_roundtrip();
	test_journal_async();
	test_journal_file_sync_fails();
	test_journal_torn();
	test_journal_lock();
	test_sink_gzip_commit();
	test_sink_plain_commit();
	test_jobfile();
	rmdir(dir);
	return bc_test_done();
}
