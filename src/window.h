/*
 * window.h — rolling windows over a data set, the chronological train/validation split and the
 * scaler. A window is (start row, SEQ_LEN rows) into the data set's (n, f) array: a view, never a
 * copy. Its label is the state at its last row (causal, so the same model runs online), or
 * label_offset rows before it (a centred label: the window sees what follows the row).
 * Batches are gathered time-major, (T, B, F), standardised on the fly.
 */
#ifndef LSTMSRC_WINDOW_H
#define LSTMSRC_WINDOW_H

#include <stddef.h>

/* Number of full windows of length seq in `rows` rows: rows - seq + 1, or 0. */
size_t window_count(size_t rows, int seq);

/* The row whose label the window starting at `start` carries: start + seq - 1 - label_offset
 * (0 <= label_offset < seq). */
size_t window_label_row(size_t start, int seq, int label_offset);

/* Training with a stride: of `windows` consecutive windows, those starting at 0, stride,
 * 2 * stride, ... are used: ceil(windows / stride) of them; the i-th starts at i * stride. */
size_t window_strided_count(size_t windows, int stride);

/* Chronological split: the last floor(n * val_fraction) rows are validation. Windows that would
 * straddle the boundary are dropped: training windows lie in [0, train_rows), validation windows
 * in [train_rows, n). A validation part too short for one window is folded back into training. */
struct window_split {
    size_t train_rows, val_rows;       /* rows in each part */
    size_t train_windows, val_windows; /* full windows inside each part */
    size_t val_first;                  /* first row of the validation part (= train_rows) */
};
void window_split(size_t n, int seq, float val_fraction, struct window_split *s);

/* Per-channel mean and standard deviation of rows [0, rows) of x (rows, f), in double; a
 * channel with std below 1e-6 of its scale (constant) gets std 1 so it scales to zero. */
void scale_fit(float *mean, float *std, const float *x, size_t rows, int f);

/* xb (T, B, F) = (x[starts[b] + t, :] - mean) / std for each window b and step t. */
void window_gather(float *xb, const float *x, int f, const size_t *starts, int B, int T,
                   const float *mean, const float *std);

#endif
