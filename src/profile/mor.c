/* mor.deviceCallflowUpdate: POST /billing/api/device_callflow_update on a
 * Kolmisoft MOR server, form params u + the row's columns + hash, the
 * SHA-1 (OpenSSL libcrypto) of the hashed params' values in the server's
 * order followed by the API secret. MOR answers HTTP 200 to everything:
 * the verdict comes from the XML body. Idempotent: the same update twice
 * leaves the same call flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bulkcall/error.h"
#include "profile/values.h"
#include "profile/xmlsafe.h"

#define MOR_BASE_URL "http://127.0.0.1"
#define ID_MAX_DIGITS 18
#define CUSTOM_MAX 255
#define HASH_INPUT_MAX (64u * 1024u)

enum {
	COL_DEVICE_ID,
	COL_STATE,
	COL_ACTION,
	COL_FORWARD_TO_DEVICE,
	COL_EXTERNAL_NUMBER,
	COL_FAX_DEVICE,
	COL_DEVICE_CALLERID,
	COL_SRC_CALLERID,
	COL_DID_ID,
	COL_CUSTOM,
	COL_COUNT
};

/* Also the order of the form params after u. */
static const struct bc_column_doc columns[] = {
	{ "device_id", "digits", 1, "the device whose call flow changes" },
	{ "state", "enum", 1, "before_call, no_answer, failed or busy" },
	{ "callflow_action", "enum", 1,
	  "empty, forward, fax_detect (before_call only) or voicemail" },
	{ "forward_to_device", "digits", 0,
	  "forward: the local device to forward to" },
	{ "external_number", "digits", 0,
	  "forward: the number to forward to, e.g. 37062699289" },
	{ "fax_device", "digits", 0, "fax_detect: the fax device (required)" },
	{ "device_callerid", "true", 0,
	  "caller ID from the device (only 'true'; sent, never hashed)" },
	{ "src_callerid", "true", 0,
	  "caller ID as it comes (only 'true')" },
	{ "did_id", "digits", 0,
	  "caller ID = this DID (must be on the device)" },
	{ "custom", "string", 0, "caller ID = this text" },
	{ NULL, NULL, 0, NULL },
};

/* [CODE] mor_api.rb hash_param_order restricted to this method;
 * device_callerid is not in it (the server misspells it). */
static const size_t hash_order[] = {
	COL_DEVICE_ID,	     COL_ACTION,      COL_STATE,
	COL_FORWARD_TO_DEVICE, COL_EXTERNAL_NUMBER, COL_DID_ID,
	COL_SRC_CALLERID,    COL_CUSTOM,      COL_FAX_DEVICE,
};

static const char *const states[] = { "before_call", "no_answer", "failed",
				      "busy", NULL };
static const char *const actions[] = { "empty", "forward", "fax_detect",
				       "voicemail", NULL };

static const char *const key_columns[] = { "device_id", "state",
					   "callflow_action", NULL };

/* Columns that may be in the input without being sent: the engine's
 * hold columns (this API takes no delay). */
static const char *const local_columns[] = { "delay", "not_before", NULL };

struct mor {
	char *user;
	char *secret;
};

static void release(struct bc_profile_ctx *ctx)
{
	struct mor *m = ctx->priv;
	if (m) {
		free(m->user);
		if (m->secret)
			memset(m->secret, 0, strlen(m->secret));
		free(m->secret);
		free(m);
	}
	ctx->priv = NULL;
}

static int bind(struct bc_profile_ctx *ctx,
		const struct bc_profile_config *cfg, char *err, size_t errlen)
{
	const char *user = bc_profile_env(cfg, "MOR_USER");
	const char *secret = bc_profile_env(cfg, "MOR_API_SECRET");
	if (cfg && cfg->need_credentials && (!user || !secret)) {
		snprintf(err, errlen,
			 "%s is not set: export MOR_USER and MOR_API_SECRET "
			 "(the API user and its API_Secret_Key; credentials "
			 "are read from the environment only)",
			 !user ? "MOR_USER" : "MOR_API_SECRET");
		return BC_EUSAGE;
	}
	struct mor *m = calloc(1, sizeof *m);
	if (!m)
		return BC_ENOMEM;
	ctx->priv = m;
	/* Without credentials (check, render) u is empty and the hash is
	 * keyed with an empty secret. */
	m->user = strdup(user ? user : "");
	m->secret = strdup(secret ? secret : "");
	return m->user && m->secret ? BC_OK : BC_ENOMEM;
}

static int in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static int known_column(const char *name)
{
	for (size_t k = 0; k < COL_COUNT; k++)
		if (strcmp(columns[k].name, name) == 0)
			return 1;
	return bc_column_ignored(name) || in_list(local_columns, name);
}

static const char *why_not_sent(const char *name)
{
	if (strcmp(name, "u") == 0 || strcmp(name, "hash") == 0)
		return "is set by bulkcall (u from MOR_USER, hash computed)";
	return "is not a parameter of device_callflow_update, and MOR hashes "
	       "every parameter it knows: remove it (only the documented "
	       "columns are sent)";
}

static int check_columns(struct bc_profile_ctx *ctx, char *err, size_t errlen)
{
	const struct bc_columns *cols = ctx->cols;
	if (!cols->count)
		return BC_OK; /* NDJSON: checked row by row */
	for (size_t k = 0; k <= COL_ACTION; k++)
		if (bc_profile_col(ctx, k) < 0) {
			snprintf(err, errlen,
				 "header: required column '%s' is missing",
				 columns[k].name);
			return BC_EHEADER;
		}
	for (size_t c = 0; c < cols->count; c++)
		if (!known_column(cols->names[c])) {
			snprintf(err, errlen, "header: column '%.64s' %s",
				 cols->names[c], why_not_sent(cols->names[c]));
			return BC_EHEADER;
		}
	return BC_OK;
}

static int check_id(const struct bc_row *row, size_t k, const char *v,
		    char *err, size_t errlen)
{
	size_t n = strlen(v);
	int ok = n > 0 && n <= ID_MAX_DIGITS;
	for (size_t i = 0; ok && i < n; i++)
		ok = v[i] >= '0' && v[i] <= '9';
	return ok ? BC_OK
		  : bc_reject(err, errlen, row, columns[k].name,
			      "'%.40s' is not %s (digits)", v,
			      k == COL_EXTERNAL_NUMBER ? "a phone number"
						       : "an id");
}

static int check_values(const struct bc_row *row, const char **v, char *err,
			size_t errlen)
{
	for (size_t k = 0; k <= COL_ACTION; k++)
		if (!v[k])
			return bc_reject(err, errlen, row, columns[k].name,
					 "required value is missing");
	static const size_t ids[] = { COL_DEVICE_ID, COL_FORWARD_TO_DEVICE,
				      COL_EXTERNAL_NUMBER, COL_FAX_DEVICE,
				      COL_DID_ID };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		int result = v[ids[i]] ? check_id(row, ids[i], v[ids[i]], err,
						  errlen)
				       : BC_OK;
		if (result)
			return result;
	}
	if (!in_list(states, v[COL_STATE]))
		return bc_reject(err, errlen, row, "state",
				 "'%.40s' must be before_call, no_answer, "
				 "failed or busy",
				 v[COL_STATE]);
	const char *action = v[COL_ACTION];
	if (!in_list(actions, action))
		return bc_reject(err, errlen, row, "callflow_action",
				 "'%.40s' must be empty, forward, fax_detect "
				 "or voicemail",
				 action);
	if (strcmp(action, "forward") == 0 && !v[COL_FORWARD_TO_DEVICE] &&
	    !v[COL_EXTERNAL_NUMBER])
		return bc_reject(err, errlen, row, "callflow_action",
				 "forward needs forward_to_device or "
				 "external_number");
	if (strcmp(action, "fax_detect") == 0) {
		if (strcmp(v[COL_STATE], "before_call") != 0)
			return bc_reject(err, errlen, row, "callflow_action",
					 "fax_detect is only possible in state "
					 "before_call");
		if (!v[COL_FAX_DEVICE])
			return bc_reject(err, errlen, row, "fax_device",
					 "fax_detect needs fax_device");
	}
	static const size_t flags[] = { COL_DEVICE_CALLERID, COL_SRC_CALLERID };
	for (size_t i = 0; i < 2; i++)
		if (v[flags[i]] && strcmp(v[flags[i]], "true") != 0)
			return bc_reject(err, errlen, row,
					 columns[flags[i]].name,
					 "'%.40s': only 'true' is accepted "
					 "(leave it empty for no change)",
					 v[flags[i]]);
	if (v[COL_CUSTOM] && strlen(v[COL_CUSTOM]) > CUSTOM_MAX)
		return bc_reject(err, errlen, row, "custom",
				 "longer than %d characters", CUSTOM_MAX);
	/* No rule on the caller ID params (device_callerid, src_callerid,
	 * did_id, custom): neither seed 004 nor PROVIDERS.md limits a row
	 * to one of them, and the server hashes every one present, so
	 * they are sent as given and MOR decides. */
	return BC_OK;
}

/* hash = sha1_hex(values in hash_order, present ones only, + secret). */
static int mor_hash(const char **v, const char *secret, char hex[41])
{
	struct bc_buf in = BC_BUF_INIT(HASH_INPUT_MAX);
	int result = BC_OK;
	for (size_t i = 0; i < sizeof hash_order / sizeof hash_order[0] &&
			   !result;
	     i++)
		if (v[hash_order[i]])
			result = bc_buf_adds(&in, v[hash_order[i]]);
	if (!result)
		result = bc_buf_adds(&in, secret);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!result && (!EVP_Digest(bc_buf_str(&in), in.len, md, &md_len,
				    EVP_sha1(), NULL) ||
			md_len != 20))
		result = BC_ENOMEM;
	if (in.ptr)
		memset(in.ptr, 0, in.len);
	bc_buf_release(&in);
	if (result)
		return result;
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < 20; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[40] = '\0';
	return BC_OK;
}

static int build(struct bc_profile_ctx *ctx, const struct bc_row *row,
		 struct bc_request *req, char *err, size_t errlen)
{
	struct mor *m = ctx->priv;
	const char *v[COL_COUNT];
	long known[COL_COUNT];
	size_t len;
	for (size_t k = 0; k < COL_COUNT; k++) {
		known[k] = bc_profile_col(ctx, k);
		int result = bc_value_text(row, known[k], columns[k].name,
					   &v[k], &len, err, errlen);
		if (result)
			return result;
	}
	/* NDJSON keys are not known up front: refuse any other one here
	 * (a CSV header was checked by check_columns). */
	const struct bc_columns *cols = ctx->cols;
	for (size_t c = 0; c < cols->count && c < row->nvalues; c++) {
		enum bc_value_kind kind = bc_row_kind(row, (long)c);
		size_t n = 0;
		bc_row_get(row, (long)c, &n);
		if (kind == BC_VAL_ABSENT || kind == BC_VAL_NULL ||
		    (n == 0 && kind != BC_VAL_ARRAY) ||
		    known_column(cols->names[c]))
			continue;
		return bc_reject(err, errlen, row, cols->names[c], "%s",
				 why_not_sent(cols->names[c]));
	}
	int result = check_values(row, v, err, errlen);
	if (result)
		return result;

	char hash[41];
	result = mor_hash(v, m->secret, hash);
	bc_buf_reset(&req->body);
	if (!result)
		result = bc_form_add(&req->body, "u", m->user, strlen(m->user));
	for (size_t k = 0; k < COL_COUNT && !result; k++)
		if (v[k])
			result = bc_form_add(&req->body, columns[k].name, v[k],
					     strlen(v[k]));
	if (!result)
		result = bc_form_add(&req->body, "hash", hash, 40);
	if (result == BC_ETOOBIG)
		return bc_reject(err, errlen, row, NULL,
				 "the request is larger than %u bytes",
				 BC_BODY_MAX);
	if (result)
		return result;
	req->method = "POST";
	req->content_type = "application/x-www-form-urlencoded";
	return bc_request_set_url(req, ctx, "/billing/api/device_callflow_update");
}

/* Errors that no row can get past: credentials, the API's settings, the
 * account's permissions. */
static int fatal_message(const char *msg)
{
	static const char *const fatal[] = {
		"Bad login",
		"Incorrect hash",
		"API must have Secret Key",
		"API Requests are disabled",
		"GET Requests are disabled",
		"You are not authorized to use this functionality",
		"You are not authorised to use this functionality",
		NULL,
	};
	for (size_t i = 0; fatal[i]; i++)
		if (bc_contains_nocase(msg, strlen(msg), fatal[i]))
			return 1;
	return 0;
}

static enum bc_verdict classify(struct bc_profile_ctx *ctx,
				const struct bc_response *resp, char *err,
				size_t errlen)
{
	(void)ctx;
	long status = resp->status;
	err[0] = '\0';
	if (status == 429) {
		snprintf(err, errlen, "HTTP 429");
		return BC_VERDICT_THROTTLE;
	}
	if (status >= 500 || status == 408) {
		snprintf(err, errlen, "HTTP %ld", status);
		return BC_VERDICT_RETRY;
	}
	if (status == 401 || status == 403) {
		snprintf(err, errlen, "HTTP %ld", status);
		return BC_VERDICT_FATAL;
	}
	if (status < 200 || status >= 300) {
		snprintf(err, errlen, "HTTP %ld", status);
		return BC_VERDICT_FAILED;
	}
	char perr[128];
	xmlDocPtr doc = resp->body_len ? bc_xml_parse_safe(resp->body,
							   resp->body_len, perr,
							   sizeof perr)
				       : NULL;
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	enum bc_verdict v = BC_VERDICT_FAILED;
	const char *rname = root ? (const char *)root->name : "";
	xmlNodePtr error = bc_xml_child(root, "error");
	char msg[400] = "";
	if (error)
		bc_xml_text(error, msg, sizeof msg);
	if (strcmp(rname, "page") == 0 && error) {
		/* <page><error>: this row's action failed. */
		snprintf(err, errlen, "%s", msg[0] ? msg : "error");
		v = fatal_message(msg) ? BC_VERDICT_FATAL : BC_VERDICT_FAILED;
	} else if (strcmp(rname, "page") == 0 && bc_xml_child(root, "status")) {
		v = BC_VERDICT_OK;
	} else if (strcmp(rname, "status") == 0 && error) {
		/* <status><error>: refused before any action (login, hash,
		 * API settings). */
		snprintf(err, errlen, "%s", msg[0] ? msg : "error");
		v = BC_VERDICT_FATAL;
	} else if (strcmp(rname, "error") == 0) {
		bc_xml_text(root, msg, sizeof msg);
		snprintf(err, errlen, "%s", msg[0] ? msg : "error");
		v = fatal_message(msg) ? BC_VERDICT_FATAL : BC_VERDICT_FAILED;
	} else {
		snprintf(err, errlen, "unexpected answer (HTTP %ld, not a MOR "
				      "<page>)",
			 status);
		if (bc_contains_nocase(resp->body, resp->body_len, "Bad login")) {
			snprintf(err, errlen, "Bad login");
			v = BC_VERDICT_FATAL;
		}
	}
	if (doc)
		xmlFreeDoc(doc);
	return v;
}

const struct bc_profile bc_profile_mor_device_callflow_update = {
	.name = "mor.deviceCallflowUpdate",
	.summary = "Kolmisoft MOR device_callflow_update: set a device's "
		   "call-flow action for one state",
	.method = "POST",
	.default_base_url = MOR_BASE_URL,
	.path = "/billing/api/device_callflow_update",
	.default_key = "*",
	.default_rate = 10,
	.idempotent = 1,
	.api_takes_delay = 0,
	.columns = columns,
	.key_columns = key_columns,
	.notes =
		"MOR is self-hosted: pass --base-url http(s)://YOUR-SERVER "
		"(the default http://127.0.0.1 is a placeholder). POST "
		"{base}/billing/api/device_callflow_update, form params u "
		"(MOR_USER), the row's non-empty columns, and hash = "
		"sha1_hex(device_id callflow_action state forward_to_device "
		"external_number did_id src_callerid custom fax_device — the "
		"present ones, in that order, no separators — followed by "
		"MOR_API_SECRET). device_callerid is sent but not hashed; the "
		"secret itself is never sent.\n"
		"Rules: forward needs forward_to_device or external_number; "
		"fax_detect needs fax_device and state before_call; "
		"state and callflow_action from the lists above.\n"
		"Other columns: MOR hashes every parameter it knows, so "
		"bulkcall sends only the columns above and refuses any other "
		"(a misspelt column is never silently dropped): a CSV with "
		"another column is refused before any row, an NDJSON row "
		"with another non-empty key is rejected. Allowed besides: "
		"bulkcall_error, delay and not_before (held locally).\n"
		"HTTP is always 200: <page><status> is success, <page><error> "
		"the row's error (e.g. \"Device was not found\"). "
		"<status><error> (\"Incorrect hash\", \"API must have Secret "
		"Key\", \"API Requests are disabled\"), \"Bad login\" and "
		"\"You are not authorized to use this functionality\" stop "
		"the run (exit 5). 5xx is retried.\n"
		"Idempotent: an update whose answer was lost is sent again.",
	.bind = bind,
	.check_columns = check_columns,
	.build = build,
	.classify = classify,
	.release = release,
};
