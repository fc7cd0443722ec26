/* bulkcall resume OUTDIR: finishes a job from its output folder. Checks
 * that the folder is a resumable job and that its input is the same file
 * (size and CRC-32), reads the journal, and hands the engine the rows
 * already final and the rows that may have been sent. The options come
 * from job.json with the command line's flags on top (src/cli). Design:
 * docs/durability.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bulkcall/error.h"
#include "bulkcall/journal.h"
#include "run/job_setup.h"

/* Options that shape the files already written cannot change. */
static int same_shape(const struct bc_jobfile *jf,
		      const struct bc_job_options *o, char *what, size_t len)
{
	cJSON *cfg = jf->config_json ? cJSON_Parse(jf->config_json) : NULL;
	const cJSON *v;
	int same = 1;
	v = cJSON_GetObjectItemCaseSensitive(cfg, "gzip");
	if (cJSON_IsTrue(v) != (o->gzip != 0)) {
		snprintf(what, len, "--gzip");
		same = 0;
	}
	static const char *const names[] = {"format", "results-format"};
	for (size_t i = 0; same && i < 2; i++) {
		v = cJSON_GetObjectItemCaseSensitive(cfg, names[i]);
		enum bc_format want = BC_FORMAT_AUTO;
		if (cJSON_IsString(v))
			want = strcmp(v->valuestring, "ndjson") == 0
				   ? BC_FORMAT_NDJSON
				   : BC_FORMAT_CSV;
		enum bc_format got = i ? o->results_format : o->format;
		if (got != want) {
			snprintf(what, len, "--%s", names[i]);
			same = 0;
		}
	}
	cJSON_Delete(cfg);
	return same;
}

static int check_input(const char *dir, const struct bc_jobfile *jf)
{
	char err[512];
	uint64_t size;
	int64_t mtime_ms;
	uint32_t crc;
	if (bc_file_identity(jf->input, &size, &mtime_ms, &crc, err,
			     sizeof err) != BC_OK) {
		fprintf(stderr,
			"bulkcall resume: the job's input is unreadable: "
			"%s\n",
			err);
		return BC_EXIT_INPUT;
	}
	if (size != jf->input_size || crc != jf->input_crc32) {
		fprintf(
		    stderr,
		    "bulkcall resume: refusing: the input '%s' changed since "
		    "the job started (%s): resuming would match rows to the "
		    "wrong records. Restore the original file, or start a "
		    "new run (e.g. on %s/retry.* and the rows not in "
		    "results)\n",
		    jf->input,
		    size != jf->input_size ? "its size differs"
					   : "its checksum differs",
		    dir);
		return BC_EXIT_USAGE;
	}
	return BC_EXIT_OK;
}

int bc_resume(const char *dir, const struct bc_job_options *flags)
{
	struct bc_resume rs;
	memset(&rs, 0, sizeof rs);
	char err[512];
	int code = BC_EXIT_OK;
	rs.lock_fd = -1;
	int r = bc_jobfile_read(dir, &rs.jf, err, sizeof err);
	if (r) {
		if (r == BC_ENOTFOUND)
			fprintf(stderr,
				"bulkcall resume: '%s' is not the output "
				"folder of a run (no job.json)\n",
				dir);
		else
			fprintf(stderr, "bulkcall resume: %s\n", err);
		return r == BC_EIO ? BC_EXIT_OUTPUT : BC_EXIT_USAGE;
	}
	/* Before anything is read or changed: a second bulkcall on the same
	 * folder stops here. */
	r = bc_journal_lock(dir, &rs.lock_fd, err, sizeof err);
	if (r) {
		fprintf(stderr, "bulkcall resume: %s\n", err);
		code = r == BC_EEXISTS ? BC_EXIT_USAGE : BC_EXIT_OUTPUT;
		goto out;
	}
	r = bc_journal_load(dir, &rs.js, err, sizeof err);
	if (r) {
		fprintf(stderr, "bulkcall resume: %s\n", err);
		code = r == BC_EPARSE ? BC_EXIT_USAGE : BC_EXIT_OUTPUT;
		goto out;
	}
	if (rs.js.complete) {
		/* The status of the finished job, so `resume && ...` reads
		 * the same as the run did. */
		code = rs.js.exit_code == BC_EXIT_OK ? BC_EXIT_OK
						     : BC_EXIT_SOME_NOT_OK;
		fprintf(stderr,
			"bulkcall resume: the job in '%s' is already finished "
			"(%llu rows%s); nothing to do. See %s/summary.json\n",
			dir, (unsigned long long)rs.js.final.count,
			code == BC_EXIT_OK ? ", every one ok" : ", some not ok",
			dir);
		goto out;
	}
	if (!rs.jf.resumable) {
		fprintf(stderr,
			"bulkcall resume: the job in '%s' read its input from "
			"stdin (or a pipe), which cannot be read again: it "
			"cannot be resumed. Its results hold the rows it "
			"finished; run the others from a file\n",
			dir);
		code = BC_EXIT_USAGE;
		goto out;
	}
	struct bc_job_options o = *flags;
	if (o.out_dir) {
		fprintf(stderr, "bulkcall resume: --out does not apply: resume "
				"writes into OUTDIR\n");
		code = BC_EXIT_USAGE;
		goto out;
	}
	if (!o.profile || strcmp(o.profile, rs.jf.profile) != 0) {
		fprintf(stderr,
			"bulkcall resume: the job's profile is '%s'; it "
			"cannot change on resume\n",
			rs.jf.profile);
		code = BC_EXIT_USAGE;
		goto out;
	}
	char what[64];
	if (!same_shape(&rs.jf, &o, what, sizeof what)) {
		fprintf(stderr,
			"bulkcall resume: %s cannot change on resume: "
			"the files already written use the job's\n",
			what);
		code = BC_EXIT_USAGE;
		goto out;
	}
	code = check_input(dir, &rs.jf);
	if (code != BC_EXIT_OK)
		goto out;
	o.input = rs.jf.input;
	o.out_dir = dir;
	if (!o.quiet)
		fprintf(
		    stderr, "bulkcall resume: %llu rows already final%s%s\n",
		    (unsigned long long)rs.js.final.count,
		    rs.js.torn_bytes ? "; a torn journal tail is dropped" : "",
		    rs.js.has_commit ? ""
				     : "; nothing was committed: starting "
				       "over");
	code = bc__run(&o, &rs);
out:
	if (rs.lock_fd >= 0)
		close(rs.lock_fd);
	bc_journal_state_release(&rs.js);
	bc_jobfile_release(&rs.jf);
	return code;
}
