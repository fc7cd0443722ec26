/* bulkcall-mock: command line, process setup (file limit, signals, port
 * file) and orderly shutdown. Everything HTTP is in server.c, faults in
 * faults.c, throttling in throttle.c, the ledger in ledger.c and each
 * vendor in its own mock_<vendor>.c. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "mock/mock.h"

enum mock_exit {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,  /* cannot listen, cannot open the ledger, ... */
	EXIT_USAGE = 2,
};

struct mock_opts mock_opts = {
	.listen = "127.0.0.1:0",
	.threads = 2,
	.connection_limit = 20000,
	.timeout_s = 60,
	.max_body = 1u << 20,
	.retry_after_s = MOCK_RETRY_AFTER_NONE,
	.token_ttl_s = 3600,
};

static int conn_limit_set;

/* Two parts: C limits one string literal to 4095 bytes. */
static const char usage_text[] =
"usage: bulkcall-mock [options]\n"
"\n"
"Mock of the provider APIs bulkcall drives (IOVOX, Smartflo, VoipNow, MOR),\n"
"on loopback, with injected faults and a ledger of accepted operations.\n"
"\n"
"Server:\n"
"  --listen HOST:PORT       address to serve; port 0 = any free port\n"
"                           (default 127.0.0.1:0; IPv6 as [::1]:PORT)\n"
"  --port-file FILE         once listening, write the port to FILE\n"
"                           (atomically: temporary file + rename)\n"
"  --threads N              server threads (default 2)\n"
"  --connection-limit N     open connections at most (default 20000;\n"
"                           capped by the file descriptor limit, which is\n"
"                           raised to its hard maximum at startup)\n"
"  --timeout S              close idle connections after S seconds (60)\n"
"  --max-body BYTES         larger request bodies get 413 (default 1048576)\n"
"\n"
"Faults (every provider; decided per request):\n"
"  --latency MS[:JITTER]    answer MS ms late, plus 0..JITTER ms at random;\n"
"                           no thread is held while waiting\n"
"  --fail-rate P            answer this fraction (0..1) with the vendor's\n"
"                           500, before processing (nothing in the ledger)\n"
"  --reset-rate P           reset this fraction of connections without an\n"
"                           answer, before processing (nothing in the ledger)\n"
"  --reset-after-rate P     process this fraction (ledger line if accepted),\n"
"                           then reset the connection without an answer:\n"
"                           the client cannot know the outcome\n"
"  --throttle [PROVIDER:]N/SECONDS\n"
"                           more than N accepted operations of one scope in\n"
"                           a window of SECONDS are answered the vendor's\n"
"                           throttle way (IOVOX 400 \"The number of calls\n"
"                           allowed has been exceeded\", Smartflo and VoipNow\n"
"                           429, MOR 429); without PROVIDER: for all\n"
"  --throttle-key [PROVIDER:]FIELD\n"
"                           scope per value of FIELD (e.g. link_id, id,\n"
"                           extension, device_id) instead of the account\n"
"  --block [PROVIDER:]SECONDS\n"
"                           a throttled scope stays blocked this long\n"
"                           (default: the window)\n"
"  --retry-after S|auto     add Retry-After: S to throttle answers; auto =\n"
"                           the seconds left in the block\n"
"  --seed N                 seed of the fault PRNG (deterministic draws with\n"
"                           --threads 1); default: time and pid\n"
"\n"
"Record:\n"
"  --ledger FILE            append one NDJSON line per accepted operation:\n"
"                           {\"provider\",\"op\",<fields>,\"t\":unix_ms}\n"
"  --token-ttl S            lifetime of VoipNow OAuth tokens (default 3600)\n"
"  --token-revoke-every N   VoipNow: revoke every minted token each time N\n"
"                           requests used one (the client must mint again)\n"
"  --auth-fail-after N      IOVOX: refuse the credentials (401) from the\n"
"                           N+1th request on, as if the key were revoked\n"
"  -v, --verbose            log every request on stderr\n"
"  -h, --help               this text\n"
"      --version            print the version\n"
"\n";

static const char usage_endpoints[] =
"Endpoints and credentials (environment, defaults in brackets):\n"
"  IOVOX     POST /Calling?v=3&method=initiateCall,\n"
"            PUT /CallFlow?v=3&method=updateCallFlow; headers username and\n"
"            secureKey = MOCK_IOVOX_USERNAME [demo], MOCK_IOVOX_SECURE_KEY\n"
"            [demo-key]. Link ids bad* and missing* do not exist, norules*\n"
"            have no calling rules; callFlow names missing* do not exist,\n"
"            newName taken* exists already.\n"
"  Smartflo  PUT /v1/ivr/{id}; Authorization: Bearer MOCK_SMARTFLO_TOKEN\n"
"            [smartflo-token]. IVR ids must be numbers; 0 and 9* do not\n"
"            exist.\n"
"  VoipNow   POST /oauth/token.php (client_credentials; MOCK_VOIPNOW_CLIENT_ID\n"
"            [voipnow-client], MOCK_VOIPNOW_CLIENT_SECRET [voipnow-secret]);\n"
"            PUT /uapi/extensions/{user}/{ext}/phoneCallEvents/{type}/{id}\n"
"            with a minted token or MOCK_VOIPNOW_TOKEN [voipnow-token]. Event\n"
"            ids missing* do not exist.\n"
"  MOR       POST /billing/api/device_callflow_update; u = MOCK_MOR_USER\n"
"            [admin], hash keyed with MOCK_MOR_SECRET [mor-secret]. Device,\n"
"            DID and fax ids 9* do not exist.\n"
"\n"
"At exit (SIGINT or SIGTERM) a one-line count of requests per outcome is\n"
"printed on stderr. Exit status: 0 after a signal, 1 if the server could\n"
"not start, 2 for a usage error.\n";

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bulkcall-mock: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'bulkcall-mock --help'.\n", stderr);
	exit(EXIT_USAGE);
}

static unsigned long parse_uint(const char *opt, const char *s,
				unsigned long min, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v < min ||
	    v > max) {
		usage_error("invalid %s '%s': expected a whole number from "
			    "%lu to %lu",
			    opt, s, min, max);
	}
	return v;
}

static double parse_rate(const char *opt, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= 0 && v <= 1)) {
		usage_error("invalid %s '%s': expected a fraction from 0 "
			    "to 1",
			    opt, s);
	}
	return v;
}

/* Seconds (fractions allowed) to ms; zero_ok for --block. */
static uint64_t parse_seconds_ms(const char *opt, const char *s, int zero_ok)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !isfinite(v) || v < 0 || (!zero_ok && v <= 0) ||
	    v > 86400.0 * 365) {
		usage_error("invalid %s '%s': expected a number of "
			    "seconds%s",
			    opt, s, zero_ok ? "" : " above 0");
	}
	uint64_t ms = (uint64_t)llround(v * 1000.0);
	return ms || zero_ok ? ms : 1;
}

/* Splits "PROVIDER:REST": returns the provider (NULL = all) and REST. */
static struct mock_provider *split_provider(const char *opt, const char *arg,
					    const char **rest)
{
	const char *colon = strchr(arg, ':');
	*rest = arg;
	if (!colon)
		return NULL;
	for (size_t i = 0; mock_providers[i]; i++) {
		const char *name = mock_providers[i]->name;
		if (strlen(name) == (size_t)(colon - arg) &&
		    !strncmp(arg, name, (size_t)(colon - arg))) {
			*rest = colon + 1;
			return mock_providers[i];
		}
	}
	usage_error("invalid %s '%s': unknown provider (iovox, smartflo, "
		    "voipnow, mor)",
		    opt, arg);
}

enum {
	OPT_LISTEN = 256, OPT_PORT_FILE, OPT_THREADS, OPT_CONN_LIMIT,
	OPT_TIMEOUT, OPT_MAX_BODY, OPT_LATENCY, OPT_FAIL_RATE, OPT_RESET_RATE,
	OPT_RESET_AFTER_RATE, OPT_THROTTLE, OPT_THROTTLE_KEY, OPT_BLOCK,
	OPT_RETRY_AFTER, OPT_SEED, OPT_LEDGER, OPT_TOKEN_TTL, OPT_AUTH_FAIL_AFTER, OPT_TOKEN_REVOKE_EVERY, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "connection-limit", required_argument, NULL, OPT_CONN_LIMIT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "fail-rate", required_argument, NULL, OPT_FAIL_RATE },
	{ "reset-rate", required_argument, NULL, OPT_RESET_RATE },
	{ "reset-after-rate", required_argument, NULL, OPT_RESET_AFTER_RATE },
	{ "throttle", required_argument, NULL, OPT_THROTTLE },
	{ "throttle-key", required_argument, NULL, OPT_THROTTLE_KEY },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "retry-after", required_argument, NULL, OPT_RETRY_AFTER },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ledger", required_argument, NULL, OPT_LEDGER },
	{ "token-ttl", required_argument, NULL, OPT_TOKEN_TTL },
	{ "auth-fail-after", required_argument, NULL, OPT_AUTH_FAIL_AFTER },
	{ "token-revoke-every", required_argument, NULL, OPT_TOKEN_REVOKE_EVERY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Iterates p over provider one or, when one is NULL, over all. */
#define FOR_PROVIDERS(one, p)                                            \
	for (size_t i_ = 0; mock_providers[i_]; i_++)                    \
		for (struct mock_provider *p = mock_providers[i_];       \
		     p && (!(one) || p == (one)); p = NULL)

static void parse_throttle(const char *arg)
{
	const char *rest;
	struct mock_provider *one = split_provider("--throttle", arg, &rest);
	const char *slash = strchr(rest, '/');
	if (!slash)
		usage_error("invalid --throttle '%s': expected N/SECONDS, "
			    "e.g. 10/1",
			    arg);
	char n[24];
	size_t nl = (size_t)(slash - rest);
	if (nl >= sizeof n)
		usage_error("invalid --throttle '%s': N too long", arg);
	memcpy(n, rest, nl);
	n[nl] = '\0';
	unsigned int limit =
		(unsigned int)parse_uint("--throttle N", n, 1, 1000000000);
	uint64_t window_ms = parse_seconds_ms("--throttle SECONDS", slash + 1,
					      0);
	FOR_PROVIDERS(one, p) {
		p->throttle.limit = limit;
		p->throttle.window_ms = window_ms;
	}
}

static void parse_latency(const char *arg)
{
	char ms[24];
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	if (len >= sizeof ms)
		usage_error("invalid --latency '%s'", arg);
	memcpy(ms, arg, len);
	ms[len] = '\0';
	mock_opts.latency_ms =
		(uint32_t)parse_uint("--latency MS", ms, 0, 3600000);
	mock_opts.jitter_ms =
		colon ? (uint32_t)parse_uint("--latency JITTER", colon + 1, 0,
					     3600000)
		      : 0;
}

static void parse_args(int argc, char **argv)
{
	int c;
	const char *rest;
	struct mock_provider *one;
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			if (mock_listen_check(optarg))
				usage_error("invalid --listen '%s': expected "
					    "HOST:PORT, e.g. 127.0.0.1:0",
					    optarg);
			mock_opts.listen = optarg;
			break;
		case OPT_PORT_FILE:
			mock_opts.port_file = optarg;
			break;
		case OPT_THREADS:
			mock_opts.threads = (unsigned int)parse_uint(
				"--threads", optarg, 1, 256);
			break;
		case OPT_CONN_LIMIT:
			mock_opts.connection_limit = (unsigned int)parse_uint(
				"--connection-limit", optarg, 1, 1000000);
			conn_limit_set = 1;
			break;
		case OPT_TIMEOUT:
			mock_opts.timeout_s = (unsigned int)parse_uint(
				"--timeout", optarg, 0, 86400);
			break;
		case OPT_MAX_BODY:
			mock_opts.max_body = (size_t)parse_uint(
				"--max-body", optarg, 1, 1ul << 30);
			break;
		case OPT_LATENCY:
			parse_latency(optarg);
			break;
		case OPT_FAIL_RATE:
			mock_opts.fail_rate = parse_rate("--fail-rate", optarg);
			break;
		case OPT_RESET_RATE:
			mock_opts.reset_rate =
				parse_rate("--reset-rate", optarg);
			break;
		case OPT_RESET_AFTER_RATE:
			mock_opts.reset_after_rate =
				parse_rate("--reset-after-rate", optarg);
			break;
		case OPT_THROTTLE:
			parse_throttle(optarg);
			break;
		case OPT_THROTTLE_KEY:
			one = split_provider("--throttle-key", optarg, &rest);
			if (!*rest)
				usage_error("invalid --throttle-key '%s': "
					    "empty field name",
					    optarg);
			FOR_PROVIDERS(one, p)
			p->throttle.key = strcmp(rest, "*") ? rest : NULL;
			break;
		case OPT_BLOCK: {
			one = split_provider("--block", optarg, &rest);
			uint64_t ms = parse_seconds_ms("--block", rest, 1);
			FOR_PROVIDERS(one, p)
			p->throttle.block_ms = ms;
			break;
		}
		case OPT_RETRY_AFTER:
			mock_opts.retry_after_s =
				strcmp(optarg, "auto")
					? (int)parse_uint("--retry-after",
							  optarg, 0, 86400)
					: MOCK_RETRY_AFTER_AUTO;
			break;
		case OPT_SEED:
			mock_opts.seed = (uint64_t)parse_uint(
				"--seed", optarg, 0, (unsigned long)-1);
			mock_opts.seeded = 1;
			break;
		case OPT_LEDGER:
			mock_opts.ledger_path = optarg;
			break;
		case OPT_TOKEN_TTL:
			mock_opts.token_ttl_s = (unsigned int)parse_uint(
				"--token-ttl", optarg, 1, 86400 * 365);
			break;
		case OPT_TOKEN_REVOKE_EVERY:
			mock_opts.token_revoke_every = (unsigned long)parse_uint(
				"--token-revoke-every", optarg, 1, 1000000000);
			break;
		case OPT_AUTH_FAIL_AFTER:
			mock_opts.auth_fail_after = (unsigned long)parse_uint(
				"--auth-fail-after", optarg, 1, 1000000000);
			break;
		case 'v':
			mock_opts.verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(usage_endpoints, stdout);
			exit(fclose(stdout) ? EXIT_RUNTIME : EXIT_OK);
		case OPT_VERSION:
			printf("bulkcall-mock %s\n", BC_VERSION);
			exit(fclose(stdout) ? EXIT_RUNTIME : EXIT_OK);
		default:
			fputs("Try 'bulkcall-mock --help'.\n", stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (mock_opts.fail_rate + mock_opts.reset_rate > 1.0)
		usage_error("--fail-rate and --reset-rate add up to more "
			    "than 1");
	for (size_t i = 0; mock_providers[i]; i++) {
		const struct mock_throttle_cfg *t = &mock_providers[i]->throttle;
		if (!t->limit && (t->key || t->block_ms))
			usage_error("--throttle-key and --block need "
				    "--throttle");
	}
}

/* Many concurrent connections need many descriptors: take the hard
 * limit, and keep the connection limit inside it. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		if (want == RLIM_INFINITY)
			want = 1048576;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	rlim_t room = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
	if (mock_opts.connection_limit > room) {
		if (conn_limit_set)
			fprintf(stderr,
				"bulkcall-mock: warning: --connection-limit "
				"lowered to %llu (file descriptor limit %llu)\n",
				(unsigned long long)room,
				(unsigned long long)rl.rlim_cur);
		mock_opts.connection_limit = (unsigned int)room;
	}
}

static int write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int bad = fprintf(f, "%u\n", (unsigned int)port) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[512] = "";
	int rc = EXIT_RUNTIME;
	sigset_t sigs;

	parse_args(argc, argv);
	raise_nofile();
	xmlInitParser();

	/* Signals go to sigwait() below, not to server threads. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (mock_ledger_open(mock_opts.ledger_path, err, sizeof err) ||
	    mock_throttle_init(err, sizeof err) ||
	    mock_timer_start(err, sizeof err) ||
	    mock_server_start(err, sizeof err))
		goto out;

	uint16_t port = mock_server_port();
	if (mock_opts.port_file && write_port_file(mock_opts.port_file, port)) {
		snprintf(err, sizeof err, "cannot write port file '%s': %s",
			 mock_opts.port_file, strerror(errno));
		goto out;
	}
	fprintf(stderr, "bulkcall-mock: listening on port %u\n",
		(unsigned int)port);

	int sig;
	while (sigwait(&sigs, &sig))
		;
	rc = EXIT_OK;
out:
	if (*err)
		fprintf(stderr, "bulkcall-mock: %s\n", err);
	mock_server_stop();
	mock_timer_stop();
	mock_stats_print();
	mock_ledger_close();
	mock_throttle_release();
	xmlCleanupParser();
	return rc;
}
