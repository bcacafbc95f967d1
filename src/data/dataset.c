/*
 * dataset.c — CSV -> data set: resolves the column selection against the header, then reads
 * every row, checking each selected cell (numbers finite, labels 0/1 or class indexes, rows as
 * wide as the header) and storing only the selected columns, each number once.
 *
 * Deliberately not here: scaling, windows and splits (window.c), tokenizing (csv.c). Columns
 * that are not selected are tokenized but never converted, so junk in them is not an error.
 * Every failure frees everything and leaves *out untouched.
 */
#include "data/dataset.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "data/columns.h"
#include "data/csv.h"
#include "data/timecol.h"

/* Rows reserved on the first allocation; capacity doubles from there. */
#define FIRST_ROWS 4096
/* Longest cell quoted back in a message. */
#define EXCERPT 40

/* ============================== combined labels ============================== */

int dataset_combined_class(const uint8_t *bits, int n)
{
    int c = 0;
    for (int j = 0; j < n; j++)
        c = (c << 1) | (bits[j] != 0);
    return c;
}

char *dataset_combined_name(char *const *label_names, int n, int cls)
{
    if (cls == 0) return str_dup("none");
    size_t total = 1;
    for (int j = 0; j < n; j++)
        if (cls & (1 << (n - 1 - j)))
            if (!add_size(total, strlen(label_names[j]) + 1, &total)) return NULL;
    char *s = malloc(total), *w = s;
    if (!s) return NULL;
    for (int j = 0; j < n; j++) {
        if (!(cls & (1 << (n - 1 - j)))) continue;
        if (w > s) *w++ = '+';
        size_t l = strlen(label_names[j]);
        memcpy(w, label_names[j], l);
        w += l;
    }
    *w = '\0';
    return s;
}

/* ============================== accessors ============================== */

void lstmsrc_dataset_free(struct lstmsrc_dataset *ds)
{
    if (!ds) return;
    free(ds->source);
    str_array_free(ds->input_names, ds->f);
    str_array_free(ds->label_names, ds->n_labels);
    str_array_free(ds->output_names, ds->k);
    free(ds->x);
    free(ds->y);
    free(ds->cls);
    free(ds->runs);
    free(ds->on_above);
    free(ds->t);
    free(ds->time_name);
    free(ds->file_start);
    str_array_free(ds->file_names, (int)ds->n_files);
    free(ds->diff_bad_file);
    free(ds);
}

const struct window_run *dataset_runs(const struct lstmsrc_dataset *ds, struct window_run *one,
                                      size_t *n)
{
    if (ds->runs_set) {
        *n = ds->n_runs;
        return ds->runs;
    }
    *one = (struct window_run){0, ds->n};
    *n = ds->n ? 1 : 0;
    return one;
}

const char *lstmsrc_dataset_source(const struct lstmsrc_dataset *ds)
{
    return ds->source ? ds->source : "data";
}

size_t lstmsrc_dataset_segments(const struct lstmsrc_dataset *ds)
{
    struct window_run one;
    size_t n;
    dataset_runs(ds, &one, &n);
    return n;
}

void lstmsrc_dataset_segment(const struct lstmsrc_dataset *ds, size_t i, size_t *first,
                             size_t *rows)
{
    struct window_run one;
    size_t n;
    const struct window_run *r = dataset_runs(ds, &one, &n);
    LSTMSRC_ASSERT(i < n);
    if (first) *first = r[i].start;
    if (rows) *rows = r[i].len;
}

size_t lstmsrc_dataset_windows(const struct lstmsrc_dataset *ds, int seq)
{
    struct window_run one;
    size_t n, w = 0;
    const struct window_run *r = dataset_runs(ds, &one, &n);
    if (seq < 1) return 0;
    for (size_t i = 0; i < n; i++)
        w += window_count(r[i].len, seq);
    return w;
}

size_t lstmsrc_dataset_filled(const struct lstmsrc_dataset *ds)
{
    return ds->filled_rows;
}

void lstmsrc_dataset_missing(const struct lstmsrc_dataset *ds, size_t *cells, size_t *rows,
                             size_t *invalid)
{
    if (cells) *cells = ds->missing_cells;
    if (rows) *rows = ds->missing_rows;
    if (invalid) *invalid = ds->invalid_rows;
}

const char *lstmsrc_dataset_time(const struct lstmsrc_dataset *ds, double *period,
                                 size_t *irregular, size_t *gaps, size_t *dropped)
{
    if (period) *period = ds->period;
    if (irregular) *irregular = ds->irregular;
    if (gaps) *gaps = ds->gaps;
    if (dropped) *dropped = ds->dropped;
    return ds->time_kind ? ds->time_name : NULL;
}

const double *lstmsrc_dataset_times(const struct lstmsrc_dataset *ds)
{
    return ds->time_kind ? ds->t : NULL;
}

int lstmsrc_dataset_on_above_auto(const struct lstmsrc_dataset *ds, int j)
{
    LSTMSRC_ASSERT(j >= 0 && j < ds->n_labels);
    return (int)((ds->on_above_auto >> j) & 1u);
}

float lstmsrc_dataset_on_above(const struct lstmsrc_dataset *ds, int j)
{
    LSTMSRC_ASSERT(j >= 0 && j < ds->n_labels);
    return ds->on_above ? ds->on_above[j] : -1.0f;
}

size_t lstmsrc_dataset_rows(const struct lstmsrc_dataset *ds)
{
    return ds->n;
}
int lstmsrc_dataset_inputs(const struct lstmsrc_dataset *ds)
{
    return ds->f;
}
int lstmsrc_dataset_outputs(const struct lstmsrc_dataset *ds)
{
    return ds->k;
}
int lstmsrc_dataset_has_labels(const struct lstmsrc_dataset *ds)
{
    return ds->has_labels;
}
enum lstmsrc_task lstmsrc_dataset_task(const struct lstmsrc_dataset *ds)
{
    return ds->task;
}
const float *lstmsrc_dataset_inputs_data(const struct lstmsrc_dataset *ds)
{
    return ds->x;
}

const char *lstmsrc_dataset_input_name(const struct lstmsrc_dataset *ds, int i)
{
    return i >= 0 && i < ds->f ? ds->input_names[i] : NULL;
}

const char *lstmsrc_dataset_output_name(const struct lstmsrc_dataset *ds, int k)
{
    return ds->output_names && k >= 0 && k < ds->k ? ds->output_names[k] : NULL;
}

long dataset_row_line(const struct lstmsrc_dataset *ds, size_t row)
{
    return ds->lines_regular && row < ds->n ? ds->first_line + (long)row : 0;
}

enum lstmsrc_status dataset_check_diff(const struct lstmsrc_dataset *ds, struct lstmsrc_error *err)
{
    if (!ds->diff_bad_row) return LSTMSRC_OK;
    const size_t r = ds->diff_bad_row - 1, f = (size_t)ds->f, i = (size_t)ds->diff_bad_input;
    return set_error(err, LSTMSRC_ERR_PARSE,
                     "%s:%ld:%d: the step from %g to %g overflows a float in the first-difference "
                     "channel; use the raw channel alone, or fix the reading",
                     ds->diff_bad_file ? ds->diff_bad_file : ds->source, ds->diff_bad_line,
                     ds->diff_bad_col + 1, (double)ds->x[(r - 1) * f + i],
                     (double)ds->x[r * f + i]);
}

/* ============================== column selection ============================== */

/* A column name fit for a one-line message (names may hold quoted line breaks). */
struct name_buf {
    char s[EXCERPT + 1];
};
static const char *show(struct name_buf *b, const char *name)
{
    str_excerpt(b->s, sizeof b->s, name, strlen(name));
    return b->s;
}

/* A selection being resolved: 0-based column indexes. */
struct pick {
    int *idx; /* (ncols): never more, since a column may be picked once */
    int n;
    int missing;      /* tokens that named no column (counted only with allow_missing) */
    const char *miss; /* the first of them, for the message */
    size_t miss_len;
};

static enum lstmsrc_status pick_one(const char *src, char *const *header, int ncols,
                                    const char *tok, size_t len, struct pick *pk, int allow_missing,
                                    struct lstmsrc_error *err)
{
    if (allow_missing && columns_find(header, ncols, tok, len) < 0) {
        if (pk->missing++ == 0) {
            pk->miss = tok;
            pk->miss_len = len;
        }
        return LSTMSRC_OK;
    }
    return columns_pick(src, header, ncols, tok, len, pk->idx, &pk->n, ncols, "selected", err);
}

/* Resolves exact `names` (when non-NULL) or the comma-separated `list` into pk. */
static enum lstmsrc_status pick_columns(const char *src, char *const *header, int ncols,
                                        const char *const *names, int n_names, const char *list,
                                        struct pick *pk, int allow_missing,
                                        struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (names) {
        for (int i = 0; i < n_names; i++)
            if ((st = pick_one(src, header, ncols, names[i], strlen(names[i]), pk, allow_missing,
                               err)))
                return st;
        return LSTMSRC_OK;
    }
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *tok = p;
        columns_trim(&tok, &len);
        if (len == 0) {
            char l[EXCERPT + 1];
            str_excerpt(l, sizeof l, list, strlen(list));
            return set_error(err, LSTMSRC_ERR_ARG, "%s:1: empty name in column list \"%s\"", src,
                             l);
        }
        if ((st = pick_one(src, header, ncols, tok, len, pk, allow_missing, err))) return st;
        if (!comma) return LSTMSRC_OK;
        p = comma + 1;
    }
}

/* ============================== cells ============================== */

static enum lstmsrc_status cell_error(const struct csv_reader *r, int col, const char *what,
                                      const char *s, size_t len, struct lstmsrc_error *err)
{
    char t[EXCERPT + 1];
    str_excerpt(t, sizeof t, s, len);
    return set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: expected %s, found \"%s\"", csv_name(r),
                     csv_line(r), col + 1, what, t);
}

/* Error for a cell csv_parse_float rejected: "a finite number" when strtod reads it whole
 * (nan, inf, 1e39), "a number" otherwise. Fields are NUL-terminated, as strtod needs. */
static enum lstmsrc_status number_error(const struct csv_reader *r, int col, const char *s,
                                        size_t len, struct lstmsrc_error *err)
{
    const char *t = s;
    size_t tl = len;
    columns_trim(&t, &tl);
    char *stop;
    double v = tl ? strtod(t, &stop) : 0.0;
    int finite_issue = tl && stop == t + tl && !isfinite((float)v);
    float f;
    if (csv_parse_float_comma(s, len, &f)) { /* a decimal comma where the separator is ',' too */
        char x[EXCERPT + 1];
        str_excerpt(x, sizeof x, s, len);
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s:%ld:%d: expected a number, found \"%s\"; a decimal comma? give "
                         "--decimal , (or separate the fields with ';')",
                         csv_name(r), csv_line(r), col + 1, x);
    }
    return cell_error(r, col, finite_issue ? "a finite number" : "a number", s, len, err);
}

/* 0 or 1 ("1.0" too, as some writers emit floats); -1 otherwise. */
static int parse_bit(const char *s, size_t len)
{
    if (len == 1 && (s[0] == '0' || s[0] == '1')) return s[0] - '0';
    double v;
    if (!csv_parse_double(s, len, &v)) return -1;
    return v == 0.0 ? 0 : v == 1.0 ? 1 : -1;
}

/* A non-negative integer class ("3", " 3 ", "3.0"); -1 otherwise, -2 when beyond the limit. */
static long parse_class(const char *s, size_t len)
{
    columns_trim(&s, &len);
    double v;
    if (len == 0 || !csv_parse_double(s, len, &v) || v < 0.0 || v != floor(v)) return -1;
    return v < LSTMSRC_MAX_CLASSES ? (long)v : -2;
}

/* ============================== loading ============================== */

/* Grows x, y, cls from *cap to twice as many rows (checked). Old blocks stay owned by ds. */
static int grow_rows(struct lstmsrc_dataset *ds, size_t *cap)
{
    size_t rows, bytes;
    if (*cap == 0)
        rows = FIRST_ROWS;
    else if (!mul_size(*cap, 2, &rows))
        return 0;
    if (!mul3_size(rows, (size_t)ds->f, sizeof(float), &bytes)) return 0;
    float *x = realloc(ds->x, bytes);
    if (!x) return 0;
    ds->x = x;
    if (ds->has_labels && ds->task == LSTMSRC_TASK_MULTILABEL) {
        if (!mul_size(rows, (size_t)ds->n_labels, &bytes)) return 0;
        uint8_t *y = realloc(ds->y, bytes);
        if (!y) return 0;
        ds->y = y;
    }
    if (ds->has_labels && ds->task == LSTMSRC_TASK_MULTICLASS) {
        if (!mul_size(rows, sizeof(int32_t), &bytes)) return 0;
        int32_t *c = realloc(ds->cls, bytes);
        if (!c) return 0;
        ds->cls = c;
    }
    if (ds->time_kind) {
        if (!mul_size(rows, sizeof(double), &bytes)) return 0;
        double *t = realloc(ds->t, bytes);
        if (!t) return 0;
        ds->t = t;
    }
    *cap = rows;
    return 1;
}

/* Gives back the slack of geometric growth; on failure the larger blocks are kept. */
static void shrink_rows(struct lstmsrc_dataset *ds)
{
    size_t bytes;
    void *p;
    if (mul3_size(ds->n, (size_t)ds->f, sizeof(float), &bytes) && (p = realloc(ds->x, bytes)))
        ds->x = p;
    if (ds->y && mul_size(ds->n, (size_t)ds->n_labels, &bytes) && (p = realloc(ds->y, bytes)))
        ds->y = p;
    if (ds->cls && mul_size(ds->n, sizeof(int32_t), &bytes) && (p = realloc(ds->cls, bytes)))
        ds->cls = p;
    if (ds->t && mul_size(ds->n, sizeof(double), &bytes) && (p = realloc(ds->t, bytes))) ds->t = p;
}

static char **names_of(char *const *header, const int *idx, int n)
{
    char **a = calloc(n ? (size_t)n : 1, sizeof *a);
    if (!a) return NULL;
    for (int i = 0; i < n; i++) {
        if (!(a[i] = str_dup(header[idx[i]]))) {
            str_array_free(a, i);
            return NULL;
        }
    }
    return a;
}

char **dataset_output_names(const struct lstmsrc_dataset *ds)
{
    char **a = calloc(ds->k ? (size_t)ds->k : 1, sizeof *a);
    if (!a) return NULL;
    for (int c = 0; c < ds->k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        a[c] = ds->mode == LSTMSRC_LABELS_SOURCES ? str_dup(ds->label_names[c])
               : ds->mode == LSTMSRC_LABELS_CLASS
                   ? str_dup(num)
                   : dataset_combined_name(ds->label_names, ds->n_labels, c);
        if (!a[c]) {
            str_array_free(a, c);
            return NULL;
        }
    }
    return a;
}

/* Reads the header line into trimmed names (*header, *ncols: owned by the caller even on
 * failure, so one cleanup frees whatever was filled). */
static enum lstmsrc_status read_header(struct csv_reader *r, char ***header, int *ncols,
                                       struct lstmsrc_error *err)
{
    const char *src = csv_name(r);
    int nf;
    enum lstmsrc_status st = csv_next(r, &nf, err);
    if (st) return st;
    if (nf == 0)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: empty file, expected a header line", src);
    if (!(*header = calloc((size_t)nf, sizeof **header)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    for (; *ncols < nf; (*ncols)++) {
        size_t len;
        const char *s = csv_field(r, *ncols, &len);
        columns_trim(&s, &len);
        if (len == 0)
            return set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: empty column name", src,
                             csv_line(r), *ncols + 1);
        if (len > LSTMSRC_MAX_NAME)
            return set_error(err, LSTMSRC_ERR_LIMIT, "%s:%ld:%d: column name longer than %d bytes",
                             src, csv_line(r), *ncols + 1, LSTMSRC_MAX_NAME);
        /* names are C strings here and in model files: an inner NUL would cut one short */
        if (memchr(s, '\0', len))
            return set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: column name contains a NUL byte",
                             src, csv_line(r), *ncols + 1);
        if (!((*header)[*ncols] = str_ndup(s, len)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    }
    return LSTMSRC_OK;
}

/* ds->on_above (n_labels) from cols->label_on_above or the "W" / "NAME=W,..." list. */
static enum lstmsrc_status resolve_on_above(const char *src, char *const *header, int ncols,
                                            const struct lstmsrc_columns *cols,
                                            const struct pick *lab, struct lstmsrc_dataset *ds,
                                            struct lstmsrc_error *err)
{
    const int nl = ds->n_labels;
    if (!ds->has_labels || (!cols->on_above && !(cols->label_on_above && cols->label_names)))
        return LSTMSRC_OK;
    if (ds->mode == LSTMSRC_LABELS_CLASS)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: --on-above turns power columns into 0/1 sources; a class column "
                         "has no threshold",
                         src);
    if (!(ds->on_above = malloc((size_t)nl * sizeof *ds->on_above)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    for (int j = 0; j < nl; j++)
        ds->on_above[j] = -1.0f;
    if (!cols->on_above) { /* a model's thresholds, one per label column */
        for (int j = 0; j < nl; j++) {
            const float w = cols->label_on_above[j];
            ds->on_above[j] = isfinite(w) && w >= 0.0f ? w : -1.0f;
        }
        return LSTMSRC_OK;
    }
    const char *list = cols->on_above;
    char l[EXCERPT + 1];
    str_excerpt(l, sizeof l, list, strlen(list));
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *tok = p, *eq = memchr(p, '=', len);
        const char *num = eq ? eq + 1 : tok;
        size_t nlen = eq ? len - (size_t)(eq + 1 - tok) : len;
        double w;
        columns_trim(&num, &nlen);
        if (!nlen || !csv_parse_double(num, nlen, &w) || w < 0.0 || w > FLT_MAX)
            return set_error(err, LSTMSRC_ERR_ARG,
                             "--on-above \"%s\": expected W or NAME=W with W a power of 0 or more",
                             l);
        if (!eq) { /* one threshold for every label column */
            if (comma || p != list)
                return set_error(err, LSTMSRC_ERR_ARG,
                                 "--on-above \"%s\": a bare W applies to every column; give "
                                 "NAME=W for each column instead",
                                 l);
            for (int j = 0; j < nl; j++)
                ds->on_above[j] = (float)w;
            return LSTMSRC_OK;
        }
        size_t klen = (size_t)(eq - tok);
        columns_trim(&tok, &klen);
        int c = columns_find(header, ncols, tok, klen), j = 0;
        while (j < lab->n && lab->idx[j] != c)
            j++;
        if (c < 0 || j == lab->n) {
            char t[EXCERPT + 1], names[128];
            str_excerpt(t, sizeof t, tok, klen);
            columns_list(names, sizeof names, ds->label_names, nl);
            return set_error(err, LSTMSRC_ERR_ARG,
                             "%s:1: --on-above names \"%s\", which is not a label column "
                             "(labels: %s)",
                             src, t, names);
        }
        ds->on_above[j] = (float)w;
        if (!comma) return LSTMSRC_OK;
        p = comma + 1;
    }
}

/* Resolves `cols` against the header into in/lab (each with room for ncols) and sets the
 * data set's mode, task, has_labels and names. */
static enum lstmsrc_status select_columns(const char *src, char *const *header, int ncols,
                                          const struct lstmsrc_columns *cols,
                                          struct lstmsrc_dataset *ds, struct pick *in,
                                          struct pick *lab, struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (cols->mode != LSTMSRC_LABELS_SOURCES && cols->mode != LSTMSRC_LABELS_CLASS &&
        cols->mode != LSTMSRC_LABELS_COMBINED)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: unknown label mode %d", src, (int)cols->mode);
    ds->mode = cols->class_column ? LSTMSRC_LABELS_CLASS : cols->mode;
    ds->task =
        ds->mode == LSTMSRC_LABELS_SOURCES ? LSTMSRC_TASK_MULTILABEL : LSTMSRC_TASK_MULTICLASS;

    /* inputs: exact names, else the list, else column 1 */
    if (cols->input_names && cols->n_input_names < 1)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: no input columns given", src);
    if (cols->input_names || cols->input) {
        if ((st = pick_columns(src, header, ncols, cols->input_names, cols->n_input_names,
                               cols->input, in, 0, err)))
            return st;
    } else {
        const int c0 = ds->time_col == 0 && ncols > 1 ? 1 : 0;
        in->idx[in->n++] = c0;
        if ((st = columns_unique(src, header, ncols, c0, err))) return st;
    }
    if (in->n > LSTMSRC_MAX_INPUTS)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d input columns, the limit is %d", src,
                         in->n, LSTMSRC_MAX_INPUTS);

    /* labels: exact names, else the class column, else the list, else every other column */
    const int optional = cols->labels_optional != 0;
    if (cols->label_names) {
        st = pick_columns(src, header, ncols, cols->label_names, cols->n_label_names, NULL, lab,
                          optional, err);
    } else if (cols->class_column) {
        const char *one[1] = {cols->class_column};
        st = pick_columns(src, header, ncols, one, 1, NULL, lab, optional, err);
    } else if (cols->labels) {
        st = pick_columns(src, header, ncols, NULL, 0, cols->labels, lab, optional, err);
    } else {
        for (int c = 0; c < ncols; c++) {
            int used = 0;
            for (int i = 0; i < in->n; i++)
                used |= in->idx[i] == c;
            if (!used && c != ds->time_col) lab->idx[lab->n++] = c;
        }
        st = LSTMSRC_OK;
    }
    if (st) return st;
    /* optional labels are all there or all absent; a partial set is a mistake */
    if (lab->missing && lab->n > 0)
        return columns_none(src, header, ncols, lab->miss, lab->miss_len, err);
    ds->has_labels = lab->n > 0;
    if (!ds->has_labels && !optional) {
        char list[128];
        columns_list(list, sizeof list, header, ncols);
        return set_error(err, LSTMSRC_ERR_ARG, "%s:1: no label columns (columns: %s)", src, list);
    }

    for (int j = 0; j < in->n + lab->n; j++)
        if ((j < in->n ? in->idx[j] : lab->idx[j - in->n]) == ds->time_col) {
            struct name_buf b;
            return set_error(err, LSTMSRC_ERR_ARG,
                             "%s:1: column \"%s\" is the time column, not an %s (--no-time reads "
                             "it as numbers)",
                             src, show(&b, header[ds->time_col]), j < in->n ? "input" : "a label");
        }
    for (int j = 0; j < lab->n; j++)
        for (int i = 0; i < in->n; i++)
            if (lab->idx[j] == in->idx[i]) {
                struct name_buf b;
                return set_error(err, LSTMSRC_ERR_ARG,
                                 "%s:1: column \"%s\" is selected both as input and as label", src,
                                 show(&b, header[in->idx[i]]));
            }
    if (ds->mode == LSTMSRC_LABELS_CLASS && lab->n > 1)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s:1: class labels need exactly one column, %d selected", src, lab->n);
    if (ds->mode == LSTMSRC_LABELS_SOURCES && lab->n > LSTMSRC_MAX_SOURCES)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d label columns, the limit is %d", src,
                         lab->n, LSTMSRC_MAX_SOURCES);
    if (ds->mode == LSTMSRC_LABELS_COMBINED && lab->n > LSTMSRC_MAX_COMBINED)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %d label columns to combine, the limit is %d",
                         src, lab->n, LSTMSRC_MAX_COMBINED);
    /* selected names must be unique: a model finds its columns again by name */
    for (int a = 0; a < in->n + lab->n; a++)
        for (int b = a + 1; b < in->n + lab->n; b++) {
            int ca = a < in->n ? in->idx[a] : lab->idx[a - in->n];
            int cb = b < in->n ? in->idx[b] : lab->idx[b - in->n];
            if (strcmp(header[ca], header[cb]) == 0) {
                struct name_buf nb;
                return set_error(err, LSTMSRC_ERR_PARSE,
                                 "%s:1: duplicate column name \"%s\" (columns %d and %d)", src,
                                 show(&nb, header[ca]), (ca < cb ? ca : cb) + 1,
                                 (ca < cb ? cb : ca) + 1);
            }
        }

    ds->f = in->n;
    if (!(ds->input_names = names_of(header, in->idx, in->n)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
    if (ds->has_labels) {
        if (!(ds->label_names = names_of(header, lab->idx, lab->n)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
        ds->n_labels = lab->n;
    }
    return resolve_on_above(src, header, ncols, cols, lab, ds, err);
}

int lstmsrc_cell_missing(const char *list, const char *s, size_t len)
{
    columns_trim(&s, &len);
    if (!list) {
        static const char *const dflt[] = {"na", "nan", "null"};
        if (len == 0) return 1;
        for (size_t d = 0; d < sizeof dflt / sizeof *dflt; d++) {
            size_t dl = strlen(dflt[d]), i = 0;
            if (dl != len) continue;
            while (i < len && (s[i] | 0x20) == dflt[d][i])
                i++;
            if (i == len) return 1;
        }
        return 0;
    }
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t tl = comma ? (size_t)(comma - p) : strlen(p);
        const char *tok = p;
        columns_trim(&tok, &tl);
        if (tl == len && memcmp(tok, s, len) == 0) return 1;
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* ============================== time ============================== */

/* Whether a header names a time column: time, timestamp, datetime, date, unix (any case). */
int dataset_time_like_name(const char *h)
{
    static const char *const names[] = {"time", "timestamp", "datetime", "date",
                                        "unix", "unix_time", "utc"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t k = 0, l = strlen(names[i]);
        while (k < l && h[k] && (h[k] | 0x20) == names[i][k])
            k++;
        if (k == l && h[k] == '\0') return 1;
    }
    return 0;
}

/* The kind of a time cell: 1 an ISO 8601 date-time, 2 Unix seconds, 0 neither. */
static int time_kind_of(const char *s, size_t len)
{
    double t;
    if (time_parse(s, len, &t)) return 1;
    if (time_parse_unix(s, len, &t)) return 2;
    return 0;
}

enum lstmsrc_status lstmsrc_time_column_find(const struct csv_reader *r, int nf,
                                             char *const *header, int ncols,
                                             const struct lstmsrc_columns *cols, int *col,
                                             int *kind, struct lstmsrc_error *err)
{
    const char *src = csv_name(r);
    int c = -1;
    *col = -1;
    *kind = 0;
    if (cols->fill < LSTMSRC_FILL_NONE || cols->fill > LSTMSRC_FILL_LINEAR)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: fill %d; supported: none, hold, linear", src,
                         cols->fill);
    if (cols->fill_max < 0 || cols->fill_max > LSTMSRC_FILL_MAX_LIMIT ||
        (cols->fill_max && !cols->fill))
        return set_error(err, LSTMSRC_ERR_ARG,
                         cols->fill_max && !cols->fill
                             ? "%s: --fill-max %d without --fill (hold or linear)"
                             : "%s: --fill-max %d; supported: 1 to 10000 rows",
                         src, cols->fill_max);
    if (cols->no_time) {
        if (cols->time_column || cols->from || cols->until)
            return set_error(err, LSTMSRC_ERR_ARG, "%s: --no-time with --time, --from or --until",
                             src);
        return LSTMSRC_OK;
    }
    if (cols->time_column) {
        const char *tok = cols->time_column;
        if ((c = columns_find(header, ncols, tok, strlen(tok))) < 0)
            return columns_none(src, header, ncols, tok, strlen(tok), err);
        if (nf == ncols) {
            size_t len;
            const char *s = csv_field(r, c, &len);
            if (!(*kind = time_kind_of(s, len)))
                return cell_error(r, c,
                                  "a time (ISO 8601 like 2014-09-01 00:00:00, or Unix "
                                  "seconds)",
                                  s, len, err);
        } else {
            *kind = 1;
        }
    } else if (nf == ncols) {
        for (int i = 0; i < ncols && c < 0; i++) { /* a time-like name first */
            size_t len;
            const char *s = csv_field(r, i, &len);
            if (dataset_time_like_name(header[i]) && (*kind = time_kind_of(s, len))) c = i;
        }
        for (int i = 0; i < ncols && c < 0; i++) { /* else date-time cells */
            size_t len;
            const char *s = csv_field(r, i, &len);
            double t;
            if (time_parse(s, len, &t)) {
                c = i;
                *kind = 1;
            }
        }
    }
    if (c < 0 && (cols->from || cols->until))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: --from and --until need a time column "
                         "(--time COLUMN)",
                         src);
    *col = c;
    return LSTMSRC_OK;
}

/* Sets ds->time_col, time_kind and time_name (lstmsrc_time_column_find). */
static enum lstmsrc_status find_time_column(const struct csv_reader *r, int nf, char *const *header,
                                            int ncols, const struct lstmsrc_columns *cols,
                                            struct lstmsrc_dataset *ds, struct lstmsrc_error *err)
{
    enum lstmsrc_status st =
        lstmsrc_time_column_find(r, nf, header, ncols, cols, &ds->time_col, &ds->time_kind, err);
    if (st || ds->time_col < 0) return st;
    if (!(ds->time_name = str_dup(header[ds->time_col])))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", csv_name(r));
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_time_bounds(const char *src, const struct lstmsrc_columns *cols,
                                        double *from, double *until, struct lstmsrc_error *err)
{
    const char *b[2] = {cols->from, cols->until};
    double *v[2] = {from, until};
    *from = -INFINITY;
    *until = INFINITY;
    for (int i = 0; i < 2; i++) {
        if (!b[i]) continue;
        if (!time_parse(b[i], strlen(b[i]), v[i]) && !time_parse_unix(b[i], strlen(b[i]), v[i])) {
            char t[EXCERPT + 1];
            str_excerpt(t, sizeof t, b[i], strlen(b[i]));
            return set_error(err, LSTMSRC_ERR_ARG,
                             "%s: --%s \"%s\": expected a time (ISO 8601 like 2014-09-01 "
                             "00:00:00, or Unix seconds)",
                             src, i ? "until" : "from", t);
        }
    }
    if (*from > *until) return set_error(err, LSTMSRC_ERR_ARG, "%s: --from is after --until", src);
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_time_cell(const struct csv_reader *r, int col, int kind, double t_prev,
                                      double *t, struct lstmsrc_error *err)
{
    size_t len;
    const char *s = csv_field(r, col, &len);
    int ok = kind == 1 ? time_parse(s, len, t) : time_parse_unix(s, len, t);
    if (!ok)
        return cell_error(
            r, col, kind == 1 ? "a date-time like 2014-09-01 00:00:00" : "a time in Unix seconds",
            s, len, err);
    if (!(*t > t_prev)) {
        char a[32], b[32];
        time_format(t_prev, 1, a, sizeof a);
        time_format(*t, 1, b, sizeof b);
        return set_error(
            err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: time %s from %s to %s; rows must be in time order",
            csv_name(r), csv_line(r), col + 1, *t == t_prev ? "repeats" : "goes back", a, b);
    }
    return LSTMSRC_OK;
}

/* The sampling period and the gaps: a step longer than the gap limit ends a segment. */
enum lstmsrc_status dataset_time_segments(struct lstmsrc_dataset *ds,
                                          const struct lstmsrc_columns *cols,
                                          struct lstmsrc_error *err)
{
    size_t irregular = 0, back = 0;
    double period = cols->period;
    if (period > 0.0) {
        for (size_t i = 1; i < ds->n; i++)
            irregular += fabs(ds->t[i] - ds->t[i - 1] - period) > TIME_STEP_TOL;
    } else if (!time_period(ds->t, ds->n, &period, &irregular, &back)) {
        if (ds->n >= 2) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", ds->source);
        period = 0.0;
    }
    ds->period = period;
    ds->irregular = irregular;
    ds->max_gap = cols->max_gap > 0.0 ? cols->max_gap : 1.5 * period;
    if (period <= 0.0) return LSTMSRC_OK;
    /* split the runs where a step exceeds the limit */
    size_t extra = 0;
    for (size_t r = 0; r < ds->n_runs; r++)
        for (size_t i = ds->runs[r].start + 1; i < ds->runs[r].start + ds->runs[r].len; i++)
            extra += ds->t[i] - ds->t[i - 1] > ds->max_gap;
    for (size_t i = 1; i < ds->n; i++)
        ds->gaps += ds->t[i] - ds->t[i - 1] > ds->max_gap;
    if (!extra) return LSTMSRC_OK;
    struct window_run *nr = malloc((ds->n_runs + extra) * sizeof *nr);
    if (!nr) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", ds->source);
    size_t k = 0;
    for (size_t r = 0; r < ds->n_runs; r++) {
        size_t a = ds->runs[r].start, e = a + ds->runs[r].len;
        for (size_t i = a + 1; i < e; i++)
            if (ds->t[i] - ds->t[i - 1] > ds->max_gap) {
                nr[k++] = (struct window_run){a, i - a};
                a = i;
            }
        nr[k++] = (struct window_run){a, e - a};
    }
    free(ds->runs);
    ds->runs = nr;
    ds->n_runs = k;
    /* a first difference across a gap is never computed: clear a flag raised there */
    if (ds->diff_bad_row) {
        size_t row = ds->diff_bad_row - 1;
        int inside = 0;
        for (size_t r = 0; r < k && !inside; r++)
            inside = row > nr[r].start && row < nr[r].start + nr[r].len;
        if (!inside) ds->diff_bad_row = 0;
    }
    return LSTMSRC_OK;
}

/* ============================== power labels from their distribution
 * ============================== */

/* A power on a log scale, log10(1 + w) from 0 to 7 (10 MW) in 256 bins; 0 W is bin 0 alone. */
#define POWER_BINS 256
#define POWER_DECADES 7.0
struct auto_on {
    uint8_t on[LSTMSRC_MAX_SOURCES]; /* label j is read this way */
    uint64_t power;                  /* bit j: a value other than 0 and 1 was seen */
    size_t hist[LSTMSRC_MAX_SOURCES][POWER_BINS];
};

static int power_bin(float w)
{
    if (!(w > 0.0f)) return 0;
    double b = log10(1.0 + (double)w) / POWER_DECADES * (POWER_BINS - 1);
    int i = (int)b + 1;
    return i < 1 ? 1 : i > POWER_BINS - 1 ? POWER_BINS - 1 : i;
}

/* The power at the lower edge of bin i (>= 1): every value in bins >= i is at least this. */
static double bin_edge(int i)
{
    return pow(10.0, (double)(i - 1) / (POWER_BINS - 1) * POWER_DECADES) - 1.0;
}

/* Otsu's split of a histogram: the bin t maximising the between-class variance of bins <= t
 * and > t (bin centres as values); -1 when one class would be empty. */
static int otsu(const size_t *h, int n)
{
    double total = 0.0, sum = 0.0;
    for (int i = 0; i < n; i++) {
        total += (double)h[i];
        sum += (double)i * (double)h[i];
    }
    double w0 = 0.0, s0 = 0.0, best = -1.0;
    int t = -1;
    for (int i = 0; i < n - 1; i++) {
        w0 += (double)h[i];
        s0 += (double)i * (double)h[i];
        double w1 = total - w0;
        if (w0 <= 0.0 || w1 <= 0.0) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / w1;
        double v = w0 * w1 * (m1 - m0) * (m1 - m0);
        if (v > best) {
            best = v;
            t = i;
        }
    }
    return t;
}

/* Turns the power bins stored in ds->y into ON/OFF: a column of 0 and 1 as it is, a power
 * column ON above the lower edge of the bin after its split. */
static enum lstmsrc_status auto_thresholds(struct lstmsrc_dataset *ds, struct auto_on *au,
                                           struct lstmsrc_error *err)
{
    const size_t nl = (size_t)ds->n_labels;
    uint8_t cut[LSTMSRC_MAX_SOURCES];
    if (!ds->on_above && au->power) {
        if (!(ds->on_above = malloc(nl * sizeof *ds->on_above)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", ds->source);
        for (size_t j = 0; j < nl; j++)
            ds->on_above[j] = -1.0f;
    }
    for (size_t j = 0; j < nl; j++) {
        cut[j] = 0; /* a 0/1 column: bin 0 is 0, any other bin is 1 */
        if (!au->on[j] || !((au->power >> j) & 1u)) continue;
        int t = otsu(au->hist[j], POWER_BINS);
        if (t < 0) t = 0; /* one group only: ON above 0 */
        cut[j] = (uint8_t)t;
        /* the largest float below the edge: v > it exactly when v lies in a bin above t */
        ds->on_above[j] = nextafterf((float)bin_edge(t + 1), 0.0f);
        if (!(ds->on_above[j] >= 0.0f)) ds->on_above[j] = 0.0f;
        ds->on_above_auto |= (uint64_t)1 << j;
    }
    for (size_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < nl; j++)
            if (au->on[j]) ds->y[i * nl + j] = ds->y[i * nl + j] > cut[j];
    return LSTMSRC_OK;
}

/* Cell col as a finite float: csv_field_float, else a decimal comma where `decimal` allows it. */
static int cell_float(const struct csv_reader *r, int col, char decimal, float *v)
{
    if (csv_field_float(r, col, v)) return 1;
    if (decimal == '.' || (decimal != ',' && csv_separator(r) == ',')) return 0;
    size_t len;
    const char *s = csv_field(r, col, &len);
    return csv_parse_float_comma(s, len, v);
}

/* A 0/1 label cell, or a power cell above its threshold (thr >= 0). -1 with the error set. */
static int label_bit(const struct csv_reader *r, int col, float thr, char decimal,
                     struct lstmsrc_error *err)
{
    size_t len;
    const char *s;
    if (thr < 0.0f) {
        int b = csv_field_bit(r, col);
        if (b >= 0) return b;
        s = csv_field(r, col, &len);
        if ((b = parse_bit(s, len)) >= 0) return b;
        double v;
        if (csv_parse_double(s, len, &v) && v >= 0.0) {
            char t[EXCERPT + 1];
            str_excerpt(t, sizeof t, s, len);
            set_error(err, LSTMSRC_ERR_PARSE,
                      "%s:%ld:%d: expected 0 or 1, found \"%s\"; if the column holds power, give "
                      "--on-above W to make it ON above W (or --on-above auto)",
                      csv_name(r), csv_line(r), col + 1, t);
            return -1;
        }
        cell_error(r, col, "0 or 1", s, len, err);
        return -1;
    }
    float v;
    if (!cell_float(r, col, decimal, &v) || v < 0.0f) {
        s = csv_field(r, col, &len);
        cell_error(r, col, "a power of 0 or more (the column has --on-above)", s, len, err);
        return -1;
    }
    return v > thr;
}

/* Bridges the holes between segments of at most fill_max missing rows (cols->fill): their
 * readings held from the row before or on the line to the row after, their labels the row
 * before's; the two segments become one. Runs on one file's rows, after the time gaps cut
 * them; a hole with a time gap at or inside it stays (rows are absent there). */
static void fill_holes(struct lstmsrc_dataset *ds, int mode, int fill_max)
{
    const size_t f = (size_t)ds->f, nl = ds->y ? (size_t)ds->n_labels : 0;
    size_t k = ds->n_runs ? 1 : 0; /* runs kept, the last one growing */
    for (size_t r = 1; r < ds->n_runs; r++) {
        const struct window_run nx = ds->runs[r];
        struct window_run *prev = &ds->runs[k - 1];
        const size_t a = prev->start + prev->len - 1, b = nx.start, hole = b - a - 1;
        int gap = 0; /* a time gap at or inside the hole: rows are absent there */
        for (size_t h = a + 1; ds->t && ds->max_gap > 0.0 && h <= b && !gap; h++)
            gap = ds->t[h] - ds->t[h - 1] > ds->max_gap;
        if (hole < 1 || hole > (size_t)fill_max || gap) {
            ds->runs[k++] = nx;
            continue;
        }
        for (size_t h = a + 1; h < b; h++) {
            const double w = (double)(h - a) / (double)(b - a);
            for (size_t i = 0; i < f; i++) {
                const float xa = ds->x[a * f + i], xb = ds->x[b * f + i];
                ds->x[h * f + i] = mode == LSTMSRC_FILL_LINEAR ? (float)(xa + w * (xb - xa)) : xa;
            }
            if (nl) memcpy(ds->y + h * nl, ds->y + a * nl, nl);
            if (ds->cls) ds->cls[h] = ds->cls[a];
        }
        ds->filled_rows += hole;
        prev->len = nx.start + nx.len - prev->start;
    }
    ds->n_runs = k;
}

/* The row loop's state: what it reads with, and what it carries from one row to the next. */
struct row_reader {
    struct csv_reader *r;
    const struct pick *in, *lab;
    const struct lstmsrc_columns *cols;
    struct lstmsrc_dataset *ds;
    struct auto_on *au; /* NULL unless a label's threshold comes from its distribution */
    struct lstmsrc_error *err;
    const char *src;
    size_t cap;               /* rows allocated */
    struct dataset_segs segs; /* the segments so far */
    double from, until;       /* --from and --until (time stamps only) */
    double t_prev;            /* the row before's time stamp */
};

/* The row's time stamp into *tm (0 without a time column); *keep is 0 when it lies outside
 * --from/--until, and the row is counted as dropped. */
static enum lstmsrc_status row_time(struct row_reader *rr, double *tm, int *keep)
{
    struct lstmsrc_dataset *ds = rr->ds;
    enum lstmsrc_status st;
    *tm = 0.0;
    *keep = 1;
    if (!ds->time_kind) return LSTMSRC_OK;
    if ((st = lstmsrc_time_cell(rr->r, ds->time_col, ds->time_kind, rr->t_prev, tm, rr->err)))
        return st;
    rr->t_prev = *tm;
    if (*tm < rr->from || *tm > rr->until) {
        ds->dropped++;
        *keep = 0;
    }
    return LSTMSRC_OK;
}

/* The row's readings into xr (f): a missing cell, or a first reading below --invalid-below,
 * sets *bad; any other cell that is not a finite number is an error. */
static enum lstmsrc_status row_inputs(struct row_reader *rr, float *xr, int *bad)
{
    const struct lstmsrc_columns *cols = rr->cols;
    for (int i = 0; i < rr->ds->f; i++) {
        const int col = rr->in->idx[i];
        if (cell_float(rr->r, col, cols->decimal, &xr[i])) continue;
        size_t len;
        const char *s = csv_field(rr->r, col, &len);
        if (!lstmsrc_cell_missing(cols->missing, s, len))
            return number_error(rr->r, col, s, len, rr->err);
        rr->ds->missing_cells++;
        *bad = 1;
    }
    if (!*bad && cols->use_invalid_below && xr[0] < cols->invalid_below) {
        rr->ds->invalid_rows++;
        *bad = 1;
    }
    return LSTMSRC_OK;
}

/* Tracks whether the rows so far lie on consecutive lines from the first one; `line` is the
 * line of row ds->n. */
static void note_line(struct lstmsrc_dataset *ds, long line)
{
    if (ds->n == 0) {
        ds->first_line = line;
        ds->lines_regular = 1;
    } else if (line != ds->first_line + (long)ds->n) {
        ds->lines_regular = 0;
    }
}

/* The class label cell into *c; a missing cell sets *bad and reads as class 0. */
static enum lstmsrc_status row_class(struct row_reader *rr, int32_t *c, int *bad)
{
    const int col = rr->lab->idx[0];
    size_t len;
    const char *s = csv_field(rr->r, col, &len);
    long v = parse_class(s, len);
    if (v == -2) {
        char t[EXCERPT + 1];
        str_excerpt(t, sizeof t, s, len);
        return set_error(rr->err, LSTMSRC_ERR_LIMIT,
                         "%s:%ld:%d: expected a class below %d, found \"%s\"", rr->src,
                         csv_line(rr->r), col + 1, LSTMSRC_MAX_CLASSES, t);
    }
    if (v < 0 && lstmsrc_cell_missing(rr->cols->missing, s, len)) {
        rr->ds->missing_cells++;
        *bad = 1;
        v = 0;
    }
    if (v < 0) return cell_error(rr->r, col, "a non-negative integer class", s, len, rr->err);
    *c = (int32_t)v;
    return LSTMSRC_OK;
}

/* Label column j's cell as a bit into *b; a missing cell sets *bad and reads as 0. With au, the
 * power bin it falls in (counted in au's histogram), ON/OFF once the threshold is known. */
static enum lstmsrc_status label_cell(struct row_reader *rr, int j, int *b, int *bad)
{
    struct lstmsrc_dataset *ds = rr->ds;
    const int col = rr->lab->idx[j];
    size_t len;
    const char *s = csv_field(rr->r, col, &len);
    if (csv_field_bit(rr->r, col) < 0 && lstmsrc_cell_missing(rr->cols->missing, s, len)) {
        ds->missing_cells++;
        *bad = 1;
        *b = 0;
        return LSTMSRC_OK;
    }
    if (rr->au) {
        float v;
        if (!cell_float(rr->r, col, rr->cols->decimal, &v) || v < 0.0f)
            return cell_error(rr->r, col, "0 or 1, or a power of 0 or more", s, len, rr->err);
        if (v != 0.0f && v != 1.0f) rr->au->power |= (uint64_t)1 << j;
        *b = power_bin(v);
        rr->au->hist[j][*b]++;
        return LSTMSRC_OK;
    }
    *b = label_bit(rr->r, col, ds->on_above ? ds->on_above[j] : -1.0f, rr->cols->decimal, rr->err);
    return *b < 0 ? rr->err->code : LSTMSRC_OK;
}

/* The source label cells into yr (nl, or NULL) and *c: sources, one 0/1 per column; combined,
 * the same bits as one code, first column highest. */
static enum lstmsrc_status row_sources(struct row_reader *rr, uint8_t *yr, int32_t *c, int *bad)
{
    enum lstmsrc_status st;
    for (int j = 0; j < rr->ds->n_labels; j++) {
        int b;
        if ((st = label_cell(rr, j, &b, bad))) return st;
        if (yr) yr[j] = (uint8_t)b;
        *c = (*c << 1) | b;
    }
    return LSTMSRC_OK;
}

void dataset_segs_missing(struct lstmsrc_dataset *ds, struct dataset_segs *sg, size_t row,
                          float *xr, uint8_t *yr, int32_t *c)
{
    const int f = ds->f;
    ds->missing_rows++;
    for (int i = 0; i < f; i++)
        xr[i] = row ? xr[i - f] : 0.0f;
    if (yr) memset(yr, 0, (size_t)ds->n_labels);
    *c = 0;
    sg->prev_good = 0;
}

/* Notes the first row (of a segment, after its first) whose first difference from the row
 * before overflows a float. */
static void note_diff_overflow(struct lstmsrc_dataset *ds, const struct dataset_segs *sg,
                               size_t row, const float *xr, long line, const int *cols)
{
    const int f = ds->f;
    if (!sg->prev_good || ds->diff_bad_row) return;
    for (int i = 0; i < f; i++) {
        const float d = xr[i] - xr[i - f]; /* as model_channels computes it */
        if (!isfinite(d)) {
            ds->diff_bad_row = row + 1;
            ds->diff_bad_line = line;
            ds->diff_bad_input = i;
            ds->diff_bad_col = cols ? cols[i] : i;
            return;
        }
    }
}

int dataset_segs_good(struct lstmsrc_dataset *ds, struct dataset_segs *sg, size_t row,
                      const float *xr, int32_t c, long line, const int *cols)
{
    note_diff_overflow(ds, sg, row, xr, line, cols);
    if (sg->prev_good) {
        ds->runs[ds->n_runs - 1].len++;
    } else {
        if (ds->n_runs == sg->run_cap) {
            size_t nc = sg->run_cap ? sg->run_cap * 2 : 16;
            struct window_run *nr = realloc(ds->runs, nc * sizeof *nr);
            if (!nr) return 0;
            ds->runs = nr;
            sg->run_cap = nc;
        }
        ds->runs[ds->n_runs++] = (struct window_run){row, 1};
    }
    sg->prev_good = 1;
    if (ds->mode == LSTMSRC_LABELS_CLASS && c > sg->max_class) sg->max_class = c;
    return 1;
}

/* One data row of nf fields, checked cell by cell and stored as row ds->n, unless its time
 * stamp lies outside --from/--until. */
static enum lstmsrc_status read_row(struct row_reader *rr, int nf, int ncols)
{
    struct lstmsrc_dataset *ds = rr->ds;
    enum lstmsrc_status st;
    if (nf != ncols)
        return set_error(rr->err, LSTMSRC_ERR_PARSE, "%s:%ld: expected %d field%s, found %d",
                         rr->src, csv_line(rr->r), ncols, ncols == 1 ? "" : "s", nf);
    double tm;
    int keep;
    if ((st = row_time(rr, &tm, &keep))) return st;
    if (!keep) return LSTMSRC_OK;
    if (ds->n == rr->cap && !grow_rows(ds, &rr->cap))
        return set_error(rr->err, LSTMSRC_ERR_NOMEM, "%s: out of memory", rr->src);
    if (ds->t) ds->t[ds->n] = tm;

    float *xr = ds->x + ds->n * (size_t)ds->f; /* (f) */
    int bad = 0;                               /* a missing cell or an invalid reading */
    if ((st = row_inputs(rr, xr, &bad))) return st;
    note_line(ds, csv_line(rr->r));

    int32_t c = 0;
    uint8_t *yr = ds->y ? ds->y + ds->n * (size_t)ds->n_labels : NULL; /* (nl) */
    if (ds->has_labels && ds->mode == LSTMSRC_LABELS_CLASS)
        st = row_class(rr, &c, &bad);
    else if (ds->has_labels)
        st = row_sources(rr, yr, &c, &bad);
    if (st) return st;

    if (bad)
        dataset_segs_missing(ds, &rr->segs, ds->n, xr, yr, &c);
    else if (!dataset_segs_good(ds, &rr->segs, ds->n, xr, c, csv_line(rr->r), rr->in->idx))
        return set_error(rr->err, LSTMSRC_ERR_NOMEM, "%s: out of memory", rr->src);
    if (ds->cls) ds->cls[ds->n] = c;
    ds->n++;
    return LSTMSRC_OK;
}

/* After the last row: refuses a file without data rows, turns power labels into ON/OFF, marks
 * the segments set and sets ds->k. */
static enum lstmsrc_status finish_rows(struct row_reader *rr)
{
    struct lstmsrc_dataset *ds = rr->ds;
    const int nl = ds->n_labels;
    enum lstmsrc_status st;
    if (ds->n == 0 && ds->dropped)
        return set_error(rr->err, LSTMSRC_ERR_PARSE,
                         "%s: no data rows between --from and --until "
                         "(%zu rows outside)",
                         rr->src, ds->dropped);
    if (ds->n == 0) return set_error(rr->err, LSTMSRC_ERR_PARSE, "%s: no data rows", rr->src);
    if (rr->au && (st = auto_thresholds(ds, rr->au, rr->err))) return st;
    ds->runs_set = 1;
    shrink_rows(ds);
    if (ds->has_labels)
        ds->k = ds->mode == LSTMSRC_LABELS_SOURCES ? nl
                : ds->mode == LSTMSRC_LABELS_CLASS
                    ? (rr->segs.max_class < 0 ? 1 : rr->segs.max_class + 1)
                    : 1 << nl;
    return LSTMSRC_OK;
}

/* Reads every data row into ds (x, and y or cls), checking each selected cell, and cuts the rows
 * into segments (ds->runs) at missing rows. Sets ds->k. */
static enum lstmsrc_status read_rows_with(struct csv_reader *r, int first_nf, int ncols,
                                          const struct pick *in, const struct pick *lab,
                                          const struct lstmsrc_columns *cols,
                                          struct lstmsrc_dataset *ds, struct auto_on *au,
                                          struct lstmsrc_error *err)
{
    struct row_reader rr = {.r = r,
                            .in = in,
                            .lab = lab,
                            .cols = cols,
                            .ds = ds,
                            .au = au,
                            .err = err,
                            .src = csv_name(r),
                            .segs = {.max_class = -1},
                            .from = -INFINITY,
                            .until = INFINITY,
                            .t_prev = -INFINITY};
    enum lstmsrc_status st;
    int nf = first_nf;
    if (ds->time_kind && (st = lstmsrc_time_bounds(rr.src, cols, &rr.from, &rr.until, err)))
        return st;
    for (int first = 1;; first = 0) {
        if (!first && (st = csv_next(r, &nf, err))) return st;
        if (nf == 0) break;
        if ((st = read_row(&rr, nf, ncols))) return st;
    }
    return finish_rows(&rr);
}

/* read_rows_with, with the power histograms of the labels whose threshold comes from their
 * distribution (multi-label sources only), owned here on every path. */
static enum lstmsrc_status read_rows(struct csv_reader *r, int first_nf, int ncols,
                                     const struct pick *in, const struct pick *lab,
                                     const struct lstmsrc_columns *cols, struct lstmsrc_dataset *ds,
                                     struct lstmsrc_error *err)
{
    struct auto_on *au = NULL;
    const int nl = ds->n_labels;
    if (cols->on_above_auto && ds->has_labels && ds->mode == LSTMSRC_LABELS_SOURCES) {
        int any = 0;
        for (int j = 0; j < nl; j++)
            any |= !ds->on_above || ds->on_above[j] < 0.0f;
        if (any && !(au = calloc(1, sizeof *au)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", csv_name(r));
        for (int j = 0; au && j < nl; j++)
            au->on[j] = !ds->on_above || ds->on_above[j] < 0.0f;
    }
    enum lstmsrc_status st = read_rows_with(r, first_nf, ncols, in, lab, cols, ds, au, err);
    free(au);
    return st;
}

static enum lstmsrc_status load(struct csv_reader *r, const struct lstmsrc_columns *cols,
                                struct lstmsrc_dataset **out, struct lstmsrc_error *err)
{
    static const struct lstmsrc_columns defaults; /* zeroed: column 1 in, the rest labels */
    const char *src = csv_name(r);
    enum lstmsrc_status st;
    char **header = NULL;
    int ncols = 0;
    struct pick in = {0}, lab = {0};
    struct lstmsrc_dataset *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->source = str_dup(src))) goto nomem;

    if ((st = read_header(r, &header, &ncols, err))) goto fail;
    /* the first data row shows whether a column holds time stamps */
    int first_nf = 0;
    ds->time_col = -1;
    if ((st = csv_next(r, &first_nf, err))) goto fail;
    if ((st = find_time_column(r, first_nf, header, ncols, cols ? cols : &defaults, ds, err)))
        goto fail;
    in.idx = malloc((size_t)ncols * sizeof *in.idx);
    lab.idx = malloc((size_t)ncols * sizeof *lab.idx);
    if (!in.idx || !lab.idx) goto nomem;
    if ((st = select_columns(src, header, ncols, cols ? cols : &defaults, ds, &in, &lab, err)))
        goto fail;
    if (cols && cols->use_invalid_below) {
        if (!isfinite(cols->invalid_below)) {
            st =
                set_error(err, LSTMSRC_ERR_ARG, "%s: --invalid-below must be a finite number", src);
            goto fail;
        }
        ds->use_invalid_below = 1;
        ds->invalid_below = cols->invalid_below;
    }
    if ((st = read_rows(r, first_nf, ncols, &in, &lab, cols ? cols : &defaults, ds, err)))
        goto fail;
    if (ds->time_kind && (st = dataset_time_segments(ds, cols ? cols : &defaults, err))) goto fail;
    if (cols && cols->fill)
        fill_holes(ds, cols->fill, cols->fill_max > 0 ? cols->fill_max : LSTMSRC_FILL_MAX_DEFAULT);
    if (ds->has_labels && !(ds->output_names = dataset_output_names(ds))) goto nomem;

    str_array_free(header, ncols);
    free(in.idx);
    free(lab.idx);
    *out = ds;
    return LSTMSRC_OK;

nomem:
    st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
fail:
    lstmsrc_dataset_free(ds);
    str_array_free(header, ncols);
    free(in.idx);
    free(lab.idx);
    return st;
}

enum lstmsrc_status lstmsrc_dataset_load(const char *path, const struct lstmsrc_columns *cols,
                                         struct lstmsrc_dataset **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && out);
    struct csv_reader *r;
    enum lstmsrc_status st = csv_open_file(path, &r, err);
    if (st) return st;
    st = load(r, cols, out, err);
    csv_close(r);
    return st;
}

enum lstmsrc_status lstmsrc_dataset_load_mem(const char *name, const char *buf, size_t len,
                                             const struct lstmsrc_columns *cols,
                                             struct lstmsrc_dataset **out,
                                             struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(name && out && (buf || len == 0));
    struct csv_reader *r;
    enum lstmsrc_status st = csv_open_mem(buf, len, name, &r, err);
    if (st) return st;
    st = load(r, cols, out, err);
    csv_close(r);
    return st;
}

/* ============================== several files ============================== */

size_t lstmsrc_dataset_files(const struct lstmsrc_dataset *ds)
{
    return ds->n_files ? ds->n_files : 1;
}

size_t lstmsrc_dataset_files_skipped(const struct lstmsrc_dataset *ds)
{
    return ds->skipped_files;
}

const char *lstmsrc_dataset_file(const struct lstmsrc_dataset *ds, size_t i, size_t *first_row)
{
    LSTMSRC_ASSERT(i < lstmsrc_dataset_files(ds));
    if (first_row) *first_row = ds->n_files ? ds->file_start[i] : 0;
    return ds->n_files ? ds->file_names[i] : ds->source;
}

/* Whether a load failed only because no row lies between --from and --until. */
static int outside_range(const struct lstmsrc_error *e)
{
    return e->code == LSTMSRC_ERR_PARSE &&
           strstr(e->msg, ": no data rows between --from and --until (") != NULL;
}

/* Appends b's rows to a (same columns), b's file starting a segment. */
static enum lstmsrc_status append(struct lstmsrc_dataset *a, const struct lstmsrc_dataset *b,
                                  size_t file, struct lstmsrc_error *err)
{
    const size_t n = a->n + b->n, f = (size_t)a->f, nl = (size_t)a->n_labels;
    const size_t off = a->n;
    if (n < a->n) return set_error(err, LSTMSRC_ERR_LIMIT, "%s: too many rows", b->source);
    float *x = realloc(a->x, n * f * sizeof *x);
    if (!x) goto nomem;
    a->x = x;
    memcpy(a->x + off * f, b->x, b->n * f * sizeof *x);
    if (a->y) {
        uint8_t *y = realloc(a->y, n * nl);
        if (!y) goto nomem;
        a->y = y;
        memcpy(a->y + off * nl, b->y, b->n * nl);
    }
    if (a->cls) {
        int32_t *c = realloc(a->cls, n * sizeof *c);
        if (!c) goto nomem;
        a->cls = c;
        memcpy(a->cls + off, b->cls, b->n * sizeof *c);
    }
    if (a->t) {
        double *t = realloc(a->t, n * sizeof *t);
        if (!t) goto nomem;
        a->t = t;
        memcpy(a->t + off, b->t, b->n * sizeof *t);
    }
    struct window_run *r = realloc(a->runs, (a->n_runs + b->n_runs + 1) * sizeof *r);
    if (!r) goto nomem;
    a->runs = r;
    for (size_t i = 0; i < b->n_runs; i++)
        a->runs[a->n_runs++] = (struct window_run){b->runs[i].start + off, b->runs[i].len};
    a->file_start[file] = off;
    if (!(a->file_names[file] = str_dup(b->source))) goto nomem;
    a->n = n;
    a->missing_cells += b->missing_cells;
    a->missing_rows += b->missing_rows;
    a->filled_rows += b->filled_rows;
    a->invalid_rows += b->invalid_rows;
    a->irregular += b->irregular;
    a->gaps += b->gaps;
    a->dropped += b->dropped;
    if (b->k > a->k) a->k = b->k;
    if (!a->diff_bad_row && b->diff_bad_row) {
        a->diff_bad_row = b->diff_bad_row + off;
        a->diff_bad_line = b->diff_bad_line;
        a->diff_bad_input = b->diff_bad_input;
        a->diff_bad_col = b->diff_bad_col;
        if (!(a->diff_bad_file = str_dup(b->source))) goto nomem;
    }
    return LSTMSRC_OK;
nomem:
    return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory joining the files", b->source);
}

enum lstmsrc_status lstmsrc_dataset_load_files(const char *const *paths, int n,
                                               const struct lstmsrc_columns *cols,
                                               struct lstmsrc_dataset **out,
                                               struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(paths && n >= 1 && out);
    if (n == 1) return lstmsrc_dataset_load(paths[0], cols, out, err);
    static const struct lstmsrc_columns defaults;
    struct lstmsrc_dataset *all = NULL, *d = NULL;
    enum lstmsrc_status st;
    /* a file wholly outside --from/--until is left out (said in the data set), not an error */
    int i0 = 0, skipped = 0;
    while ((st = lstmsrc_dataset_load(paths[i0], cols, &all, err)) && outside_range(err) &&
           i0 + 1 < n) {
        i0++;
        skipped++;
    }
    if (st) return st;
    all->skipped_files = (size_t)skipped;
    /* the first file's columns, by name, for every other file */
    struct lstmsrc_columns c = cols ? *cols : defaults;
    c.input = NULL;
    c.input_names = (const char *const *)all->input_names;
    c.n_input_names = all->f;
    c.labels = NULL;
    c.class_column = NULL;
    c.mode = all->mode;
    c.label_names = all->has_labels ? (const char *const *)all->label_names : NULL;
    c.n_label_names = all->has_labels ? all->n_labels : 0;
    c.on_above = NULL;
    c.label_on_above = all->on_above;
    c.time_column = all->time_kind ? all->time_name : NULL;
    c.no_time = !all->time_kind;
    all->lines_regular = 0; /* a row's line depends on its file now */
    const int k0 = all->k;  /* output names made for it */
    all->file_start = calloc((size_t)n, sizeof *all->file_start);
    all->file_names = calloc((size_t)n, sizeof *all->file_names);
    if (all->file_names) all->n_files = (size_t)n;
    if (!all->file_start || !all->file_names || !(all->file_names[0] = str_dup(all->source))) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t loaded = 1;
    for (int i = i0 + 1; i < n; i++) {
        if ((st = lstmsrc_dataset_load(paths[i], &c, &d, err))) {
            if (!outside_range(err)) goto fail;
            all->skipped_files++;
            st = LSTMSRC_OK;
            continue;
        }
        if (d->has_labels != all->has_labels) {
            st = set_error(err, LSTMSRC_ERR_ARG, "%s: %s the label columns of %s", d->source,
                           d->has_labels ? "has" : "lacks", all->source);
            goto fail;
        }
        if ((st = append(all, d, loaded++, err))) goto fail;
        lstmsrc_dataset_free(d);
        d = NULL;
    }
    all->n_files = loaded;
    /* class names follow the largest class seen in any file */
    if (all->has_labels && all->mode == LSTMSRC_LABELS_CLASS) {
        char **names = dataset_output_names(all);
        if (!names) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
            goto fail;
        }
        str_array_free(all->output_names, k0);
        all->output_names = names;
    }
    *out = all;
    return LSTMSRC_OK;
fail:
    lstmsrc_dataset_free(d);
    lstmsrc_dataset_free(all);
    return st;
}
