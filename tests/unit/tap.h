/* A tiny TAP-style harness: each CHECK prints a failure with file:line and
 * counts it; bc_test_done() prints "N passed, N failed" and returns the
 * exit status. */
#ifndef BC_TAP_H
#define BC_TAP_H

#include <stdio.h>
#include <string.h>

extern int bc_test_passed;
extern int bc_test_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond) {                                                  \
			bc_test_passed++;                                    \
		} else {                                                     \
			bc_test_failed++;                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *got_ = (got), *want_ = (want);                   \
		if (got_ && want_ && strcmp(got_, want_) == 0) {             \
			bc_test_passed++;                                    \
		} else {                                                     \
			bc_test_failed++;                                    \
			fprintf(stderr,                                      \
				"%s:%d: %s\n  got:  \"%s\"\n  want: \"%s\"\n", \
				__FILE__, __LINE__, #got,                    \
				got_ ? got_ : "(null)",                      \
				want_ ? want_ : "(null)");                   \
		}                                                            \
	} while (0)

#define CHECK_INT(got, want)                                                 \
	do {                                                                 \
		long long got_ = (long long)(got), want_ = (long long)(want); \
		if (got_ == want_) {                                         \
			bc_test_passed++;                                    \
		} else {                                                     \
			bc_test_failed++;                                    \
			fprintf(stderr, "%s:%d: %s = %lld, want %lld\n",     \
				__FILE__, __LINE__, #got, got_, want_);      \
		}                                                            \
	} while (0)

int bc_test_done(void);

#endif
