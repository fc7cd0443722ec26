/* argv and the -c JSON config -> struct bc_job_options. Flags win over the
 * config file. Credentials are never options: they come from the
 * environment, or from a KEY=VALUE file the config names
 * ("credentials_file"), loaded without overriding the environment. */
#ifndef BC_CLI_OPTIONS_H
#define BC_CLI_OPTIONS_H

#include "bulkcall/job.h"

struct bc_cli {
	const char *command;
	struct bc_job_options job;
	const char *config_path;
	const char *positional; /* INPUT, OUTDIR or profile NAME */
	int help;
};

/* Parses argv[1..] (argv[1] is the command). Returns BC_EXIT_OK, or
 * BC_EXIT_USAGE after printing why. Strings point into argv or into
 * memory kept for the process lifetime. */
int bc_cli_parse(struct bc_cli *cli, int argc, char **argv);

#endif
