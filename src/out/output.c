/* The output folder: results plus the retry / errors / unknown files that
 * hold original rows byte for byte, and summary.json at the end. CSV
 * quoting through libcsv, JSON through cJSON. Depends on core and ingest's
 * row type only; the engine decides outcomes, this file records them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <csv.h>
#include <dirent.h>

#include "bulkcall/error.h"
#include "bulkcall/journal.h"
#include "bulkcall/output.h"
#include "out/sink.h"
#include "out/stats.h"

/* The order of enum bc_out_file: commit lengths are indexed by it. */
enum {
	FILE_RESULTS = BC_OUT_RESULTS,
	FILE_RETRY = BC_OUT_RETRY,
	FILE_ERRORS = BC_OUT_ERRORS,
	FILE_UNKNOWN = BC_OUT_UNKNOWN,
	FILE_COUNT = BC_OUT_FILES
};

static const char *const file_stems[FILE_COUNT] = { "results", "retry",
						    "errors", "unknown" };

struct bc_output {
	struct bc_output_options opt;
	char *dir;
	struct bc_sink files[FILE_COUNT];
	int open[FILE_COUNT];
	enum bc_format results_format;
	const char *eol; /* the input header's line terminator */
	long error_col;  /* input already has bulkcall_error, or -1 */
	struct bc_buf line;
	struct bc_stats stats;
	time_t stamp_sec; /* cache for finished_at formatting */
	char stamp[32];
	char finished[40];
};

const char *bc_outcome_name(enum bc_outcome o)
{
	switch (o) {
	case BC_OUTCOME_OK:
		return "ok";
	case BC_OUTCOME_FAILED:
		return "failed";
	case BC_OUTCOME_REJECTED:
		return "rejected";
	case BC_OUTCOME_RETRY:
		return "retry";
	case BC_OUTCOME_UNKNOWN:
		return "unknown";
	case BC_OUTCOME_VALID:
		return "valid";
	case BC_OUTCOME_COUNT:
		break;
	}
	return "?";
}

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "output path too long");
		return BC_EUSAGE;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		goto fail;
	return BC_OK;
fail:
	snprintf(err, errlen, "cannot create output folder '%s': %s", path,
		 strerror(errno));
	return BC_EIO;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 1;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Appends one CSV field, quoted only when it must be (RFC 4180). */
static int add_csv_field(struct bc_buf *b, const char *s, size_t len)
{
	int quote = 0;
	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' ||
			s[i] == '\r';
	if (len && (s[0] == ' ' || s[len - 1] == ' '))
		quote = 1;
	if (!quote)
		return bc_buf_add(b, s, len);
	size_t need = csv_write(NULL, 0, s, len);
	int result = bc_buf_grow(b, need);
	if (result)
		return result;
	csv_write(b->ptr + b->len, need, s, len);
	b->len += need;
	b->ptr[b->len] = '\0';
	return BC_OK;
}

static size_t strip_eol(const char *raw, size_t len)
{
	while (len && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		len--;
	return len;
}

static void file_path(const struct bc_output *o, int which,
		      enum bc_format fmt, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.%s%s", o->dir, file_stems[which],
		 fmt == BC_FORMAT_NDJSON ? "ndjson" : "csv",
		 o->opt.gzip ? ".gz" : "");
}

static int open_file(struct bc_output *o, int which, enum bc_format fmt,
		     char *err, size_t errlen)
{
	char path[4200];
	file_path(o, which, fmt, path, sizeof path);
	const uint64_t *keep = o->opt.resume_len;
	int result = keep ? bc_sink_reopen(&o->files[which], path, o->opt.gzip,
					   keep[which], err, errlen)
			  : bc_sink_open(&o->files[which], path, o->opt.gzip,
					 err, errlen);
	if (result)
		return result;
	o->open[which] = 1;
	/* A resumed file past its header keeps it. */
	if (fmt != BC_FORMAT_CSV || (keep && keep[which]))
		return BC_OK;
	struct bc_buf *l = &o->line;
	bc_buf_reset(l);
	if (which == FILE_RESULTS) {
		result = bc_buf_adds(l, "row,line");
		for (size_t k = 0; !result && o->opt.key_columns &&
				   o->opt.key_columns[k];
		     k++) {
			result = bc_buf_addc(l, ',');
			if (!result)
				result = add_csv_field(
					l, o->opt.key_columns[k],
					strlen(o->opt.key_columns[k]));
		}
		if (!result)
			result = bc_buf_adds(l, ",outcome,http_status,error,"
						"attempts,latency_ms,"
						"finished_at\n");
	} else {
		size_t n = strip_eol(o->opt.header, o->opt.header_len);
		result = bc_buf_add(l, o->opt.header, n);
		if (!result && which == FILE_ERRORS && o->error_col < 0)
			result = bc_buf_adds(l, "," BC_ERROR_COLUMN);
		if (!result)
			result = bc_buf_adds(l, o->eol);
	}
	if (!result)
		result = bc_sink_write(&o->files[which], l->ptr, l->len, err,
				       errlen);
	return result;
}

static enum bc_outcome outcome_from_name(const char *name)
{
	for (int i = 0; i < BC_OUTCOME_COUNT; i++)
		if (strcmp(name, bc_outcome_name((enum bc_outcome)i)) == 0)
			return (enum bc_outcome)i;
	return BC_OUTCOME_COUNT;
}

static const char *field(const struct bc_row *row, long col)
{
	if (bc_row_kind(row, col) == BC_VAL_NULL)
		return "";
	const char *v = bc_row_get(row, col, NULL);
	return v ? v : "";
}

/* Resume: the statistics of the rows already in results, so summary.json
 * counts every row of the job. Reads the committed results file back
 * through the input reader (CSV or NDJSON, gzip members and all). */
static int load_results(struct bc_output *o, char *err, size_t errlen)
{
	char path[4200];
	file_path(o, FILE_RESULTS, o->results_format, path, sizeof path);
	/* What the sink wrote so far is on disk (the reopen truncated and
	 * wrote nothing yet). */
	struct bc_reader *r;
	int result = bc_reader_open(&r, path, o->results_format, err, errlen);
	if (result)
		return BC_EIO;
	const struct bc_columns *cols = bc_reader_columns(r);
	struct bc_row row;
	bc_row_init(&row);
	while ((result = bc_reader_next(r, &row, err, errlen)) == 1) {
		long c_out = bc_columns_find(cols, "outcome");
		const char *name = field(&row, c_out);
		enum bc_outcome oc = outcome_from_name(name);
		if (row.error[0] || oc == BC_OUTCOME_COUNT) {
			snprintf(err, errlen,
				 "'%s' line %llu: not a results record%s%s", path,
				 (unsigned long long)row.line,
				 row.error[0] ? ": " : "", row.error);
			result = BC_EPARSE;
			break;
		}
		const char *lat = field(&row, bc_columns_find(cols, "latency_ms"));
		struct bc_result res = {
			.row = &row,
			.outcome = oc,
			.error = field(&row, bc_columns_find(cols, "error")),
			.attempts = (unsigned)strtoul(
				field(&row, bc_columns_find(cols, "attempts")),
				NULL, 10),
			.latency_ms = *lat ? strtoll(lat, NULL, 10) : -1,
		};
		bc_stats_add(&o->stats, &res);
	}
	bc_row_release(&row);
	bc_reader_free(r);
	return result < 0 ? BC_EIO : BC_OK;
}

int bc_output_open(struct bc_output **out, const struct bc_output_options *opt,
		   char *err, size_t errlen)
{
	*out = NULL;
	struct stat st;
	if (!opt->resume_len && stat(opt->dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "output path '%s' is not a folder",
				 opt->dir);
			return BC_EEXISTS;
		}
		if (!opt->force && !dir_is_empty(opt->dir)) {
			snprintf(err, errlen,
				 "output folder '%s' is not empty (use --force "
				 "to write into it, or pick another -o)",
				 opt->dir);
			return BC_EEXISTS;
		}
	}
	int result = mkdir_p(opt->dir, err, errlen);
	if (result)
		return result;
	struct bc_output *o = calloc(1, sizeof *o);
	if (!o)
		return BC_ENOMEM;
	o->opt = *opt;
	o->dir = strdup(opt->dir);
	bc_buf_init(&o->line, 2 * BC_RECORD_MAX + 4096);
	o->error_col = opt->cols ? bc_columns_find(opt->cols, BC_ERROR_COLUMN)
				 : -1;
	if (opt->input_format == BC_FORMAT_NDJSON)
		o->error_col = -1;
	o->eol = opt->header_len >= 2 &&
				 opt->header[opt->header_len - 2] == '\r'
			 ? "\r\n"
			 : "\n";
	o->results_format = opt->results_format != BC_FORMAT_AUTO
				    ? opt->results_format
				    : opt->input_format;
	if (o->results_format == BC_FORMAT_AUTO)
		o->results_format = BC_FORMAT_CSV;
	if (!o->dir) {
		free(o);
		return BC_ENOMEM;
	}
	*out = o;
	result = open_file(o, FILE_RESULTS, o->results_format, err, errlen);
	if (!result)
		result = open_file(o, FILE_ERRORS, opt->input_format, err,
				   errlen);
	if (!result && !opt->check)
		result = open_file(o, FILE_RETRY, opt->input_format, err,
				   errlen);
	if (!result && !opt->check)
		result = open_file(o, FILE_UNKNOWN, opt->input_format, err,
				   errlen);
	if (!result && opt->resume_len && opt->resume_len[FILE_RESULTS])
		result = load_results(o, err, errlen);
	return result;
}

static const char *finished_at(struct bc_output *o, int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	if (sec != o->stamp_sec || !o->stamp[0]) {
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(o->stamp, sizeof o->stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		o->stamp_sec = sec;
	}
	snprintf(o->finished, sizeof o->finished, "%s.%03dZ", o->stamp,
		 (int)(ms % 1000));
	return o->finished;
}

static int results_csv(struct bc_output *o, const struct bc_result *r)
{
	struct bc_buf *l = &o->line;
	const struct bc_row *row = r->row;
	int result = bc_buf_addf(l, "%llu,%llu", (unsigned long long)row->index,
				 (unsigned long long)row->line);
	for (size_t k = 0; !result && o->opt.key_columns && o->opt.key_columns[k];
	     k++) {
		size_t len = 0;
		const char *v = NULL;
		if (!row->error[0] && o->opt.cols)
			v = bc_row_get(row,
				       bc_columns_find(o->opt.cols,
						       o->opt.key_columns[k]),
				       &len);
		result = bc_buf_addc(l, ',');
		if (!result && v)
			result = add_csv_field(l, v, len);
	}
	if (!result)
		result = bc_buf_addf(l, ",%s,", bc_outcome_name(r->outcome));
	if (!result && r->http_status)
		result = bc_buf_addf(l, "%ld", r->http_status);
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result && r->error && r->error[0])
		result = add_csv_field(l, r->error, strlen(r->error));
	if (!result)
		result = bc_buf_addf(l, ",%u,", r->attempts);
	if (!result && r->latency_ms >= 0)
		result = bc_buf_addf(l, "%lld", (long long)r->latency_ms);
	if (!result)
		result = bc_buf_addf(l, ",%s\n",
				     finished_at(o, r->finished_at_ms));
	return result;
}

static int results_ndjson(struct bc_output *o, const struct bc_result *r)
{
	const struct bc_row *row = r->row;
	cJSON *obj = cJSON_CreateObject();
	if (!obj)
		return BC_ENOMEM;
	cJSON_AddNumberToObject(obj, "row", (double)row->index);
	cJSON_AddNumberToObject(obj, "line", (double)row->line);
	for (size_t k = 0; o->opt.key_columns && o->opt.key_columns[k]; k++) {
		const char *v = NULL;
		if (!row->error[0] && o->opt.cols)
			v = bc_row_get(row,
				       bc_columns_find(o->opt.cols,
						       o->opt.key_columns[k]),
				       NULL);
		if (v)
			cJSON_AddStringToObject(obj, o->opt.key_columns[k], v);
		else
			cJSON_AddNullToObject(obj, o->opt.key_columns[k]);
	}
	cJSON_AddStringToObject(obj, "outcome", bc_outcome_name(r->outcome));
	if (r->http_status)
		cJSON_AddNumberToObject(obj, "http_status",
					(double)r->http_status);
	else
		cJSON_AddNullToObject(obj, "http_status");
	if (r->error && r->error[0])
		cJSON_AddStringToObject(obj, "error", r->error);
	else
		cJSON_AddNullToObject(obj, "error");
	cJSON_AddNumberToObject(obj, "attempts", r->attempts);
	if (r->latency_ms >= 0)
		cJSON_AddNumberToObject(obj, "latency_ms",
					(double)r->latency_ms);
	else
		cJSON_AddNullToObject(obj, "latency_ms");
	cJSON_AddStringToObject(obj, "finished_at",
				finished_at(o, r->finished_at_ms));
	char *text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	int result = text ? bc_buf_adds(&o->line, text) : BC_ENOMEM;
	cJSON_free(text);
	if (!result)
		result = bc_buf_addc(&o->line, '\n');
	return result;
}

/* CSV errors record: the original bytes with the error as a new last
 * field, or, when the input already carries bulkcall_error (a fed-back
 * errors file), the record re-encoded with that field replaced. */
static int errors_csv(struct bc_output *o, const struct bc_result *r)
{
	const struct bc_row *row = r->row;
	const char *error = r->error ? r->error : "";
	struct bc_buf *l = &o->line;
	int result = BC_OK;
	if (o->error_col >= 0 && !row->error[0]) {
		for (size_t c = 0; !result && c < o->opt.cols->count; c++) {
			size_t len = 0;
			const char *v = (long)c == o->error_col
						? error
						: bc_row_get(row, (long)c, &len);
			if ((long)c == o->error_col)
				len = strlen(error);
			if (c)
				result = bc_buf_addc(l, ',');
			if (!result && v)
				result = add_csv_field(l, v, len);
		}
	} else {
		result = bc_buf_add(l, row->raw.ptr,
				    strip_eol(row->raw.ptr, row->raw.len));
		if (!result)
			result = bc_buf_addc(l, ',');
		if (!result)
			result = add_csv_field(l, error, strlen(error));
	}
	if (!result)
		result = bc_buf_adds(l, o->eol);
	return result;
}

/* NDJSON errors record: the original object with "bulkcall_error" added.
 * A line that was not an object is wrapped so the file stays NDJSON. */
static int errors_ndjson(struct bc_output *o, const struct bc_result *r)
{
	const struct bc_row *row = r->row;
	size_t len = strip_eol(row->raw.ptr, row->raw.len);
	cJSON *obj = cJSON_ParseWithLength(row->raw.ptr, len);
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		obj = cJSON_CreateObject();
		if (!obj)
			return BC_ENOMEM;
		cJSON *raw = cJSON_CreateString("");
		/* Invalid UTF-8 or NULs cannot go into JSON text as is. */
		cJSON_AddItemToObject(obj, "bulkcall_raw", raw);
		struct bc_buf safe = BC_BUF_INIT(BC_RECORD_MAX * 4);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)row->raw.ptr[i];
			if (c >= 0x20 && c < 0x7f)
				bc_buf_addc(&safe, (char)c);
			else
				bc_buf_addf(&safe, "\\x%02x", c);
		}
		cJSON_SetValuestring(raw, bc_buf_str(&safe));
		bc_buf_release(&safe);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, BC_ERROR_COLUMN);
	cJSON_AddStringToObject(obj, BC_ERROR_COLUMN, r->error ? r->error : "");
	char *text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	int result = text ? bc_buf_adds(&o->line, text) : BC_ENOMEM;
	cJSON_free(text);
	if (!result)
		result = bc_buf_addc(&o->line, '\n');
	return result;
}

static int write_line(struct bc_output *o, int which, char *err,
		      size_t errlen)
{
	int result = bc_sink_write(&o->files[which], o->line.ptr, o->line.len,
				   err, errlen);
	bc_buf_reset(&o->line);
	return result;
}

int bc_output_write(struct bc_output *o, const struct bc_result *r, char *err,
		    size_t errlen)
{
	bc_buf_reset(&o->line);
	int result = o->results_format == BC_FORMAT_NDJSON ? results_ndjson(o, r)
							    : results_csv(o, r);
	if (!result)
		result = write_line(o, FILE_RESULTS, err, errlen);
	if (result)
		goto out;
	const struct bc_row *row = r->row;
	int which = -1;
	switch (r->outcome) {
	case BC_OUTCOME_FAILED:
	case BC_OUTCOME_REJECTED:
		which = FILE_ERRORS;
		result = o->opt.input_format == BC_FORMAT_NDJSON
				 ? errors_ndjson(o, r)
				 : errors_csv(o, r);
		break;
	case BC_OUTCOME_RETRY:
		which = FILE_RETRY;
		result = bc_buf_add(&o->line, row->raw.ptr, row->raw.len);
		break;
	case BC_OUTCOME_UNKNOWN:
		which = FILE_UNKNOWN;
		result = bc_buf_add(&o->line, row->raw.ptr, row->raw.len);
		break;
	case BC_OUTCOME_OK:
	case BC_OUTCOME_VALID:
	case BC_OUTCOME_COUNT:
		break;
	}
	if (!result && which >= 0) {
		if (!o->open[which]) {
			snprintf(err, errlen, "internal: %s file not open",
				 file_stems[which]);
			result = BC_EINVAL;
		} else {
			result = write_line(o, which, err, errlen);
		}
	}
out:
	if (result == BC_ENOMEM || result == BC_ETOOBIG)
		snprintf(err, errlen, "out of memory formatting row %llu",
			 (unsigned long long)r->row->index);
	if (!result)
		bc_stats_add(&o->stats, r);
	return result;
}

int bc_output_flush(struct bc_output *o, char *err, size_t errlen)
{
	for (int i = 0; i < FILE_COUNT; i++) {
		if (!o->open[i])
			continue;
		int result = bc_sink_flush(&o->files[i], err, errlen);
		if (result)
			return result;
	}
	return BC_OK;
}

int bc_output_commit(struct bc_output *o, uint64_t *len, char *err,
		     size_t errlen)
{
	for (int i = 0; i < FILE_COUNT; i++) {
		len[i] = 0;
		if (!o->open[i])
			continue;
		int result = bc_sink_commit(&o->files[i], &len[i], err, errlen);
		if (result)
			return result;
	}
	return BC_OK;
}

const uint64_t *bc_output_counts(const struct bc_output *o)
{
	return o->stats.outcomes;
}

const char *bc_output_dir(const struct bc_output *o)
{
	return o->dir;
}

static void rfc3339(char *out, size_t len, int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03dZ", base, (int)(ms % 1000));
}

static cJSON *summary_json(struct bc_output *o,
			   const struct bc_summary_info *info)
{
	struct bc_stats *st = &o->stats;
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "command", info->command);
	cJSON_AddStringToObject(root, "input", info->input);
	cJSON_AddStringToObject(root, "profile", info->profile);
	cJSON_AddNumberToObject(root, "rows", (double)st->rows);
	cJSON *counts = cJSON_AddObjectToObject(root, "outcomes");
	for (int i = 0; i < BC_OUTCOME_COUNT; i++) {
		if (o->opt.check != (i == BC_OUTCOME_VALID) &&
		    i != BC_OUTCOME_REJECTED)
			continue;
		cJSON_AddNumberToObject(counts, bc_outcome_name((enum bc_outcome)i),
					(double)st->outcomes[i]);
	}
	cJSON_AddNumberToObject(root, "attempts", (double)st->attempts);
	bc_stats_sort_errors(st);
	cJSON *errors = cJSON_AddArrayToObject(root, "errors");
	for (size_t i = 0; i < st->nerrors; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "error", st->errors[i].message);
		cJSON_AddNumberToObject(e, "count",
					(double)st->errors[i].count);
		cJSON_AddItemToArray(errors, e);
	}
	if (st->other_errors)
		cJSON_AddNumberToObject(root, "errors_not_listed",
					(double)st->other_errors);
	if (!o->opt.check) {
		/* Rows that may or may not have happened, and why: they need a
		 * person (reconcile with the provider) before being sent. */
		cJSON *unk = cJSON_AddObjectToObject(root, "unknown");
		cJSON_AddNumberToObject(unk, "rows",
					(double)st->outcomes[BC_OUTCOME_UNKNOWN]);
		cJSON *why = cJSON_AddArrayToObject(unk, "reasons");
		for (size_t i = 0; i < st->nunknown; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "reason",
						st->unknown[i].message);
			cJSON_AddNumberToObject(e, "count",
						(double)st->unknown[i].count);
			cJSON_AddItemToArray(why, e);
		}
		if (st->other_unknown)
			cJSON_AddNumberToObject(unk, "reasons_not_listed",
						(double)st->other_unknown);
		if (st->outcomes[BC_OUTCOME_UNKNOWN])
			cJSON_AddStringToObject(
				unk, "advice",
				"the provider may have acted on these rows: "
				"reconcile unknown.* with it before sending "
				"them again");
	}
	cJSON *lat = cJSON_AddObjectToObject(root, "latency_ms");
	static const struct {
		const char *name;
		double q;
	} qs[] = { { "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 } };
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		int64_t v = bc_stats_latency_ms(st, qs[i].q);
		if (v < 0)
			cJSON_AddNullToObject(lat, qs[i].name);
		else
			cJSON_AddNumberToObject(lat, qs[i].name, (double)v);
	}
	if (st->latency_n)
		cJSON_AddNumberToObject(lat, "max", (double)st->latency_max_ms);
	else
		cJSON_AddNullToObject(lat, "max");
	double secs = (double)(info->ended_ms - info->started_ms) / 1000.0;
	cJSON_AddNumberToObject(root, "seconds", secs);
	cJSON_AddNumberToObject(root, "rows_per_second",
				secs > 0 ? (double)st->rows / secs : 0);
	char stamp[40];
	rfc3339(stamp, sizeof stamp, info->started_ms);
	cJSON_AddStringToObject(root, "started_at", stamp);
	rfc3339(stamp, sizeof stamp, info->ended_ms);
	cJSON_AddStringToObject(root, "ended_at", stamp);
	if (info->stopped_because)
		cJSON_AddStringToObject(root, "stopped_because",
					info->stopped_because);
	if (info->resumes)
		cJSON_AddNumberToObject(root, "resumes", info->resumes);
	cJSON *opts = info->options_json ? cJSON_Parse(info->options_json)
					 : NULL;
	cJSON_AddItemToObject(root, "options",
			      opts ? opts : cJSON_CreateObject());
	return root;
}

int bc_output_close(struct bc_output *o, const struct bc_summary_info *info,
		    char *err, size_t errlen)
{
	int result = BC_OK;
	for (int i = 0; i < FILE_COUNT; i++) {
		if (!o->open[i])
			continue;
		int r = bc_sink_close(&o->files[i], err, errlen);
		o->open[i] = 0;
		if (r && !result)
			result = r;
	}
	if (result)
		return result;
	cJSON *root = summary_json(o, info);
	char *text = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return BC_ENOMEM;
	char path[4200], tmp[4210];
	snprintf(path, sizeof path, "%s/summary.json", o->dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	struct bc_sink s;
	result = bc_sink_open(&s, tmp, 0, err, errlen);
	if (!result)
		result = bc_sink_write(&s, text, strlen(text), err, errlen);
	if (!result)
		result = bc_sink_write(&s, "\n", 1, err, errlen);
	uint64_t len;
	if (!result)
		result = bc_sink_commit(&s, &len, err, errlen);
	int close_result = bc_sink_close(&s, err, errlen);
	if (!result)
		result = close_result;
	/* Renamed into place so a reader never sees half a summary. */
	if (!result && rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(errno));
		result = BC_EIO;
	}
	if (!result) {
		int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	cJSON_free(text);
	return result;
}

void bc_output_print_summary(const struct bc_output *o,
			     const struct bc_summary_info *info, void *stream)
{
	FILE *f = stream;
	const struct bc_stats *st = &o->stats;
	double secs = (double)(info->ended_ms - info->started_ms) / 1000.0;
	fprintf(f, "bulkcall %s: %llu rows in %.1f s (%.0f rows/s)\n",
		info->command, (unsigned long long)st->rows, secs,
		secs > 0 ? (double)st->rows / secs : 0.0);
	for (int i = 0; i < BC_OUTCOME_COUNT; i++) {
		if (!st->outcomes[i])
			continue;
		fprintf(f, "  %-9s %llu\n", bc_outcome_name((enum bc_outcome)i),
			(unsigned long long)st->outcomes[i]);
	}
	/* The table is sorted by bc_output_close. */
	size_t shown = st->nerrors < 5 ? st->nerrors : 5;
	if (shown)
		fprintf(f, "  top errors:\n");
	for (size_t i = 0; i < shown; i++)
		fprintf(f, "    %6llu  %s\n",
			(unsigned long long)st->errors[i].count,
			st->errors[i].message);
	if (st->latency_n)
		fprintf(f, "  latency p50 %lld ms, p99 %lld ms\n",
			(long long)bc_stats_latency_ms(st, 0.5),
			(long long)bc_stats_latency_ms(st, 0.99));
	if (st->outcomes[BC_OUTCOME_UNKNOWN])
		fprintf(f, "  %llu rows are 'unknown': the provider may have "
			   "acted on them. Reconcile %s/unknown.* before "
			   "sending them again.\n",
			(unsigned long long)st->outcomes[BC_OUTCOME_UNKNOWN],
			o->dir);
	fprintf(f, "  output: %s/\n", o->dir);
}

void bc_output_free(struct bc_output *o)
{
	if (!o)
		return;
	char err[256];
	for (int i = 0; i < FILE_COUNT; i++)
		if (o->open[i])
			bc_sink_close(&o->files[i], err, sizeof err);
	bc_stats_release(&o->stats);
	bc_buf_release(&o->line);
	free(o->dir);
	free(o);
}
