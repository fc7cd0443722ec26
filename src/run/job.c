/* Shared job plumbing: option defaults and their JSON form, and opening
 * the input, profile and output folder the way every command does, with
 * the exit code each failure maps to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bulkcall/clock.h"
#include "bulkcall/error.h"
#include "run/job_setup.h"

void bc_job_options_init(struct bc_job_options *o)
{
	memset(o, 0, sizeof *o);
	o->rate = -1;
	o->concurrency = 100;
	o->net_threads = -1;
	o->max_attempts = 5;
	o->backoff_min_ms = 500;
	o->backoff_max_ms = 60000;
	o->throttle_cooldown_s = 60;
	o->max_retry_time_s = 3600;
	o->halt_fail_pct = -1;
	o->timeout_s = 30;
	o->connect_timeout_s = 10;
	o->rows_from = 1;
	o->rows_to = 1;
}

/* A proxy URL without the password of its user info ("http://u:***@h"):
 * options are written to files, passwords are not. */
static void proxy_masked(char *out, size_t len, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *auth = scheme ? scheme + 3 : url;
	const char *at = strchr(auth, '@');
	const char *slash = strchr(auth, '/');
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!at || (slash && slash < at) || !colon) {
		snprintf(out, len, "%s", url);
		return;
	}
	snprintf(out, len, "%.*s:***%s", (int)(colon - url), url, at);
}

static void add_str(cJSON *j, const char *name, const char *v)
{
	if (v)
		cJSON_AddStringToObject(j, name, v);
	else
		cJSON_AddNullToObject(j, name);
}

char *bc_job_options_json(const struct bc_job_options *o, double profile_rate)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	add_str(j, "input", o->input);
	add_str(j, "profile", o->profile);
	add_str(j, "out", o->out_dir);
	add_str(j, "base_url", o->base_url);
	/* The rate in effect, not -1 for "the profile's". */
	cJSON_AddNumberToObject(j, "rate", o->rate >= 0 ? o->rate : profile_rate);
	cJSON_AddNumberToObject(j, "burst", o->burst);
	cJSON_AddNumberToObject(j, "concurrency", (double)o->concurrency);
	if (o->net_threads >= 0)
		cJSON_AddNumberToObject(j, "net_threads", (double)o->net_threads);
	cJSON_AddNumberToObject(j, "max_attempts", (double)o->max_attempts);
	char backoff[64];
	snprintf(backoff, sizeof backoff, "%ld:%ld", o->backoff_min_ms,
		 o->backoff_max_ms);
	cJSON_AddStringToObject(j, "backoff", backoff);
	cJSON_AddNumberToObject(j, "throttle_cooldown", o->throttle_cooldown_s);
	add_str(j, "key", o->key);
	cJSON_AddNumberToObject(j, "key_rate", o->key_rate);
	cJSON_AddNumberToObject(j, "key_concurrency", (double)o->key_concurrency);
	cJSON_AddNumberToObject(j, "max_retry_time", o->max_retry_time_s);
	if (o->halt_fail_pct >= 0)
		cJSON_AddNumberToObject(j, "halt_fail", o->halt_fail_pct);
	cJSON_AddNumberToObject(j, "timeout", o->timeout_s);
	cJSON_AddNumberToObject(j, "connect_timeout", o->connect_timeout_s);
	cJSON_AddBoolToObject(j, "retry_unknown", o->retry_unknown);
	add_str(j, "window", o->window);
	add_str(j, "tz", o->tz);
	if (o->max_runtime_s > 0)
		cJSON_AddNumberToObject(j, "max_runtime", o->max_runtime_s);
	cJSON_AddStringToObject(j, "format", bc_format_name(o->format));
	cJSON_AddStringToObject(j, "results_format",
				bc_format_name(o->results_format));
	cJSON_AddBoolToObject(j, "gzip", o->gzip);
	add_str(j, "cacert", o->cacert);
	cJSON_AddBoolToObject(j, "insecure", o->insecure);
	char proxy[2048];
	if (o->proxy)
		proxy_masked(proxy, sizeof proxy, o->proxy);
	add_str(j, "proxy", o->proxy ? proxy : NULL);
	add_str(j, "template", o->template_path);
	add_str(j, "profile_file", o->profile_file);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

int bc_job_abspath(const char *path, char *out, size_t len)
{
	if (path[0] == '/')
		return snprintf(out, len, "%s", path) < (int)len ? BC_OK
								: BC_ETOOBIG;
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return BC_EIO;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return snprintf(out, len, "%s/%s", cwd, path) < (int)len ? BC_OK
								 : BC_ETOOBIG;
}

int bc_job_dep_record(const char *path, struct bc_jobfile_dep *d, char *abs,
		      size_t abslen, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	if (!path)
		return BC_OK;
	/* The same spelling as the config's (cfg_path), so resume can tell
	 * the job's file from another one given on its command line. */
	d->path =
	    bc_job_abspath(path, abs, abslen) == BC_OK ? abs : (char *)path;
	uint64_t size;
	int64_t mtime_ms;
	uint32_t crc;
	int r = bc_file_identity(path, &size, &mtime_ms, &crc, err, errlen);
	if (r == BC_EINVAL)
		return BC_OK; /* a pipe: recorded, not regular */
	if (r == BC_ENOMEM)
		snprintf(err, errlen, "out of memory reading '%s'", path);
	if (r != BC_OK)
		return r;
	d->regular = 1;
	d->size = size;
	d->crc32 = crc;
	return BC_OK;
}

static void cfg_str(cJSON *j, const char *name, const char *v)
{
	if (v)
		cJSON_AddStringToObject(j, name, v);
}

/* A path as an absolute one, so resume works from any directory. */
static void cfg_path(cJSON *j, const char *name, const char *v)
{
	char abs[4096];
	if (v)
		cJSON_AddStringToObject(
			j, name,
			bc_job_abspath(v, abs, sizeof abs) == BC_OK ? abs : v);
}

char *bc_job_options_config_json(const struct bc_job_options *o)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cfg_str(j, "profile", o->profile);
	cfg_str(j, "base-url", o->base_url);
	if (o->rate >= 0)
		cJSON_AddNumberToObject(j, "rate", o->rate);
	if (o->burst > 0)
		cJSON_AddNumberToObject(j, "burst", o->burst);
	cJSON_AddNumberToObject(j, "concurrency", (double)o->concurrency);
	if (o->net_threads >= 0)
		cJSON_AddNumberToObject(j, "net-threads", (double)o->net_threads);
	cJSON_AddNumberToObject(j, "max-attempts", (double)o->max_attempts);
	char backoff[64];
	snprintf(backoff, sizeof backoff, "%ld:%ld", o->backoff_min_ms,
		 o->backoff_max_ms);
	cJSON_AddStringToObject(j, "backoff", backoff);
	cJSON_AddNumberToObject(j, "throttle-cooldown", o->throttle_cooldown_s);
	cfg_str(j, "key", o->key);
	if (o->key_rate > 0)
		cJSON_AddNumberToObject(j, "key-rate", o->key_rate);
	if (o->key_concurrency > 0)
		cJSON_AddNumberToObject(j, "key-concurrency",
					(double)o->key_concurrency);
	cJSON_AddNumberToObject(j, "max-retry-time", o->max_retry_time_s);
	if (o->halt_fail_pct >= 0)
		cJSON_AddNumberToObject(j, "halt-fail", o->halt_fail_pct);
	cJSON_AddNumberToObject(j, "timeout", o->timeout_s);
	cJSON_AddNumberToObject(j, "connect-timeout", o->connect_timeout_s);
	if (o->retry_unknown)
		cJSON_AddBoolToObject(j, "retry-unknown", 1);
	cfg_str(j, "window", o->window);
	cfg_str(j, "tz", o->tz);
	if (o->max_runtime_s > 0)
		cJSON_AddNumberToObject(j, "max-runtime", o->max_runtime_s);
	if (o->format != BC_FORMAT_AUTO)
		cJSON_AddStringToObject(j, "format", bc_format_name(o->format));
	if (o->results_format != BC_FORMAT_AUTO)
		cJSON_AddStringToObject(j, "results-format",
					bc_format_name(o->results_format));
	if (o->gzip)
		cJSON_AddBoolToObject(j, "gzip", 1);
	cfg_path(j, "cacert", o->cacert);
	if (o->insecure)
		cJSON_AddBoolToObject(j, "insecure", 1);
	/* A proxy password is not kept: give --proxy again to resume. */
	char proxy[2048];
	if (o->proxy) {
		proxy_masked(proxy, sizeof proxy, o->proxy);
		if (strcmp(proxy, o->proxy) == 0)
			cfg_str(j, "proxy", o->proxy);
	}
	cfg_path(j, "template", o->template_path);
	cfg_path(j, "profile-file", o->profile_file);
	char *text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

/* bulkcall-out/<input stem>-<UTC stamp>, or with -2, -3, ... after it: a
 * fresh folder per run, claimed with mkdir() (atomic), so two runs started
 * in the same second never get the same one. A folder that cannot be made
 * is left for bc_output_open to report. */
static void default_out_dir(char *out, size_t len, const char *input)
{
	const char *base = strrchr(input, '/');
	base = base ? base + 1 : input;
	char stem[128];
	snprintf(stem, sizeof stem, "%s", strcmp(input, "-") ? base : "stdin");
	char *dot = strchr(stem, '.');
	if (dot && dot != stem)
		*dot = '\0';
	time_t now = (time_t)(bc_clock_unix_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, len, "bulkcall-out/%s-%s", stem, stamp);
	if (mkdir("bulkcall-out", 0755) != 0 && errno != EEXIST)
		return;
	for (unsigned n = 2; n < 10000; n++) {
		if (mkdir(out, 0755) == 0 || errno != EEXIST)
			return;
		snprintf(out, len, "bulkcall-out/%s-%s-%u", stem, stamp, n);
	}
}

void bc_job_release(struct bc_job *job)
{
	if (job->output)
		bc_output_free(job->output);
	if (job->profile_bound)
		bc_profile_release(&job->ctx);
	if (job->reader)
		bc_reader_free(job->reader);
	memset(job, 0, sizeof *job);
}

static int setup(struct bc_job *job, const struct bc_job_options *o,
		 int need_credentials, int want_output, int check,
		 const uint64_t *resume_len)
{
	char err[512];
	memset(job, 0, sizeof *job);
	job->opt = o;
	job->profile = bc_profile_find(o->profile ? o->profile : "");
	if (!job->profile) {
		fprintf(stderr, "bulkcall: unknown profile '%s' (see 'bulkcall "
				"profiles')\n",
			o->profile ? o->profile : "");
		return BC_EXIT_USAGE;
	}
	int result = bc_reader_open(&job->reader, o->input, o->format, err,
				    sizeof err);
	if (result) {
		fprintf(stderr, "bulkcall: %s\n", err);
		return result == BC_EHEADER ? BC_EXIT_USAGE : BC_EXIT_INPUT;
	}
	struct bc_profile_config cfg = {
		.base_url = o->base_url,
		.template_path = o->template_path,
		.profile_file = o->profile_file,
		.need_credentials = need_credentials,
	};
	result = bc_profile_bind(&job->ctx, job->profile, &cfg,
				 bc_reader_columns(job->reader), err,
				 sizeof err);
	if (result) {
		fprintf(stderr, "bulkcall: %s\n", err);
		return result == BC_ENOMEM ? BC_EXIT_OUTPUT : BC_EXIT_USAGE;
	}
	job->profile_bound = 1;
	/* A profile may bind a copy of itself (http: from its profile file,
	 * with its own idempotency, rate, key and key columns). */
	job->profile = job->ctx.profile;
	if (!want_output)
		return BC_EXIT_OK;
	if (o->out_dir)
		snprintf(job->out_dir, sizeof job->out_dir, "%s", o->out_dir);
	else
		default_out_dir(job->out_dir, sizeof job->out_dir, o->input);
	size_t header_len;
	const char *header = bc_reader_header(job->reader, &header_len);
	struct bc_output_options oo = {
		.dir = job->out_dir,
		.force = o->force,
		.check = check,
		.input_format = bc_reader_format(job->reader),
		.results_format = o->results_format,
		.gzip = o->gzip,
		.header = header,
		.header_len = header_len,
		.cols = bc_reader_columns(job->reader),
		.key_columns = job->profile->key_columns,
		.resume_len = resume_len,
	};
	result = bc_output_open(&job->output, &oo, err, sizeof err);
	if (result) {
		fprintf(stderr, "bulkcall: %s\n", err);
		return result == BC_EEXISTS ? BC_EXIT_USAGE : BC_EXIT_OUTPUT;
	}
	return BC_EXIT_OK;
}

int bc_job_setup(struct bc_job *job, const struct bc_job_options *o,
		 int need_credentials, int want_output, int check)
{
	return setup(job, o, need_credentials, want_output, check, NULL);
}

int bc_job_setup_resume(struct bc_job *job, const struct bc_job_options *o,
			const uint64_t *len)
{
	return setup(job, o, 1, 1, 0, len);
}
