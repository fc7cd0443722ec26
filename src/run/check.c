/* bulkcall check: every row through validation and request building,
 * nothing sent. Writes results (valid / rejected), errors and summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bulkcall/clock.h"
#include "bulkcall/error.h"
#include "bulkcall/progress.h"
#include "run/job_setup.h"

/* Rows between output flushes and progress looks: cheap enough per row,
 * frequent enough that a stopped check leaves nearly everything. */
#define CHECK_BATCH 4096

static uint64_t input_size(const char *path)
{
	struct stat st;
	if (path[0] == '-' && !path[1])
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size
							    : 0;
}

int bc_check(const struct bc_job_options *o)
{
	struct bc_job job;
	int code = bc_job_setup(&job, o, 0, 1, 1);
	if (code != BC_EXIT_OK) {
		bc_job_release(&job);
		return code;
	}
	struct bc_summary_info info = {
		.command = "check",
		.input = o->input,
		.profile = job.profile->name,
		.started_ms = bc_clock_unix_ms(),
	};
	struct bc_progress progress;
	bc_progress_init(&progress, stderr, o->progress, o->quiet,
			 bc_clock_mono_us());
	struct bc_progress_state ps = { .bytes_total = input_size(o->input) };
	/* Gzip offsets count decompressed bytes: no ETA from file size. */
	size_t plen = strlen(o->input);
	if (plen > 3 && strcmp(o->input + plen - 3, ".gz") == 0)
		ps.bytes_total = 0;

	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	char err[512], rowerr[512];
	int result, write_failed = 0;
	uint64_t n = 0;
	while ((result = bc_reader_next(job.reader, &row, err, sizeof err)) == 1) {
		struct bc_result r = {
			.row = &row,
			.outcome = BC_OUTCOME_VALID,
			.latency_ms = -1,
		};
		if (row.error[0]) {
			r.outcome = BC_OUTCOME_REJECTED;
			r.error = row.error;
		} else {
			bc_request_reset(&req);
			int b = job.profile->build(&job.ctx, &row, &req, rowerr,
						   sizeof rowerr);
			if (b == BC_EINVAL) {
				r.outcome = BC_OUTCOME_REJECTED;
				r.error = rowerr;
			} else if (b) {
				snprintf(rowerr, sizeof rowerr,
					 "line %llu: cannot build request: %s",
					 (unsigned long long)row.line,
					 bc_strerror(b));
				r.outcome = BC_OUTCOME_REJECTED;
				r.error = rowerr;
			}
		}
		r.finished_at_ms = bc_clock_unix_ms();
		if (bc_output_write(job.output, &r, err, sizeof err)) {
			write_failed = 1;
			break;
		}
		if (r.outcome != BC_OUTCOME_VALID)
			ps.not_ok++;
		if (++n % CHECK_BATCH == 0) {
			if (bc_output_flush(job.output, err, sizeof err)) {
				write_failed = 1;
				break;
			}
			ps.done = ps.rows_read = n;
			ps.bytes_read = bc_reader_offset(job.reader);
			bc_progress_update(&progress, &ps, bc_clock_mono_us());
		}
	}
	ps.done = ps.rows_read = n;
	ps.input_done = result == 0;
	ps.bytes_read = bc_reader_offset(job.reader);
	bc_progress_finish(&progress, &ps, bc_clock_mono_us());
	bc_row_release(&row);
	bc_request_release(&req);

	if (write_failed || result < 0) {
		fprintf(stderr, "bulkcall: %s\n", err);
		code = write_failed ? BC_EXIT_OUTPUT : BC_EXIT_INPUT;
	}
	char *opts = bc_job_options_json(o, job.profile->default_rate);
	info.options_json = opts;
	info.ended_ms = bc_clock_unix_ms();
	info.stopped_because = write_failed || result < 0 ? err : NULL;
	char cerr[512];
	if (bc_output_close(job.output, &info, cerr, sizeof cerr)) {
		fprintf(stderr, "bulkcall: %s\n", cerr);
		code = BC_EXIT_OUTPUT;
	}
	free(opts);
	if (!o->quiet)
		bc_output_print_summary(job.output, &info, stderr);
	if (code == BC_EXIT_OK) {
		const uint64_t *counts = bc_output_counts(job.output);
		code = counts[BC_OUTCOME_REJECTED] ? BC_EXIT_SOME_NOT_OK
						   : BC_EXIT_OK;
	}
	bc_job_release(&job);
	return code;
}
