/* Opening what every command needs (input, bound profile, output folder)
 * in one place, with the exit code each failure maps to. Internal to
 * src/run. */
#ifndef BC_RUN_JOB_SETUP_H
#define BC_RUN_JOB_SETUP_H

#include "bulkcall/job.h"
#include "bulkcall/journal.h"
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
/* The same for `resume`: the output folder exists; its files are cut back
 * to len[] (enum bc_out_file order) and written on from there. */
int bc_job_setup_resume(struct bc_job *job, const struct bc_job_options *o,
			const uint64_t *len);
void bc_job_release(struct bc_job *job);

/* The options as a -c config object (long option names, values as the
 * command line writes them; defaults and per-invocation settings left out;
 * file paths made absolute): job.json keeps it so `resume` runs with the
 * same options. Caller frees with free(). */
char *bc_job_options_config_json(const struct bc_job_options *o);

/* path made absolute against the current directory (not resolved). */
int bc_job_abspath(const char *path, char *out, size_t len);

/* A file the profile reads (--template, --profile-file) as job.json
 * records it: absolute path (in abs), size and CRC-32; a pipe is recorded
 * as not regular. path NULL: d->path stays NULL. BC_EIO after writing
 * why into err when the file cannot be read. */
int bc_job_dep_record(const char *path, struct bc_jobfile_dep *d, char *abs,
		      size_t abslen, char *err, size_t errlen);

/* What resume found in the folder, for the engine. */
struct bc_resume {
	struct bc_jobfile jf;
	struct bc_journal_state js;
	int lock_fd; /* bc_journal_lock's, held for the whole job */
};

/* The engine: a new job (rs NULL) or a resumed one. */
int bc__run(const struct bc_job_options *o, const struct bc_resume *rs);

#endif
