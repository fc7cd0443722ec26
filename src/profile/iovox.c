/* IOVOX v3 plumbing shared by initiateCall and updateCallFlow: credentials,
 * the XML request writer and the classifier for
 * <errors><error status="400">message</error>...</errors> answers. */
#include <stdio.h>
#include <string.h>

#include <libxml/entities.h>
#include <libxml/tree.h>

#include "bulkcall/error.h"
#include "profile/iovox.h"
#include "profile/xmlsafe.h"

int bc_iovox_bind(struct bc_profile_ctx *ctx,
		  const struct bc_profile_config *cfg, char *err,
		  size_t errlen)
{
	const char *user = bc_profile_env(cfg, "IOVOX_USERNAME");
	const char *key = bc_profile_env(cfg, "IOVOX_SECURE_KEY");
	if (cfg && cfg->need_credentials && (!user || !key)) {
		snprintf(err, errlen,
			 "%s is not set: export IOVOX_USERNAME and "
			 "IOVOX_SECURE_KEY (credentials are read from the "
			 "environment only)",
			 !user ? "IOVOX_USERNAME" : "IOVOX_SECURE_KEY");
		return BC_EUSAGE;
	}
	int result = bc_profile_add_header(ctx, "username", user ? user : "", 1);
	if (!result)
		result = bc_profile_add_header(ctx, "secureKey", key ? key : "", 1);
	if (result == BC_EINVAL)
		snprintf(err, errlen, "IOVOX credentials contain a line break");
	return result;
}

/* Joins the messages of every <error> child into err. */
static void error_messages(xmlNodePtr root, char *err, size_t errlen)
{
	size_t used = 0;
	err[0] = '\0';
	for (xmlNodePtr e = root->children; e; e = e->next) {
		if (e->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)e->name, "error") != 0)
			continue;
		char msg[256];
		bc_xml_text(e, msg, sizeof msg);
		int n = snprintf(err + used, errlen - used, "%s%s",
				 used ? "; " : "", msg);
		if (n < 0 || (size_t)n >= errlen - used)
			break;
		used += (size_t)n;
	}
}

enum bc_verdict bc_iovox_classify(struct bc_profile_ctx *ctx,
				  const struct bc_response *resp, char *err,
				  size_t errlen)
{
	(void)ctx;
	long status = resp->status;
	if (status >= 200 && status < 300) {
		err[0] = '\0';
		return BC_VERDICT_OK;
	}
	char msg[512] = "";
	if (resp->body_len) {
		char perr[128];
		xmlDocPtr doc = bc_xml_parse_safe(resp->body, resp->body_len,
						  perr, sizeof perr);
		xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (root && strcmp((const char *)root->name, "errors") == 0)
			error_messages(root, msg, sizeof msg);
		if (doc)
			xmlFreeDoc(doc);
	}
	if (msg[0])
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "HTTP %ld", status);
	if (strstr(msg, BC_IOVOX_THROTTLE_MESSAGE) || status == 429)
		return BC_VERDICT_THROTTLE;
	if (status == 401 || status == 403)
		return BC_VERDICT_FATAL;
	if (status >= 500 || status == 408)
		return BC_VERDICT_RETRY;
	return BC_VERDICT_FAILED;
}

int bc_xml_out_start(struct bc_xml_out *x)
{
	if (!x->buf) {
		x->buf = xmlBufferCreate();
		if (!x->buf)
			return BC_ENOMEM;
	}
	xmlBufferEmpty(x->buf);
	x->w = xmlNewTextWriterMemory(x->buf, 0);
	return x->w ? BC_OK : BC_ENOMEM;
}

int bc_xml_out_finish(struct bc_xml_out *x, struct bc_buf *body)
{
	int rc = xmlTextWriterEndDocument(x->w);
	xmlFreeTextWriter(x->w);
	x->w = NULL;
	if (rc < 0)
		return BC_ENOMEM;
	/* The declaration exactly as IOVOX documents it: libxml2's writer
	 * would spell the encoding "UTF-8". The writer's own output is
	 * UTF-8, which is what this line declares. */
	bc_buf_reset(body);
	int result = bc_buf_adds(body, BC_XML_DECLARATION);
	if (!result)
		result = bc_buf_add(body, xmlBufferContent(x->buf),
				    (size_t)xmlBufferLength(x->buf));
	return result;
}

void bc_xml_out_release(struct bc_xml_out *x)
{
	if (x->w)
		xmlFreeTextWriter(x->w);
	if (x->buf)
		xmlBufferFree(x->buf);
	x->w = NULL;
	x->buf = NULL;
}

int bc_xml_add_element(struct bc_buf *out, const char *name, const char *value,
		       size_t len)
{
	size_t nlen = strlen(name);
	int result = bc_buf_grow(out, 2 * nlen + len + 5);
	if (result)
		return result;
	bc_buf_addc(out, '<');
	bc_buf_add(out, name, nlen);
	bc_buf_addc(out, '>');
	if (strcspn(value, "<>&\"\r") >= len) {
		bc_buf_add(out, value, len);
	} else {
		xmlChar *esc = xmlEncodeSpecialChars(NULL, BAD_CAST value);
		if (!esc)
			return BC_ENOMEM;
		result = bc_buf_adds(out, (const char *)esc);
		xmlFree(esc);
		if (result)
			return result;
	}
	bc_buf_add(out, "</", 2);
	bc_buf_add(out, name, nlen);
	return bc_buf_addc(out, '>');
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int bc_xml_name_valid(const char *name)
{
	if (!is_alpha(name[0]) && name[0] != '_')
		return 0;
	if ((name[0] == 'x' || name[0] == 'X') &&
	    (name[1] == 'm' || name[1] == 'M') &&
	    (name[2] == 'l' || name[2] == 'L'))
		return 0;
	for (const char *p = name + 1; *p; p++)
		if (!is_alpha(*p) && !(*p >= '0' && *p <= '9') && *p != '-' &&
		    *p != '_' && *p != '.')
			return 0;
	return 1;
}
