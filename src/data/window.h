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

/* A run: rows [start, start + len) with no gap inside (no missing row, no time jump, one
 * file), in which windows may lie. A data set is one or more runs; a window never spans two. */
struct window_run {
    size_t start, len;
};

/* The windows of length seq inside a list of runs, numbered 0..total-1 in row order: run r holds
 * windows first[r] .. first[r + 1] - 1, consecutive rows of one stretch, so a decision filter
 * over a run's windows sees one unbroken sequence. Owns `runs` and `first`. */
struct window_set {
    struct window_run *runs; /* (n_runs) only runs holding at least one window */
    size_t n_runs;
    size_t *first; /* (n_runs + 1) cumulative window counts */
    size_t total;
    int seq;
};

/* The windows of `runs` clipped to rows [lo, hi). Returns 0 on out of memory (ws left empty,
 * safe to free). */
int window_set_init(struct window_set *ws, const struct window_run *runs, size_t n_runs, int seq,
                    size_t lo, size_t hi);
void window_set_free(struct window_set *ws);
/* First row of window i (0 <= i < total). */
size_t window_set_start(const struct window_set *ws, size_t i);
/* The run (index into ws->runs) that window i (0 <= i < total) lies in. */
size_t window_set_run(const struct window_set *ws, size_t i);
/* Rows of the clipped runs of ws (its rows in runs, a window or not). */
size_t window_set_rows(const struct window_set *ws);

/* Chronological split over runs, file by file: in each file (rows files[f] up to the next
 * file's first row, or n; one file of every row when n_files is 0) the last
 * floor(valid * val_fraction) rows that lie in runs are validation (valid = the file's rows in
 * runs), so every file is validated and an outage at the end does not eat its validation part.
 * A file's validation part without one full window is folded back into its training part.
 * Fills train and val with the windows of each part and s with their row and window counts
 * (val_first: the first file's split row). Returns 0 on out of memory. */
int window_split_runs(const struct window_run *runs, size_t n_runs, const size_t *files,
                      size_t n_files, size_t n, int seq, float val_fraction, struct window_split *s,
                      struct window_set *train, struct window_set *val);

/* Per-channel mean and standard deviation of rows [0, rows) of x (rows, f), in double; a
 * channel with std below 1e-6 of its scale (constant) gets std 1 so it scales to zero. */
void scale_fit(float *mean, float *std, const float *x, size_t rows, int f);
/* The same over the rows of a window set's runs. */
void scale_fit_runs(float *mean, float *std, const float *x, const struct window_set *ws, int f);

/* Per file (rows files[i] up to the next file's first row, or n; one file when n_files is 0):
 * the mean and std of x's channels over the rows of ws's runs in that file, then every row of
 * the file standardised in place by them. Returns 0 on out of memory. */
int scale_per_file(float *x, int f, const struct window_set *ws, const size_t *files,
                   size_t n_files, size_t n);

/* xb (T, B, F) = (x[starts[b] + t, :] - mean) / std for each window b and step t. */
void window_gather(float *xb, const float *x, int f, const size_t *starts, int B, int T,
                   const float *mean, const float *std);

#endif
