/*
 * model.h — the model: architecture, names, scaler, thresholds, training metadata and one flat
 * float array of parameters. Only model.c knows the parameter layout (sizes table + pointers,
 * llm.c style). Forward/backward over a batch run on a workspace allocated once per batch size;
 * nothing in the step loop allocates.
 *
 * Parameter layout, in this order, float32:
 *   for each layer l (in_l = inputs for l == 0, else hidden):
 *     w_l  (4H, in_l + H)   rows i,f,g,o gates; columns [input | recurrent]
 *                           = PyTorch [weight_ih_l | weight_hh_l]
 *     b_l  (4H)             = PyTorch bias_ih_l + bias_hh_l
 *   bidirectional models (dirs = 2) only: the top layer's reverse direction (in = the top
 *   layer's input width), which reads the window backwards from its last row to the labelled row
 *     wr   (4H, in + H)     = PyTorch [weight_ih_l{L-1}_reverse | weight_hh_l{L-1}_reverse]
 *     br   (4H)             = PyTorch bias_ih_l{L-1}_reverse + bias_hh_l{L-1}_reverse
 *   head:
 *     wd   (K, dirs*H)      dense on the top layer's hidden state: [forward | reverse]
 *     bd   (K)
 *
 * Which step the head reads: one direction, the window's last step (for a centred label the
 * window runs seq/2 rows past the labelled row). Two directions, both at the labelled row: the
 * forward direction runs from the window's first row to it, the reverse from the window's last
 * row back to it (PyTorch's bidirectional output at that row). Layers below the top run forward
 * over the whole window.
 */
#ifndef LSTMSRC_MODEL_H
#define LSTMSRC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lstmsrc.h"

struct model_train_meta {
    uint64_t seed;
    uint64_t rows_train, rows_val, windows_train, windows_val;
    int32_t epochs_run, best_epoch, batch, threads;
    float lr;
    float val_loss, val_macro_f1; /* at the best epoch; -1 if no validation part */
    int32_t stride;               /* a training window every `stride` rows */
};

struct lstmsrc_model {
    enum lstmsrc_task task;
    enum lstmsrc_label_mode label_mode;
    int f;             /* network input channels, derived from the n_raw columns */
    int n_raw;         /* input columns read from data (f / popcount(features)) */
    unsigned features; /* LSTMSRC_FEATURE_* bits; channel c = kind c / n_raw of column
                          c % n_raw, kinds in bit order */
    enum lstmsrc_label_at label_at;
    int label_offset; /* rows from the labelled row to the window's last row */
    int h;            /* hidden units per layer */
    int layers;
    int dirs; /* 1, or 2: the top layer is bidirectional (see the layout above) */
    int k;    /* outputs */
    int seq_len;
    int n_labels;        /* label columns (sources, 1 class column, or N combined) */
    char **input_names;  /* (f) the column each channel comes from; the first n_raw are the
                            input columns in order */
    char **label_names;  /* (n_labels) */
    char **output_names; /* (k) */
    float *scale_mean;   /* (f) */
    float *scale_std;    /* (f) */
    float *threshold;    /* (k) decision thresholds, multi-label; 0.5 otherwise */
    float
        *base_threshold; /* (k) baseline rule "on if input channel 0 > t" fitted on training rows */
    float *pos_weight;   /* (k) as used by the loss (1 for multi-class) */
    int *min_on, *min_off; /* (k) minimum durations in rows (durations.h); 1 = no filter */
    struct model_train_meta meta;
    /* How a file's rows were read for training, applied again to later files (version 4 ingest
     * block): label columns holding power are ON above on_above[j] (NULL: every label column is
     * 0/1; a negative entry: that column is 0/1), and a reading below invalid_below marks its
     * row missing. */
    float *on_above; /* (n_labels) or NULL */
    int use_invalid_below;
    float invalid_below;
    /* The training data's time column (NULL: none), its sampling period and the step that
     * started a new segment, in seconds: a later file is cut into segments the same way. */
    char *time_name;
    double period, max_gap;
    /* Where a fine-tuned model started (origin block, version 5): the init model's name (NULL:
     * none) and the CRC-32 of its file. */
    char *init_name;
    uint32_t init_crc;
    /* 1: a per-file scaler (scaler block, version 6): each file standardised by its own
     * statistics (scale_mean/scale_std hold the last file's fit, 0/1 in a file). */
    int scaler_per_file;
    /* A loaded model: the CRC-32 of the file it was loaded from (loaded_crc_set 1). */
    uint32_t loaded_crc;
    int loaded_crc_set;
    /* Right after training (never in a file): each output's on-windows in the validation and the
     * training windows, as the trainer split them (segments, files), or NULL. */
    size_t *val_on, *train_on;
    size_t n_params;
    float *params; /* (n_params) layout above */
    /* Counts the changes of params (model_weights_changed): a workspace packs the weights it
     * runs and packs them again when this moved, so it never runs stale weights. */
    uint64_t weights_version;
    /* The precision workspaces created from now on run the LSTM step products in (never in a
     * file; lstmsrc_model_set_precision): 1 bf16 products with fp32 sums, 0 fp32. */
    int bf16;
};

/* LSTMSRC_OK when p is a precision this CPU can run, else LSTMSRC_ERR_ARG saying why. */
enum lstmsrc_status model_precision_check(enum lstmsrc_precision p, struct lstmsrc_error *err);

/* Offsets into a flat parameter (or gradient, or Adam moment) array. */
struct model_layout {
    size_t w[LSTMSRC_MAX_LAYERS], b[LSTMSRC_MAX_LAYERS];
    size_t wr, br; /* reverse direction of the top layer (dirs = 2; else 0) */
    size_t wd, bd;
    size_t total;
};

/* Creates an empty model with the given shape: names and vectors allocated (names NULL,
 * thresholds 0.5, scaler 0/1, pos_weight 1), params zeroed. Checks sizes against limits. */
enum lstmsrc_status model_create(int f, int h, int layers, int dirs, int k, int seq_len,
                                 int n_labels, enum lstmsrc_task task, enum lstmsrc_label_mode mode,
                                 struct lstmsrc_model **out, struct lstmsrc_error *err);
/* Sets the derived-channel and label framing of a model made by model_create (whose f is then
 * the channel count): n_raw = f / popcount(features), label_offset from label_at. Returns 0
 * (nothing changed) when features is empty, has unknown bits or does not divide f. */
int model_set_framing(struct lstmsrc_model *m, unsigned features, enum lstmsrc_label_at at);
/* Channels per input column for a feature set: its popcount, 0 if empty or unknown bits. */
int model_feature_count(unsigned features);
/* rows of network channels: out (rows, m->f) from raw (rows, m->n_raw), unscaled. prev (n_raw)
 * is the raw row before raw[0]; NULL when raw[0] starts the series (its difference is 0). */
void model_channels(const struct lstmsrc_model *m, float *out, const float *raw, size_t rows,
                    const float *prev);

/* The CRC-32 of m's model file bytes: of the file it was loaded from, else of what
 * lstmsrc_model_save would write (model_io.c; LSTMSRC_ERR_NOMEM or _ARG on failure). */
enum lstmsrc_status model_file_crc(const struct lstmsrc_model *m, uint32_t *crc,
                                   struct lstmsrc_error *err);

/* Fills the layout for a shape; returns 0 on size overflow or a bad layer/direction count. */
int model_layout_fill(struct model_layout *l, int f, int h, int layers, int dirs, int k);
/* The LSTM units, in parameter order: layers 0..layers-1, then (dirs == 2) unit `layers`, the
 * top layer's reverse direction. Count, input width of unit u, and the steps a workspace keeps
 * for it (the window; label_offset + 1 for the reverse direction). */
int model_units(const struct lstmsrc_model *m);
int model_unit_in(const struct lstmsrc_model *m, int u);
int model_unit_steps(const struct lstmsrc_model *m, int u);
/* Steps the top layer runs: *fw forward (the whole window, or up to the labelled row when
 * bidirectional) and *rv in reverse (0 for one direction, else label_offset + 1). */
void model_top_steps(const struct lstmsrc_model *m, int *fw, int *rv);

/* The model's decision delay in rows: the largest (min_on - 1) + (min_off - 1) over its
 * outputs (durations.h: how long the minimum-durations filter may hold a decision back). */
int model_decision_delay(const struct lstmsrc_model *m);

/* Keras initialisation: Glorot-uniform input weights, orthogonal recurrent weights, zero biases
 * with forget-gate bias 1 (Jozefowicz et al. 2015), Glorot-uniform head, zero head bias.
 * Returns 0, or (out of memory for its scratch) about the bytes it asked for, the parameters
 * then incomplete. */
struct rng;
size_t model_init_params(struct lstmsrc_model *m, struct rng *rng);

/* Activations and caches for one batch of up to `cap` windows. Every row is computed
 * independently of the others, so one window alone gives the same bits as the same window
 * inside any batch. A workspace serves the model it was created for only. It runs that model's
 * weights packed into panels: packed at creation, and packed again before the next forward,
 * backward or training step whenever m->weights_version moved since (once per change, however
 * many calls and threads' workspaces follow). Whoever writes m->params calls
 * model_weights_changed. NULL when out of memory or the sizes overflow. */
struct model_ws;
struct model_ws *model_ws_create(const struct lstmsrc_model *m, int cap, int with_backward);
/* Bytes model_ws_create(m, cap, with_backward) allocates (its one block); 0 on overflow. */
int model_ws_bytes(const struct lstmsrc_model *m, int cap, int with_backward, size_t *bytes);
/* Packs m's current weights into ws now (otherwise done on first use after a change). */
void model_ws_pack(struct model_ws *ws, const struct lstmsrc_model *m);
/* Says that m->params changed (an optimiser step, restored weights, a perturbation): every
 * workspace of m packs them again before it next runs. */
void model_weights_changed(struct lstmsrc_model *m);
void model_ws_free(struct model_ws *ws);

/* xb (T, B, F) standardised inputs -> logits (B, K), returned pointer owned by ws. */
const float *model_forward(const struct lstmsrc_model *m, struct model_ws *ws, const float *xb,
                           int B);
/* Given dlogits (B, K) for the last forward, accumulates (+=) parameter gradients into grads
 * (same layout as params). */
void model_backward(const struct lstmsrc_model *m, struct model_ws *ws, float *grads,
                    const float *dlogits, int B);

/* One training step's model part, fused: forward, loss and backward block by block, so each
 * block's activations are still in cache for its backward (a few percent faster than the
 * three calls; the same bits for the gradients and logits). Multi-label: y (B, K) 0/1 targets and
 * m->pos_weight; multi-class: cls (B). The loss gradient is scaled by norm (as in head.h).
 * Accumulates (+=) into grads; returns the summed loss (as the head.h functions do, up to summation
 * order). */
double model_train_step(const struct lstmsrc_model *m, struct model_ws *ws, float *grads,
                        const float *xb, const float *y, const int32_t *cls, int B, float norm);

/* Converts logits (B, K) to probabilities in place: sigmoid per output or softmax per row. */
void model_probs(const struct lstmsrc_model *m, float *logits, int B);

#endif
