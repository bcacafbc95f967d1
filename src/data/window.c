/*
 * window.c — window counts, the chronological train/validation split, the standard scaler fit
 * and the time-major batch gather.
 *
 * Windows are (start row, seq rows) views into the data set's (n, f) array and are never
 * copied except into a batch. Deliberately not here: shuffling (the trainer owns its rng) and
 * labels (a window's label is simply the row at start + seq - 1).
 */
#include "data/window.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/common.h"

size_t window_count(size_t rows, int seq)
{
    LSTMSRC_ASSERT(seq >= 1);
    return rows >= (size_t)seq ? rows - (size_t)seq + 1 : 0;
}

size_t window_label_row(size_t start, int seq, int label_offset)
{
    LSTMSRC_ASSERT(seq >= 1 && label_offset >= 0 && label_offset < seq);
    return start + (size_t)(seq - 1 - label_offset);
}

size_t window_strided_count(size_t windows, int stride)
{
    LSTMSRC_ASSERT(stride >= 1);
    return windows / (size_t)stride + (windows % (size_t)stride != 0);
}

/* floor(n * fraction) with the fraction taken to 6 decimals, so 0.7f (0.699999988...) means
 * 0.7 and floor(10 * 0.7f) is 7, as the user wrote it, not 6. */
static size_t fraction_of(size_t n, float fraction)
{
    if (!(fraction > 0.0f)) return 0; /* also NaN */
    if (fraction >= 1.0f) return n;
    uint64_t micro = (uint64_t)llround((double)fraction * 1e6);
    if ((uint64_t)n <= UINT64_MAX / 1000000u) return (size_t)((uint64_t)n * micro / 1000000u);
    return (size_t)floor((double)n * (double)micro / 1e6);
}

void window_split(size_t n, int seq, float val_fraction, struct window_split *s)
{
    LSTMSRC_ASSERT(seq >= 1 && s);
    size_t val = fraction_of(n, val_fraction);
    /* a validation part without one full window would only waste rows */
    if (val < (size_t)seq) val = 0;
    s->val_rows = val;
    s->train_rows = n - val;
    s->val_first = s->train_rows;
    s->train_windows = window_count(s->train_rows, seq);
    s->val_windows = window_count(s->val_rows, seq);
}

int window_set_init(struct window_set *ws, const struct window_run *runs, size_t n_runs, int seq,
                    size_t lo, size_t hi)
{
    LSTMSRC_ASSERT(ws && seq >= 1 && (runs || n_runs == 0));
    *ws = (struct window_set){.seq = seq};
    size_t kept = 0;
    for (size_t r = 0; r < n_runs; r++) {
        size_t a = runs[r].start > lo ? runs[r].start : lo;
        size_t b = runs[r].start + runs[r].len < hi ? runs[r].start + runs[r].len : hi;
        kept += b > a;
    }
    ws->runs = xmalloc_n(kept ? kept : 1, sizeof *ws->runs);
    ws->first = xmalloc_n(kept + 1, sizeof *ws->first);
    if (!ws->runs || !ws->first) {
        window_set_free(ws);
        return 0;
    }
    ws->first[0] = 0;
    for (size_t r = 0; r < n_runs; r++) {
        size_t a = runs[r].start > lo ? runs[r].start : lo;
        size_t b = runs[r].start + runs[r].len < hi ? runs[r].start + runs[r].len : hi;
        if (b <= a) continue;
        ws->runs[ws->n_runs] = (struct window_run){a, b - a};
        ws->first[ws->n_runs + 1] = ws->first[ws->n_runs] + window_count(b - a, seq);
        ws->n_runs++;
    }
    ws->total = ws->first[ws->n_runs];
    return 1;
}

void window_set_free(struct window_set *ws)
{
    if (!ws) return;
    free(ws->runs);
    free(ws->first);
    ws->runs = NULL;
    ws->first = NULL;
    ws->n_runs = ws->total = 0;
}

size_t window_set_run(const struct window_set *ws, size_t i)
{
    LSTMSRC_ASSERT(i < ws->total);
    size_t lo = 0, hi = ws->n_runs; /* the run r with first[r] <= i < first[r + 1] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ws->first[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t window_set_start(const struct window_set *ws, size_t i)
{
    LSTMSRC_ASSERT(i < ws->total);
    if (ws->n_runs == 1) return ws->runs[0].start + i;
    size_t r = window_set_run(ws, i);
    return ws->runs[r].start + (i - ws->first[r]);
}

size_t window_set_rows(const struct window_set *ws)
{
    size_t rows = 0;
    for (size_t r = 0; r < ws->n_runs; r++)
        rows += ws->runs[r].len;
    return rows;
}

int window_split_runs(const struct window_run *runs, size_t n_runs, const size_t *files,
                      size_t n_files, size_t n, int seq, float val_fraction, struct window_split *s,
                      struct window_set *train, struct window_set *val)
{
    LSTMSRC_ASSERT(seq >= 1 && s && train && val);
    const size_t whole = 0;
    if (n_files == 0) {
        files = &whole;
        n_files = 1;
    }
    /* each run clipped to each file's parts: at most n_runs + n_files pieces per part */
    struct window_run *tr = xmalloc_n(n_runs + n_files + 1, sizeof *tr);
    struct window_run *va = xmalloc_n(n_runs + n_files + 1, sizeof *va);
    size_t nt = 0, nv = 0, r0 = 0;
    *train = (struct window_set){.seq = seq};
    *val = (struct window_set){.seq = seq};
    *s = (struct window_split){0};
    if (!tr || !va) goto nomem;
    for (size_t f = 0; f < n_files; f++) {
        const size_t fs = files[f], fe = f + 1 < n_files ? files[f + 1] : n;
        while (r0 < n_runs && runs[r0].start + runs[r0].len <= fs)
            r0++;
        size_t r1 = r0, valid = 0;
        for (; r1 < n_runs && runs[r1].start < fe; r1++) {
            size_t a = runs[r1].start > fs ? runs[r1].start : fs;
            size_t b = runs[r1].start + runs[r1].len < fe ? runs[r1].start + runs[r1].len : fe;
            valid += b > a ? b - a : 0;
        }
        size_t want = fraction_of(valid, val_fraction), split = fe;
        /* the split row: the last `want` rows in runs lie at or after it */
        for (size_t r = r1, left = want; r-- > r0 && left > 0;) {
            size_t a = runs[r].start > fs ? runs[r].start : fs;
            size_t b = runs[r].start + runs[r].len < fe ? runs[r].start + runs[r].len : fe;
            size_t len = b > a ? b - a : 0, take = len < left ? len : left;
            split = b - take;
            left -= take;
        }
        /* a validation part without one full window would only waste rows */
        size_t vw = 0;
        for (size_t r = r0; r < r1; r++) {
            size_t a = runs[r].start > split ? runs[r].start : split;
            size_t b = runs[r].start + runs[r].len < fe ? runs[r].start + runs[r].len : fe;
            vw += b > a ? window_count(b - a, seq) : 0;
        }
        if (vw == 0) split = fe;
        for (size_t r = r0; r < r1; r++) {
            size_t a = runs[r].start > fs ? runs[r].start : fs;
            size_t e = runs[r].start + runs[r].len < fe ? runs[r].start + runs[r].len : fe;
            size_t m = split < a ? a : split > e ? e : split;
            if (m > a) tr[nt++] = (struct window_run){a, m - a};
            if (e > m) va[nv++] = (struct window_run){m, e - m};
        }
        s->train_rows += split - fs;
        s->val_rows += fe - split;
        if (f == 0) s->val_first = split;
    }
    if (!window_set_init(train, tr, nt, seq, 0, n) || !window_set_init(val, va, nv, seq, 0, n))
        goto nomem;
    s->train_windows = train->total;
    s->val_windows = val->total;
    free(tr);
    free(va);
    return 1;
nomem:
    window_set_free(train);
    window_set_free(val);
    free(tr);
    free(va);
    return 0;
}

/* mean, std (f) over the rows of runs of x (rows, f). Two passes in double: the mean, then the
 * population variance around it, which stays accurate for readings far from zero. */
static void fit_runs(float *mean, float *std, const float *x, const struct window_run *runs,
                     size_t n_runs, int f)
{
    LSTMSRC_ASSERT(f >= 0);
    const size_t F = (size_t)f;
    size_t rows = 0;
    for (size_t r = 0; r < n_runs; r++)
        rows += runs[r].len;
    LSTMSRC_ASSERT(x || rows == 0);
    for (int j = 0; j < f; j++) {
        double sum = 0.0, ss = 0.0, maxabs = 0.0;
        for (size_t r = 0; r < n_runs; r++)
            for (size_t i = runs[r].start; i < runs[r].start + runs[r].len; i++)
                sum += x[i * F + (size_t)j];
        double mu = rows ? sum / (double)rows : 0.0;
        for (size_t r = 0; r < n_runs; r++)
            for (size_t i = runs[r].start; i < runs[r].start + runs[r].len; i++) {
                double v = x[i * F + (size_t)j];
                ss += (v - mu) * (v - mu);
                if (fabs(v) > maxabs) maxabs = fabs(v);
            }
        double sd = rows ? sqrt(ss / (double)rows) : 0.0;
        mean[j] = (float)mu;
        /* constant channel (std 0 up to rounding), or one whose std is no normal float (which
         * a model file cannot hold): scale by 1 so it maps to zero, not to inf */
        std[j] = sd <= 1e-6 * maxabs || (float)sd < FLT_MIN ? 1.0f : (float)sd;
    }
}

void scale_fit(float *mean, float *std, const float *x, size_t rows, int f)
{
    const struct window_run one = {0, rows};
    fit_runs(mean, std, x, &one, 1, f);
}

void scale_fit_runs(float *mean, float *std, const float *x, const struct window_set *ws, int f)
{
    fit_runs(mean, std, x, ws->runs, ws->n_runs, f);
}

int scale_per_file(float *x, int f, const struct window_set *ws, const size_t *files,
                   size_t n_files, size_t n)
{
    const size_t F = (size_t)f, nf = n_files ? n_files : 1;
    float *mean = xmalloc_n(F ? F : 1, sizeof *mean), *std = xmalloc_n(F ? F : 1, sizeof *std);
    if (!mean || !std) {
        free(mean);
        free(std);
        return 0;
    }
    size_t r0 = 0;
    for (size_t i = 0; i < nf; i++) {
        const size_t lo = n_files ? files[i] : 0, hi = n_files && i + 1 < nf ? files[i + 1] : n;
        size_t r1 = r0;
        while (r1 < ws->n_runs && ws->runs[r1].start < hi)
            r1++;
        fit_runs(mean, std, x, ws->runs + r0, r1 - r0, f);
        for (size_t row = lo; row < hi; row++)
            for (size_t j = 0; j < F; j++)
                x[row * F + j] = (x[row * F + j] - mean[j]) / std[j];
        r0 = r1;
    }
    free(mean);
    free(std);
    return 1;
}

/* xb (T, B, F); x (rows, F); starts (B); mean, std (F). */
void window_gather(float *xb, const float *x, int f, const size_t *starts, int B, int T,
                   const float *mean, const float *std)
{
    const size_t F = (size_t)f;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const float *row = x + (starts[b] + (size_t)t) * F;
            float *dst = xb + ((size_t)t * (size_t)B + (size_t)b) * F;
            for (size_t j = 0; j < F; j++)
                dst[j] = (row[j] - mean[j]) / std[j];
        }
}
