/* CSV reader (src/ingest/csv.c): RFC 4180 records with their exact bytes
 * and start lines, bad records as rows with errors and good rows after
 * them, header errors; every sample is also fed split at every offset. */
#include "test_ingest.h"

static const struct rows_case good[] = {
    {"plain",
     "a,b,c\n1,2,3\nx,y,z\n",
     2,
     {{2, "1,2,3\n", "", "s:1|s:2|s:3"}, {3, "x,y,z\n", "", "s:x|s:y|s:z"}}},
    {"crlf",
     "a,b\r\n1,2\r\n3,4\r\n",
     2,
     {{2, "1,2\r\n", "", "s:1|s:2"}, {3, "3,4\r\n", "", "s:3|s:4"}}},
    {"bom",
     "\xef\xbb\xbf"
     "a,b\n1,2\n",
     1,
     {{2, "1,2\n", "", "s:1|s:2"}}},
    {"no final newline",
     "a,b\n1,2\n3,4",
     2,
     {{2, "1,2\n", "", "s:1|s:2"}, {3, "3,4\n", "", "s:3|s:4"}}},
    {"no final newline after cr",
     "a,b\n3,4\r",
     1,
     {{2, "3,4\r\n", "", "s:3|s:4"}}},
    {"quoted",
     "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"\"\n",
     1,
     {{2, "\"x,y\",\"say \"\"hi\"\"\",\"\"\n", "", "s:x,y|s:say \"hi\"|s:"}}},
    {"embedded newlines",
     "id,note\n1,\"two\nlines\"\n2,\"three\r\nlines\nhere\"\n3,end\n",
     3,
     {{2, "1,\"two\nlines\"\n", "", "s:1|s:two\\nlines"},
      {4, "2,\"three\r\nlines\nhere\"\n", "", "s:2|s:three\\r\\nlines\\nhere"},
      {7, "3,end\n", "", "s:3|s:end"}}},
    {"blank lines skipped",
     "\na,b\n\n1,2\r\n\r\n\n3,4\n\n",
     2,
     {{4, "1,2\r\n", "", "s:1|s:2"}, {7, "3,4\n", "", "s:3|s:4"}}},
    {"spaces kept",
     "a,b\n x , \ty\t\n\" q \",  \n",
     2,
     {{2, " x , \ty\t\n", "", "s: x |s: \\x09y\\x09"},
      {3, "\" q \",  \n", "", "s: q |s:  "}}},
    {"empty fields",
     "a,b,c\n,,\n\"\",,\"\"\n",
     2,
     {{2, ",,\n", "", "s:|s:|s:"}, {3, "\"\",,\"\"\n", "", "s:|s:|s:"}}},
    {"utf8",
     "name,city\nJos\xc3\xa9,\xe6\x9d\xb1\xe4\xba\xac\n\xf0\x9f\x98\x80,x\n",
     2,
     {{2, "Jos\xc3\xa9,\xe6\x9d\xb1\xe4\xba\xac\n", "", NULL},
      {3, "\xf0\x9f\x98\x80,x\n", "", NULL}}},
    {"one column",
     "phone\n123\n\n456\n",
     2,
     {{2, "123\n", "", "s:123"}, {4, "456\n", "", "s:456"}}},
    {"header only", "a,b\n", 0, {{0, "", "", NULL}}},
    {"header only without newline", "a,b", 0, {{0, "", "", NULL}}},
};

static const struct rows_case bad[] = {
    {"unbalanced quote at end",
     "a,b\n1,2\n3,\"4\n",
     2,
     {{2, "1,2\n", "", "s:1|s:2"},
      {3, "3,\"4\n", "line 3: unbalanced quote", NULL}}},
    {"unbalanced quote without final newline",
     "a,b\n3,\"4",
     1,
     {{2, "3,\"4\n", "line 2: unbalanced quote", NULL}}},
    {"unbalanced quote swallows lines",
     "a,b\n1,\"x\n2,y\n3,z\n",
     3,
     {{2, "1,\"x\n", "line 2: unbalanced quote", NULL},
      {3, "2,y\n", "", "s:2|s:y"},
      {4, "3,z\n", "", "s:3|s:z"}}},
    {"unbalanced quote closed by a later quote",
     "a,b\n1,\"x\n2,\"y\"\n3,z\n",
     3,
     {{2, "1,\"x\n", "line 2: unbalanced quote", NULL},
      {3, "2,\"y\"\n", "", "s:2|s:y"},
      {4, "3,z\n", "", "s:3|s:z"}}},
    {"unbalanced quote after a good multi-line field",
     "a,b,c\n1,\"x\ny\",\"open\n2,u,v\n",
     2,
     {{2, "1,\"x\ny\",\"open\n", "line 2: unbalanced quote", NULL},
      {4, "2,u,v\n", "", "s:2|s:u|s:v"}}},
    {"quote inside unquoted field",
     "a,b\n1,x\"y\n2,z\n",
     2,
     {{2, "1,x\"y\n", "line 2: quote inside unquoted field 2 (b)", NULL},
      {3, "2,z\n", "", "s:2|s:z"}}},
    {"text after closing quote",
     "a,b\n\"1\"x,2\n2,z\n",
     2,
     {{2, "\"1\"x,2\n", "line 2: character after closing quote in field 1 (a)",
       NULL},
      {3, "2,z\n", "", "s:2|s:z"}}},
    {"space after closing quote",
     "a,b\n1,\"2\" \n3,4\n",
     2,
     {{2, "1,\"2\" \n", "line 2: character after closing quote in field 2 (b)",
       NULL},
      {3, "3,4\n", "", "s:3|s:4"}}},
    {"bad quote after a good multi-line field",
     "a,b,c\n1,\"x\ny\",z\"\n2,u,v\n",
     2,
     {{2, "1,\"x\ny\",z\"\n", "line 2: quote inside unquoted field 3 (c)",
       NULL},
      {4, "2,u,v\n", "", "s:2|s:u|s:v"}}},
    {"field counts",
     "a,b,c,d\n1,2,3,4,5\n1,2,3\n1,2,3,4\n",
     3,
     {{2, "1,2,3,4,5\n", "line 2: expected 4 fields, found 5", NULL},
      {3, "1,2,3\n", "line 3: expected 4 fields, found 3", NULL},
      {4, "1,2,3,4\n", "", "s:1|s:2|s:3|s:4"}}},
    {"invalid utf-8",
     "id,call_destination,x\n"
     "1,\xc0\xaf,x\n"	      /* overlong '/' */
     "2,\xed\xa0\x80,x\n"     /* surrogate */
     "3,\xf4\x90\x80\x80,x\n" /* above U+10FFFF */
     "4,\xe2\x82,x\n"	      /* truncated */
     "5,\x80,x\n"	      /* stray continuation */
     "6,ok,\xff\n"
     "7,\xe2\x82\xac,x\n", /* euro sign: fine */
     7,
     {{2, "1,\xc0\xaf,x\n",
       "line 2: invalid UTF-8 in field 2 (call_destination)", NULL},
      {3, "2,\xed\xa0\x80,x\n",
       "line 3: invalid UTF-8 in field 2 (call_destination)", NULL},
      {4, "3,\xf4\x90\x80\x80,x\n",
       "line 4: invalid UTF-8 in field 2 (call_destination)", NULL},
      {5, "4,\xe2\x82,x\n",
       "line 5: invalid UTF-8 in field 2 (call_destination)", NULL},
      {6, "5,\x80,x\n", "line 6: invalid UTF-8 in field 2 (call_destination)",
       NULL},
      {7, "6,ok,\xff\n", "line 7: invalid UTF-8 in field 3 (x)", NULL},
      {8, "7,\xe2\x82\xac,x\n", "", "s:7|s:\\xe2\\x82\\xac|s:x"}}},
    {"bare carriage return",
     "a,b\n1,2\r3,4\n5,6\n",
     2,
     {{2, "1,2\r3,4\n", "line 2: carriage return outside quotes", NULL},
      {3, "5,6\n", "", "s:5|s:6"}}},
    {"bare carriage return then quote",
     "a,b\n1,2\r\"3\n5,6\n",
     2,
     {{2, "1,2\r\"3\n", "line 2: carriage return outside quotes", NULL},
      {3, "5,6\n", "", "s:5|s:6"}}},
    {"bare carriage return then bad quote",
     "a,b\n1,2\r3\"\n5,6\n",
     2,
     {{2, "1,2\r3\"\n", "line 2: carriage return outside quotes", NULL},
      {3, "5,6\n", "", "s:5|s:6"}}},
    {"errors in a row after good ones keep indexes",
     "a\n1\n\"\n2\n",
     3,
     {{2, "1\n", "", "s:1"},
      {3, "\"\n", "line 3: unbalanced quote", NULL},
      {4, "2\n", "", "s:2"}}},
};

/* Every sample, good and bad, gives the same rows however it is split. */
static void test_splits(void)
{
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check_splits(good[i].name, good[i].input, strlen(good[i].input),
			     BC_FORMAT_CSV);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check_splits(bad[i].name, bad[i].input, strlen(bad[i].input),
			     BC_FORMAT_CSV);
}

static void test_tables(void)
{
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check_rows(&good[i], BC_FORMAT_CSV, 1);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check_rows(&bad[i], BC_FORMAT_CSV, 1);
}

static void test_header_bytes(void)
{
	static const struct {
		const char *input;
		const char *header;
		size_t ncols;
	} cases[] = {
	    {"a,b\r\n1,2\r\n", "a,b\r\n", 2},
	    {"\xef\xbb\xbf"
	     "a,b\n",
	     "a,b\n", 2},
	    {"a,b", "a,b\n", 2},
	    {"\n\r\nx\n", "x\n", 1},
	    {"\"multi\nline\",\"q\"\"\"\n", "\"multi\nline\",\"q\"\"\"\n", 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct bc_reader *r;
		char err[BC__ERR_MAX];
		size_t len;
		int result = bc__reader_open_mem(
		    &r, "h.csv", BC_FORMAT_AUTO, cases[i].input,
		    strlen(cases[i].input), 0, err, sizeof err);
		CHECK_INT(result, 0);
		if (result)
			continue;
		CHECK_STR(bc_reader_header(r, &len), cases[i].header);
		CHECK_INT(len, strlen(cases[i].header));
		CHECK_INT(bc_reader_columns(r)->count, cases[i].ncols);
		CHECK_INT(bc_reader_format(r), BC_FORMAT_CSV);
		bc_reader_free(r);
	}
	struct bc_reader *r;
	char err[BC__ERR_MAX];
	const char *in = "\xef\xbb\xbfq,\"multi\nline\",bulkcall_error\n";
	CHECK_INT(bc__reader_open_mem(&r, "h.csv", BC_FORMAT_CSV, in,
				      strlen(in), 0, err, sizeof err),
		  0);
	const struct bc_columns *cols = bc_reader_columns(r);
	CHECK_INT(cols->count, 3);
	CHECK_STR(cols->names[0], "q");
	CHECK_STR(cols->names[1], "multi\nline");
	CHECK_STR(cols->names[2], "bulkcall_error");
	CHECK_INT(bc_columns_find(cols, "bulkcall_error"), 2);
	CHECK_INT(bc_reader_offset(r), strlen(in));
	bc_reader_free(r);
}

static void test_header_errors(void)
{
	static const struct {
		const char *input;
		const char *err;
	} cases[] = {
	    {"", "'h.csv': no header line"},
	    {"\n\r\n\n", "'h.csv': no header line"},
	    {"a,b,,d\n1,2,3,4\n", "'h.csv': header: column 3 is empty"},
	    {"link_id,b,c,link_id\n",
	     "'h.csv': header: duplicate column 'link_id' (columns 1 and "
	     "4)"},
	    {"a,\"b\n", "'h.csv': header: unbalanced quote"},
	    {"a,b\"c\n", "'h.csv': header: quote inside unquoted field 2"},
	    {"a,\xc3\x28\n", "'h.csv': header: invalid UTF-8 in column 2"},
	    {"a,b\r,c\n", "'h.csv': header: carriage return outside quotes"},
	    {"a\n", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct bc_reader *r = NULL;
		char err[BC__ERR_MAX] = "";
		int result = bc__reader_open_mem(
		    &r, "h.csv", BC_FORMAT_CSV, cases[i].input,
		    strlen(cases[i].input), 1, err, sizeof err);
		if (!cases[i].err) {
			CHECK_INT(result, 0);
		} else {
			CHECK_INT(result, BC_EHEADER);
			CHECK_STR(err, cases[i].err);
			CHECK(r == NULL);
		}
		bc_reader_free(r);
	}

	/* More columns than a row may have. */
	struct bc_buf b = BC_BUF_INIT(1u << 20);
	for (unsigned i = 0; i <= BC_COLUMNS_MAX; i++)
		bc_buf_addf(&b, "%sc%u", i ? "," : "", i);
	bc_buf_addc(&b, '\n');
	struct bc_reader *r = NULL;
	char err[BC__ERR_MAX];
	CHECK_INT(bc__reader_open_mem(&r, "h.csv", BC_FORMAT_CSV, b.ptr, b.len,
				      0, err, sizeof err),
		  BC_EHEADER);
	CHECK_STR(err, "'h.csv': header: more than 1024 columns");
	bc_buf_release(&b);
}

/* Fields and records over their limits are bad rows; reading goes on. */
static void test_limits(void)
{
	struct bc_buf in = BC_BUF_INIT(8u << 20);
	struct bc_reader *r;
	struct bc_row row;
	char err[BC__ERR_MAX];

	bc_row_init(&row);
	bc_buf_adds(&in, "a,b\n");
	/* line 2: field 2 one byte over the limit */
	bc_buf_adds(&in, "1,");
	for (unsigned i = 0; i <= BC_FIELD_MAX; i++)
		bc_buf_addc(&in, 'x');
	bc_buf_addc(&in, '\n');
	/* line 3: exactly at the limit, quoted */
	bc_buf_adds(&in, "2,\"");
	for (unsigned i = 0; i < BC_FIELD_MAX; i++)
		bc_buf_addc(&in, 'y');
	bc_buf_adds(&in, "\"\n");
	/* line 4: a line longer than a record may be */
	for (unsigned i = 0; i < BC_RECORD_MAX + 10; i++)
		bc_buf_addc(&in, i % 100 == 0 ? ',' : 'z');
	bc_buf_addc(&in, '\n');
	bc_buf_adds(&in, "3,ok\n");
	/* line 6: an open quote that would swallow more than a record */
	bc_buf_adds(&in, "4,\"open\n");
	for (unsigned i = 0; i < 20000; i++)
		bc_buf_adds(&in, "5,"
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				 "aaaaaaaaaa\n");
	bc_buf_adds(&in, "6,end");

	for (size_t chunk = 0; chunk <= 1; chunk++) {
		CHECK_INT(bc__reader_open_mem(&r, "big.csv", BC_FORMAT_AUTO,
					      in.ptr, in.len, chunk ? 65537 : 0,
					      err, sizeof err),
			  0);
		CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
		CHECK_STR(row.error, "line 2: field 2 exceeds 65536 bytes");
		CHECK_INT(row.raw.len, 2 + BC_FIELD_MAX + 2);
		CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
		CHECK_STR(row.error, "");
		CHECK_INT(row.len[1], BC_FIELD_MAX);
		CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
		CHECK_STR(row.error, "line 4: record exceeds 1048576 bytes");
		CHECK_INT(row.line, 4);
		CHECK_INT(row.raw.len, 0);
		CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
		CHECK_STR(row.raw.ptr, "3,ok\n");
		CHECK_INT(row.line, 5);
		CHECK_INT(row.index, 4);
		CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
		CHECK_STR(row.error, "line 6: unbalanced quote");
		CHECK_STR(row.raw.ptr, "4,\"open\n");
		size_t n = 0, nbad = 0;
		uint64_t last_line = 0;
		int result;
		while ((result = bc_reader_next(r, &row, err, sizeof err)) ==
		       1) {
			n++;
			nbad += row.error[0] != 0;
			last_line = row.line;
		}
		CHECK_INT(result, 0);
		CHECK_INT(n, 20001);
		CHECK_INT(nbad, 0);
		CHECK_INT(last_line, 20007);
		CHECK_INT(bc_reader_offset(r), in.len);
		bc_reader_free(r);
	}
	bc_buf_release(&in);
	bc_row_release(&row);
}

/* A line longer than the read window comes through in pieces. */
static void test_long_line(void)
{
	struct bc_buf in = BC_BUF_INIT(1u << 20);
	bc_buf_adds(&in, "a,b,c,d\n");
	for (int f = 0; f < 4; f++) {
		if (f)
			bc_buf_addc(&in, ',');
		bc_buf_addc(&in, '"');
		for (unsigned i = 0; i < 60000; i++)
			bc_buf_addc(&in,
				    i % 1000 == 999 ? '\n' : (char)('a' + f));
		bc_buf_addc(&in, '"');
	}
	bc_buf_adds(&in, "\r\n1,2,3,4\n");

	struct bc_reader *r;
	struct bc_row row;
	char err[BC__ERR_MAX];
	bc_row_init(&row);
	CHECK_INT(bc__reader_open_mem(&r, "long.csv", BC_FORMAT_CSV, in.ptr,
				      in.len, 4093, err, sizeof err),
		  0);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "");
	CHECK_INT(row.raw.len, in.len - strlen("a,b,c,d\n1,2,3,4\n"));
	CHECK_INT(row.len[3], 60000);
	CHECK(row.data.ptr[row.off[3]] == 'd');
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_INT(row.line, 3 + 4 * 60);
	CHECK_STR(row.raw.ptr, "1,2,3,4\n");
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 0);
	bc_reader_free(r);
	bc_row_release(&row);
	bc_buf_release(&in);
}

int main(void)
{
	test_tables();
	test_splits();
	test_header_bytes();
	test_header_errors();
	test_limits();
	test_long_line();
	return bc_test_done();
}
