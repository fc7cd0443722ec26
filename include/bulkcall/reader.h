/* struct bc_reader: streams rows out of a CSV or NDJSON file, optionally
 * gzip-compressed (detected by magic bytes), or stdin ("-").
 * Invariants: memory is bounded by BC_RECORD_MAX plus a fixed read window,
 * whatever the file size; a bad record never stops the stream: it comes
 * back as a row with row->error set and reading resumes at the next line.
 * Only an unreadable source or a corrupt gzip stream is fatal. */
#ifndef BULKCALL_READER_H
#define BULKCALL_READER_H

#include <stddef.h>
#include <stdint.h>

#include "bulkcall/row.h"

enum bc_format { BC_FORMAT_AUTO = 0, BC_FORMAT_CSV, BC_FORMAT_NDJSON };

struct bc_reader;

/* Format from a path's extension (".csv", ".ndjson", ".jsonl", each with an
 * optional ".gz"); BC_FORMAT_AUTO when it cannot tell. */
enum bc_format bc_format_from_path(const char *path);
const char *bc_format_name(enum bc_format fmt);

/* Opens path ("-" = stdin). For CSV it reads the header: an empty or
 * duplicate column name fails with BC_EHEADER, an unreadable file with
 * BC_EIO, a corrupt gzip stream with BC_EGZIP. err gets a message that
 * names the file. */
int bc_reader_open(struct bc_reader **out, const char *path,
		   enum bc_format fmt, char *err, size_t errlen);
/* Reads the next row into row. Returns 1 when a row was read, 0 at end of
 * input, or a negative BC_E* (BC_EIO, BC_EGZIP) with err filled. */
int bc_reader_next(struct bc_reader *r, struct bc_row *row, char *err,
		   size_t errlen);
/* Column names: the CSV header, or for NDJSON the keys seen so far in
 * first-seen order (it grows as lines bring new keys). A column named
 * bulkcall_error stays in the table (the errors writer replaces its value)
 * but profiles ignore it: see bc_column_ignored(). */
const struct bc_columns *bc_reader_columns(const struct bc_reader *r);
/* The CSV header line, exactly as read (with its line terminator), for
 * retry/errors files; empty for NDJSON. */
const char *bc_reader_header(const struct bc_reader *r, size_t *len);
enum bc_format bc_reader_format(const struct bc_reader *r);
/* Bytes of the (decompressed) input consumed so far, for progress. */
uint64_t bc_reader_offset(const struct bc_reader *r);
void bc_reader_free(struct bc_reader *r);

/* The readers' UTF-8 rule (RFC 3629, no NUL): len when s[0..len) is
 * well-formed, else the offset of the first bad byte. For writers that
 * must know whether original bytes can go into JSON text as they are. */
size_t bc_utf8_check(const char *s, size_t len);

#endif
