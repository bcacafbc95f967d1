/*
 * test_gzip.c — gzip-compressed input (src/data/csv.c below its buffering).
 *
 * A gz of every CSV fixture loads the same data set as the plain file, or fails with the same
 * status and message (the file name aside); so do reads that straddle buffer refills, lines at
 * and past the line limit, a FILE* stream (stdin's path), memory input and concatenated
 * members. A gz of an empty file is an empty file. Truncation at every length, a flipped byte
 * anywhere, garbage after the stream and garbage instead of deflate data fail with one located
 * line, or (a flip in a header field nobody checks) read the original; never a crash. Built
 * without zlib, a gz input fails with the exact line that says so and the rest is skipped.
 * Run from the repository root.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "lstmsrc.h"
#include "test.h"
#include "testio.h"

#ifdef LSTMSRC_HAVE_ZLIB
#include <zlib.h>
#endif

#define FIX "tests/fixtures/"

static char tmpdir[64];

/* "a,b\n1,0\n" as `gzip` writes it (mtime 0) */
static const unsigned char tiny_gz[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x4b, 0xd4, 0x49, 0xe2,
    0x32, 0xd4, 0x31, 0xe0, 0x02, 0x00, 0xf9, 0x65, 0xa1, 0x38, 0x08, 0x00, 0x00, 0x00,
};

static void tmp_path(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s/%s", tmpdir, name);
}

static void test_zlib_version(void)
{
#ifdef LSTMSRC_HAVE_ZLIB
    CHECK(csv_zlib_version() != NULL && strcmp(csv_zlib_version(), zlibVersion()) == 0);
#else
    CHECK(csv_zlib_version() == NULL);
#endif
}

/* The tiny gz: read as "a,b / 1,0" with zlib, else refused with the one line. */
static void test_tiny_gz(void)
{
    char p[128];
    tmp_path(p, sizeof p, "tiny.csv.gz");
    CHECK(spit(p, tiny_gz, sizeof tiny_gz));
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err = {0};
    enum lstmsrc_status st = lstmsrc_dataset_load(p, NULL, &ds, &err);
#ifdef LSTMSRC_HAVE_ZLIB
    CHECK(st == LSTMSRC_OK);
    if (ds) CHECK(ds->n == 1 && ds->f == 1 && ds->k == 1 && ds->x[0] == 1.0f && ds->y[0] == 0);
#else
    char want[256];
    snprintf(want, sizeof want, "%s: gzip-compressed; this lstmsrc was built without zlib", p);
    CHECK(st == LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, want) == 0);
    /* memory input the same */
    st = lstmsrc_dataset_load_mem("m.gz", (const char *)tiny_gz, sizeof tiny_gz, NULL, &ds, &err);
    CHECK(st == LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "m.gz: gzip-compressed; this lstmsrc was built without zlib") == 0);
#endif
    lstmsrc_dataset_free(ds);
}

#ifdef LSTMSRC_HAVE_ZLIB

/* src as one gzip member at `level` (caller frees). */
static unsigned char *gz_bytes(const void *src, size_t n, int level, size_t *out_n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (unsigned char *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Writes the gz of `text` to tmpdir/name; the path in dst. */
static int write_gz(const char *text, size_t n, const char *name, char *dst, size_t cap)
{
    size_t gn;
    unsigned char *g = gz_bytes(text, n, 6, &gn);
    if (!g) return 0;
    tmp_path(dst, cap, name);
    int ok = spit(dst, g, gn);
    free(g);
    return ok;
}

static int same_names(char *const *a, char *const *b, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i], b[i]) != 0) return 0;
    return 1;
}

/* Everything a load decides, but the source name. */
static int same_dataset(const struct lstmsrc_dataset *a, const struct lstmsrc_dataset *b)
{
    if (a->n != b->n || a->f != b->f || a->k != b->k || a->task != b->task || a->mode != b->mode ||
        a->has_labels != b->has_labels || a->n_labels != b->n_labels ||
        a->first_line != b->first_line || a->lines_regular != b->lines_regular ||
        a->diff_bad_row != b->diff_bad_row || a->diff_bad_line != b->diff_bad_line)
        return 0;
    if (!same_names(a->input_names, b->input_names, a->f) ||
        !same_names(a->label_names, b->label_names, a->n_labels) ||
        !same_names(a->output_names, b->output_names, a->k))
        return 0;
    if (memcmp(a->x, b->x, a->n * (size_t)a->f * sizeof *a->x) != 0) return 0;
    if ((a->y == NULL) != (b->y == NULL) || (a->cls == NULL) != (b->cls == NULL)) return 0;
    if (a->y && memcmp(a->y, b->y, a->n * (size_t)a->k) != 0) return 0;
    if (a->cls && memcmp(a->cls, b->cls, a->n * sizeof *a->cls) != 0) return 0;
    return 1;
}

/* A message about `pa` equals one about `pb` once the names are swapped. */
static int same_message(const char *ma, const char *pa, const char *mb, const char *pb)
{
    size_t la = strlen(pa), lb = strlen(pb);
    return strncmp(ma, pa, la) == 0 && strncmp(mb, pb, lb) == 0 && strcmp(ma + la, mb + lb) == 0;
}

/* Loads the plain file and the gz file: the same data set, or the same status and message. */
static void check_same_load(const char *plain, const char *gz, const struct lstmsrc_columns *cols)
{
    struct lstmsrc_dataset *a = NULL, *b = NULL;
    struct lstmsrc_error ea = {0}, eb = {0};
    enum lstmsrc_status sa = lstmsrc_dataset_load(plain, cols, &a, &ea);
    enum lstmsrc_status sb = lstmsrc_dataset_load(gz, cols, &b, &eb);
    CHECK(sa == sb);
    if (sa == LSTMSRC_OK && sb == LSTMSRC_OK) {
        CHECK(same_dataset(a, b));
    } else if (!same_message(ea.msg, plain, eb.msg, gz)) {
        fprintf(stderr, "  plain: %s\n  gz:    %s\n", ea.msg, eb.msg);
        CHECK(!"the same message");
    }
    lstmsrc_dataset_free(a);
    lstmsrc_dataset_free(b);
}

static void test_fixtures_same_as_plain(void)
{
    static const char *const names[] = {
        "good.csv",       "good_class.csv",      "good_crlf_bom.csv",    "good_names.csv",
        "good_space.csv", "good_tab.csv",        "bad_blank_middle.csv", "bad_class.csv",
        "bad_empty.csv",  "bad_header_only.csv", "bad_huge.csv",         "bad_inf.csv",
        "bad_label.csv",  "missing_nan.csv",     "bad_number.csv",       "bad_quote.csv",
        "bad_ragged.csv",
    };
    struct lstmsrc_columns cls = {0};
    cls.class_column = "class";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char plain[256], gz[256], gzname[128];
        snprintf(plain, sizeof plain, FIX "%s", names[i]);
        size_t n;
        unsigned char *text = slurp(plain, &n);
        CHECK(text != NULL);
        if (!text) continue;
        snprintf(gzname, sizeof gzname, "%s.gz", names[i]);
        CHECK(write_gz((const char *)text, n, gzname, gz, sizeof gz));
        check_same_load(plain, gz, NULL);
        check_same_load(plain, gz, &cls);
        free(text);
    }
}

/* A gz of good.csv loads exactly the plain data set, from a path, from memory (whose buffer
 * must grow: the text is longer than the gz) and through a FILE* (stdin's path). */
static void test_good_every_source(void)
{
    size_t n, gn;
    unsigned char *text = slurp(FIX "good.csv", &n);
    CHECK(text != NULL);
    if (!text) return;
    unsigned char *g = gz_bytes(text, n, 9, &gn);
    CHECK(g != NULL);
    struct lstmsrc_dataset *a = NULL, *b = NULL;
    struct lstmsrc_error err = {0};
    CHECK(lstmsrc_dataset_load(FIX "good.csv", NULL, &a, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_dataset_load_mem("m", (const char *)g, gn, NULL, &b, &err) == LSTMSRC_OK);
    if (a && b) CHECK(same_dataset(a, b));
    lstmsrc_dataset_free(b);

    FILE *fp = tmpfile();
    CHECK(fp != NULL);
    if (fp && a) {
        CHECK(fwrite(g, 1, gn, fp) == gn);
        rewind(fp);
        struct csv_reader *r;
        CHECK(csv_open_stream(fp, "<stdin>", &r, &err) == LSTMSRC_OK);
        int nf;
        size_t records = 0;
        long last_line = 0;
        while (csv_next(r, &nf, &err) == LSTMSRC_OK && nf > 0) {
            records++;
            last_line = csv_line(r);
        }
        CHECK(records == a->n + 1);
        CHECK(last_line == (long)a->n + 1);
        csv_close(r);
        fclose(fp);
    }
    lstmsrc_dataset_free(a);
    free(g);
    free(text);
}

/* A text of `rows` rows "i,i%2" with one line of exactly `long_len` bytes (blanks and "7,1")
 * after row `at`; caller frees. */
static char *rows_text(size_t rows, size_t at, size_t long_len, size_t *len)
{
    size_t cap = rows * 24 + long_len + 64;
    char *s = malloc(cap), *w = s;
    if (!s) return NULL;
    w += sprintf(w, "reading,on\n");
    for (size_t i = 0; i < rows; i++) {
        w += sprintf(w, "%zu,%d\n", i, (int)(i % 2));
        if (i == at && long_len) {
            memset(w, ' ', long_len - 3);
            w += long_len - 3;
            w += sprintf(w, "7,1\n");
        }
    }
    *len = (size_t)(w - s);
    return s;
}

/* Several MiB: records straddle every refill of both the inflated buffer and the compressed
 * input; a line of exactly the limit reads, one byte more fails the same way as plain. */
static void test_big_and_line_limit(void)
{
    const size_t lens[3] = {0, (size_t)LSTMSRC_MAX_LINE, (size_t)LSTMSRC_MAX_LINE + 1};
    for (int k = 0; k < 3; k++) {
        size_t len;
        char *t = rows_text(300000, 150000, lens[k], &len);
        CHECK(t != NULL);
        if (!t) return;
        char plain[128], gz[128];
        tmp_path(plain, sizeof plain, "big.csv");
        CHECK(spit(plain, (const unsigned char *)t, len));
        CHECK(write_gz(t, len, "big.csv.gz", gz, sizeof gz));
        check_same_load(plain, gz, NULL);
        if (k == 2) {
            struct lstmsrc_dataset *ds = NULL;
            struct lstmsrc_error err = {0};
            CHECK(lstmsrc_dataset_load(gz, NULL, &ds, &err) == LSTMSRC_ERR_LIMIT);
            char want[256];
            snprintf(want, sizeof want, "%s:150003: line longer than %d bytes", gz,
                     LSTMSRC_MAX_LINE);
            CHECK(strcmp(err.msg, want) == 0);
        }
        free(t);
    }
}

/* Records of LSTMSRC_MAX_COLUMNS fields read, one more fails: the same for the gz. */
static void test_column_limit(void)
{
    for (int extra = 0; extra <= 1; extra++) {
        const int nf = LSTMSRC_MAX_COLUMNS + extra;
        size_t cap = (size_t)nf * 8 + 64, len = 0;
        char *t = malloc(cap);
        CHECK(t != NULL);
        if (!t) return;
        for (int row = 0; row < 2; row++)
            for (int i = 0; i < nf; i++)
                len += (size_t)snprintf(t + len, cap - len, row ? "%s%d" : "%sc%d", i ? "," : "",
                                        row ? i % 2 : i);
        len += (size_t)snprintf(t + len, cap - len, "\n");
        /* the header above ran into the data row: split it */
        char *mid = strstr(t, "0,1");
        size_t hl = (size_t)(mid - t);
        char *u = malloc(len + 2);
        CHECK(u != NULL);
        if (!u) {
            free(t);
            return;
        }
        memcpy(u, t, hl);
        u[hl] = '\n';
        memcpy(u + hl + 1, mid, len - hl);
        char plain[128], gz[128];
        tmp_path(plain, sizeof plain, "cols.csv");
        CHECK(spit(plain, (const unsigned char *)u, len + 1));
        CHECK(write_gz(u, len + 1, "cols.csv.gz", gz, sizeof gz));
        check_same_load(plain, gz, NULL);
        struct lstmsrc_dataset *ds = NULL;
        struct lstmsrc_error err = {0};
        enum lstmsrc_status st = lstmsrc_dataset_load(gz, NULL, &ds, &err);
        if (extra) CHECK(st == LSTMSRC_ERR_LIMIT && strstr(err.msg, ":1: more than") != NULL);
        lstmsrc_dataset_free(ds);
        free(u);
        free(t);
    }
}

/* `cat a.gz b.gz` reads as `cat a b`; an empty member between them changes nothing. */
static void test_concatenated(void)
{
    const char *a = "x,y\n1,0\n2,1\n", *b = "3,0\n";
    size_t na, nb, ne;
    unsigned char *ga = gz_bytes(a, strlen(a), 6, &na), *gb = gz_bytes(b, strlen(b), 1, &nb);
    unsigned char *ge = gz_bytes("", 0, 6, &ne);
    CHECK(ga && gb && ge);
    if (ga && gb && ge) {
        unsigned char *all = malloc(na + nb + ne);
        memcpy(all, ga, na);
        memcpy(all + na, ge, ne);
        memcpy(all + na + ne, gb, nb);
        char p[128];
        tmp_path(p, sizeof p, "cat.csv.gz");
        CHECK(spit(p, all, na + ne + nb));
        struct lstmsrc_dataset *ds = NULL;
        struct lstmsrc_error err = {0};
        CHECK(lstmsrc_dataset_load(p, NULL, &ds, &err) == LSTMSRC_OK);
        if (ds) CHECK(ds->n == 3 && ds->x[2] == 3.0f && ds->y[1] == 1 && ds->y[2] == 0);
        lstmsrc_dataset_free(ds);
        free(all);
    }
    free(ga);
    free(gb);
    free(ge);
}

/* A gz of an empty file is an empty file: the same message as the plain one. */
static void test_empty(void)
{
    char plain[128], gz[128];
    tmp_path(plain, sizeof plain, "empty.csv");
    CHECK(spit(plain, (const unsigned char *)"", 0));
    CHECK(write_gz("", 0, "empty.csv.gz", gz, sizeof gz));
    check_same_load(plain, gz, NULL);
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err = {0};
    CHECK(lstmsrc_dataset_load(gz, NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    char want[256];
    snprintf(want, sizeof want, "%s: empty file, expected a header line", gz);
    CHECK(strcmp(err.msg, want) == 0);
}

/* The line number in "PATH:LINE: ..." (0 when there is none). */
static long msg_line(const char *msg, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(msg, path, n) != 0 || msg[n] != ':') return 0;
    return strtol(msg + n + 1, NULL, 10);
}

/* Cut after every length from 2 bytes on: always "PATH:LINE: truncated gzip data", at a line
 * that never goes back as more is kept, and within the text; a file and memory alike. */
static void test_truncated_every_length(void)
{
    size_t len = 0, gn = 0;
    char *t = rows_text(3000, 0, 0, &len);
    unsigned char *g = t ? gz_bytes(t, len, 6, &gn) : NULL;
    CHECK(g != NULL);
    if (!g) {
        free(t);
        return;
    }
    char p[128];
    tmp_path(p, sizeof p, "cut.csv.gz");
    long prev = 1;
    int bad = 0;
    for (size_t cut = 2; cut < gn && !bad; cut++) {
        struct lstmsrc_dataset *ds = NULL;
        struct lstmsrc_error err = {0};
        /* from memory (the same reader below the source), every 61st from the file too */
        enum lstmsrc_status st = lstmsrc_dataset_load_mem(p, (const char *)g, cut, NULL, &ds, &err);
        if (cut % 61 == 0 || cut + 1 == gn) {
            struct lstmsrc_error ef = {0};
            CHECK(spit(p, g, cut));
            struct lstmsrc_dataset *df = NULL;
            CHECK(lstmsrc_dataset_load(p, NULL, &df, &ef) == st);
            CHECK(strcmp(ef.msg, err.msg) == 0);
            lstmsrc_dataset_free(df);
        }
        long line = msg_line(err.msg, p);
        char tail[128];
        snprintf(tail, sizeof tail,
                 ": truncated gzip data: the file ends inside the compressed "
                 "stream (after %zu compressed bytes)",
                 cut);
        const char *colon = strchr(err.msg + strlen(p) + 1, ':');
        if (st != LSTMSRC_ERR_PARSE || line < prev || line > 3002 || !colon ||
            strcmp(colon, tail) != 0) {
            fprintf(stderr, "  cut %zu: %s\n", cut, err.msg);
            bad = 1;
        }
        prev = line;
        lstmsrc_dataset_free(ds);
    }
    CHECK(!bad);
    CHECK(prev >= 3000); /* the last cuts keep (nearly) every line */
    free(g);
    free(t);
}

/* Each byte of a gz flipped three ways: the original data set, or one located line; never a
 * crash (the sanitizer builds run this too). */
static void test_corrupt_every_byte(void)
{
    size_t n, gn;
    unsigned char *text = slurp(FIX "good.csv", &n);
    CHECK(text != NULL);
    if (!text) return;
    unsigned char *g = gz_bytes(text, n, 6, &gn);
    struct lstmsrc_dataset *ref = NULL;
    struct lstmsrc_error err = {0};
    CHECK(g && lstmsrc_dataset_load(FIX "good.csv", NULL, &ref, &err) == LSTMSRC_OK);
    if (!g || !ref) {
        free(g);
        free(text);
        lstmsrc_dataset_free(ref);
        return;
    }
    static const unsigned char masks[3] = {0x01, 0x80, 0xff};
    char p[128];
    tmp_path(p, sizeof p, "flip.csv.gz");
    int bad = 0, failed = 0, gz_failed = 0;
    for (size_t i = 0; i < gn && !bad; i++)
        for (int m = 0; m < 3; m++) {
            g[i] ^= masks[m];
            CHECK(spit(p, g, gn));
            g[i] ^= masks[m];
            struct lstmsrc_dataset *ds = NULL;
            enum lstmsrc_status st = lstmsrc_dataset_load(p, NULL, &ds, &err);
            if (st == LSTMSRC_OK) {
                if (!same_dataset(ds, ref)) bad = 1;
            } else {
                failed++;
                gz_failed += strstr(err.msg, "gzip data") != NULL;
                if (strncmp(err.msg, p, strlen(p)) != 0 || strchr(err.msg, '\n')) bad = 1;
            }
            if (bad) fprintf(stderr, "  byte %zu ^ 0x%02x: %s\n", i, masks[m], err.msg);
            lstmsrc_dataset_free(ds);
        }
    CHECK(!bad);
    /* the deflate data and the CRC-32/length trailer are checked */
    CHECK(failed > (int)(3 * (gn - 10) * 9 / 10));
    CHECK(gz_failed > failed / 2);
    lstmsrc_dataset_free(ref);
    free(g);
    free(text);
}

/* Exact messages: garbage where deflate data belongs, bytes after the stream. */
static void test_corrupt_messages(void)
{
    char p[128], want[256];
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err = {0};
    /* a gzip header, then a deflate block of the reserved type 3 */
    unsigned char junk[24];
    memcpy(junk, tiny_gz, 10);
    memset(junk + 10, 0xff, sizeof junk - 10);
    tmp_path(p, sizeof p, "junk.csv.gz");
    CHECK(spit(p, junk, sizeof junk));
    CHECK(lstmsrc_dataset_load(p, NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    snprintf(want, sizeof want,
             "%s:1: corrupt gzip data near compressed byte 11: invalid block type", p);
    CHECK(strcmp(err.msg, want) == 0);

    /* trailing bytes after a whole stream: reported after the last line */
    unsigned char tail[sizeof tiny_gz + 4];
    memcpy(tail, tiny_gz, sizeof tiny_gz);
    memcpy(tail + sizeof tiny_gz, "junk", 4);
    tmp_path(p, sizeof p, "tail.csv.gz");
    CHECK(spit(p, tail, sizeof tail));
    CHECK(lstmsrc_dataset_load(p, NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    snprintf(want, sizeof want,
             "%s:3: corrupt gzip data: bytes that are not gzip after the end of the compressed "
             "stream (compressed byte 28)",
             p);
    CHECK(strcmp(err.msg, want) == 0);

    /* a wrong CRC-32: all the text is read, then the check fails */
    unsigned char crc[sizeof tiny_gz];
    memcpy(crc, tiny_gz, sizeof crc);
    crc[sizeof crc - 8] ^= 1;
    tmp_path(p, sizeof p, "crc.csv.gz");
    CHECK(spit(p, crc, sizeof crc));
    CHECK(lstmsrc_dataset_load(p, NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    snprintf(want, sizeof want,
             "%s:3: corrupt gzip data near compressed byte 24: incorrect data check", p);
    CHECK(strcmp(err.msg, want) == 0);
    CHECK(ds == NULL);
}

#endif /* LSTMSRC_HAVE_ZLIB */

#ifdef LSTMSRC_HAVE_ZLIB
#define RUN_ZLIB(fn) RUN(fn)
#else
static void skip_zlib(void)
{
    SKIP("built without zlib (ZLIB=0): gzip input is refused (test_tiny_gz)");
}
#define RUN_ZLIB(fn) test_run_(#fn, skip_zlib)
#endif

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lstmsrc_gzip_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_zlib_version);
    RUN(test_tiny_gz);
    RUN_ZLIB(test_fixtures_same_as_plain);
    RUN_ZLIB(test_good_every_source);
    RUN_ZLIB(test_big_and_line_limit);
    RUN_ZLIB(test_column_limit);
    RUN_ZLIB(test_concatenated);
    RUN_ZLIB(test_empty);
    RUN_ZLIB(test_truncated_every_length);
    RUN_ZLIB(test_corrupt_every_byte);
    RUN_ZLIB(test_corrupt_messages);
    clean_dir(tmpdir);
    rmdir(tmpdir);
    return test_report("test_gzip");
}
