/* IOVOX API v3 mock: POST /Calling?method=initiateCall and PUT /CallFlow?
 * method=updateCallFlow, with the vendor's header auth, query checks, XML
 * bodies (libxml2: no network, no DTD, no entity expansion) and its
 * <errors><error status="…"> answers using the seed documents' strings.
 * Which links and flows exist follows name prefixes (see --help). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlstring.h>

#include "mock/mock.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
#define CT_XML "application/xml"
#define NAME_MAX_CHARS 100

static void iovox_handle(struct mock_req *req, struct mock_answer *a);
static int iovox_init(char *err, size_t err_len);

static const char *const paths[] = { "/Calling", "/CallFlow", NULL };

struct mock_provider mock_iovox = {
	.name = "iovox",
	.paths = paths,
	.content_type = CT_XML,
	/* [GUESS] status and block time of the throttle are undocumented;
	 * the message is the seed's. */
	.throttle_status = 400,
	.throttle_body = XML_HEAD "<errors><error status=\"400\">The number "
				  "of calls allowed has been exceeded</error>"
				  "</errors>",
	.fail_status = 500,
	.fail_body = XML_HEAD "<errors><error status=\"500\">Internal Server "
			      "Error</error></errors>",
	.init = iovox_init,
	.handle = iovox_handle,
};

static const char *username;
static const char *secure_key;
static struct MHD_Response *unauthorized;
static struct MHD_Response *created;
static struct MHD_Response *no_content;

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static int iovox_init(char *err, size_t err_len)
{
	username = env_or("MOCK_IOVOX_USERNAME", "demo");
	secure_key = env_or("MOCK_IOVOX_SECURE_KEY", "demo-key");
	unauthorized = mock_response_static(
		XML_HEAD "<errors><error status=\"401\">HTTP 401: "
			 "Unauthorized</error></errors>",
		CT_XML);
	created = mock_response_static("", NULL);
	no_content = mock_response_static("", NULL);
	if (!unauthorized || !created || !no_content) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

/* Answers <errors><error status="status">msg</error></errors>. */
static void iovox_error(struct mock_answer *a, unsigned int status,
			const char *msg)
{
	struct bc_buf b = BC_BUF_INIT(64 * 1024);
	int err = bc_buf_addf(&b, XML_HEAD "<errors><error status=\"%u\">",
			      status);
	if (!err)
		err = mock_xml_escape(&b, msg);
	if (!err)
		err = bc_buf_adds(&b, "</error></errors>");
	if (err)
		mock_answer_shared(a, 0, NULL, MOCK_REJECTED);
	else
		mock_answer_copy(a, status, CT_XML, b.ptr, b.len,
				 MOCK_REJECTED);
	bc_buf_release(&b);
}

/* ---- XML parsing: one reusable parser context per server thread. */

#define CTXT_REUSE_MAX 4096

struct thread_ctxt {
	xmlParserCtxtPtr ctxt;
	unsigned int uses;
};

static pthread_key_t ctxt_key;
static pthread_once_t ctxt_once = PTHREAD_ONCE_INIT;

static void ctxt_free(void *p)
{
	struct thread_ctxt *t = p;
	xmlFreeParserCtxt(t->ctxt);
	free(t);
}

static void ctxt_key_make(void)
{
	pthread_key_create(&ctxt_key, ctxt_free);
}

static xmlParserCtxtPtr thread_ctxt(void)
{
	pthread_once(&ctxt_once, ctxt_key_make);
	struct thread_ctxt *t = pthread_getspecific(ctxt_key);
	if (!t) {
		t = calloc(1, sizeof *t);
		if (!t)
			return NULL;
		if (pthread_setspecific(ctxt_key, t)) {
			free(t);
			return NULL;
		}
	}
	if (t->ctxt && ++t->uses > CTXT_REUSE_MAX) {
		/* A fresh context now and then keeps its dictionary small. */
		xmlFreeParserCtxt(t->ctxt);
		t->ctxt = NULL;
	}
	if (!t->ctxt) {
		t->ctxt = xmlNewParserCtxt();
		t->uses = 0;
	}
	return t->ctxt;
}

/* Offset of "<!DOCTYPE" in s, or len. */
static size_t find_doctype(const char *s, size_t len)
{
	static const char pat[] = "<!DOCTYPE";
	const size_t pl = sizeof pat - 1;
	for (size_t i = 0; i + pl <= len; i++)
		if (s[i] == '<' && !memcmp(s + i, pat, pl))
			return i;
	return len;
}

static void line_col(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Parses the body; NULL with the error answered. */
static xmlDocPtr parse_body(struct mock_req *req, struct mock_answer *a)
{
	const char *s = bc_buf_str(&req->body);
	size_t len = req->body.len;
	char msg[512];
	size_t i = 0;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len) {
		iovox_error(a, 400, "XML Empty");
		return NULL;
	}
	/* A DTD is never needed and is how entity bombs and external
	 * entities get in: refuse it before the parser sees it. */
	size_t dt = find_doctype(s, len);
	if (dt < len) {
		int line, col;
		line_col(s, dt, &line, &col);
		snprintf(msg, sizeof msg,
			 "XML parse error. DOCTYPE is not allowed at line %d, "
			 "column %d",
			 line, col);
		iovox_error(a, 400, msg);
		return NULL;
	}
	xmlParserCtxtPtr ctxt = thread_ctxt();
	if (!ctxt) {
		mock_answer_shared(a, 500, mock_iovox.fail_resp, MOCK_REJECTED);
		return NULL;
	}
	xmlDocPtr doc = xmlCtxtReadMemory(
		ctxt, s, (int)len, NULL, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			XML_PARSE_NODICT);
	if (doc && !doc->intSubset && !doc->extSubset)
		return doc;
	if (doc) {
		xmlFreeDoc(doc);
		iovox_error(a, 400, "XML parse error. DOCTYPE is not allowed");
		return NULL;
	}
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	const char *what = e && e->message ? e->message : "malformed XML";
	size_t wl = strlen(what);
	while (wl && isspace((unsigned char)what[wl - 1]))
		wl--;
	snprintf(msg, sizeof msg, "XML parse error. %.*s at line %d, column %d",
		 (int)wl, what, e ? e->line : 1, e ? e->int2 : 1);
	iovox_error(a, 400, msg);
	return NULL;
}

/* ---- Tree helpers. */

static int named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !strcmp((const char *)n->name, name);
}

static xmlNodePtr first_element(xmlNodePtr parent)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent->children; n; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/* Text of a node or attribute value, whitespace-trimmed, in out. */
static int text_of(struct bc_buf *out, xmlChar *raw)
{
	const char *s = raw ? (const char *)raw : "";
	size_t len = strlen(s);
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	bc_buf_reset(out);
	int err = bc_buf_add(out, s, len);
	xmlFree(raw);
	return err;
}

static int node_text(struct bc_buf *out, xmlNodePtr n)
{
	return text_of(out, n ? xmlNodeGetContent(n) : NULL);
}

static int attr_text(struct bc_buf *out, xmlNodePtr n, const char *name)
{
	return text_of(out, xmlGetProp(n, (const xmlChar *)name));
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int is_uint(const char *s)
{
	if (!*s || strlen(s) > 9)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* ---- Operations. Each returns the message of its first error or NULL
 * with fields filled; a NULL message with nothing accepted means out of
 * memory. */

#define VALUE_MAX (64 * 1024)

/* delay: whole minutes; the seeds say only "must be an integer".
 * [GUESS] the message mirrors the documented "Limit not an integer". */
static const char *add_delay(struct mock_fields *f, const char *v)
{
	if (!is_uint(v))
		return "Delay not an integer";
	char num[16];
	snprintf(num, sizeof num, "%lu", strtoul(v, NULL, 10));
	return mock_fields_add(f, "delay", num, strlen(num), 1) ? "" : NULL;
}

static const char *initiate_call(xmlNodePtr root, struct mock_fields *f)
{
	struct bc_buf v = BC_BUF_INIT(VALUE_MAX);
	struct bc_buf vars = BC_BUF_INIT(VALUE_MAX * 4);
	const char *msg = NULL;
	int err = 0;

	xmlNodePtr link = child(root, "link_id");
	if (node_text(&v, link) || !v.len) {
		msg = "Link ID Empty";
		goto out;
	}
	const char *id = bc_buf_str(&v);
	if (starts(id, "bad") || starts(id, "missing")) {
		msg = "Link ID does not exist";
		goto out;
	}
	if (starts(id, "norules")) {
		msg = "Link ID has no Calling Rules";
		goto out;
	}
	if (mock_fields_add(f, "link_id", id, v.len, 0)) {
		msg = "";
		goto out;
	}

	/* The seed puts delay inside call_variables; accept it beside too. */
	xmlNodePtr delay = child(root, "delay");
	if (delay) {
		err = node_text(&v, delay);
		if (!err && (msg = add_delay(f, bc_buf_str(&v))))
			goto out;
	}
	err = err || bc_buf_addc(&vars, '{');
	size_t nvars = 0;
	xmlNodePtr cv = child(root, "call_variables");
	for (xmlNodePtr n = cv ? cv->children : NULL; n && !err; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;
		err = node_text(&v, n);
		if (err)
			break;
		if (!strcmp(name, "call_destination")) {
			if (!v.len) {
				msg = "Call Variable call_destination Empty";
				goto out;
			}
			err = mock_fields_add(f, name, bc_buf_str(&v), v.len,
					      0);
		} else if (!strcmp(name, "delay")) {
			if ((msg = add_delay(f, bc_buf_str(&v))))
				goto out;
		} else {
			if (nvars++)
				err = bc_buf_addc(&vars, ',');
			err = err || mock_json_str(&vars, name, strlen(name));
			err = err || bc_buf_addc(&vars, ':');
			err = err || mock_json_str(&vars, bc_buf_str(&v), v.len);
		}
	}
	err = err || bc_buf_addc(&vars, '}');
	err = err || mock_fields_add(f, "vars", bc_buf_str(&vars), vars.len, 1);
	if (err)
		msg = "";
out:
	bc_buf_release(&v);
	bc_buf_release(&vars);
	return msg;
}

static const char *update_call_flow(xmlNodePtr root, struct mock_fields *f)
{
	struct bc_buf v = BC_BUF_INIT(VALUE_MAX);
	const char *msg = NULL;
	int err;

	xmlNodePtr cf = child(root, "callFlow");
	if (!cf) {
		msg = "Request Empty";
		goto out;
	}
	if (attr_text(&v, cf, "name") || !v.len) {
		msg = "CallFlow Name Empty";
		goto out;
	}
	size_t rules = 0;
	for (xmlNodePtr n = cf->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		rules++;
		xmlChar *id = xmlGetProp(n, (const xmlChar *)"id");
		xmlChar *label = xmlGetProp(n, (const xmlChar *)"label");
		msg = !id || !*id	    ? "Rule ID Empty"
		      : !label || !*label ? "Rule Label Empty"
					  : NULL;
		xmlFree(id);
		xmlFree(label);
		if (msg)
			goto out;
	}
	if (!rules) {
		msg = "There are no Rules in this Template";
		goto out;
	}
	if (starts(bc_buf_str(&v), "missing")) {
		msg = "CallFlow Name does not exist";
		goto out;
	}
	err = mock_fields_add(f, "name", bc_buf_str(&v), v.len, 0);
	err = err || attr_text(&v, cf, "newName");
	if (!err && v.len) {
		if (xmlUTF8Strlen((const xmlChar *)bc_buf_str(&v)) >
		    NAME_MAX_CHARS) {
			msg = "New CallFlow Name too long";
			goto out;
		}
		if (starts(bc_buf_str(&v), "taken")) {
			msg = "New CallFlow Name already exists";
			goto out;
		}
		err = mock_fields_add(f, "new_name", bc_buf_str(&v), v.len, 0);
	}
	err = err || attr_text(&v, cf, "notes");
	if (!err && v.len)
		err = mock_fields_add(f, "notes", bc_buf_str(&v), v.len, 0);
	if (!err) {
		char num[24];
		snprintf(num, sizeof num, "%zu", rules);
		err = mock_fields_add(f, "rules", num, strlen(num), 1);
	}
	if (err)
		msg = "";
out:
	bc_buf_release(&v);
	return msg;
}

struct iovox_op {
	const char *path;
	const char *name;         /* query "method" */
	const char *http_method;
	const char *(*run)(xmlNodePtr root, struct mock_fields *f);
	struct MHD_Response **success;
	unsigned int success_status;
};

static const struct iovox_op ops[] = {
	{ "/Calling", "initiateCall", "POST", initiate_call, &created, 201 },
	{ "/CallFlow", "updateCallFlow", "PUT", update_call_flow, &no_content,
	  204 },
};

static void iovox_handle(struct mock_req *req, struct mock_answer *a)
{
	const struct iovox_op *op = NULL;
	const char *user = mock_header(req, "username");
	const char *key = mock_header(req, "secureKey");
	static atomic_ulong requests;
	int revoked = mock_opts.auth_fail_after &&
		      atomic_fetch_add(&requests, 1) >= mock_opts.auth_fail_after;
	if (revoked || !user || !key || strcmp(user, username) ||
	    strcmp(key, secure_key)) {
		mock_answer_shared(a, 401, unauthorized, MOCK_UNAUTHORIZED);
		return;
	}
	const char *version = mock_query(req, "v");
	if (!version || !*version) {
		iovox_error(a, 400, "API Version Empty");
		return;
	}
	if (strcmp(version, "3")) {
		iovox_error(a, 400, "API Version Invalid");
		return;
	}
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(req->url, ops[i].path))
			op = &ops[i];
	const char *method = mock_query(req, "method");
	/* [GUESS] the wording for a missing or unknown method. */
	if (!method || !*method) {
		iovox_error(a, 400, "API Method Empty");
		return;
	}
	if (!op || strcmp(method, op->name)) {
		iovox_error(a, 400, "API Method Invalid");
		return;
	}
	if (strcmp(req->method, op->http_method)) {
		char msg[128];
		snprintf(msg, sizeof msg,
			 "Request Method must be %s. %.32s attempted",
			 op->http_method, req->method);
		iovox_error(a, 400, msg);
		return;
	}

	xmlDocPtr doc = parse_body(req, a);
	if (!doc)
		return;
	struct mock_fields f;
	mock_fields_init(&f);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	const char *msg = "Request Empty";
	if (root && named(root, "request") && first_element(root))
		msg = op->run(root, &f);
	if (msg && *msg)
		iovox_error(a, 400, msg);
	else if (msg)
		mock_answer_shared(a, 500, mock_iovox.fail_resp, MOCK_REJECTED);
	else if (mock_accept(&mock_iovox, op->name, &f, a))
		mock_answer_shared(a, op->success_status, *op->success,
				   MOCK_OK);
	mock_fields_release(&f);
	xmlFreeDoc(doc);
}
