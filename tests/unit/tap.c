/* Counters and the closing line of the unit-test harness (tap.h). */
#include "tap.h"

int bc_test_passed;
int bc_test_failed;

int bc_test_done(void)
{
	printf("%d passed, %d failed\n", bc_test_passed, bc_test_failed);
	return bc_test_failed ? 1 : 0;
}
