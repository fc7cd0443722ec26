/* Reader sources and dispatch (src/ingest/source.c, window.c, reader.c):
 * files and their errors, gzip (concatenated members, truncated and corrupt
 * streams), format detection, bounded reading of an input much bigger than
 * the window, and a throughput figure (printed, never asserted). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "test_ingest.h"

static const char sample[] = "link_id,call_destination,delay,name\r\n"
			     "l1,449789123123,,Bob\r\n"
			     "l2,\"44,1\",\"2\",\"multi\nline\"\r\n"
			     "l3,bad\"quote,1,x\r\n"
			     "\r\n"
			     "l4,4497,0,\xc3\xa9";

/* gzip of data[0..len) appended to out, as one member. */
static void gzip_member(struct bc_buf *out, const char *data, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
			   Z_DEFAULT_STRATEGY) == Z_OK);
	size_t bound = deflateBound(&zs, (uLong)len) + 64;
	CHECK(bc_buf_grow(out, bound) == 0);
	zs.next_in = (unsigned char *)(uintptr_t)data;
	zs.avail_in = (uInt)len;
	zs.next_out = (unsigned char *)out->ptr + out->len;
	zs.avail_out = (uInt)bound;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	out->len += bound - zs.avail_out;
	deflateEnd(&zs);
}

static void test_gzip(void)
{
	size_t len = strlen(sample);
	char *plain = transcript(sample, len, BC_FORMAT_CSV, 0, 0);
	struct bc_buf gz = BC_BUF_INIT(1u << 24);

	/* One member, fed in pieces of every size. */
	gzip_member(&gz, sample, len);
	for (size_t k = 1; k <= gz.len; k++) {
		char *got = transcript(gz.ptr, gz.len, BC_FORMAT_CSV, 0, k);
		CHECK_STR(got, plain);
		free(got);
	}

	/* Two members (cat a.gz b.gz) read as one stream, split anywhere. */
	for (size_t cut = 0; cut <= len; cut += 7) {
		bc_buf_reset(&gz);
		gzip_member(&gz, sample, cut);
		gzip_member(&gz, sample + cut, len - cut);
		char *got = transcript(gz.ptr, gz.len, BC_FORMAT_CSV, 0, 3);
		CHECK_STR(got, plain);
		free(got);
	}

	/* Truncated: fatal, named, from open or from next. */
	bc_buf_reset(&gz);
	gzip_member(&gz, sample, len);
	for (size_t keep = 2; keep < gz.len; keep += 5) {
		struct bc_reader *r = NULL;
		struct bc_row row;
		char err[BC__ERR_MAX] = "";
		bc_row_init(&row);
		int result =
		    bc__reader_open_mem(&r, "in.csv.gz", BC_FORMAT_AUTO, gz.ptr,
					keep, 0, err, sizeof err);
		if (result == 0)
			while ((result = bc_reader_next(r, &row, err,
							sizeof err)) == 1)
				;
		CHECK_INT(result, BC_EGZIP);
		CHECK(strstr(err, "cannot decompress 'in.csv.gz': ") == err);
		/* A failed reader keeps saying so. */
		if (r) {
			err[0] = '\0';
			CHECK_INT(bc_reader_next(r, &row, err, sizeof err),
				  BC_EGZIP);
			CHECK(strstr(err, "in.csv.gz") != NULL);
		}
		bc_reader_free(r);
		bc_row_release(&row);
	}
	char *got = transcript(gz.ptr, gz.len - 4, BC_FORMAT_CSV, 0, 0);
	CHECK(strstr(got, "cannot decompress 'sample': truncated gzip "
			  "stream") != NULL);
	free(got);

	/* Corrupt: a flipped byte in the deflate data or the CRC. */
	gz.ptr[gz.len / 2] ^= 0x55;
	got = transcript(gz.ptr, gz.len, BC_FORMAT_CSV, 0, 0);
	CHECK(strstr(got, "cannot decompress 'sample': corrupt gzip stream") !=
	      NULL);
	free(got);

	/* Garbage after a good member is corrupt too. */
	bc_buf_reset(&gz);
	gzip_member(&gz, sample, len);
	bc_buf_adds(&gz, "trailing");
	got = transcript(gz.ptr, gz.len, BC_FORMAT_CSV, 0, 0);
	CHECK(strstr(got, "cannot decompress 'sample': corrupt gzip stream") !=
	      NULL);
	free(got);

	/* NDJSON in gzip, format sniffed from the decompressed bytes. */
	bc_buf_reset(&gz);
	const char *nd = "\n{\"a\":1}\n";
	gzip_member(&gz, nd, strlen(nd));
	struct bc_reader *r;
	char err[BC__ERR_MAX];
	CHECK_INT(bc__reader_open_mem(&r, "data.gz", BC_FORMAT_AUTO, gz.ptr,
				      gz.len, 1, err, sizeof err),
		  0);
	CHECK_INT(bc_reader_format(r), BC_FORMAT_NDJSON);
	bc_reader_free(r);

	bc_buf_release(&gz);
	free(plain);
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void test_files(void)
{
	struct bc_reader *r = NULL;
	struct bc_row row;
	char err[BC__ERR_MAX];
	char dir[] = "/tmp/bc-ingest-XXXXXX";
	char path[256];

	bc_row_init(&row);
	CHECK(mkdtemp(dir) != NULL);

	snprintf(path, sizeof path, "%s/missing.csv", dir);
	CHECK_INT(bc_reader_open(&r, path, BC_FORMAT_AUTO, err, sizeof err),
		  BC_EIO);
	CHECK(r == NULL);
	char want[600];
	snprintf(want, sizeof want,
		 "cannot open '%s': No such file or directory", path);
	CHECK_STR(err, want);

	CHECK_INT(bc_reader_open(&r, dir, BC_FORMAT_AUTO, err, sizeof err),
		  BC_EIO);
	snprintf(want, sizeof want, "cannot open '%s': Is a directory", dir);
	CHECK_STR(err, want);

	/* gzip detected by its magic bytes, whatever the name says. */
	struct bc_buf gz = BC_BUF_INIT(1u << 20);
	gzip_member(&gz, sample, strlen(sample));
	snprintf(path, sizeof path, "%s/rows.csv", dir);
	write_file(path, gz.ptr, gz.len);
	CHECK_INT(bc_reader_open(&r, path, BC_FORMAT_AUTO, err, sizeof err), 0);
	CHECK_INT(bc_reader_format(r), BC_FORMAT_CSV);
	int n = 0, result;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1)
		n++;
	CHECK_INT(result, 0);
	CHECK_INT(n, 4);
	CHECK_INT(bc_reader_offset(r), strlen(sample));
	bc_reader_free(r);

	if (geteuid() != 0) {
		chmod(path, 0);
		CHECK_INT(
		    bc_reader_open(&r, path, BC_FORMAT_AUTO, err, sizeof err),
		    BC_EIO);
		CHECK(strstr(err, "Permission denied") != NULL);
	}
	unlink(path);

	/* The committed sample files. */
	snprintf(path, sizeof path, "%s/ingest/sample.csv", BC_TEST_DATA);
	CHECK_INT(bc_reader_open(&r, path, BC_FORMAT_AUTO, err, sizeof err), 0);
	n = 0;
	int nbad = 0;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1) {
		n++;
		nbad += row.error[0] != 0;
	}
	CHECK_INT(result, 0);
	CHECK_INT(n, 6);
	CHECK_INT(nbad, 2);
	bc_reader_free(r);
	snprintf(path, sizeof path, "%s/ingest/sample.ndjson", BC_TEST_DATA);
	CHECK_INT(bc_reader_open(&r, path, BC_FORMAT_AUTO, err, sizeof err), 0);
	CHECK_INT(bc_reader_format(r), BC_FORMAT_NDJSON);
	n = nbad = 0;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1) {
		n++;
		nbad += row.error[0] != 0;
	}
	CHECK_INT(result, 0);
	CHECK_INT(n, 4);
	CHECK_INT(nbad, 1);
	bc_reader_free(r);

	/* stdin is "-": the same file behind fd 0. */
	snprintf(path, sizeof path, "%s/ingest/sample.csv", BC_TEST_DATA);
	int saved = dup(STDIN_FILENO);
	int fd = open(path, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
	close(fd);
	CHECK_INT(bc_reader_open(&r, "-", BC_FORMAT_AUTO, err, sizeof err), 0);
	CHECK_INT(bc_reader_format(r), BC_FORMAT_CSV);
	n = 0;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1)
		n++;
	CHECK_INT(result, 0);
	CHECK_INT(n, 6);
	bc_reader_free(r);
	dup2(saved, STDIN_FILENO);
	close(saved);

	rmdir(dir);
	bc_buf_release(&gz);
	bc_row_release(&row);
}

/* A read error in the middle of the input is fatal and named. */
struct failing {
	struct chunk_src src;
	size_t fail_after;
};

static ssize_t failing_read(void *ctx, void *buf, size_t cap)
{
	struct failing *f = ctx;
	if (f->src.pos >= f->fail_after) {
		errno = EIO;
		return -1;
	}
	return chunk_read(&f->src, buf, cap);
}

static void test_read_error(void)
{
	struct failing f = {{sample, strlen(sample), 0, 0, 16, 0}, 48};
	struct bc_reader *r;
	struct bc_row row;
	char err[BC__ERR_MAX];

	bc_row_init(&row);
	CHECK_INT(bc__reader_open_fn(&r, "flaky.csv", BC_FORMAT_AUTO,
				     failing_read, &f, err, sizeof err),
		  0);
	int result;
	while ((result = bc_reader_next(r, &row, err, sizeof err)) == 1)
		;
	CHECK_INT(result, BC_EIO);
	CHECK_STR(err, "cannot read 'flaky.csv': Input/output error");
	bc_reader_free(r);
	bc_row_release(&row);
}

static void test_formats(void)
{
	static const struct {
		const char *path;
		enum bc_format fmt;
	} paths[] = {
	    {"a.csv", BC_FORMAT_CSV},	    {"A.CSV.GZ", BC_FORMAT_CSV},
	    {"x.ndjson", BC_FORMAT_NDJSON}, {"x.jsonl.gz", BC_FORMAT_NDJSON},
	    {"x.json", BC_FORMAT_AUTO},	    {"-", BC_FORMAT_AUTO},
	    {"gz", BC_FORMAT_AUTO},	    {".gz", BC_FORMAT_AUTO},
	    {"csv", BC_FORMAT_AUTO},	    {"x.txt", BC_FORMAT_AUTO},
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		CHECK_INT(bc_format_from_path(paths[i].path), paths[i].fmt);
	CHECK_STR(bc_format_name(BC_FORMAT_CSV), "csv");
	CHECK_STR(bc_format_name(BC_FORMAT_NDJSON), "ndjson");
	CHECK_STR(bc_format_name(BC_FORMAT_AUTO), "auto");

	static const struct {
		const char *input;
		const char *name;
		enum bc_format ask, got;
	} sniff[] = {
	    {"{\"a\":1}\n", "-", BC_FORMAT_AUTO, BC_FORMAT_NDJSON},
	    {"\xef\xbb\xbf \r\n\t{\"a\":1}\n", "in", BC_FORMAT_AUTO,
	     BC_FORMAT_NDJSON},
	    {"a,b\n", "in", BC_FORMAT_AUTO, BC_FORMAT_CSV},
	    {"{a},b\n", "in.csv", BC_FORMAT_AUTO, BC_FORMAT_CSV},
	    {"a,b\n", "in.ndjson", BC_FORMAT_CSV, BC_FORMAT_CSV},
	    {"\n\n", "in", BC_FORMAT_NDJSON, BC_FORMAT_NDJSON},
	};
	for (size_t i = 0; i < sizeof sniff / sizeof *sniff; i++) {
		struct bc_reader *r;
		char err[BC__ERR_MAX];
		CHECK_INT(bc__reader_open_mem(
			      &r, sniff[i].name, sniff[i].ask, sniff[i].input,
			      strlen(sniff[i].input), 1, err, sizeof err),
			  0);
		CHECK_INT(bc_reader_format(r), sniff[i].got);
		bc_reader_free(r);
	}

	/* White space beyond the window still counts as CSV. */
	struct bc_buf b = BC_BUF_INIT(1u << 20);
	for (unsigned i = 0; i < 2 * BC__WINDOW_SIZE; i++)
		bc_buf_addc(&b, '\n');
	bc_buf_adds(&b, "{\"a\":1}\n");
	struct bc_reader *r = NULL;
	char err[BC__ERR_MAX];
	CHECK_INT(bc__reader_open_mem(&r, "in", BC_FORMAT_AUTO, b.ptr, b.len, 0,
				      err, sizeof err),
		  BC_EHEADER);
	CHECK_INT(bc__reader_open_mem(&r, "in", BC_FORMAT_NDJSON, b.ptr, b.len,
				      0, err, sizeof err),
		  0);
	struct bc_row row;
	bc_row_init(&row);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_INT(row.line, 2 * BC__WINDOW_SIZE + 1);
	bc_reader_free(r);
	bc_row_release(&row);
	bc_buf_release(&b);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ~5 MB (or BC_BENCH_ROWS rows) generated in memory and read through the
 * 64 KiB window: every row comes out, the reader never asks for more than
 * a window ahead of what it has handed out, and the rate is printed. */
static void test_big_input(void)
{
	const char *env = getenv("BC_BENCH_ROWS");
	size_t rows = env ? (size_t)strtoull(env, NULL, 10) : 120000;
	const char *line = "link123,449789123123,,1,,2,30,Bob,Smith\n";
	size_t line_len = strlen(line);
	struct bc_buf in = BC_BUF_INIT((size_t)1 << 34);

	CHECK(bc_buf_grow(&in, (rows + 1) * line_len + 64) == 0);
	bc_buf_adds(&in, "link_id,call_destination,delay,a,b,c,d,first,last\n");
	for (size_t i = 0; i < rows; i++)
		bc_buf_add(&in, line, line_len);

	for (int gz = 0; gz <= 1; gz++) {
		struct bc_buf z = BC_BUF_INIT((size_t)1 << 34);
		if (gz)
			gzip_member(&z, in.ptr, in.len);
		struct chunk_src src = {
		    gz ? z.ptr : in.ptr, gz ? z.len : in.len, 0, 0, 0, 0};
		struct bc_reader *r;
		struct bc_row row;
		char err[BC__ERR_MAX];
		bc_row_init(&row);
		CHECK_INT(bc__reader_open_fn(&r, "big.csv", BC_FORMAT_CSV,
					     chunk_read, &src, err, sizeof err),
			  0);
		size_t n = 0, bad = 0, ahead_max = 0;
		int result;
		double t0 = now_s();
		while ((result = bc_reader_next(r, &row, err, sizeof err)) ==
		       1) {
			n++;
			bad += row.error[0] != 0;
			if (!gz) {
				size_t ahead =
				    src.pos - (size_t)bc_reader_offset(r);
				if (ahead > ahead_max)
					ahead_max = ahead;
			}
		}
		double dt = now_s() - t0;
		CHECK_INT(result, 0);
		CHECK_INT(n, rows);
		CHECK_INT(bad, 0);
		CHECK_INT(row.nvalues, 0); /* reset at end of input */
		CHECK_INT(bc_reader_offset(r), in.len);
		if (!gz) {
			CHECK(ahead_max <= 2 * BC__WINDOW_SIZE);
			CHECK(src.max_ahead <= BC__WINDOW_SIZE);
		}
		printf("# %s: %zu rows, %.1f MB in %.3f s: %.0f rows/s, "
		       "%.1f MB/s\n",
		       gz ? "csv.gz" : "csv", n, (double)in.len / 1e6, dt,
		       (double)n / dt, (double)in.len / 1e6 / dt);
		bc_reader_free(r);
		bc_row_release(&row);
		bc_buf_release(&z);
	}
	bc_buf_release(&in);

	/* The same for NDJSON: cJSON costs more per row than libcsv. */
	const char *obj = "{\"link_id\":\"link123\",\"call_destination\":"
			  "\"449789123123\",\"delay\":null,\"n\":1,"
			  "\"first\":\"Bob\",\"last\":\"Smith\"}\n";
	size_t obj_len = strlen(obj);
	in = (struct bc_buf)BC_BUF_INIT((size_t)1 << 34);
	CHECK(bc_buf_grow(&in, rows * obj_len) == 0);
	for (size_t i = 0; i < rows; i++)
		bc_buf_add(&in, obj, obj_len);
	struct bc_reader *r;
	struct bc_row row;
	char err[BC__ERR_MAX];
	bc_row_init(&row);
	CHECK_INT(bc__reader_open_mem(&r, "big.ndjson", BC_FORMAT_AUTO, in.ptr,
				      in.len, 0, err, sizeof err),
		  0);
	size_t n = 0, bad = 0;
	double t0 = now_s();
	while (bc_reader_next(r, &row, err, sizeof err) == 1) {
		n++;
		bad += row.error[0] != 0;
	}
	double dt = now_s() - t0;
	CHECK_INT(n, rows);
	CHECK_INT(bad, 0);
	CHECK_INT(bc_reader_columns(r)->count, 6);
	printf(
	    "# ndjson: %zu rows, %.1f MB in %.3f s: %.0f rows/s, %.1f MB/s\n",
	    n, (double)in.len / 1e6, dt, (double)n / dt,
	    (double)in.len / 1e6 / dt);
	bc_reader_free(r);
	bc_row_release(&row);
	bc_buf_release(&in);
}

int main(void)
{
	test_gzip();
	test_files();
	test_read_error();
	test_formats();
	test_big_input();
	return bc_test_done();
}
