/*
 * rows.c — a CSV read chunk by chunk for prediction: the header resolves the input columns (by
 * exact name or 1-based index, as the loader does), then each call fills a caller buffer with up
 * to `max` rows of those columns. Memory is the tokenizer's buffer and nothing else, whatever
 * the file size. Label columns are never looked at, so new data without labels reads as is.
 *
 * Cells are converted with the tokenizer's parser, the one lstmsrc_dataset_load uses, so a row
 * read here holds the same floats as the same row loaded whole. Messages follow the loader's
 * ("FILE:LINE:COL: expected a number, found \"abc\"").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "data/columns.h"
#include "data/csv.h"
#include "data/dataset.h"

#define EXCERPT 40

struct lstmsrc_rows {
    struct csv_reader *r;
    int ncols;       /* fields per record (the header's) */
    int f;           /* inputs */
    int *idx;        /* (f) 0-based column of each input */
    int done;        /* end of input seen */
    int diff_finite; /* cols->diff_finite: refuse a row whose first difference overflows */
    int has_prev;    /* prev holds the last row read, in the same segment */
    float prev[LSTMSRC_MAX_INPUTS];
    const char *missing; /* cols->missing, copied */
    char *missing_copy;
    int use_invalid_below;
    float invalid_below;
    char decimal;                   /* cols->decimal */
    int in_segment;                 /* the last row read was good */
    float last[LSTMSRC_MAX_INPUTS]; /* the last good row (0 before any) */
    size_t missing_cells, missing_rows, invalid_rows, segments;
    /* the time column */
    int time_col, time_kind;
    char *time_name;
    double from, until, t_prev, t_kept, max_gap;
    int has_kept;
    size_t dropped, gaps;
    int pending, first_nf; /* the first data row, read at open to find the time column */
    /* cols->fill: holes of at most fill_max missing rows bridged; the rows of a hole at the end
     * of a read wait in the carry (cx, ct, cm: fill_max rows) until the row after it is read */
    int fill, fill_max;
    float *cx;
    double *ct;
    uint8_t *cm;
    size_t ncarry, filled;
    int out_good;                       /* the last row returned was good ... */
    float out_last[LSTMSRC_MAX_INPUTS]; /* ... with these readings */
};

/* Internal mark of read_rows: a good row after a time gap (LSTMSRC_ROW_BREAK to the caller),
 * which a fill never bridges. */
#define ROW_TIME_BREAK 3
/* ... and a missing row after a time gap (LSTMSRC_ROW_MISSING to the caller): its hole stays */
#define ROW_MISSING_GAP 4

int lstmsrc_rows_inputs(const struct lstmsrc_rows *r)
{
    return r->f;
}

void lstmsrc_rows_close(struct lstmsrc_rows *r)
{
    if (!r) return;
    csv_close(r->r);
    free(r->idx);
    free(r->missing_copy);
    free(r->time_name);
    free(r->cx);
    free(r->ct);
    free(r->cm);
    free(r);
}

/* ============================== header ============================== */

static enum lstmsrc_status pick(struct lstmsrc_rows *rw, char *const *header, const char *src,
                                const char *tok, size_t len, struct lstmsrc_error *err)
{
    return columns_pick(src, header, rw->ncols, tok, len, rw->idx, &rw->f, LSTMSRC_MAX_INPUTS,
                        "input", err);
}

static enum lstmsrc_status resolve(struct lstmsrc_rows *rw, char *const *header,
                                   const struct lstmsrc_columns *cols, const char *src,
                                   struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (cols && cols->input_names) {
        if (cols->n_input_names < 1)
            return set_error(err, LSTMSRC_ERR_ARG, "%s: no input columns given", src);
        for (int i = 0; i < cols->n_input_names; i++) {
            const char *nm = cols->input_names[i] ? cols->input_names[i] : "";
            if ((st = pick(rw, header, src, nm, strlen(nm), err))) return st;
        }
        return LSTMSRC_OK;
    }
    if (cols && cols->input) {
        for (const char *p = cols->input;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            const char *tok = p;
            columns_trim(&tok, &len);
            if (len == 0) {
                char l[EXCERPT + 1];
                str_excerpt(l, sizeof l, cols->input, strlen(cols->input));
                return set_error(err, LSTMSRC_ERR_ARG, "%s:1: empty name in column list \"%s\"",
                                 src, l);
            }
            if ((st = pick(rw, header, src, tok, len, err))) return st;
            if (!comma) return LSTMSRC_OK;
            p = comma + 1;
        }
    }
    rw->idx[rw->f++] = rw->time_col == 0 && rw->ncols > 1 ? 1 : 0;
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_rows_open(const char *path, const struct lstmsrc_columns *cols,
                                      struct lstmsrc_rows **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && out);
    enum lstmsrc_status st;
    char **header = NULL;
    int nf = 0, ncols = 0;
    struct lstmsrc_rows *rw = calloc(1, sizeof *rw);
    if (!rw) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", path);
    if ((st = csv_open_file(path, &rw->r, err))) goto fail;
    const char *src = csv_name(rw->r);
    if ((st = csv_next(rw->r, &nf, err))) goto fail;
    if (nf == 0) {
        st = set_error(err, LSTMSRC_ERR_PARSE, "%s: empty file, expected a header line", src);
        goto fail;
    }
    header = calloc((size_t)nf, sizeof *header);
    rw->idx = malloc(LSTMSRC_MAX_INPUTS * sizeof *rw->idx);
    if (!header || !rw->idx) goto nomem;
    for (; ncols < nf; ncols++) {
        size_t len;
        const char *s = csv_field(rw->r, ncols, &len);
        columns_trim(&s, &len);
        if (!(header[ncols] = str_ndup(s, len))) goto nomem;
    }
    rw->ncols = ncols;
    rw->diff_finite = cols && cols->diff_finite;
    if (cols && cols->missing) {
        if (!(rw->missing_copy = str_dup(cols->missing))) goto nomem;
        rw->missing = rw->missing_copy;
    }
    rw->use_invalid_below = cols && cols->use_invalid_below;
    rw->fill = cols ? cols->fill : 0;
    rw->fill_max = !rw->fill ? 0 : cols->fill_max > 0 ? cols->fill_max : LSTMSRC_FILL_MAX_DEFAULT;
    rw->decimal = cols ? cols->decimal : 0;
    rw->invalid_below = cols ? cols->invalid_below : 0.0f;
    /* the first data row shows whether a column holds time stamps */
    static const struct lstmsrc_columns none;
    if ((st = csv_next(rw->r, &rw->first_nf, err))) goto fail;
    rw->pending = 1;
    if ((st = lstmsrc_time_column_find(rw->r, rw->first_nf, header, ncols, cols ? cols : &none,
                                       &rw->time_col, &rw->time_kind, err)))
        goto fail;
    if (rw->time_col >= 0) {
        if (!(rw->time_name = str_dup(header[rw->time_col]))) goto nomem;
        if ((st = lstmsrc_time_bounds(src, cols ? cols : &none, &rw->from, &rw->until, err)))
            goto fail;
        rw->t_prev = -INFINITY;
        rw->max_gap = cols && cols->max_gap > 0.0  ? cols->max_gap
                      : cols && cols->period > 0.0 ? 1.5 * cols->period
                                                   : 0.0; /* 0: from the first step */
    }
    if ((st = resolve(rw, header, cols, src, err))) goto fail;
    for (int i = 0; i < rw->f; i++)
        if (rw->idx[i] == rw->time_col) {
            char t[EXCERPT + 1];
            str_excerpt(t, sizeof t, header[rw->time_col], strlen(header[rw->time_col]));
            st = set_error(err, LSTMSRC_ERR_ARG,
                           "%s:1: column \"%s\" is the time column, not an input (--no-time "
                           "reads it as numbers)",
                           src, t);
            goto fail;
        }
    str_array_free(header, ncols);
    *out = rw;
    return LSTMSRC_OK;
nomem:
    st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", path);
fail:
    str_array_free(header, ncols);
    lstmsrc_rows_close(rw);
    return st;
}

/* ============================== rows ============================== */

/* "a finite number" when strtod reads the whole cell (nan, inf, 1e39), else "a number". */
static enum lstmsrc_status number_error(const struct csv_reader *r, int col, const char *s,
                                        size_t len, struct lstmsrc_error *err)
{
    const char *t = s;
    size_t tl = len;
    columns_trim(&t, &tl);
    char *stop;
    double v = tl ? strtod(t, &stop) : 0.0;
    int finite_issue = tl && stop == t + tl && !isfinite((float)v);
    char x[EXCERPT + 1];
    str_excerpt(x, sizeof x, s, len);
    return set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld:%d: expected %s, found \"%s\"", csv_name(r),
                     csv_line(r), col + 1, finite_issue ? "a finite number" : "a number", x);
}

void lstmsrc_rows_missing(const struct lstmsrc_rows *r, size_t *cells, size_t *rows,
                          size_t *invalid, size_t *segments)
{
    if (cells) *cells = r->missing_cells;
    if (rows) *rows = r->missing_rows;
    if (invalid) *invalid = r->invalid_rows;
    if (segments) *segments = r->segments;
}

enum lstmsrc_status lstmsrc_rows_read(struct lstmsrc_rows *rw, float *x, size_t max, size_t *n,
                                      struct lstmsrc_error *err)
{
    return lstmsrc_rows_read_marked(rw, x, NULL, max, n, err);
}

const char *lstmsrc_rows_time(const struct lstmsrc_rows *r, int *kind, size_t *dropped,
                              size_t *gaps)
{
    if (kind) *kind = r->time_kind;
    if (dropped) *dropped = r->dropped;
    if (gaps) *gaps = r->gaps;
    return r->time_col >= 0 ? r->time_name : NULL;
}

enum lstmsrc_status lstmsrc_rows_read_marked(struct lstmsrc_rows *rw, float *x, uint8_t *mark,
                                             size_t max, size_t *n, struct lstmsrc_error *err)
{
    return lstmsrc_rows_read_timed(rw, x, NULL, mark, max, n, err);
}

static enum lstmsrc_status read_rows(struct lstmsrc_rows *rw, float *x, double *t, uint8_t *mark,
                                     size_t max, size_t *n, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(rw && n && (x || max == 0));
    enum lstmsrc_status st;
    const int f = rw->f;
    size_t got = 0;
    while (got < max && !rw->done) {
        int nf;
        if (rw->pending) {
            rw->pending = 0;
            nf = rw->first_nf;
        } else if ((st = csv_next(rw->r, &nf, err))) {
            return st;
        }
        if (nf == 0) {
            rw->done = 1;
            break;
        }
        if (nf != rw->ncols)
            return set_error(err, LSTMSRC_ERR_PARSE, "%s:%ld: expected %d fields, found %d",
                             csv_name(rw->r), csv_line(rw->r), rw->ncols, nf);
        int gap = 0;
        if (rw->time_col >= 0) {
            double tm;
            if ((st = lstmsrc_time_cell(rw->r, rw->time_col, rw->time_kind, rw->t_prev, &tm, err)))
                return st;
            rw->t_prev = tm;
            if (tm < rw->from || tm > rw->until) {
                rw->dropped++;
                continue;
            }
            if (rw->has_kept) {
                if (rw->max_gap <= 0.0) rw->max_gap = 1.5 * (tm - rw->t_kept);
                gap = tm - rw->t_kept > rw->max_gap;
                rw->gaps += (size_t)gap;
            }
            rw->t_kept = tm;
            rw->has_kept = 1;
            if (t) t[got] = tm;
        }
        if (gap && mark) { /* the stretch before the gap is a segment of its own */
            rw->in_segment = 0;
            rw->has_prev = 0;
        }
        float *xr = x + got * (size_t)f;
        int bad = 0;
        for (int i = 0; i < f; i++)
            if (!csv_field_float(rw->r, rw->idx[i], &xr[i])) {
                size_t len;
                const char *s = csv_field(rw->r, rw->idx[i], &len);
                if (rw->decimal != '.' && (rw->decimal == ',' || csv_separator(rw->r) != ',') &&
                    csv_parse_float_comma(s, len, &xr[i]))
                    continue; /* a decimal comma, as the loader reads it */
                if (mark && lstmsrc_cell_missing(rw->missing, s, len)) {
                    rw->missing_cells++;
                    bad = 1;
                    continue;
                }
                return number_error(rw->r, rw->idx[i], s, len, err);
            }
        if (mark && !bad && rw->use_invalid_below && xr[0] < rw->invalid_below) {
            rw->invalid_rows++;
            bad = 1;
        }
        if (mark) {
            if (bad) {
                rw->missing_rows++;
                memcpy(xr, rw->last, (size_t)f * sizeof *xr);
                mark[got] = gap ? ROW_MISSING_GAP : LSTMSRC_ROW_MISSING;
                rw->in_segment = 0;
                rw->has_prev = 0; /* a difference never spans the hole */
                got++;
                continue;
            }
            mark[got] = rw->in_segment || rw->segments == 0 ? LSTMSRC_ROW_OK
                        : gap                               ? ROW_TIME_BREAK
                                                            : LSTMSRC_ROW_BREAK;
            if (!rw->in_segment) rw->segments++;
            rw->in_segment = 1;
            memcpy(rw->last, xr, (size_t)f * sizeof *xr);
        }
        if (rw->diff_finite) {
            for (int i = 0; i < f && rw->has_prev; i++)
                if (!isfinite(xr[i] - rw->prev[i])) /* as model_channels computes it */
                    return set_error(err, LSTMSRC_ERR_PARSE,
                                     "%s:%ld:%d: the step from %g to %g overflows a float in the "
                                     "first-difference channel; use the raw channel alone, or "
                                     "fix the reading",
                                     csv_name(rw->r), csv_line(rw->r), rw->idx[i] + 1,
                                     (double)rw->prev[i], (double)xr[i]);
            memcpy(rw->prev, xr, (size_t)f * sizeof *xr);
            rw->has_prev = 1;
        }
        got++;
    }
    *n = got;
    return LSTMSRC_OK;
}

/* Bridges the holes of x[0..total) (marks in mark) that cols->fill may: at most fill_max
 * missing rows after a good row (the one before x[0]: rw->out_last) and before a good row that
 * no time gap separates. A hole that reaches the end of the rows read, with more to come, moves
 * to the carry; returns the rows to hand out. */
static uint8_t public_mark(uint8_t m)
{
    return m == ROW_TIME_BREAK ? LSTMSRC_ROW_BREAK : m == ROW_MISSING_GAP ? LSTMSRC_ROW_MISSING : m;
}

static int missing(uint8_t m)
{
    return m == LSTMSRC_ROW_MISSING || m == ROW_MISSING_GAP;
}

static size_t fill_rows(struct lstmsrc_rows *rw, float *x, double *t, uint8_t *mark, size_t total)
{
    const size_t f = (size_t)rw->f;
    for (size_t h0 = 0; h0 < total;) {
        if (!missing(mark[h0])) {
            h0++;
            continue;
        }
        size_t h1 = h0;
        int gap = 0; /* a time gap inside the hole: it stays */
        for (; h1 < total && missing(mark[h1]); h1++)
            gap |= mark[h1] == ROW_MISSING_GAP;
        const size_t len = h1 - h0;
        const int before = h0 ? !missing(mark[h0 - 1]) : rw->out_good;
        if (h1 == total && !rw->done && len <= (size_t)rw->fill_max && before && h0 > 0) {
            /* its end is not read yet: wait in the carry */
            memcpy(rw->cx, x + h0 * f, len * f * sizeof *x);
            if (t) memcpy(rw->ct, t + h0, len * sizeof *t);
            memcpy(rw->cm, mark + h0, len);
            rw->ncarry = len;
            return h0;
        }
        if (before && !gap && h1 < total && mark[h1] == LSTMSRC_ROW_BREAK &&
            len <= (size_t)rw->fill_max) {
            const float *a = h0 ? x + (h0 - 1) * f : rw->out_last, *b = x + h1 * f;
            for (size_t h = h0; h < h1; h++) {
                const double w = (double)(h - h0 + 1) / (double)(len + 1);
                for (size_t i = 0; i < f; i++)
                    x[h * f + i] =
                        rw->fill == LSTMSRC_FILL_LINEAR ? (float)(a[i] + w * (b[i] - a[i])) : a[i];
                mark[h] = LSTMSRC_ROW_OK;
            }
            mark[h1] = LSTMSRC_ROW_OK; /* one segment across the hole */
            rw->segments--;
            rw->filled += len;
        }
        h0 = h1;
    }
    return total;
}

enum lstmsrc_status lstmsrc_rows_read_timed(struct lstmsrc_rows *rw, float *x, double *t,
                                            uint8_t *mark, size_t max, size_t *n,
                                            struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (rw->ncarry && mark &&
        max <= rw->ncarry) { /* a smaller read than the carry: hand it out first */
        const size_t f = (size_t)rw->f;
        memcpy(x, rw->cx, max * f * sizeof *x);
        if (t) memcpy(t, rw->ct, max * sizeof *t);
        for (size_t i = 0; i < max; i++)
            mark[i] = public_mark(rw->cm[i]);
        rw->ncarry -= max;
        memmove(rw->cx, rw->cx + max * f, rw->ncarry * f * sizeof *x);
        memmove(rw->ct, rw->ct + max, rw->ncarry * sizeof *t);
        memmove(rw->cm, rw->cm + max, rw->ncarry);
        rw->out_good = 0;
        *n = max;
        return LSTMSRC_OK;
    }
    if (!rw->fill || !mark || (max <= (size_t)rw->fill_max && !rw->ncarry)) {
        if ((st = read_rows(rw, x, t, mark, max, n, err))) return st;
        for (size_t i = 0; mark && i < *n; i++)
            mark[i] = public_mark(mark[i]);
        return LSTMSRC_OK;
    }
    if (!rw->cx) {
        rw->cx = malloc((size_t)rw->fill_max * (size_t)rw->f * sizeof *rw->cx);
        rw->ct = malloc((size_t)rw->fill_max * sizeof *rw->ct);
        rw->cm = malloc((size_t)rw->fill_max);
        if (!rw->cx || !rw->ct || !rw->cm)
            return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory for --fill",
                             csv_name(rw->r));
    }
    const size_t f = (size_t)rw->f, c = rw->ncarry;
    memcpy(x, rw->cx, c * f * sizeof *x);
    if (t) memcpy(t, rw->ct, c * sizeof *t);
    memcpy(mark, rw->cm, c);
    rw->ncarry = 0;
    size_t got = 0;
    if ((st = read_rows(rw, x + c * f, t ? t + c : NULL, mark + c, max - c, &got, err))) return st;
    size_t total = c + got, out = fill_rows(rw, x, t, mark, total);
    for (size_t i = 0; i < out; i++)
        mark[i] = public_mark(mark[i]);
    if (out) {
        rw->out_good = mark[out - 1] != LSTMSRC_ROW_MISSING;
        memcpy(rw->out_last, x + (out - 1) * f, f * sizeof *x);
    }
    *n = out;
    return LSTMSRC_OK;
}

size_t lstmsrc_rows_filled(const struct lstmsrc_rows *r)
{
    return r->filled;
}
