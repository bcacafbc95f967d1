/*
 * csv.c — streaming tokenizer for delimited text (FILE*, path or memory in; one record of
 * unquoted, NUL-terminated fields out) and a strict decimal-number parser.
 *
 * Input is read in 1 MiB chunks into one buffer that always holds the whole current record, so
 * a record costs no allocation: fields are unquoted and terminated in place. Plain records (no
 * quotes, line end already buffered) take a word-at-a-time fast path; short plain decimals are
 * converted the same way. Deliberately not here: column names, per-column numeric policy,
 * labels (dataset.c), encodings other than ASCII/UTF-8 (bytes pass through untouched).
 *
 * gzip input (first two bytes 1f 8b, whatever the name) is inflated below the buffering, into
 * the same buffer the same way a plain read fills it, so everything above sees the same bytes:
 * line numbers, BOM, limits and messages cannot differ. Damage in the compressed stream is
 * reported when the tokenizer reaches it, at the line where the good data ends. zlib is
 * optional (LSTMSRC_HAVE_ZLIB); without it a gzip input fails with one line saying so.
 */
#include "data/csv.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"

#ifdef LSTMSRC_HAVE_ZLIB
#include <zlib.h>
#endif

/* Word-at-a-time scanning needs little-endian loads and a count-trailing-zeros builtin;
 * elsewhere (or with -DCSV_SWAR=0) the byte loops below do the same job. */
#ifndef CSV_SWAR
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSV_SWAR 1
#else
#define CSV_SWAR 0
#endif
#endif
/* Readable bytes kept after the sentinel, so an 8-byte load at any field start stays inside the
 * allocation. */
#define CSV_PAD 16

/* Bytes asked of the source per read. */
#define CSV_CHUNK ((size_t)1 << 20)
/* The buffer holds one partial record (at most LSTMSRC_MAX_LINE bytes plus "\r\n") moved to the
 * front, plus at least one full chunk behind it. */
#define CSV_CAP ((size_t)LSTMSRC_MAX_LINE + 2 + CSV_CHUNK)
/* Compressed bytes asked of the source per read (gzip input). */
#define CSV_GZ_IN ((size_t)1 << 18)

/* What the source is, known after the first read. */
enum { SRC_UNKNOWN = 0, SRC_PLAIN, SRC_GZIP };
/* Damage met in a gzip stream after some good bytes: reported by the next read. */
enum { GZ_OK = 0, GZ_TRUNCATED, GZ_CORRUPT, GZ_TRAILING, GZ_READ, GZ_NOMEM };

#ifdef LSTMSRC_HAVE_ZLIB
struct csv_gz {
    z_stream z;
    int z_live;                    /* inflateInit2 succeeded: inflateEnd owed */
    unsigned char *in;             /* (CSV_GZ_IN) compressed bytes */
    long long in_base;             /* compressed bytes read before in[0] */
    int src_eof;                   /* the source has delivered its last compressed byte */
    int member_end;                /* a gzip member ended; more bytes must start another */
    int fault;                     /* GZ_*: what stopped the stream */
    struct lstmsrc_error read_err; /* for GZ_READ, as raw_read said it */
    long long fault_at;            /* compressed byte offset of the damage */
    char fault_msg[64];            /* zlib's words for GZ_CORRUPT */
};
#endif

struct csv_field {
    size_t off; /* from the start of the record while scanning */
    size_t len;
    int quoted;
    char *s; /* set once the record is complete */
};

struct csv_reader {
    char *name;      /* for messages, owned */
    FILE *fp;        /* NULL for memory input */
    int own_fp;      /* opened here, closed here */
    const char *mem; /* memory input, borrowed */
    size_t mem_len, mem_pos;
    int src; /* SRC_*: plain or gzip, decided by the first two bytes */
#ifdef LSTMSRC_HAVE_ZLIB
    struct csv_gz *gz; /* SRC_GZIP only */
#endif
    /* (cap + 1 + CSV_PAD): data in [start, end), a '\n' sentinel at buf[end], then padding
     * for word loads */
    char *buf;
    size_t cap, start, end;
    size_t nl_end;            /* 1 + offset of the last '\n' in [0, end); 0 = none */
    int eof;                  /* the source has delivered its last byte */
    int started;              /* first fill and BOM check done */
    char sep;                 /* ',', ';', '\t', or ' ' = runs of blanks; 0 = not yet known */
    int plain_ok;             /* separator known and not blank runs, no blank line pending */
    long line;                /* 1-based line where the next record starts */
    long rec_line;            /* line of the current record */
    long blank_line;          /* first blank line since the last record; 0 = none */
    struct csv_field *fields; /* (fcap) */
    int nf, fcap;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}
static int is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* ============================== opening and closing ============================== */

static enum lstmsrc_status reader_new(const char *name, size_t cap, struct csv_reader **out,
                                      struct lstmsrc_error *err)
{
    struct csv_reader *r = calloc(1, sizeof *r);
    if (!r) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", name);
    r->name = str_dup(name);
    r->cap = cap;
    r->buf = calloc(cap + 1 + CSV_PAD, 1); /* zeroed: word loads never see garbage */
    r->fcap = 16;
    r->fields = malloc((size_t)r->fcap * sizeof *r->fields);
    if (!r->name || !r->buf || !r->fields) {
        csv_close(r);
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", name);
    }
    r->buf[0] = '\n';
    r->line = 1;
    *out = r;
    return LSTMSRC_OK;
}

enum lstmsrc_status csv_open_stream(FILE *fp, const char *name, struct csv_reader **out,
                                    struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(fp && name && out);
    struct csv_reader *r = NULL;
    enum lstmsrc_status st = reader_new(name, CSV_CAP, &r, err);
    if (st) return st;
    r->fp = fp;
    *out = r;
    return LSTMSRC_OK;
}

enum lstmsrc_status csv_open_file(const char *path, struct csv_reader **out,
                                  struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && out);
    if (strcmp(path, "-") == 0) return csv_open_stream(stdin, "<stdin>", out, err);
    FILE *fp = fopen(path, "rb");
    if (!fp) return set_error(err, LSTMSRC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct csv_reader *r = NULL;
    enum lstmsrc_status st = csv_open_stream(fp, path, &r, err);
    if (st) {
        fclose(fp);
        return st;
    }
    r->own_fp = 1;
    *out = r;
    return LSTMSRC_OK;
}

enum lstmsrc_status csv_open_mem(const char *buf, size_t len, const char *name,
                                 struct csv_reader **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT((buf || len == 0) && name && out);
    /* Small inputs get a buffer of their own size, so fuzzing and tests stay cheap. */
    struct csv_reader *r = NULL;
    enum lstmsrc_status st = reader_new(name, len < CSV_CAP ? len : CSV_CAP, &r, err);
    if (st) return st;
    r->mem = buf;
    r->mem_len = len;
    *out = r;
    return LSTMSRC_OK;
}

void csv_close(struct csv_reader *r)
{
    if (!r) return;
#ifdef LSTMSRC_HAVE_ZLIB
    if (r->gz) {
        if (r->gz->z_live) inflateEnd(&r->gz->z);
        free(r->gz->in);
        free(r->gz);
    }
#endif
    if (r->own_fp && r->fp) fclose(r->fp);
    free(r->name);
    free(r->buf);
    free(r->fields);
    free(r);
}

const char *csv_zlib_version(void)
{
#ifdef LSTMSRC_HAVE_ZLIB
    return zlibVersion();
#else
    return NULL;
#endif
}

const char *csv_name(const struct csv_reader *r)
{
    return r->name;
}
long csv_line(const struct csv_reader *r)
{
    return r->rec_line;
}

const char *csv_field(const struct csv_reader *r, int i, size_t *len)
{
    LSTMSRC_ASSERT(i >= 0 && i < r->nf);
    const struct csv_field *f = &r->fields[i];
    /* The byte after a field is its separator, closing quote, line end or the sentinel, no
     * longer needed once the record is split; the fast scanner leaves terminating to here. */
    f->s[f->len] = '\0';
    if (len) *len = f->len;
    return f->s;
}

/* ============================== buffering ============================== */

/* Up to `want` bytes of the source as stored (compressed or not): FILE* or memory. Sets *eof
 * when the source has no more; a read error returns LSTMSRC_ERR_IO. */
static enum lstmsrc_status raw_read(struct csv_reader *r, void *dst, size_t want, size_t *got,
                                    int *eof, struct lstmsrc_error *err)
{
    if (r->fp) {
        *got = fread(dst, 1, want, r->fp);
        if (*got < want) {
            if (ferror(r->fp))
                return set_error(err, LSTMSRC_ERR_IO, "%s: read error: %s", r->name,
                                 strerror(errno));
            *eof = 1;
        }
    } else {
        size_t left = r->mem_len - r->mem_pos;
        *got = left < want ? left : want;
        if (*got) memcpy(dst, r->mem + r->mem_pos, *got);
        r->mem_pos += *got;
        if (r->mem_pos == r->mem_len) *eof = 1;
    }
    return LSTMSRC_OK;
}

#ifdef LSTMSRC_HAVE_ZLIB
/* Starts inflating: `head` holds the first n (<= 2) bytes already taken from the source. A
 * memory reader's buffer grows to the full size first, since the inflated text is longer than
 * the input it was sized for. */
static enum lstmsrc_status gz_start(struct csv_reader *r, const unsigned char *head, size_t n,
                                    struct lstmsrc_error *err)
{
    struct csv_gz *g = calloc(1, sizeof *g);
    if (!g) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", r->name);
    r->gz = g;
    if (!(g->in = malloc(CSV_GZ_IN)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", r->name);
    if (r->cap < CSV_CAP) { /* nothing is buffered yet */
        char *nb = calloc(CSV_CAP + 1 + CSV_PAD, 1);
        if (!nb) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", r->name);
        free(r->buf);
        r->buf = nb;
        r->cap = CSV_CAP;
    }
    memcpy(g->in, head, n);
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)n;
    /* 16 + 15: a gzip wrapper (header, CRC-32 and length checked) around a 32 KiB window */
    int zr = inflateInit2(&g->z, 16 + MAX_WBITS);
    if (zr != Z_OK)
        return set_error(err, zr == Z_MEM_ERROR ? LSTMSRC_ERR_NOMEM : LSTMSRC_ERR_IO,
                         "%s: cannot start zlib: %s", r->name, g->z.msg ? g->z.msg : "error");
    g->z_live = 1;
    return LSTMSRC_OK;
}

/* Stops the stream at damage found at compressed byte `at`; the bytes inflated before it are
 * still delivered. */
static void gz_fault(struct csv_gz *g, int fault, const char *msg)
{
    g->fault = fault;
    g->fault_at = g->in_base + (long long)(g->z.next_in - g->in);
    snprintf(g->fault_msg, sizeof g->fault_msg, "%s", msg ? msg : "invalid data");
}

/* The message for the damage, at the line the tokenizer has reached: where the good data ends. */
static enum lstmsrc_status gz_fault_error(const struct csv_reader *r, struct lstmsrc_error *err)
{
    const struct csv_gz *g = r->gz;
    switch (g->fault) {
    case GZ_TRUNCATED:
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s:%ld: truncated gzip data: the file ends inside the compressed "
                         "stream (after %lld compressed bytes)",
                         r->name, r->line, g->fault_at);
    case GZ_TRAILING:
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s:%ld: corrupt gzip data: bytes that are not gzip after the end of "
                         "the compressed stream (compressed byte %lld)",
                         r->name, r->line, g->fault_at);
    case GZ_READ:
        if (err) *err = g->read_err;
        return g->read_err.code;
    case GZ_NOMEM:
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", r->name);
    default:
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s:%ld: corrupt gzip data near compressed byte %lld: %s", r->name,
                         r->line, g->fault_at, g->fault_msg);
    }
}

/* Inflates up to `want` bytes into dst, as raw_read would read them from a plain file: short
 * only at the end of the data (*eof set) or at damage (reported by the next call). Members of
 * a concatenated gzip file (`cat a.gz b.gz`) follow one another. */
static enum lstmsrc_status gz_read(struct csv_reader *r, char *dst, size_t want, size_t *got,
                                   int *eof, struct lstmsrc_error *err)
{
    struct csv_gz *g = r->gz;
    *got = 0;
    if (g->fault) return gz_fault_error(r, err);
    g->z.next_out = (unsigned char *)dst;
    g->z.avail_out = (uInt)want;
    while (g->z.avail_out > 0) {
        if (g->z.avail_in == 0 && !g->src_eof) {
            size_t n = 0;
            g->in_base += (long long)(g->z.next_in - g->in);
            if (raw_read(r, g->in, CSV_GZ_IN, &n, &g->src_eof, &g->read_err)) {
                g->fault = GZ_READ;
                break;
            }
            g->z.next_in = g->in;
            g->z.avail_in = (uInt)n;
            continue;
        }
        if (g->member_end) {
            if (g->z.avail_in == 0) { /* src_eof: the end of the last member is the end */
                *eof = 1;
                break;
            }
            if (*g->z.next_in != 0x1f) {
                gz_fault(g, GZ_TRAILING, NULL);
                break;
            }
            inflateReset(&g->z);
            g->member_end = 0;
        }
        int zr = inflate(&g->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            g->member_end = 1;
        else if (zr == Z_BUF_ERROR) { /* no progress: needs input, and there is none */
            if (g->z.avail_in == 0 && g->src_eof) {
                gz_fault(g, GZ_TRUNCATED, NULL);
                break;
            }
        } else if (zr == Z_MEM_ERROR) {
            gz_fault(g, GZ_NOMEM, NULL);
            break;
        } else if (zr != Z_OK) { /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            gz_fault(g, GZ_CORRUPT, g->z.msg);
            break;
        }
    }
    *got = want - g->z.avail_out;
    if (*got == 0 && g->fault) return gz_fault_error(r, err);
    return LSTMSRC_OK;
}
#endif

/* The first read decides between plain and gzip by the first two bytes (1f 8b). */
static enum lstmsrc_status first_read(struct csv_reader *r, char *dst, size_t want, size_t *got,
                                      int *eof, struct lstmsrc_error *err)
{
    unsigned char head[2];
    size_t n = 0;
    enum lstmsrc_status st;
    if (r->fp) {
        if ((st = raw_read(r, head, 2, &n, eof, err))) return st;
    } else {
        n = r->mem_len < 2 ? r->mem_len : 2;
        if (n) memcpy(head, r->mem, n);
    }
    if (n == 2 && head[0] == 0x1f && head[1] == 0x8b) {
#ifdef LSTMSRC_HAVE_ZLIB
        r->src = SRC_GZIP;
        if (!r->fp) r->mem_pos = 2;
        if ((st = gz_start(r, head, n, err))) return st;
        r->gz->src_eof = r->fp ? *eof : r->mem_pos == r->mem_len;
        /* the buffer may have grown: the caller's want was for the old one */
        return gz_read(r, r->buf + r->end, r->cap - r->end, got, eof, err);
#else
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: gzip-compressed; this lstmsrc was built without zlib", r->name);
#endif
    }
    r->src = SRC_PLAIN;
    if (!r->fp) return raw_read(r, dst, want, got, eof, err);
    /* the two bytes taken from the stream are the start of the text */
    memcpy(dst, head, n);
    *got = n;
    if (*eof || n == want) return LSTMSRC_OK;
    size_t more = 0;
    st = raw_read(r, dst + n, want - n, &more, eof, err);
    *got += more;
    return st;
}

/* Moves the unconsumed bytes [start, end) to the front and appends what the source has, up to
 * the capacity. Called only while !eof; on return either new bytes arrived or eof is set. */
static enum lstmsrc_status refill(struct csv_reader *r, struct lstmsrc_error *err)
{
    size_t keep = r->end - r->start;
    /* An incomplete record longer than this can never end within the line limit. */
    if (keep > (size_t)LSTMSRC_MAX_LINE + 1)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld: line longer than %d bytes", r->name,
                         r->line, LSTMSRC_MAX_LINE);
    memmove(r->buf, r->buf + r->start, keep);
    r->start = 0;
    r->end = keep;
    size_t got = 0;
    enum lstmsrc_status st;
    if (r->src == SRC_UNKNOWN)
        st = first_read(r, r->buf + r->end, r->cap - r->end, &got, &r->eof, err);
#ifdef LSTMSRC_HAVE_ZLIB
    else if (r->src == SRC_GZIP)
        st = gz_read(r, r->buf + r->end, r->cap - r->end, &got, &r->eof, err);
#endif
    else
        st = raw_read(r, r->buf + r->end, r->cap - r->end, &got, &r->eof, err);
    if (st) return st;
    r->end += got;
    r->buf[r->end] = '\n';
    /* Lets csv_next know a record starting before nl_end ends inside the buffer. Scans back
     * over at most one partial line. */
    size_t i = r->end;
    while (i > r->start && r->buf[i - 1] != '\n')
        i--;
    r->nl_end = i > r->start ? i : 0;
    return LSTMSRC_OK;
}

/* Room for one more field, up to LSTMSRC_MAX_COLUMNS. */
static enum lstmsrc_status grow_fields(struct csv_reader *r, struct lstmsrc_error *err)
{
    if (r->fcap >= LSTMSRC_MAX_COLUMNS)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld: more than %d fields", r->name, r->line,
                         LSTMSRC_MAX_COLUMNS);
    int ncap = r->fcap * 2 < LSTMSRC_MAX_COLUMNS ? r->fcap * 2 : LSTMSRC_MAX_COLUMNS;
    struct csv_field *nf = realloc(r->fields, (size_t)ncap * sizeof *nf);
    if (!nf) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", r->name);
    r->fields = nf;
    r->fcap = ncap;
    return LSTMSRC_OK;
}

static enum lstmsrc_status add_field(struct csv_reader *r, size_t off, size_t len, int quoted,
                                     struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (r->nf == r->fcap && (st = grow_fields(r, err))) return st;
    struct csv_field *f = &r->fields[r->nf++];
    f->off = off;
    f->len = len;
    f->quoted = quoted;
    return LSTMSRC_OK;
}

/* ============================== tokenizing ============================== */

/* The separator comes from the first line: ',' if it has one outside quotes, else ';', else tab,
 * else runs of blanks. Needs the whole first line buffered. */
static enum lstmsrc_status detect_separator(struct csv_reader *r, struct lstmsrc_error *err)
{
    const char *nl;
    for (;;) {
        nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl || r->eof) break;
        enum lstmsrc_status st = refill(r, err);
        if (st) return st;
    }
    const int no_lf = !nl;
    if (!nl) nl = r->buf + r->end;
    int comma = 0, semi = 0, tab = 0, inq = 0;
    for (const char *p = r->buf + r->start; p < nl; p++) {
        if (*p == '"')
            inq = !inq;
        else if (!inq) {
            comma += *p == ',';
            semi += *p == ';';
            tab += *p == '\t';
            /* a CR that does not end the line: lines ended by CR alone would read as one
             * long header */
            if (*p == '\r' && p + 1 < nl)
                return set_error(err, LSTMSRC_ERR_PARSE,
                                 no_lf ? "%s: the file has no line ends but CR (\\r); expected LF "
                                         "or CRLF line ends"
                                       : "%s:1: a CR (\\r) inside the header line; expected LF or "
                                         "CRLF line ends",
                                 r->name);
        }
    }
    r->sep = comma ? ',' : semi ? ';' : tab ? '\t' : ' ';
    return LSTMSRC_OK;
}

enum { SCAN_MORE = 0, SCAN_DONE = 1, SCAN_FAIL = -1 };

/* The common case in one pass: a separated (not blank-run) record with no quoted field whose
 * line end is known to be in the buffer. Writes nothing to the buffer: csv_field terminates a
 * field when asked, so cells only converted by csv_field_float cost no store. Returns
 * SCAN_DONE, SCAN_FAIL, or SCAN_MORE when it meets a quoted field, which the general scanner
 * then takes from the start of the record. */
#if CSV_SWAR
/* High bit set in each byte of w equal to the byte in every lane of m (exact for every byte:
 * the sum of the low seven bits cannot carry into the next byte). */
static inline uint64_t eq_bytes(uint64_t w, uint64_t m)
{
    const uint64_t lows = 0x7F7F7F7F7F7F7F7Fu;
    const uint64_t x = w ^ m;
    return ~(((x & lows) + lows) | x | lows);
}

/* Eight bytes per step: every separator and the line end in a word at once, then one field per
 * set bit, so a record of short fields costs about one load per eight bytes. */
static int scan_plain(struct csv_reader *r, size_t *next, enum lstmsrc_status *st,
                      struct lstmsrc_error *err)
{
    const uint64_t ones = 0x0101010101010101u;
    char *const base = r->buf + r->start;
    const uint64_t ms = ones * (unsigned char)r->sep, mn = ones * (unsigned char)'\n';
    char *fs = base; /* current field's first byte */
    r->nf = 0;
    if (*fs == '"') return SCAN_MORE;
    for (char *p = base;; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* bits in memory order: the first line end returns before any byte past it counts */
        for (uint64_t m = eq_bytes(w, ms) | eq_bytes(w, mn); m; m &= m - 1) {
            char *q = p + (__builtin_ctzll(m) >> 3);
            if (r->nf == r->fcap && (*st = grow_fields(r, err))) return SCAN_FAIL;
            struct csv_field *f = &r->fields[r->nf++];
            f->s = fs;
            if (*q != '\n') {
                f->len = (size_t)(q - fs);
                fs = q + 1;
                if (*fs == '"') return SCAN_MORE;
                continue;
            }
            char *fe = q > fs && q[-1] == '\r' ? q - 1 : q;
            f->len = (size_t)(fe - fs);
            if ((size_t)(fe - base) > (size_t)LSTMSRC_MAX_LINE) {
                *st = set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld: line longer than %d bytes",
                                r->name, r->line, LSTMSRC_MAX_LINE);
                return SCAN_FAIL;
            }
            *next = (size_t)(q + 1 - r->buf);
            return SCAN_DONE;
        }
    }
}
#else
static int scan_plain(struct csv_reader *r, size_t *next, enum lstmsrc_status *st,
                      struct lstmsrc_error *err)
{
    char *const base = r->buf + r->start;
    const char sep = r->sep;
    char *p = base;
    r->nf = 0;
    for (;;) {
        if (*p == '"') return SCAN_MORE;
        char *fs = p;
        while (*p != sep && *p != '\n')
            p++;
        if (r->nf == r->fcap && (*st = grow_fields(r, err))) return SCAN_FAIL;
        struct csv_field *f = &r->fields[r->nf++];
        f->s = fs;
        if (*p == sep) {
            f->len = (size_t)(p - fs);
            p++;
            continue;
        }
        char *fe = p > fs && p[-1] == '\r' ? p - 1 : p;
        f->len = (size_t)(fe - fs);
        if ((size_t)(fe - base) > (size_t)LSTMSRC_MAX_LINE) {
            *st = set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld: line longer than %d bytes", r->name,
                            r->line, LSTMSRC_MAX_LINE);
            return SCAN_FAIL;
        }
        *next = (size_t)(p + 1 - r->buf);
        return SCAN_DONE;
    }
}
#endif

/* Splits the record at buf[start] into fields (offsets only; nothing is written). Returns
 * SCAN_DONE with *next = offset just past the record, SCAN_MORE when the buffer ends first and
 * more input may complete it, or SCAN_FAIL with *st and err set. */
static int scan_record(struct csv_reader *r, size_t *next, enum lstmsrc_status *st,
                       struct lstmsrc_error *err)
{
    char *const base = r->buf + r->start;
    char *const e = r->buf + r->end; /* *e == '\n': unquoted scans need no bounds check */
    const char sep = r->sep;
    const int ws = sep == ' ';
    char *p = base;

    r->nf = 0;
    if (ws)
        while (is_blank(*p) || *p == '\r')
            p++;
    for (;;) {
        char *fs, *fe;
        int quoted = *p == '"';
        if (quoted) {
            /* "..." with "" standing for one quote */
            char *q = fs = p + 1;
            for (;;) {
                q = memchr(q, '"', (size_t)(e - q));
                if (!q) {
                    if (!r->eof) return SCAN_MORE;
                    *st = set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: unterminated quoted field",
                                    r->name, r->line, r->nf + 1);
                    return SCAN_FAIL;
                }
                if (q + 1 == e && !r->eof) return SCAN_MORE; /* maybe the first of "" */
                if (q + 1 < e && q[1] == '"') {
                    q += 2;
                    continue;
                }
                break;
            }
            fe = q;
            p = q + 1;
        } else {
            fs = p;
            if (ws)
                while (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                    p++;
            else
                while (*p != sep && *p != '\n')
                    p++;
            if (p == e && !r->eof) return SCAN_MORE;
            fe = p;
            if (!ws && fe > fs && fe[-1] == '\r' && *p == '\n') fe--;
        }
        *st = add_field(r, (size_t)(fs - base), (size_t)(fe - fs), quoted, err);
        if (*st) return SCAN_FAIL;

        /* p is on the byte after the field: separator, end of line or end of input */
        char *after = p;
        if (ws)
            while (p < e && (is_blank(*p) || *p == '\r'))
                p++;
        if (p == e) {
            if (!r->eof) return SCAN_MORE;
            *next = r->end;
            return SCAN_DONE;
        }
        if (*p == '\n') {
            *next = (size_t)(p + 1 - r->buf);
            return SCAN_DONE;
        }
        if (ws && p > after) continue; /* a run of blanks: next field */
        if (!ws && *p == sep) {
            p++;
            continue;
        }
        if (!ws && *p == '\r' && quoted) { /* "x"\r\n */
            if (p + 1 == e) {
                if (!r->eof) return SCAN_MORE;
                *next = r->end;
                return SCAN_DONE;
            }
            if (p[1] == '\n') {
                *next = (size_t)(p + 2 - r->buf);
                return SCAN_DONE;
            }
        }
        /* only a quoted field can stop on anything else */
        *st =
            set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: unexpected character after closing quote",
                      r->name, r->line, r->nf);
        return SCAN_FAIL;
    }
}

/* Unquotes and terminates the fields of a complete record; returns the number of line breaks
 * inside quoted fields. */
static long finish_record(struct csv_reader *r)
{
    char *base = r->buf + r->start;
    long breaks = 0;
    for (int i = 0; i < r->nf; i++) {
        struct csv_field *f = &r->fields[i];
        char *s = base + f->off;
        if (f->quoted) {
            size_t w = 0;
            for (size_t k = 0; k < f->len; k++) {
                s[w++] = s[k];
                breaks += s[k] == '\n';
                if (s[k] == '"') k++; /* "" -> " */
            }
            f->len = w;
        }
        /* the byte after a field is its separator, closing quote, line end or the sentinel */
        s[f->len] = '\0';
        f->s = s;
    }
    return breaks;
}

/* csv_next for everything but the common case: first call, blank lines, end of input, quoted
 * fields, blank-run separators, records not yet wholly buffered. */
static enum lstmsrc_status next_general(struct csv_reader *r, int *nfields,
                                        struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    r->nf = 0;
    if (!r->started) {
        if ((st = refill(r, err))) return st;
        if (r->end >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) r->start = 3;
        r->started = 1;
    }
    r->buf[r->end] = '\n'; /* the previous record may have terminated its last field here */

    /* Blank lines: fine at the end, an error when more data follows. */
    for (;;) {
        char *p = r->buf + r->start, *e = r->buf + r->end;
        while (p < e && (is_blank(*p) || *p == '\r'))
            p++;
        if (p == e) {
            if (r->eof) {
                r->start = r->end;
                *nfields = 0;
                return LSTMSRC_OK;
            }
            if ((st = refill(r, err))) return st;
            continue;
        }
        if (*p != '\n') break;
        if (!r->blank_line) r->blank_line = r->line;
        r->plain_ok = 0;
        r->line++;
        r->start = (size_t)(p + 1 - r->buf);
    }
    if (r->blank_line)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s:%ld: blank line followed by more data (line %ld)", r->name,
                         r->blank_line, r->line);
    if (!r->sep) {
        if ((st = detect_separator(r, err))) return st;
        r->plain_ok = r->sep != ' ';
    }

    size_t next;
    for (;;) {
        int rc = scan_record(r, &next, &st, err);
        if (rc == SCAN_DONE) break;
        if (rc == SCAN_FAIL) return st;
        if ((st = refill(r, err))) return st;
    }
    size_t len = next - r->start;
    if (len && r->buf[next - 1] == '\n') len--;
    if (len && r->buf[r->start + len - 1] == '\r') len--;
    if (len > (size_t)LSTMSRC_MAX_LINE)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld: line longer than %d bytes", r->name,
                         r->line, LSTMSRC_MAX_LINE);
    long breaks = finish_record(r);
    r->rec_line = r->line;
    r->line += 1 + breaks;
    r->start = next;
    *nfields = r->nf;
    return LSTMSRC_OK;
}

enum lstmsrc_status csv_next(struct csv_reader *r, int *nfields, struct lstmsrc_error *err)
{
    /* Fast path: the record's line end is buffered and it starts with field data. */
    if (r->plain_ok && r->start < r->nl_end) {
        char c = r->buf[r->start];
        if (c != '\n' && c != '\r' && !is_blank(c)) {
            size_t next;
            enum lstmsrc_status st;
            int rc = scan_plain(r, &next, &st, err);
            if (rc == SCAN_FAIL) return st;
            if (rc == SCAN_DONE) {
                r->rec_line = r->line++;
                r->start = next;
                *nfields = r->nf;
                return LSTMSRC_OK;
            }
        }
    }
    return next_general(r, nfields, err);
}

/* ============================== numbers ============================== */

/* Powers of ten a double holds exactly: 10^k = 2^k * 5^k and 5^22 < 2^53. */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int csv_parse_double(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    const char *num = p;

    /* Grammar: [+-] digits [. digits] | [+-] . digits, then optional [eE] [+-] digits.
     * This is strtod's decimal grammar minus hex, inf and nan, so a string accepted here is
     * consumed whole by strtod. */
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    uint64_t m = 0;   /* first 19 significant digits */
    int sig = 0;      /* significant digits (leading zeros excluded) */
    int64_t dexp = 0; /* value = m * 10^dexp while sig <= 19 */
    size_t ndig = 0;
    for (; p < end && is_digit(*p); p++, ndig++) {
        unsigned d = (unsigned)(*p - '0');
        if (m == 0 && d == 0) continue;
        if (sig < 19)
            m = m * 10 + d;
        else
            dexp++;
        sig += sig < 100; /* only "more than 15" matters; saturating keeps it defined */
    }
    if (p < end && *p == '.') {
        for (p++; p < end && is_digit(*p); p++, ndig++) {
            unsigned d = (unsigned)(*p - '0');
            if (m == 0 && d == 0) {
                dexp--;
                continue;
            }
            if (sig < 19) {
                m = m * 10 + d;
                dexp--;
            }
            sig += sig < 100;
        }
    }
    if (ndig == 0) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p == end || !is_digit(*p)) return 0;
        int64_t ev = 0;
        for (; p < end && is_digit(*p); p++)
            if (ev < 1000000000) ev = ev * 10 + (*p - '0'); /* saturate; strtod gives 0 or inf */
        dexp += eneg ? -ev : ev;
    }
    if (p != end) return 0;

    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return 1;
    }
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    /* Clinger's fast path: m < 10^15 < 2^53 and 10^|dexp| are exact doubles, so one IEEE
     * multiply or divide rounds once and gives the correctly rounded value, as strtod does.
     * (Not with x87 extended precision, where the intermediate would be rounded twice.) */
    if (sig <= 15 && dexp >= -22 && dexp <= 22) {
        double v = (double)m;
        v = dexp < 0 ? v / pow10_exact[-dexp] : v * pow10_exact[dexp];
        *out = neg ? -v : v;
        return 1;
    }
#endif
    /* Rare: many digits or a large exponent. strtod needs a terminated copy. */
    char tmp[128], *heap = NULL, *z = tmp;
    size_t n = (size_t)(end - num);
    if (n >= sizeof tmp) {
        heap = malloc(n + 1);
        if (!heap) return 0;
        z = heap;
    }
    memcpy(z, num, n);
    z[n] = '\0';
    char *stop;
    double v = strtod(z, &stop);
    /* stop falls short only under a locale whose decimal point is not '.' */
    int ok = stop == z + n && isfinite(v);
    free(heap);
    if (ok) *out = v;
    return ok;
}

int csv_parse_float(const char *s, size_t len, float *out)
{
    double d;
    if (!csv_parse_double(s, len, &d)) return 0;
    float f = (float)d; /* IEEE: values beyond FLT_MAX round to inf, caught here */
    if (!isfinite(f)) return 0;
    *out = f;
    return 1;
}

#if CSV_SWAR
/* A field of 1..8 bytes made of digits and at most one '.' ("5", "2832.26", ".5", "7.") as
 * m * 10^-frac, without a loop whose length depends on the data. Reads 8 bytes at p (the
 * reader's padding makes that safe); returns 0 for any other shape. */
static int plain_decimal8(const char *p, size_t n, uint32_t *m, int *frac)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w;
    memcpy(&w, p, 8);
    const uint64_t keep = n == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
    w &= keep;
    int nd = (int)n;
    *frac = 0;
    uint64_t x = w ^ (ones * '.');
    uint64_t dot = ((x - ones) & ~x) & highs & keep;
    if (dot) { /* cut the '.' out: bytes below it stay, bytes above move down one */
        int k = __builtin_ctzll(dot) >> 3;
        uint64_t lo = w & (((uint64_t)1 << (8 * k)) - 1);
        uint64_t hi = k == 7 ? 0 : (w >> (8 * (k + 1))) << (8 * k);
        w = lo | hi;
        nd--;
        *frac = nd - k;
        if (nd == 0) return 0;
    }
    /* right-align as 8 digits behind leading '0's (the first byte is the most significant) */
    if (nd < 8) w = (w << (8 * (8 - nd))) | (ones * '0' >> (8 * nd));
    /* every byte 0x30..0x39: high nibble 3, and adding 6 must not carry into it */
    if (((w & 0xF0F0F0F0F0F0F0F0u) | (((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) !=
        0x3333333333333333u)
        return 0;
    /* 8 digits -> integer in three multiply steps (pairs, quads, all eight) */
    w = ((w & 0x0F0F0F0F0F0F0F0Fu) * 2561) >> 8;
    w = ((w & 0x00FF00FF00FF00FFu) * 6553601) >> 16;
    *m = (uint32_t)(((w & 0x0000FFFF0000FFFFu) * 42949672960001u) >> 32);
    return 1;
}
#endif

int csv_field_float(const struct csv_reader *r, int i, float *out)
{
    LSTMSRC_ASSERT(i >= 0 && i < r->nf);
    const struct csv_field *f = &r->fields[i];
#if CSV_SWAR && defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    const char *p = f->s;
    size_t n = f->len;
    int neg = n > 0 && *p == '-';
    p += neg;
    n -= (size_t)neg;
    uint32_t m;
    int frac;
    if (n >= 1 && n <= 8 && plain_decimal8(p, n, &m, &frac)) {
        /* at most 8 digits and 10^7: Clinger's exact case, as in csv_parse_double */
        double v = frac ? (double)m / pow10_exact[frac] : (double)m;
        *out = (float)(neg ? -v : v);
        return 1;
    }
#endif
    return csv_parse_float(f->s, f->len, out);
}

int csv_field_bit(const struct csv_reader *r, int i)
{
    LSTMSRC_ASSERT(i >= 0 && i < r->nf);
    const struct csv_field *f = &r->fields[i];
    return f->len == 1 && (f->s[0] == '0' || f->s[0] == '1') ? f->s[0] - '0' : -1;
}

char csv_separator(const struct csv_reader *r)
{
    return r->sep;
}

int csv_parse_float_comma(const char *s, size_t len, float *out)
{
    char b[64];
    size_t commas = 0, at = 0;
    if (len >= sizeof b) return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') return 0;
        if (s[i] == ',') {
            commas++;
            at = i;
        }
    }
    if (commas != 1 || at == 0 || at + 1 >= len || (unsigned)(s[at - 1] - '0') > 9u ||
        (unsigned)(s[at + 1] - '0') > 9u)
        return 0;
    memcpy(b, s, len);
    b[at] = '.';
    b[len] = '\0';
    return csv_parse_float(b, len, out);
}

int lstmsrc_parse_number(const char *s, size_t len, float *out)
{
    if (!s) return 0;
    return csv_parse_float(s, len, out);
}
