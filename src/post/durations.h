/*
 * durations.h — minimum on/off durations: post-processing of a multi-label model's thresholded
 * 0/1 decisions, one filter per source, over consecutive windows of one sequence.
 *
 * The filter, per source, on the sequence of decisions (rows = consecutive windows):
 *   1. an off-gap shorter than min_off rows that lies between two on-runs is filled (set on);
 *      gaps at the start or the end of the sequence are never filled;
 *   2. then an on-run shorter than min_on rows is dropped (set off), at the ends too.
 * min_on = min_off = 1 changes nothing.
 *
 * The batch form (durations_filter) filters a whole sequence at once. The streaming form
 * (struct lstmsrc_filter, public in lstmsrc.h) takes one raw row at a time and hands back rows
 * once they are settled, byte for byte the batch result: a row is settled at most
 * (min_on - 1) + (min_off - 1) rows after it was pushed (stage 1 holds back at most min_off - 1
 * rows of an undecided gap, stage 2 at most min_on - 1 rows of an unconfirmed run), and every
 * row is settled by lstmsrc_filter_flush. Multi-class models are never filtered (all 1/1).
 */
#ifndef LSTMSRC_DURATIONS_H
#define LSTMSRC_DURATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsrc.h"

/* Filters on[i * stride], i < n, in place (nonzero = on; the result is 0/1). */
void durations_filter(uint8_t *on, size_t n, size_t stride, int min_on, int min_off);

/* Rows a source's decision may be held back: (min_on - 1) + (min_off - 1). */
int durations_delay(int min_on, int min_off);

/* Checks one pair; returns 1 when both lie in 1..LSTMSRC_MAX_DURATION. */
int durations_valid(long min_on, long min_off);

/* The candidates tuning tries for min_on and for min_off, ascending. */
extern const int durations_grid[];
extern const int durations_grid_n;

/* Chooses (min_on, min_off) from durations_grid x durations_grid for the best F1 of the
 * filtered decisions (score[i*ss] > thr) against y[i*sy] over n consecutive windows. Ties go to
 * the smaller min_on, then the smaller min_off, so 1/1 stays unless filtering helps. *f1_raw
 * and *f1_best receive the F1 without and with the chosen filter. Returns -1 when out of
 * memory, else 0. */
int durations_tune(const float *score, size_t ss, float thr, const uint8_t *y, size_t sy, size_t n,
                   int *min_on, int *min_off, double *f1_raw, double *f1_best);

#endif
