/* core: bc_buf caps and growth, bc_row value tables, error names. */
#include <stdlib.h>

#include "bulkcall/buf.h"
#include "bulkcall/error.h"
#include "bulkcall/row.h"
#include "tap.h"

static void test_buf(void)
{
	struct bc_buf b = BC_BUF_INIT(10);
	CHECK_STR(bc_buf_str(&b), "");
	CHECK_INT(bc_buf_adds(&b, "hello"), BC_OK);
	CHECK_INT(bc_buf_addf(&b, "%d", 1234), BC_OK);
	CHECK_STR(b.ptr, "hello1234");
	CHECK_INT(bc_buf_adds(&b, "xy"), BC_ETOOBIG);
	CHECK_STR(b.ptr, "hello1234");
	CHECK_INT(bc_buf_addc(&b, '!'), BC_OK);
	CHECK_INT(b.len, 10);
	bc_buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(bc_buf_str(&b), "");
	bc_buf_release(&b);
}

/* Numbers without printf, and formatted appends that do not fit the room
 * kept for them (a second, measured pass) or pass the cap (unchanged). */
static void test_buf_format(void)
{
	struct bc_buf b = BC_BUF_INIT(200);
	CHECK_INT(bc_buf_addu(&b, 0), BC_OK);
	CHECK_INT(bc_buf_addc(&b, ' '), BC_OK);
	CHECK_INT(bc_buf_addu(&b, 18446744073709551615ULL), BC_OK);
	CHECK_STR(b.ptr, "0 18446744073709551615");
	bc_buf_reset(&b);
	CHECK_INT(bc_buf_addf(&b, "%0150d|", 7), BC_OK);
	CHECK_INT(b.len, 151);
	CHECK(b.ptr[149] == '7' && b.ptr[150] == '|' && b.ptr[0] == '0');
	CHECK_INT(bc_buf_addf(&b, "%060d", 1), BC_ETOOBIG);
	CHECK_INT(b.len, 151);
	CHECK(b.ptr[151] == '\0');
	CHECK_INT(bc_buf_addf(&b, "%049d", 2), BC_OK);
	CHECK_INT(b.len, 200);
	CHECK_INT(bc_buf_addu(&b, 3), BC_ETOOBIG);
	bc_buf_release(&b);

	struct bc_buf tiny = BC_BUF_INIT(4);
	CHECK_INT(bc_buf_addf(&tiny, "%s", "abcde"), BC_ETOOBIG);
	CHECK_STR(bc_buf_str(&tiny), "");
	CHECK_INT(bc_buf_addf(&tiny, "%d", 1234), BC_OK);
	CHECK_STR(tiny.ptr, "1234");
	bc_buf_release(&tiny);
}

static void test_row(void)
{
	struct bc_row row, copy;
	bc_row_init(&row);
	bc_row_init(&copy);
	CHECK_INT(bc_row_set(&row, 2, BC_VAL_STRING, "two", 3), BC_OK);
	CHECK_INT(bc_row_set(&row, 0, BC_VAL_NUMBER, "12", 2), BC_OK);
	size_t len = 99;
	CHECK_STR(bc_row_get(&row, 2, &len), "two");
	CHECK_INT(len, 3);
	CHECK(bc_row_get(&row, 1, &len) == NULL);
	CHECK(bc_row_get(&row, 7, NULL) == NULL);
	CHECK_INT(bc_row_kind(&row, 0), BC_VAL_NUMBER);
	CHECK_INT(bc_row_copy(&copy, &row), BC_OK);
	CHECK_STR(bc_row_get(&copy, 0, NULL), "12");
	bc_row_reset(&row);
	CHECK(bc_row_get(&row, 2, NULL) == NULL);
	bc_row_release(&row);
	bc_row_release(&copy);
}

static void test_errors(void)
{
	CHECK_STR(bc_errname(BC_ENOMEM), "ENOMEM");
	CHECK_STR(bc_strerror(BC_EGZIP), "corrupt gzip stream");
	CHECK_STR(bc_strerror(BC_OK), "success");
}

int main(void)
{
	test_buf();
	test_buf_format();
	test_row();
	test_errors();
	return bc_test_done();
}
