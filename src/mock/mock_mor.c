/* Kolmisoft MOR mock: POST /billing/api/device_callflow_update with form
 * (or query) params, the user check, the SHA-1 hash over the present
 * params in the server's order plus the secret, and the server's answers:
 * always HTTP 200, <page><status> on success, <page><error> for action
 * errors, <status><error> for the before-filter ones (fatal to clients).
 * Which devices exist follows a number rule (see --help). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "mock/mock.h"

#define CT_MOR "text/html; charset=utf-8"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static void mor_handle(struct mock_req *req, struct mock_answer *a);
static int mor_init(char *err, size_t err_len);

static const char *const paths[] = { "/billing/api/device_callflow_update",
				     NULL };

struct mock_provider mock_mor = {
	.name = "mor",
	.paths = paths,
	.content_type = CT_MOR,
	/* [GUESS] MOR documents no rate limit; 429 is what clients know. */
	.throttle_status = 429,
	.throttle_body = XML_HEAD "<page><error>Too many requests</error>"
				  "</page>\n",
	.fail_status = 500,
	.fail_body = "<html><body><h1>We're sorry, but something went "
		     "wrong.</h1></body></html>\n",
	.init = mor_init,
	.handle = mor_handle,
};

/* [CODE] mor_api.rb hash_param_order, restricted to this method's params;
 * device_callerid is never hashed (the server misspells it). */
static const char *const hash_order[] = {
	"device_id", "callflow_action", "state", "forward_to_device",
	"external_number", "did_id", "src_callerid", "custom", "fax_device",
};

static const char *user;
static const char *secret;
static struct MHD_Response *bad_login;
static struct MHD_Response *bad_hash;
static struct MHD_Response *get_disabled;

static struct MHD_Response *mor_static(const char *body)
{
	struct MHD_Response *r = mock_response_static(body, CT_MOR);
	if (r && MHD_add_response_header(r, "Content-Disposition",
					 "attachment; filename="
					 "\"mor_api_response.html\"") != MHD_YES)
		r = NULL;
	return r;
}

static int mor_init(char *err, size_t err_len)
{
	const char *u = getenv("MOCK_MOR_USER");
	const char *s = getenv("MOCK_MOR_SECRET");
	user = u && *u ? u : "admin";
	secret = s && *s ? s : "mor-secret";
	bad_login = mor_static(XML_HEAD "<status><error>Bad login</error>"
					"</status>\n");
	bad_hash = mor_static(XML_HEAD "<status><error>Incorrect hash</error>"
				       "</status>\n");
	get_disabled = mor_static(XML_HEAD "<status><error>GET Requests are "
					   "disabled</error></status>\n");
	if (!bad_login || !bad_hash || !get_disabled) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

static void mor_answer(struct mock_answer *a, const struct bc_buf *b,
		       enum mock_outcome o)
{
	mock_answer_copy(a, 200, CT_MOR, b->ptr, b->len, o);
	if (a->resp)
		MHD_add_response_header(a->resp, "Content-Disposition",
					"attachment; filename="
					"\"mor_api_response.html\"");
}

static void page_error(struct mock_answer *a, const char *msg)
{
	struct bc_buf b = BC_BUF_INIT(4096);
	int err = bc_buf_adds(&b, XML_HEAD "<page><error>");
	err = err || mock_xml_escape(&b, msg);
	err = err || bc_buf_adds(&b, "</error></page>\n");
	if (err)
		mock_answer_shared(a, 0, NULL, MOCK_REJECTED);
	else
		mor_answer(a, &b, MOCK_REJECTED);
	bc_buf_release(&b);
}

static int hash_ok(const struct mock_fields *f)
{
	const char *given = mock_fields_get(f, "hash");
	struct bc_buf s = BC_BUF_INIT(1u << 20);
	int err = 0;
	for (size_t i = 0; i < sizeof hash_order / sizeof hash_order[0]; i++) {
		const char *v = mock_fields_get(f, hash_order[i]);
		if (v)
			err = err || bc_buf_adds(&s, v);
	}
	err = err || bc_buf_adds(&s, secret);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	err = err || !EVP_Digest(s.ptr, s.len, md, &md_len, EVP_sha1(), NULL);
	bc_buf_release(&s);
	if (err || !given || strlen(given) != 2u * md_len)
		return 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return !strcasecmp(hex, given);
}

/* Ids are positive numbers; 9… stand for records that do not exist. */
static int exists(const char *id)
{
	if (!id || !*id || *id == '0' || *id == '9' || strlen(id) > 12)
		return 0;
	for (const char *p = id; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static const char *const states[][2] = {
	{ "before_call", "Before call" },
	{ "no_answer", "No answer" },
	{ "failed", "Failed" },
	{ "busy", "Busy" },
};
static const char *const actions[][2] = {
	{ "empty", "Empty" },
	{ "forward", "Forward" },
	{ "fax_detect", "Fax detect" },
	{ "voicemail", "Voicemail" },
};

static const char *label_of(const char *const (*table)[2], size_t n,
			    const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (!strcmp(table[i][0], v))
			return table[i][1];
	return NULL;
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The first action error, or NULL. */
static const char *validate(const struct mock_fields *f)
{
	const char *state = mock_fields_get(f, "state");
	const char *action = mock_fields_get(f, "callflow_action");
	const char *fwd = mock_fields_get(f, "forward_to_device");
	const char *ext = mock_fields_get(f, "external_number");
	const char *did = mock_fields_get(f, "did_id");
	if (!exists(mock_fields_get(f, "device_id")))
		return "Device was not found";
	if (!label_of(states, 4, state))
		return "Callflow state was not found";
	if (!label_of(actions, 4, action) ||
	    (!strcmp(action, "fax_detect") && strcmp(state, "before_call")))
		return "Callflow action was not found";
	if (!strcmp(action, "forward")) {
		if (!fwd && !ext)
			return "Missing forward parameters";
		if (fwd && !exists(fwd))
			return "Local device was not found";
		if (ext && !*ext)
			return "External number was not found";
		if (ext && !numeric(ext))
			return "External number must be numeric";
	}
	if (!strcmp(action, "fax_detect") &&
	    !exists(mock_fields_get(f, "fax_device")))
		return "FAX device was not found";
	if (did && !exists(did))
		return "DID was not found";
	return NULL;
}

static int tag(struct bc_buf *b, const char *name, const char *value)
{
	int err = bc_buf_addf(b, "    <%s>", name);
	err = err || mock_xml_escape(b, value);
	return err || bc_buf_addf(b, "</%s>\n", name);
}

static int success_page(struct bc_buf *b, const struct mock_fields *f)
{
	const char *action = mock_fields_get(f, "callflow_action");
	const char *fwd = mock_fields_get(f, "forward_to_device");
	const char *ext = mock_fields_get(f, "external_number");
	const char *fax = mock_fields_get(f, "fax_device");
	const char *did = mock_fields_get(f, "did_id");
	const char *custom = mock_fields_get(f, "custom");
	const char *dev_cid = mock_fields_get(f, "device_callerid");
	char data[64] = "";
	if (!strcmp(action, "forward"))
		snprintf(data, sizeof data, "%s%.40s", fwd ? "SIP/" : "",
			 fwd ? fwd : ext);
	else if (!strcmp(action, "fax_detect"))
		snprintf(data, sizeof data, "FAX/%.40s", fax);
	const char *cid_type = custom  ? "Custom"
			       : did   ? "DID"
			       : dev_cid && !strcmp(dev_cid, "true")
				       ? "From Device"
				       : "Unchanged";
	const char *cid_data = custom ? custom : did;

	int err = bc_buf_adds(b, XML_HEAD "<page>\n  <status>Callflow was "
					  "successfully updated</status>\n");
	err = err || bc_buf_adds(b, "  <user>System Admin</user>\n");
	err = err || bc_buf_adds(b, "  <device>SIP/");
	err = err || mock_xml_escape(b, mock_fields_get(f, "device_id"));
	err = err || bc_buf_adds(b, "</device>\n  <callflow>\n");
	err = err || tag(b, "state",
			 label_of(states, 4, mock_fields_get(f, "state")));
	err = err || tag(b, "priority", "1");
	err = err || tag(b, "action", label_of(actions, 4, action));
	if (*data)
		err = err || tag(b, "data", data);
	err = err || tag(b, "callerid_type", cid_type);
	if (cid_data)
		err = err || tag(b, "callerid_data", cid_data);
	return err || bc_buf_adds(b, "  </callflow>\n</page>\n");
}

static void mor_handle(struct mock_req *req, struct mock_answer *a)
{
	struct mock_fields f;
	mock_fields_init(&f);
	if (!strcmp(req->method, "GET")) {
		mock_answer_shared(a, 200, get_disabled, MOCK_REJECTED);
		goto out;
	}
	/* Body parameters win over query ones, as in Rails. */
	if (mock_form_parse(&f, bc_buf_str(&req->body), req->body.len) ||
	    mock_query_fields(req, &f)) {
		mock_answer_shared(a, 500, mock_mor.fail_resp, MOCK_REJECTED);
		goto out;
	}
	if (!hash_ok(&f)) {
		mock_answer_shared(a, 200, bad_hash, MOCK_UNAUTHORIZED);
		goto out;
	}
	const char *u = mock_fields_get(&f, "u");
	if (!u || strcmp(u, user)) {
		mock_answer_shared(a, 200, bad_login, MOCK_UNAUTHORIZED);
		goto out;
	}
	const char *msg = validate(&f);
	if (msg) {
		page_error(a, msg);
		goto out;
	}
	/* The ledger holds the operation's params, not the credentials. */
	struct mock_fields op;
	mock_fields_init(&op);
	int err = 0;
	for (size_t i = 0; i < f.n && !err; i++)
		if (strcmp(f.f[i].name, "u") && strcmp(f.f[i].name, "hash"))
			err = mock_fields_adds(&op, f.f[i].name, f.f[i].value);
	struct bc_buf page = BC_BUF_INIT(64 * 1024);
	err = err || success_page(&page, &f);
	if (err)
		mock_answer_shared(a, 500, mock_mor.fail_resp, MOCK_REJECTED);
	else if (mock_accept(&mock_mor, "deviceCallflowUpdate", &op, a))
		mor_answer(a, &page, MOCK_OK);
	bc_buf_release(&page);
	mock_fields_release(&op);
out:
	mock_fields_release(&f);
}
