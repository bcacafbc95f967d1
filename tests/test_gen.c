/*
 * test_gen.c — the synthetic data generator: same seed gives the same bytes, seeds differ, the
 * header and row count are right, readings are plausible, most rows have nothing on, the classes
 * mode is the multi-label mode's labels packed into one number (src1 the most significant bit),
 * bad arguments and unwritable paths fail cleanly, and the output loads as a data set.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/dataset.h"
#include "lstmsrc.h"
#include "test.h"

static char dir[64];

static const char *tmp_path(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* Whole file in a NUL-terminated buffer; NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

/* Generates into dir/name and returns the bytes (caller frees), NULL on failure. */
static char *gen(const char *name, size_t rows, int sources, uint64_t seed, int classes,
                 size_t *len)
{
    struct lstmsrc_gen_config cfg;
    lstmsrc_gen_config_default(&cfg);
    cfg.rows = rows;
    cfg.sources = sources;
    cfg.seed = seed;
    cfg.classes = classes;
    struct lstmsrc_error err;
    if (lstmsrc_gen_write(&cfg, tmp_path(name), &err) != LSTMSRC_OK) {
        fprintf(stderr, "  gen: %s\n", err.msg);
        return NULL;
    }
    return slurp(tmp_path(name), len);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_defaults(void)
{
    struct lstmsrc_gen_config cfg;
    memset(&cfg, 0xff, sizeof cfg);
    lstmsrc_gen_config_default(&cfg);
    CHECK(cfg.rows == 100000);
    CHECK(cfg.sources == 3);
    CHECK(cfg.seed == 1);
    CHECK(cfg.classes == 0);
}

static void test_deterministic(void)
{
    size_t la, lb, lc;
    char *a = gen("a.csv", 5000, 3, 42, 0, &la);
    char *b = gen("b.csv", 5000, 3, 42, 0, &lb);
    char *c = gen("c.csv", 5000, 3, 43, 0, &lc);
    CHECK(a && b && c);
    if (a && b && c) {
        CHECK(la == lb && memcmp(a, b, la) == 0);
        CHECK(la != lc || memcmp(a, c, la) != 0);
    }
    free(a);
    free(b);
    free(c);
}

/* Parses the multi-label file: readings (rows) and labels (rows, k); returns rows or 0. */
static size_t parse_ml(const char *s, int k, double *reading, uint8_t *y, size_t cap)
{
    const char *p = strchr(s, '\n');
    if (!p) return 0;
    p++;
    size_t r = 0;
    while (*p && r < cap) {
        char *end;
        reading[r] = strtod(p, &end);
        p = end;
        for (int j = 0; j < k; j++) {
            if (p[0] != ',' || (p[1] != '0' && p[1] != '1')) return 0;
            y[r * (size_t)k + (size_t)j] = (uint8_t)(p[1] - '0');
            p += 2;
        }
        if (*p != '\n') return 0;
        p++;
        r++;
    }
    return r;
}

static void test_shape_and_range(void)
{
    enum { ROWS = 100000, K = 3 };
    size_t len;
    char *s = gen("shape.csv", ROWS, K, 1, 0, &len);
    CHECK(s != NULL);
    if (!s) return;
    CHECK(strncmp(s, "reading,src1,src2,src3\n", 23) == 0);
    CHECK(count_lines(s) == ROWS + 1);
    CHECK(len > 0 && s[len - 1] == '\n');

    double *reading = malloc(ROWS * sizeof *reading);
    uint8_t *y = malloc((size_t)ROWS * K);
    size_t rows = reading && y ? parse_ml(s, K, reading, y, ROWS) : 0;
    CHECK(rows == ROWS);
    size_t all_off = 0, on[K] = {0}, off_out_of_band = 0;
    double lo = 1e30, hi = -1e30;
    for (size_t r = 0; r < rows; r++) {
        int any = 0;
        for (int j = 0; j < K; j++) {
            on[j] += y[r * K + (size_t)j];
            any |= y[r * K + (size_t)j];
        }
        all_off += !any;
        if (reading[r] < lo) lo = reading[r];
        if (reading[r] > hi) hi = reading[r];
        /* with nothing on, the reading is the base load: 205-231 plus a little noise */
        if (!any && (reading[r] < 198.0 || reading[r] > 238.0)) off_out_of_band++;
    }
    CHECK(off_out_of_band == 0);
    CHECK(lo >= 195.0);
    CHECK(hi < 2600.0);
    CHECK(all_off > rows / 2);         /* most rows have nothing on */
    CHECK(all_off < rows - rows / 20); /* but sources do switch on */
    for (int j = 0; j < K; j++)
        CHECK(on[j] > rows / 200);
    free(reading);
    free(y);
    free(s);
}

/* Same seed, classes mode: same reading column; class = labels with src1 the top bit. */
static void test_classes_match_labels(void)
{
    enum { ROWS = 20000, K = 3 };
    size_t la, lb;
    char *a = gen("ml.csv", ROWS, K, 9, 0, &la);
    char *b = gen("mc.csv", ROWS, K, 9, 1, &lb);
    CHECK(a && b);
    if (!a || !b) goto done;
    CHECK(strncmp(b, "reading,class\n", 14) == 0);
    CHECK(count_lines(b) == ROWS + 1);
    const char *p = strchr(a, '\n') + 1, *q = strchr(b, '\n') + 1;
    size_t bad = 0, rows = 0, seen[8] = {0};
    while (*p && *q) {
        const char *pc = strchr(p, ','), *qc = strchr(q, ',');
        if (!pc || !qc || pc - p != qc - q || memcmp(p, q, (size_t)(pc - p))) bad++;
        uint8_t bits[K];
        for (int j = 0; j < K; j++)
            bits[j] = (uint8_t)(pc[1 + 2 * j] - '0');
        long cls = strtol(qc + 1, NULL, 10);
        int expect = bits[0] * 4 + bits[1] * 2 + bits[2];
        if (cls != expect) bad++;
        if (cls >= 0 && cls < 8) seen[cls]++;
        p = strchr(p, '\n') + 1;
        q = strchr(q, '\n') + 1;
        rows++;
    }
    CHECK(bad == 0);
    CHECK(rows == ROWS);
    CHECK(seen[0] > rows / 2);
    CHECK(seen[4] > 0 && seen[2] > 0 && seen[1] > 0);
done:
    free(a);
    free(b);
}

static void test_bad_args(void)
{
    struct lstmsrc_gen_config cfg;
    struct lstmsrc_error err;
    lstmsrc_gen_config_default(&cfg);
    cfg.rows = 0;
    CHECK(lstmsrc_gen_write(&cfg, tmp_path("x.csv"), &err) == LSTMSRC_ERR_ARG);
    lstmsrc_gen_config_default(&cfg);
    cfg.sources = 0;
    CHECK(lstmsrc_gen_write(&cfg, tmp_path("x.csv"), &err) == LSTMSRC_ERR_ARG);
    cfg.sources = LSTMSRC_MAX_SOURCES + 1;
    CHECK(lstmsrc_gen_write(&cfg, tmp_path("x.csv"), &err) == LSTMSRC_ERR_ARG);
    cfg.sources = LSTMSRC_MAX_COMBINED + 1;
    cfg.classes = 1;
    CHECK(lstmsrc_gen_write(&cfg, tmp_path("x.csv"), &err) == LSTMSRC_ERR_ARG);
    CHECK(err.code == LSTMSRC_ERR_ARG && strstr(err.msg, "sources") != NULL);
    CHECK(access(tmp_path("x.csv"), F_OK) != 0);
    CHECK(lstmsrc_gen_write(&cfg, tmp_path("x.csv"), NULL) == LSTMSRC_ERR_ARG);

    /* the largest allowed counts work */
    size_t len;
    char *s = gen("max.csv", 50, LSTMSRC_MAX_SOURCES, 3, 0, &len);
    CHECK(s && count_lines(s) == 51);
    free(s);
    s = gen("maxc.csv", 50, LSTMSRC_MAX_COMBINED, 3, 1, &len);
    CHECK(s && count_lines(s) == 51);
    free(s);
    s = gen("one.csv", 1, 1, 3, 0, &len);
    CHECK(s && count_lines(s) == 2 && strncmp(s, "reading,src1\n", 13) == 0);
    free(s);
}

static void test_io_error(void)
{
    struct lstmsrc_gen_config cfg;
    struct lstmsrc_error err;
    lstmsrc_gen_config_default(&cfg);
    cfg.rows = 10;
    const char *p = tmp_path("no/such/dir/x.csv");
    CHECK(lstmsrc_gen_write(&cfg, p, &err) == LSTMSRC_ERR_IO);
    CHECK(err.code == LSTMSRC_ERR_IO && strstr(err.msg, "no/such/dir/x.csv") != NULL);
}

/* Overwrites an existing file in place and leaves no temporary behind. */
static void test_replace(void)
{
    const char *p = tmp_path("r.csv");
    FILE *fp = fopen(p, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("old\n", fp);
        fclose(fp);
    }
    size_t len;
    char *s = gen("r.csv", 10, 2, 5, 0, &len);
    CHECK(s && strncmp(s, "reading,src1,src2\n", 18) == 0 && count_lines(s) == 11);
    free(s);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    CHECK(access(tmp, F_OK) != 0);
}

/* The generated file is what the loader reads by default: reading = column 1, labels = rest;
 * and in classes mode, a class column. */
static void test_loads(void)
{
    size_t len;
    char *s = gen("load.csv", 3000, 4, 11, 0, &len);
    CHECK(s != NULL);
    free(s);
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_status st = lstmsrc_dataset_load(tmp_path("load.csv"), &cols, &ds, &err);
    CHECK(st == LSTMSRC_OK);
    if (st) fprintf(stderr, "  load: %s\n", err.msg);
    if (ds) {
        CHECK(lstmsrc_dataset_rows(ds) == 3000);
        CHECK(lstmsrc_dataset_inputs(ds) == 1);
        CHECK(lstmsrc_dataset_outputs(ds) == 4);
        CHECK(lstmsrc_dataset_has_labels(ds));
        CHECK(lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTILABEL);
        CHECK(!strcmp(lstmsrc_dataset_output_name(ds, 3), "src4"));
    }
    lstmsrc_dataset_free(ds);

    s = gen("loadc.csv", 3000, 3, 11, 1, &len);
    free(s);
    memset(&cols, 0, sizeof cols);
    cols.class_column = "class";
    cols.mode = LSTMSRC_LABELS_CLASS;
    ds = NULL;
    st = lstmsrc_dataset_load(tmp_path("loadc.csv"), &cols, &ds, &err);
    CHECK(st == LSTMSRC_OK);
    if (st) fprintf(stderr, "  load: %s\n", err.msg);
    if (ds) {
        CHECK(lstmsrc_dataset_rows(ds) == 3000);
        CHECK(lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTICLASS);
    }

    /* the loader's own combination of the 0/1 columns gives the class column, row by row */
    s = gen("loadm.csv", 3000, 3, 11, 0, &len);
    free(s);
    memset(&cols, 0, sizeof cols);
    cols.mode = LSTMSRC_LABELS_COMBINED;
    struct lstmsrc_dataset *dm = NULL;
    st = lstmsrc_dataset_load(tmp_path("loadm.csv"), &cols, &dm, &err);
    CHECK(st == LSTMSRC_OK);
    if (st) fprintf(stderr, "  load: %s\n", err.msg);
    if (ds && dm && ds->cls && dm->cls && ds->n == dm->n) {
        size_t bad = 0;
        for (size_t r = 0; r < ds->n; r++)
            bad += ds->cls[r] != dm->cls[r];
        CHECK(bad == 0);
        CHECK(dm->k == 8 && !strcmp(lstmsrc_dataset_output_name(dm, 3), "src2+src3"));
    } else {
        CHECK(!"both class arrays loaded");
    }
    lstmsrc_dataset_free(dm);
    lstmsrc_dataset_free(ds);
}

/* Removes every file in dir, then dir (names are the ones this test made). */
static void cleanup_dir(void)
{
    static const char *names[] = {"a.csv",  "b.csv",    "c.csv",     "shape.csv", "ml.csv",
                                  "mc.csv", "x.csv",    "max.csv",   "maxc.csv",  "one.csv",
                                  "r.csv",  "load.csv", "loadc.csv", "loadm.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        remove(tmp_path(names[i]));
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lstmsrc_test_gen.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_defaults);
    RUN(test_deterministic);
    RUN(test_shape_and_range);
    RUN(test_classes_match_labels);
    RUN(test_bad_args);
    RUN(test_io_error);
    RUN(test_replace);
    RUN(test_loads);
    cleanup_dir();
    return test_report("test_gen");
}
