/* A job: what one command runs, with every option of SPEC §2 resolved.
 * The CLI fills struct bc_job_options from argv and the -c config file;
 * the library runs it. Exit codes are part of the contract. */
#ifndef BULKCALL_JOB_H
#define BULKCALL_JOB_H

#include <stdint.h>
#include <stdio.h>

#include "bulkcall/reader.h"

enum bc_exit {
	BC_EXIT_OK = 0,          /* every row ok (check: every row valid) */
	BC_EXIT_SOME_NOT_OK = 1, /* failed / rejected / retry / unknown rows */
	BC_EXIT_USAGE = 2,       /* usage or config error */
	BC_EXIT_INPUT = 3,       /* input unreadable */
	BC_EXIT_OUTPUT = 4,      /* output or system error */
	BC_EXIT_FATAL_API = 5,   /* stopped by a fatal API condition */
	BC_EXIT_INTERRUPTED = 130
};

enum bc_progress_mode { BC_PROGRESS_AUTO, BC_PROGRESS_ALWAYS, BC_PROGRESS_NEVER };

struct bc_job_options {
	const char *input;
	const char *profile;
	const char *out_dir; /* NULL: bulkcall-out/<stem>-<UTC stamp> */
	int force;
	const char *base_url;
	double rate; /* < 0: the profile's default */
	double burst; /* <= 0: one second of rate */
	long concurrency;
	long net_threads; /* transport worker threads; < 0: automatic */
	long max_attempts;
	long backoff_min_ms, backoff_max_ms;
	double throttle_cooldown_s;
	const char *key; /* NULL: the profile's default */
	double key_rate;
	long key_concurrency;
	double max_retry_time_s;
	double halt_fail_pct; /* < 0: off */
	double timeout_s, connect_timeout_s;
	int retry_unknown;
	const char *window; /* "HH:MM-HH:MM" or NULL */
	const char *tz;
	double max_runtime_s; /* <= 0: none */
	enum bc_format format;
	enum bc_format results_format;
	int gzip;
	enum bc_progress_mode progress;
	int quiet, verbose;
	const char *cacert;
	int insecure;
	const char *proxy;
	const char *template_path;
	const char *profile_file;
	uint64_t rows_from, rows_to; /* render --rows A-B */
};

void bc_job_options_init(struct bc_job_options *o);
/* The options as a JSON object for summary.json / job.json (no secrets:
 * credentials never live in options). "rate" is the rate used: o->rate,
 * or profile_rate (the bound profile's default) when none was given.
 * Caller frees with free(). */
char *bc_job_options_json(const struct bc_job_options *o, double profile_rate);

/* bulkcall check: validate and build every row, send nothing. */
int bc_check(const struct bc_job_options *o);
/* bulkcall render: print the requests of rows [rows_from, rows_to]. */
int bc_render(const struct bc_job_options *o, FILE *out);
/* bulkcall run: send every row. */
int bc_run(const struct bc_job_options *o);
/* bulkcall resume: finish the job whose output folder is dir. o holds the
 * job's options from dir/job.json with the command line's flags on top
 * (input and out_dir unset); docs/durability.md. */
int bc_resume(const char *dir, const struct bc_job_options *o);

#endif
