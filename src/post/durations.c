/*
 * durations.c — from probabilities to decisions: the threshold rule (lstmsrc_decide), then the
 * minimum on/off durations (durations.h): the batch filter, the streaming filter (struct
 * lstmsrc_filter) that gives the same bytes one row at a time, tuning on validation windows,
 * and the model's durations as the public API sees them.
 *
 * The streaming filter runs the two stages of durations.h as two small state machines per
 * source that pass on runs of equal bits: stage 1 holds back the rows of an off-gap until it is
 * either closed by an on-row (filled when shorter than min_off) or reaches min_off rows (kept);
 * stage 2 holds back the rows of an on-run until it reaches min_on rows (kept) or ends shorter
 * (dropped). Settled bits land in a ring of (delay + 1) rows; a row is popped once every source
 * has settled it. Nothing allocates after creation.
 */
#include <string.h>

#include "base/common.h"
#include "nn/model.h"
#include "post/durations.h"
#include "post/metrics.h"

/* ============================== decisions ============================== */

void lstmsrc_decide(const struct lstmsrc_model *m, const float *probs, size_t windows, uint8_t *on)
{
    const int K = m->k;
    for (size_t w = 0; w < windows; w++) {
        const float *p = probs + w * (size_t)K;
        uint8_t *o = on + w * (size_t)K;
        if (m->task == LSTMSRC_TASK_MULTILABEL) {
            for (int j = 0; j < K; j++)
                o[j] = p[j] > m->threshold[j];
        } else {
            int best = 0;
            for (int j = 1; j < K; j++)
                if (p[j] > p[best]) best = j;
            for (int j = 0; j < K; j++)
                o[j] = j == best;
        }
    }
}

/* ============================== batch ============================== */

void durations_filter(uint8_t *on, size_t n, size_t stride, int min_on, int min_off)
{
    LSTMSRC_ASSERT(min_on >= 1 && min_off >= 1);
    int seen = 0;
    size_t i = 0;
    /* stage 1: fill inner off-gaps shorter than min_off */
    while (i < n) {
        if (on[i * stride]) {
            on[i * stride] = 1;
            seen = 1;
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && !on[i * stride])
            i++;
        if (seen && i < n && i - s < (size_t)min_off)
            for (size_t t = s; t < i; t++)
                on[t * stride] = 1;
    }
    /* stage 2: drop on-runs shorter than min_on */
    i = 0;
    while (i < n) {
        if (!on[i * stride]) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && on[i * stride])
            i++;
        if (i - s < (size_t)min_on)
            for (size_t t = s; t < i; t++)
                on[t * stride] = 0;
    }
}

int durations_delay(int min_on, int min_off)
{
    return (min_on - 1) + (min_off - 1);
}

int durations_valid(long min_on, long min_off)
{
    return min_on >= 1 && min_on <= LSTMSRC_MAX_DURATION && min_off >= 1 &&
           min_off <= LSTMSRC_MAX_DURATION;
}

/* ============================== streaming ============================== */

struct dur_src {
    int min_on, min_off;
    int seen_on;     /* stage 1: an on-row seen in this sequence */
    int gap;         /* stage 1: length of the current off-gap, saturating at min_off */
    size_t gap_held; /* stage 1: rows of that gap not passed on yet (< min_off) */
    int run;         /* stage 2: length of the current on-run, saturating at min_on */
    size_t run_held; /* stage 2: rows of that run not passed on yet (< min_on) */
    size_t ready;    /* settled rows not popped yet */
};

struct lstmsrc_filter {
    int k;
    int delay;           /* max over sources of durations_delay */
    size_t cap;          /* delay + 1 rows */
    size_t head;         /* ring row of the oldest row not popped */
    size_t held;         /* rows pushed and not popped */
    struct dur_src *src; /* (k) */
    uint8_t *ring;       /* (cap, k) settled decisions */
};

/* Settles `count` more rows of source j as `bit`. */
static void emit(struct lstmsrc_filter *f, int j, uint8_t bit, size_t count)
{
    struct dur_src *s = &f->src[j];
    LSTMSRC_ASSERT(s->ready + count <= f->held);
    for (size_t c = 0; c < count; c++) {
        size_t r = (f->head + s->ready + c) % f->cap;
        f->ring[r * (size_t)f->k + (size_t)j] = bit;
    }
    s->ready += count;
}

/* Stage 2: `count` rows of stage 1's output, all `bit`. */
static void stage2(struct lstmsrc_filter *f, int j, int bit, size_t count)
{
    struct dur_src *s = &f->src[j];
    if (count == 0) return;
    if (bit) {
        s->run_held += count;
        s->run = (size_t)s->run + count >= (size_t)s->min_on ? s->min_on : s->run + (int)count;
        if (s->run >= s->min_on) {
            emit(f, j, 1, s->run_held);
            s->run_held = 0;
        }
        return;
    }
    if (s->run_held) emit(f, j, 0, s->run_held); /* a run shorter than min_on: dropped */
    s->run_held = 0;
    s->run = 0;
    emit(f, j, 0, count);
}

/* Stage 1: one raw row of source j. */
static void stage1(struct lstmsrc_filter *f, int j, int bit)
{
    struct dur_src *s = &f->src[j];
    if (bit) {
        /* a gap still held is one that started after an on-row and is shorter than min_off */
        stage2(f, j, 1, s->gap_held);
        s->gap_held = 0;
        s->gap = 0;
        s->seen_on = 1;
        stage2(f, j, 1, 1);
        return;
    }
    s->gap_held++;
    if (s->gap < s->min_off) s->gap++;
    if (!s->seen_on || s->gap >= s->min_off) { /* this gap can no longer be filled */
        stage2(f, j, 0, s->gap_held);
        s->gap_held = 0;
    }
}

enum lstmsrc_status lstmsrc_filter_create(const struct lstmsrc_model *m,
                                          struct lstmsrc_filter **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && out);
    struct lstmsrc_filter *f = calloc(1, sizeof *f);
    if (!f) return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a decision filter");
    f->k = m->k;
    f->delay = model_decision_delay(m);
    f->cap = (size_t)f->delay + 1;
    f->src = calloc((size_t)m->k, sizeof *f->src);
    f->ring = xcalloc_n(f->cap, (size_t)m->k);
    if (!f->src || !f->ring) {
        lstmsrc_filter_free(f);
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a decision filter");
    }
    for (int j = 0; j < m->k; j++) {
        f->src[j].min_on = m->min_on[j];
        f->src[j].min_off = m->min_off[j];
    }
    *out = f;
    return LSTMSRC_OK;
}

void lstmsrc_filter_free(struct lstmsrc_filter *f)
{
    if (!f) return;
    free(f->src);
    free(f->ring);
    free(f);
}

int lstmsrc_filter_delay(const struct lstmsrc_filter *f)
{
    return f->delay;
}

enum lstmsrc_status lstmsrc_filter_push(struct lstmsrc_filter *f, const uint8_t *on,
                                        struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(f && on);
    if (f->held == f->cap)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "decision filter holds %zu rows: pop the settled ones before pushing",
                         f->held);
    f->held++;
    for (int j = 0; j < f->k; j++)
        stage1(f, j, on[j] != 0);
    return LSTMSRC_OK;
}

int lstmsrc_filter_pop(struct lstmsrc_filter *f, uint8_t *on)
{
    LSTMSRC_ASSERT(f && on);
    if (f->held == 0) return 0;
    for (int j = 0; j < f->k; j++)
        if (f->src[j].ready == 0) return 0;
    memcpy(on, f->ring + f->head * (size_t)f->k, (size_t)f->k);
    for (int j = 0; j < f->k; j++)
        f->src[j].ready--;
    f->head = (f->head + 1) % f->cap;
    f->held--;
    return 1;
}

void lstmsrc_filter_flush(struct lstmsrc_filter *f)
{
    LSTMSRC_ASSERT(f);
    for (int j = 0; j < f->k; j++) {
        struct dur_src *s = &f->src[j];
        stage2(f, j, 0, s->gap_held); /* a gap at the end is never filled */
        s->gap_held = 0;
        if (s->run_held) emit(f, j, 0, s->run_held); /* nor a short run at the end kept */
        s->run_held = 0;
        s->seen_on = 0;
        s->gap = 0;
        s->run = 0;
    }
}

void lstmsrc_filter_reset(struct lstmsrc_filter *f)
{
    LSTMSRC_ASSERT(f);
    for (int j = 0; j < f->k; j++) {
        struct dur_src *s = &f->src[j];
        int on = s->min_on, off = s->min_off;
        memset(s, 0, sizeof *s);
        s->min_on = on;
        s->min_off = off;
    }
    f->head = 0;
    f->held = 0;
}

void lstmsrc_filter_rows(const struct lstmsrc_model *m, uint8_t *on, size_t windows)
{
    LSTMSRC_ASSERT(m && (on || windows == 0));
    for (int j = 0; j < m->k; j++)
        if (m->min_on[j] > 1 || m->min_off[j] > 1)
            durations_filter(on + j, windows, (size_t)m->k, m->min_on[j], m->min_off[j]);
}

/* ============================== the model's durations ============================== */

enum lstmsrc_status lstmsrc_model_set_durations(struct lstmsrc_model *m, const int *min_on,
                                                const int *min_off, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m);
    for (int j = 0; j < m->k; j++) {
        int on = min_on ? min_on[j] : 1, off = min_off ? min_off[j] : 1;
        if (!durations_valid(on, off))
            return set_error(err, LSTMSRC_ERR_ARG,
                             "output %d: minimum on %d, off %d rows; supported: 1 to %d", j + 1, on,
                             off, LSTMSRC_MAX_DURATION);
        if (m->task != LSTMSRC_TASK_MULTILABEL && (on != 1 || off != 1))
            return set_error(err, LSTMSRC_ERR_ARG,
                             "minimum durations apply to multi-label models only");
    }
    for (int j = 0; j < m->k; j++) {
        m->min_on[j] = min_on ? min_on[j] : 1;
        m->min_off[j] = min_off ? min_off[j] : 1;
    }
    return LSTMSRC_OK;
}

/* ============================== tuning ============================== */

const int durations_grid[] = {1, 2, 3, 5, 8, 12, 20, 30};
const int durations_grid_n = (int)(sizeof durations_grid / sizeof durations_grid[0]);

static double f1_of(const uint8_t *on, const uint8_t *y, size_t sy, size_t n)
{
    struct bin_counts c = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int p = on[i], t = y[i * sy] != 0;
        c.tp += p && t;
        c.fp += p && !t;
        c.fn += !p && t;
        c.tn += !p && !t;
    }
    return counts_f1(&c);
}

int durations_tune(const float *score, size_t ss, float thr, const uint8_t *y, size_t sy, size_t n,
                   int *min_on, int *min_off, double *f1_raw, double *f1_best)
{
    uint8_t *raw = xmalloc_n(n ? n : 1, 1), *on = xmalloc_n(n ? n : 1, 1);
    if (!raw || !on) {
        free(raw);
        free(on);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        raw[i] = score[i * ss] > thr;
    double best = f1_of(raw, y, sy, n);
    *f1_raw = best;
    *min_on = 1;
    *min_off = 1;
    for (int a = 0; a < durations_grid_n; a++)
        for (int b = 0; b < durations_grid_n; b++) {
            if (a == 0 && b == 0) continue;
            memcpy(on, raw, n);
            durations_filter(on, n, 1, durations_grid[a], durations_grid[b]);
            double f1 = f1_of(on, y, sy, n);
            if (f1 > best) {
                best = f1;
                *min_on = durations_grid[a];
                *min_off = durations_grid[b];
            }
        }
    *f1_best = best;
    free(raw);
    free(on);
    return 0;
}
