/* bulkcall: argv -> options -> the command. Exit codes are enum bc_exit;
 * stdout is closed and checked so a full disk or a closed pipe is not a
 * silent success (jq's main.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bulkcall/job.h"
#include "bulkcall/profile.h"
#include "cli/help.h"
#include "cli/options.h"

static int cmd_profiles(const char *name)
{
	const struct bc_profile *const *all = bc_profiles();
	if (!name) {
		for (size_t i = 0; all[i]; i++)
			printf("%-30s %s\n", all[i]->name, all[i]->summary);
		return BC_EXIT_OK;
	}
	const struct bc_profile *p = bc_profile_find(name);
	if (!p) {
		fprintf(stderr, "bulkcall: unknown profile '%s' (see 'bulkcall "
				"profiles')\n",
			name);
		return BC_EXIT_USAGE;
	}
	printf("%s\n  %s\n\n", p->name, p->summary);
	printf("request:     %s %s%s\n", p->method, p->default_base_url,
	       p->path ? p->path : "");
	printf("idempotent:  %s\n", p->idempotent ? "yes (a repeat is harmless)"
						 : "no (a repeat acts again)");
	printf("default key: %s    default rate: %g/s\n\n", p->default_key,
	       p->default_rate);
	printf("columns:\n");
	for (size_t i = 0; p->columns[i].name; i++)
		printf("  %-22s %-11s %-9s %s\n", p->columns[i].name,
		       p->columns[i].type,
		       p->columns[i].required ? "required" : "optional",
		       p->columns[i].rule);
	printf("\n%s\n", p->notes);
	return BC_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
	if (argc < 2) {
		bc_help_print(NULL);
		return BC_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		bc_help_print(NULL);
		return BC_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("bulkcall %s\n", BC_VERSION);
		return BC_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		if (bc_help_print(argc > 2 ? argv[2] : NULL) == 0)
			return BC_EXIT_OK;
		fprintf(stderr, "bulkcall: unknown command '%s' (see 'bulkcall "
				"--help')\n",
			argv[2]);
		return BC_EXIT_USAGE;
	}
	static const char *const commands[] = { "run", "check", "render",
						"resume", "profiles", NULL };
	int known = 0;
	for (size_t i = 0; commands[i]; i++)
		known |= strcmp(cmd, commands[i]) == 0;
	if (!known) {
		fprintf(stderr, "bulkcall: unknown command '%s' (see 'bulkcall "
				"--help')\n",
			cmd);
		return BC_EXIT_USAGE;
	}
	struct bc_cli cli;
	int code = bc_cli_parse(&cli, argc, argv);
	if (code)
		return code;
	if (cli.help) {
		bc_help_print(cmd);
		return BC_EXIT_OK;
	}
	if (strcmp(cmd, "profiles") == 0)
		return cmd_profiles(cli.positional);
	if (!cli.positional) {
		fprintf(stderr, "bulkcall %s: missing %s (see 'bulkcall help %s')\n",
			cmd, strcmp(cmd, "resume") == 0 ? "OUTDIR" : "INPUT", cmd);
		return BC_EXIT_USAGE;
	}
	if (strcmp(cmd, "resume") == 0)
		return bc_resume(cli.positional, &cli.job);
	cli.job.input = cli.positional;
	if (!cli.job.profile) {
		fprintf(stderr, "bulkcall %s: --profile is required (see "
				"'bulkcall profiles')\n",
			cmd);
		return BC_EXIT_USAGE;
	}
	if (strcmp(cmd, "check") == 0)
		return bc_check(&cli.job);
	if (strcmp(cmd, "render") == 0)
		return bc_render(&cli.job, stdout);
	return bc_run(&cli.job);
}

int main(int argc, char **argv)
{
	int code = dispatch(argc, argv);
	if (fclose(stdout) != 0 && code == BC_EXIT_OK) {
		fprintf(stderr, "bulkcall: error writing output: %s\n",
			strerror(errno));
		code = BC_EXIT_OUTPUT;
	}
	return code;
}
