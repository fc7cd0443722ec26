/* Error codes of libbulkcall, generated from one X-macro so the enum, the
 * message and the name can never drift apart (libuv's uv-errno pattern).
 * Functions that can fail return int: 0 (BC_OK) or a negative BC_E*. */
#ifndef BULKCALL_ERROR_H
#define BULKCALL_ERROR_H

#define BC_ERRNO_MAP(X)                                              \
	X(NOMEM, "out of memory")                                    \
	X(TOOBIG, "value exceeds its size limit")                    \
	X(IO, "input/output error")                                  \
	X(PARSE, "malformed input")                                  \
	X(INVAL, "invalid argument")                                 \
	X(USAGE, "usage error")                                      \
	X(NOTFOUND, "not found")                                     \
	X(EXISTS, "already exists")                                  \
	X(GZIP, "corrupt gzip stream")                               \
	X(HEADER, "bad header")                                      \
	X(FATAL, "fatal API condition")

enum bc_err {
	BC_OK = 0,
#define BC_ERR_ENUM(name, msg) BC_E##name,
	BC__ERR_FIRST = -100,
	BC_ERRNO_MAP(BC_ERR_ENUM)
#undef BC_ERR_ENUM
	BC__ERR_LAST
};

const char *bc_strerror(int err);
const char *bc_errname(int err);

#endif
