/* smartflo.updateIVR: PUT /v1/ivr/{id} on Tata Tele Smartflo with every
 * body field of the Update IVR call (all mandatory), built with cJSON;
 * Bearer token from SMARTFLO_TOKEN. Classifies {"success":false,...}
 * answers (success may be the string "false") and the account-wide 429.
 * Idempotent: the same update twice leaves the same IVR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bulkcall/error.h"
#include "bulkcall/transport.h"
#include "profile/values.h"

#define SMARTFLO_BASE_URL "https://api-smartflo.tatateleservices.com"
#define SMARTFLO_THROTTLE_MESSAGE "Too many requests"
#define ID_MAX_DIGITS 18
#define INT_FIELD_MAX 2147483647LL

enum field_type { F_ID, F_STRING, F_INT, F_LIST };

/* The body fields in the order of the seed's table. */
static const struct bc_column_doc columns[] = {
	{ "id", "digits", 1, "the IVR to update (from GET /v1/ivrs), e.g. 349" },
	{ "name", "string", 1, "the IVR's name, e.g. Support IVR" },
	{ "description", "string", 1, "e.g. IVR for the support team" },
	{ "recording", "string", 1, "welcome recording, e.g. recording|0231" },
	{ "timeout", "integer", 1, "seconds the IVR rings, e.g. 20" },
	{ "incorrect_count", "integer", 1,
	  "invalid entries allowed, e.g. 5" },
	{ "invalid_recording", "string", 1,
	  "played on an invalid entry, e.g. recording|349" },
	{ "invalid_destination", "string", 1,
	  "after too many invalid entries, e.g. extension|05047530002" },
	{ "timeout_retry_recording", "string", 1,
	  "played on a timeout retry, e.g. recording|52156" },
	{ "timeout_recording", "string", 1,
	  "played after too many timeouts, e.g. recording|123" },
	{ "timeout_destination", "string", 1,
	  "after too many timeouts, e.g. extension|05047530002" },
	{ "timeout_tries", "integer", 1, "timeout retries allowed, e.g. 3" },
	{ "recording_invalid", "string", 1,
	  "played after too many invalid entries, e.g. recording|58999" },
	{ "option", "list", 1,
	  "DTMF options: NDJSON array, or a cell [\"1\",\"2\"] or 1;2" },
	{ "destination", "list", 1,
	  "one per option: [\"extension|0504\",\"extension|845\"] or "
	  "extension|0504;extension|845 (never split on |)" },
	{ NULL, NULL, 0, NULL },
};

static const enum field_type types[] = {
	F_ID,     F_STRING, F_STRING, F_STRING, F_INT,    F_INT,
	F_STRING, F_STRING, F_STRING, F_STRING, F_STRING, F_INT,
	F_STRING, F_LIST,   F_LIST,
};

enum { COL_ID = 0, COL_OPTION = 13, COL_DESTINATION = 14, COL_COUNT = 15 };

static const char *const key_columns[] = { "id", "name", NULL };

static int bind(struct bc_profile_ctx *ctx,
		const struct bc_profile_config *cfg, char *err, size_t errlen)
{
	const char *token = bc_profile_env(cfg, "SMARTFLO_TOKEN");
	if (cfg && cfg->need_credentials && !token) {
		snprintf(err, errlen,
			 "SMARTFLO_TOKEN is not set: export SMARTFLO_TOKEN "
			 "(the API token; credentials are read from the "
			 "environment only)");
		return BC_EUSAGE;
	}
	char value[4096];
	if (token && strlen(token) > sizeof value - 8) {
		snprintf(err, errlen, "SMARTFLO_TOKEN is too long");
		return BC_EUSAGE;
	}
	snprintf(value, sizeof value, "%s%s", token ? "Bearer " : "",
		 token ? token : "");
	int result = bc_profile_add_header(ctx, "Authorization", value, 1);
	memset(value, 0, sizeof value);
	if (result == BC_EINVAL) {
		snprintf(err, errlen, "SMARTFLO_TOKEN contains a line break");
		return BC_EUSAGE;
	}
	if (!result)
		result = bc_profile_add_header(ctx, "Accept", "application/json",
					       0);
	return result;
}

static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	if (!ctx->cols->count)
		return BC_OK; /* NDJSON: checked row by row */
	for (size_t k = 0; k < COL_COUNT; k++)
		if (bc_profile_col(ctx, k) < 0) {
			snprintf(err, errlen,
				 "header: required column '%s' is missing "
				 "(Update IVR needs every field)",
				 columns[k].name);
			return BC_EHEADER;
		}
	return BC_OK;
}

static int add_field(cJSON *body, const struct bc_row *row, size_t k,
		     const char *v, cJSON **lists, char *err, size_t errlen)
{
	const char *name = columns[k].name;
	cJSON *item = NULL;
	switch (types[k]) {
	case F_ID:
		return BC_OK;
	case F_STRING:
		item = cJSON_CreateString(v);
		break;
	case F_INT: {
		long long n;
		int result = bc_check_int(row, name, v, 0, INT_FIELD_MAX, &n,
					  err, errlen);
		if (result)
			return result;
		item = cJSON_CreateNumber((double)n);
		break;
	}
	case F_LIST:
		item = lists[k == COL_OPTION ? 0 : 1];
		lists[k == COL_OPTION ? 0 : 1] = NULL;
		break;
	}
	if (!item)
		return BC_ENOMEM;
	if (!cJSON_AddItemToObject(body, name, item)) {
		cJSON_Delete(item);
		return BC_ENOMEM;
	}
	return BC_OK;
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	const char *v[COL_COUNT] = { NULL };
	cJSON *lists[2] = { NULL, NULL };
	cJSON *body = NULL;
	int result = BC_OK;
	size_t len;

	for (size_t k = 0; k < COL_COUNT && !result; k++) {
		long col = bc_profile_col(ctx, k);
		if (types[k] == F_LIST) {
			cJSON **l = &lists[k == COL_OPTION ? 0 : 1];
			result = bc_value_list(row, col, columns[k].name, l,
					       err, errlen);
			if (!result && !*l)
				result = bc_reject(err, errlen, row,
						   columns[k].name,
						   "required value is missing");
			continue;
		}
		result = bc_value_text(row, col, columns[k].name, &v[k], &len,
				       err, errlen);
		if (!result && !v[k])
			result = bc_reject(err, errlen, row, columns[k].name,
					   "required value is missing");
	}
	if (result)
		goto out;
	for (const char *p = v[COL_ID]; *p; p++)
		if (*p < '0' || *p > '9' || p - v[COL_ID] >= ID_MAX_DIGITS) {
			result = bc_reject(err, errlen, row, "id",
					   "'%.40s' is not an IVR id (digits)",
					   v[COL_ID]);
			goto out;
		}
	int nopt = cJSON_GetArraySize(lists[0]);
	int ndest = cJSON_GetArraySize(lists[1]);
	if (nopt != ndest) {
		result = bc_reject(err, errlen, row, "destination",
				   "%d item%s, but option has %d (they pair "
				   "up one to one)",
				   ndest, ndest == 1 ? "" : "s", nopt);
		goto out;
	}

	body = cJSON_CreateObject();
	if (!body) {
		result = BC_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < COL_COUNT && !result; k++)
		result = add_field(body, row, k, v[k], lists, err, errlen);
	if (result)
		goto out;
	result = bc_body_set_json(&req->body, body);
	if (result == BC_ETOOBIG)
		result = bc_reject(err, errlen, row, NULL,
				   "the request is larger than %u bytes",
				   BC_BODY_MAX);
	if (result)
		goto out;
	result = bc_request_set_url(req, ctx, "/v1/ivr/");
	if (!result)
		result = bc_url_escape_segment(&req->url, v[COL_ID],
					       strlen(v[COL_ID]));
	req->method = "PUT";
	req->content_type = "application/json";
out:
	cJSON_Delete(lists[0]);
	cJSON_Delete(lists[1]);
	cJSON_Delete(body);
	return result;
}

/* success is false as a boolean or as the string "false" (the rate-limit
 * page shows the string). */
static int success_false(const cJSON *root)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "success");
	if (cJSON_IsFalse(s))
		return 1;
	return cJSON_IsString(s) && (strcmp(s->valuestring, "false") == 0 ||
				     strcmp(s->valuestring, "False") == 0 ||
				     strcmp(s->valuestring, "FALSE") == 0);
}

static enum bc_verdict classify(struct bc_profile_ctx *ctx,
				const struct bc_response *resp, char *err,
				size_t errlen)
{
	(void)ctx;
	long status = resp->status;
	cJSON *root = resp->body_len ? cJSON_ParseWithLength(resp->body,
							     resp->body_len)
				     : NULL;
	int failed = cJSON_IsObject(root) && success_false(root);
	char msg[512] = "";
	if (cJSON_IsObject(root)) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
		if (!m)
			m = cJSON_GetObjectItemCaseSensitive(root, "errors");
		bc_json_text(m, msg, sizeof msg);
	}
	cJSON_Delete(root);

	err[0] = '\0';
	if (status >= 200 && status < 300 && !failed)
		return BC_VERDICT_OK;
	if (msg[0])
		snprintf(err, errlen, "%s", msg);
	else if (status >= 200 && status < 300)
		snprintf(err, errlen, "HTTP %ld with success false", status);
	else
		snprintf(err, errlen, "HTTP %ld", status);
	if (status == 429 ||
	    (failed && bc_contains_nocase(msg, strlen(msg),
					  SMARTFLO_THROTTLE_MESSAGE)))
		return BC_VERDICT_THROTTLE;
	if (status == 401 || status == 403)
		return BC_VERDICT_FATAL;
	if (status >= 500 || status == 408)
		return BC_VERDICT_RETRY;
	return BC_VERDICT_FAILED;
}

const struct bc_profile bc_profile_smartflo_update_ivr = {
	.name = "smartflo.updateIVR",
	.summary = "Tata Tele Smartflo Update IVR: set every field of an IVR, "
		   "its options and destinations",
	.method = "PUT",
	.default_base_url = SMARTFLO_BASE_URL,
	.path = "/v1/ivr/{id}",
	.default_key = "*",
	.default_rate = 3,
	.idempotent = 1,
	.api_takes_delay = 0,
	.columns = columns,
	.key_columns = key_columns,
	.notes =
		"PUT {base}/v1/ivr/{id}, JSON body with every column but id. "
		"Smartflo marks every field mandatory: each must be present "
		"and non-empty (a CSV without one is refused before any row).\n"
		"timeout, incorrect_count and timeout_tries are whole numbers "
		"0-2147483647, sent as JSON numbers. option and destination "
		"are lists of equal length, sent as JSON arrays of strings: "
		"in NDJSON an array, in a CSV cell a JSON array "
		"([\"1\",\"2\"]) or items separated by ';' (1;2). Values may "
		"hold '|' (extension|05047530002), which never splits.\n"
		"Header: Authorization: Bearer SMARTFLO_TOKEN.\n"
		"Success: 2xx unless the body says \"success\": false (or "
		"\"false\"); the row's error is the body's message (a list or "
		"field map is flattened). Throttle: 429 \"Too many requests.\" "
		"— one limit for the whole account, equal to its calls per "
		"second, hence the default rate 3/s and key '*'. 401/403 stop "
		"the run (exit 5); 5xx is retried.\n"
		"Idempotent: an update whose answer was lost is sent again.",
	.bind = bind,
	.check_columns = check_columns,
	.build = build,
	.classify = classify,
	.release = NULL,
};
