/*
 * test_csv.c — the CSV tokenizer, the number parser and the data set loader.
 *
 * Covers separators, quotes, CRLF, BOM, blank lines, the line and column limits, reads that
 * straddle buffer refills (memory and FILE*), the fast number path against strtod on a million
 * random decimals, column selection and label modes, and the exact one-line message for each
 * malformed fixture in tests/fixtures/bad_*.csv. Run from the repository root.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "lstmsrc.h"
#include "test.h"

#define FIX "tests/fixtures/"

/* splitmix64: the test's own generator, so this file needs nothing beyond csv and dataset */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
static int below(uint64_t *s, int n)
{
    return (int)(mix(s) % (uint64_t)n);
}

/* ============================== tokenizer ============================== */

/* Opens `text` in memory, reads every record and joins them as "a|b|c/d|e/" (fields '|',
 * records '/'), with each record's line as "@L" when `lines` is set. Returns the status. */
static enum lstmsrc_status tokens(const char *text, size_t len, char *out, size_t cap, int lines,
                                  struct lstmsrc_error *err)
{
    struct csv_reader *r;
    enum lstmsrc_status st = csv_open_mem(text, len, "mem", &r, err);
    if (st) return st;
    size_t used = 0;
    out[0] = '\0';
    for (;;) {
        int nf;
        if ((st = csv_next(r, &nf, err)) || nf == 0) break;
        if (lines) used += (size_t)snprintf(out + used, cap - used, "@%ld:", csv_line(r));
        for (int i = 0; i < nf; i++) {
            size_t fl;
            const char *f = csv_field(r, i, &fl);
            CHECK(strlen(f) == fl);
            used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "|" : "", f);
        }
        used += (size_t)snprintf(out + used, cap - used, "/");
    }
    csv_close(r);
    return st;
}

static void expect_tokens(const char *text, const char *want)
{
    char got[1024];
    struct lstmsrc_error err = {0};
    enum lstmsrc_status st = tokens(text, strlen(text), got, sizeof got, 0, &err);
    CHECK(st == LSTMSRC_OK);
    if (st || strcmp(got, want) != 0) {
        char m[1400];
        snprintf(m, sizeof m, "tokens of \"%s\": got \"%s\" (%s), want \"%s\"", text, got,
                 st ? err.msg : "ok", want);
        test_fail_(__FILE__, __LINE__, m);
    }
}

static void expect_token_error(const char *text, size_t len, enum lstmsrc_status code,
                               const char *msg)
{
    char got[1024];
    struct lstmsrc_error err = {0};
    enum lstmsrc_status st = tokens(text, len, got, sizeof got, 0, &err);
    CHECK(st == code && err.code == code);
    if (strcmp(err.msg, msg) != 0) {
        char m[700];
        snprintf(m, sizeof m, "message \"%s\", want \"%s\"", err.msg, msg);
        test_fail_(__FILE__, __LINE__, m);
    }
}

static void test_separators(void)
{
    expect_tokens("a,b,c\n1,2,3\n", "a|b|c/1|2|3/");
    expect_tokens("a;b\n1,5;2\n", "a|b/1,5|2/");
    expect_tokens("a\tb\n1\t2\n", "a|b/1|2/");
    expect_tokens("a\t b\n1\t 2\n", "a| b/1| 2/"); /* tab mode keeps the blanks */
    expect_tokens("  a   b \n 1  2\t\n3\t4\n", "a|b/1|2/3|4/");
    expect_tokens("\"x,y\";z\n1;2\n", "x,y|z/1|2/");  /* comma inside quotes only */
    expect_tokens("reading\n1\n2\n", "reading/1/2/"); /* one column: blank runs */
    expect_tokens("a,b\n1,\n,2\n", "a|b/1|/|2/");     /* empty fields */
    expect_tokens("a,b", "a|b/");                     /* no final newline */
}

static void test_quotes_crlf_bom(void)
{
    expect_tokens("\"a\",\"b \"\"q\"\"\"\n\"1\",2\n", "a|b \"q\"/1|2/");
    expect_tokens("a,b\r\n1,2\r\n", "a|b/1|2/");
    expect_tokens("\"a\",\"b\"\r\n\"1\",\"2\"\r\n", "a|b/1|2/");
    expect_tokens("\xEF\xBB\xBF"
                  "a,b\n1,2\n",
                  "a|b/1|2/");
    expect_tokens("a b\n\"x y\" 2\n", "a|b/x y|2/");
    expect_tokens("a,b\n\"\",\"\"\"\"\n", "a|b/|\"/");
    expect_tokens("a,b\n\"1\"\r\n", "a|b/1/");
    /* a quote inside an unquoted field is literal */
    expect_tokens("a,b\n1\"2,3\n", "a|b/1\"2|3/");
    /* fast and general scanners meet: a quoted field late in a record, leading blanks */
    expect_tokens("a,b\n1,\"2\"\n3,4\n 5,6\n7,\"8\"", "a|b/1|2/3|4/ 5|6/7|8/");
    expect_tokens("a;b\r\n1;2\r\n\"x\";\"y\"\r\n3;4", "a|b/1|2/x|y/3|4/");

    /* a quoted field may span lines; the next record is numbered past them */
    char got[256];
    const char *t = "a,b\n\"x\ny\",1\n2,3\n";
    CHECK(tokens(t, strlen(t), got, sizeof got, 1, NULL) == LSTMSRC_OK);
    CHECK(strcmp(got, "@1:a|b/@2:x\ny|1/@4:2|3/") == 0);
}

/* Random records of 1..40 fields of 0..19 bytes (several separators in one 8-byte word, fields
 * across words, "\r\n" or "\n", quoted fields here and there), against the joined fields. */
static void test_tokens_random(void)
{
    static const char alpha[] = "ab19.-x\"";
    const size_t cap = 1 << 17;
    char *text = malloc(cap), *want = malloc(cap), *got = malloc(cap);
    CHECK(text && want && got);
    if (!text || !want || !got) goto done;
    uint64_t seed = 11;
    for (int round = 0; round < 40; round++) {
        size_t tl = 0, wl = 0;
        const int quotes = round % 2, crlf = round % 3 == 0;
        tl += (size_t)sprintf(text, "h1,h2\n");
        wl += (size_t)sprintf(want, "h1|h2/");
        while (tl < cap - 2000) {
            const int nf = 1 + below(&seed, 40);
            for (int i = 0; i < nf; i++) {
                const int len = below(&seed, 20), q = quotes && below(&seed, 8) == 0;
                if (i) text[tl++] = ',', want[wl++] = '|';
                if (q) text[tl++] = '"';
                for (int k = 0; k < len; k++) {
                    /* a quote only inside a quoted field (doubled) or past an unquoted
                     * field's first byte (literal) */
                    char c = alpha[below(&seed, (int)sizeof alpha - 1 - !quotes)];
                    if (c == '"' && !q && k == 0) c = 'a';
                    if (c == '"' && q) text[tl++] = '"';
                    text[tl++] = c;
                    want[wl++] = c;
                }
                if (!len && nf == 1 && !q) text[tl++] = 'z', want[wl++] = 'z'; /* no blank line */
                if (q) text[tl++] = '"';
            }
            if (crlf) text[tl++] = '\r';
            text[tl++] = '\n';
            want[wl++] = '/';
        }
        want[wl] = '\0';
        struct lstmsrc_error err = {0};
        CHECK(tokens(text, tl, got, cap, 0, &err) == LSTMSRC_OK);
        if (strcmp(got, want) != 0) {
            size_t k = 0;
            while (got[k] == want[k])
                k++;
            char m[200];
            snprintf(m, sizeof m, "round %d: tokens differ at byte %zu of the joined fields", round,
                     k);
            test_fail_(__FILE__, __LINE__, m);
        }
    }
done:
    free(text);
    free(want);
    free(got);
}

static void test_blank_lines(void)
{
    expect_tokens("a,b\n1,2\n\n\n", "a|b/1|2/");
    expect_tokens("a,b\r\n1,2\r\n\r\n  \r\n", "a|b/1|2/");
    expect_tokens("", "");
    expect_tokens("\n\n", "");
    expect_token_error("a,b\n1,2\n\n3,4\n", 14, LSTMSRC_ERR_PARSE,
                       "mem:3: blank line followed by more data (line 4)");
    expect_token_error("a,b\n\"1,2\n", 9, LSTMSRC_ERR_PARSE, "mem:2:1: unterminated quoted field");
    expect_token_error("a,b\n1,\"2\"x\n", 11, LSTMSRC_ERR_PARSE,
                       "mem:2:2: unexpected character after closing quote");
    expect_token_error("a b\n\"1\"x 2\n", 11, LSTMSRC_ERR_PARSE,
                       "mem:2:1: unexpected character after closing quote");
}

/* Header of `n` one-letter columns, then one row of zeros. */
static char *wide(int n)
{
    char *s = malloc((size_t)n * 4 + 4), *w = s;
    for (int i = 0; i < n; i++)
        w += sprintf(w, "%sc", i ? "," : "");
    *w++ = '\n';
    for (int i = 0; i < n; i++)
        w += sprintf(w, "%s0", i ? "," : "");
    *w++ = '\n';
    *w = '\0';
    return s;
}

static void test_field_limit(void)
{
    struct lstmsrc_error err = {0};
    char *ok = wide(LSTMSRC_MAX_COLUMNS), *bad = wide(LSTMSRC_MAX_COLUMNS + 1);
    struct csv_reader *r;
    int nf = 0;
    CHECK(csv_open_mem(ok, strlen(ok), "w", &r, &err) == LSTMSRC_OK);
    CHECK(csv_next(r, &nf, &err) == LSTMSRC_OK && nf == LSTMSRC_MAX_COLUMNS);
    CHECK(csv_next(r, &nf, &err) == LSTMSRC_OK && nf == LSTMSRC_MAX_COLUMNS);
    csv_close(r);
    CHECK(csv_open_mem(bad, strlen(bad), "w", &r, &err) == LSTMSRC_OK);
    CHECK(csv_next(r, &nf, &err) == LSTMSRC_ERR_LIMIT && err.code == LSTMSRC_ERR_LIMIT);
    CHECK(strcmp(err.msg, "w:1: more than 4096 fields") == 0);
    csv_close(r);
    free(ok);
    free(bad);
}

/* `rows` lines "i,i%2" then one line of `pad` bytes ("7" then blanks), then "1,1". */
static char *long_line_text(int rows, size_t pad, const char *eol, size_t *len)
{
    size_t cap = (size_t)rows * 24 + pad + 64;
    char *s = malloc(cap), *w = s;
    w += sprintf(w, "a,b%s", eol);
    for (int i = 0; i < rows; i++)
        w += sprintf(w, "%d,%d%s", i, i % 2, eol);
    *w++ = '7';
    memset(w, ' ', pad - 3);
    w += pad - 3;
    w += sprintf(w, ",0%s1,1%s", eol, eol);
    *len = (size_t)(w - s);
    return s;
}

/* Loads `text` from memory into *ds, and tokenizes it from a FILE* (tmpfile) too: the two
 * must agree on the status, the message and the number of records. */
static enum lstmsrc_status load_both(const char *text, size_t len, struct lstmsrc_dataset **ds,
                                     struct lstmsrc_error *err)
{
    struct lstmsrc_error e2 = {0};
    enum lstmsrc_status sa = lstmsrc_dataset_load_mem("big", text, len, NULL, ds, err);
    FILE *fp = tmpfile();
    CHECK(fp != NULL);
    if (!fp) return LSTMSRC_ERR_IO;
    CHECK(fwrite(text, 1, len, fp) == len);
    rewind(fp);
    struct csv_reader *r;
    enum lstmsrc_status sb = csv_open_stream(fp, "big", &r, &e2);
    CHECK(sb == LSTMSRC_OK);
    size_t records = 0;
    int nf;
    while ((sb = csv_next(r, &nf, &e2)) == LSTMSRC_OK && nf > 0)
        records++;
    csv_close(r);
    fclose(fp);
    CHECK(sa == sb);
    if (sa == LSTMSRC_OK)
        CHECK(records == (*ds)->n + 1);
    else
        CHECK(strcmp(err->msg, e2.msg) == 0);
    return sa;
}

static void test_long_lines_and_refill(void)
{
    /* 150k rows push the long line past the first 2 MiB buffer fill */
    const char *eols[2] = {"\n", "\r\n"};
    for (int e = 0; e < 2; e++) {
        size_t len;
        char *t = long_line_text(150000, LSTMSRC_MAX_LINE, eols[e], &len);
        struct lstmsrc_dataset *ds = NULL;
        struct lstmsrc_error err = {0};
        CHECK(load_both(t, len, &ds, &err) == LSTMSRC_OK);
        if (ds) {
            CHECK(ds->n == 150002);
            int ok = 1;
            for (size_t i = 0; i < 150000; i++)
                ok &= ds->x[i] == (float)i && ds->y[i] == (uint8_t)(i % 2);
            CHECK(ok);
            CHECK(ds->x[150000] == 7.0f && ds->y[150000] == 0);
            CHECK(ds->x[150001] == 1.0f && ds->y[150001] == 1);
        }
        lstmsrc_dataset_free(ds);
        free(t);

        t = long_line_text(150000, (size_t)LSTMSRC_MAX_LINE + 1, eols[e], &len);
        ds = NULL;
        CHECK(load_both(t, len, &ds, &err) == LSTMSRC_ERR_LIMIT && ds == NULL);
        CHECK(strcmp(err.msg, "big:150002: line longer than 1048576 bytes") == 0);
        free(t);
    }
    /* a record far longer than the buffer fails early, from a stream too */
    size_t big = (size_t)3 * LSTMSRC_MAX_LINE;
    char *t = malloc(big);
    memcpy(t, "a,b\n", 4);
    memset(t + 4, '1', big - 4);
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err = {0};
    CHECK(load_both(t, big, &ds, &err) == LSTMSRC_ERR_LIMIT);
    CHECK(strcmp(err.msg, "big:2: line longer than 1048576 bytes") == 0);
    free(t);
}

/* ============================== numbers ============================== */

static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* csv_parse_double must agree with strtod bit for bit, and csv_parse_float with (float)strtod,
 * on every string it accepts; it rejects exactly the non-finite results. */
static int agrees(const char *s)
{
    char *end;
    double ref = strtod(s, &end);
    double d = 0.0;
    float f = 0.0f;
    int okd = csv_parse_double(s, strlen(s), &d);
    int okf = csv_parse_float(s, strlen(s), &f);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0') return 0; /* generator made junk */
    float rf = (float)ref;
    if (okd != (isfinite(ref) != 0)) return 0;
    if (okd && !same_double(d, ref)) return 0;
    if (okf != (isfinite(rf) != 0)) return 0;
    if (okf && memcmp(&f, &rf, sizeof f) != 0) return 0;
    return 1;
}

static void test_parse_float_cases(void)
{
    static const char *good[] = {
        "0",
        "-0",
        "+0",
        "0.0",
        ".5",
        "5.",
        "-.5",
        "+1.5",
        " 42 ",
        "\t-3.25\t",
        "1e5",
        "1E+05",
        "1e-5",
        "123456789012345",
        "1234567890123456",
        "12345678901234567890123",
        "9007199254740993",
        "0.1",
        "0.3",
        "1e22",
        "1e23",
        "1e-22",
        "1e-23",
        "4.35",
        "2.675",
        "0.000000000000000000000000001",
        "4.9e-324",
        "2.2250738585072011e-308",
        "1e-400",
        "0e999999999999",
        "3.4028235e38",
        "3.40282346638528859811704183484516925440e+38",
        "1.17549435e-38",
        "1e-45",
        "000000000000000000001.5",
        "1.000000000000000000000000000001",
        "8.589973e9",
        "123.456e-2",
        "100000000000000000000000e-10",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        float f;
        CHECK(csv_parse_float(good[i], strlen(good[i]), &f));
        if (!agrees(good[i])) test_fail_(__FILE__, __LINE__, good[i]);
    }
    static const char *bad[] = {
        "",
        " ",
        "\t",
        "abc",
        "1a",
        "a1",
        "0x10",
        "0x1p3",
        "nan",
        "NaN",
        "-nan",
        "inf",
        "-inf",
        "Infinity",
        "1e",
        "1e+",
        "e5",
        ".",
        "-",
        "+",
        "1.2.3",
        "1,5",
        "1 2",
        "--1",
        "+-1",
        "1e5.5",
        "1e999",
        "-1e999",
        "1e39",
        "-1e39",
        "3.4028236e38",
        "1.7976931348623157e308",
        "1e308e",
        ". 5",
        "1_000",
        "\357\273\2771", /* BOM then 1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        float f = 123.0f;
        int ok = csv_parse_float(bad[i], strlen(bad[i]), &f);
        CHECK(!ok && f == 123.0f);
        if (ok) test_fail_(__FILE__, __LINE__, bad[i]);
    }
    /* s[len] need not be NUL: parses only the first len bytes */
    float f;
    CHECK(csv_parse_float("12345678901234567890", 3, &f) && f == 123.0f);
    CHECK(csv_parse_float("1.5e10junk", 6, &f) && f == 1.5e10f);
    /* embedded NUL is junk */
    CHECK(!csv_parse_float("1\0"
                           "2",
                           3, &f));
    double d;
    CHECK(csv_parse_double("1e39", 4, &d) && d == 1e39);
    CHECK(!csv_parse_double("1e309", 5, &d));
}

/* Random decimal strings, weighted towards the fast path (<= 15 digits, |exp| <= 22) and its
 * edges; every one must agree with strtod. */
static void test_parse_float_random(void)
{
    uint64_t s = 12345;
    char buf[96];
    long bad = 0;
    const int N = 1000000;
    for (int n = 0; n < N; n++) {
        char *w = buf;
        if (below(&s, 8) == 0) *w++ = ' ';
        int sg = below(&s, 4);
        if (sg == 1) *w++ = '-';
        if (sg == 2) *w++ = '+';
        int maxd = below(&s, 4) ? 17 : 25;
        int nint = below(&s, maxd), nfrac = below(&s, 3) ? below(&s, maxd) : -1;
        if (nint == 0 && nfrac <= 0) nint = 1;
        for (int i = 0; i < nint; i++)
            *w++ = (char)('0' + (i == 0 && below(&s, 3) ? 1 + below(&s, 9) : below(&s, 10)));
        if (nfrac >= 0) {
            *w++ = '.';
            for (int i = 0; i < nfrac; i++)
                *w++ = (char)('0' + below(&s, 10));
        }
        if (below(&s, 2)) {
            *w++ = below(&s, 2) ? 'e' : 'E';
            int es = below(&s, 3);
            if (es == 1) *w++ = '-';
            if (es == 2) *w++ = '+';
            int ev = below(&s, 4) ? below(&s, 30) : below(&s, 400);
            w += sprintf(w, "%d", ev);
        }
        if (below(&s, 8) == 0) *w++ = '\t';
        *w = '\0';
        if (!agrees(buf)) {
            if (bad++ < 5) test_fail_(__FILE__, __LINE__, buf);
        }
    }
    CHECK(bad == 0);
}

/* csv_field_float (word-at-a-time path for short plain decimals) against (float)strtod, on
 * random cells of 1..9 bytes read back through a reader, padding and neighbours included. */
static void test_field_float_random(void)
{
    static const char alpha[] = "0123456789012345678901234567890123456789..-+ e";
    uint64_t s = 777;
    const int N = 300000;
    size_t cap = (size_t)N * 12 + 8;
    char *text = malloc(cap), *w = text;
    w += sprintf(w, "x,y\n");
    for (int n = 0; n < N; n++) {
        int len = 1 + below(&s, 9);
        for (int i = 0; i < len; i++)
            *w++ = i < 2 || below(&s, 8) ? alpha[below(&s, 40)]
                                         : alpha[below(&s, (int)sizeof alpha - 1)];
        w += sprintf(w, ",%d\n", n % 2);
    }
    struct csv_reader *r;
    struct lstmsrc_error err = {0};
    CHECK(csv_open_mem(text, (size_t)(w - text), "f", &r, &err) == LSTMSRC_OK);
    int nf, rows = 0;
    long bad = 0, accepted = 0;
    CHECK(csv_next(r, &nf, &err) == LSTMSRC_OK && nf == 2);
    while (csv_next(r, &nf, &err) == LSTMSRC_OK && nf == 2) {
        float f = 0.0f;
        int ok = csv_field_float(r, 0, &f);
        size_t len;
        const char *cell = csv_field(r, 0, &len);
        float g = 0.0f;
        int ok2 = csv_parse_float(cell, len, &g);
        char *end;
        double ref = strtod(cell, &end);
        int ref_ok = end != cell;
        while (*end == ' ')
            end++;
        ref_ok = ref_ok && *end == '\0' && isfinite((float)ref);
        float rf = (float)ref;
        if (ok != ok2 || ok != ref_ok ||
            (ok && (memcmp(&f, &rf, 4) != 0 || memcmp(&f, &g, 4) != 0))) {
            if (bad++ < 5) test_fail_(__FILE__, __LINE__, cell);
        }
        accepted += ok;
        rows++;
    }
    csv_close(r);
    free(text);
    CHECK(rows == N && bad == 0 && accepted > N / 4);
}

/* ============================== data sets ============================== */

static void expect_load_error(const char *path, const struct lstmsrc_columns *cols,
                              enum lstmsrc_status code, const char *msg)
{
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *sentinel = (struct lstmsrc_dataset *)&err, *ds = sentinel;
    enum lstmsrc_status st = lstmsrc_dataset_load(path, cols, &ds, &err);
    CHECK(st == code && err.code == code);
    CHECK(ds == sentinel); /* *out untouched on failure */
    if (st != code || strcmp(err.msg, msg) != 0) {
        char m[700];
        snprintf(m, sizeof m, "%s: status %d \"%s\", want %d \"%s\"", path, (int)st, err.msg,
                 (int)code, msg);
        test_fail_(__FILE__, __LINE__, m);
    }
    if (st == LSTMSRC_OK && ds != sentinel) lstmsrc_dataset_free(ds);
}

static struct lstmsrc_dataset *load_ok(const char *path, const struct lstmsrc_columns *cols)
{
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *ds = NULL;
    if (lstmsrc_dataset_load(path, cols, &ds, &err) != LSTMSRC_OK) {
        char m[400];
        snprintf(m, sizeof m, "%s: %s", path, err.msg);
        test_fail_(__FILE__, __LINE__, m);
        return NULL;
    }
    return ds;
}

static const float GOOD_X[5] = {217, 308, 512.5f, 1100, 1407.25f};
static const uint8_t GOOD_Y[15] = {0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1};

static void test_load_default(void)
{
    struct lstmsrc_dataset *ds = load_ok(FIX "good.csv", NULL);
    if (!ds) return;
    CHECK(lstmsrc_dataset_rows(ds) == 5 && lstmsrc_dataset_inputs(ds) == 1);
    CHECK(lstmsrc_dataset_outputs(ds) == 3 && lstmsrc_dataset_has_labels(ds));
    CHECK(lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTILABEL && ds->cls == NULL);
    CHECK(strcmp(lstmsrc_dataset_input_name(ds, 0), "reading") == 0);
    CHECK(strcmp(lstmsrc_dataset_output_name(ds, 2), "src3") == 0);
    CHECK(lstmsrc_dataset_output_name(ds, 3) == NULL && lstmsrc_dataset_input_name(ds, 1) == NULL);
    CHECK(memcmp(lstmsrc_dataset_inputs_data(ds), GOOD_X, sizeof GOOD_X) == 0);
    CHECK(memcmp(ds->y, GOOD_Y, sizeof GOOD_Y) == 0);
    CHECK(strcmp(ds->source, FIX "good.csv") == 0);
    lstmsrc_dataset_free(ds);
    lstmsrc_dataset_free(NULL);
}

/* Space-, tab-separated and CRLF+BOM+quoted-header versions load exactly like good.csv. */
static void test_load_variants(void)
{
    static const char *paths[] = {FIX "good_space.csv", FIX "good_tab.csv",
                                  FIX "good_crlf_bom.csv"};
    for (int i = 0; i < 3; i++) {
        struct lstmsrc_dataset *ds = load_ok(paths[i], NULL);
        if (!ds) continue;
        CHECK(ds->n == 5 && ds->f == 1 && ds->k == 3);
        CHECK(strcmp(ds->input_names[0], "reading") == 0);
        CHECK(strcmp(ds->output_names[0], "src1") == 0 && strcmp(ds->output_names[2], "src3") == 0);
        CHECK(memcmp(ds->x, GOOD_X, sizeof GOOD_X) == 0);
        CHECK(memcmp(ds->y, GOOD_Y, sizeof GOOD_Y) == 0);
        lstmsrc_dataset_free(ds);
    }
}

static void test_load_selection(void)
{
    struct lstmsrc_columns c = {0};
    c.input = "1";
    c.labels = "2,4";
    struct lstmsrc_dataset *ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        CHECK(ds->k == 2 && strcmp(ds->output_names[0], "src1") == 0 &&
              strcmp(ds->output_names[1], "src3") == 0);
        CHECK(ds->y[2 * 2 + 1] == 1 && ds->y[2 * 3 + 0] == 1 && ds->y[2 * 3 + 1] == 0);
        lstmsrc_dataset_free(ds);
    }
    c.input = " reading ";
    c.labels = "src3 , src1"; /* order as given */
    ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        CHECK(ds->k == 2 && strcmp(ds->label_names[0], "src3") == 0);
        CHECK(ds->y[2 * 1 + 0] == 1 && ds->y[2 * 1 + 1] == 0);
        lstmsrc_dataset_free(ds);
    }
    /* several inputs; labels default to the rest */
    c.input = "reading,src1";
    c.labels = NULL;
    ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        CHECK(ds->f == 2 && ds->k == 2 && ds->x[2 * 4] == 1407.25f && ds->x[2 * 4 + 1] == 1.0f);
        CHECK(strcmp(ds->output_names[0], "src2") == 0);
        lstmsrc_dataset_free(ds);
    }
    /* exact names win over the lists */
    const char *in[1] = {"Accumulated Reading"}, *lab[2] = {"Dishwasher", "Kettle"};
    struct lstmsrc_columns e = {0};
    e.input = "nonsense";
    e.input_names = in;
    e.n_input_names = 1;
    e.label_names = lab;
    e.n_label_names = 2;
    ds = load_ok(FIX "good_names.csv", &e);
    if (ds) {
        CHECK(ds->n == 3 && strcmp(ds->input_names[0], "Accumulated Reading") == 0);
        CHECK(strcmp(ds->output_names[1], "Kettle") == 0 && ds->x[1] == 2500.5f);
        CHECK(ds->y[0] == 0 && ds->y[1] == 1 && ds->y[2] == 1 && ds->y[3] == 1);
        lstmsrc_dataset_free(ds);
    }
    struct lstmsrc_columns n = {0};
    n.input = "Accumulated Reading";
    n.labels = "Kettle";
    ds = load_ok(FIX "good_names.csv", &n);
    if (ds) {
        CHECK(ds->k == 1 && ds->y[0] == 1 && ds->y[2] == 0);
        lstmsrc_dataset_free(ds);
    }

    /* a header name made of digits is a name first, an index second */
    static const char digits[] = "x,1,2\n5,0,1\n6,1,1\n";
    struct lstmsrc_columns d = {0};
    d.labels = "1";
    struct lstmsrc_error err = {0};
    ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("d", digits, strlen(digits), &d, &ds, &err) == LSTMSRC_OK);
    if (ds) {
        CHECK(ds->k == 1 && strcmp(ds->output_names[0], "1") == 0 && ds->y[1] == 1);
        lstmsrc_dataset_free(ds);
    }
}

static void test_load_selection_errors(void)
{
    struct lstmsrc_columns c = {0};
    c.labels = "src9";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no column \"src9\" (columns: reading, src1, src2, src3)");
    c.labels = "9";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no column \"9\" (columns: reading, src1, src2, src3)");
    c.labels = "src1,src1";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: column \"src1\" selected twice");
    c.labels = "src1,,src2";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: empty name in column list \"src1,,src2\"");
    c.labels = "reading,src1";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: column \"reading\" is selected both as input and as label");
    c.labels = NULL;
    c.input = "0";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no column \"0\" (columns: reading, src1, src2, src3)");
    c.input = "reading,src1,src2,src3";
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no label columns (columns: reading, src1, src2, src3)");
    c.input = NULL;
    c.mode = LSTMSRC_LABELS_CLASS;
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: class labels need exactly one column, 3 selected");
    expect_load_error(FIX "nope.csv", NULL, LSTMSRC_ERR_IO,
                      FIX "nope.csv: cannot open: No such file or directory");

    /* a long header is listed shortened, ", ..." at the end */
    static const char wide_hdr[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaa2,"
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa3,aaaaaaaaaaaaaaaaaaaaaaaaaaaaa4,"
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa5,aaaaaaaaaaaaaaaaaaaaaaaaaaaaa6\n"
                                   "1,0,0,0,0,0\n";
    struct lstmsrc_columns w = {0};
    w.labels = "zz";
    struct lstmsrc_dataset *wds = NULL;
    struct lstmsrc_error werr = {0};
    CHECK(lstmsrc_dataset_load_mem("w", wide_hdr, strlen(wide_hdr), &w, &wds, &werr) ==
          LSTMSRC_ERR_ARG);
    CHECK(strcmp(werr.msg,
                 "w:1: no column \"zz\" (columns: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa1, "
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa2, aaaaaaaaaaaaaaaaaaaaaaaaaaaaa3, ...)") == 0);

    /* duplicate header names among the selected columns */
    static const char dup[] = "r,a,a\n1,0,1\n";
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("dup", dup, strlen(dup), NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "dup:1: duplicate column name \"a\" (columns 2 and 3)") == 0);
    static const char emptyname[] = "r,,a\n1,0,1\n";
    CHECK(lstmsrc_dataset_load_mem("e", emptyname, strlen(emptyname), NULL, &ds, &err) ==
          LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "e:1:2: empty column name") == 0 && ds == NULL);

    /* a quoted name may hold a newline, a tab or any byte: the message stays one line */
    static const char ctl[] = "r,\"a\nb\",\"a\nb\",\"c\td\x01\"\n1,0,1,0\n";
    CHECK(lstmsrc_dataset_load_mem("ctl", ctl, strlen(ctl), NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "ctl:1: duplicate column name \"a b\" (columns 2 and 3)") == 0);
    c.labels = "zz";
    c.input = NULL;
    c.mode = LSTMSRC_LABELS_SOURCES;
    static const char ctl2[] = "r,\"c\td\x01\x7f\"\n1,0\n";
    CHECK(lstmsrc_dataset_load_mem("ctl2", ctl2, strlen(ctl2), &c, &ds, &err) == LSTMSRC_ERR_ARG);
    CHECK(strcmp(err.msg, "ctl2:1: no column \"zz\" (columns: r, c\\td\\x01\\x7f)") == 0);
}

static void test_load_combined_and_class(void)
{
    struct lstmsrc_columns c = {0};
    c.mode = LSTMSRC_LABELS_COMBINED;
    struct lstmsrc_dataset *ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        static const char *names[8] = {"none", "src3",      "src2",      "src2+src3",
                                       "src1", "src1+src3", "src1+src2", "src1+src2+src3"};
        static const int32_t cls[5] = {0, 1, 3, 4, 7};
        CHECK(ds->k == 8 && ds->n_labels == 3 && ds->task == LSTMSRC_TASK_MULTICLASS);
        CHECK(ds->y == NULL && memcmp(ds->cls, cls, sizeof cls) == 0);
        for (int k = 0; k < 8; k++)
            CHECK(strcmp(ds->output_names[k], names[k]) == 0);
        lstmsrc_dataset_free(ds);
    }
    uint8_t bits[3] = {0, 1, 1};
    CHECK(dataset_combined_class(bits, 3) == 3);
    char *labs[3] = {"a", "b", "c"};
    char *nm = dataset_combined_name(labs, 3, 5);
    CHECK(nm && strcmp(nm, "a+c") == 0);
    free(nm);

    struct lstmsrc_columns k = {0};
    k.class_column = "class";
    ds = load_ok(FIX "good_class.csv", &k);
    if (ds) {
        static const int32_t cls[4] = {0, 1, 3, 2};
        CHECK(ds->k == 4 && ds->mode == LSTMSRC_LABELS_CLASS &&
              ds->task == LSTMSRC_TASK_MULTICLASS);
        CHECK(memcmp(ds->cls, cls, sizeof cls) == 0);
        CHECK(strcmp(ds->output_names[3], "3") == 0 && strcmp(ds->label_names[0], "class") == 0);
        lstmsrc_dataset_free(ds);
    }
    /* mode CLASS with the default "every other column" */
    struct lstmsrc_columns m = {0};
    m.mode = LSTMSRC_LABELS_CLASS;
    ds = load_ok(FIX "good_class.csv", &m);
    if (ds) {
        CHECK(ds->k == 4);
        lstmsrc_dataset_free(ds);
    }
    /* class_column by index; a class at the limit */
    static const char big[] = "r,c\n1,255\n2,3.0\n";
    static const char over[] = "r,c\n1,256\n";
    struct lstmsrc_error err = {0};
    k.class_column = "2";
    ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("m", big, strlen(big), &k, &ds, &err) == LSTMSRC_OK);
    if (ds) {
        CHECK(ds->k == 256 && ds->cls[0] == 255 && ds->cls[1] == 3);
        lstmsrc_dataset_free(ds);
    }
    ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("m", over, strlen(over), &k, &ds, &err) == LSTMSRC_ERR_LIMIT);
    CHECK(strcmp(err.msg, "m:2:2: expected a class below 256, found \"256\"") == 0);
    /* more than 8 columns to combine */
    static const char nine[] = "r,a,b,c,d,e,f,g,h,i\n1,0,0,0,0,0,0,0,0,0\n";
    CHECK(lstmsrc_dataset_load_mem("m", nine, strlen(nine), &c, &ds, &err) == LSTMSRC_ERR_LIMIT);
    CHECK(strcmp(err.msg, "m: 9 label columns to combine, the limit is 8") == 0);
}

static void test_load_labels_optional(void)
{
    const char *in[1] = {"reading"}, *lab[2] = {"Kettle", "Dishwasher"};
    struct lstmsrc_columns c = {0};
    c.input_names = in;
    c.n_input_names = 1;
    c.label_names = lab;
    c.n_label_names = 2;
    c.labels_optional = 1;
    struct lstmsrc_dataset *ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        CHECK(!ds->has_labels && ds->k == 0 && ds->n == 5 && ds->y == NULL && ds->cls == NULL);
        CHECK(memcmp(ds->x, GOOD_X, sizeof GOOD_X) == 0);
        CHECK(lstmsrc_dataset_output_name(ds, 0) == NULL);
        lstmsrc_dataset_free(ds);
    }
    /* a CLASS model's file without the class column */
    struct lstmsrc_columns k = {0};
    k.input = "reading";
    k.class_column = "class";
    k.labels_optional = 1;
    ds = load_ok(FIX "good.csv", &k);
    if (ds) {
        CHECK(!ds->has_labels && ds->k == 0 && ds->task == LSTMSRC_TASK_MULTICLASS);
        lstmsrc_dataset_free(ds);
    }
    /* present labels are read and checked */
    lab[0] = "src1";
    c.n_label_names = 1;
    ds = load_ok(FIX "good.csv", &c);
    if (ds) {
        CHECK(ds->has_labels && ds->k == 1 && ds->y[4] == 1);
        lstmsrc_dataset_free(ds);
    }
    expect_load_error(FIX "bad_label.csv", &c, LSTMSRC_ERR_PARSE,
                      FIX "bad_label.csv:3:2: expected 0 or 1, found \"2\"; if the column holds "
                          "power, give --on-above W to make it ON above W (or --on-above auto)");
    /* partly present is a mistake */
    lab[1] = "zzz";
    c.n_label_names = 2;
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no column \"zzz\" (columns: reading, src1, src2, src3)");
    /* inputs are never optional */
    in[0] = "power";
    c.n_label_names = 1;
    expect_load_error(FIX "good.csv", &c, LSTMSRC_ERR_ARG,
                      FIX "good.csv:1: no column \"power\" (columns: reading, src1, src2, src3)");
    /* a one-column file with default selection */
    static const char one[] = "reading\n1\n2\n";
    struct lstmsrc_columns o = {0};
    o.labels_optional = 1;
    struct lstmsrc_error err = {0};
    ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("o", one, strlen(one), &o, &ds, &err) == LSTMSRC_OK);
    if (ds) {
        CHECK(ds->n == 2 && ds->f == 1 && !ds->has_labels);
        lstmsrc_dataset_free(ds);
    }
}

static void test_load_bad_fixtures(void)
{
    struct lstmsrc_columns cls = {0};
    cls.class_column = "class";
    expect_load_error(FIX "bad_number.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_number.csv:3:1: expected a number, found \"12x\"");
    /* "nan" is missing by default; with another --missing list it is a bad number again */
    struct lstmsrc_columns dash = {0};
    dash.missing = "-";
    expect_load_error(FIX "missing_nan.csv", &dash, LSTMSRC_ERR_PARSE,
                      FIX "missing_nan.csv:3:1: expected a finite number, found \"nan\"");
    expect_load_error(FIX "bad_inf.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_inf.csv:3:1: expected a finite number, found \"-inf\"");
    expect_load_error(FIX "bad_huge.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_huge.csv:3:1: expected a finite number, found \"1e39\"");
    expect_load_error(FIX "bad_ragged.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_ragged.csv:3: expected 3 fields, found 2");
    expect_load_error(FIX "bad_label.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_label.csv:3:2: expected 0 or 1, found \"2\"; if the column holds "
                          "power, give --on-above W to make it ON above W (or --on-above auto)");
    expect_load_error(FIX "bad_class.csv", &cls, LSTMSRC_ERR_PARSE,
                      FIX
                      "bad_class.csv:3:2: expected a non-negative integer class, found \"1.5\"");
    expect_load_error(FIX "bad_empty.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_empty.csv: empty file, expected a header line");
    expect_load_error(FIX "bad_header_only.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_header_only.csv: no data rows");
    expect_load_error(FIX "bad_blank_middle.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_blank_middle.csv:3: blank line followed by more data (line 4)");
    expect_load_error(FIX "bad_quote.csv", NULL, LSTMSRC_ERR_PARSE,
                      FIX "bad_quote.csv:3:1: unterminated quoted field");
}

static void test_load_cells(void)
{
    /* labels written as floats are fine; junk in unselected columns is not looked at */
    static const char t[] = "r,a,note\n 1.5 ,1.0,hello\n2,0.0,\n";
    struct lstmsrc_columns c = {0};
    c.labels = "a";
    struct lstmsrc_error err = {0};
    struct lstmsrc_dataset *ds = NULL;
    CHECK(lstmsrc_dataset_load_mem("t", t, strlen(t), &c, &ds, &err) == LSTMSRC_OK);
    if (ds) {
        CHECK(ds->n == 2 && ds->x[0] == 1.5f && ds->y[0] == 1 && ds->y[1] == 0);
        lstmsrc_dataset_free(ds);
    }
    static const char empty_cell[] = "r,a\n1,0\n,1\n";
    struct lstmsrc_columns na = {0};
    na.missing = "NA";
    CHECK(lstmsrc_dataset_load_mem("t", empty_cell, strlen(empty_cell), &na, &ds, &err) ==
          LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "t:3:1: expected a number, found \"\"") == 0);
    static const char hex[] = "r,a\n0x10,0\n";
    CHECK(lstmsrc_dataset_load_mem("t", hex, strlen(hex), NULL, &ds, &err) == LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg, "t:2:1: expected a number, found \"0x10\"") == 0);
    static const char longcell[] =
        "r,a\n1,0123456789012345678901234567890123456789012345678901234567890123456789\n";
    CHECK(lstmsrc_dataset_load_mem("t", longcell, strlen(longcell), NULL, &ds, &err) ==
          LSTMSRC_ERR_PARSE);
    CHECK(strcmp(err.msg,
                 "t:2:2: expected 0 or 1, found \"0123456789012345678901234567890123456...\"; if "
                 "the column holds power, give --on-above W to make it ON above W (or "
                 "--on-above auto)") == 0);
    /* overlong line in the middle of a data set */
    size_t n = (size_t)LSTMSRC_MAX_LINE + 100;
    char *big = malloc(n);
    memcpy(big, "r\n1\n", 4);
    memset(big + 4, '2', n - 4);
    struct lstmsrc_columns o = {0};
    o.labels_optional = 1;
    CHECK(lstmsrc_dataset_load_mem("t", big, n, &o, &ds, &err) == LSTMSRC_ERR_LIMIT);
    CHECK(strcmp(err.msg, "t:3: line longer than 1048576 bytes") == 0);
    free(big);
}

/* Random short inputs from a CSV-ish alphabet: any status is fine, crashes and leaks are not
 * (run under ASan), and on success the shape must be consistent. */
static void test_load_random_inputs(void)
{
    static const char alpha[] = "01.,;\t \n\r\"e-+xna2";
    uint64_t s = 99;
    char buf[64];
    int ok = 0;
    for (int it = 0; it < 50000; it++) {
        int len = below(&s, 40);
        if (it % 3 == 0) {
            memcpy(buf, "a,b\n", 4);
            for (int i = 4; i < len + 4; i++)
                buf[i] = alpha[below(&s, (int)sizeof alpha - 1)];
            len += 4;
        } else {
            for (int i = 0; i < len; i++)
                buf[i] = alpha[below(&s, (int)sizeof alpha - 1)];
        }
        struct lstmsrc_columns c = {0};
        c.mode = (enum lstmsrc_label_mode)below(&s, 3);
        c.labels_optional = below(&s, 2);
        struct lstmsrc_error err = {0};
        struct lstmsrc_dataset *ds = NULL;
        enum lstmsrc_status st = lstmsrc_dataset_load_mem("r", buf, (size_t)len, &c, &ds, &err);
        if (st == LSTMSRC_OK) {
            ok++;
            CHECK(ds && ds->n > 0 && ds->f == 1);
            lstmsrc_dataset_free(ds);
        } else if (ds != NULL || err.code != st || strchr(err.msg, '\n') != NULL) {
            char m[300];
            snprintf(m, sizeof m, "input %d: %s", it, err.msg);
            test_fail_(__FILE__, __LINE__, m);
        }
    }
    CHECK(ok > 0);
}

int main(void)
{
    RUN(test_separators);
    RUN(test_quotes_crlf_bom);
    RUN(test_tokens_random);
    RUN(test_blank_lines);
    RUN(test_field_limit);
    RUN(test_long_lines_and_refill);
    RUN(test_parse_float_cases);
    RUN(test_parse_float_random);
    RUN(test_field_float_random);
    RUN(test_load_default);
    RUN(test_load_variants);
    RUN(test_load_selection);
    RUN(test_load_selection_errors);
    RUN(test_load_combined_and_class);
    RUN(test_load_labels_optional);
    RUN(test_load_bad_fixtures);
    RUN(test_load_cells);
    RUN(test_load_random_inputs);
    return test_report("test_csv");
}
