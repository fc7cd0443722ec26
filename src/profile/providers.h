/* The provider profiles compiled in; registry.c lists them. */
#ifndef BC_PROFILE_PROVIDERS_H
#define BC_PROFILE_PROVIDERS_H

#include "bulkcall/profile.h"

extern const struct bc_profile bc_profile_iovox_initiate_call;

#endif
