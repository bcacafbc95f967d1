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
 *   - Structs the caller allocates and the library reads or fills (lstmsrc_columns,
 *     lstmsrc_train_config, lstmsrc_gen_config, lstmsrc_model_info) end with reserved space:
 *     fields added in later versions come out of it, so a struct's size, and a program built
 *     against an older header, stay valid across minor versions (tests/test_abi.c holds the
 *     sizes). A new field's zero means the behaviour before it, so zero the whole struct (= {0},
 *     or the _default call) before setting fields. Structs the library allocates (lstmsrc_eval,
 *     lstmsrc_report, lstmsrc_progress passed to a callback) only grow at their end.
 *   - The library keeps no global mutable state, never prints and never exits. Separate handles may
 *     be used from separate threads; one handle must not be used from two threads at once.
 *
 * Handles: lstmsrc_dataset (a loaded CSV), lstmsrc_model (trained or loaded), lstmsrc_eval,
 * lstmsrc_rows (a CSV read in chunks), lstmsrc_stream (one row in, one prediction out). All are
 * opaque; a model is read-only once made, so any number of streams or predictions may share it.
 *
 * Usage, training (error handling shortened):
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
 *
 * Usage, prediction on new data (no labels needed):
 *
 *     struct lstmsrc_model *m;
 *     if (lstmsrc_model_load("model.lsm", &m, &err)) { puts(err.msg); return 1; }
 *     struct lstmsrc_model_info info;
 *     lstmsrc_model_get_info(m, &info);            // inputs, outputs, seq_len, names, ...
 *
 *     // a batch: every full window of rows already in memory, (rows, inputs) raw readings
 *     size_t windows = rows - info.seq_len + 1;   // window i ends at row i + seq_len - 1
 *     float *probs = malloc(windows * info.outputs * sizeof *probs);
 *     uint8_t *on = malloc(windows * info.outputs);
 *     lstmsrc_predict_rows(m, x, rows, probs, windows, 0, &err);   // 0 = all cores
 *     lstmsrc_decide(m, probs, windows, on);      // ON iff probability > tuned threshold
 *     lstmsrc_filter_rows(m, on, windows);        // + the tuned minimum on/off durations
 *
 *     // a stream: one reading at a time, microseconds per step, no allocation per step
 *     struct lstmsrc_stream *s;
 *     lstmsrc_stream_create(m, &s, &err);
 *     float row[1], p[LSTMSRC_MAX_CLASSES];
 *     int ready;
 *     while (read_meter(&row[0])) {
 *         if (lstmsrc_stream_push(s, row, p, &ready, &err)) continue;   // not finite: skipped
 *         if (ready) lstmsrc_decide(m, p, 1, on); // from the seq_len-th row on
 *     }                                           // (+ lstmsrc_filter for the durations)
 *     lstmsrc_stream_free(s);
 *     lstmsrc_model_free(m);
 *
 * Files bigger than memory: lstmsrc_rows_open / lstmsrc_rows_read hand out rows of the model's
 * input columns chunk by chunk; predict each chunk with lstmsrc_predict_rows, keeping its last
 * seq_len - 1 rows in front of the next (see `lstmsrc predict`). For a device without the
 * library, lstmsrc_export_c writes the model as one C99 header (see `lstmsrc export-c`).
 */
#ifndef LSTMSRC_H
#define LSTMSRC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header belongs to; lstmsrc_version() and lstmsrc_version_number() say which
 * library a program runs with (a shared library may be newer than the header it was built
 * with). The soname (liblstmsrc.so.MAJOR) changes with the major number. */
#define LSTMSRC_VERSION_MAJOR 0
#define LSTMSRC_VERSION_MINOR 1
#define LSTMSRC_VERSION_PATCH 0
#define LSTMSRC_VERSION "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH: 100 for 0.1.0 */
#define LSTMSRC_VERSION_NUMBER                                                                     \
    (LSTMSRC_VERSION_MAJOR * 10000 + LSTMSRC_VERSION_MINOR * 100 + LSTMSRC_VERSION_PATCH)

/* The running library's LSTMSRC_VERSION and LSTMSRC_VERSION_NUMBER. */
const char *lstmsrc_version(void);
int lstmsrc_version_number(void);

/* ============================== status and errors ============================== */

enum lstmsrc_status {
    LSTMSRC_OK = 0,
    LSTMSRC_ERR_ARG,         /* impossible option or argument */
    LSTMSRC_ERR_IO,          /* a file could not be opened, read or written */
    LSTMSRC_ERR_PARSE,       /* malformed or unusable data (CSV; too few rows for a window) */
    LSTMSRC_ERR_FORMAT,      /* truncated or corrupted model file */
    LSTMSRC_ERR_VERSION,     /* model file written by another format version */
    LSTMSRC_ERR_NOMEM,       /* out of memory */
    LSTMSRC_ERR_LIMIT,       /* input exceeds a stated limit (columns, line length, sizes) */
    LSTMSRC_ERR_INTERRUPTED, /* stopped on request (signal) */
    LSTMSRC_ERR_DIVERGED     /* training produced a non-finite loss and stopped */
};

#define LSTMSRC_ERROR_SIZE 256

struct lstmsrc_error {
    enum lstmsrc_status code;
    char msg[LSTMSRC_ERROR_SIZE];
};

/* Static description of a status code; never NULL. */
const char *lstmsrc_status_str(enum lstmsrc_status status);

/* Stated limits; inputs beyond them fail with LSTMSRC_ERR_LIMIT. */
#define LSTMSRC_MAX_COLUMNS 4096   /* columns in a CSV header */
#define LSTMSRC_MAX_LINE (1 << 20) /* bytes in one CSV line */
#define LSTMSRC_MAX_INPUTS 64      /* input channels */
#define LSTMSRC_MAX_SOURCES 64     /* multi-label sources */
#define LSTMSRC_MAX_CLASSES 256    /* multi-class classes */
#define LSTMSRC_MAX_COMBINED 8     /* 0/1 columns combined into 2^N classes */
#define LSTMSRC_MAX_HIDDEN 4096
#define LSTMSRC_MAX_LAYERS 16
#define LSTMSRC_MAX_SEQ 100000
#define LSTMSRC_MAX_NAME 256       /* bytes in a column name */
#define LSTMSRC_MAX_DURATION 10000 /* rows in a minimum on or off duration */

/* ============================== data sets ============================== */

enum lstmsrc_task { LSTMSRC_TASK_MULTILABEL = 0, LSTMSRC_TASK_MULTICLASS = 1 };

/* How labels are framed in the file. */
enum lstmsrc_label_mode {
    LSTMSRC_LABELS_SOURCES = 0, /* several 0/1 columns, one per source (multi-label) */
    LSTMSRC_LABELS_CLASS = 1,   /* one integer class column 0..K-1 (multi-class) */
    LSTMSRC_LABELS_COMBINED = 2 /* N 0/1 columns mapped to 2^N combination classes (multi-class) */
};

/* Which columns to read. Column lists are comma-separated names or 1-based indexes
 * ("reading", "1", "Kettle,Microwave", "2,4"). A zeroed struct means: input = column 1,
 * labels = every other column, multi-label. */
struct lstmsrc_columns {
    const char *input;        /* input channels; NULL = column 1 */
    const char *labels;       /* 0/1 label columns; NULL = every column not used as input */
    const char *class_column; /* one integer class column (implies LSTMSRC_LABELS_CLASS) */
    enum lstmsrc_label_mode mode;
    int labels_optional; /* 1: a file without the label columns loads (prediction) */
    /* Exact column names, taking precedence over the lists above when non-NULL (used to match a
     * model's columns, whose names may contain commas). */
    const char *const *input_names;
    int n_input_names;
    const char *const *label_names;
    int n_label_names;
    /* 1: lstmsrc_rows_read fails on a row whose first difference from the row before (in float)
     * is not finite (3.4e38 after -3.4e38), as a model with the first-difference channel needs;
     * lstmsrc_model_columns sets it for such a model. */
    int diff_finite;

    /* Real recordings. A row with a missing cell in a
     * selected column, or a reading below invalid_below, is kept in place but belongs to no
     * segment: no window includes it, and the rows on either side are separate stretches, as
     * two files would be. */
    const char *missing;   /* comma-separated spellings of "no value" ("NA,-", "" counts
                              as one); NULL: empty, NA, NaN, null (any case) */
    int use_invalid_below; /* 1: a reading (the first input column) below invalid_below
                              marks its row missing (an outage logged as 0 W) */
    float invalid_below;
    /* Label columns holding power: "W" for every label column, or "NAME=W,NAME=W" (names or
     * 1-based indexes); a cell is ON when its value is above W. Exact per-label thresholds
     * (label_on_above, n_label_names of them, a negative value for a 0/1 column) take
     * precedence, as a model stores them. */
    const char *on_above;
    const float *label_on_above;
    /* 1: a label column (multi-label sources) that holds other values than 0/1 and has no
     * threshold gets one from its power distribution (two groups on a log scale, Otsu's split):
     * lstmsrc_dataset_on_above_auto says which, and what. 0: such a column is an error. */
    int on_above_auto;
    /* A time column: its name or 1-based index; NULL: found by itself, a column whose header is
     * time, timestamp, datetime, date or unix (any case) and whose cells are ISO 8601 date-times
     * or Unix seconds, else the first column whose first cell is an ISO 8601 date-time. A time
     * column is never an input or a label; time must go forward. A step longer than max_gap
     * seconds (0: 1.5 sampling periods, a row or more missing) starts a new segment. */
    const char *time_column;
    int no_time;   /* 1: no time column, whatever the file has */
    double period; /* seconds between rows; 0: the most common step */
    double max_gap;
    /* Keep only rows with from <= time <= until (ISO 8601 or Unix seconds; NULL: no bound). */
    const char *from, *until;
    /* The decimal mark of numbers: 0 = '.', and also a decimal comma ("217,5") in a file whose
     * separator is not ',' (semicolon, tab, blanks: unambiguous there); '.' = only a point;
     * ',' = a comma too where the separator is ',' (the number then quoted: "217,5"). */
    char decimal;
    /* Bridging short holes instead of splitting there: a run of at most fill_max missing rows
     * (missing cells, invalid readings; not a time gap, where rows are absent) with a good row
     * on either side, in one file, joins the segment: LSTMSRC_FILL_HOLD gives its rows the
     * readings of the good row before, LSTMSRC_FILL_LINEAR the straight line between the two
     * good rows; their labels are the row before's. 0 (LSTMSRC_FILL_NONE): every hole splits.
     * fill_max 0 with a fill: 5 rows. */
    int fill; /* enum lstmsrc_fill */
    int fill_max;
    /* room to grow without changing the size (zero it: = {0}, memset or the _default call) */
    uint64_t reserved_[7];
};

enum lstmsrc_fill { LSTMSRC_FILL_NONE = 0, LSTMSRC_FILL_HOLD = 1, LSTMSRC_FILL_LINEAR = 2 };
#define LSTMSRC_FILL_MAX_DEFAULT 5
#define LSTMSRC_FILL_MAX_LIMIT 10000

struct lstmsrc_dataset;

/* Reads a CSV (comma, tab or space separated, one header line) keeping only the selected columns,
 * each number held once as float. Every cell is checked: non-numbers, NaN/inf, ragged rows, labels
 * other than 0/1, missing columns and empty files fail with "FILE:LINE:COL: expected ..., found
 * ...". The caller owns *out and frees it with lstmsrc_dataset_free. */
enum lstmsrc_status lstmsrc_dataset_load(const char *path, const struct lstmsrc_columns *cols,
                                         struct lstmsrc_dataset **out, struct lstmsrc_error *err);
/* Same from memory; `name` is used in messages. The buffer is not kept. */
enum lstmsrc_status lstmsrc_dataset_load_mem(const char *name, const char *buf, size_t len,
                                             const struct lstmsrc_columns *cols,
                                             struct lstmsrc_dataset **out,
                                             struct lstmsrc_error *err);
/* Several files as one data set: recordings of one house in pieces, or several houses. The first
 * file resolves `cols`; every other file is read with its column names (in any column order),
 * its time column and its power thresholds. Windows never cross from one file into the next, and
 * training validates the last part of each file. Messages name the file. n >= 1. */
enum lstmsrc_status lstmsrc_dataset_load_files(const char *const *paths, int n,
                                               const struct lstmsrc_columns *cols,
                                               struct lstmsrc_dataset **out,
                                               struct lstmsrc_error *err);
/* Builds a data set from arrays in memory, as lstmsrc_dataset_load builds one from a file with
 * the same numbers (the same data and config train the same model, byte for byte), for callers
 * that hold their data already (a Python or R binding, a program reading a meter). Nothing is
 * kept: every array is copied.
 *   name         used in messages ("NAME: row 12, column 2: ..."); NULL: "arrays"
 *   x            (rows, inputs) raw readings, row-major, finite (see LSTMSRC_ARRAYS_NAN_MISSING);
 *                rows >= 1, 1 <= inputs <= LSTMSRC_MAX_INPUTS
 *   input_names  (inputs) names, each 1 to LSTMSRC_MAX_NAME - 1 bytes; NULL: "reading" for one
 *                input, else "x1", "x2", ...
 *   labels       (rows, outputs) 0/1 per source: a multi-label data set (LSTMSRC_LABELS_SOURCES)
 *   classes      (rows) class index 0..outputs-1: a multi-class data set (LSTMSRC_LABELS_CLASS);
 *                outputs 0: the largest class of the rows in segments + 1, as a file gives
 *                neither: no labels (for prediction; outputs must be 0); both: LSTMSRC_ERR_ARG
 *   label_names  multi-label: (outputs) source names, NULL: "src1", "src2", ...; multi-class:
 *                one name, the class column's, NULL: "class"
 *   marks        (rows) enum lstmsrc_row_mark per row, or NULL (every row OK): a
 *                LSTMSRC_ROW_MISSING row is kept in place but lies in no segment (no window
 *                includes it, as a file's row with a missing cell), a LSTMSRC_ROW_BREAK row
 *                starts a new segment (a gap in time between it and the row before)
 *   flags        LSTMSRC_ARRAYS_* bits
 * A missing row's readings become the last good row's (0 before any) and its labels 0, as the
 * loader stores them. Fails with LSTMSRC_ERR_ARG for a NULL array, zero rows or inputs, an
 * impossible outputs or mark ("arrays: row 3: mark 7 is not a lstmsrc_row_mark"), with
 * LSTMSRC_ERR_LIMIT beyond the stated limits, with LSTMSRC_ERR_PARSE for data a file could not
 * hold ("arrays: row 12, column 2: expected a finite number, found inf"; "arrays: row 4, label
 * column 1 (src1): expected 0 or 1, found 2"), and with LSTMSRC_ERR_NOMEM. */
#define LSTMSRC_ARRAYS_NAN_MISSING 0x1u /* a row with a NaN reading is a missing row */
enum lstmsrc_status lstmsrc_dataset_from_arrays(
    const char *name, const float *x, size_t rows, int inputs, const char *const *input_names,
    const uint8_t *labels, const int32_t *classes, int outputs, const char *const *label_names,
    const uint8_t *marks, unsigned flags, struct lstmsrc_dataset **out, struct lstmsrc_error *err);
/* Gives a data set from lstmsrc_dataset_from_arrays a time column, as a file's time column
 * does (the same numbers and times train the same model as the file, byte for byte): `t` (rows)
 * each row's time in Unix seconds (UTC), finite and strictly increasing; `name` the column's
 * name (1 to LSTMSRC_MAX_NAME - 1 bytes; NULL: "time"), recorded in a model trained on it;
 * `period` the seconds between rows (0: the most common step) and `max_gap` the longest step
 * inside a segment (0: 1.5 periods), as lstmsrc_columns' period and max_gap: a longer step
 * starts a new segment. Call it once, before anything reads the data set. Fails with
 * LSTMSRC_ERR_ARG for a NULL ds or t, a data set that has times already, a negative or
 * non-finite period or max_gap, or a bad name, with LSTMSRC_ERR_PARSE for a time that is not
 * finite or does not come after the one before ("arrays: row 12: time goes back from
 * 2014-09-01 00:10:00 to 2014-09-01 00:05:00; rows must be in time order"), and with
 * LSTMSRC_ERR_NOMEM; the data set is unchanged then. */
enum lstmsrc_status lstmsrc_dataset_set_times(struct lstmsrc_dataset *ds, const char *name,
                                              const double *t, double period, double max_gap,
                                              struct lstmsrc_error *err);
/* Files a data set was loaded from (1 for one file), and the name and first row of file i;
 * files left out because no row of theirs lies between cols->from and cols->until. */
size_t lstmsrc_dataset_files_skipped(const struct lstmsrc_dataset *ds);
size_t lstmsrc_dataset_files(const struct lstmsrc_dataset *ds);
const char *lstmsrc_dataset_file(const struct lstmsrc_dataset *ds, size_t i, size_t *first_row);
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
/* Row-major (rows, outputs) 0/1 labels of a multi-label data set, borrowed; NULL without labels
 * or for multi-class data. */
const uint8_t *lstmsrc_dataset_labels_data(const struct lstmsrc_dataset *ds);
/* (rows) class index 0..outputs-1 per row of a multi-class data set, borrowed; NULL otherwise. */
const int32_t *lstmsrc_dataset_classes_data(const struct lstmsrc_dataset *ds);
/* Whether a cell spells "no value" as the loader reads it: one of the comma-separated `list`
 * (exact, after trimming blanks), or with list NULL: empty, NA, NaN, null in any case. s[len]
 * need not be NUL. */
int lstmsrc_cell_missing(const char *list, const char *s, size_t len);
/* The name the data set was loaded under (its path, or the name given to _load_mem). */
const char *lstmsrc_dataset_source(const struct lstmsrc_dataset *ds);
/* Segments: the stretches of rows with no missing row and no gap inside, in which windows lie.
 * A clean file is one segment of every row. */
size_t lstmsrc_dataset_segments(const struct lstmsrc_dataset *ds);
/* Segment i (0 <= i < lstmsrc_dataset_segments): its first row and row count. */
void lstmsrc_dataset_segment(const struct lstmsrc_dataset *ds, size_t i, size_t *first,
                             size_t *rows);
/* Full windows of seq rows inside segments: what lstmsrc_predict fills. */
size_t lstmsrc_dataset_windows(const struct lstmsrc_dataset *ds, int seq);
/* What the reader treated as missing: cells (empty, NA, ...), rows taken out for a missing cell
 * or an invalid reading, of which invalid readings. */
/* Rows bridged by cols->fill (counted among the missing rows too). */
size_t lstmsrc_dataset_filled(const struct lstmsrc_dataset *ds);
void lstmsrc_dataset_missing(const struct lstmsrc_dataset *ds, size_t *cells, size_t *rows,
                             size_t *invalid);
/* The time column, when the file has one: returns its name (NULL: none) and sets (each may be
 * NULL) the sampling period in seconds, the steps that were not one period, the gaps among them
 * that start a new segment, and the rows that --from/--until left out. */
const char *lstmsrc_dataset_time(const struct lstmsrc_dataset *ds, double *period,
                                 size_t *irregular, size_t *gaps, size_t *dropped);
/* Each row's time in Unix seconds (UTC), or NULL without a time column. */
const double *lstmsrc_dataset_times(const struct lstmsrc_dataset *ds);
/* The on-above threshold of label column j as loaded (watts), or a negative value for a 0/1
 * column. */
float lstmsrc_dataset_on_above(const struct lstmsrc_dataset *ds, int j);
/* 1 when label column j's threshold was chosen from its power distribution (on_above_auto). */
int lstmsrc_dataset_on_above_auto(const struct lstmsrc_dataset *ds, int j);

/* ============================== training ============================== */

enum lstmsrc_pos_weight {
    LSTMSRC_POS_WEIGHT_AUTO = 0,
    LSTMSRC_POS_WEIGHT_NONE,
    LSTMSRC_POS_WEIGHT_MANUAL
};

/* Channels the network sees, derived from each input column (a bit set, at least one bit):
 * the reading as read, and its first difference d_t = x_t - x_{t-1} (0 for the first row of a
 * file or a stream). Channels are laid out kind by kind in bit order, each over the input
 * columns: with both, [x_1 .. x_F, d_1 .. d_F]. Each channel has its own scaler entry. */
#define LSTMSRC_FEATURE_RAW 0x1u
#define LSTMSRC_FEATURE_DIFF 0x2u
#define LSTMSRC_FEATURES_ALL 0x3u

/* Which row of a window its label (and its prediction) belongs to. */
enum lstmsrc_label_at {
    LSTMSRC_LABEL_LAST = 0,  /* the window's last row: causal, decisions as rows arrive */
    LSTMSRC_LABEL_CENTER = 1 /* row seq_len/2 before the last: the window also sees seq_len/2
                                rows after the labelled row (files, or a stream that may lag) */
};
/* Which epoch's weights training keeps: the lowest validation loss, or the highest validation
 * macro F1 (multi-label: each source at its best threshold on the validation windows; a source
 * never on there counts 0; multi-class: of the argmax). Ties keep the earlier epoch. */
enum lstmsrc_select { LSTMSRC_SELECT_LOSS = 0, LSTMSRC_SELECT_F1 };

/* Data-parallel training over several processes (the CLI's `make MPI=1` gives one on MPI; the
 * library itself links no MPI). Every process calls lstmsrc_train with the same data and config
 * and its own comm; each step's batch is cut into the same fixed chunks as in one process, rank r
 * computes the gradients and losses of its contiguous share of the chunks, `allgather` hands
 * every rank the others' and each sums them in chunk order as one process does, so the model is
 * byte for byte the one of a single process with the same data and seed (on any threads per
 * rank). Validation and threshold tuning passes are spread the same way. A stop request on any
 * rank stops all of them at the same step. Leave cfg->comm NULL for one process. */
struct lstmsrc_comm {
    int rank, size; /* this process, and how many take part (size 1: one process) */
    /* A collective every rank calls with the same counts: buf holds size blocks in rank order,
     * block r counts[r] bytes; on entry this rank's block is filled in, on return every
     * block is. 0 when done; non-zero when the exchange failed (training then ends with
     * LSTMSRC_ERR_IO on every rank that saw it). */
    int (*allgather)(void *user, void *buf, const size_t *counts);
    void *user;
};

/* Per-epoch progress, handed to the callback. */
struct lstmsrc_progress {
    int epoch; /* 1-based */
    int epochs;
    size_t done, total;   /* training windows processed this epoch / in total */
    double seconds;       /* elapsed this epoch */
    double loss;          /* mean training loss so far this epoch */
    double val_loss;      /* validation loss; negative when there is no validation part */
    double val_f1;        /* validation macro F1 (multi-class: accuracy-free macro F1) */
    int end_of_epoch;     /* 1 on the final call of an epoch (val_* valid then) */
    int improved;         /* 1 when this epoch is the best so far (config's `select`) */
    double chunk_seconds; /* the last step's wall time over the rounds of chunks it ran
                             in: about the longest a stop request now waits */
};

/* The arithmetic of the LSTM step products (the gates' and, in training, the gradients into h
 * and x) in training, prediction, evaluation and streaming. Weights, optimiser state,
 * activations, cell state and the weight gradients stay fp32, and so do model files. */
enum lstmsrc_precision {
    LSTMSRC_PRECISION_FP32 = 0, /* fp32 products (default) */
    LSTMSRC_PRECISION_BF16,     /* products of operands rounded to bf16, summed in fp32
                                   (AVX-512 BF16, vdpbf16ps): needs a CPU with avx512_bf16 and the
                                   AVX-512 kernels in use (not with LSTMSRC_ISA=avx2) */
    LSTMSRC_PRECISION_AUTO      /* what lstmsrc_precision_resolve says: bf16 only where the CPU
                                   has it and the quality gate (bench/precision_gate.sh) held */
};
/* 1 when this CPU, build and kernel choice can run p (FP32 and AUTO always). */
int lstmsrc_precision_available(enum lstmsrc_precision p);
/* FP32 or BF16: p itself, or for AUTO the choice it makes here (see bench/PRECISION.md). */
enum lstmsrc_precision lstmsrc_precision_resolve(enum lstmsrc_precision p);
/* "fp32", "bf16", "auto" */
const char *lstmsrc_precision_name(enum lstmsrc_precision p);

struct lstmsrc_train_config {
    int seq_len;                /* window length (rows); default 5 */
    int hidden;                 /* LSTM units per layer; default 64 */
    int layers;                 /* stacked LSTM layers; default 1 */
    int bidirectional;          /* 1: the top layer also reads the window backwards, from its
                                   last row to the labelled row, and the head sees both
                                   directions there (with LSTMSRC_LABEL_CENTER the window's
                                   second half); 0: one direction; -1 (default): 1 when the
                                   label is at the centre, else 0 */
    int epochs;                 /* default 20 */
    int batch;                  /* default 512 */
    int patience;               /* stop after this many epochs without a better `select`
                                 * score; 0 = off */
    enum lstmsrc_select select; /* best epoch by validation loss (default) or macro F1 */
    int threads;                /* 0 = all online cores */
    float lr;                   /* Adam; Keras defaults 1e-3, 0.9, 0.999, 1e-7 */
    float beta1, beta2, eps;
    float clip;         /* global gradient-norm clip; 0 = off */
    float val_fraction; /* last part of the rows held out for validation; default 0.1;
                           0: none, and then tune_durations, LSTMSRC_SELECT_F1 and
                           patience fail with LSTMSRC_ERR_ARG (they need one) */
    uint64_t seed;      /* default 1 */
    enum lstmsrc_pos_weight pos_weight;
    const float *pos_weights; /* LSTMSRC_POS_WEIGHT_MANUAL: one per source */
    int n_pos_weights;
    float pos_weight_cap;           /* AUTO caps negatives/positives at this; default 50 */
    int tune_thresholds;            /* 1: per-source thresholds tuned on validation for best F1 */
    float threshold;                /* decision threshold for every source when not tuned; 0.5 */
    unsigned features;              /* LSTMSRC_FEATURE_* bits; default raw + first difference */
    enum lstmsrc_label_at label_at; /* default LSTMSRC_LABEL_CENTER (files); LSTMSRC_LABEL_LAST
                                       for decisions as rows arrive */
    int stride;                     /* a training window every `stride` rows (validation uses every
                                       window); default 1 */
    /* Minimum on/off durations (multi-label; see lstmsrc_filter_create). 1: per source, min_on
     * and min_off in rows tuned on the validation windows for the best F1 of the filtered
     * decisions, after the thresholds (a source without validation positives keeps 1/1).
     * 0 (default): min_on and min_off below for every source (1/1 = no filter). */
    int tune_durations;
    int min_on, min_off; /* when not tuned; default 1, 1 */
    /* Called after every few batches and once at the end of each epoch; may be NULL. */
    void (*progress)(const struct lstmsrc_progress *p, void *user);
    void *progress_user;
    /* When non-NULL and it becomes non-zero, training stops and returns LSTMSRC_ERR_INTERRUPTED
     * with the best model so far in *out. It is polled after every step and between the chunks
     * of a step's batch (a chunk is cut to about a second's work on one core, see
     * docs/USING.md), so a stop takes effect within about that long; a step or validation pass
     * cut short is not counted and a checkpoint resumes from before it. */
    const volatile sig_atomic_t *stop;
    /* Checkpoint file (NULL = none): the full training state (weights, Adam moments, RNG,
     * epoch, position in it, best so far) written atomically after every epoch, and when `stop`
     * ends training, mid-epoch too. With checkpoint_on_stop_only = 1 it is written only then.
     * A failed write does not end training: the previous checkpoint stays intact, training goes
     * on and on_checkpoint (when set) hears of it. */
    const char *checkpoint;
    int checkpoint_on_stop_only;
    /* Called after every checkpoint write with its outcome: err->code LSTMSRC_OK when written,
     * else the error ("PATH: cannot write: why"); may be NULL. */
    void (*on_checkpoint)(const struct lstmsrc_error *err, void *user);
    void *checkpoint_user;
    /* Continue from this checkpoint instead of starting afresh (NULL = start afresh). It must
     * come from the same data, seed, thread count and model and optimiser settings, or training
     * fails with LSTMSRC_ERR_ARG naming the difference; epochs, patience, thresholds and
     * durations may differ. A resumed run ends with the model an uninterrupted run gives, byte for
     * byte. */
    const char *resume;
    /* Fine-tuning (NULL = a fresh model): start from this model's weights instead of the
     * initialisation. Its architecture must be the one cfg and `ds` give: seq_len, hidden,
     * layers, directions (bidirectional -1 takes the init model's), features, label_at, task,
     * label mode and the input and output names, else LSTMSRC_ERR_ARG (an option) or
     * LSTMSRC_ERR_PARSE (the data's columns) naming what differs. init_refit_scaler 0 (default)
     * keeps its scaler, 1 fits the scaler on the training part of `ds` as a fresh model would.
     * The thresholds, positive weights, baseline rule and durations are fitted on `ds` as
     * usual. The new model records its origin (lstmsrc_model_info.init_name, init_crc): init_name
     * (NULL: "") and the CRC-32 of the init model's file bytes (of its serialised form when it
     * was not loaded from a file). Not with resume (LSTMSRC_ERR_ARG). */
    const struct lstmsrc_model *init;
    const char *init_name;
    int init_refit_scaler;
    /* Precision of the LSTM products during training; default FP32. BF16 where
     * lstmsrc_precision_available says no fails with LSTMSRC_ERR_ARG. The trained model is fp32;
     * its handle keeps running the precision it was trained in (lstmsrc_model_set_precision
     * changes that). It fills the padding after init_refit_scaler. */
    enum lstmsrc_precision precision;
    /* Weight averaging (0 = off, the default): the weights validated, kept and saved are an
     * exponential moving average of the weights after each step, avg += (1 - d) (w - avg), with
     * d = min(ema, (1 + step) / (10 + step)) and avg starting at the initial weights; training
     * itself goes on from the raw weights. 0 < ema < 1; 0.99 averages over about the last 100
     * steps. Less dependence on the last steps and the seed (docs/RESULTS.md). */
    float ema;
    uint32_t reserved32_;
    /* Several processes training one model (struct lstmsrc_comm); NULL = this process alone.
     * ema, reserved32_ and comm are taken from the reserved space (the struct's size is
     * unchanged on LP64). */
    const struct lstmsrc_comm *comm;
    /* How the input channels are standardised (enum lstmsrc_scaler; default GLOBAL: one mean
     * and std per channel over the training part of every file). PER_FILE: each file's
     * channels by that file's own mean and std (over its training part; no labels), and a
     * later file by its own statistics too (lstmsrc_predict, lstmsrc_model_scaler_fit), so a
     * house's base load and level do not reach the network. Taken from the reserved space. */
    int32_t scaler;
    uint32_t reserved32b_;
    /* room to grow without changing the size (zero it: = {0}, memset or the _default call) */
    uint64_t reserved_[5];
};

/* Fills the defaults documented above. */
void lstmsrc_train_config_default(struct lstmsrc_train_config *cfg);

/* lstmsrc_train_config.scaler */
enum lstmsrc_scaler { LSTMSRC_SCALER_GLOBAL = 0, LSTMSRC_SCALER_PER_FILE = 1 };

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
/* The precision m's predictions, evaluations and streams created from now on run in (a loaded
 * model: FP32); AUTO takes lstmsrc_precision_resolve's choice. Not stored in model files. BF16
 * where lstmsrc_precision_available says no: LSTMSRC_ERR_ARG, m unchanged. */
enum lstmsrc_status lstmsrc_model_set_precision(struct lstmsrc_model *m, enum lstmsrc_precision p,
                                                struct lstmsrc_error *err);

/* Read-only description of a model, borrowed from it. */
struct lstmsrc_model_info {
    enum lstmsrc_task task;
    enum lstmsrc_label_mode label_mode;
    int inputs; /* raw input columns a row of data carries */
    int outputs, hidden, layers, seq_len;
    int directions; /* 1, or 2 for a bidirectional top layer */
    int n_labels;   /* label columns the model was trained on */
    size_t n_params;
    const char *const *input_names;  /* inputs: the columns read from a file */
    const char *const *label_names;  /* n_labels: label columns as named in the training file */
    const char *const *output_names; /* outputs: sources or classes */
    int channels;                    /* network inputs derived from the columns (see features) */
    unsigned features;               /* LSTMSRC_FEATURE_* bits */
    enum lstmsrc_label_at label_at;
    int label_offset;                    /* rows from the labelled row to the window's last row */
    int stride;                          /* training metadata: a training window every N rows */
    const float *scale_mean, *scale_std; /* channels, in channel order */
    const float *thresholds;             /* outputs (multi-label decision thresholds) */
    const float
        *baseline_thresholds; /* outputs: "on if reading > t" rule fitted on training rows */
    const float *pos_weights; /* outputs (multi-label), as used in training */
    /* training metadata */
    uint64_t seed;
    uint64_t rows_train, rows_val, windows_train, windows_val;
    int epochs_run, best_epoch, batch;
    int threads; /* 0: not recorded (results do not depend on it); older
                  * files: the thread count they were trained on */
    float lr;
    float val_loss, val_macro_f1; /* at the best epoch; negative if no validation part */
    /* post-processing: minimum durations in rows per output (all 1 for multi-class), and the
     * most rows a filtered decision is settled after its own row (lstmsrc_filter_delay) */
    const int *min_on, *min_off; /* outputs */
    int decision_delay;
    /* How files are read for this model (it applies them to every later file): label column j
     * holds power, ON above on_above[j] watts (NULL, or a negative entry: a 0/1 column), and a
     * reading below invalid_below is an outage (when use_invalid_below). */
    const float *on_above; /* n_labels, or NULL */
    int use_invalid_below;
    float invalid_below;
    /* The training data's time column (NULL: none), its sampling period and the longest step
     * inside a segment, in seconds: later files are cut into segments the same way. */
    const char *time_name;
    double period, max_gap;
    /* Fine-tuned models (train --init): the name of the model it started from (NULL: trained
     * from a fresh initialisation) and the CRC-32 of that model file's bytes. */
    const char *init_name;
    uint32_t init_crc;
    /* enum lstmsrc_scaler: PER_FILE models standardise each file by its own statistics
     * (scale_mean and scale_std then hold the last lstmsrc_model_scaler_fit's, 0 and 1 after
     * training or loading). Taken from the reserved space. */
    int32_t scaler;
    uint32_t reserved32_;
    /* room to grow without changing the size (the library zeroes it) */
    uint64_t reserved_[7];
};
void lstmsrc_model_get_info(const struct lstmsrc_model *m, struct lstmsrc_model_info *info);

/* Fills `cols` to read a file with this model's input (and, unless labels_optional, label)
 * columns by exact name. Pointers are borrowed from the model. */
void lstmsrc_model_columns(const struct lstmsrc_model *m, int labels_optional,
                           struct lstmsrc_columns *cols);

/* Predicts every full window of `ds` inside its segments, in row order: in a segment of first
 * row s, its window i ends at row s + i + seq_len - 1 and its prediction belongs to row
 * s + i + seq_len - 1 - label_offset (lstmsrc_model_info). For a clean file (one segment) window
 * i is simply rows i .. i + seq_len - 1. `probs` receives (windows, outputs) probabilities
 * (sigmoid per source, or softmax over classes); `windows` must equal
 * lstmsrc_dataset_windows(ds, seq_len). Input columns are matched by name; derived channels
 * (first differences) are computed from them, each segment's first row starting a series. */
enum lstmsrc_status lstmsrc_predict(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                    float *probs, size_t windows, struct lstmsrc_error *err);

/* A per-file model (lstmsrc_model_info.scaler PER_FILE): sets m's scaler to the mean and std of
 * every channel over the rows of ds's segments (no labels), which lstmsrc_predict_rows and the
 * streams created from m afterwards apply; a recording of the same meter stands in for a file
 * read in pieces or a live stream. lstmsrc_predict fits each file of a data set by itself and
 * needs no call. A global-scaler model: LSTMSRC_ERR_ARG, m unchanged. */
enum lstmsrc_status lstmsrc_model_scaler_fit(struct lstmsrc_model *m,
                                             const struct lstmsrc_dataset *ds,
                                             struct lstmsrc_error *err);

/* ============================== evaluation ============================== */

struct lstmsrc_output_metrics {
    const char *name;
    double precision, recall, f1;
    size_t support;     /* windows where it is truly on / of this class */
    double threshold;   /* decision threshold used (multi-label) */
    double baseline_f1; /* "on if reading > t" rule (multi-label) */
    double baseline_threshold;
    int min_on, min_off; /* minimum durations the decisions were filtered with (1 = none) */
};

struct lstmsrc_eval {
    enum lstmsrc_task task;
    size_t windows;
    int outputs;
    struct lstmsrc_output_metrics *per; /* outputs */
    double macro_f1;
    /* multi-label */
    double subset_accuracy, hamming_loss;
    double all_off_subset_accuracy, all_off_macro_f1, all_off_hamming_loss;
    double threshold_macro_f1; /* baseline rule, macro over sources */
    double threshold_subset_accuracy, threshold_hamming_loss;
    /* multi-class */
    double accuracy;
    int majority_class;
    double majority_accuracy, majority_macro_f1;
    size_t *confusion; /* (outputs, outputs): row = true class, col = predicted */
    /* The integers every number above is computed from (windows, exact matches, wrong labels,
     * per output the model's and the rule's TP/FP/FN/TN, the confusion matrix), in an order of
     * the library's own: what lstmsrc_eval_merge and lstmsrc_eval_reduce add up. */
    uint64_t *counts; /* (n_counts) */
    size_t n_counts;
};

/* Evaluates `m` on every full window of `ds` (which must have the model's label columns).
 * Multi-label decisions are thresholded, then filtered by the model's minimum durations over the
 * windows of `ds` as one sequence (lstmsrc_filter_rows); for the unfiltered scores, evaluate a
 * model whose durations are reset with lstmsrc_model_set_durations(m, NULL, NULL, err). The
 * "on if reading > t" baseline is never filtered. */
enum lstmsrc_status lstmsrc_evaluate(const struct lstmsrc_model *m,
                                     const struct lstmsrc_dataset *ds, struct lstmsrc_eval **out,
                                     struct lstmsrc_error *err);
void lstmsrc_eval_free(struct lstmsrc_eval *ev);

/* Evaluation in parts, scored as one: files evaluated one at a time, or spread over processes
 * (the CLI's `mpirun -np N lstmsrc eval`). lstmsrc_evaluate_part is lstmsrc_evaluate on one
 * part, except that a data set with no full window, or ds NULL (a process with no file), gives
 * an evaluation of 0 windows (every score 0) instead of failing. lstmsrc_eval_merge adds the
 * counts of `part` into `into` (evaluations of one model) and scores `into` again;
 * lstmsrc_eval_reduce does the same over the processes of `comm` in place: a collective every
 * process calls with its own part of one model, and each gets the total (comm NULL or of size
 * 1: nothing to add). Whole files split into parts so give the numbers of lstmsrc_evaluate on
 * them loaded as one data set (lstmsrc_dataset_load_files), bit for bit, when each file lies in
 * one part and is read with the columns the one data set gives it (a model's:
 * lstmsrc_model_columns). A total of 0 windows is the caller's to refuse, as lstmsrc_evaluate
 * does. Fails with LSTMSRC_ERR_ARG for evaluations of differently shaped models or a bad comm,
 * LSTMSRC_ERR_IO when the exchange failed, LSTMSRC_ERR_NOMEM. */
enum lstmsrc_status lstmsrc_evaluate_part(const struct lstmsrc_model *m,
                                          const struct lstmsrc_dataset *ds,
                                          struct lstmsrc_eval **out, struct lstmsrc_error *err);
enum lstmsrc_status lstmsrc_eval_merge(struct lstmsrc_eval *into, const struct lstmsrc_eval *part,
                                       struct lstmsrc_error *err);
enum lstmsrc_status lstmsrc_eval_reduce(struct lstmsrc_eval *ev, const struct lstmsrc_comm *comm,
                                        struct lstmsrc_error *err);

/* ============================== using a trained model ============================== */

/* Everything below runs a loaded model on new data; none of it needs label columns. The model
 * must outlive every handle made from it and is only read, so any number of handles may share
 * one model, each used from one thread at a time. Across lstmsrc_predict, lstmsrc_predict_rows,
 * lstmsrc_stream_push and the CLI's predict and stream, one window gives the same bits. */

/* Predicts every full window of `rows` raw rows x (rows, inputs), columns in the model's input
 * order (lstmsrc_model_info.input_names); derived channels are computed and standardised with
 * the model's scaler here, x[0] starting the series (its first difference is 0). Window i
 * ends at row i + seq_len - 1 and belongs to row i + seq_len - 1 - label_offset; probs receives
 * (windows, outputs) probabilities and `windows` must equal rows - seq_len + 1 (at least 1).
 * threads: 0 = all online cores, else at most that many; the result is the same bits for any
 * number of threads. Allocates a workspace per call (bounded, independent of rows); call it on
 * chunks of a few thousand rows or more. */
enum lstmsrc_status lstmsrc_predict_rows(const struct lstmsrc_model *m, const float *x, size_t rows,
                                         float *probs, size_t windows, int threads,
                                         struct lstmsrc_error *err);
/* The same for a chunk that continues a series: prev (inputs) is the raw row just before x[0]
 * (NULL: x[0] starts the series). Only models with a first-difference channel look at it; with
 * it, chunked prediction gives the bits of one call over the whole series. */
enum lstmsrc_status lstmsrc_predict_rows_after(const struct lstmsrc_model *m, const float *prev,
                                               const float *x, size_t rows, float *probs,
                                               size_t windows, int threads,
                                               struct lstmsrc_error *err);

/* Turns (windows, outputs) probabilities into (windows, outputs) 0/1 decisions. Multi-label:
 * a source is ON when its probability > its threshold (tuned in training). Multi-class: 1 for
 * the most probable class (the first one on ties), 0 for the others. */
void lstmsrc_decide(const struct lstmsrc_model *m, const float *probs, size_t windows, uint8_t *on);

/* ---- minimum on/off durations: post-processing of multi-label decisions ---- */

/* Per source, over the decisions of consecutive windows (one sequence): first every off-gap
 * shorter than min_off rows between two on-runs is filled, then every on-run shorter than
 * min_on rows is dropped (gaps at the ends are never filled; short runs at the ends are
 * dropped). 1/1 changes nothing. The durations are tuned in training and stored in the model;
 * `lstmsrc eval`, `predict` and `stream` apply them, and lstmsrc_export_c writes the same
 * filter into its C.
 *
 * lstmsrc_filter_rows filters (windows, outputs) decisions of lstmsrc_decide in place, as one
 * sequence. The streaming filter gives the same bytes one row at a time:
 *
 *     lstmsrc_filter_create(m, &f, &err);
 *     for each window in order: lstmsrc_decide(m, p, 1, raw);
 *                               lstmsrc_filter_push(f, raw, &err);
 *                               while (lstmsrc_filter_pop(f, on)) use(on);  // oldest first
 *     at the end (or before a gap in the readings): lstmsrc_filter_flush(f);
 *                               while (lstmsrc_filter_pop(f, on)) use(on);
 *
 * A row is popped once every source has settled it: at most lstmsrc_filter_delay(f) =
 * max over sources of (min_on - 1) + (min_off - 1) rows after it was pushed, and at the latest
 * by the flush. The filter copies the durations at creation; it holds delay + 1 rows, so pop
 * every settled row before the next push (else push fails with LSTMSRC_ERR_ARG). */
void lstmsrc_filter_rows(const struct lstmsrc_model *m, uint8_t *on, size_t windows);

struct lstmsrc_filter;
enum lstmsrc_status lstmsrc_filter_create(const struct lstmsrc_model *m,
                                          struct lstmsrc_filter **out, struct lstmsrc_error *err);
/* One row of `outputs` raw decisions (nonzero = on). */
enum lstmsrc_status lstmsrc_filter_push(struct lstmsrc_filter *f, const uint8_t *on,
                                        struct lstmsrc_error *err);
/* Writes the oldest settled row (outputs, 0/1) to on and returns 1; 0 when none is settled. */
int lstmsrc_filter_pop(struct lstmsrc_filter *f, uint8_t *on);
/* Ends the sequence: every row pushed becomes settled; the next push starts a new sequence. */
void lstmsrc_filter_flush(struct lstmsrc_filter *f);
/* Forgets every row pushed and not popped, and the sequence. */
void lstmsrc_filter_reset(struct lstmsrc_filter *f);
int lstmsrc_filter_delay(const struct lstmsrc_filter *f);
void lstmsrc_filter_free(struct lstmsrc_filter *f);

/* Replaces a model's minimum durations, e.g. to override the tuned ones (min_on and min_off:
 * `outputs` values each, 1..LSTMSRC_MAX_DURATION; NULL = all 1, i.e. no filtering). Multi-class
 * models take only 1s. Call it before sharing the model: filters and streams read it. */
enum lstmsrc_status lstmsrc_model_set_durations(struct lstmsrc_model *m, const int *min_on,
                                                const int *min_off, struct lstmsrc_error *err);

/* Parses s[0..len) as a finite number exactly as the CSV loader does (same float, same
 * rejections: hex, nan, inf, overflow, trailing junk; surrounding blanks allowed). Returns 1 on
 * success. For callers that read readings as text (see lstmsrc stream). */
int lstmsrc_parse_number(const char *s, size_t len, float *out);

/* ---- rows: a CSV read in chunks, in constant memory ---- */

struct lstmsrc_rows;

/* Opens a CSV ("-" = stdin) to read only the input columns of `cols` (input_names, else the
 * input list, else column 1; label fields are ignored and never read), chunk by chunk. Get
 * `cols` from lstmsrc_model_columns(m, 1, &cols) to match a model's inputs by name. A missing
 * column fails with LSTMSRC_ERR_ARG: "data.csv:1: no column "reading" (columns: ...)". */
enum lstmsrc_status lstmsrc_rows_open(const char *path, const struct lstmsrc_columns *cols,
                                      struct lstmsrc_rows **out, struct lstmsrc_error *err);
/* Reads up to `max` rows into x (max, inputs); *n = rows read, 0 at the end of the file. Cells
 * are checked as lstmsrc_dataset_load checks them ("data.csv:17:1: expected a number, ..."). */
enum lstmsrc_status lstmsrc_rows_read(struct lstmsrc_rows *r, float *x, size_t max, size_t *n,
                                      struct lstmsrc_error *err);
int lstmsrc_rows_inputs(const struct lstmsrc_rows *r);
/* How a row read by lstmsrc_rows_read_marked stands in its file's segments. */
enum lstmsrc_row_mark {
    LSTMSRC_ROW_OK = 0,      /* continues the segment of the row before (or starts the file) */
    LSTMSRC_ROW_MISSING = 1, /* a missing input cell or an invalid reading: in no segment */
    LSTMSRC_ROW_BREAK = 2    /* good, and starts a new segment (after missing rows) */
};
/* lstmsrc_rows_read for real recordings: a row with a missing input cell (cols->missing, as the
 * loader spells them) or an invalid reading (cols->use_invalid_below) is not an error but
 * marked LSTMSRC_ROW_MISSING in mark (max), its x holding the last good row (0 before any), as
 * lstmsrc_dataset_load stores it. lstmsrc_rows_read is this with every missing cell an error. */
enum lstmsrc_status lstmsrc_rows_read_marked(struct lstmsrc_rows *r, float *x, uint8_t *mark,
                                             size_t max, size_t *n, struct lstmsrc_error *err);
/* The same with each row's time (Unix seconds, UTC) in t (max; may be NULL) when the file has a
 * time column: rows outside cols->from/until are skipped, time must go forward, and a step
 * longer than cols->max_gap (or 1.5 x cols->period, or 1.5 x the first step) makes the next good
 * row LSTMSRC_ROW_BREAK. */
enum lstmsrc_status lstmsrc_rows_read_timed(struct lstmsrc_rows *r, float *x, double *t,
                                            uint8_t *mark, size_t max, size_t *n,
                                            struct lstmsrc_error *err);
/* The time column's name (NULL: none) and kind (1 ISO 8601, 2 Unix seconds); rows skipped by
 * --from/--until so far; gaps seen. */
const char *lstmsrc_rows_time(const struct lstmsrc_rows *r, int *kind, size_t *dropped,
                              size_t *gaps);
/* What was read as missing so far: cells, rows (with an invalid reading among them), and the
 * segments begun. */
void lstmsrc_rows_missing(const struct lstmsrc_rows *r, size_t *cells, size_t *rows,
                          size_t *invalid, size_t *segments);
/* Rows bridged by cols->fill so far (among the missing rows). A hole at the end of a read
 * waits until the row after it is read, so a read may return fewer rows than it could. */
size_t lstmsrc_rows_filled(const struct lstmsrc_rows *r);
void lstmsrc_rows_close(struct lstmsrc_rows *r);

/* ---- streams: one reading in, one prediction out ---- */

/* A stream keeps the last seq_len rows (a ring) and one inference workspace for one window.
 * Each push adds a row and, once seq_len rows are in, runs the whole window (the model sees a
 * fresh window every step, as in training): about seq_len * 4H * (inputs + H) multiply-adds, and
 * nothing is allocated. */
struct lstmsrc_stream;

enum lstmsrc_status lstmsrc_stream_create(const struct lstmsrc_model *m,
                                          struct lstmsrc_stream **out, struct lstmsrc_error *err);
/* Pushes one row of `inputs` raw readings (model input order). When the window is full, *ready
 * = 1 and probs (outputs; may be NULL) receives the probabilities of the window ending at this
 * row, which belong to the row pushed label_offset pushes ago (0 for a model labelled at the
 * window's last row: this row); before that (the first seq_len - 1 rows) *ready = 0 and probs
 * is untouched. The stream keeps the previous row for the first-difference channel (0 on the
 * first row). A reading that is not finite, or whose first difference from the previous row is
 * not (3.4e38 after -3.4e38, for a model with that channel), fails with LSTMSRC_ERR_ARG and
 * leaves the stream as it was. */
enum lstmsrc_status lstmsrc_stream_push(struct lstmsrc_stream *s, const float *row, float *probs,
                                        int *ready, struct lstmsrc_error *err);
/* Forgets every row pushed, the previous row too (e.g. after a gap in the readings). */
void lstmsrc_stream_reset(struct lstmsrc_stream *s);
void lstmsrc_stream_free(struct lstmsrc_stream *s);

/* ---- export as plain C ---- */

#define LSTMSRC_MAX_PREFIX 64 /* bytes in an export name prefix */

/* Writes one self-contained C99 header for `m`: weights, scaler, thresholds, minimum durations
 * and names as `static const` data, a streaming predictor (PREFIX_init, PREFIX_push,
 * PREFIX_decide) and the minimum durations filter (PREFIX_filter_init, _push, _pop, _flush:
 * lstmsrc_filter's rows, byte for byte) with no malloc and nothing from libm but expf. Every name
 * is `prefix` as given (a C identifier of 1 to LSTMSRC_MAX_PREFIX bytes), '_' and a suffix (macros:
 * an upper-case one, kettle_INPUTS), so models with different prefixes (kettle and Kettle too)
 * share a program; a prefix ending in "_filter" is refused (LSTMSRC_ERR_ARG), as "m_filter"'s
 * names would be "m"'s filter functions. Probabilities
 * agree with lstmsrc_predict to about 1e-6 (libm's expf instead of the library's). The
 * path variant writes "PATH.tmp.PID" and renames it into place ("-" = stdout; a device or FIFO
 * is written in place). */
enum lstmsrc_status lstmsrc_export_c(const struct lstmsrc_model *m, const char *prefix,
                                     const char *path, struct lstmsrc_error *err);
enum lstmsrc_status lstmsrc_export_c_file(const struct lstmsrc_model *m, const char *prefix,
                                          FILE *fp, struct lstmsrc_error *err);
/* Sizes of the exported model: flash = constant data (weights, scaler, thresholds, minimum
 * durations, names), RAM = one PREFIX_state (the ring of the last seq_len rows and the LSTM
 * state, with a bidirectional top layer's reverse direction and the rows it reads; a
 * PREFIX_filter comes on top). */
struct lstmsrc_export_size {
    size_t weight_bytes; /* LSTM and head parameters, float32 */
    size_t flash_bytes;  /* weights + scaler, thresholds, name strings */
    size_t ram_bytes;    /* sizeof(PREFIX_state) with 4-byte float and unsigned */
};
void lstmsrc_export_c_size(const struct lstmsrc_model *m, struct lstmsrc_export_size *size);

/* ============================== data doctor ============================== */

/* lstmsrc_doctor looks at a loaded data set the way a careful person would before training and
 * says, in plain words with numbers, what will go wrong and what to do. It only reads the data;
 * the report carries the numbers (per input, per source), the findings as text, and training
 * settings derived from them. Rows are counted 1-based in messages (row 1 = first data row). */

enum lstmsrc_severity {
    LSTMSRC_SEVERITY_INFO = 0,   /* worth knowing; nothing to change */
    LSTMSRC_SEVERITY_WARN = 1,   /* will hurt the results unless acted on */
    LSTMSRC_SEVERITY_PROBLEM = 2 /* training cannot work as the data stands */
};

/* What a finding is about. `value` in struct lstmsrc_finding is, per code: */
enum lstmsrc_finding_code {
    LSTMSRC_FINDING_FRAMING = 0,   /* label framing; value: share of rows with 2+ sources on */
    LSTMSRC_FINDING_BALANCE,       /* value: score of always answering "all off" (or the majority
                                      class): exact-match accuracy */
    LSTMSRC_FINDING_SCALE,         /* input ranges; value: the input's std */
    LSTMSRC_FINDING_CONSTANT,      /* one value in every row; value: that value */
    LSTMSRC_FINDING_DUPLICATE,     /* two identical columns; value: 1 */
    LSTMSRC_FINDING_OVERLAP,       /* on-level shared with other sources or with "nothing on";
                                      value: the largest shared share (0..1) */
    LSTMSRC_FINDING_DURATION,      /* on/off durations; value: the suggested window (rows) */
    LSTMSRC_FINDING_FLICKER,       /* labels switching for single rows; value: share of runs */
    LSTMSRC_FINDING_NEGATIVE,      /* value: rows below zero */
    LSTMSRC_FINDING_OUTAGE,        /* runs of ~0 readings; value: rows in such runs */
    LSTMSRC_FINDING_CLIPPED,       /* many rows at exactly the maximum; value: those rows */
    LSTMSRC_FINDING_JUMP,          /* large steps no labelled source explains; value: count */
    LSTMSRC_FINDING_FEW_POSITIVES, /* too few on-rows or runs to learn; value: on-rows */
    LSTMSRC_FINDING_VALIDATION,    /* a source barely on in the validation part; value: its
                                      on-rows there */
    LSTMSRC_FINDING_OVERFLOW,      /* a step between two finite readings overflows a float, so
                                      the first-difference channel cannot hold it; value: its
                                      1-based row */
    LSTMSRC_FINDING_COUNTER        /* the input never decreases inside a segment and rises often:
                                      a cumulative counter (energy or volume register) whose
                                      first difference is the signal; value: steps that rise */
};

struct lstmsrc_finding {
    enum lstmsrc_severity severity;
    enum lstmsrc_finding_code code;
    int output;          /* source or class it is about, else -1 */
    int input;           /* input channel it is about, else -1 */
    int other;           /* DUPLICATE: the second of the pair (a source when `output` is set,
                            else an input channel); else -1 */
    double value;        /* headline number, see the codes */
    const char *message; /* what the data shows, with numbers */
    const char *advice;  /* what to do about it; "" when nothing */
};

struct lstmsrc_input_stats {
    const char *name;
    double mean, std, min, max, median;
    size_t negative;       /* rows below zero */
    size_t first_negative; /* 1-based row of the first one; 0 if none */
    size_t outage_runs;    /* runs of 3+ rows at or below 1 % of the median (median > 0) */
    size_t outage_rows, longest_outage, first_outage; /* rows; 1-based start of the first */
    size_t at_max;                                    /* rows equal to the maximum */
    size_t near_max;       /* rows within 5 % of the range below it, not equal */
    double max_step;       /* largest |x[t] - x[t-1]| */
    double jump_threshold; /* input 0 with labels: steps above it count as jumps; else 0 */
    size_t jumps;          /* such steps with no labelled source switching at t-1..t+1 */
};

struct lstmsrc_output_stats {
    const char *name;
    size_t on_rows;  /* rows where the source is on (multi-class: rows of the class) */
    double on_share; /* on_rows / rows */
    size_t on_runs;  /* maximal runs of on-rows */
    size_t cycles;   /* on-runs joined across off-gaps of at most 5 rows */
    double on_run_median, on_run_p90;   /* rows; 0 when never on */
    double off_run_median, off_run_p90; /* off-gaps between two on-runs; 0 when fewer than 2 runs */
    double cycle_median, cycle_p90;     /* first to last on-row of a cycle */
    double flicker;     /* share of single-row runs among on-runs and inner off-gaps */
    size_t val_on_rows; /* on-rows in the default validation part (last rows) */
    size_t last_on_row; /* 1-based row of its last on-row; 0 when never on */
    size_t alone_rows;  /* rows where this and no other source is on */
    double level_p10, level_median, level_p90; /* input 0 in those rows; NaN below 10 rows */
    double base_like;  /* share of those rows reading at most base_p90; NaN if unknown */
    double pos_weight; /* what --pos-weight auto gives it: off/on rows, capped */
};

struct lstmsrc_report {
    const char *source; /* the data set's name */
    size_t rows;
    int inputs, outputs;
    enum lstmsrc_task task;
    enum lstmsrc_label_mode label_mode;
    int has_labels;
    struct lstmsrc_input_stats *input;   /* (inputs) */
    struct lstmsrc_output_stats *output; /* (outputs); NULL without labels */
    /* (outputs, outputs): [j*outputs+k] share of j's alone rows whose reading lies within k's
     * middle 80 % (level_p10..level_p90); NaN where either has too few alone rows */
    double *overlap;
    size_t rows_none_on;     /* multi-label: rows with nothing on */
    size_t rows_multi_on;    /* multi-label: rows with two or more sources on */
    double all_off_accuracy; /* exact-match accuracy of "all off" (multi-class: majority) */
    int majority_class;      /* multi-class: the most common class */
    double base_p10, base_median, base_p90; /* input 0 when nothing is on; NaN if unknown */
    size_t val_rows;                        /* rows in the default validation part */
    /* Training settings the numbers suggest, each with its reason in words. */
    int suggested_seq_len; /* covers the longest typical cycle, 5..240; 0: no opinion */
    const char *seq_len_reason;
    float suggested_val_fraction;
    const char *val_fraction_reason;
    unsigned suggested_features;      /* LSTMSRC_FEATURE_DIFF when every input is a cumulative
                                         counter (LSTMSRC_FINDING_COUNTER), else 0: no opinion */
    struct lstmsrc_finding *findings; /* (n_findings), problems first, then warnings */
    int n_findings;
};

/* Analyses `ds` (labels optional: without them only the inputs are examined). The caller owns
 * *out and frees it with lstmsrc_report_free; the report holds copies of every name and string,
 * so it may outlive `ds`. Fails only on an empty data set or allocation failure. */
enum lstmsrc_status lstmsrc_doctor(const struct lstmsrc_dataset *ds, struct lstmsrc_report **out,
                                   struct lstmsrc_error *err);
void lstmsrc_report_free(struct lstmsrc_report *r);

/* Stable lower-case names for scripts ("overlap", "warn"); never NULL. */
const char *lstmsrc_finding_code_str(enum lstmsrc_finding_code code);
const char *lstmsrc_severity_str(enum lstmsrc_severity severity);

/* Fields of a training config the doctor has an opinion on. */
#define LSTMSRC_SUGGEST_SEQ_LEN 0x1u
#define LSTMSRC_SUGGEST_VAL_FRACTION 0x2u
#define LSTMSRC_SUGGEST_FEATURES 0x4u
/* Copies the report's suggestions into `cfg` for the fields in `fields` only (pass the ones the
 * user did not set); returns the fields it changed. With cfg->label_at LSTMSRC_LABEL_CENTER the
 * window is twice suggested_seq_len (capped at LSTMSRC_MAX_SEQ), a cycle on each side of the
 * labelled row: set label_at before calling. */
unsigned lstmsrc_doctor_suggest(const struct lstmsrc_report *r, unsigned fields,
                                struct lstmsrc_train_config *cfg);

/* After training: per output of `m`, into val_on (outputs), the validation windows on `ds` (the
 * data set it was trained on) whose labelled row has it on (multi-class: is of that class), the
 * same over every training window into train_on (outputs; NULL: not counted), and into *windows
 * the validation windows there are (0: trained without a validation part). These are the
 * windows training held out and the ones before them, as the model records them
 * (lstmsrc_model_info: rows_train, windows_val, seq_len, label_offset). A multi-label source
 * with no validation window on had its threshold tuned on the training windows (in-sample),
 * kept minimum durations 1/1, and validation F1 and early stopping could not see it. Fails
 * (LSTMSRC_ERR_ARG) when `ds` has not the model's outputs or rows. */
enum lstmsrc_status lstmsrc_validation_support(const struct lstmsrc_model *m,
                                               const struct lstmsrc_dataset *ds, size_t *val_on,
                                               size_t *train_on, size_t *windows,
                                               struct lstmsrc_error *err);

/* ============================== synthetic data ============================== */

struct lstmsrc_gen_config {
    size_t rows;   /* default 100000 */
    int sources;   /* default 3 */
    uint64_t seed; /* default 1 */
    int classes;   /* 1: one integer class column (2^sources combinations) */
    /* room to grow without changing the size (zero it: = {0}, memset or the _default call) */
    uint64_t reserved_[8];
};
void lstmsrc_gen_config_default(struct lstmsrc_gen_config *cfg);
/* Writes seed-like meter data as CSV to `path` (temporary name, then rename). */
enum lstmsrc_status lstmsrc_gen_write(const struct lstmsrc_gen_config *cfg, const char *path,
                                      struct lstmsrc_error *err);

#ifdef __cplusplus
}
#endif

#endif /* LSTMSRC_H */
