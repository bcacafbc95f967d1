/*
 * metrics.h — counting what a model got right, honestly: binary confusion counts, F1, the best
 * F1 decision threshold over a set of scores (used to tune per-source thresholds on validation
 * and to fit the "on if reading > t" baseline). The evaluation behind `lstmsrc eval` is
 * evaluate.c's.
 */
#ifndef LSTMSRC_METRICS_H
#define LSTMSRC_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct bin_counts {
    size_t tp, fp, fn, tn;
};

/* F1, precision, recall from counts; 0 where undefined (no predicted / no true positives). */
double counts_f1(const struct bin_counts *c);
double counts_precision(const struct bin_counts *c);
double counts_recall(const struct bin_counts *c);
/* Counts one decision p (nonzero = ON) against the truth t. */
void counts_add(struct bin_counts *c, int p, int t);

/* Decision rule everywhere: ON if score > threshold.
 * Finds the threshold maximising F1 of (score[i*ss] > t) against y[i*sy] over n items. Candidate
 * thresholds lie midway between consecutive distinct sorted scores (plus "below all"). Ties in F1
 * go to the higher threshold. With no positives returns `fallback` and F1 0. Allocates a
 * temporary index array; returns -1 on allocation failure, else 0. */
int best_f1_threshold(const float *score, size_t ss, const uint8_t *y, size_t sy, size_t n,
                      float fallback, float *thr_out, double *f1_out);

#endif
