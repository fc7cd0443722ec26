/* Walking the text of JSON that cJSON has already accepted, to find where
 * a value's bytes are (cJSON keeps no offsets): the NDJSON reader checks a
 * line's raw values, the errors writer edits a line without re-encoding
 * it. Not a parser: it trusts the text to be valid JSON.
 * libc only. */
#ifndef BULKCALL_JSONTEXT_H
#define BULKCALL_JSONTEXT_H

/* Past the white space (cJSON takes every byte up to ' ' as such). */
const char *bc_json_skip_ws(const char *p, const char *end);
/* p at '"': past the closing quote; NULL when the text ends first. */
const char *bc_json_skip_string(const char *p, const char *end);
/* Past one value (string, array or object with everything nested, or a
 * scalar); NULL when the text ends first. */
const char *bc_json_skip_value(const char *p, const char *end);

#endif
