/*
 * metrics.c — binary confusion counts and F1, and the best-F1 threshold sweep (train/validate.c
 * tunes thresholds and train/setup.c fits the baseline rule with it; durations.c tunes minimum
 * durations with the counts). Whole evaluations are evaluate.c's.
 *
 * Decision rule everywhere: ON if score > threshold.
 */
#include "post/metrics.h"

#include <math.h>
#include <string.h>

#include "base/common.h"

/* ============================== counts ============================== */

/* F1 as 2tp / (2tp + fp + fn): a ratio of exact integers, so equal F1 values from different
 * counts compare equal as doubles, which the tie rule of the threshold sweep relies on. */
double counts_f1(const struct bin_counts *c)
{
    double den = 2.0 * (double)c->tp + (double)c->fp + (double)c->fn;
    return c->tp ? 2.0 * (double)c->tp / den : 0.0;
}

double counts_precision(const struct bin_counts *c)
{
    return c->tp ? (double)c->tp / ((double)c->tp + (double)c->fp) : 0.0;
}

double counts_recall(const struct bin_counts *c)
{
    return c->tp ? (double)c->tp / ((double)c->tp + (double)c->fn) : 0.0;
}

/* One decision p against truth t (both 0/1). */
void counts_add(struct bin_counts *c, int p, int t)
{
    if (p) {
        if (t)
            c->tp++;
        else
            c->fp++;
    } else {
        if (t)
            c->fn++;
        else
            c->tn++;
    }
}

/* ============================== best-F1 threshold ============================== */

/* Each score travels with its index and its sort key. */
struct scored {
    uint32_t k;
    float s;
    size_t i;
};

/* The order key of a score: NaN first (NaN > t is always false, so NaN is never ON), then
 * ascending; -0 and +0 are neighbours, and equal scores group the same under == either way. */
static uint32_t score_key(float s)
{
    if (isnan(s)) return 0;
    uint32_t u;
    memcpy(&u, &s, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Sorts v by key, stably (ties keep index order, so the result is the same on every machine):
 * four passes of 8 bits, linear in n, where qsort's comparisons were a third of a small model's
 * training run (validation tunes a threshold per source every epoch). -1 when out of memory. */
static int sort_scored(struct scored *v, size_t n)
{
    struct scored *t = xmalloc_n(n, sizeof *t);
    if (!t) return -1;
    struct scored *src = v, *dst = t;
    for (int sh = 0; sh < 32; sh += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[src[i].k >> sh & 255u]++;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            const size_t c = cnt[b];
            cnt[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[src[i].k >> sh & 255u]++] = src[i];
        struct scored *x = src;
        src = dst;
        dst = x;
    }
    /* four passes: the result is back in v */
    free(t);
    return 0;
}

/* A float t with lo <= t < hi, near the middle, so "score > t" separates the two. */
static float midway(float lo, float hi)
{
    float t = (float)(0.5 * ((double)lo + (double)hi));
    return t < hi ? t : lo;
}

/* A float strictly below v, so every item with score v is ON. */
static float below(float v)
{
    float t = (float)((double)v - 1.0);
    return t < v ? t : nextafterf(v, -INFINITY);
}

int best_f1_threshold(const float *score, size_t ss, const uint8_t *y, size_t sy, size_t n,
                      float fallback, float *thr_out, double *f1_out)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i * sy] != 0;
    if (pos == 0) {
        *thr_out = fallback;
        *f1_out = 0.0;
        return 0;
    }

    struct scored *v = xmalloc_n(n, sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i * ss];
        v[i].k = score_key(v[i].s);
        v[i].i = i;
    }
    if (sort_scored(v, n)) {
        free(v);
        return -1;
    }

    /* NaN scores are OFF under every threshold: they can only be false negatives. */
    size_t first = 0;
    struct bin_counts c = {0, 0, 0, 0};
    while (first < n && isnan(v[first].s)) {
        counts_add(&c, 0, y[v[first].i * sy] != 0);
        first++;
    }
    if (first == n) { /* nothing can be ON: F1 is 0 under any threshold */
        free(v);
        *thr_out = fallback;
        *f1_out = 0.0;
        return 0;
    }

    /* Start below the minimum (everything ON), then raise the threshold past one group of equal
     * scores at a time, turning that group OFF. ">=" hands ties to the higher threshold. */
    for (size_t r = first; r < n; r++)
        counts_add(&c, 1, y[v[r].i * sy] != 0);
    float best_t = below(v[first].s);
    double best = counts_f1(&c);
    for (size_t r = first; r < n;) {
        size_t e = r;
        while (e < n && v[e].s == v[r].s) {
            if (y[v[e].i * sy]) {
                c.tp--;
                c.fn++;
            } else {
                c.fp--;
                c.tn++;
            }
            e++;
        }
        if (e == n) break; /* above the maximum everything is OFF: F1 0, never better */
        double f1 = counts_f1(&c);
        if (f1 >= best) {
            best = f1;
            best_t = midway(v[r].s, v[e].s);
        }
        r = e;
    }
    free(v);
    *thr_out = best_t;
    *f1_out = best;
    return 0;
}
