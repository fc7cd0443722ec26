/* Safe parsing of untrusted response XML with libxml2 2.9 (see
 * xmlsafe.h). Owns no state; libxml2's global error handler is silenced
 * per parse so hostile input cannot flood stderr. */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "profile/xmlsafe.h"

/* Bodies larger than this are not worth parsing: providers answer in a few
 * hundred bytes, and the transport caps bodies at 1 MiB anyway. */
#define XML_SAFE_MAX (1024u * 1024u)

static int contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

xmlDocPtr bc_xml_parse_safe(const char *body, size_t len, char *err,
			    size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "empty XML body");
		return NULL;
	}
	if (len > XML_SAFE_MAX || len > 0x7fffffff) {
		snprintf(err, errlen, "XML body too large");
		return NULL;
	}
	/* Entity tricks (billion laughs, external entities) all need a
	 * DOCTYPE; provider answers never carry one. */
	if (contains(body, len, "<!DOCTYPE") || contains(body, len, "<!ENTITY")) {
		snprintf(err, errlen, "XML body with a DOCTYPE or ENTITY refused");
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, silent);
	xmlDocPtr doc = xmlReadMemory(body, (int)len, "response.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR |
					      XML_PARSE_NOWARNING);
	if (!doc || !xmlDocGetRootElement(doc)) {
		const xmlError *e = xmlGetLastError();
		snprintf(err, errlen, "malformed XML%s%s",
			 e && e->message ? ": " : "",
			 e && e->message ? e->message : "");
		/* libxml2 messages end with a newline, and some hold one
		 * ("... indicate encoding !\nBytes: 0xB7 ..."): one line. */
		size_t n = strlen(err);
		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
				err[i] = ' ';
		if (doc)
			xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

void bc_xml_text(xmlNodePtr node, char *out, size_t outlen)
{
	out[0] = '\0';
	if (!node || outlen == 0)
		return;
	xmlChar *content = xmlNodeGetContent(node);
	if (!content)
		return;
	const char *s = (const char *)content;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' ||
		     s[n - 1] == '\t'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	/* The text becomes a row's error in a CSV/log: keep it on one line
	 * and printable (a tab or DEL can come as &#9; or raw), as
	 * bc_json_text does. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c == 0x7f) ? ' ' : s[i];
	}
	out[n] = '\0';
	xmlFree(content);
}

xmlNodePtr bc_xml_child(xmlNodePtr parent, const char *name)
{
	if (!parent)
		return NULL;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}
