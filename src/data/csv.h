/*
 * csv.h — a bounded, streaming tokenizer for delimited text (RFC 4180-ish).
 *
 * Reads one record at a time from a FILE* or a memory buffer, tracking line numbers for
 * messages. Separator: ',' if the header line has a comma outside quotes, else ';' likewise,
 * else tab, else runs of spaces/tabs. Handles a UTF-8 BOM, CRLF, quoted fields ("a ""b"""),
 * blank lines at the end (skipped; a blank line followed by more data is an error). Lines longer
 * than LSTMSRC_MAX_LINE and records of more than LSTMSRC_MAX_COLUMNS fields fail with
 * LSTMSRC_ERR_LIMIT. A quoted field may span lines; its record keeps the line it starts on.
 * After any error the reader is spent: close it. Number conversion is separate (csv_parse_*).
 *
 * Every source may be gzip-compressed (told by its first two bytes, 1f 8b, not by its name): it
 * is inflated as it is read, with the same records, line numbers and messages as the plain text.
 * A truncated or corrupt stream fails at the line where its good data ends ("f.csv.gz:812:
 * truncated gzip data: ..."), LSTMSRC_ERR_PARSE. Records are handed out as they inflate, and
 * some damage still inflates to bytes that only the CRC-32 at the end of the member catches:
 * such bytes may first fail a caller's own checks as malformed text, and otherwise the reader
 * fails at the end, after their records. Concatenated members (`cat a.gz b.gz`) are read in
 * turn. Built without zlib (csv_zlib_version() == NULL), a gzip source fails with "NAME:
 * gzip-compressed; this lstmsrc was built without zlib" (LSTMSRC_ERR_PARSE).
 */
#ifndef LSTMSRC_CSV_H
#define LSTMSRC_CSV_H

#include <stdio.h>

#include "lstmsrc.h"

struct csv_reader;

/* Opens `path` for reading ("-" = stdin, named "<stdin>" in messages, never closed). `name`
 * for messages is the path. */
enum lstmsrc_status csv_open_file(const char *path, struct csv_reader **out,
                                  struct lstmsrc_error *err);
/* Reads from a caller-owned FILE* that the reader never closes. */
enum lstmsrc_status csv_open_stream(FILE *fp, const char *name, struct csv_reader **out,
                                    struct lstmsrc_error *err);
/* Reads from memory; the buffer must outlive the reader. */
enum lstmsrc_status csv_open_mem(const char *buf, size_t len, const char *name,
                                 struct csv_reader **out, struct lstmsrc_error *err);
void csv_close(struct csv_reader *r);

/* Reads the next record. On LSTMSRC_OK sets *nfields (0 at end of input) and makes fields
 * available through csv_field until the next call. The first call also detects the separator. */
enum lstmsrc_status csv_next(struct csv_reader *r, int *nfields, struct lstmsrc_error *err);
/* Field i of the current record (unquoted, NUL-terminated), its length. */
const char *csv_field(const struct csv_reader *r, int i, size_t *len);
/* csv_parse_float of field i, with a faster path for short plain decimals ("2832.26"). */
int csv_field_float(const struct csv_reader *r, int i, float *out);
/* Field i when it is exactly "0" or "1" (0 or 1), else -1; does not terminate the field. A
 * quick test for label cells: a caller gives other spellings to its own parser. */
int csv_field_bit(const struct csv_reader *r, int i);
/* The separator detected from the first record (',', ';', '\t', ' ' for runs of blanks), 0
 * before it. */
char csv_separator(const struct csv_reader *r);
/* A number written with a decimal comma ("217,5", " -0,25 "): exactly one ',' between digits,
 * no '.', parsed as csv_parse_float parses "217.5". Returns 1 on success. */
int csv_parse_float_comma(const char *s, size_t len, float *out);
/* 1-based line number where the current record starts. */
long csv_line(const struct csv_reader *r);
const char *csv_name(const struct csv_reader *r);

/* zlib's version ("1.2.13") when gzip input can be read, NULL when built without zlib. */
const char *csv_zlib_version(void);

/* Parses a whole field as a finite float: leading/trailing spaces allowed, nothing else.
 * Returns 1 on success. The value equals (float)strtod(s) in the "C" locale; hex, "nan" and
 * "inf" are rejected, and so is anything that overflows float (1e39). s[len] need not be NUL. */
int csv_parse_float(const char *s, size_t len, float *out);
/* The same as a finite double, equal to strtod(s); csv_parse_float is built on it. */
int csv_parse_double(const char *s, size_t len, double *out);

#endif
