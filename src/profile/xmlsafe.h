/* Parsing provider responses as XML without trusting them: no network,
 * no entity expansion, no DTD loading, no huge-document mode, and any
 * DOCTYPE or ENTITY declaration refused before libxml2 sees the body. */
#ifndef BC_PROFILE_XMLSAFE_H
#define BC_PROFILE_XMLSAFE_H

#include <stddef.h>

#include <libxml/tree.h>

/* Returns a document to free with xmlFreeDoc, or NULL with err set. */
xmlDocPtr bc_xml_parse_safe(const char *body, size_t len, char *err,
			    size_t errlen);
/* Concatenated text of a node's children, trimmed, on one line (control
 * characters become spaces), into out (truncated). */
void bc_xml_text(xmlNodePtr node, char *out, size_t outlen);
/* First child element of parent named name, or NULL. */
xmlNodePtr bc_xml_child(xmlNodePtr parent, const char *name);

#endif
