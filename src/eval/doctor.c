/*
 * doctor.c — looks at a data set before training and says, in plain words with numbers, what
 * will go wrong and what to do: label framing, class balance and what "all off" scores, input
 * scale, constant and duplicate columns, sources whose on-levels overlap (each other's or the
 * house with nothing on), on/off durations and the window that covers them, flickering labels,
 * suspicious readings (negative, outage-like runs of zeros, clipping, unexplained jumps) and
 * sources with too few positives, overall or in the validation part.
 *
 * Two stages: measure (numbers into the report), then diagnose (numbers into findings and
 * suggested settings), so every sentence is backed by a number a caller can read. Deliberately
 * not here: printing (the CLI formats the report), changing the data, anything needing a model.
 * Scratch: about 9 bytes per row, freed before returning; the report owns everything it holds.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/window.h"

/* ============================== thresholds ============================== */

#define MIN_LEVEL_ROWS 10      /* alone rows needed before a source's level is quoted */
#define CYCLE_GAP 5            /* off-gaps of at most this many rows join on-runs into a cycle */
#define OUTAGE_ROWS 3          /* consecutive ~0 rows that look like a logging outage... */
#define OUTAGE_FRACTION 0.01   /* ...where ~0 means at or below 1 % of the median */
#define NEAR_MAX_FRACTION 0.05 /* "near the maximum": within 5 % of the range below it */
#define FEW_ROWS 50            /* fewer on-rows, or... */
#define FEW_RUNS 5             /* ...fewer on-runs than this: too few to learn from */
#define FEW_VAL_ROWS 10        /* on-rows a source needs in the validation part */
#define SEQ_MIN 5
#define SEQ_CAP 240        /* longer windows cost more than they usually give */
#define FLICKER_SHARE 0.25 /* single-row runs above this share of runs... */
#define FLICKER_MIN 10     /* ...and at least this many of them */
#define OVERLAP_NOTE 0.25  /* share of readings inside another's range worth a note */
#define OVERLAP_WARN 0.5
#define BASE_LIKE_WARN 0.2 /* share of on-rows reading like "nothing on" */
#define RARE_SHARE 0.05    /* sources on in fewer rows than this are rare */
#define JUMP_RATE_NOTE 0.2 /* unexplained jumps per 1000 rows worth a note... */
#define JUMP_RATE_WARN 1.0 /* ...and a warning */

static const double val_fraction_tries[] = {0.1, 0.15, 0.2, 0.25, 0.3};

/* ============================== growable text ============================== */

struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) LSTMSRC_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t need;
    if (n < 0 || !add_size(b->len, (size_t)n + 1, &need)) {
        b->oom = 1;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < need)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Hands the text over (an empty string when nothing was written); NULL when out of memory. */
static char *sb_take(struct sbuf *b)
{
    char *s = b->oom ? NULL : b->s ? b->s : str_dup("");
    if (b->oom) free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
    return s;
}

/* A number as a person writes it: no exponent, digits matched to the size. */
struct num {
    char s[32];
};
static const char *num(struct num *n, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(n->s, sizeof n->s, "?");
    else if (a >= 100.0 || v == floor(v))
        snprintf(n->s, sizeof n->s, "%.0f", v);
    else if (a >= 10.0)
        snprintf(n->s, sizeof n->s, "%.1f", v);
    else
        snprintf(n->s, sizeof n->s, "%.3g", v);
    return n->s;
}

/* A share 0..1 as a percentage with the precision it deserves. */
static const char *pct(struct num *n, double share)
{
    double p = 100.0 * share;
    if (p > 0.0 && p < 0.1)
        snprintf(n->s, sizeof n->s, "%.2f %%", p);
    else
        snprintf(n->s, sizeof n->s, "%.1f %%", p);
    return n->s;
}

/* ============================== small statistics ============================== */

static int cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

static int cmp_size(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return (a > b) - (a < b);
}

/* Quantile q of v[0..n) sorted ascending, linearly interpolated (numpy's default); NaN if n 0. */
static double quantile_f(const float *v, size_t n, double q)
{
    if (n == 0) return NAN;
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n) return v[n - 1];
    double frac = pos - (double)i;
    return (double)v[i] + frac * ((double)v[i + 1] - (double)v[i]);
}

/* Nearest-rank quantile of sorted run lengths: always a length that occurred, in whole rows. */
static double quantile_z(const size_t *v, size_t n, double q)
{
    if (n == 0) return 0.0;
    size_t rank = (size_t)ceil(q * (double)n);
    return (double)v[rank ? rank - 1 : 0];
}

/* ============================== label access ============================== */

/* Public label accessors, here because the doctor and the CLI's pictures are their users; they
 * belong beside lstmsrc_dataset_inputs_data in dataset.c. */
const uint8_t *lstmsrc_dataset_labels_data(const struct lstmsrc_dataset *ds)
{
    return ds->has_labels && ds->task == LSTMSRC_TASK_MULTILABEL ? ds->y : NULL;
}

const int32_t *lstmsrc_dataset_classes_data(const struct lstmsrc_dataset *ds)
{
    return ds->has_labels && ds->task == LSTMSRC_TASK_MULTICLASS ? ds->cls : NULL;
}

/* ============================== report lifetime ============================== */

void lstmsrc_report_free(struct lstmsrc_report *r)
{
    if (!r) return;
    for (int i = 0; i < r->n_findings; i++) {
        free((void *)r->findings[i].message);
        free((void *)r->findings[i].advice);
    }
    free(r->findings);
    free((void *)r->seq_len_reason);
    free((void *)r->val_fraction_reason);
    for (int i = 0; r->input && i < r->inputs; i++)
        free((void *)r->input[i].name);
    for (int j = 0; r->output && j < r->outputs; j++)
        free((void *)r->output[j].name);
    free((void *)r->source);
    free(r->input);
    free(r->output);
    free(r->overlap);
    free(r);
}

const char *lstmsrc_finding_code_str(enum lstmsrc_finding_code code)
{
    switch (code) {
    case LSTMSRC_FINDING_FRAMING:
        return "framing";
    case LSTMSRC_FINDING_BALANCE:
        return "balance";
    case LSTMSRC_FINDING_SCALE:
        return "scale";
    case LSTMSRC_FINDING_CONSTANT:
        return "constant";
    case LSTMSRC_FINDING_DUPLICATE:
        return "duplicate";
    case LSTMSRC_FINDING_OVERLAP:
        return "overlap";
    case LSTMSRC_FINDING_DURATION:
        return "duration";
    case LSTMSRC_FINDING_FLICKER:
        return "flicker";
    case LSTMSRC_FINDING_NEGATIVE:
        return "negative";
    case LSTMSRC_FINDING_OUTAGE:
        return "outage";
    case LSTMSRC_FINDING_CLIPPED:
        return "clipped";
    case LSTMSRC_FINDING_JUMP:
        return "jump";
    case LSTMSRC_FINDING_FEW_POSITIVES:
        return "few_positives";
    case LSTMSRC_FINDING_VALIDATION:
        return "validation";
    case LSTMSRC_FINDING_OVERFLOW:
        return "overflow";
    case LSTMSRC_FINDING_COUNTER:
        return "counter";
    }
    return "unknown";
}

const char *lstmsrc_severity_str(enum lstmsrc_severity severity)
{
    switch (severity) {
    case LSTMSRC_SEVERITY_INFO:
        return "info";
    case LSTMSRC_SEVERITY_WARN:
        return "warn";
    case LSTMSRC_SEVERITY_PROBLEM:
        return "problem";
    }
    return "unknown";
}

/* ============================== measuring ============================== */

/* What the measuring stage shares: the data set, the label accessor, scratch. */
struct ctx {
    const struct lstmsrc_dataset *ds;
    struct lstmsrc_report *r;
    size_t n;
    int f, k;
    float *fbuf;    /* (n) scratch readings, sorted in place */
    size_t *zbuf;   /* (n/2 + 2) scratch run lengths */
    uint8_t *count; /* (n) sources on per row (multi-label), capped at 255 */
};

/* Output j on at row t: the source's bit, or the row's class being j. */
static int is_on(const struct lstmsrc_dataset *ds, size_t t, int j)
{
    if (ds->task == LSTMSRC_TASK_MULTILABEL) return ds->y[t * (size_t)ds->k + (size_t)j] != 0;
    return ds->cls[t] == j;
}

/* Rows where j and nothing else is on. */
static int is_alone(const struct ctx *c, size_t t, int j)
{
    if (c->ds->task == LSTMSRC_TASK_MULTICLASS) return c->ds->cls[t] == j;
    return c->count[t] == 1 && is_on(c->ds, t, j);
}

static void measure_input(struct ctx *c, int ch)
{
    const struct lstmsrc_dataset *ds = c->ds;
    struct lstmsrc_input_stats *s = &c->r->input[ch];
    size_t n = c->n, F = (size_t)c->f;
    const float *x = ds->x + ch; /* column ch, stride F */

    double sum = 0.0, ss = 0.0, lo = x[0], hi = x[0], step = 0.0;
    for (size_t t = 0; t < n; t++) {
        double v = x[t * F];
        sum += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (v < 0.0) {
            if (!s->negative) s->first_negative = t + 1;
            s->negative++;
        }
        if (t > 0 && fabs(v - x[(t - 1) * F]) > step) step = fabs(v - x[(t - 1) * F]);
        c->fbuf[t] = (float)v;
    }
    s->mean = sum / (double)n;
    for (size_t t = 0; t < n; t++)
        ss += (x[t * F] - s->mean) * (x[t * F] - s->mean);
    s->std = sqrt(ss / (double)n);
    s->min = lo;
    s->max = hi;
    s->max_step = step;
    qsort(c->fbuf, n, sizeof *c->fbuf, cmp_float);
    s->median = quantile_f(c->fbuf, n, 0.5);

    /* Runs at ~0 only mean something where the channel normally sits well above zero (a house
     * always draws some base load; a water meter at 0 is just a quiet house). */
    if (s->median > 0.0) {
        double zero = OUTAGE_FRACTION * s->median;
        size_t run = 0;
        for (size_t t = 0; t <= n; t++) {
            if (t < n && x[t * F] <= zero) {
                run++;
                continue;
            }
            if (run >= OUTAGE_ROWS) {
                if (!s->outage_runs) s->first_outage = t - run + 1;
                s->outage_runs++;
                s->outage_rows += run;
                if (run > s->longest_outage) s->longest_outage = run;
            }
            run = 0;
        }
    }

    double near = hi - NEAR_MAX_FRACTION * (hi - lo);
    for (size_t t = 0; t < n; t++) {
        double v = x[t * F];
        if (v == hi)
            s->at_max++;
        else if (v >= near)
            s->near_max++;
    }
}

/* Run lengths, cycles, flicker and the validation count of output j. */
static void measure_runs(struct ctx *c, int j)
{
    struct lstmsrc_output_stats *o = &c->r->output[j];
    size_t n = c->n, *runs = c->zbuf, nr = 0;
    size_t single_on = 0, single_off = 0, gaps = 0;

    /* on-runs */
    for (size_t t = 0; t < n;) {
        if (!is_on(c->ds, t, j)) {
            t++;
            continue;
        }
        size_t e = t;
        while (e < n && is_on(c->ds, e, j))
            e++;
        runs[nr++] = e - t;
        single_on += e - t == 1;
        t = e;
    }
    o->on_runs = nr;
    if (nr) {
        qsort(runs, nr, sizeof *runs, cmp_size);
        o->on_run_median = quantile_z(runs, nr, 0.5);
        o->on_run_p90 = quantile_z(runs, nr, 0.9);
    }

    /* off-gaps between two on-runs (the leading and trailing ones are cut by the file) */
    size_t ng = 0, last_on = SIZE_MAX;
    for (size_t t = 0; t < n; t++) {
        if (!is_on(c->ds, t, j)) continue;
        if (last_on != SIZE_MAX && t > last_on + 1) {
            size_t g = t - last_on - 1;
            runs[ng++] = g;
            single_off += g == 1;
        }
        last_on = t;
    }
    gaps = ng;
    if (ng) {
        qsort(runs, ng, sizeof *runs, cmp_size);
        o->off_run_median = quantile_z(runs, ng, 0.5);
        o->off_run_p90 = quantile_z(runs, ng, 0.9);
    }
    o->flicker = nr + gaps ? (double)(single_on + single_off) / (double)(nr + gaps) : 0.0;

    /* cycles: on-runs joined across gaps of at most CYCLE_GAP rows */
    size_t nc = 0, first = SIZE_MAX;
    last_on = SIZE_MAX;
    for (size_t t = 0; t <= n; t++) {
        int on = t < n && is_on(c->ds, t, j);
        if (on && first != SIZE_MAX && t - last_on - 1 > CYCLE_GAP) {
            runs[nc++] = last_on - first + 1;
            first = SIZE_MAX;
        }
        if (on) {
            if (first == SIZE_MAX) first = t;
            last_on = t;
        }
        if (t == n && first != SIZE_MAX) runs[nc++] = last_on - first + 1;
    }
    o->cycles = nc;
    if (nc) {
        qsort(runs, nc, sizeof *runs, cmp_size);
        o->cycle_median = quantile_z(runs, nc, 0.5);
        o->cycle_p90 = quantile_z(runs, nc, 0.9);
    }

    for (size_t t = n - c->r->val_rows; t < n; t++)
        o->val_on_rows += is_on(c->ds, t, j);
    for (size_t t = n; t > 0 && !o->last_on_row; t--)
        if (is_on(c->ds, t - 1, j)) o->last_on_row = t;
}

/* Level of input 0 while j alone is on, and how much of it reads like "nothing on". */
static void measure_level(struct ctx *c, int j)
{
    struct lstmsrc_output_stats *o = &c->r->output[j];
    const float *x = c->ds->x;
    size_t F = (size_t)c->f, m = 0;
    for (size_t t = 0; t < c->n; t++)
        if (is_alone(c, t, j)) c->fbuf[m++] = x[t * F];
    o->alone_rows = m;
    o->level_p10 = o->level_median = o->level_p90 = o->base_like = NAN;
    if (m < MIN_LEVEL_ROWS) return;
    size_t low = 0;
    if (isfinite(c->r->base_p90))
        for (size_t i = 0; i < m; i++)
            low += c->fbuf[i] <= c->r->base_p90;
    qsort(c->fbuf, m, sizeof *c->fbuf, cmp_float);
    o->level_p10 = quantile_f(c->fbuf, m, 0.1);
    o->level_median = quantile_f(c->fbuf, m, 0.5);
    o->level_p90 = quantile_f(c->fbuf, m, 0.9);
    if (isfinite(c->r->base_p90)) o->base_like = (double)low / (double)m;
}

/* overlap[j*K+k]: share of j's alone readings inside k's middle 80 %. One pass per j. */
static void measure_overlap(struct ctx *c)
{
    int K = c->k;
    const float *x = c->ds->x;
    size_t F = (size_t)c->f, inside[LSTMSRC_MAX_CLASSES];
    for (int j = 0; j < K; j++) {
        const struct lstmsrc_output_stats *oj = &c->r->output[j];
        for (int k = 0; k < K; k++) {
            c->r->overlap[(size_t)j * (size_t)K + (size_t)k] = NAN;
            inside[k] = 0;
        }
        if (!isfinite(oj->level_median)) continue;
        for (size_t t = 0; t < c->n; t++) {
            if (!is_alone(c, t, j)) continue;
            double v = x[t * F];
            for (int k = 0; k < K; k++) {
                const struct lstmsrc_output_stats *ok = &c->r->output[k];
                inside[k] += v >= ok->level_p10 && v <= ok->level_p90;
            }
        }
        for (int k = 0; k < K; k++)
            if (k != j && isfinite(c->r->output[k].level_median))
                c->r->overlap[(size_t)j * (size_t)K + (size_t)k] =
                    (double)inside[k] / (double)oj->alone_rows;
    }
}

/* Steps of input 0 larger than the smallest labelled source's level above the base load, with
 * no labelled source switching at t-1, t or t+1: other loads of a labelled source's size. */
static void measure_jumps(struct ctx *c)
{
    struct lstmsrc_report *r = c->r;
    struct lstmsrc_input_stats *s = &r->input[0];
    double thr = INFINITY;
    for (int j = 0; j < c->k; j++) {
        double above = r->output[j].level_median - r->base_median;
        if (isfinite(above) && above > 0.0 && above < thr) thr = above;
    }
    if (!isfinite(thr) || c->n < 2) return;
    s->jump_threshold = thr;
    /* count[] is free again: mark rows where some output differs from the row before */
    uint8_t *chg = c->count;
    chg[0] = 0;
    for (size_t t = 1; t < c->n; t++) {
        int d = 0;
        for (int j = 0; j < c->k && !d; j++)
            d = is_on(c->ds, t, j) != is_on(c->ds, t - 1, j);
        chg[t] = (uint8_t)d;
    }
    const float *x = c->ds->x;
    size_t F = (size_t)c->f;
    for (size_t t = 1; t < c->n; t++) {
        if (fabs((double)x[t * F] - (double)x[(t - 1) * F]) <= thr) continue;
        int explained = chg[t] || chg[t - 1] || (t + 1 < c->n && chg[t + 1]);
        s->jumps += !explained;
    }
}

static void measure_labels(struct ctx *c)
{
    struct lstmsrc_report *r = c->r;
    const struct lstmsrc_dataset *ds = c->ds;
    size_t n = c->n, F = (size_t)c->f;
    int K = c->k;

    struct lstmsrc_train_config def; /* what --pos-weight auto would use */
    lstmsrc_train_config_default(&def);
    size_t per[LSTMSRC_MAX_CLASSES] = {0};
    for (size_t t = 0; t < n; t++) {
        int cnt = 0;
        for (int j = 0; j < K; j++)
            if (is_on(ds, t, j)) {
                per[j]++;
                cnt++;
            }
        c->count[t] = (uint8_t)(cnt > 255 ? 255 : cnt);
        r->rows_none_on += cnt == 0;
        r->rows_multi_on += cnt >= 2;
    }
    for (int j = 0; j < K; j++) {
        struct lstmsrc_output_stats *o = &r->output[j];
        o->on_rows = per[j];
        o->on_share = (double)per[j] / (double)n;
        double w = per[j] ? (double)(n - per[j]) / (double)per[j] : 0.0;
        o->pos_weight = w > def.pos_weight_cap ? def.pos_weight_cap : w < 1.0 ? 1.0 : w;
        if (per[j] > per[r->majority_class]) r->majority_class = j;
    }
    r->all_off_accuracy = ds->task == LSTMSRC_TASK_MULTILABEL
                              ? (double)r->rows_none_on / (double)n
                              : (double)per[r->majority_class] / (double)n;

    /* the house with nothing on: multi-label rows with no source on */
    r->base_p10 = r->base_median = r->base_p90 = NAN;
    if (ds->task == LSTMSRC_TASK_MULTILABEL && r->rows_none_on >= MIN_LEVEL_ROWS) {
        size_t m = 0;
        for (size_t t = 0; t < n; t++)
            if (c->count[t] == 0) c->fbuf[m++] = ds->x[t * F];
        qsort(c->fbuf, m, sizeof *c->fbuf, cmp_float);
        r->base_p10 = quantile_f(c->fbuf, m, 0.1);
        r->base_median = quantile_f(c->fbuf, m, 0.5);
        r->base_p90 = quantile_f(c->fbuf, m, 0.9);
    }

    for (int j = 0; j < K; j++) {
        measure_runs(c, j);
        measure_level(c, j);
    }
    measure_overlap(c);
    if (ds->task == LSTMSRC_TASK_MULTILABEL) measure_jumps(c); /* last: reuses count[] */
}

/* ============================== diagnosing ============================== */

static struct lstmsrc_finding *add_finding(struct lstmsrc_report *r, int *cap,
                                           enum lstmsrc_severity sev,
                                           enum lstmsrc_finding_code code, int output, int input,
                                           double value, struct sbuf *msg, struct sbuf *adv)
{
    char *m = sb_take(msg), *a = sb_take(adv);
    if (!m || !a) goto fail;
    if (r->n_findings == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        struct lstmsrc_finding *f = xmalloc_n((size_t)nc, sizeof *f);
        if (!f) goto fail;
        if (r->n_findings) memcpy(f, r->findings, (size_t)r->n_findings * sizeof *f);
        free(r->findings);
        r->findings = f;
        *cap = nc;
    }
    struct lstmsrc_finding *f = &r->findings[r->n_findings++];
    f->severity = sev;
    f->code = code;
    f->output = output;
    f->other = -1;
    f->input = input;
    f->value = value;
    f->message = m;
    f->advice = a;
    return f;
fail:
    free(m);
    free(a);
    return NULL;
}

/* Name of output j for messages. */
static const char *oname(const struct lstmsrc_report *r, int j)
{
    return r->output[j].name ? r->output[j].name : "?";
}

/* The diagnosing stage: fills findings; returns 0 when out of memory. Each block reads numbers
 * from the report and writes one finding: message (what) and advice (what to do). */
struct diag {
    struct lstmsrc_report *r;
    int cap;
    struct sbuf m, a;
    struct num n1, n2, n3, n4, n5;
    const struct lstmsrc_train_config *def;
    /* (outputs) 1 where the reading's level alone does not identify the output (or its level
     * is unknown): its window must show context; set by diagnose_overlap */
    uint8_t context[LSTMSRC_MAX_CLASSES];
};

#define ADD(d, sev, code, out, in, value)                                                          \
    add_finding((d)->r, &(d)->cap, sev, code, out, in, value, &(d)->m, &(d)->a)

/* A cumulative counter: inside segments input i never decreases, and rises in at least
 * COUNTER_MIN_RISES steps and COUNTER_MIN_SHARE of them. A power reading falls whenever a load
 * switches off, so one decrease rules it out. Counts the rising steps into *rises. */
#define COUNTER_MIN_RISES 50
#define COUNTER_MIN_SHARE 0.01
static int is_counter(const struct lstmsrc_dataset *ds, int i, size_t *rises)
{
    struct window_run one;
    size_t n_runs, steps = 0, up = 0;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    const size_t f = (size_t)ds->f;
    for (size_t r = 0; r < n_runs; r++)
        for (size_t t = runs[r].start + 1; t < runs[r].start + runs[r].len; t++) {
            const float a = ds->x[(t - 1) * f + (size_t)i], b = ds->x[t * f + (size_t)i];
            if (b < a) return 0;
            up += b > a;
            steps++;
        }
    *rises = up;
    return up >= COUNTER_MIN_RISES && (double)up >= COUNTER_MIN_SHARE * (double)steps;
}

/* Each input_* step below adds the finding its name says about input i when the numbers call
 * for it; each returns 0 when out of memory, 1 otherwise. */

static int input_constant(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    sb_printf(&d->m, "Input \"%s\" is %s in every row: it carries no information.", s->name,
              num(&d->n1, s->min));
    sb_printf(&d->a, "Leave it out of --input.");
    return ADD(d, LSTMSRC_SEVERITY_PROBLEM, LSTMSRC_FINDING_CONSTANT, -1, i, s->min) != NULL;
}

/* The step where the loader saw the first difference overflow a float, when it is input i's. */
static int input_overflow(struct diag *d, const struct lstmsrc_dataset *ds, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    if (!ds->diff_bad_row || ds->diff_bad_input != i) return 1;
    const size_t row = ds->diff_bad_row - 1, f = (size_t)ds->f;
    sb_printf(&d->m,
              "Input \"%s\" steps from %g to %g at row %zu (line %ld): the first "
              "difference overflows a float, so training with the first-difference "
              "channel (the default) stops there.",
              s->name, (double)ds->x[(row - 1) * f + (size_t)i], (double)ds->x[row * f + (size_t)i],
              ds->diff_bad_row, ds->diff_bad_line);
    sb_printf(&d->a, "Fix the reading there (a logging glitch?), or train with --features "
                     "raw.");
    return ADD(d, LSTMSRC_SEVERITY_PROBLEM, LSTMSRC_FINDING_OVERFLOW, -1, i,
               (double)ds->diff_bad_row) != NULL;
}

/* A cumulative counter; counts it into *counters. */
static int input_counter(struct diag *d, const struct lstmsrc_dataset *ds, int i, int *counters)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    size_t rises;
    if (!is_counter(ds, i, &rises)) return 1;
    sb_printf(&d->m,
              "Input \"%s\" never decreases and rises in %zu steps, from %s to "
              "%s: it is a cumulative counter (an energy or volume register), "
              "and what the sources draw is its first difference.",
              s->name, rises, num(&d->n1, s->min), num(&d->n2, s->max));
    sb_printf(&d->a, "Train on the first difference alone, --features diff (train "
                     "chooses it by itself when every input is a counter and --features "
                     "is not given); the level of a counter says nothing but how long "
                     "the meter has run.");
    if (!ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_COUNTER, -1, i, (double)rises)) return 0;
    (*counters)++;
    return 1;
}

/* The input's range, always reported. */
static int input_scale(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    sb_printf(&d->m, "Input \"%s\" ranges from %s to %s (mean %s, std %s, median %s).", s->name,
              num(&d->n1, s->min), num(&d->n2, s->max), num(&d->n3, s->mean), num(&d->n4, s->std),
              num(&d->n5, s->median));
    if (s->median > 0.0 && s->mean > 1.5 * s->median)
        sb_printf(&d->m, " The mean is %.1fx the median: rare high loads dominate the range.",
                  s->mean / s->median);
    sb_printf(&d->a, "Raw units are fine: lstmsrc standardises each input with the training "
                     "part's mean and std and stores them in the model.");
    return ADD(d, LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_SCALE, -1, i, s->std) != NULL;
}

static int input_negative(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    if (!s->negative || !(s->median > 0.0)) return 1;
    sb_printf(&d->m,
              "Input \"%s\" is negative in %zu row%s (first at row %zu), although "
              "it is normally above zero (median %s).",
              s->name, s->negative, s->negative == 1 ? "" : "s", s->first_negative,
              num(&d->n1, s->median));
    sb_printf(&d->a, "Check the meter's sign convention or an export flow (solar); fix "
                     "or cut those rows, or the model learns from readings that mean "
                     "something else.");
    return ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_NEGATIVE, -1, i, (double)s->negative) !=
           NULL;
}

static int input_outage(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    if (!s->outage_runs) return 1;
    sb_printf(&d->m,
              "Input \"%s\" sits at ~0 (at most %s, 1 %% of its median) for %d or "
              "more rows in a row %zu time%s, %zu rows in all (longest %zu rows, "
              "first at row %zu). A house never draws nothing: these look like "
              "logging outages.",
              s->name, num(&d->n1, OUTAGE_FRACTION * s->median), OUTAGE_ROWS, s->outage_runs,
              s->outage_runs == 1 ? "" : "s", s->outage_rows, s->longest_outage, s->first_outage);
    sb_printf(&d->a, "Cut those stretches out (or split the file there); a model "
                     "trained through them learns that \"nothing on\" can read 0.");
    return ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_OUTAGE, -1, i, (double)s->outage_rows) !=
           NULL;
}

static int input_clipped(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    if (!(s->at_max >= 3 && s->at_max >= 2 * s->near_max)) return 1;
    sb_printf(&d->m, "Input \"%s\" equals its maximum %s in %zu rows, while ", s->name,
              num(&d->n1, s->max), s->at_max);
    if (s->near_max)
        sb_printf(&d->m, "only %zu lie just below it", s->near_max);
    else
        sb_printf(&d->m, "none lies just below it");
    sb_printf(&d->m, ": the reading looks clipped (a sensor or export cap).");
    sb_printf(&d->a, "Above the cap the reading says nothing about which loads add up: "
                     "expect errors when several large sources run together.");
    return ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_CLIPPED, -1, i, (double)s->at_max) != NULL;
}

/* Steps of a labelled source's size while no labelled source switches. */
static int input_jumps(struct diag *d, int i)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    double rate = 1000.0 * (double)s->jumps / (double)d->r->rows;
    if (!s->jumps || !(rate >= JUMP_RATE_NOTE)) return 1;
    sb_printf(&d->m,
              "%zu step%s of \"%s\" larger than %s (the smallest labelled source's "
              "typical level above the base load) happen while no labelled "
              "source switches: %.1f per 1000 rows; the largest step is %s.",
              s->jumps, s->jumps == 1 ? "" : "s", s->name, num(&d->n1, s->jump_threshold), rate,
              num(&d->n2, s->max_step));
    sb_printf(&d->a, "Unlabelled loads of a labelled source's size (or glitches) are "
                     "present; the model will take some for labelled sources (false "
                     "alarms). A window that shows their shape helps; labelling them "
                     "helps more.");
    return ADD(d, rate >= JUMP_RATE_WARN ? LSTMSRC_SEVERITY_WARN : LSTMSRC_SEVERITY_INFO,
               LSTMSRC_FINDING_JUMP, -1, i, (double)s->jumps) != NULL;
}

/* Input i's findings, in report order; a constant input gets that finding alone. */
static int diagnose_input(struct diag *d, const struct lstmsrc_dataset *ds, int i, int *counters)
{
    const struct lstmsrc_input_stats *s = &d->r->input[i];
    if (s->min == s->max) return input_constant(d, i);
    return input_overflow(d, ds, i) && input_counter(d, ds, i, counters) && input_scale(d, i) &&
           input_negative(d, i) && input_outage(d, i) && input_clipped(d, i) && input_jumps(d, i);
}

/* Input columns identical in every row, each pair once. */
static int diagnose_duplicates(struct diag *d, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_report *r = d->r;
    size_t F = (size_t)r->inputs;
    for (int a = 0; a < r->inputs; a++)
        for (int b = a + 1; b < r->inputs; b++) {
            size_t t = 0;
            while (t < r->rows && ds->x[t * F + (size_t)a] == ds->x[t * F + (size_t)b])
                t++;
            if (t < r->rows) continue;
            sb_printf(&d->m, "Inputs \"%s\" and \"%s\" are identical in every row.",
                      r->input[a].name, r->input[b].name);
            sb_printf(&d->a, "Keep one of them in --input.");
            struct lstmsrc_finding *f =
                ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_DUPLICATE, -1, a, 1.0);
            if (!f) return 0;
            f->other = b;
        }
    return 1;
}

/* The findings about the inputs, one input after another, then the pairs alike; suggests
 * --features diff when every input is a counter. */
static int diagnose_inputs(struct diag *d, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_report *r = d->r;
    int counters = 0;
    for (int i = 0; i < r->inputs; i++)
        if (!diagnose_input(d, ds, i, &counters)) return 0;
    if (counters == r->inputs) r->suggested_features = LSTMSRC_FEATURE_DIFF;
    return diagnose_duplicates(d, ds);
}

static int diagnose_framing(struct diag *d, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_report *r = d->r;
    size_t n = r->rows;
    int K = r->outputs;
    if (r->task == LSTMSRC_TASK_MULTICLASS) {
        size_t empty = 0;
        for (int j = 0; j < K; j++)
            empty += r->output[j].on_rows == 0;
        if (r->label_mode == LSTMSRC_LABELS_COMBINED) {
            sb_printf(&d->m,
                      "Labels are %d sources combined into %d classes (one per on/off "
                      "combination); %zu of them never occur.",
                      ds->n_labels, K, empty);
            sb_printf(&d->a, "The default multi-label framing learns each source from all its "
                             "rows instead of splitting them over combinations.");
        } else {
            sb_printf(&d->m, "Labels are one class per row, %d classes (multi-class: softmax).", K);
            if (empty)
                sb_printf(&d->m, " %zu class%s never occur%s.", empty, empty == 1 ? "" : "es",
                          empty == 1 ? "s" : "");
        }
        return ADD(d, LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_FRAMING, -1, -1, 0.0) != NULL;
    }
    double multi = (double)r->rows_multi_on / (double)n;
    double none = (double)r->rows_none_on / (double)n;
    if (r->rows_multi_on == 0 && r->rows_none_on == 0) {
        sb_printf(&d->m, "Exactly one source is on in every row: the labels are one-of-%d.", K);
        sb_printf(&d->a, "Multi-label (the default) works; a class column (--class-column) "
                         "with a softmax fits such labels as well.");
    } else {
        if (r->rows_multi_on)
            sb_printf(&d->m,
                      "Labels are multi-hot: two or more sources are on together in %zu "
                      "rows (%s) and none is on in %zu rows (%s). That is multi-label (one "
                      "yes/no per source, sigmoid), not one-of-K (softmax): a softmax over "
                      "sources can say neither \"none\" nor \"two at once\".",
                      r->rows_multi_on, pct(&d->n1, multi), r->rows_none_on, pct(&d->n2, none));
        else
            sb_printf(&d->m,
                      "At most one source is on at a time here, and none is on in %zu "
                      "rows (%s): one-of-K over the sources (softmax) cannot say "
                      "\"none\". Multi-label (one yes/no per source, sigmoid) can, and "
                      "stays right when two sources do run together.",
                      r->rows_none_on, pct(&d->n1, none));
        sb_printf(&d->a, "Keep the default multi-label framing.");
        if (K <= LSTMSRC_MAX_COMBINED) {
            /* what --task multiclass would make of it: 2^K combinations, how many seen */
            size_t combos[1 << LSTMSRC_MAX_COMBINED];
            memset(combos, 0, sizeof combos);
            for (size_t t = 0; t < n; t++) {
                int cls = 0;
                for (int j = 0; j < K; j++)
                    cls = (cls << 1) | is_on(ds, t, j);
                combos[cls]++;
            }
            int seen = 0;
            size_t rarest = n;
            for (int c = 0; c < (1 << K); c++)
                if (combos[c]) {
                    seen++;
                    if (combos[c] < rarest) rarest = combos[c];
                }
            sb_printf(&d->a,
                      " --task multiclass would make %d classes of the %d sources, %d of "
                      "which occur, the rarest in %zu row%s.",
                      1 << K, K, seen, rarest, rarest == 1 ? "" : "s");
        }
    }
    return ADD(d, LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_FRAMING, -1, -1, multi) != NULL;
}

static int diagnose_balance(struct diag *d)
{
    struct lstmsrc_report *r = d->r;
    int K = r->outputs, rare = 0;
    for (int j = 0; j < K; j++)
        rare |= r->output[j].on_share < RARE_SHARE;
    if (r->task == LSTMSRC_TASK_MULTICLASS) {
        sb_printf(&d->m,
                  "The most common class, \"%s\", covers %s of rows: always answering it "
                  "scores %s accuracy and macro F1 near 0.",
                  oname(r, r->majority_class), pct(&d->n1, r->all_off_accuracy),
                  pct(&d->n2, r->all_off_accuracy));
        sb_printf(&d->a, "Judge a model by per-class F1 beside this baseline (lstmsrc eval "
                         "prints both), not by accuracy.");
        return ADD(d, r->all_off_accuracy >= 0.5 ? LSTMSRC_SEVERITY_WARN : LSTMSRC_SEVERITY_INFO,
                   LSTMSRC_FINDING_BALANCE, -1, -1, r->all_off_accuracy) != NULL;
    }
    sb_printf(&d->m,
              "Nothing is on in %s of rows, so always answering \"all off\" scores %s "
              "exact-match accuracy, yet F1 0 for every source. Rows on:",
              pct(&d->n1, r->all_off_accuracy), pct(&d->n2, r->all_off_accuracy));
    for (int j = 0; j < K; j++)
        sb_printf(&d->m, "%s %s %s", j ? "," : "", oname(r, j), pct(&d->n1, r->output[j].on_share));
    sb_printf(&d->m, ".");
    sb_printf(&d->a,
              "Judge models by per-source F1 beside this baseline (lstmsrc eval prints "
              "both), not by accuracy. Keep --pos-weight auto: it weighs each source's "
              "on-rows by its off/on ratio (capped at %s):",
              num(&d->n1, d->def->pos_weight_cap));
    for (int j = 0; j < K; j++)
        sb_printf(&d->a, "%s %s %s", j ? "," : "", oname(r, j),
                  num(&d->n1, r->output[j].pos_weight));
    sb_printf(&d->a, ".");
    int warn = r->all_off_accuracy >= 0.5 || rare;
    return ADD(d, warn ? LSTMSRC_SEVERITY_WARN : LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_BALANCE, -1,
               -1, r->all_off_accuracy) != NULL;
}

static int diagnose_columns(struct diag *d, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_report *r = d->r;
    int K = r->outputs;
    for (int j = 0; j < K; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        const char *what = r->task == LSTMSRC_TASK_MULTILABEL ? "source" : "class";
        if (o->on_rows == 0) {
            /* combined classes that never occur are expected (see framing): say nothing */
            if (r->label_mode == LSTMSRC_LABELS_COMBINED) continue;
            sb_printf(&d->m, "The %s \"%s\" is never on: there is nothing to learn for it.", what,
                      oname(r, j));
            sb_printf(&d->a, "Leave it out (--labels) or add data where it runs.");
            if (!ADD(d, LSTMSRC_SEVERITY_PROBLEM, LSTMSRC_FINDING_FEW_POSITIVES, j, -1, 0.0))
                return 0;
            continue;
        }
        if (o->on_rows == r->rows) {
            sb_printf(&d->m, "The %s \"%s\" is on in every row: there is nothing to learn for it.",
                      what, oname(r, j));
            sb_printf(&d->a, "Leave it out (--labels) or add data where it is off.");
            if (!ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_CONSTANT, j, -1, 1.0)) return 0;
            continue;
        }
        if (o->on_rows < FEW_ROWS || o->on_runs < FEW_RUNS) {
            sb_printf(&d->m,
                      "The %s \"%s\" is on in only %zu rows, in %zu run%s: too few to "
                      "learn from (a model needs at least %d rows in %d runs to see it "
                      "start and stop more than by chance).",
                      what, oname(r, j), o->on_rows, o->on_runs, o->on_runs == 1 ? "" : "s",
                      FEW_ROWS, FEW_RUNS);
            sb_printf(&d->a, "Add data where it runs, or leave it out (--labels); its F1 will "
                             "be noise.");
            if (!ADD(d, LSTMSRC_SEVERITY_PROBLEM, LSTMSRC_FINDING_FEW_POSITIVES, j, -1,
                     (double)o->on_rows))
                return 0;
        }
    }

    /* identical label columns (multi-label only: classes are exclusive by construction) */
    if (r->task == LSTMSRC_TASK_MULTILABEL)
        for (int a = 0; a < K; a++)
            for (int b = a + 1; b < K; b++) {
                size_t t = 0;
                while (t < r->rows && is_on(ds, t, a) == is_on(ds, t, b))
                    t++;
                if (t < r->rows) continue;
                sb_printf(&d->m, "Sources \"%s\" and \"%s\" are on in exactly the same rows.",
                          oname(r, a), oname(r, b));
                sb_printf(&d->a, "No model can tell them apart from this data: merge them or "
                                 "keep one (--labels).");
                struct lstmsrc_finding *f =
                    ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_DUPLICATE, a, -1, 1.0);
                if (!f) return 0;
                f->other = b;
            }
    return 1;
}

static int diagnose_overlap(struct diag *d)
{
    struct lstmsrc_report *r = d->r;
    int K = r->outputs;
    const char *what = r->task == LSTMSRC_TASK_MULTILABEL ? "on its own" : "";
    for (int j = 0; j < K; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        d->context[j] = 1;
        if (!isfinite(o->level_median)) continue;
        double worst = 0.0;
        int listed = 0;
        sb_printf(&d->m, "\"%s\"%s%s reads %s to %s (middle 80 %% of %zu rows)", oname(r, j),
                  *what ? " " : "", what, num(&d->n1, o->level_p10), num(&d->n2, o->level_p90),
                  o->alone_rows);
        for (int k = 0; k < K; k++) {
            double s = r->overlap[(size_t)j * (size_t)K + (size_t)k];
            if (!(s >= OVERLAP_NOTE)) continue;
            if (s > worst) worst = s;
            sb_printf(&d->m, "%s %s in %s's range", listed ? "," : "; of those readings",
                      pct(&d->n1, s), oname(r, k));
            listed++;
        }
        sb_printf(&d->m, ".");
        int base = isfinite(o->base_like) && o->base_like >= BASE_LIKE_WARN;
        if (base) {
            sb_printf(&d->m,
                      " %s of them read no more than the house with nothing on (90 %% of "
                      "nothing-on rows read %s or less).",
                      pct(&d->n1, o->base_like), num(&d->n2, r->base_p90));
            if (o->base_like > worst) worst = o->base_like;
        }
        if (!listed && !base) {
            free(sb_take(&d->m)); /* its level is its own: nothing to say */
            d->context[j] = 0;
            continue;
        }
        if (base)
            sb_printf(&d->a, "Those rows look like \"nothing on\" to any rule on the reading "
                             "alone; only the cycle around them tells. ");
        sb_printf(&d->a,
                  "The reading alone cannot separate %s: the model needs context, a "
                  "window that shows how the reading got there and how long it stays "
                  "(see the window suggestion).",
                  listed ? "these sources" : "it");
        int warn = worst >= OVERLAP_WARN || base;
        if (!ADD(d, warn ? LSTMSRC_SEVERITY_WARN : LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_OVERLAP,
                 j, 0, worst))
            return 0;
    }
    return 1;
}

/* Window suggestion: the longest typical cycle among the outputs that need context (their level
 * overlaps another's or "nothing on"), and the duration finding that explains it. */
static int diagnose_durations(struct diag *d)
{
    struct lstmsrc_report *r = d->r;
    int K = r->outputs, longest = -1, need = -1, dseq = d->def->seq_len;
    for (int j = 0; j < K; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        if (o->cycles < FEW_RUNS) continue;
        if (longest < 0 || o->cycle_median > r->output[longest].cycle_median) longest = j;
        if (d->context[j] && (need < 0 || o->cycle_median > r->output[need].cycle_median)) need = j;
    }
    if (longest < 0) return 1;

    sb_printf(&d->m,
              "Typical on-durations (median rows; on-runs joined across gaps of up to %d "
              "rows into cycles):",
              CYCLE_GAP);
    for (int j = 0, listed = 0; j < K; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        if (!o->on_runs) continue;
        sb_printf(&d->m, "%s %s %s", listed++ ? ";" : "", oname(r, j),
                  num(&d->n1, o->cycle_median));
        if (o->cycle_median != o->on_run_median)
            sb_printf(&d->m, " (single runs %s)", num(&d->n1, o->on_run_median));
        sb_printf(&d->m, ", p90 %s", num(&d->n1, o->cycle_p90));
    }
    sb_printf(&d->m, ".");

    if (need < 0) {
        double typical = r->output[longest].cycle_median;
        sb_printf(&d->m, " Every source's level is its own (no overlaps), so the reading alone "
                         "tells them apart.");
        sb_printf(&d->a,
                  "The default window of %d rows suffices; one of %s rows would cover "
                  "\"%s\"'s whole typical cycle, at about %dx the cost per epoch.",
                  dseq, num(&d->n1, typical), oname(r, longest),
                  ((int)ceil(typical) + dseq - 1) / dseq);
        return ADD(d, LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_DURATION, longest, -1, (double)dseq) !=
               NULL;
    }

    double typical = r->output[need].cycle_median;
    int seq = (int)ceil(typical);
    if (seq < SEQ_MIN) seq = SEQ_MIN;
    if (seq > SEQ_CAP) seq = SEQ_CAP;
    r->suggested_seq_len = seq;
    sb_printf(&d->m,
              " Of the sources whose level overlaps, \"%s\" has the longest typical "
              "cycle, %s rows; a window of %d rows sees %s of it.",
              oname(r, need), num(&d->n1, typical), dseq,
              pct(&d->n2, typical > 0 ? fmin(1.0, dseq / typical) : 1.0));
    if (seq > dseq) {
        int seq2 = 2 * seq <= LSTMSRC_MAX_SEQ ? 2 * seq : LSTMSRC_MAX_SEQ;
        sb_printf(&d->a,
                  "Let a window cover a whole typical cycle%s: train picks --seq %d by "
                  "itself (a cycle on each side of its default centred label; --seq %d "
                  "with --label-at last); an epoch costs about %dx the time of --seq %d.",
                  typical > SEQ_CAP ? " (capped)" : "", seq2, seq, (seq2 + dseq - 1) / dseq, dseq);
    } else {
        sb_printf(&d->a, "A window of %d rows covers the typical cycles.", seq);
    }

    struct sbuf why = {NULL, 0, 0, 0};
    sb_printf(&why, "covers \"%s\"'s typical cycle of %s rows%s", oname(r, need),
              num(&d->n1, typical), typical > SEQ_CAP ? ", capped" : "");
    if (!(r->seq_len_reason = sb_take(&why))) return 0;
    int warn = seq >= 2 * dseq;
    return ADD(d, warn ? LSTMSRC_SEVERITY_WARN : LSTMSRC_SEVERITY_INFO, LSTMSRC_FINDING_DURATION,
               need, -1, (double)seq) != NULL;
}

static int diagnose_flicker(struct diag *d)
{
    struct lstmsrc_report *r = d->r;
    for (int j = 0; j < r->outputs; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        size_t runs = o->on_runs + (o->on_runs ? o->on_runs - 1 : 0);
        double singles = o->flicker * (double)runs;
        if (o->flicker < FLICKER_SHARE || singles < FLICKER_MIN - 0.5) continue;
        sb_printf(&d->m,
                  "\"%s\" switches for a single row %.0f times: %s of its on-runs and "
                  "the off-gaps between them last one row (median on-run %s rows, "
                  "median gap %s).",
                  oname(r, j), singles, pct(&d->n1, o->flicker), num(&d->n2, o->on_run_median),
                  num(&d->n3, o->off_run_median));
        sb_printf(&d->a,
                  "If it cannot really switch that fast, the labels are noise from a "
                  "sub-meter hovering near its on-threshold: relabel with a minimum "
                  "on/off duration (e.g. join gaps up to %d rows). Otherwise expect "
                  "errors at those edges: no model times single-row flips.",
                  CYCLE_GAP);
        if (!ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_FLICKER, j, -1, o->flicker)) return 0;
    }
    return 1;
}

/* Validation part: the default split's last rows; suggest a larger one if a source misses. */
static int diagnose_validation(struct diag *d, const struct lstmsrc_dataset *ds)
{
    struct lstmsrc_report *r = d->r;
    int K = r->outputs, latest = -1;
    r->suggested_val_fraction = d->def->val_fraction;
    if (r->val_rows == 0 || r->task != LSTMSRC_TASK_MULTILABEL) return 1;

    for (int j = 0; j < K; j++) {
        const struct lstmsrc_output_stats *o = &r->output[j];
        if (o->on_rows < FEW_ROWS || o->val_on_rows >= FEW_VAL_ROWS) continue;
        if (latest < 0 || o->last_on_row < r->output[latest].last_on_row) latest = j;
        if (o->val_on_rows)
            sb_printf(&d->m, "Only %zu of \"%s\"'s %zu on-rows fall", o->val_on_rows, oname(r, j),
                      o->on_rows);
        else
            sb_printf(&d->m, "None of \"%s\"'s %zu on-rows falls", oname(r, j), o->on_rows);
        sb_printf(&d->m,
                  " in the validation part (the last %s of rows, %zu rows); its last "
                  "on-row is row %zu, %s into the file.",
                  pct(&d->n1, d->def->val_fraction), r->val_rows, o->last_on_row,
                  pct(&d->n2, (double)o->last_on_row / (double)r->rows));
        if (o->val_on_rows)
            sb_printf(&d->a,
                      "Its decision threshold is tuned on those %zu rows, and validation "
                      "F1 and early stopping see little of it.",
                      o->val_on_rows);
        else
            sb_printf(&d->a, "Its decision threshold cannot be tuned there (training then tunes "
                             "it in-sample, on rows the model has fitted: likely too high), "
                             "and validation F1 and early stopping cannot see it.");
        sb_printf(&d->a, " Use a larger --val (see the suggestion), or a file whose last part "
                         "has every source on.");
        if (!ADD(d, LSTMSRC_SEVERITY_WARN, LSTMSRC_FINDING_VALIDATION, j, -1,
                 (double)o->val_on_rows))
            return 0;
    }
    if (latest < 0) return 1;

    /* the smallest validation fraction that gives every learnable source enough on-rows */
    const size_t tries = sizeof val_fraction_tries / sizeof val_fraction_tries[0];
    size_t n = r->rows;
    for (size_t i = 0; i < tries; i++) {
        struct window_split sp;
        window_split(n, d->def->seq_len, (float)val_fraction_tries[i], &sp);
        int ok = sp.val_rows > 0;
        for (int j = 0; j < K && ok; j++) {
            if (r->output[j].on_rows < FEW_ROWS) continue;
            size_t cnt = 0;
            for (size_t t = sp.val_first; t < n; t++)
                cnt += is_on(ds, t, j);
            ok = cnt >= FEW_VAL_ROWS;
        }
        if (ok) {
            r->suggested_val_fraction = (float)val_fraction_tries[i];
            struct sbuf why = {NULL, 0, 0, 0};
            sb_printf(&why, "the last %s of rows hold at least %d on-rows of every source",
                      pct(&d->n1, val_fraction_tries[i]), FEW_VAL_ROWS);
            return (r->val_fraction_reason = sb_take(&why)) != NULL;
        }
    }
    struct sbuf why = {NULL, 0, 0, 0};
    sb_printf(&why,
              "no validation part up to the last %s of rows holds %d on-rows of every "
              "source (\"%s\" is last on %s into the file)",
              pct(&d->n1, val_fraction_tries[tries - 1]), FEW_VAL_ROWS, oname(r, latest),
              pct(&d->n2, (double)r->output[latest].last_on_row / (double)n));
    return (r->val_fraction_reason = sb_take(&why)) != NULL;
}

/* Problems first, then warnings, then notes; analysis order within each (stable). */
static void sort_findings(struct lstmsrc_report *r)
{
    for (int i = 1; i < r->n_findings; i++) {
        struct lstmsrc_finding f = r->findings[i];
        int j = i;
        while (j > 0 && r->findings[j - 1].severity < f.severity) {
            r->findings[j] = r->findings[j - 1];
            j--;
        }
        r->findings[j] = f;
    }
}

/* ============================== entry points ============================== */

enum lstmsrc_status lstmsrc_doctor(const struct lstmsrc_dataset *ds, struct lstmsrc_report **out,
                                   struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(ds && out);
    enum lstmsrc_status st = LSTMSRC_OK;
    const char *src = ds->source ? ds->source : "data";
    struct ctx c;
    memset(&c, 0, sizeof c);
    struct diag d;
    memset(&d, 0, sizeof d);
    struct lstmsrc_train_config def;
    lstmsrc_train_config_default(&def);
    d.def = &def;

    if (ds->n == 0) return set_error(err, LSTMSRC_ERR_ARG, "%s: no rows to examine", src);
    int labels =
        ds->has_labels && (ds->task == LSTMSRC_TASK_MULTILABEL ? ds->y != NULL : ds->cls != NULL);
    int K = labels ? ds->k : 0;
    LSTMSRC_ASSERT(ds->f >= 1 && K >= 0 && K <= LSTMSRC_MAX_CLASSES);

    struct lstmsrc_report *r = calloc(1, sizeof *r);
    c.ds = ds;
    c.r = r;
    c.n = ds->n;
    c.f = ds->f;
    c.k = K;
    c.fbuf = xmalloc_n(ds->n, sizeof *c.fbuf);
    c.zbuf = xmalloc_n(ds->n / 2 + 2, sizeof *c.zbuf);
    c.count = xmalloc_n(ds->n, sizeof *c.count);
    if (!r || !c.fbuf || !c.zbuf || !c.count) goto nomem;
    r->source = str_dup(src);
    if (!r->source) goto nomem;
    r->rows = ds->n;
    r->inputs = ds->f;
    r->outputs = K;
    r->task = ds->task;
    r->label_mode = ds->mode;
    r->has_labels = labels;
    r->base_p10 = r->base_median = r->base_p90 = NAN;
    r->suggested_val_fraction = def.val_fraction;
    if (!(r->input = xcalloc_n((size_t)ds->f, sizeof *r->input))) goto nomem;
    struct window_split sp;
    window_split(ds->n, def.seq_len, def.val_fraction, &sp);
    r->val_rows = sp.val_rows;

    /* the report owns copies of the names, so it may outlive the data set */
    for (int i = 0; i < ds->f; i++)
        if (!(r->input[i].name = str_dup(ds->input_names[i] ? ds->input_names[i] : "?")))
            goto nomem;
    for (int i = 0; i < ds->f; i++)
        measure_input(&c, i);
    if (K > 0) {
        if (!(r->output = xcalloc_n((size_t)K, sizeof *r->output))) goto nomem;
        for (int j = 0; j < K; j++) {
            const char *nm = ds->output_names && ds->output_names[j] ? ds->output_names[j] : "?";
            if (!(r->output[j].name = str_dup(nm))) goto nomem;
        }
        if (!(r->overlap = xmalloc_n((size_t)K * (size_t)K, sizeof *r->overlap))) goto nomem;
        measure_labels(&c);
    }

    d.r = r;
    if (K > 0 && (!diagnose_framing(&d, ds) || !diagnose_balance(&d))) goto nomem;
    if (!diagnose_inputs(&d, ds)) goto nomem;
    if (K > 0 && (!diagnose_columns(&d, ds) || !diagnose_overlap(&d) || !diagnose_durations(&d) ||
                  !diagnose_flicker(&d) || !diagnose_validation(&d, ds)))
        goto nomem;
    sort_findings(r);
    *out = r;
    r = NULL;
    goto cleanup;
nomem:
    st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory examining %zu rows", src, ds->n);
cleanup:
    free(sb_take(&d.m));
    free(sb_take(&d.a));
    lstmsrc_report_free(r);
    free(c.fbuf);
    free(c.zbuf);
    free(c.count);
    return st;
}

unsigned lstmsrc_doctor_suggest(const struct lstmsrc_report *r, unsigned fields,
                                struct lstmsrc_train_config *cfg)
{
    unsigned changed = 0;
    /* a centred label sits half a window from either end: twice the cycle lets each direction
     * see a whole one (REFIT house 2, validation macro F1 0.531 with 192 rows against 0.497
     * with 96; 288 rows gave 0.534 at 1.5 times the cost) */
    int seq = r->suggested_seq_len;
    if (seq > 0 && cfg->label_at == LSTMSRC_LABEL_CENTER)
        seq = 2 * seq <= LSTMSRC_MAX_SEQ ? 2 * seq : LSTMSRC_MAX_SEQ;
    if ((fields & LSTMSRC_SUGGEST_SEQ_LEN) && seq > 0 && cfg->seq_len != seq) {
        cfg->seq_len = seq;
        changed |= LSTMSRC_SUGGEST_SEQ_LEN;
    }
    if ((fields & LSTMSRC_SUGGEST_VAL_FRACTION) && r->suggested_val_fraction > 0.0f &&
        cfg->val_fraction != r->suggested_val_fraction) {
        cfg->val_fraction = r->suggested_val_fraction;
        changed |= LSTMSRC_SUGGEST_VAL_FRACTION;
    }
    if ((fields & LSTMSRC_SUGGEST_FEATURES) && r->suggested_features &&
        cfg->features != r->suggested_features) {
        cfg->features = r->suggested_features;
        changed |= LSTMSRC_SUGGEST_FEATURES;
    }
    return changed;
}
