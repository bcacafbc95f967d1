/*
 * arrays.c — caller arrays -> data set (lstmsrc_dataset_from_arrays): the same struct the CSV
 * loader builds (dataset.h) from numbers already in memory, so a binding (Python) trains and
 * predicts exactly as on a file holding the same numbers. Every cell is checked as the loader
 * checks it, with the row and column in the message; missing rows and segment breaks cut the
 * segments with the loader's own code (dataset_segs_*), as its missing cells and time gaps do.
 *
 * Deliberately not here: column selection, power thresholds, time columns and hole filling
 * (the caller's arrays are already what it wants read). Every failure frees everything and
 * leaves *out untouched.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/timecol.h"

/* The i-th default name: PREFIX1, PREFIX2, ... (or `one` when there is a single name). */
static char *default_name(const char *prefix, const char *one, int n, int i)
{
    if (n == 1 && one) return str_dup(one);
    char b[32];
    snprintf(b, sizeof b, "%s%d", prefix, i + 1);
    return str_dup(b);
}

/* Copies n names (checked: non-NULL, 1..LSTMSRC_MAX_NAME - 1 bytes) or makes the defaults. */
static enum lstmsrc_status copy_names(const char *src, const char *what, const char *const *names,
                                      const char *prefix, const char *one, int n, char ***out,
                                      struct lstmsrc_error *err)
{
    for (int i = 0; names && i < n; i++) {
        if (!names[i])
            return set_error(err, LSTMSRC_ERR_ARG, "%s: %s name %d is NULL", src, what, i + 1);
        size_t len = strlen(names[i]);
        if (len == 0)
            return set_error(err, LSTMSRC_ERR_ARG, "%s: %s name %d is empty", src, what, i + 1);
        if (len >= LSTMSRC_MAX_NAME)
            return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %s name %d is %zu bytes, at most %d", src,
                             what, i + 1, len, LSTMSRC_MAX_NAME - 1);
    }
    char **a = calloc(n ? (size_t)n : 1, sizeof *a);
    if (!a) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    for (int i = 0; i < n; i++)
        if (!(a[i] = names ? str_dup(names[i]) : default_name(prefix, one, n, i))) {
            str_array_free(a, i);
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
        }
    *out = a;
    return LSTMSRC_OK;
}

/* The arguments alone, before anything is allocated. */
static enum lstmsrc_status check_args(const char *src, const float *x, size_t rows, int inputs,
                                      const uint8_t *labels, const int32_t *classes, int outputs,
                                      unsigned flags, struct lstmsrc_dataset **out,
                                      struct lstmsrc_error *err)
{
    if (!out) return set_error(err, LSTMSRC_ERR_ARG, "%s: out is NULL", src);
    if (!x) return set_error(err, LSTMSRC_ERR_ARG, "%s: the readings (x) are NULL", src);
    if (rows == 0) return set_error(err, LSTMSRC_ERR_PARSE, "%s: no data rows", src);
    if (inputs < 1)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d inputs, at least 1", src, inputs);
    if (inputs > LSTMSRC_MAX_INPUTS)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d inputs, at most %d", src, inputs,
                         LSTMSRC_MAX_INPUTS);
    size_t cells;
    if (!mul_size(rows, (size_t)inputs * sizeof(float), &cells))
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu rows of %d inputs overflow a size", src,
                         rows, inputs);
    if (labels && classes)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: both labels (multi-label) and classes (multi-class) given", src);
    if (!labels && !classes && outputs != 0)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d outputs without labels or classes", src,
                         outputs);
    if (labels && outputs < 1)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d sources, at least 1", src, outputs);
    if (labels && outputs > LSTMSRC_MAX_SOURCES)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d sources, at most %d", src, outputs,
                         LSTMSRC_MAX_SOURCES);
    if (labels && !mul_size(rows, (size_t)outputs, &cells))
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu rows of %d labels overflow a size", src,
                         rows, outputs);
    if (classes && outputs < 0)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d classes, at least 0 (0: from the data)", src,
                         outputs);
    if (classes && outputs > LSTMSRC_MAX_CLASSES)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d classes, at most %d", src, outputs,
                         LSTMSRC_MAX_CLASSES);
    if (flags & ~LSTMSRC_ARRAYS_NAN_MISSING)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: unknown flags 0x%x", src,
                         flags & ~LSTMSRC_ARRAYS_NAN_MISSING);
    return LSTMSRC_OK;
}

/* Checks and copies the rows, building the segments (runs) as the CSV loader does. */
static enum lstmsrc_status fill_rows(struct lstmsrc_dataset *ds, const float *x,
                                     const uint8_t *labels, const int32_t *classes, int outputs,
                                     const uint8_t *marks, unsigned flags,
                                     struct lstmsrc_error *err)
{
    const char *src = ds->source;
    const int f = ds->f, nl = labels ? outputs : 0;
    const size_t n = ds->n;
    struct dataset_segs sg = {.max_class = -1};
    for (size_t r = 0; r < n; r++) {
        const float *in = x + r * (size_t)f;
        float *xr = ds->x + r * (size_t)f;
        const int mark = marks ? marks[r] : LSTMSRC_ROW_OK;
        if (mark != LSTMSRC_ROW_OK && mark != LSTMSRC_ROW_MISSING && mark != LSTMSRC_ROW_BREAK)
            return set_error(err, LSTMSRC_ERR_ARG,
                             "%s: row %zu: mark %d is not a lstmsrc_row_mark (0 ok, 1 missing, "
                             "2 break)",
                             src, r + 1, mark);
        int bad = mark == LSTMSRC_ROW_MISSING;
        for (int i = 0; i < f; i++) {
            if (isfinite(in[i])) continue;
            if (isnan(in[i]) && (flags & LSTMSRC_ARRAYS_NAN_MISSING)) {
                ds->missing_cells++;
                bad = 1;
                continue;
            }
            if (bad) continue; /* a missing row's readings are not used */
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: row %zu, column %d (%s): expected a finite number, found %s", src,
                             r + 1, i + 1, ds->input_names[i],
                             isnan(in[i]) ? "nan"
                             : in[i] > 0  ? "inf"
                                          : "-inf");
        }
        memcpy(xr, in, (size_t)f * sizeof *xr);

        int32_t c = 0;
        if (labels) {
            const uint8_t *lr = labels + r * (size_t)nl;
            for (int j = 0; j < nl; j++)
                if (lr[j] > 1)
                    return set_error(err, LSTMSRC_ERR_PARSE,
                                     "%s: row %zu, label column %d (%s): expected 0 or 1, found %d",
                                     src, r + 1, j + 1, ds->label_names[j], lr[j]);
            memcpy(ds->y + r * (size_t)nl, lr, (size_t)nl);
        } else if (classes) {
            c = classes[r];
            if (c < 0 || c >= (outputs ? outputs : LSTMSRC_MAX_CLASSES))
                return set_error(err, c < 0 || outputs ? LSTMSRC_ERR_PARSE : LSTMSRC_ERR_LIMIT,
                                 "%s: row %zu, class column (%s): expected a class 0..%d, found %d",
                                 src, r + 1, ds->label_names[0],
                                 (outputs ? outputs : LSTMSRC_MAX_CLASSES) - 1, (int)c);
        }

        if (bad) {
            dataset_segs_missing(ds, &sg, r, xr, ds->y ? ds->y + r * (size_t)nl : NULL, &c);
        } else {
            if (mark == LSTMSRC_ROW_BREAK) sg.prev_good = 0;
            if (!dataset_segs_good(ds, &sg, r, xr, c, (long)(r + 1), NULL))
                return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
        }
        if (ds->cls) ds->cls[r] = c;
    }
    ds->runs_set = 1;
    if (labels) ds->k = nl;
    if (classes) ds->k = outputs ? outputs : (sg.max_class < 0 ? 1 : sg.max_class + 1);
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_dataset_from_arrays(
    const char *name, const float *x, size_t rows, int inputs, const char *const *input_names,
    const uint8_t *labels, const int32_t *classes, int outputs, const char *const *label_names,
    const uint8_t *marks, unsigned flags, struct lstmsrc_dataset **out, struct lstmsrc_error *err)
{
    const char *src = name ? name : "arrays";
    enum lstmsrc_status st;
    if ((st = check_args(src, x, rows, inputs, labels, classes, outputs, flags, out, err)))
        return st;
    struct lstmsrc_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->source = str_dup(src))) goto nomem;
    ds->time_col = -1;
    ds->n = rows;
    ds->has_labels = labels || classes;
    ds->task = classes ? LSTMSRC_TASK_MULTICLASS : LSTMSRC_TASK_MULTILABEL;
    ds->mode = classes ? LSTMSRC_LABELS_CLASS : LSTMSRC_LABELS_SOURCES;
    ds->n_labels = labels ? outputs : classes ? 1 : 0;
    if ((st = copy_names(src, "input", input_names, "x", "reading", inputs, &ds->input_names, err)))
        goto fail;
    ds->f = inputs;
    if (ds->n_labels && (st = copy_names(src, labels ? "label" : "class column", label_names,
                                         labels ? "src" : "class", labels ? NULL : "class",
                                         ds->n_labels, &ds->label_names, err)))
        goto fail;
    if (!(ds->x = malloc(rows * (size_t)inputs * sizeof *ds->x))) goto nomem;
    if (labels && !(ds->y = malloc(rows * (size_t)outputs))) goto nomem;
    if (classes && !(ds->cls = malloc(rows * sizeof *ds->cls))) goto nomem;
    if ((st = fill_rows(ds, x, labels, classes, outputs, marks, flags, err))) goto fail;
    if (ds->has_labels && !(ds->output_names = dataset_output_names(ds))) goto nomem;
    *out = ds;
    return LSTMSRC_OK;

nomem:
    st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
fail:
    lstmsrc_dataset_free(ds);
    return st;
}

/* The first time that is not finite or not after the one before: its error, else OK. */
static enum lstmsrc_status check_times(const char *src, const double *t, size_t n,
                                       struct lstmsrc_error *err)
{
    for (size_t r = 0; r < n; r++) {
        if (!isfinite(t[r]))
            return set_error(err, LSTMSRC_ERR_PARSE, "%s: row %zu: time %s is not a time", src,
                             r + 1,
                             isnan(t[r]) ? "nan"
                             : t[r] > 0  ? "inf"
                                         : "-inf");
        if (r && !(t[r] > t[r - 1])) {
            char a[32], b[32];
            time_format(t[r - 1], 1, a, sizeof a);
            time_format(t[r], 1, b, sizeof b);
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: row %zu: time %s from %s to %s; rows must be in time order", src,
                             r + 1, t[r] == t[r - 1] ? "repeats" : "goes back", a, b);
        }
    }
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_dataset_set_times(struct lstmsrc_dataset *ds, const char *name,
                                              const double *t, double period, double max_gap,
                                              struct lstmsrc_error *err)
{
    if (!ds || !t) return set_error(err, LSTMSRC_ERR_ARG, "set_times: NULL %s", ds ? "t" : "ds");
    const char *src = ds->source;
    if (ds->time_kind || ds->t)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: the data set has times already", src);
    if (!(isfinite(period) && period >= 0.0) || !(isfinite(max_gap) && max_gap >= 0.0))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: period %g and max_gap %g: expected 0 (found from the times) or "
                         "a positive number of seconds",
                         src, period, max_gap);
    const char *nm = name ? name : "time";
    size_t len = strlen(nm);
    if (len < 1 || len >= LSTMSRC_MAX_NAME)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: time column name of %zu bytes: expected 1 to %d", src, len,
                         LSTMSRC_MAX_NAME - 1);
    enum lstmsrc_status st = check_times(src, t, ds->n, err);
    if (st) return st;
    double *copy = malloc(ds->n * sizeof *copy);
    char *nm_copy = str_dup(nm);
    if (!copy || !nm_copy) {
        free(copy);
        free(nm_copy);
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    }
    memcpy(copy, t, ds->n * sizeof *copy);
    ds->t = copy;
    ds->time_name = nm_copy;
    ds->time_kind = 2; /* Unix seconds */
    struct lstmsrc_columns cols;
    memset(&cols, 0, sizeof cols);
    cols.period = period;
    cols.max_gap = max_gap;
    if ((st = dataset_time_segments(ds, &cols, err))) {
        free(ds->t);
        free(ds->time_name);
        ds->t = NULL;
        ds->time_name = NULL;
        ds->time_kind = 0;
        ds->period = ds->max_gap = 0.0;
        ds->irregular = ds->gaps = 0;
    }
    return st;
}
