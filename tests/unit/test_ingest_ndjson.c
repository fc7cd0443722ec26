/* NDJSON reader (src/ingest/ndjson.c): value kinds and their text, columns
 * in first-seen order, bad lines as rows with errors and good rows after
 * them; every sample is also fed split at every offset. */
#include "test_ingest.h"

static const struct rows_case good[] = {
    {"kinds",
     "{\"s\":\"x\",\"i\":10,\"f\":1.50,\"e\":-2E+3,\"t\":true,\"n\":null,"
     "\"a\":[1, \"two\",null,false]}\n",
     1,
     {{1,
       "{\"s\":\"x\",\"i\":10,\"f\":1.50,\"e\":-2E+3,\"t\":true,"
       "\"n\":null,\"a\":[1, \"two\",null,false]}\n",
       "", "s:x|n:10|n:1.50|n:-2E+3|b:true|z:|a:[1, \"two\",null,false]"}}},
    {"columns grow",
     "{\"b\":1,\"a\":2}\n{\"c\":\"3\",\"a\":4}\n{}\n",
     3,
     {{1, "{\"b\":1,\"a\":2}\n", "", "n:1|n:2"},
      {2, "{\"c\":\"3\",\"a\":4}\n", "", "-|n:4|s:3"},
      {3, "{}\n", "", "-|-|-"}}},
    {"strings",
     "{\"k\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\",\"e\":\"\"}\n",
     1,
     {{1, "{\"k\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\",\"e\":\"\"}\n", "",
       "s:a\"b\\\\c\\n\\xc3\\xa9\\xf0\\x9f\\x98\\x80|s:"}}},
    {"white space, crlf, blank lines",
     "\xef\xbb\xbf  { \"a\" : 1 , \"b\" : [ ] }  \r\n\r\n   "
     "\n\t\n{\"a\":-0.5e-7}",
     2,
     {{1, "  { \"a\" : 1 , \"b\" : [ ] }  \r\n", "", "n:1|a:[ ]"},
      {5, "{\"a\":-0.5e-7}\n", "", "n:-0.5e-7|-"}}},
    {"booleans",
     "{\"x\":false}\n{\"x\":true}\n",
     2,
     {{1, "{\"x\":false}\n", "", "b:false"},
      {2, "{\"x\":true}\n", "", "b:true"}}},
};

static const struct rows_case bad[] = {
    {"nested object",
     "{\"a\":1}\n{\"a\":2,\"x\":{\"y\":1}}\n{\"a\":3}\n",
     3,
     {{1, "{\"a\":1}\n", "", "n:1"},
      {2, "{\"a\":2,\"x\":{\"y\":1}}\n",
       "line 2: value of \"x\" is a nested object", NULL},
      {3, "{\"a\":3}\n", "", "n:3"}}},
    {"arrays of containers",
     "{\"x\":[1,{}]}\n{\"x\":[[1]]}\n{\"x\":[1]}\n",
     3,
     {{1, "{\"x\":[1,{}]}\n",
       "line 1: value of \"x\" is an array containing an object", NULL},
      {2, "{\"x\":[[1]]}\n",
       "line 2: value of \"x\" is an array containing an array", NULL},
      {3, "{\"x\":[1]}\n", "", "a:[1]"}}},
    {"not objects",
     "[1,2]\n42\n\"s\"\nnull\n{\"a\":1}\n",
     5,
     {{1, "[1,2]\n", "line 1: not a JSON object", NULL},
      {2, "42\n", "line 2: not a JSON object", NULL},
      {3, "\"s\"\n", "line 3: not a JSON object", NULL},
      {4, "null\n", "line 4: not a JSON object", NULL},
      {5, "{\"a\":1}\n", "", "n:1"}}},
    {"invalid json",
     "{\"a\":1,\"b\":}\n{\"a\":1} x\n{\"a\":01}\n{\"a\":1.}\n{\"a\n{\"a\":2}\n",
     6,
     {{1, "{\"a\":1,\"b\":}\n", "line 1: invalid JSON at column 12", NULL},
      {2, "{\"a\":1} x\n", "line 2: invalid JSON at column 9", NULL},
      {3, "{\"a\":01}\n", "line 3: invalid JSON at column 6", NULL},
      {4, "{\"a\":1.}\n", "line 4: invalid JSON at column 6", NULL},
      {5, "{\"a\n", "line 5: invalid JSON at column 3", NULL},
      {6, "{\"a\":2}\n", "", "n:2"}}},
    {"invalid utf-8",
     "{\"a\":\"\xc0\xaf\"}\n{\"a\":\"\xed\xa0\x80\"}\n{\"a\":\"ok\"}\n",
     3,
     {{1, "{\"a\":\"\xc0\xaf\"}\n", "line 1: invalid UTF-8 at column 7", NULL},
      {2, "{\"a\":\"\xed\xa0\x80\"}\n", "line 2: invalid UTF-8 at column 7",
       NULL},
      {3, "{\"a\":\"ok\"}\n", "", "s:ok"}}},
    {"keys",
     "{\"a\":1,\"a\":2}\n{\"\":1}\n{\"a\":3}\n",
     3,
     {{1, "{\"a\":1,\"a\":2}\n", "line 1: duplicate key \"a\"", NULL},
      {2, "{\"\":1}\n", "line 2: empty key", NULL},
      {3, "{\"a\":3}\n", "", "n:3"}}},
};

static void test_tables(void)
{
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check_rows(&good[i], BC_FORMAT_NDJSON, 1);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check_rows(&bad[i], BC_FORMAT_NDJSON, 1);
}

static void test_splits(void)
{
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		check_splits(good[i].name, good[i].input, strlen(good[i].input),
			     BC_FORMAT_NDJSON);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		check_splits(bad[i].name, bad[i].input, strlen(bad[i].input),
			     BC_FORMAT_NDJSON);
}

static void test_columns(void)
{
	struct bc_reader *r;
	struct bc_row row;
	char err[BC__ERR_MAX];
	const char *in = "{\"link_id\":\"l1\",\"n\":1}\n"
			 "{\"n\":2,\"call_destination\":\"123\"}\n";

	bc_row_init(&row);
	CHECK_INT(bc__reader_open_mem(&r, "x.jsonl", BC_FORMAT_AUTO, in,
				      strlen(in), 0, err, sizeof err),
		  0);
	CHECK_INT(bc_reader_format(r), BC_FORMAT_NDJSON);
	size_t hlen = 99;
	CHECK_STR(bc_reader_header(r, &hlen), "");
	CHECK_INT(hlen, 0);
	CHECK_INT(bc_reader_columns(r)->count, 0);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_INT(bc_reader_columns(r)->count, 2);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	const struct bc_columns *cols = bc_reader_columns(r);
	CHECK_INT(cols->count, 3);
	CHECK_STR(cols->names[2], "call_destination");
	CHECK(bc_row_get(&row, 0, NULL) == NULL);
	CHECK_INT(bc_row_kind(&row, 0), BC_VAL_ABSENT);
	CHECK_STR(bc_row_get(&row, 1, NULL), "2");
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 0);
	CHECK_INT(bc_reader_offset(r), strlen(in));
	bc_reader_free(r);

	/* Keys past BC_COLUMNS_MAX make a bad row; earlier ones stay. */
	struct bc_buf b = BC_BUF_INIT(1u << 20);
	bc_buf_addc(&b, '{');
	for (unsigned i = 0; i <= BC_COLUMNS_MAX; i++)
		bc_buf_addf(&b, "%s\"k%u\":%u", i ? "," : "", i, i);
	bc_buf_adds(&b, "}\n{\"k5\":\"ok\"}\n");
	CHECK_INT(bc__reader_open_mem(&r, "x", BC_FORMAT_NDJSON, b.ptr, b.len,
				      0, err, sizeof err),
		  0);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "line 1: more than 1024 columns");
	CHECK_INT(bc_reader_columns(r)->count, BC_COLUMNS_MAX);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "");
	CHECK_STR(bc_row_get(&row, 5, NULL), "ok");
	bc_reader_free(r);
	bc_buf_release(&b);

	/* A line longer than a record may be; reading goes on. */
	b = (struct bc_buf)BC_BUF_INIT(4u << 20);
	bc_buf_adds(&b, "{\"a\":\"");
	for (unsigned i = 0; i < BC_RECORD_MAX; i++)
		bc_buf_addc(&b, 'x');
	bc_buf_adds(&b, "\"}\n{\"a\":\"");
	for (unsigned i = 0; i <= BC_FIELD_MAX; i++)
		bc_buf_addc(&b, 'y');
	bc_buf_adds(&b, "\"}\n{\"a\":1}\n");
	CHECK_INT(bc__reader_open_mem(&r, "x", BC_FORMAT_NDJSON, b.ptr, b.len,
				      1000, err, sizeof err),
		  0);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "line 1: record exceeds 1048576 bytes");
	CHECK_INT(row.raw.len, 0);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "line 2: value of \"a\" exceeds 65536 bytes");
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 1);
	CHECK_STR(row.error, "");
	CHECK_INT(row.index, 3);
	CHECK_INT(row.line, 3);
	CHECK_INT(bc_reader_next(r, &row, err, sizeof err), 0);
	bc_reader_free(r);
	bc_buf_release(&b);
	bc_row_release(&row);
}

int main(void)
{
	test_tables();
	test_splits();
	test_columns();
	return bc_test_done();
}
