/* Opening what every command needs (input, bound profile, output folder)
 * in one place, with the exit code each failure maps to. Internal to
 * src/run. */
#ifndef BC_RUN_JOB_SETUP_H
#define BC_RUN_JOB_SETUP_H

#include "bulkcall/job.h"
#include "bulkcall/output.h"
#include "bulkcall/profile.h"
#include "bulkcall/reader.h"

struct bc_job {
	const struct bc_job_options *opt;
	const struct bc_profile *profile;
	struct bc_profile_ctx ctx;
	int profile_bound;
	struct bc_reader *reader;
	struct bc_output *output;
	char out_dir[4096];
};

/* Returns BC_EXIT_OK, or the exit code after printing why. */
int bc_job_setup(struct bc_job *job, const struct bc_job_options *o,
		 int need_credentials, int want_output, int check);
void bc_job_release(struct bc_job *job);

#endif
