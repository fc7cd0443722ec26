/* Tata Tele Smartflo mock: PUT /v1/ivr/{id} (Update IVR) with Bearer
 * auth, the seed's mandatory body fields, {"success":false,"message":…}
 * errors and the documented 429 {"success":"false",…} account throttle
 * (set its rate with --throttle smartflo:CPS/1). Messages the docs leave
 * out are Laravel-style guesses, marked [GUESS]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mock/mock.h"

#define CT_JSON "application/json"

static void smartflo_handle(struct mock_req *req, struct mock_answer *a);
static int smartflo_init(char *err, size_t err_len);

static const char *const paths[] = { "/v1/", NULL };

struct mock_provider mock_smartflo = {
	.name = "smartflo",
	.paths = paths,
	.content_type = CT_JSON,
	/* [DOC] rate limiting page: the string "false" is the vendor's. */
	.throttle_status = 429,
	.throttle_body = "{\"success\":\"false\",\"message\":\"Too many "
			 "requests.\"}",
	.fail_status = 500,
	.fail_body = "{\"success\":false,\"message\":\"Internal Server "
		     "Error\"}",
	.init = smartflo_init,
	.handle = smartflo_handle,
};

static const char *token;
static struct MHD_Response *unauthorized;
static struct MHD_Response *not_found;
static struct MHD_Response *ivr_not_found;
static struct MHD_Response *not_allowed;
static struct MHD_Response *updated;

static int smartflo_init(char *err, size_t err_len)
{
	const char *t = getenv("MOCK_SMARTFLO_TOKEN");
	token = t && *t ? t : "smartflo-token";
	/* [GUESS] texts of 401, 404, 405 and success. */
	unauthorized = mock_response_static(
		"{\"success\":false,\"message\":\"Unauthenticated.\"}", CT_JSON);
	not_found = mock_response_static(
		"{\"success\":false,\"message\":\"Not found.\"}", CT_JSON);
	ivr_not_found = mock_response_static(
		"{\"success\":false,\"message\":\"IVR not found.\"}", CT_JSON);
	not_allowed = mock_response_static(
		"{\"success\":false,\"message\":\"Method not allowed.\"}",
		CT_JSON);
	updated = mock_response_static(
		"{\"success\":true,\"message\":\"IVR updated successfully.\"}",
		CT_JSON);
	if (!unauthorized || !not_found || !ivr_not_found || !not_allowed ||
	    !updated) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

static void smartflo_error(struct mock_answer *a, const char *msg)
{
	struct bc_buf b = BC_BUF_INIT(4096);
	int err = bc_buf_adds(&b, "{\"success\":false,\"message\":");
	err = err || mock_json_str(&b, msg, strlen(msg));
	err = err || bc_buf_addc(&b, '}');
	if (err)
		mock_answer_shared(a, 0, NULL, MOCK_REJECTED);
	else
		mock_answer_copy(a, 400, CT_JSON, b.ptr, b.len, MOCK_REJECTED);
	bc_buf_release(&b);
}

static const char *const string_fields[] = {
	"name", "description", "recording", "invalid_recording",
	"invalid_destination", "timeout_retry_recording", "timeout_recording",
	"timeout_destination", "recording_invalid",
};
static const char *const int_fields[] = {
	"timeout", "incorrect_count", "timeout_tries",
};
static const char *const array_fields[] = { "option", "destination" };

/* Laravel's "integer" rule: a whole number, or a string holding one. */
static int is_integer(const cJSON *v)
{
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		return isfinite(d) && d == floor(d) && fabs(d) < 2147483648.0;
	}
	if (!cJSON_IsString(v) || !*v->valuestring)
		return 0;
	const char *s = v->valuestring + (*v->valuestring == '-');
	if (!*s || strlen(s) > 9)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The first validation message for body, or NULL. msg has room for it. */
static const char *validate(const cJSON *body, char *msg, size_t len)
{
	const size_t ns = sizeof string_fields / sizeof string_fields[0];
	const size_t ni = sizeof int_fields / sizeof int_fields[0];
	for (size_t i = 0; i < ns; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			body, string_fields[i]);
		if (!v || cJSON_IsNull(v) ||
		    (cJSON_IsString(v) && !*v->valuestring))
			snprintf(msg, len, "The %s field is required.",
				 string_fields[i]);
		else if (!cJSON_IsString(v))
			snprintf(msg, len, "The %s must be a string.",
				 string_fields[i]);
		else
			continue;
		return msg;
	}
	for (size_t i = 0; i < ni; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(body, int_fields[i]);
		if (!v || cJSON_IsNull(v))
			snprintf(msg, len, "The %s field is required.",
				 int_fields[i]);
		else if (!is_integer(v))
			snprintf(msg, len, "The %s must be an integer.",
				 int_fields[i]);
		else
			continue;
		return msg;
	}
	int sizes[2];
	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
			body, array_fields[i]);
		if (!v || cJSON_IsNull(v) ||
		    (cJSON_IsArray(v) && !cJSON_GetArraySize(v))) {
			snprintf(msg, len, "The %s field is required.",
				 array_fields[i]);
			return msg;
		}
		if (!cJSON_IsArray(v)) {
			snprintf(msg, len, "The %s must be an array.",
				 array_fields[i]);
			return msg;
		}
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			if (!cJSON_IsString(e) || !*e->valuestring) {
				snprintf(msg, len,
					 "The %s items must be non-empty "
					 "strings.",
					 array_fields[i]);
				return msg;
			}
		}
		sizes[i] = cJSON_GetArraySize(v);
	}
	if (sizes[0] != sizes[1])
		return "The option and destination must have the same number "
		       "of items.";
	return NULL;
}

static int all_digits(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n && n <= max;
}

static void smartflo_handle(struct mock_req *req, struct mock_answer *a)
{
	static const char ivr[] = "/v1/ivr/";
	const char *t = mock_bearer(req);
	if (!t || strcmp(t, token)) {
		mock_answer_shared(a, 401, unauthorized, MOCK_UNAUTHORIZED);
		return;
	}
	if (strncmp(req->url, ivr, sizeof ivr - 1)) {
		mock_answer_shared(a, 404, not_found, MOCK_NOT_FOUND);
		return;
	}
	const char *id = req->url + sizeof ivr - 1;
	if (strcmp(req->method, "PUT")) {
		mock_answer_shared(a, 405, not_allowed, MOCK_REJECTED);
		return;
	}
	/* Ids are numbers; 0 and 9… stand for IVRs that do not exist. */
	if (!all_digits(id, 12) || !strcmp(id, "0") || id[0] == '9') {
		mock_answer_shared(a, 404, ivr_not_found, MOCK_REJECTED);
		return;
	}
	cJSON *body = cJSON_ParseWithLengthOpts(bc_buf_str(&req->body),
						req->body.len + 1, NULL, 1);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		smartflo_error(a, "Invalid JSON body.");
		return;
	}
	char msg[256];
	const char *bad = validate(body, msg, sizeof msg);
	if (bad) {
		cJSON_Delete(body);
		smartflo_error(a, bad);
		return;
	}
	struct mock_fields f;
	mock_fields_init(&f);
	char *text = cJSON_PrintUnformatted(body);
	if (!text || mock_fields_adds(&f, "id", id) ||
	    mock_fields_add(&f, "body", text, strlen(text), 1))
		mock_answer_shared(a, 500, mock_smartflo.fail_resp,
				   MOCK_REJECTED);
	else if (mock_accept(&mock_smartflo, "updateIVR", &f, a))
		mock_answer_shared(a, 200, updated, MOCK_OK);
	cJSON_free(text);
	cJSON_Delete(body);
	mock_fields_release(&f);
}
