/* The profile table: adding a provider is one file plus one line here. */
#include <string.h>

#include "bulkcall/profile.h"
#include "profile/providers.h"

static const struct bc_profile *const profiles[] = {
	&bc_profile_iovox_initiate_call,
	&bc_profile_iovox_update_call_flow,
	&bc_profile_smartflo_update_ivr,
	&bc_profile_voipnow_update_phone_call_event,
	&bc_profile_mor_device_callflow_update,
	&bc_profile_http,
	NULL,
};

const struct bc_profile *const *bc_profiles(void)
{
	return profiles;
}

const struct bc_profile *bc_profile_find(const char *name)
{
	for (size_t i = 0; profiles[i]; i++)
		if (strcmp(profiles[i]->name, name) == 0)
			return profiles[i];
	return NULL;
}
