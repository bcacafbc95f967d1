/*
 * window.c — window counts, the chronological train/validation split, the standard scaler fit
 * and the time-major batch gather.
 *
 * Windows are (start row, seq rows) views into the data set's (n, f) array and are never
 * copied except into a batch. Deliberately not here: shuffling (the trainer owns its rng) and
 * labels (a window's label is simply the row at start + seq - 1).
 */
#include "window.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

#include "common.h"

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

/* x (rows, f); mean, std (f). Two passes in double: the mean, then the population variance
 * around it, which stays accurate for readings far from zero. */
void scale_fit(float *mean, float *std, const float *x, size_t rows, int f)
{
    LSTMSRC_ASSERT(f >= 0 && (x || rows == 0));
    for (int j = 0; j < f; j++) {
        double sum = 0.0, ss = 0.0, maxabs = 0.0;
        for (size_t i = 0; i < rows; i++)
            sum += x[i * (size_t)f + (size_t)j];
        double mu = rows ? sum / (double)rows : 0.0;
        for (size_t i = 0; i < rows; i++) {
            double v = x[i * (size_t)f + (size_t)j];
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
