/* bulkcall render: the exact HTTP requests of rows A..B, with every secret
 * header printed as ***. Reads no further than row B. */
#include <stdio.h>

#include "bulkcall/error.h"
#include "run/job_setup.h"

static void print_request(FILE *out, const struct bc_job *job,
			  const struct bc_row *row, const struct bc_request *req)
{
	fprintf(out, "# row %llu (line %llu)\n", (unsigned long long)row->index,
		(unsigned long long)row->line);
	fprintf(out, "%s %s\n", req->method, bc_buf_str(&req->url));
	for (size_t i = 0; i < job->ctx.nheaders; i++) {
		const struct bc_header *h = &job->ctx.headers[i];
		const char *shown = h->value;
		if (h->secret && h->value[0])
			shown = "***";
		else if (h->secret && job->ctx.mint_token)
			/* OAuth: render sends nothing, so nothing is minted */
			shown = "Bearer *** (a token minted when the run starts)";
		else if (h->secret)
			shown = "(not set)";
		fprintf(out, "%s: %s\n", h->name, shown);
	}
	if (req->content_type)
		fprintf(out, "Content-Type: %s\n", req->content_type);
	fprintf(out, "\n");
	if (req->body.len) {
		fwrite(req->body.ptr, 1, req->body.len, out);
		if (req->body.ptr[req->body.len - 1] != '\n')
			fputc('\n', out);
	}
	fputc('\n', out);
}

int bc_render(const struct bc_job_options *o, FILE *out)
{
	struct bc_job job;
	int code = bc_job_setup(&job, o, 0, 0, 0);
	if (code != BC_EXIT_OK) {
		bc_job_release(&job);
		return code;
	}
	struct bc_row row;
	struct bc_request req;
	bc_row_init(&row);
	bc_request_init(&req);
	char err[512];
	int result;
	uint64_t shown = 0, rejected = 0;
	while ((result = bc_reader_next(job.reader, &row, err, sizeof err)) == 1) {
		if (row.index < o->rows_from)
			continue;
		if (row.index > o->rows_to)
			break;
		shown++;
		const char *why = row.error[0] ? row.error : NULL;
		if (!why) {
			bc_request_reset(&req);
			int b = job.profile->build(&job.ctx, &row, &req, err,
						   sizeof err);
			if (b)
				why = b == BC_EINVAL ? err : bc_strerror(b);
		}
		if (why) {
			rejected++;
			fprintf(out, "# row %llu (line %llu): rejected: %s\n\n",
				(unsigned long long)row.index,
				(unsigned long long)row.line, why);
			continue;
		}
		print_request(out, &job, &row, &req);
	}
	if (result < 0) {
		fprintf(stderr, "bulkcall: %s\n", err);
		code = BC_EXIT_INPUT;
	} else if (shown == 0) {
		fprintf(stderr, "bulkcall: no rows in %llu-%llu (the input has "
				"fewer rows)\n",
			(unsigned long long)o->rows_from,
			(unsigned long long)o->rows_to);
		code = BC_EXIT_USAGE;
	} else if (rejected) {
		code = BC_EXIT_SOME_NOT_OK;
	}
	bc_row_release(&row);
	bc_request_release(&req);
	bc_job_release(&job);
	if (fflush(out) != 0 && code == BC_EXIT_OK)
		code = BC_EXIT_OUTPUT;
	return code;
}
