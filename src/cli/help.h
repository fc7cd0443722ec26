/* Help text for the CLI. */
#ifndef BC_CLI_HELP_H
#define BC_CLI_HELP_H

/* Prints the help of command (NULL: the overview) on stdout. Returns 0,
 * or -1 for a command that does not exist (nothing printed). */
int bc_help_print(const char *command);

#endif
