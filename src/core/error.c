/* Messages and names of the BC_E* codes (include/bulkcall/error.h). */
#include "bulkcall/error.h"

const char *bc_strerror(int err)
{
	switch (err) {
	case BC_OK:
		return "success";
#define BC_ERR_MSG(name, msg)                                                \
	case BC_E##name:                                                     \
		return msg;
		BC_ERRNO_MAP(BC_ERR_MSG)
#undef BC_ERR_MSG
	default:
		return "unknown error";
	}
}

const char *bc_errname(int err)
{
	switch (err) {
	case BC_OK:
		return "OK";
#define BC_ERR_NAME(name, msg)                                               \
	case BC_E##name:                                                     \
		return "E" #name;
		BC_ERRNO_MAP(BC_ERR_NAME)
#undef BC_ERR_NAME
	default:
		return "EUNKNOWN";
	}
}
