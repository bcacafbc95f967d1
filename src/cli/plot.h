/*
 * plot.h — the CLI's pictures, drawn with svg.h: training curves (`train --plot`), and for
 * `lstmsrc plot` a timeline of the reading with each output's true and predicted on-periods as
 * bands, and precision/recall against the decision threshold per output.
 *
 * These functions only draw what they are handed; running the model and lining windows up with
 * rows is the caller's job (cmd_plot.c), so the drawing can be tested on hand-made arrays.
 */
#ifndef LSTMSRC_CLI_PLOT_H
#define LSTMSRC_CLI_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "svg.h"

/* ---- training curves ---- */

struct curve_epoch {
    int epoch;               /* 1-based */
    double loss;             /* mean training loss */
    double val_loss, val_f1; /* negative when there was no validation part */
};

/* Writes `path`: loss (training, validation) and validation macro F1 per epoch, the best epoch
 * marked (0: none). Returns 1, or 0 with err set. */
int plot_curves(const char *path, const char *title, const struct curve_epoch *e, int n,
                int best_epoch, struct lstmsrc_error *err);

/* ---- timeline ---- */

#define PLOT_NO_PREDICTION 255

/* What a timeline row is to the data set's segments (struct timeline's seg). */
enum { PLOT_ROW_IN = 0, PLOT_ROW_GAP = 1, PLOT_ROW_MISSING = 2 };

struct timeline {
    const char *title, *subtitle;
    const char *reading_name;
    const float *reading; /* (rows) input channel 0, raw */
    size_t rows;
    size_t first_row; /* 1-based row number of reading[0] */
    int k;
    const char *const *names; /* (k) */
    const uint8_t *truth;     /* (rows, k) 0/1; NULL when the data has no labels */
    const uint8_t *pred;      /* (rows, k) 0/1, or PLOT_NO_PREDICTION before the first window */
    const double *times;      /* (rows) each row's time (Unix seconds, UTC), or NULL: the x
                                 axis then counts rows */
    const uint8_t *seg;       /* (rows) PLOT_ROW_IN, PLOT_ROW_GAP (the first row of a segment
                                 after a time gap or a file boundary) or PLOT_ROW_MISSING (a row
                                 taken out of every segment); NULL: one segment */
};

double timeline_height(int k);
/* Draws the timeline figure with its top at y0, `width` wide. Long ranges are drawn one pixel
 * column at a time: the reading as its min-max envelope, a band as its most frequent non-off
 * state, so a single-row event stays visible. The reading line breaks where a segment ends:
 * missing rows are shaded and left out of the line, a gap is a dashed vertical line. */
void draw_timeline(struct svg *s, double y0, double width, const struct timeline *t);

/* ---- precision / recall against threshold ---- */

struct pr_input {
    const char *title, *subtitle;
    int k;
    const char *const *names; /* (k) */
    const float *probs;       /* (windows, k) model probabilities */
    const uint8_t *truth;     /* (windows, k) 0/1 */
    size_t windows;
    const float *thresholds; /* (k) the model's decision thresholds, or NULL */
};

double pr_height(int k);
/* Small multiples, one panel per output: precision, recall and F1 of "on if p > t" for t in
 * 0..1, the model's threshold marked. */
void draw_pr(struct svg *s, double y0, double width, const struct pr_input *p);

#endif
