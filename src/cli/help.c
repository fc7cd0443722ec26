/* The text of --help and `bulkcall help COMMAND`. It must say what
 * SPEC.md and the README say. */
#include <stdio.h>
#include <string.h>

#include "cli/help.h"

static const char overview[] =
	"usage: bulkcall COMMAND [options] INPUT\n"
	"\n"
	"Runs one telephony API operation per input row (CSV or NDJSON, optionally\n"
	"gzip), politely and fast, and accounts for every row.\n"
	"\n"
	"commands:\n"
	"  run      [options] INPUT   send every row; write the output folder\n"
	"  check    [options] INPUT   validate and build every request, send nothing\n"
	"  render   [options] INPUT   print the HTTP requests for --rows A-B (secrets masked)\n"
	"  resume   OUTDIR            continue an interrupted or crashed run\n"
	"  profiles [NAME]            list profiles, or one profile's columns and rules\n"
	"  help     COMMAND           options of one command\n"
	"\n"
	"INPUT is a path or - (stdin): .csv, .ndjson or .jsonl, each optionally .gz.\n"
	"Credentials come from the environment (e.g. IOVOX_USERNAME, IOVOX_SECURE_KEY),\n"
	"never from the command line, and are never printed.\n"
	"\n"
	"exit codes: 0 every row ok, 1 some rows not ok, 2 usage or config error,\n"
	"3 input unreadable, 4 output or system error, 5 stopped by a fatal API\n"
	"condition (bad credentials), 130 interrupted.\n"
	"\n"
	"Run 'bulkcall help run' for every option.\n";

static const char common[] =
	"  -p, --profile NAME        which operation each row is (required)\n"
	"  -c, --config FILE         JSON object of options (keys = long option names;\n"
	"                            \"credentials_file\" names a KEY=VALUE file); flags win\n"
	"      --format csv|ndjson   input format (default: from the extension)\n"
	"      --base-url URL        API root (sandbox, proxy, the mock)\n"
	"      --template FILE       rule XML template (iovox.updateCallFlow)\n"
	"      --profile-file FILE   JSON profile (http)\n"
	"  -q, --quiet               no progress, no summary\n"
	"  -v, --verbose             trace row state changes\n";

static const char output_opts[] =
	"  -o, --out DIR             output folder (default bulkcall-out/<stem>-<UTC stamp>,\n"
	"                            -2, -3... if taken); a non-empty one is refused\n"
	"                            unless --force\n"
	"      --force               write into a non-empty output folder\n"
	"      --results-format csv|ndjson   (default: like the input)\n"
	"      --gzip                compress the output files\n"
	"      --progress auto|always|never  progress on stderr (default: TTY only)\n";

static const char run_opts[] =
	"      --rate R              requests per second for the run; 0 = no limit\n"
	"                            (default: the profile's)\n"
	"      --burst B             token bucket size (default: 1 s of rate)\n"
	"      --concurrency N       requests in flight at most (default 100)\n"
	"      --net-threads N       threads driving the connections; 0 = the main\n"
	"                            loop does (default 2)\n"
	"      --max-attempts N      tries per row for retryable failures (default 5)\n"
	"      --backoff MIN_MS:MAX_MS   exponential backoff, full jitter (500:60000)\n"
	"      --throttle-cooldown S pause after a throttle without Retry-After (60)\n"
	"      --key COLUMN          column scoping throttles and per-key limits;\n"
	"                            * = the whole account (default: the profile's)\n"
	"      --key-rate R          requests per second per key value\n"
	"      --key-concurrency N   requests in flight per key value\n"
	"      --max-retry-time S    a row unfinished this long after its first\n"
	"                            attempt goes to retry (3600)\n"
	"      --halt-fail PCT       stop when more than PCT %% of the last 200\n"
	"                            finished rows failed; the rest goes to retry\n"
	"      --timeout S           per attempt (30)\n"
	"      --connect-timeout S   per attempt (10)\n"
	"      --retry-unknown       also retry rows whose outcome is unknown\n"
	"                            (may call someone twice)\n"
	"      --window HH:MM-HH:MM  dispatch only inside this daily window (end may\n"
	"                            be 24:00); outside it the run waits\n"
	"      --tz ZONE             time zone of --window, e.g. Europe/London or\n"
	"                            UTC (default: local)\n"
	"      --max-runtime DUR     stop dispatching after DUR (90s, 15m, 2h);\n"
	"                            the rest goes to retry\n"
	"      --cacert FILE         CA bundle for TLS verification\n"
	"      --insecure            do not verify TLS (warns)\n"
	"      --proxy URL           HTTP(S) proxy\n";

int bc_help_print(const char *command)
{
	if (!command || strcmp(command, "help") == 0) {
		fputs(overview, stdout);
		return 0;
	}
	if (strcmp(command, "run") == 0) {
		printf("usage: bulkcall run -p PROFILE [options] INPUT\n\n"
		       "Sends every row and writes results, retry, errors, unknown\n"
		       "and summary.json into the output folder.\n\n");
		fputs(common, stdout);
		fputs(output_opts, stdout);
		printf(run_opts);
	} else if (strcmp(command, "check") == 0) {
		printf("usage: bulkcall check -p PROFILE [options] INPUT\n\n"
		       "Validates every row and builds its request without sending\n"
		       "anything; results say valid or rejected, errors.* holds the\n"
		       "rejected rows with a bulkcall_error column (fix and feed back).\n"
		       "Exit 0 when every row is valid, 1 otherwise.\n\n");
		fputs(common, stdout);
		fputs(output_opts, stdout);
	} else if (strcmp(command, "render") == 0) {
		printf("usage: bulkcall render -p PROFILE [options] INPUT --rows A-B\n\n"
		       "Prints method, URL, headers (secrets as ***) and body of rows\n"
		       "A to B (default 1).\n\n");
		fputs(common, stdout);
		printf("      --rows A-B            which data rows (1-based)\n");
	} else if (strcmp(command, "resume") == 0) {
		printf("usage: bulkcall resume OUTDIR [options]\n\n"
		       "Continues an interrupted, stopped or crashed run from its output\n"
		       "folder, with the options in OUTDIR/job.json; a flag given here\n"
		       "overrides one of them (e.g. a lower --rate).\n\n"
		       "  - refuses (exit 2) if the input, --template or --profile-file\n"
		       "    changed (size or CRC-32), the input came from stdin, another\n"
		       "    bulkcall works in OUTDIR, or -p / --template / --profile-file\n"
		       "    names another one than the job's;\n"
		       "  - cuts the output files back to the journal's last commit, so a\n"
		       "    torn line is dropped and redone, never duplicated;\n"
		       "  - skips rows already final; rows a stop left unsent (Ctrl-C,\n"
		       "    --max-runtime, a fatal answer, --halt-fail) are sent now;\n"
		       "  - a row of a non-idempotent profile (iovox.initiateCall) that\n"
		       "    was in flight at a crash becomes 'unknown', never a second call;\n"
		       "    idempotent profiles send it again;\n"
		       "  - a finished job: says so (and whether every row was ok) and\n"
		       "    exits 0.\n\n");
		fputs(run_opts, stdout);
	} else if (strcmp(command, "profiles") == 0) {
		printf("usage: bulkcall profiles [NAME]\n\n"
		       "Lists the profiles, or one profile's columns, types and rules.\n");
	} else {
		return -1;
	}
	return 0;
}
