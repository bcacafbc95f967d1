/*
 * test_arrays.c — lstmsrc_dataset_from_arrays: a data set built from arrays trains the same
 * model, byte for byte, as the same numbers read from a CSV (written here with integers, so
 * the text and the floats are the same numbers): multi-label, multi-class, and with missing
 * rows (NaN readings, marks) against a file's NA cells; the segments agree; every bad argument
 * and cell fails with its status and a located message, leaving *out untouched; out of memory
 * (each allocation failed in turn, through -Wl,--wrap in the Makefile) is LSTMSRC_ERR_NOMEM.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lstmsrc.h"
#include "test.h"
#include "testio.h"

/* ---- failing the n-th allocation (malloc, calloc, realloc) while armed ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t c, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t c, size_t n);
void *__wrap_realloc(void *p, size_t n);
static long calls_, fail_at_;
static int fail_now(void)
{
    return fail_at_ && ++calls_ == fail_at_;
}
void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t c, size_t n)
{
    return fail_now() ? NULL : __real_calloc(c, n);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

#define ROWS 700
#define K 2
static char dir_[64];

/* Deterministic integer readings: a base with noise, plus each source's level when on. */
static void make_data(float *x, uint8_t *y, int32_t *cls)
{
    uint32_t s = 12345;
    int on[K] = {0, 0};
    for (int r = 0; r < ROWS; r++) {
        int v = 100;
        s = s * 1103515245u + 12345u;
        v += (int)((s >> 16) % 21);
        for (int j = 0; j < K; j++) {
            s = s * 1103515245u + 12345u;
            if ((s >> 16) % 17 == 0) on[j] = !on[j];
            if (on[j]) v += j ? 1200 : 500;
            y[r * K + j] = (uint8_t)on[j];
        }
        x[r] = (float)v;
        cls[r] = on[0] * 2 + on[1];
    }
}

static void path_of(char *p, size_t cap, const char *name)
{
    snprintf(p, cap, "%s/%s", dir_, name);
}

/* Trains on ds with a small fixed config and returns the saved model file's bytes. */
static unsigned char *train_bytes(const struct lstmsrc_dataset *ds, const char *name, size_t *len)
{
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.seq_len = 6;
    cfg.hidden = 8;
    cfg.epochs = 2;
    cfg.batch = 64;
    cfg.threads = 1;
    cfg.seed = 3;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    char p[128];
    path_of(p, sizeof p, name);
    if (lstmsrc_train(ds, &cfg, &m, &err)) {
        fprintf(stderr, "train: %s\n", err.msg);
        return NULL;
    }
    enum lstmsrc_status st = lstmsrc_model_save(m, p, &err);
    lstmsrc_model_free(m);
    if (st) return NULL;
    return slurp(p, len);
}

static int same_bytes(const struct lstmsrc_dataset *a, const struct lstmsrc_dataset *b)
{
    size_t la = 0, lb = 0;
    unsigned char *ba = train_bytes(a, "a.lsm", &la), *bb = train_bytes(b, "b.lsm", &lb);
    int same = ba && bb && la == lb && la > 0 && memcmp(ba, bb, la) == 0;
    free(ba);
    free(bb);
    return same;
}

static int same_segments(const struct lstmsrc_dataset *a, const struct lstmsrc_dataset *b)
{
    if (lstmsrc_dataset_segments(a) != lstmsrc_dataset_segments(b)) return 0;
    for (size_t i = 0; i < lstmsrc_dataset_segments(a); i++) {
        size_t fa, ra, fb, rb;
        lstmsrc_dataset_segment(a, i, &fa, &ra);
        lstmsrc_dataset_segment(b, i, &fb, &rb);
        if (fa != fb || ra != rb) return 0;
    }
    return 1;
}

/* Writes the CSV: reading and the labels (multi-label) or one class column; rows in `na` get
 * "NA" for their reading. */
static int write_csv(const char *name, const float *x, const uint8_t *y, const int32_t *cls,
                     const int *na, int n_na)
{
    char p[128];
    path_of(p, sizeof p, name);
    FILE *fp = fopen(p, "w");
    if (!fp) return 0;
    fputs(cls ? "reading,class\n" : "reading,src1,src2\n", fp);
    for (int r = 0; r < ROWS; r++) {
        int missing = 0;
        for (int i = 0; i < n_na; i++)
            missing |= na[i] == r;
        if (missing)
            fputs("NA", fp);
        else
            fprintf(fp, "%d", (int)x[r]);
        if (cls)
            fprintf(fp, ",%d\n", (int)cls[r]);
        else
            fprintf(fp, ",%d,%d\n", y[r * K], y[r * K + 1]);
    }
    return fclose(fp) == 0;
}

static struct lstmsrc_dataset *load_csv(const char *name)
{
    char p[128];
    path_of(p, sizeof p, name);
    struct lstmsrc_columns cols = {0};
    if (strstr(name, "class")) cols.class_column = "class";
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_dataset_load(p, &cols, &ds, &err)) fprintf(stderr, "load: %s\n", err.msg);
    return ds;
}

static float x_[ROWS];
static uint8_t y_[ROWS * K];
static int32_t cls_[ROWS];

static void test_multilabel_same_model(void)
{
    CHECK(write_csv("ml.csv", x_, y_, NULL, NULL, 0));
    struct lstmsrc_dataset *f = load_csv("ml.csv"), *a = NULL;
    struct lstmsrc_error err;
    const char *in[] = {"reading"}, *lab[] = {"src1", "src2"};
    CHECK(lstmsrc_dataset_from_arrays("ml", x_, ROWS, 1, in, y_, NULL, K, lab, NULL, 0, &a, &err) ==
          LSTMSRC_OK);
    CHECK(f && a);
    if (!f || !a) goto out;
    CHECK(lstmsrc_dataset_rows(a) == ROWS);
    CHECK(lstmsrc_dataset_outputs(a) == K);
    CHECK(lstmsrc_dataset_has_labels(a));
    CHECK(strcmp(lstmsrc_dataset_output_name(a, 1), "src2") == 0);
    CHECK(memcmp(lstmsrc_dataset_labels_data(a), lstmsrc_dataset_labels_data(f), ROWS * K) == 0);
    CHECK(same_segments(a, f));
    CHECK(same_bytes(a, f));
out:
    lstmsrc_dataset_free(f);
    lstmsrc_dataset_free(a);
}

/* The default names are gen's: reading, src1, src2 (and class). */
static void test_default_names(void)
{
    struct lstmsrc_dataset *f = load_csv("ml.csv"), *a = NULL, *c = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, y_, NULL, K, NULL, NULL, 0, &a,
                                      &err) == LSTMSRC_OK);
    CHECK(a && strcmp(lstmsrc_dataset_input_name(a, 0), "reading") == 0);
    CHECK(a && strcmp(lstmsrc_dataset_source(a), "arrays") == 0);
    if (a && f) CHECK(same_bytes(a, f));
    CHECK(lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, NULL, cls_, 0, NULL, NULL, 0, &c,
                                      &err) == LSTMSRC_OK);
    CHECK(c && lstmsrc_dataset_outputs(c) == 4);
    CHECK(c && strcmp(lstmsrc_dataset_output_name(c, 3), "3") == 0);
    lstmsrc_dataset_free(f);
    lstmsrc_dataset_free(a);
    lstmsrc_dataset_free(c);
}

static void test_multiclass_same_model(void)
{
    CHECK(write_csv("class.csv", x_, NULL, cls_, NULL, 0));
    struct lstmsrc_dataset *f = load_csv("class.csv"), *a = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_from_arrays("mc", x_, ROWS, 1, NULL, NULL, cls_, 0, NULL, NULL, 0, &a,
                                      &err) == LSTMSRC_OK);
    CHECK(f && a);
    if (!f || !a) goto out;
    CHECK(lstmsrc_dataset_task(a) == LSTMSRC_TASK_MULTICLASS);
    CHECK(lstmsrc_dataset_outputs(a) == lstmsrc_dataset_outputs(f));
    CHECK(memcmp(lstmsrc_dataset_classes_data(a), lstmsrc_dataset_classes_data(f),
                 ROWS * sizeof(int32_t)) == 0);
    CHECK(same_bytes(a, f));
out:
    lstmsrc_dataset_free(f);
    lstmsrc_dataset_free(a);
}

/* NaN readings (LSTMSRC_ARRAYS_NAN_MISSING) and LSTMSRC_ROW_MISSING marks are a file's NA. */
static void test_missing_rows_same_model(void)
{
    static const int na[] = {0, 150, 151, 152, 400, 699};
    const int n_na = (int)(sizeof na / sizeof na[0]);
    CHECK(write_csv("na.csv", x_, y_, NULL, na, n_na));
    struct lstmsrc_dataset *f = load_csv("na.csv"), *a = NULL, *b = NULL;
    struct lstmsrc_error err;
    static float xn[ROWS];
    static uint8_t marks[ROWS];
    memcpy(xn, x_, sizeof xn);
    for (int i = 0; i < n_na; i++) {
        xn[na[i]] = NAN;
        marks[na[i]] = LSTMSRC_ROW_MISSING;
    }
    CHECK(lstmsrc_dataset_from_arrays(NULL, xn, ROWS, 1, NULL, y_, NULL, K, NULL, NULL,
                                      LSTMSRC_ARRAYS_NAN_MISSING, &a, &err) == LSTMSRC_OK);
    CHECK(lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, y_, NULL, K, NULL, marks, 0, &b,
                                      &err) == LSTMSRC_OK);
    CHECK(f && a && b);
    if (!f || !a || !b) goto out;
    CHECK(lstmsrc_dataset_segments(f) == 3);
    CHECK(same_segments(a, f));
    CHECK(same_segments(b, f));
    size_t cells, rows, inv;
    lstmsrc_dataset_missing(a, &cells, &rows, &inv);
    CHECK(rows == (size_t)n_na && cells == (size_t)n_na && inv == 0);
    CHECK(memcmp(lstmsrc_dataset_inputs_data(a), lstmsrc_dataset_inputs_data(f), sizeof x_) == 0);
    CHECK(memcmp(lstmsrc_dataset_labels_data(a), lstmsrc_dataset_labels_data(f), ROWS * K) == 0);
    CHECK(same_bytes(a, f));
    CHECK(same_bytes(b, f));
out:
    lstmsrc_dataset_free(f);
    lstmsrc_dataset_free(a);
    lstmsrc_dataset_free(b);
}

/* A LSTMSRC_ROW_BREAK row starts a segment without losing a row. */
static void test_breaks(void)
{
    static uint8_t marks[ROWS];
    marks[300] = LSTMSRC_ROW_BREAK;
    marks[0] = LSTMSRC_ROW_BREAK; /* the first row starts one anyway */
    struct lstmsrc_dataset *a = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, NULL, NULL, 0, NULL, marks, 0, &a,
                                      &err) == LSTMSRC_OK);
    CHECK(a && !lstmsrc_dataset_has_labels(a));
    if (!a) return;
    CHECK(lstmsrc_dataset_segments(a) == 2);
    size_t first, rows;
    lstmsrc_dataset_segment(a, 1, &first, &rows);
    CHECK(first == 300 && rows == ROWS - 300);
    CHECK(lstmsrc_dataset_windows(a, 5) == (300 - 4) + (ROWS - 300 - 4));
    lstmsrc_dataset_free(a);
}

/* fails with `code` and a message containing `text`, leaving *out as it was */
static int fails(enum lstmsrc_status code, const char *text, const float *x, size_t rows,
                 int inputs, const char *const *in, const uint8_t *y, const int32_t *cls,
                 int outputs, const char *const *lab, const uint8_t *marks, unsigned flags)
{
    struct lstmsrc_dataset *ds = (struct lstmsrc_dataset *)&calls_; /* a sentinel */
    struct lstmsrc_error err = {0};
    enum lstmsrc_status st = lstmsrc_dataset_from_arrays(NULL, x, rows, inputs, in, y, cls, outputs,
                                                         lab, marks, flags, &ds, &err);
    int ok = st == code && err.code == code && strstr(err.msg, text) &&
             ds == (struct lstmsrc_dataset *)&calls_;
    if (!ok) fprintf(stderr, "  got %d \"%s\", expected %d \"%s\"\n", st, err.msg, code, text);
    return ok;
}

static void test_errors_located(void)
{
    static float x2[20 * 2];
    static uint8_t y2[20 * 2];
    static int32_t c2[20];
    static uint8_t m2[20];
    for (int i = 0; i < 40; i++)
        x2[i] = (float)i;
    x2[11 * 2 + 1] = NAN; /* row 12, column 2 */
    CHECK(fails(LSTMSRC_ERR_PARSE,
                "arrays: row 12, column 2 (x2): expected a finite number, found nan", x2, 20, 2,
                NULL, NULL, NULL, 0, NULL, NULL, 0));
    x2[11 * 2 + 1] = -INFINITY;
    CHECK(fails(LSTMSRC_ERR_PARSE, "row 12, column 2 (x2): expected a finite number, found -inf",
                x2, 20, 2, NULL, NULL, NULL, 0, NULL, NULL, LSTMSRC_ARRAYS_NAN_MISSING));
    x2[11 * 2 + 1] = 1.0f;
    const char *in[] = {"power", "flow"}, *lab[] = {"Kettle", "Oven"};
    y2[3 * 2] = 2;
    CHECK(fails(LSTMSRC_ERR_PARSE, "row 4, label column 1 (Kettle): expected 0 or 1, found 2", x2,
                20, 2, in, y2, NULL, 2, lab, NULL, 0));
    y2[3 * 2] = 0;
    c2[7] = 5;
    CHECK(fails(LSTMSRC_ERR_PARSE, "row 8, class column (class): expected a class 0..3, found 5",
                x2, 20, 2, NULL, NULL, c2, 4, NULL, NULL, 0));
    c2[7] = -1;
    CHECK(fails(LSTMSRC_ERR_PARSE, "row 8, class column", x2, 20, 2, NULL, NULL, c2, 0, NULL, NULL,
                0));
    c2[7] = 300;
    CHECK(fails(LSTMSRC_ERR_LIMIT, "row 8, class column", x2, 20, 2, NULL, NULL, c2, 0, NULL, NULL,
                0));
    c2[7] = 0;
    m2[5] = 7;
    CHECK(fails(LSTMSRC_ERR_ARG, "row 6: mark 7 is not a lstmsrc_row_mark", x2, 20, 2, NULL, NULL,
                NULL, 0, NULL, m2, 0));
    CHECK(fails(LSTMSRC_ERR_ARG, "the readings (x) are NULL", NULL, 20, 2, NULL, NULL, NULL, 0,
                NULL, NULL, 0));
    CHECK(fails(LSTMSRC_ERR_PARSE, "no data rows", x2, 0, 2, NULL, NULL, NULL, 0, NULL, NULL, 0));
    CHECK(fails(LSTMSRC_ERR_ARG, "0 inputs", x2, 20, 0, NULL, NULL, NULL, 0, NULL, NULL, 0));
    CHECK(fails(LSTMSRC_ERR_LIMIT, "65 inputs, at most 64", x2, 1, 65, NULL, NULL, NULL, 0, NULL,
                NULL, 0));
    CHECK(fails(LSTMSRC_ERR_ARG, "both labels", x2, 20, 2, NULL, y2, c2, 2, NULL, NULL, 0));
    CHECK(fails(LSTMSRC_ERR_ARG, "3 outputs without labels", x2, 20, 2, NULL, NULL, NULL, 3, NULL,
                NULL, 0));
    CHECK(fails(LSTMSRC_ERR_ARG, "0 sources", x2, 20, 2, NULL, y2, NULL, 0, NULL, NULL, 0));
    CHECK(
        fails(LSTMSRC_ERR_ARG, "unknown flags 0x4", x2, 20, 2, NULL, NULL, NULL, 0, NULL, NULL, 4));
    const char *bad_in[] = {"power", ""};
    CHECK(fails(LSTMSRC_ERR_ARG, "input name 2 is empty", x2, 20, 2, bad_in, NULL, NULL, 0, NULL,
                NULL, 0));
    const char *null_lab[] = {"Kettle", NULL};
    CHECK(fails(LSTMSRC_ERR_ARG, "label name 2 is NULL", x2, 20, 2, NULL, y2, NULL, 2, null_lab,
                NULL, 0));
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_from_arrays(NULL, x2, 20, 2, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL,
                                      &err) == LSTMSRC_ERR_ARG);
    /* NULL err is allowed */
    CHECK(lstmsrc_dataset_from_arrays(NULL, NULL, 20, 2, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL,
                                      NULL) == LSTMSRC_ERR_ARG);
}

/* Each allocation failed in turn: LSTMSRC_ERR_NOMEM with a message, until one run succeeds. */
/* Row r's time: a reading a minute from 1409529600 (2014-09-01), with 10 minutes absent before
 * row 350 (a gap) and 2 extra seconds before row 500 (irregular, no gap). */
static double time_of(int r)
{
    return 1409529600.0 + 60.0 * r + (r >= 350 ? 600.0 : 0.0) + (r >= 500 ? 2.0 : 0.0);
}

/* A CSV with a time column (Unix seconds) and the same numbers and times given to
 * lstmsrc_dataset_set_times: the same segments (the gap cuts one), period, gaps and model. */
static void test_times_same_model(void)
{
    char p[128];
    path_of(p, sizeof p, "timed.csv");
    FILE *fp = fopen(p, "w");
    CHECK(fp != NULL);
    if (!fp) return;
    fputs("time,reading,src1,src2\n", fp);
    for (int r = 0; r < ROWS; r++)
        if (r == 200)
            fprintf(fp, "%.0f,NA,%d,%d\n", time_of(r), y_[r * K], y_[r * K + 1]);
        else
            fprintf(fp, "%.0f,%d,%d,%d\n", time_of(r), (int)x_[r], y_[r * K], y_[r * K + 1]);
    CHECK(fclose(fp) == 0);
    struct lstmsrc_dataset *f = load_csv("timed.csv"), *a = NULL;
    struct lstmsrc_error err;
    static float xn[ROWS];
    static double t[ROWS];
    memcpy(xn, x_, sizeof xn);
    xn[200] = NAN;
    for (int r = 0; r < ROWS; r++)
        t[r] = time_of(r);
    CHECK(lstmsrc_dataset_from_arrays(NULL, xn, ROWS, 1, NULL, y_, NULL, K, NULL, NULL,
                                      LSTMSRC_ARRAYS_NAN_MISSING, &a, &err) == LSTMSRC_OK);
    CHECK(a && lstmsrc_dataset_set_times(a, NULL, t, 0.0, 0.0, &err) == LSTMSRC_OK);
    CHECK(f && a);
    if (!f || !a) goto out;
    double pf, pa;
    size_t irf, ira, gf, ga;
    CHECK(strcmp(lstmsrc_dataset_time(f, &pf, &irf, &gf, NULL), "time") == 0);
    CHECK(strcmp(lstmsrc_dataset_time(a, &pa, &ira, &ga, NULL), "time") == 0);
    CHECK(pf == 60.0 && pa == 60.0 && irf == ira && irf == 2 && gf == ga && gf == 1);
    CHECK(lstmsrc_dataset_segments(f) == 3);
    CHECK(same_segments(a, f));
    CHECK(memcmp(lstmsrc_dataset_times(a), lstmsrc_dataset_times(f), sizeof t) == 0);
    CHECK(same_bytes(a, f));
    /* once only; bad times are located and leave the data set as it was */
    CHECK(lstmsrc_dataset_set_times(a, NULL, t, 0.0, 0.0, &err) == LSTMSRC_ERR_ARG);
out:
    lstmsrc_dataset_free(f);
    lstmsrc_dataset_free(a);
}

static void test_times_errors(void)
{
    static double t[ROWS];
    struct lstmsrc_dataset *a = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, NULL, NULL, 0, NULL, NULL, 0, &a,
                                      &err) == LSTMSRC_OK);
    if (!a) return;
    for (int r = 0; r < ROWS; r++)
        t[r] = time_of(r);
    t[10] = t[9];
    CHECK(lstmsrc_dataset_set_times(a, NULL, t, 0.0, 0.0, &err) == LSTMSRC_ERR_PARSE &&
          strstr(err.msg, "arrays: row 11: time repeats from 2014-09-01 00:09:00"));
    t[10] = t[9] - 1.0;
    CHECK(lstmsrc_dataset_set_times(a, NULL, t, 0.0, 0.0, &err) == LSTMSRC_ERR_PARSE &&
          strstr(err.msg, "time goes back"));
    t[10] = NAN;
    CHECK(lstmsrc_dataset_set_times(a, NULL, t, 0.0, 0.0, &err) == LSTMSRC_ERR_PARSE &&
          strstr(err.msg, "row 11: time nan"));
    t[10] = time_of(10);
    CHECK(lstmsrc_dataset_set_times(a, NULL, t, -1.0, 0.0, &err) == LSTMSRC_ERR_ARG);
    CHECK(lstmsrc_dataset_set_times(a, "", t, 0.0, 0.0, &err) == LSTMSRC_ERR_ARG);
    CHECK(lstmsrc_dataset_set_times(NULL, NULL, t, 0.0, 0.0, &err) == LSTMSRC_ERR_ARG);
    CHECK(lstmsrc_dataset_time(a, NULL, NULL, NULL, NULL) == NULL);
    CHECK(lstmsrc_dataset_set_times(a, "ts", t, 60.0, 90.0, &err) == LSTMSRC_OK);
    CHECK(strcmp(lstmsrc_dataset_time(a, NULL, NULL, NULL, NULL), "ts") == 0);
    CHECK(lstmsrc_dataset_segments(a) == 2);
    lstmsrc_dataset_free(a);
}

static void test_nomem(void)
{
    static uint8_t marks[ROWS];
    for (int r = 0; r < ROWS; r += 3)
        marks[r] = LSTMSRC_ROW_BREAK; /* many segments: the runs array grows */
    int ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        struct lstmsrc_dataset *ds = NULL;
        struct lstmsrc_error err = {0};
        calls_ = 0;
        fail_at_ = n;
        enum lstmsrc_status st = lstmsrc_dataset_from_arrays(NULL, x_, ROWS, 1, NULL, y_, NULL, K,
                                                             NULL, marks, 0, &ds, &err);
        fail_at_ = 0;
        if (st == LSTMSRC_OK) {
            ok = calls_ < n; /* no allocation left to fail */
            CHECK(ds != NULL);
            lstmsrc_dataset_free(ds);
            break;
        }
        CHECK(st == LSTMSRC_ERR_NOMEM && strstr(err.msg, "out of memory") && ds == NULL);
    }
    CHECK(ok);
}

int main(void)
{
    snprintf(dir_, sizeof dir_, "/tmp/lstmsrc_arrays_XXXXXX");
    if (!mkdtemp(dir_)) {
        perror("mkdtemp");
        return 1;
    }
    make_data(x_, y_, cls_);
    RUN(test_multilabel_same_model);
    RUN(test_default_names);
    RUN(test_multiclass_same_model);
    RUN(test_missing_rows_same_model);
    RUN(test_breaks);
    RUN(test_errors_located);
    RUN(test_times_same_model);
    RUN(test_times_errors);
    RUN(test_nomem);
    clean_dir(dir_);
    rmdir(dir_);
    return test_report("test_arrays");
}
