/* Help text for the CLI. */
#ifndef BC_CLI_HELP_H
#define BC_CLI_HELP_H

/* command NULL: the overview. */
void bc_help_print(const char *command);

#endif
