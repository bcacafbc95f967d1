/*
 * trainer.h — the training layer's private parts, shared by its files and by nothing else (the
 * API is lstmsrc_train):
 *   config.c    the defaults, the checks of a config and of an --init model
 *   pool.c      the threads that run one mini-batch in fixed chunks
 *   validate.c  a part's windows and labels, the validation pass, threshold and duration tuning
 *   setup.c     the setup stage: the windows, the model, its scaler and baselines, the buffers,
 *               the state a checkpoint restores
 *   train.c     the other stages (epoch, validate and keep best, checkpoint, finish) and the
 *               driver, lstmsrc_train
 * One run's whole state is a struct trainer; each stage reads and advances it.
 */
#ifndef LSTMSRC_TRAINER_H
#define LSTMSRC_TRAINER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "data/window.h"
#include "io/checkpoint.h"
#include "lstmsrc.h"
#include "nn/model.h"

#define TRAIN_MAX_THREADS 256

/* ============================== config.c ============================== */

/* Directions of the top layer a config asks for (bidirectional -1: with a centred label). */
int train_directions(const struct lstmsrc_train_config *cfg);
/* The options and the data (labels, channel count) a training can run with, or
 * LSTMSRC_ERR_ARG / LSTMSRC_ERR_LIMIT naming the first that is not. */
enum lstmsrc_status train_check_config(const struct lstmsrc_dataset *ds,
                                       const struct lstmsrc_train_config *c,
                                       struct lstmsrc_error *err);
/* Fine-tuning: the init model must have the architecture cfg and ds give, and the data's
 * columns. An option that differs is LSTMSRC_ERR_ARG, a column LSTMSRC_ERR_PARSE. */
enum lstmsrc_status train_check_init(const struct lstmsrc_dataset *ds,
                                     const struct lstmsrc_train_config *c,
                                     struct lstmsrc_error *err);

/* ============================== pool.c ============================== */

enum train_job { TRAIN_JOB_STEP, TRAIN_JOB_EVAL, TRAIN_JOB_QUIT };

struct train_worker {
    struct train_pool *pool;
    int id;
    struct model_ws *ws;
    float *xb;      /* (T, chunk, F) gathered windows */
    float *yb;      /* (chunk, K) multi-label targets */
    int32_t *cb;    /* (chunk) multi-class targets */
    float *dlogits; /* (chunk, K) */
};

/* A batch is cut into fixed chunks of `chunk` rows (the same cut on any thread count), which
 * the threads take in turn as they get free: a thread held up (by another process on its core)
 * delays a step by one chunk at most, not by half the batch. Each chunk has its own gradient
 * buffer and loss, summed in chunk order, so which thread ran a chunk changes no bit.
 * The caller sets ds, x, m, nthreads and comm (NULL: one process) before train_pool_start, and
 * the batch fields (starts, B, norm, probs for TRAIN_JOB_EVAL) before each train_pool_run. */
struct train_pool {
    const struct lstmsrc_dataset *ds;
    const float *x; /* (n, m->f) network channels: ds->x, or derived from it */
    const struct lstmsrc_model *m;
    int nthreads, chunk, max_chunks;
    int batch; /* the most rows a batch may have */
    struct train_worker w[TRAIN_MAX_THREADS];
    pthread_t th[TRAIN_MAX_THREADS];
    int running; /* worker threads started (1..running-1 are threads) */
    int sync_ok; /* mutex and condition variables initialised */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen; /* bumped for every job handed out */
    int pending;  /* worker threads still busy with the current job */
    enum train_job job;
    const size_t *starts;              /* window start rows of the current batch */
    int B;                             /* rows in the current batch */
    int nchunks, next;                 /* chunks in the current batch; the next one to take */
    const volatile sig_atomic_t *stop; /* polled before each chunk (NULL: never cut a batch) */
    int cut;                           /* a stop request left the current batch unfinished */
    float norm;                        /* loss normaliser for the whole batch */
    float *probs;                      /* TRAIN_JOB_EVAL: (B, K) out */
    float *grads;                      /* (max_chunks, n_params) TRAIN_JOB_STEP: chunk c's gradient
                                          at c * n_params; the first ends as the batch's */
    double *loss;                      /* (max_chunks) summed loss of each chunk */
    /* the processes sharing each batch (never NULL after train_pool_start: one process when the
     * config has none): this one runs chunks c0..c1-1 of the current batch, the others' come
     * by comm->allgather, and every process sums them all in chunk order */
    const struct lstmsrc_comm *comm;
    int c0, c1;
    size_t *xcount;  /* (comm->size) bytes of each process's block in an exchange */
    double *xsmall;  /* (max_chunks + comm->size) each process's stop flag and chunk losses */
    int comm_failed; /* an exchange failed: the results are not to be used (cut is set too) */
};

/* Allocates the gradients and each thread's workspace for batches of up to `batch` windows and
 * starts the threads. On failure p holds what it got so far, for train_pool_free. */
enum lstmsrc_status train_pool_start(struct train_pool *p, int batch, struct lstmsrc_error *err);
/* Runs `job` on the current batch across all threads; returns the summed loss.
 * TRAIN_JOB_STEP leaves the batch's gradient in p->grads. A stop request seen between chunks
 * sets p->cut: the batch's results are then incomplete and must not be used (NaN returned). */
double train_pool_run(struct train_pool *p, enum train_job job);
/* Whether flag is non-zero in any process (comm): every process calls it at the same point.
 * An exchange that fails counts as a yes (and sets p->comm_failed). */
int train_pool_any(struct train_pool *p, int flag);
/* Stops the threads and frees what train_pool_start allocated (not p itself); safe on a pool
 * all zero or started part way. */
void train_pool_free(struct train_pool *p);

/* ============================== validate.c ============================== */

/* A part of the data (training or validation): its windows and, once gathered, the label of
 * each window in window order: y (total, K) for multi-label, cls (total) for multi-class. */
struct train_part {
    struct window_set ws;
    uint8_t *y;
    int32_t *cls;
};

void train_part_free(struct train_part *p);
/* Gathers the labels of p's windows (their labelled rows). Returns 0 on out of memory. */
int train_part_labels(struct train_part *p, const struct lstmsrc_model *m,
                      const struct lstmsrc_dataset *ds);
/* Macro F1 over sources with thresholds tuned on these windows (multi-label; thr may be NULL),
 * or macro F1 of the argmax (multi-class); -1 when out of memory. */
double train_macro_f1(const struct lstmsrc_model *m, const struct train_part *p, const float *probs,
                      float *thr);
/* Runs the model over a set of windows in batches (starts: room for one batch); returns the
 * mean loss, fills probs (total, K). NaN when a stop request cut the pass. */
double train_eval_windows(struct train_pool *pool, size_t *starts, const struct window_set *ws,
                          float *probs);
/* Per-source decision thresholds of m for the best F1 on the validation output val_probs
 * (train's windows where a source is never on in val). LSTMSRC_ERR_NOMEM when out of memory. */
enum lstmsrc_status train_tune_thresholds(struct train_pool *pool, struct lstmsrc_model *m,
                                          const struct train_part *val, struct train_part *train,
                                          const float *val_probs, size_t *starts);
/* Per-source minimum on/off durations of m for the best F1 of the filtered decisions on the
 * validation output, thresholds already set. LSTMSRC_ERR_NOMEM when out of memory. */
enum lstmsrc_status train_tune_durations(struct lstmsrc_model *m, const struct train_part *val,
                                         const float *val_probs);

/* ============================== the trainer ============================== */

/* One run of lstmsrc_train: set up by train_setup (setup.c), advanced by the stages of train.c,
 * freed by the driver. It owns every allocation below, the model until it is handed out. */
struct trainer {
    const struct lstmsrc_dataset *ds;
    const struct lstmsrc_train_config *cfg;
    struct lstmsrc_model *m;
    /* the data: windows of each part, the network's channels */
    struct window_split sp;
    struct train_part train, val;
    float *xc;      /* (n, m->f) derived channels, when not the raw columns alone */
    const float *x; /* (n, m->f) the network's channels: ds->x or xc */
    size_t n_train; /* training windows trained on: every stride-th of the part's */
    size_t stride;
    float norm_div; /* loss normaliser per window: K for multi-label, 1 for multi-class */
    /* the machinery */
    int nthreads;
    struct train_pool *pool;
    float *adam_m, *adam_v; /* (n_params) Adam moments */
    float *best;            /* (n_params) the best epoch's weights */
    float *avg, *raw;       /* (n_params) cfg->ema > 0: the weights' moving average, and the
                               raw weights while the average is validated; else NULL */
    float *val_probs;       /* (val_windows, K) this epoch's validation output */
    float *best_probs;      /* (val_windows, K) the best epoch's */
    uint32_t *order; /* (n_train) shuffled; 4 bytes a window: at 50M rows the largest buffer */
    size_t *starts;  /* (batch) window start rows of one batch */
    /* progress over the epochs: what a checkpoint keeps */
    struct rng rng;
    struct ckpt_id cid;
    struct ckpt_state cs;
    int first_epoch;            /* 1, or where a resumed run goes on */
    long step;                  /* Adam steps taken */
    int epochs_run, best_epoch; /* complete epochs; the best one, 0 = none yet */
    double best_val, best_f1;
    /* the current epoch */
    int epoch;
    struct rng epoch_rng; /* the generator before this epoch's shuffle */
    size_t done;          /* windows trained this epoch */
    double t0, loss_sum;  /* when it started; its summed training loss */
    double chunk_s;       /* the last step's time per round of chunks */
    double vloss, vf1;    /* its validation loss and macro F1, -1 when not scored */
    int improved;         /* it is the best so far */
    int interrupted;      /* a stop request ended the epochs */
};

/* The setup stage: checks the config, splits the windows, creates the model (or copies the
 * --init one), fits the scaler, positive weights and baselines on the training part, allocates
 * the buffers, starts the pool, and restores a checkpoint (cfg->resume). t is all zero before;
 * on failure it holds what it got so far, for the driver to free. */
enum lstmsrc_status train_setup(struct trainer *t, const struct lstmsrc_dataset *ds,
                                const struct lstmsrc_train_config *cfg, struct lstmsrc_error *err);

#endif
