/* Option parsing with getopt_long, and the JSON config read with cJSON.
 * One table drives both, so a config key is exactly a long option name
 * (dashes or underscores). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bulkcall/error.h"
#include "bulkcall/journal.h"
#include "bulkcall/timefmt.h"
#include "cli/options.h"

enum opt_id {
	OPT_PROFILE = 'p',
	OPT_OUT = 'o',
	OPT_CONFIG = 'c',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_FORCE = 1000,
	OPT_BASE_URL,
	OPT_RATE,
	OPT_BURST,
	OPT_CONCURRENCY,
	OPT_MAX_ATTEMPTS,
	OPT_BACKOFF,
	OPT_THROTTLE_COOLDOWN,
	OPT_KEY,
	OPT_KEY_RATE,
	OPT_KEY_CONCURRENCY,
	OPT_MAX_RETRY_TIME,
	OPT_HALT_FAIL,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_RETRY_UNKNOWN,
	OPT_WINDOW,
	OPT_TZ,
	OPT_MAX_RUNTIME,
	OPT_FORMAT,
	OPT_RESULTS_FORMAT,
	OPT_GZIP,
	OPT_PROGRESS,
	OPT_CACERT,
	OPT_INSECURE,
	OPT_PROXY,
	OPT_TEMPLATE,
	OPT_PROFILE_FILE,
	OPT_ROWS,
	OPT_NET_THREADS,
	OPT_MAX = OPT_NET_THREADS + 1
};

static const struct option long_options[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "base-url", required_argument, NULL, OPT_BASE_URL },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS },
	{ "backoff", required_argument, NULL, OPT_BACKOFF },
	{ "throttle-cooldown", required_argument, NULL, OPT_THROTTLE_COOLDOWN },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "key-rate", required_argument, NULL, OPT_KEY_RATE },
	{ "key-concurrency", required_argument, NULL, OPT_KEY_CONCURRENCY },
	{ "max-retry-time", required_argument, NULL, OPT_MAX_RETRY_TIME },
	{ "halt-fail", required_argument, NULL, OPT_HALT_FAIL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "retry-unknown", no_argument, NULL, OPT_RETRY_UNKNOWN },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "max-runtime", required_argument, NULL, OPT_MAX_RUNTIME },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "results-format", required_argument, NULL, OPT_RESULTS_FORMAT },
	{ "gzip", no_argument, NULL, OPT_GZIP },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "proxy", required_argument, NULL, OPT_PROXY },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "profile-file", required_argument, NULL, OPT_PROFILE_FILE },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "net-threads", required_argument, NULL, OPT_NET_THREADS },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bulkcall: --%s: ", name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see 'bulkcall --help')\n");
	va_end(ap);
	return BC_EXIT_USAGE;
}

static int parse_double(const char *name, const char *v, double min, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d))
		return usage_error(name, "'%s' is not a number", v);
	if (d < min)
		return usage_error(name, "'%s' is too small", v);
	*out = d;
	return BC_EXIT_OK;
}

static int parse_long(const char *name, const char *v, long min, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return usage_error(name, "'%s' is not a whole number", v);
	if (n < min)
		return usage_error(name, "'%s' is too small", v);
	*out = n;
	return BC_EXIT_OK;
}

/* "90", "90s", "15m", "2h", "1d" -> seconds. */
static int parse_duration(const char *name, const char *v, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	double unit = 1;
	if (end != v && *end && !end[1]) {
		switch (*end) {
		case 's': unit = 1; end++; break;
		case 'm': unit = 60; end++; break;
		case 'h': unit = 3600; end++; break;
		case 'd': unit = 86400; end++; break;
		default: break;
		}
	}
	if (errno || end == v || *end || !isfinite(d) || d <= 0)
		return usage_error(name, "'%s' is not a duration (e.g. 90s, 15m, 2h)", v);
	*out = d * unit;
	return BC_EXIT_OK;
}

static int parse_format(const char *name, const char *v, enum bc_format *out)
{
	if (strcmp(v, "csv") == 0)
		*out = BC_FORMAT_CSV;
	else if (strcmp(v, "ndjson") == 0 || strcmp(v, "jsonl") == 0)
		*out = BC_FORMAT_NDJSON;
	else
		return usage_error(name, "'%s' must be csv or ndjson", v);
	return BC_EXIT_OK;
}

/* HH:MM as minutes after midnight, -1 if bad; 24:00 (the end of the day)
 * only where allow_24 says so. */
static int hhmm_minutes(const char *s, int allow_24)
{
	if (s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' ||
	    s[2] != ':' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h < 24 || (allow_24 && h == 24 && m == 0))
		return h * 60 + m;
	return -1;
}

static int apply(struct bc_cli *cli, int id, const char *name, const char *v)
{
	struct bc_job_options *o = &cli->job;
	switch ((enum opt_id)id) {
	case OPT_PROFILE: o->profile = v; break;
	case OPT_OUT: o->out_dir = v; break;
	case OPT_CONFIG: cli->config_path = v; break;
	case OPT_QUIET: o->quiet = 1; break;
	case OPT_VERBOSE: o->verbose++; break;
	case OPT_HELP: cli->help = 1; break;
	case OPT_FORCE: o->force = 1; break;
	case OPT_BASE_URL: o->base_url = v; break;
	case OPT_RATE: return parse_double(name, v, 0, &o->rate);
	case OPT_BURST: return parse_double(name, v, 1, &o->burst);
	case OPT_CONCURRENCY: return parse_long(name, v, 1, &o->concurrency);
	case OPT_NET_THREADS: {
		int r = parse_long(name, v, 0, &o->net_threads);
		if (!r && o->net_threads > 64)
			return usage_error(name, "'%s' must be 0 to 64", v);
		return r;
	}
	case OPT_MAX_ATTEMPTS: return parse_long(name, v, 1, &o->max_attempts);
	case OPT_BACKOFF: {
		char *end;
		long lo = strtol(v, &end, 10), hi;
		if (end == v || *end != ':')
			return usage_error(name, "'%s' must be MIN_MS:MAX_MS", v);
		const char *rest = end + 1;
		hi = strtol(rest, &end, 10);
		if (end == rest || *end || lo < 0 || hi < lo)
			return usage_error(name, "'%s' must be MIN_MS:MAX_MS with MIN <= MAX", v);
		o->backoff_min_ms = lo;
		o->backoff_max_ms = hi;
		break;
	}
	case OPT_THROTTLE_COOLDOWN:
		return parse_double(name, v, 0, &o->throttle_cooldown_s);
	case OPT_KEY: o->key = v; break;
	case OPT_KEY_RATE: return parse_double(name, v, 0, &o->key_rate);
	case OPT_KEY_CONCURRENCY:
		return parse_long(name, v, 1, &o->key_concurrency);
	case OPT_MAX_RETRY_TIME:
		return parse_double(name, v, 0, &o->max_retry_time_s);
	case OPT_HALT_FAIL: {
		int r = parse_double(name, v, 0, &o->halt_fail_pct);
		if (!r && o->halt_fail_pct > 100)
			return usage_error(name, "'%s' must be a percentage 0-100", v);
		return r;
	}
	case OPT_TIMEOUT: return parse_double(name, v, 0.001, &o->timeout_s);
	case OPT_CONNECT_TIMEOUT:
		return parse_double(name, v, 0.001, &o->connect_timeout_s);
	case OPT_RETRY_UNKNOWN: o->retry_unknown = 1; break;
	case OPT_WINDOW: {
		int from = strlen(v) == 11 && v[5] == '-' ? hhmm_minutes(v, 0) : -1;
		int to = from >= 0 ? hhmm_minutes(v + 6, 1) : -1;
		if (to < 0)
			return usage_error(name, "'%s' must be HH:MM-HH:MM (00:00 to "
					   "24:00)", v);
		if (from == to)
			return usage_error(name, "'%s' is empty: its start and end "
					   "are the same time (a whole day is "
					   "00:00-24:00)", v);
		o->window = v;
		break;
	}
	case OPT_TZ:
		if (!bc_tz_valid(v))
			return usage_error(name, "unknown time zone '%s' (a name "
					   "from /usr/share/zoneinfo such as "
					   "Europe/London or America/New_York, "
					   "or UTC)", v);
		o->tz = v;
		break;
	case OPT_MAX_RUNTIME: return parse_duration(name, v, &o->max_runtime_s);
	case OPT_FORMAT: return parse_format(name, v, &o->format);
	case OPT_RESULTS_FORMAT: return parse_format(name, v, &o->results_format);
	case OPT_GZIP: o->gzip = 1; break;
	case OPT_PROGRESS:
		if (strcmp(v, "auto") == 0)
			o->progress = BC_PROGRESS_AUTO;
		else if (strcmp(v, "always") == 0)
			o->progress = BC_PROGRESS_ALWAYS;
		else if (strcmp(v, "never") == 0)
			o->progress = BC_PROGRESS_NEVER;
		else
			return usage_error(name, "'%s' must be auto, always or never", v);
		break;
	case OPT_CACERT: o->cacert = v; break;
	case OPT_INSECURE: o->insecure = 1; break;
	case OPT_PROXY: o->proxy = v; break;
	case OPT_TEMPLATE: o->template_path = v; break;
	case OPT_PROFILE_FILE: o->profile_file = v; break;
	case OPT_ROWS: {
		char *end;
		unsigned long long a = strtoull(v, &end, 10), b = a;
		if (end != v && *end == '-') {
			const char *rest = end + 1;
			b = strtoull(rest, &end, 10);
			if (end == rest)
				b = 0;
		}
		if (end == v || *end || a == 0 || b < a)
			return usage_error(name, "'%s' must be A-B with 1 <= A <= B", v);
		o->rows_from = a;
		o->rows_to = b;
		break;
	}
	case OPT_MAX:
		break;
	}
	return BC_EXIT_OK;
}

/* Loads KEY=VALUE lines into the environment, never overriding it. */
static int load_credentials(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "bulkcall: cannot open credentials file '%s': %s\n",
			path, strerror(errno));
		return BC_EXIT_USAGE;
	}
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 0);
	}
	fclose(f);
	return BC_EXIT_OK;
}

static char *read_small_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Applies a config object; an option already set (by a flag or an earlier
 * config) is kept, and each one applied counts as set from then on. */
static int apply_config(struct bc_cli *cli, cJSON *root, const char *path,
			unsigned char *set)
{
	int code = BC_EXIT_OK;
	cJSON *item;
	cJSON_ArrayForEach(item, root) {
		char name[64];
		snprintf(name, sizeof name, "%s", item->string);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		if (strcmp(name, "credentials-file") == 0 && cJSON_IsString(item)) {
			code = load_credentials(item->valuestring);
			if (code)
				break;
			continue;
		}
		const struct option *opt = NULL;
		for (size_t i = 0; long_options[i].name; i++)
			if (strcmp(long_options[i].name, name) == 0)
				opt = &long_options[i];
		if (!opt || opt->val == OPT_CONFIG) {
			fprintf(stderr, "bulkcall: config '%s': unknown option '%s'\n",
				path, item->string);
			code = BC_EXIT_USAGE;
			break;
		}
		if (set[opt->val])
			continue; /* the command line wins */
		const char *value = NULL;
		if (cJSON_IsString(item))
			value = item->valuestring; /* the tree lives on */
		else if (cJSON_IsNumber(item)) {
			/* Turned into a string node of the tree, so it lives
			 * as long as the other values. */
			char num[64];
			snprintf(num, sizeof num, "%.17g", item->valuedouble);
			cJSON *str = cJSON_CreateString(num);
			if (!str || !cJSON_ReplaceItemViaPointer(root, item, str)) {
				cJSON_Delete(str);
				code = BC_EXIT_USAGE;
				break;
			}
			item = str;
			value = str->valuestring;
		} else if (cJSON_IsBool(item)) {
			if (opt->has_arg != no_argument) {
				fprintf(stderr, "bulkcall: config '%s': '%s' needs a value\n",
					path, item->string);
				code = BC_EXIT_USAGE;
				break;
			}
			if (cJSON_IsFalse(item))
				continue;
			value = "";
		} else {
			fprintf(stderr, "bulkcall: config '%s': '%s' must be a string, "
					"number or boolean\n",
				path, item->string);
			code = BC_EXIT_USAGE;
			break;
		}
		if (!value || (code = apply(cli, opt->val, opt->name, value)))
			break;
		set[opt->val] = 1;
	}
	return code;
}

static int load_config(struct bc_cli *cli, unsigned char *set)
{
	const char *path = cli->config_path;
	char *text = read_small_file(path);
	if (!text) {
		fprintf(stderr, "bulkcall: cannot read config '%s': %s\n", path,
			strerror(errno));
		return BC_EXIT_USAGE;
	}
	cJSON *root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(root)) {
		fprintf(stderr, "bulkcall: config '%s' is not a JSON object\n", path);
		cJSON_Delete(root);
		return BC_EXIT_USAGE;
	}
	/* Values point into the tree: it is kept for the process lifetime. */
	static cJSON *kept;
	cJSON_Delete(kept);
	kept = root;
	return apply_config(cli, root, path, set);
}

/* resume OUTDIR: the job's own options (job.json "config") under the
 * flags and any -c config given to resume. */
static int load_job_options(struct bc_cli *cli, unsigned char *set)
{
	struct bc_jobfile jf;
	char err[512];
	int r = bc_jobfile_read(cli->positional, &jf, err, sizeof err);
	if (r == BC_ENOTFOUND) {
		fprintf(stderr, "bulkcall resume: '%s' is not the output folder "
				"of a run (no job.json)\n",
			cli->positional);
		return BC_EXIT_USAGE;
	}
	if (r) {
		fprintf(stderr, "bulkcall resume: %s\n", err);
		return BC_EXIT_USAGE;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", cli->positional, BC_JOBFILE_NAME);
	cJSON *root = jf.config_json ? cJSON_Parse(jf.config_json) : NULL;
	bc_jobfile_release(&jf);
	/* Values point into the tree: it is kept for the process lifetime. */
	static cJSON *kept;
	cJSON_Delete(kept);
	kept = root;
	return cJSON_IsObject(root) ? apply_config(cli, root, path, set)
				    : BC_EXIT_OK;
}

int bc_cli_parse(struct bc_cli *cli, int argc, char **argv)
{
	static unsigned char set[OPT_MAX];
	memset(cli, 0, sizeof *cli);
	memset(set, 0, sizeof set);
	bc_job_options_init(&cli->job);
	cli->command = argv[1];
	int c, idx;
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:o:c:qvh", long_options, &idx)) != -1 ||
	       optind < argc) {
		if (c == -1) {
			/* A positional argument between options: keep it and
			 * go on (GNU-style permutation, without reordering). */
			if (cli->positional) {
				fprintf(stderr, "bulkcall: unexpected argument '%s'\n",
					argv[optind]);
				return BC_EXIT_USAGE;
			}
			cli->positional = argv[optind++];
			continue;
		}
		if (c == '?') {
			fprintf(stderr, "bulkcall: unknown option '%s' (see 'bulkcall "
					"help %s')\n",
				argv[optind - 1], cli->command);
			return BC_EXIT_USAGE;
		}
		if (c == ':') {
			fprintf(stderr, "bulkcall: option '%s' needs a value\n",
				argv[optind - 1]);
			return BC_EXIT_USAGE;
		}
		const char *name = "?";
		for (size_t i = 0; long_options[i].name; i++)
			if (long_options[i].val == c)
				name = long_options[i].name;
		int code = apply(cli, c, name, optarg);
		if (code)
			return code;
		set[c] = 1;
	}
	if (cli->config_path) {
		int code = load_config(cli, set);
		if (code)
			return code;
	}
	if (strcmp(cli->command, "resume") == 0 && cli->positional && !cli->help)
		return load_job_options(cli, set);
	return BC_EXIT_OK;
}
