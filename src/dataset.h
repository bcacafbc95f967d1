/*
 * dataset.h — a loaded data set: the selected input channels and labels of a CSV, each number
 * held once. Windows are views into `x` (see window.h), never copies. Scaling is not applied
 * here: the raw readings stay as read and are standardised when a batch is gathered.
 */
#ifndef LSTMSRC_DATASET_H
#define LSTMSRC_DATASET_H

#include <stdint.h>

#include "lstmsrc.h"

struct lstmsrc_dataset {
    char *source;                  /* file name used in messages */
    size_t n;                      /* rows */
    int f;                         /* input channels */
    int k;                         /* outputs: sources (multi-label) or classes (multi-class) */
    enum lstmsrc_task task;
    enum lstmsrc_label_mode mode;
    int has_labels;
    char **input_names;            /* (f) */
    int n_labels;                  /* label columns read: sources, 1 class column, or N combined */
    char **label_names;            /* (n_labels) column names as in the file header */
    char **output_names;           /* (k) source names, or class names ("0".."K-1", or for
                                      combined labels "none", "src3", "src2+src3", ...) */
    float *x;                      /* (n, f) raw readings, row-major */
    uint8_t *y;                    /* (n, k) 0/1 per source; multi-label with labels, else NULL */
    int32_t *cls;                  /* (n) class index 0..k-1; multi-class with labels, else NULL */
};

/* Combined-label class index of one row of N 0/1 labels: the first column is the most
 * significant bit, so class 3 of "a,b,c" is "b+c" (binary 011). */
int dataset_combined_class(const uint8_t *bits, int n);
/* Name of a combined class: on sources joined by '+', or "none". Caller frees. */
char *dataset_combined_name(char *const *label_names, int n, int cls);

#endif
