/*
 * lstmsrc.h — learn which sources are active from one accumulated meter reading.
 *
 * lstmsrc trains an LSTM over rolling windows of a metered reading (electricity, water, air) and
 * predicts, per time step, the on/off state of every source (multi-label) or one class out of K
 * (multi-class). This header is the whole public API; the CLI `lstmsrc` uses nothing else.
 *
 * Conventions
 *   - Every fallible call returns `enum lstmsrc_status` (LSTMSRC_OK == 0) and takes an optional
 *     caller-owned `struct lstmsrc_error *err` (NULL allowed) that receives the code and a one-line
 *     message with context ("data.csv:17:3: expected a number, found \"abc\"").
 *   - Results go through out-params; `*out` is written only on success.
 *   - Whoever creates frees; every `*_free(NULL)` is a no-op. Returned `const char *` are borrowed
 *     from the handle and live as long as it does.
 *   - The library keeps no global mutable state, never prints and never exits. Separate handles may
 *     be used from separate threads; one handle must not be used from two threads at once.
 *
 * Usage (error handling shortened):
 *
 *     struct lstmsrc_error err;
 *     struct lstmsrc_columns cols = {0};           // reading = column 1, labels = the rest
 *     struct lstmsrc_dataset *ds;
 *     if (lstmsrc_dataset_load("train.csv", &cols, &ds, &err)) { puts(err.msg); return 1; }
 *
 *     struct lstmsrc_train_config cfg;
 *     lstmsrc_train_config_default(&cfg);
 *     cfg.epochs = 10;
 *     struct lstmsrc_model *m;
 *     if (lstmsrc_train(ds, &cfg, &m, &err)) { puts(err.msg); return 1; }
 *     lstmsrc_model_save(m, "model.lsm", &err);
 *
 *     struct lstmsrc_eval *ev;
 *     lstmsrc_evaluate(m, test_ds, &ev, &err);     // per-source P/R/F1 + baselines
 *     printf("macro F1 %.3f (threshold rule %.3f)\n", ev->macro_f1, ev->threshold_macro_f1);
 *     lstmsrc_eval_free(ev);
 *     lstmsrc_model_free(m);
 *     lstmsrc_dataset_free(ds);
 */
#ifndef LSTMSRC_H
#define LSTMSRC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LSTMSRC_VERSION "0.1.0"

/* ============================== status and errors ============================== */

enum lstmsrc_status {
    LSTMSRC_OK = 0,
    LSTMSRC_ERR_ARG,         /* impossible option or argument */
    LSTMSRC_ERR_IO,          /* a file could not be opened, read or written */
    LSTMSRC_ERR_PARSE,       /* malformed data (CSV) */
    LSTMSRC_ERR_FORMAT,      /* truncated or corrupted model file */
    LSTMSRC_ERR_VERSION,     /* model file written by another format version */
    LSTMSRC_ERR_NOMEM,       /* out of memory */
    LSTMSRC_ERR_LIMIT,       /* input exceeds a stated limit (columns, line length, sizes) */
    LSTMSRC_ERR_INTERRUPTED  /* stopped on request (signal) */
};

#define LSTMSRC_ERROR_SIZE 256

struct lstmsrc_error {
    enum lstmsrc_status code;
    char msg[LSTMSRC_ERROR_SIZE];
};

/* Static description of a status code; never NULL. */
const char *lstmsrc_status_str(enum lstmsrc_status status);

/* Stated limits; inputs beyond them fail with LSTMSRC_ERR_LIMIT. */
#define LSTMSRC_MAX_COLUMNS 4096       /* columns in a CSV header */
#define LSTMSRC_MAX_LINE (1 << 20)     /* bytes in one CSV line */
#define LSTMSRC_MAX_INPUTS 64          /* input channels */
#define LSTMSRC_MAX_SOURCES 64         /* multi-label sources */
#define LSTMSRC_MAX_CLASSES 256        /* multi-class classes */
#define LSTMSRC_MAX_COMBINED 8         /* 0/1 columns combined into 2^N classes */
#define LSTMSRC_MAX_HIDDEN 4096
#define LSTMSRC_MAX_LAYERS 16
#define LSTMSRC_MAX_SEQ 100000
#define LSTMSRC_MAX_NAME 256           /* bytes in a column name */

/* ============================== data sets ============================== */

enum lstmsrc_task { LSTMSRC_TASK_MULTILABEL = 0, LSTMSRC_TASK_MULTICLASS = 1 };

/* How labels are framed in the file. */
enum lstmsrc_label_mode {
    LSTMSRC_LABELS_SOURCES = 0,  /* several 0/1 columns, one per source (multi-label) */
    LSTMSRC_LABELS_CLASS = 1,    /* one integer class column 0..K-1 (multi-class) */
    LSTMSRC_LABELS_COMBINED = 2  /* N 0/1 columns mapped to 2^N combination classes (multi-class) */
};

/* Which columns to read. Column lists are comma-separated names or 1-based indexes
 * ("reading", "1", "Kettle,Microwave", "2,4"). A zeroed struct means: input = column 1,
 * labels = every other column, multi-label. */
struct lstmsrc_columns {
    const char *input;          /* input channels; NULL = column 1 */
    const char *labels;         /* 0/1 label columns; NULL = every column not used as input */
    const char *class_column;   /* one integer class column (implies LSTMSRC_LABELS_CLASS) */
    enum lstmsrc_label_mode mode;
    int labels_optional;        /* 1: a file without the label columns loads (prediction) */
    /* Exact column names, taking precedence over the lists above when non-NULL (used to match a
     * model's columns, whose names may contain commas). */
    const char *const *input_names;
    int n_input_names;
    const char *const *label_names;
    int n_label_names;
};

struct lstmsrc_dataset;

/* Reads a CSV (comma, tab or space separated, one header line) keeping only the selected columns,
 * each number held once as float. Every cell is checked: non-numbers, NaN/inf, ragged rows, labels
 * other than 0/1, missing columns and empty files fail with "FILE:LINE:COL: expected ..., found ...".
 * The caller owns *out and frees it with lstmsrc_dataset_free. */
enum lstmsrc_status lstmsrc_dataset_load(const char *path, const struct lstmsrc_columns *cols,
                                         struct lstmsrc_dataset **out, struct lstmsrc_error *err);
/* Same from memory; `name` is used in messages. The buffer is not kept. */
enum lstmsrc_status lstmsrc_dataset_load_mem(const char *name, const char *buf, size_t len,
                                             const struct lstmsrc_columns *cols,
                                             struct lstmsrc_dataset **out,
                                             struct lstmsrc_error *err);
void lstmsrc_dataset_free(struct lstmsrc_dataset *ds);

size_t lstmsrc_dataset_rows(const struct lstmsrc_dataset *ds);
int lstmsrc_dataset_inputs(const struct lstmsrc_dataset *ds);
/* Sources (multi-label) or classes (multi-class). */
int lstmsrc_dataset_outputs(const struct lstmsrc_dataset *ds);
int lstmsrc_dataset_has_labels(const struct lstmsrc_dataset *ds);
enum lstmsrc_task lstmsrc_dataset_task(const struct lstmsrc_dataset *ds);
const char *lstmsrc_dataset_input_name(const struct lstmsrc_dataset *ds, int i);
const char *lstmsrc_dataset_output_name(const struct lstmsrc_dataset *ds, int k);
/* Row-major (rows, inputs) raw readings, borrowed. */
const float *lstmsrc_dataset_inputs_data(const struct lstmsrc_dataset *ds);

/* ============================== training ============================== */

enum lstmsrc_pos_weight { LSTMSRC_POS_WEIGHT_AUTO = 0, LSTMSRC_POS_WEIGHT_NONE, LSTMSRC_POS_WEIGHT_MANUAL };

/* Per-epoch progress, handed to the callback. */
struct lstmsrc_progress {
    int epoch;                  /* 1-based */
    int epochs;
    size_t done, total;         /* training windows processed this epoch / in total */
    double seconds;             /* elapsed this epoch */
    double loss;                /* mean training loss so far this epoch */
    double val_loss;            /* validation loss; negative when there is no validation part */
    double val_f1;              /* validation macro F1 (multi-class: accuracy-free macro F1) */
    int end_of_epoch;           /* 1 on the final call of an epoch (val_* valid then) */
    int improved;               /* 1 when this epoch is the best so far on validation loss */
};

struct lstmsrc_train_config {
    int seq_len;                /* window length (rows); default 5 */
    int hidden;                 /* LSTM units per layer; default 64 */
    int layers;                 /* stacked LSTM layers; default 1 */
    int epochs;                 /* default 10 */
    int batch;                  /* default 512 */
    int patience;               /* early stopping on validation loss; 0 = off */
    int threads;                /* 0 = all online cores */
    float lr;                   /* Adam; Keras defaults 1e-3, 0.9, 0.999, 1e-7 */
    float beta1, beta2, eps;
    float clip;                 /* global gradient-norm clip; 0 = off */
    float val_fraction;         /* last part of the rows held out for validation; default 0.1 */
    uint64_t seed;              /* default 1 */
    enum lstmsrc_pos_weight pos_weight;
    const float *pos_weights;   /* LSTMSRC_POS_WEIGHT_MANUAL: one per source */
    int n_pos_weights;
    float pos_weight_cap;       /* AUTO caps negatives/positives at this; default 50 */
    int tune_thresholds;        /* 1: per-source thresholds tuned on validation for best F1 */
    float threshold;            /* decision threshold for every source when not tuned; 0.5 */
    /* Called after every few batches and once at the end of each epoch; may be NULL. */
    void (*progress)(const struct lstmsrc_progress *p, void *user);
    void *progress_user;
    /* When non-NULL and it becomes non-zero, training stops after the current step and returns
     * LSTMSRC_ERR_INTERRUPTED with the best model so far in *out. */
    const volatile sig_atomic_t *stop;
};

/* Fills the defaults documented above. */
void lstmsrc_train_config_default(struct lstmsrc_train_config *cfg);

struct lstmsrc_model;

/* Trains a model on `ds` (which must have labels): chronological split, scaler fitted on the
 * training part, Keras initialisation, Adam, early stopping, thresholds tuned on validation.
 * Same data, seed and thread count give the same model, byte for byte. Caller owns *out. */
enum lstmsrc_status lstmsrc_train(const struct lstmsrc_dataset *ds,
                                  const struct lstmsrc_train_config *cfg,
                                  struct lstmsrc_model **out, struct lstmsrc_error *err);

/* ============================== models ============================== */

/* Writes to "PATH.tmp" then renames over PATH, so a failure never leaves a half-written model in
 * place of a good one. */
enum lstmsrc_status lstmsrc_model_save(const struct lstmsrc_model *m, const char *path,
                                       struct lstmsrc_error *err);
enum lstmsrc_status lstmsrc_model_load(const char *path, struct lstmsrc_model **out,
                                       struct lstmsrc_error *err);
/* Loads from memory; `name` is used in messages; the buffer is not kept. */
enum lstmsrc_status lstmsrc_model_load_mem(const char *name, const void *buf, size_t len,
                                           struct lstmsrc_model **out, struct lstmsrc_error *err);
void lstmsrc_model_free(struct lstmsrc_model *m);

/* Read-only description of a model, borrowed from it. */
struct lstmsrc_model_info {
    enum lstmsrc_task task;
    enum lstmsrc_label_mode label_mode;
    int inputs, outputs, hidden, layers, seq_len;
    int n_labels;                    /* label columns the model was trained on */
    size_t n_params;
    const char *const *input_names;  /* inputs */
    const char *const *label_names;  /* n_labels: label columns as named in the training file */
    const char *const *output_names; /* outputs: sources or classes */
    const float *scale_mean, *scale_std;   /* inputs */
    const float *thresholds;         /* outputs (multi-label decision thresholds) */
    const float *baseline_thresholds;/* outputs: "on if reading > t" rule fitted on training rows */
    const float *pos_weights;        /* outputs (multi-label), as used in training */
    /* training metadata */
    uint64_t seed;
    uint64_t rows_train, rows_val, windows_train, windows_val;
    int epochs_run, best_epoch, batch, threads;
    float lr;
    float val_loss, val_macro_f1;    /* at the best epoch; negative if no validation part */
};
void lstmsrc_model_get_info(const struct lstmsrc_model *m, struct lstmsrc_model_info *info);

/* Fills `cols` to read a file with this model's input (and, unless labels_optional, label)
 * columns by exact name. Pointers are borrowed from the model. */
void lstmsrc_model_columns(const struct lstmsrc_model *m, int labels_optional,
                           struct lstmsrc_columns *cols);

/* Predicts every full window of `ds`: window i ends at row i + seq_len - 1. `probs` receives
 * (windows, outputs) probabilities (sigmoid per source, or softmax over classes); `windows` must
 * equal lstmsrc_dataset_rows(ds) - seq_len + 1. Input columns are matched by name. */
enum lstmsrc_status lstmsrc_predict(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                    float *probs, size_t windows, struct lstmsrc_error *err);

/* ============================== evaluation ============================== */

struct lstmsrc_output_metrics {
    const char *name;
    double precision, recall, f1;
    size_t support;              /* windows where it is truly on / of this class */
    double threshold;            /* decision threshold used (multi-label) */
    double baseline_f1;          /* "on if reading > t" rule (multi-label) */
    double baseline_threshold;
};

struct lstmsrc_eval {
    enum lstmsrc_task task;
    size_t windows;
    int outputs;
    struct lstmsrc_output_metrics *per;   /* outputs */
    double macro_f1;
    /* multi-label */
    double subset_accuracy, hamming_loss;
    double all_off_subset_accuracy, all_off_macro_f1, all_off_hamming_loss;
    double threshold_macro_f1;            /* baseline rule, macro over sources */
    double threshold_subset_accuracy, threshold_hamming_loss;
    /* multi-class */
    double accuracy;
    int majority_class;
    double majority_accuracy, majority_macro_f1;
    size_t *confusion;                    /* (outputs, outputs): row = true class, col = predicted */
};

/* Evaluates `m` on every full window of `ds` (which must have the model's label columns). */
enum lstmsrc_status lstmsrc_evaluate(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                     struct lstmsrc_eval **out, struct lstmsrc_error *err);
void lstmsrc_eval_free(struct lstmsrc_eval *ev);

/* ============================== synthetic data ============================== */

struct lstmsrc_gen_config {
    size_t rows;                 /* default 100000 */
    int sources;                 /* default 3 */
    uint64_t seed;               /* default 1 */
    int classes;                 /* 1: one integer class column (2^sources combinations) */
};
void lstmsrc_gen_config_default(struct lstmsrc_gen_config *cfg);
/* Writes seed-like meter data as CSV to `path` (temporary name, then rename). */
enum lstmsrc_status lstmsrc_gen_write(const struct lstmsrc_gen_config *cfg, const char *path,
                                      struct lstmsrc_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LSTMSRC_H */
