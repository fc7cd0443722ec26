/* bulkcall resume OUTDIR: finishes a job from its output folder. Checks
 * that the folder is a resumable job and that its input is the same file
 * (size and CRC-32), reads the journal, and hands the engine the rows
 * already final and the rows that may have been sent. The options come
 * from job.json with the command line's flags on top (src/cli), except
 * those that decide how requests are built (profile, --template,
 * --profile-file), whose files are checked like the input. Design:
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

/* --template and --profile-file: the job's own files, never others. The
 * CLI put job.json's paths in o unless a flag (or resume's -c) gave one;
 * naming the job's file again is no change. */
static int same_files(const struct bc_jobfile *jf,
		      const struct bc_job_options *o)
{
	cJSON *cfg = jf->config_json ? cJSON_Parse(jf->config_json) : NULL;
	static const char *const names[] = {"template", "profile-file"};
	int code = BC_EXIT_OK;
	for (size_t i = 0; code == BC_EXIT_OK && i < 2; i++) {
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(cfg, names[i]);
		const char *job = cJSON_IsString(v) ? v->valuestring : NULL;
		const char *got = i ? o->profile_file : o->template_path;
		char abs[4096];
		if (got && bc_job_abspath(got, abs, sizeof abs) == BC_OK)
			got = abs;
		if ((!job && !got) || (job && got && strcmp(job, got) == 0))
			continue;
		if (job)
			fprintf(stderr,
				"bulkcall resume: --%s cannot change on "
				"resume: the job's is '%s' (job.json), and the "
				"rows left must be built like the rows sent\n",
				names[i], job);
		else
			fprintf(stderr,
				"bulkcall resume: --%s cannot be added on "
				"resume: the job was started without one\n",
				names[i]);
		code = BC_EXIT_USAGE;
	}
	cJSON_Delete(cfg);
	return code;
}

/* The contents of the files the profile reads, like the input's: a
 * changed template would build the remaining rows' requests differently,
 * a changed profile file could even change their idempotency. */
static int check_dep(const char *dir, const char *option,
		     const struct bc_jobfile_dep *d, const char *config_path,
		     int quiet)
{
	if (!d->path) {
		if (config_path && !quiet)
			fprintf(stderr,
				"bulkcall resume: warning: job.json does not "
				"record the contents of --%s '%s' (an older "
				"bulkcall started the job): not checked\n",
				option, config_path);
		return BC_EXIT_OK;
	}
	if (!d->regular) {
		fprintf(stderr,
			"bulkcall resume: refusing: the job's --%s '%s' was "
			"not a regular file (a pipe?), so whether it is the "
			"same cannot be checked. Start a new run (e.g. on "
			"%s/retry.* and the rows not in results)\n",
			option, d->path, dir);
		return BC_EXIT_USAGE;
	}
	char err[512];
	uint64_t size;
	int64_t mtime_ms;
	uint32_t crc;
	if (bc_file_identity(d->path, &size, &mtime_ms, &crc, err,
			     sizeof err) != BC_OK) {
		fprintf(stderr,
			"bulkcall resume: the job's --%s is unreadable: %s\n",
			option, err);
		return BC_EXIT_USAGE;
	}
	if (size != d->size || crc != d->crc32) {
		fprintf(stderr,
			"bulkcall resume: refusing: the --%s '%s' changed "
			"since the job started (%s): the rows left would not "
			"be sent the way the others were. Restore the original "
			"file, or start a new run (e.g. on %s/retry.* and the "
			"rows not in results)\n",
			option, d->path,
			size != d->size ? "its size differs"
					: "its checksum differs",
			dir);
		return BC_EXIT_USAGE;
	}
	return BC_EXIT_OK;
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
		/* Nothing left to do is success, whatever the rows'
		 * outcomes: a script can loop on resume until it exits 0.
		 * The message and summary.json say whether every row was
		 * ok. */
		fprintf(stderr,
			"bulkcall resume: the job in '%s' is already finished "
			"(%llu rows%s); nothing to do. See %s/summary.json\n",
			dir, (unsigned long long)rs.js.final.count,
			rs.js.exit_code == BC_EXIT_OK ? ", every one ok"
						      : ", some not ok",
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
	code = same_files(&rs.jf, &o);
	if (code != BC_EXIT_OK)
		goto out;
	code = check_input(dir, &rs.jf);
	if (code == BC_EXIT_OK)
		code = check_dep(dir, "template", &rs.jf.template_file,
				 o.template_path, o.quiet);
	if (code == BC_EXIT_OK)
		code = check_dep(dir, "profile-file", &rs.jf.profile_file,
				 o.profile_file, o.quiet);
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
