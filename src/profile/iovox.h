/* What the IOVOX v3 profiles share: the username/secureKey headers, the
 * request document writer, and how an answer is classified. */
#ifndef BC_PROFILE_IOVOX_H
#define BC_PROFILE_IOVOX_H

#include <libxml/xmlwriter.h>

#include "bulkcall/profile.h"

#define BC_IOVOX_BASE_URL "https://api.iovox.com:444"
#define BC_IOVOX_THROTTLE_MESSAGE "The number of calls allowed has been exceeded"

/* Reads IOVOX_USERNAME / IOVOX_SECURE_KEY into the run's headers. */
int bc_iovox_bind(struct bc_profile_ctx *ctx,
		  const struct bc_profile_config *cfg, char *err,
		  size_t errlen);
/* Maps an IOVOX answer to a verdict; err gets the <error> messages. */
enum bc_verdict bc_iovox_classify(struct bc_profile_ctx *ctx,
				  const struct bc_response *resp, char *err,
				  size_t errlen);

#define BC_XML_DECLARATION "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

/* A libxml2 writer over a buffer reused from row to row. */
struct bc_xml_out {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
};
int bc_xml_out_start(struct bc_xml_out *x);
/* Ends the document and copies it into body. */
int bc_xml_out_finish(struct bc_xml_out *x, struct bc_buf *body);
void bc_xml_out_release(struct bc_xml_out *x);
/* Appends <name>value</name> to out: the value escaped by libxml2
 * (xmlEncodeSpecialChars) when it holds a character that needs it, copied
 * as is otherwise. name must be a valid element name. For hot paths where
 * a text writer per row costs more than the request. */
int bc_xml_add_element(struct bc_buf *out, const char *name, const char *value,
		       size_t len);

/* A valid XML element name (ASCII subset): letter or '_' first, then
 * letters, digits, '-', '_' or '.'; no ':' and no reserved "xml" prefix. */
int bc_xml_name_valid(const char *name);

#endif
