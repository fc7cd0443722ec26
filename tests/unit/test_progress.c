/* progress: the line's text. done / total counts finished rows, the total
 * estimated from bytes ("~N") until the input is read, exact after; the
 * percentage and ETA come from finished rows, not from bytes read (which
 * run ahead by the in-flight and queued rows). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bulkcall/progress.h"
#include "tap.h"

struct format_case {
	struct bc_progress_state s;
	double secs;
	const char *want;
};

static void test_format(void)
{
	static const struct format_case cases[] = {
	    /* Read all 1,000 rows' bytes but finished 500: half done,
	     * not 100%. */
	    {{.done = 500,
	      .in_flight = 100,
	      .rows_read = 1000,
	      .bytes_read = 50000,
	      .bytes_total = 50000},
	     10,
	     "500 / ~1000 rows (50%), 0 not ok, 50 rows/s, 100 in "
	     "flight, 0 throttled, 0 retries, ETA ~10s"},
	    /* A quarter of the bytes read: the total is estimated. */
	    {{.done = 100,
	      .not_ok = 3,
	      .in_flight = 10,
	      .throttled = 2,
	      .retries = 4,
	      .rows_read = 250,
	      .bytes_read = 25000,
	      .bytes_total = 100000},
	     2,
	     "100 / ~1000 rows (10%), 3 not ok, 50 rows/s, 10 in flight, "
	     "2 throttled, 4 retries, ETA ~18s"},
	    /* Input read to its end: exact. */
	    {{.done = 999,
	      .rows_read = 1000,
	      .input_done = 1,
	      .bytes_read = 50000,
	      .bytes_total = 50000},
	     100,
	     "999 / 1000 rows (99%), 0 not ok, 10 rows/s, 0 in flight, 0 "
	     "throttled, 0 retries, ETA 0s"},
	    {{.done = 1000, .not_ok = 1, .rows_read = 1000, .input_done = 1},
	     4000,
	     "1000 / 1000 rows (100%), 1 not ok, 0 rows/s, 0 in flight, 0 "
	     "throttled, 0 retries"},
	    /* stdin or gzip: no total until the end. */
	    {{.done = 42, .rows_read = 300, .bytes_read = 9000},
	     1,
	     "42 rows, 0 not ok, 42 rows/s, 0 in flight, 0 throttled, 0 "
	     "retries"},
	    /* Resume: rows final before are done, not part of rows/s. */
	    {{.done = 700, .skipped = 600, .rows_read = 800, .input_done = 1},
	     10,
	     "700 / 800 rows (87%), 0 not ok, 10 rows/s, 0 in flight, 0 "
	     "throttled, 0 retries, ETA 10s"},
	    {{.done = 10, .rows_read = 20, .input_done = 1},
	     0.5,
	     "10 / 20 rows (50%), 0 not ok, 20 rows/s, 0 in flight, 0 "
	     "throttled, 0 retries, ETA 1s"},
	    {{.done = 1, .rows_read = 7201, .input_done = 1},
	     1,
	     "1 / 7201 rows (0%), 0 not ok, 1 rows/s, 0 in flight, 0 "
	     "throttled, 0 retries, ETA 2h00m"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char line[256];
		bc_progress_format(&cases[i].s, cases[i].secs, line,
				   sizeof line);
		CHECK_STR(line, cases[i].want);
	}
}

/* On a file, --progress always ends with a plain line showing every row
 * done; a line due every 10 s is not printed in a short run. */
static void test_finish_plain(void)
{
	FILE *f = tmpfile();
	CHECK(f != NULL);
	if (!f)
		return;
	struct bc_progress p;
	bc_progress_init(&p, f, BC_PROGRESS_ALWAYS, 0, 0);
	struct bc_progress_state s = {
	    .done = 3, .rows_read = 5, .bytes_read = 10, .bytes_total = 10};
	bc_progress_update(&p, &s, 1000000);
	s.done = 5;
	s.input_done = 1;
	bc_progress_finish(&p, &s, 2000000);
	rewind(f);
	char buf[512] = "";
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	CHECK_STR(buf, "bulkcall: 5 / 5 rows (100%), 0 not ok, 2 rows/s, 0 in "
		       "flight, 0 throttled, 0 retries\n");
	fclose(f);

	/* auto, and nothing printed before: the summary says it all. */
	f = tmpfile();
	CHECK(f != NULL);
	if (!f)
		return;
	bc_progress_init(&p, f, BC_PROGRESS_AUTO, 0, 0);
	bc_progress_finish(&p, &s, 2000000);
	CHECK_INT(ftell(f), 0);
	fclose(f);
}

int main(void)
{
	test_format();
	test_finish_plain();
	return bc_test_done();
}
