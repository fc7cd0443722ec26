/* Internals of the input readers (src/ingest), shared by its files only:
 * the byte source (file, stdin, callback; gzip), the read window that cuts
 * the stream into physical lines, the column table, UTF-8 checking, and the
 * struct bc_reader that csv.c and ndjson.c fill rows from.
 * Nothing outside src/ingest (and its tests and fuzz targets) includes this. */
#ifndef BC_INGEST_INTERNAL_H
#define BC_INGEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bulkcall/buf.h"
#include "bulkcall/reader.h"
#include "bulkcall/row.h"

/* Size of the read window and of the compressed-input buffer. */
#define BC__WINDOW_SIZE (64u * 1024u)

/* Room for one error message (file name included). */
#define BC__ERR_MAX 512u

/* ---- utf8.c ---------------------------------------------------------- */

/* Returns len when s[0..len) is well-formed UTF-8 without NUL bytes (values
 * are handed on as C strings), else the offset of the first byte of the
 * first bad sequence. Overlong forms, surrogates and code points above
 * U+10FFFF are bad. */
size_t bc__utf8_check(const char *s, size_t len);

/* ---- source.c -------------------------------------------------------- */

/* A stream of (decompressed) bytes: a file, stdin or a callback, gunzipped
 * on the fly when it starts with the gzip magic 1f 8b. */
struct bc__source;

/* Reads up to cap bytes into buf: returns the count, 0 at end of input, or
 * -1 with errno set. The callback form of a source, for tests and fuzz
 * targets that feed the reader from memory in chunks. */
typedef ssize_t (*bc__read_fn)(void *ctx, void *buf, size_t cap);

/* path "-" is stdin. Fails with BC_EIO (err names the file). */
int bc__source_open_path(struct bc__source **out, const char *path, char *err,
			 size_t errlen);
/* name is only used in messages. ctx stays owned by the caller. */
int bc__source_open_fn(struct bc__source **out, const char *name,
		       bc__read_fn read_fn, void *ctx, char *err,
		       size_t errlen);
/* Fills buf with up to cap bytes: returns the count, 0 at end of input,
 * or BC_EIO / BC_EGZIP / BC_ENOMEM with err set. */
ssize_t bc__source_read(struct bc__source *s, char *buf, size_t cap, char *err,
			size_t errlen);
const char *bc__source_name(const struct bc__source *s);
/* 1 once the source has been seen to be gzip-compressed. */
int bc__source_gzipped(const struct bc__source *s);
void bc__source_free(struct bc__source *s);

/* ---- window.c -------------------------------------------------------- */

/* The fixed read window over a source, handed out as fragments of physical
 * lines, plus a replay buffer for lines a failed record swallowed (at most
 * one record's worth). Memory: BC__WINDOW_SIZE + replay, never the file. */
struct bc__window {
	struct bc__source *src;
	char *buf;
	size_t pos;  /* first unread byte */
	size_t end;  /* end of valid data */
	size_t scan; /* [pos, scan) is known to hold no '\n' */
	int eof;
	struct bc_buf replay; /* unread bytes that go before buf[pos] */
	size_t rpos;
	uint64_t consumed; /* window bytes consumed: bc_reader_offset() */
};

int bc__window_init(struct bc__window *w, struct bc__source *src);
void bc__window_release(struct bc__window *w);
/* The next fragment of the current physical line: up to and including its
 * '\n' (*eol = 1), or as much of the line as fits the window (*eol = 0).
 * Does not consume it. Returns 1, 0 at end of input, or a negative BC_E*
 * from the source with err set. */
int bc__window_peek(struct bc__window *w, const char **p, size_t *n, int *eol,
		    char *err, size_t errlen);
/* Consumes n bytes of the fragment the last peek returned. */
void bc__window_consume(struct bc__window *w, size_t n);
/* Puts len bytes back in front of the unread input: the later lines of a
 * record that turned out to be bad, so they are read again. */
int bc__window_unread(struct bc__window *w, const char *data, size_t len);
/* Makes at least want bytes (fewer at end of input) visible at *p without
 * consuming them: the BOM check and format sniffing. Only before any
 * unread. Returns 0 or a negative BC_E*. */
int bc__window_fill(struct bc__window *w, size_t want, const char **p,
		    size_t *avail, char *err, size_t errlen);

/* ---- columns.c ------------------------------------------------------- */

/* Column names with a hash index: the CSV header or the NDJSON keys. */
struct bc__colset {
	struct bc_columns cols; /* names are owned, NUL-terminated */
	size_t *lens;
	size_t cap;
	uint32_t *slots; /* open addressing: column id + 1, 0 = free */
};

void bc__colset_init(struct bc__colset *s);
void bc__colset_release(struct bc__colset *s);
/* Column id of name[0..len), or -1. */
long bc__colset_find(const struct bc__colset *s, const char *name, size_t len);
/* Adds name[0..len) at the end. Returns its id, BC_EEXISTS when present
 * (*id = existing id), BC_ETOOBIG past BC_COLUMNS_MAX, or BC_ENOMEM. */
int bc__colset_add(struct bc__colset *s, const char *name, size_t len,
		   size_t *id);

/* ---- reader.c -------------------------------------------------------- */

struct bc__csv;

struct bc_reader {
	enum bc_format fmt;
	struct bc__source *src;
	struct bc__window win;
	struct bc__colset cols;
	struct bc_buf header; /* CSV header line incl. terminator */
	uint64_t line;	      /* number of the next physical line to read */
	uint64_t index;	      /* data records handed out so far */
	int fatal;	      /* sticky BC_E* once the source failed */
	char fatal_msg[BC__ERR_MAX];
	struct bc__csv *csv;
	void *owned_ctx; /* bc__reader_open_mem's cursor, freed with r */
};

/* snprintf into err when err is non-NULL. */
void bc__set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Opens a reader over a callback source (see bc__read_fn): the in-memory
 * constructor for tests and fuzz targets. name is used in messages and for
 * BC_FORMAT_AUTO's extension check. */
int bc__reader_open_fn(struct bc_reader **out, const char *name,
		       enum bc_format fmt, bc__read_fn read_fn, void *ctx,
		       char *err, size_t errlen);
/* Same over data[0..len), handed out in pieces of at most chunk bytes
 * (0 = all at once). data must outlive the reader. */
int bc__reader_open_mem(struct bc_reader **out, const char *name,
			enum bc_format fmt, const void *data, size_t len,
			size_t chunk, char *err, size_t errlen);

/* ---- csv.c / ndjson.c ------------------------------------------------ */

int bc__csv_init(struct bc_reader *r);
void bc__csv_free(struct bc_reader *r);
/* Reads the header into r->cols and r->header: 0 or BC_EHEADER etc. */
int bc__csv_header(struct bc_reader *r, char *err, size_t errlen);
/* Same contract as bc_reader_next. */
int bc__csv_next(struct bc_reader *r, struct bc_row *row, char *err,
		 size_t errlen);
int bc__ndjson_next(struct bc_reader *r, struct bc_row *row, char *err,
		    size_t errlen);

#endif
