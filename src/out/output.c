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
#include "bulkcall/jsontext.h"
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
	/* "<stamp>.mmmZ" without a printf pass: this runs once per row. */
	size_t n = strlen(o->stamp);
	int frac = (int)(ms % 1000);
	if (n + 6 > sizeof o->finished)
		n = sizeof o->finished - 6;
	memcpy(o->finished, o->stamp, n);
	o->finished[n] = '.';
	o->finished[n + 1] = (char)('0' + frac / 100);
	o->finished[n + 2] = (char)('0' + frac / 10 % 10);
	o->finished[n + 3] = (char)('0' + frac % 10);
	o->finished[n + 4] = 'Z';
	o->finished[n + 5] = '\0';
	return o->finished;
}

static int results_csv(struct bc_output *o, const struct bc_result *r)
{
	struct bc_buf *l = &o->line;
	const struct bc_row *row = r->row;
	int result = bc_buf_addu(l, row->index);
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result)
		result = bc_buf_addu(l, row->line);
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
		result = bc_buf_addc(l, ',');
	if (!result)
		result = bc_buf_adds(l, bc_outcome_name(r->outcome));
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result && r->http_status > 0)
		result = bc_buf_addu(l, (unsigned long long)r->http_status);
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result && r->error && r->error[0])
		result = add_csv_field(l, r->error, strlen(r->error));
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result)
		result = bc_buf_addu(l, r->attempts);
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result && r->latency_ms >= 0)
		result = bc_buf_addu(l, (unsigned long long)r->latency_ms);
	if (!result)
		result = bc_buf_addc(l, ',');
	if (!result)
		result = bc_buf_adds(l, finished_at(o, r->finished_at_ms));
	if (!result)
		result = bc_buf_addc(l, '\n');
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

/* Byte span [*start, *end) of field `want` of one CSV record (no line
 * terminator), or of its last field when want < 0, and the record's field
 * count. A quote opens a field only at its start; "" inside quotes is a
 * quote; bytes after a closing quote stay in that field (the reader has
 * rejected such a record already). Returns 0, or -1 when the record ends
 * inside quotes: its fields cannot be told apart. */
static int csv_field_span(const char *s, size_t len, long want, size_t *start,
			  size_t *end, size_t *nfields)
{
	size_t field = 0, from = 0;
	int quoted = 0;
	*start = *end = 0;
	for (size_t i = 0; i < len; i++) {
		if (quoted) {
			if (s[i] == '"' && i + 1 < len && s[i + 1] == '"')
				i++;
			else if (s[i] == '"')
				quoted = 0;
		} else if (s[i] == '"' && i == from) {
			quoted = 1;
		} else if (s[i] == ',') {
			if (want >= 0 && field == (size_t)want) {
				*start = from;
				*end = i;
			}
			field++;
			from = i + 1;
		}
	}
	if (quoted)
		return -1;
	if (want < 0 || field == (size_t)want) {
		*start = from;
		*end = len;
	}
	*nfields = field + 1;
	return 0;
}

/* A field that holds a reader's error ("line N: ..."), as the last field
 * of a malformed record in an errors file written here does. */
static int is_row_error(const char *s, size_t len)
{
	size_t i = len && s[0] == '"' ? 1 : 0;
	if (len - i < 5 || memcmp(s + i, "line ", 5) != 0)
		return 0;
	i += 5;
	size_t digits = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > digits && i < len && s[i] == ':';
}

/* CSV errors record: the original bytes with the error as a new last
 * field. When the input already carries bulkcall_error (a fed-back errors
 * file) that field's bytes are replaced and every other byte is kept, so
 * feeding a file back again and again never piles up error columns. In a
 * record with the wrong field count the old error is the last field when
 * bulkcall_error is the last column (as in the files written here) and
 * that field reads "line N: ..."; anything else might be the user's data,
 * which is never overwritten. */
static int errors_csv(struct bc_output *o, const struct bc_result *r)
{
	const struct bc_row *row = r->row;
	const char *error = r->error ? r->error : "";
	struct bc_buf *l = &o->line;
	size_t len = strip_eol(row->raw.ptr, row->raw.len);
	size_t start = 0, end = 0, nfields = 0;
	int splice = 0;
	if (o->error_col >= 0 &&
	    csv_field_span(row->raw.ptr, len, o->error_col, &start, &end,
			   &nfields) == 0) {
		size_t ncols = o->opt.cols->count;
		splice = nfields == ncols;
		if (!splice && o->error_col == (long)ncols - 1 &&
		    csv_field_span(row->raw.ptr, len, -1, &start, &end,
				   &nfields) == 0)
			splice = is_row_error(row->raw.ptr + start, end - start);
	}
	int result;
	if (splice) {
		result = bc_buf_add(l, row->raw.ptr, start);
		if (!result)
			result = add_csv_field(l, error, strlen(error));
		if (!result)
			result = bc_buf_add(l, row->raw.ptr + end, len - end);
	} else {
		/* No bulkcall_error field to replace (or quotes that never
		 * close, so no field boundary can be trusted): the error goes
		 * after the record's bytes. */
		result = bc_buf_add(l, row->raw.ptr, len);
		if (!result)
			result = bc_buf_addc(l, ',');
		if (!result)
			result = add_csv_field(l, error, strlen(error));
	}
	if (!result)
		result = bc_buf_adds(l, o->eol);
	return result;
}

/* A JSON string literal of s[0..len), which is valid UTF-8: only '"',
 * '\\' and control characters are escaped (as cJSON and Python do). */
static int add_json_string(struct bc_buf *b, const char *s, size_t len)
{
	int result = bc_buf_addc(b, '"');
	for (size_t i = 0; !result && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			break;
		}
		if (esc)
			result = bc_buf_adds(b, esc);
		else if (c < 0x20)
			result = bc_buf_addf(b, "\\u%04x", c);
		else
			result = bc_buf_addc(b, (char)c);
	}
	if (!result)
		result = bc_buf_addc(b, '"');
	return result;
}

/* The error as a JSON string; an error cut in the middle of a UTF-8
 * sequence (messages are bounded) loses the broken tail, so the line
 * stays valid JSON. */
static int add_json_error(struct bc_buf *b, const char *error)
{
	size_t len = strlen(error);
	return add_json_string(b, error, bc_utf8_check(error, len));
}

static int add_base64(struct bc_buf *b, const unsigned char *s, size_t len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	int result = bc_buf_grow(b, (len + 2) / 3 * 4);
	for (size_t i = 0; !result && i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		char q[4] = { digits[v >> 18 & 63], digits[v >> 12 & 63],
			      i + 1 < len ? digits[v >> 6 & 63] : '=',
			      i + 2 < len ? digits[v & 63] : '=' };
		result = bc_buf_add(b, q, sizeof q);
	}
	return result;
}

/* In the text of an object cJSON parsed whole (obj, members in text
 * order), the value bytes of the first member called name. Keys are
 * compared as cJSON decoded them, so escapes in the key do not matter. */
static int json_member_span(const char *s, size_t len, const cJSON *obj,
			    const char *name, size_t *start, size_t *end)
{
	const char *p = s, *e = s + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* cJSON skips a BOM */
	p = bc_json_skip_ws(p, e);
	if (p >= e || *p != '{')
		return 0;
	p++;
	for (const cJSON *it = obj->child; it; it = it->next) {
		p = bc_json_skip_string(bc_json_skip_ws(p, e), e);
		p = p ? bc_json_skip_ws(p, e) : e;
		if (p >= e || *p != ':')
			return 0;
		const char *v = bc_json_skip_ws(p + 1, e);
		if (!(p = bc_json_skip_value(v, e)))
			return 0;
		if (it->string && strcmp(it->string, name) == 0) {
			*start = (size_t)(v - s);
			*end = (size_t)(p - s);
			return 1;
		}
		p = bc_json_skip_ws(p, e);
		if (p < e && *p == ',')
			p++;
	}
	return 0;
}

/* NDJSON errors record, lossless (docs/cli.md): a line that is one JSON
 * object keeps every byte, with "bulkcall_error" inserted before its
 * closing brace (or its old value replaced, for a fed-back errors file);
 * any other line becomes {"bulkcall_raw":LINE,"bulkcall_error":...}, or
 * {"bulkcall_raw_base64":...} when the line is not UTF-8 (or holds NUL),
 * so the file stays NDJSON. Re-encoding through cJSON would round big
 * numbers, drop junk after the object (a bad row would turn good when fed
 * back) and lose carriage returns. */
static int errors_ndjson(struct bc_output *o, const struct bc_result *r)
{
	const struct bc_row *row = r->row;
	const char *raw = row->raw.ptr ? row->raw.ptr : "";
	size_t len = row->raw.len;
	if (len && raw[len - 1] == '\n')
		len--; /* the line without its LF; a CR before it stays */
	const char *error = r->error ? r->error : "";
	struct bc_buf *l = &o->line;
	int utf8 = bc_utf8_check(raw, len) == len;
	cJSON *obj = NULL;
	if (utf8) {
		const char *end = NULL;
		obj = cJSON_ParseWithLengthOpts(raw, len, &end, 0);
		/* The reader's rule: only blanks and CR after the object. */
		while (obj && end < raw + len &&
		       (*end == ' ' || *end == '\t' || *end == '\r'))
			end++;
		if (obj && (end != raw + len || !cJSON_IsObject(obj))) {
			cJSON_Delete(obj);
			obj = NULL;
		}
	}
	int result;
	size_t start, stop;
	if (obj && json_member_span(raw, len, obj, BC_ERROR_COLUMN, &start,
				    &stop)) {
		result = bc_buf_add(l, raw, start);
		if (!result)
			result = add_json_error(l, error);
		if (!result)
			result = bc_buf_add(l, raw + stop, len - stop);
	} else if (obj) {
		/* Only blanks follow the object: its last '}' closes it. */
		size_t close = len;
		while (close && raw[close - 1] != '}')
			close--;
		close--;
		result = bc_buf_add(l, raw, close);
		if (!result)
			result = bc_buf_adds(l, obj->child ? ",\"" BC_ERROR_COLUMN
							     "\":"
							   : "\"" BC_ERROR_COLUMN
							     "\":");
		if (!result)
			result = add_json_error(l, error);
		if (!result)
			result = bc_buf_add(l, raw + close, len - close);
	} else {
		result = bc_buf_adds(l, utf8 ? "{\"bulkcall_raw\":"
					     : "{\"bulkcall_raw_base64\":\"");
		if (!result)
			result = utf8 ? add_json_string(l, raw, len)
				      : add_base64(l, (const unsigned char *)raw,
						   len);
		if (!result)
			result = bc_buf_adds(l, utf8 ? ",\"" BC_ERROR_COLUMN "\":"
						     : "\",\"" BC_ERROR_COLUMN
						       "\":");
		if (!result)
			result = add_json_error(l, error);
		if (!result)
			result = bc_buf_addc(l, '}');
	}
	cJSON_Delete(obj);
	if (!result)
		result = bc_buf_addc(l, '\n');
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

/* Every open file sealed at len[]; synced here (fd NULL), or the files
 * that changed listed in fd[]/path[] for the caller to sync. */
static int commit_files(struct bc_output *o, uint64_t *len, int *fd,
			const char **path, size_t *nfiles, char *err,
			size_t errlen)
{
	for (int i = 0; i < FILE_COUNT; i++) {
		len[i] = 0;
		if (!o->open[i])
			continue;
		int needs_sync = 0;
		int result = fd ? bc_sink_commit_deferred(&o->files[i], &len[i],
							  &needs_sync, err,
							  errlen)
				: bc_sink_commit(&o->files[i], &len[i], err,
						 errlen);
		if (result)
			return result;
		if (needs_sync) {
			fd[*nfiles] = o->files[i].fd;
			path[(*nfiles)++] = o->files[i].path;
		}
	}
	return BC_OK;
}

int bc_output_commit(struct bc_output *o, uint64_t *len, char *err,
		     size_t errlen)
{
	return commit_files(o, len, NULL, NULL, NULL, err, errlen);
}

int bc_output_commit_deferred(struct bc_output *o, uint64_t *len, int *fd,
			      const char **path, size_t *nfiles, char *err,
			      size_t errlen)
{
	*nfiles = 0;
	return commit_files(o, len, fd, path, nfiles, err, errlen);
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
	fprintf(f, "bulkcall %s: %llu rows in %.*f s", info->command,
		(unsigned long long)st->rows, secs < 1 ? 3 : 1, secs);
	/* under a millisecond there is no rate to speak of */
	if (secs > 0)
		fprintf(f, " (%.0f rows/s)", (double)st->rows / secs);
	fputc('\n', f);
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
