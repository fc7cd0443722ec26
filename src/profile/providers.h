/* The provider profiles compiled in; registry.c lists them. */
#ifndef BC_PROFILE_PROVIDERS_H
#define BC_PROFILE_PROVIDERS_H

#include "bulkcall/profile.h"

extern const struct bc_profile bc_profile_iovox_initiate_call;
extern const struct bc_profile bc_profile_iovox_update_call_flow;
extern const struct bc_profile bc_profile_smartflo_update_ivr;
extern const struct bc_profile bc_profile_voipnow_update_phone_call_event;
extern const struct bc_profile bc_profile_mor_device_callflow_update;
extern const struct bc_profile bc_profile_http;

#endif
