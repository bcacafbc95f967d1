/*
 * fuzz_csv.c — libFuzzer target for the CSV reader: the tokenizer alone (every field of every
 * record, the fast number path checked against the general one and against strtod), then the
 * data-set loader under several column selections (default multi-label, optional labels, class
 * column, combined classes, explicit lists; real recordings: a time column, missing cells,
 * invalid readings, power labels, --from/--until), each checked for its contract: on success the
 * data obey the documented invariants (finite readings, 0/1 labels, segments in order inside
 * the rows, no missing row inside a segment, time strictly increasing), on failure *out is
 * untouched and the message is one line that starts with the input's name. Any violation aborts,
 * which libFuzzer reports as a finding. Seeds: fuzz/corpus/csv (gzip_*.csv.gz: gzip input, which
 * memory input inflates as a file's does when built with zlib) and tests/fixtures. Not here: file
 * I/O (the memory reader shares the tokenizer and the inflater with the FILE* one; only the raw
 * read differs).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "data/csv.h"
#include "data/dataset.h"

const char *const fuzz_seed_dirs[] = {"fuzz/corpus/csv", "tests/fixtures", NULL};

#define NAME "fuzz.csv"

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_csv: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* One line, naming the input first: "fuzz.csv:3:2: ..." or "fuzz.csv: ...". */
static void check_message(const struct lstmsrc_error *err, enum lstmsrc_status st)
{
    if (err->code != st) fail("error code differs from the returned status", err->msg);
    if (strncmp(err->msg, NAME, strlen(NAME)) != 0 && st != LSTMSRC_ERR_NOMEM)
        fail("message does not start with the input name", err->msg);
    if (strchr(err->msg, '\n') || strchr(err->msg, '\r')) fail("message spans lines", err->msg);
}

/* The fast path of csv_field_float must agree with csv_parse_float bit for bit, and what
 * csv_parse_double accepts must be exactly what strtod reads. */
static void check_number(const struct csv_reader *r, int i)
{
    float fast = 0.0f, slow = 0.0f;
    int ok_fast = csv_field_float(r, i, &fast);
    size_t len;
    const char *s = csv_field(r, i, &len);
    if (s[len] != '\0') fail("field not terminated", NULL);
    int ok_slow = csv_parse_float(s, len, &slow);
    if (ok_fast != ok_slow || (ok_fast && memcmp(&fast, &slow, sizeof fast) != 0))
        fail("csv_field_float disagrees with csv_parse_float", s);
    float comma;
    if (csv_parse_float_comma(s, len, &comma)) { /* exactly the number with a point instead */
        char *pt = str_ndup(s, len);
        if (!pt) return;
        char *c = strchr(pt, ',');
        float want;
        if (!c) fail("decimal comma accepted without a comma", s);
        *c = '.';
        if (!csv_parse_float(pt, len, &want) || memcmp(&want, &comma, sizeof want) != 0)
            fail("csv_parse_float_comma differs from the point's number", s);
        free(pt);
    }
    double d;
    if (!csv_parse_double(s, len, &d)) return;
    if (!isfinite(d)) fail("csv_parse_double accepted a non-finite value", s);
    const char *p = s, *e = s + len;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    char *copy = str_ndup(p, (size_t)(e - p)), *stop;
    if (!copy) return;
    double ref = strtod(copy, &stop);
    int whole = *stop == '\0';
    free(copy);
    if (!whole || memcmp(&ref, &d, sizeof d) != 0) fail("csv_parse_double differs from strtod", s);
    if (ok_slow && memcmp(&(float){(float)ref}, &slow, sizeof slow) != 0)
        fail("csv_parse_float differs from (float)strtod", s);
}

static void tokenize(const char *buf, size_t len)
{
    struct csv_reader *r = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_status st = csv_open_mem(buf, len, NAME, &r, &err);
    if (st) return;
    long last_line = 0;
    for (;;) {
        int nf = -1;
        st = csv_next(r, &nf, &err);
        if (st) {
            check_message(&err, st);
            break;
        }
        if (nf == 0) break;
        if (nf < 0 || nf > LSTMSRC_MAX_COLUMNS) fail("field count out of range", NULL);
        if (csv_line(r) <= last_line) fail("line numbers do not increase", NULL);
        last_line = csv_line(r);
        for (int i = 0; i < nf; i++)
            check_number(r, i);
    }
    csv_close(r);
}

static void check_dataset(const struct lstmsrc_dataset *ds)
{
    if (ds->n == 0 || ds->f < 1 || ds->f > LSTMSRC_MAX_INPUTS) fail("bad shape", NULL);
    for (int i = 0; i < ds->f; i++) {
        const char *nm = lstmsrc_dataset_input_name(ds, i);
        if (!nm || strlen(nm) == 0 || strlen(nm) > LSTMSRC_MAX_NAME) fail("bad input name", nm);
    }
    for (size_t i = 0; i < ds->n * (size_t)ds->f; i++)
        if (!isfinite(ds->x[i])) fail("non-finite reading stored", NULL);
    /* segments: in order, inside the rows, never touching (a missing row or a gap between) */
    size_t in_runs = 0;
    for (size_t r = 0; r < ds->n_runs; r++) {
        const struct window_run *u = &ds->runs[r];
        if (u->len == 0 || u->start + u->len > ds->n) fail("segment outside the rows", NULL);
        if (r && u->start < ds->runs[r - 1].start + ds->runs[r - 1].len)
            fail("segments overlap or out of order", NULL);
        if (r && u->start == ds->runs[r - 1].start + ds->runs[r - 1].len &&
            !(ds->t && ds->t[u->start] - ds->t[u->start - 1] > ds->max_gap))
            fail("two segments touch without a gap", NULL);
        in_runs += u->len;
    }
    if (in_runs + ds->missing_rows != ds->n) fail("rows in segments + missing rows != rows", NULL);
    if (ds->invalid_rows > ds->missing_rows) fail("more invalid than missing rows", NULL);
    for (size_t i = 1; ds->t && i < ds->n; i++)
        if (!(ds->t[i] > ds->t[i - 1])) fail("time does not increase", NULL);
    if (lstmsrc_dataset_windows(ds, 3) > ds->n) fail("more windows than rows", NULL);
    if (!ds->has_labels) {
        if (ds->y || ds->cls) fail("labels stored for a file without them", NULL);
        return;
    }
    if (ds->k < 1 || !lstmsrc_dataset_output_name(ds, ds->k - 1)) fail("bad outputs", NULL);
    if (ds->task == LSTMSRC_TASK_MULTILABEL) {
        if (!ds->y || ds->k != ds->n_labels || ds->k > LSTMSRC_MAX_SOURCES)
            fail("bad labels", NULL);
        for (size_t i = 0; i < ds->n * (size_t)ds->k; i++)
            if (ds->y[i] > 1) fail("label other than 0/1 stored", NULL);
    } else {
        if (!ds->cls || ds->k > (ds->mode == LSTMSRC_LABELS_COMBINED ? 1 << LSTMSRC_MAX_COMBINED
                                                                     : LSTMSRC_MAX_CLASSES))
            fail("bad classes", NULL);
        for (size_t i = 0; i < ds->n; i++)
            if (ds->cls[i] < 0 || ds->cls[i] >= ds->k) fail("class index out of range", NULL);
    }
}

static void load(const char *buf, size_t len, const struct lstmsrc_columns *cols)
{
    struct lstmsrc_dataset *untouched = (struct lstmsrc_dataset *)&untouched, *ds = untouched;
    struct lstmsrc_error err;
    enum lstmsrc_status st = lstmsrc_dataset_load_mem(NAME, buf, len, cols, &ds, &err);
    if (st) {
        if (ds != untouched) fail("*out written on failure", err.msg);
        check_message(&err, st);
        return;
    }
    check_dataset(ds);
    lstmsrc_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    tokenize(buf, size);

    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    load(buf, size, &cols); /* column 1 in, the rest 0/1 labels */
    cols.input = "1";
    cols.labels_optional = 1;
    cols.labels = "src1,src2"; /* the fixtures' names, or absent */
    load(buf, size, &cols);
    memset(&cols, 0, sizeof cols);
    cols.mode = LSTMSRC_LABELS_COMBINED;
    load(buf, size, &cols);
    memset(&cols, 0, sizeof cols);
    cols.class_column = "2";
    cols.mode = LSTMSRC_LABELS_CLASS;
    load(buf, size, &cols);
    memset(&cols, 0, sizeof cols);
    cols.input = "1, 2";
    cols.labels = "3,4";
    load(buf, size, &cols);
    /* real recordings: the time column found by itself, outages, watts as labels */
    memset(&cols, 0, sizeof cols);
    cols.use_invalid_below = 1;
    cols.invalid_below = 1.0f;
    cols.on_above = "20";
    load(buf, size, &cols);
    memset(&cols, 0, sizeof cols);
    cols.time_column = "1";
    cols.missing = "-,?,NA";
    cols.on_above = "src1=200";
    cols.from = "2014-09-01 00:00:00";
    cols.until = "2038-01-19";
    cols.max_gap = 120.0;
    cols.decimal = ',';
    load(buf, size, &cols);
    return 0;
}
