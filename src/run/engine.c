/* bulkcall run: placeholder until the engine lands (issue 3). */
#include <stdio.h>

#include "bulkcall/job.h"

int bc_run(const struct bc_job_options *o)
{
	(void)o;
	fprintf(stderr, "bulkcall run: not available yet in this version\n");
	return BC_EXIT_USAGE;
}
