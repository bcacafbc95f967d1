/*
 * dataset.h — a loaded data set: the selected input channels and labels of a CSV, each number
 * held once. Windows are views into `x` (see window.h), never copies. Scaling is not applied
 * here: the raw readings stay as read and are standardised when a batch is gathered.
 */
#ifndef LSTMSRC_DATASET_H
#define LSTMSRC_DATASET_H

#include <stdint.h>

#include "data/window.h"
#include "lstmsrc.h"

struct lstmsrc_dataset {
    char *source; /* file name used in messages */
    size_t n;     /* rows */
    int f;        /* input channels */
    int k;        /* outputs: sources (multi-label) or classes (multi-class) */
    enum lstmsrc_task task;
    enum lstmsrc_label_mode mode;
    int has_labels;
    char **input_names;  /* (f) */
    int n_labels;        /* label columns read: sources, 1 class column, or N combined */
    char **label_names;  /* (n_labels) column names as in the file header */
    char **output_names; /* (k) source names, or class names ("0".."K-1", or for
                            combined labels "none", "src3", "src2+src3", ...) */
    float *x;            /* (n, f) raw readings, row-major */
    uint8_t *y;          /* (n, k) 0/1 per source; multi-label with labels, else NULL */
    int32_t *cls;        /* (n) class index 0..k-1; multi-class with labels, else NULL */
    /* The first row whose first difference x[t] - x[t-1] (in float, as model_channels computes
     * it) is not finite although both readings are (3.4e38 after -3.4e38): 1-based row, 0 when
     * none; its line in the file. */
    size_t diff_bad_row;
    long diff_bad_line;
    int diff_bad_input, diff_bad_col; /* its input (0..f-1) and its column in the file */
    /* The line of data row 0, and whether row i is on line first_line + i for every row (no
     * line break inside a quoted field), so a row's line is known without storing it. */
    long first_line;
    int lines_regular;
    /* Segments (window.h runs): stretches without a missing row or a gap, in row order; rows
     * outside them hold the last good row's values (0 before the first) and labels 0, so every
     * stored number is finite, but no window uses them. */
    struct window_run *runs;
    size_t n_runs;
    int runs_set; /* 0: a data set built without them, one run of every row */
    size_t missing_cells, missing_rows, invalid_rows;
    size_t filled_rows;     /* missing rows bridged by cols->fill */
    float *on_above;        /* (n_labels) threshold per label column, < 0: a 0/1 column;
                               NULL: every label column is 0/1 */
    uint64_t on_above_auto; /* bit j: label j's threshold chosen from its distribution */
    int use_invalid_below;  /* the reader's invalid-reading rule, for a model to keep */
    float invalid_below;
    /* The time column, when the file has one: each row's time (Unix seconds, UTC), the column's
     * name and kind (1 ISO 8601, 2 Unix seconds), the sampling period and the steps that were
     * not one period (irregular) and, of those, the gaps that split segments. */
    double *t;    /* (n) or NULL */
    int time_col; /* its 0-based column in the file, -1: none */
    char *time_name;
    int time_kind;
    double period, max_gap;
    size_t irregular, gaps, dropped; /* dropped: rows outside --from/--until */
    /* Several files loaded as one (lstmsrc_dataset_load_files): the first row of each, in order
     * (NULL, 0: one file). Windows never cross a file's end: each file starts a segment. */
    size_t *file_start;
    char **file_names;
    size_t n_files;
    char *diff_bad_file;  /* the file of diff_bad_line, when several */
    size_t skipped_files; /* files with no row between --from and --until */
};

/* The data set's segments as runs: ds->runs, or one run of every row for a data set built
 * without them (tests). *n receives the count. */
const struct window_run *dataset_runs(const struct lstmsrc_dataset *ds, struct window_run *one,
                                      size_t *n);

/* Time columns, shared by the loader and the row reader (csv.h's reader at the first data row,
 * nf fields, 0 when the file has none): the column (-1: none) and kind (1 ISO 8601, 2 Unix
 * seconds) from cols->time_column or found by itself; --from/--until as Unix seconds (-inf,
 * +inf when not given); the current row's time, which must come after t_prev. */
struct csv_reader;
enum lstmsrc_status lstmsrc_time_column_find(const struct csv_reader *r, int nf,
                                             char *const *header, int ncols,
                                             const struct lstmsrc_columns *cols, int *col,
                                             int *kind, struct lstmsrc_error *err);
/* Whether a header names a time column: time, timestamp, datetime, date, unix (any case). */
int dataset_time_like_name(const char *h);
enum lstmsrc_status lstmsrc_time_bounds(const char *src, const struct lstmsrc_columns *cols,
                                        double *from, double *until, struct lstmsrc_error *err);
enum lstmsrc_status lstmsrc_time_cell(const struct csv_reader *r, int col, int kind, double t_prev,
                                      double *t, struct lstmsrc_error *err);

/* The segments of a data set cut as its rows are stored, one at a time (the CSV loader and
 * lstmsrc_dataset_from_arrays): row `row`'s readings xr (f), the row before's at xr - f. */
struct dataset_segs {
    size_t run_cap;    /* segments allocated in ds->runs */
    int32_t max_class; /* the largest class of a row in a segment; -1 before one */
    int prev_good;     /* the row before is in a segment (0: the next good row opens one) */
};
/* A missing row: kept in place and finite (the row before's readings, or 0), nothing on (yr
 * when not NULL, *c), in no segment. */
void dataset_segs_missing(struct lstmsrc_dataset *ds, struct dataset_segs *sg, size_t row,
                          float *xr, uint8_t *yr, int32_t *c);
/* A row in a segment: extends the one of the row before or opens one, and notes the first row
 * whose first difference overflows a float (line: its file line; cols: each input's column,
 * NULL for 0..f-1). Returns 0 when out of memory. */
int dataset_segs_good(struct lstmsrc_dataset *ds, struct dataset_segs *sg, size_t row,
                      const float *xr, int32_t c, long line, const int *cols);
/* Output names (k): the sources, "0".."k-1" for a class column, or combination names; NULL
 * when out of memory. */
char **dataset_output_names(const struct lstmsrc_dataset *ds);

/* Cuts the segments of ds (its rows and times ds->t stored) at every step longer than the gap
 * limit (cols->max_gap, 0: 1.5 sampling periods; the period cols->period, 0: the most common
 * step), and records the period, the irregular steps and the gaps, as a file's time column
 * gives them. */
enum lstmsrc_status dataset_time_segments(struct lstmsrc_dataset *ds,
                                          const struct lstmsrc_columns *cols,
                                          struct lstmsrc_error *err);

/* The file line of 0-based data row `row`, or 0 when it is not known (see lines_regular). */
long dataset_row_line(const struct lstmsrc_dataset *ds, size_t row);

/* Fails with "FILE:LINE:COL: ..." (LSTMSRC_ERR_PARSE) when ds has a row whose first difference
 * overflows a float, for a model or training that uses the first-difference channel. */
enum lstmsrc_status dataset_check_diff(const struct lstmsrc_dataset *ds, struct lstmsrc_error *err);

/* Combined-label class index of one row of N 0/1 labels: the first column is the most
 * significant bit, so class 3 of "a,b,c" is "b+c" (binary 011). */
int dataset_combined_class(const uint8_t *bits, int n);
/* Name of a combined class: on sources joined by '+', or "none". Caller frees. */
char *dataset_combined_name(char *const *label_names, int n, int cls);

#endif
