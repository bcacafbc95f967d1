/*
 * train.c — the training loop: chronological split, scaler and baselines fitted on the training
 * part only, Keras initialisation, shuffled mini-batches, Adam, validation every epoch, early
 * stopping with the best epoch's weights kept (lowest validation loss or highest validation
 * macro F1, cfg->select), per-source thresholds tuned on validation.
 *
 * Threads take fixed chunks of each mini-batch as they get free; each thread has its own
 * workspace, each chunk its own gradient buffer, and the buffers are summed in chunk order once
 * per step; the cut depends on the batch and the model, not on the thread count, so a given
 * seed gives the same model bytes on any number of threads. Nothing
 * allocates inside the step loop.
 * It does not parse files or print: progress goes to the caller's callback.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "io/checkpoint.h"
#include "base/common.h"
#include "data/dataset.h"
#include "post/durations.h"
#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/lstm.h"
#include "post/metrics.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "base/rng.h"
#include "data/window.h"

#define MAX_THREADS 256
#define BASELINE_ROWS ((size_t)1 << 20)

void lstmsrc_train_config_default(struct lstmsrc_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seq_len = 5;
    cfg->hidden = 64;
    cfg->layers = 1;
    cfg->epochs = 20; /* centred windows kept improving validation loss past 10 (REFIT best 13, IDEAL 16) */
    cfg->batch = 512;
    cfg->patience = 0;
    cfg->threads = 0;
    cfg->lr = 1e-3f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-7f;
    cfg->clip = 0.0f;
    cfg->val_fraction = 0.1f;
    cfg->seed = 1;
    cfg->pos_weight = LSTMSRC_POS_WEIGHT_AUTO;
    cfg->pos_weight_cap = 50.0f;
    cfg->tune_thresholds = 1;
    cfg->threshold = 0.5f;
    cfg->features = LSTMSRC_FEATURE_RAW | LSTMSRC_FEATURE_DIFF;
    /* centred, both directions: REFIT house 2 validation macro F1 0.531 against 0.442 at the
     * last row (IDEAL house 65: 0.333 both, its validation part holds only the shower) */
    cfg->label_at = LSTMSRC_LABEL_CENTER;
    cfg->bidirectional = -1; /* with a centred label: one-directional centred scored far lower */
    cfg->stride = 1;
    cfg->tune_durations = 0; /* tuned on a short validation tail they did not carry to new weeks */
    cfg->min_on = 1;
    cfg->min_off = 1;
}

/* Directions of the top layer a config asks for (bidirectional -1: with a centred label). */
static int train_directions(const struct lstmsrc_train_config *cfg)
{
    if (cfg->bidirectional < 0) return cfg->label_at == LSTMSRC_LABEL_CENTER ? 2 : 1;
    return cfg->bidirectional ? 2 : 1;
}

/* ============================== thread pool ============================== */

enum job { JOB_TRAIN, JOB_EVAL, JOB_QUIT };

struct worker {
    struct trainer *tr;
    int id;
    struct model_ws *ws;
    float *xb;        /* (T, chunk, F) gathered windows */
    float *yb;        /* (chunk, K) multi-label targets */
    int32_t *cb;      /* (chunk) multi-class targets */
    float *dlogits;   /* (chunk, K) */
};

/* A batch is cut into fixed chunks of `chunk` rows (the same cut on any thread count), which
 * the threads take in turn as they get free: a thread held up (by another process on its core)
 * delays a step by one chunk at most, not by half the batch. Each chunk has its own gradient
 * buffer and loss, summed in chunk order, so which thread ran a chunk changes no bit. */
struct trainer {
    const struct lstmsrc_dataset *ds;
    const float *x;                /* (n, m->f) network channels: ds->x, or derived from it */
    struct lstmsrc_model *m;
    const struct lstmsrc_train_config *cfg;
    int nthreads, chunk, max_chunks;
    struct worker w[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int running;                   /* worker threads started (1..running-1 are threads) */
    int sync_ok;                   /* mutex and condition variables initialised */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen;                  /* bumped for every job handed out */
    int pending;                   /* worker threads still busy with the current job */
    enum job job;
    const size_t *starts;          /* window start rows of the current batch */
    int B;                         /* rows in the current batch */
    int nchunks, next;             /* chunks in the current batch; the next one to take */
    const volatile sig_atomic_t *stop; /* polled before each chunk (NULL: never cut a batch) */
    int cut;                       /* a stop request left the current batch unfinished */
    float norm;                    /* loss normaliser for the whole batch */
    float *probs;                  /* JOB_EVAL: (B, K) out */
    float *grads;                  /* (max_chunks, n_params) JOB_TRAIN: chunk c's gradient at
                                      c * n_params; the first ends as the batch's */
    double *loss;                  /* (max_chunks) summed loss of each chunk */
};

/* A chunk's work at most, in multiply-adds of a training step (forward and backward, about 3x
 * the forward gates): about a second on one core. A stop request is
 * seen between chunks, so this bounds how long it waits at any model size. */
#define CHUNK_MAX_MACS 2e9

/* Multiply-adds of one window's training step: the gate products of every unit and step. */
static double row_macs(const struct lstmsrc_model *m)
{
    double macs = 0.0;
    for (int u = 0; u < model_units(m); u++)
        macs += 3.0 * 4.0 * m->h * (double)(model_unit_in(m, u) + m->h) * model_unit_steps(m, u);
    return macs;
}

/* Rows per chunk: a sixteenth of the batch in whole row blocks (model.h works LSTM_ROW_BLOCK
 * rows at a time), and no more than CHUNK_MAX_MACS of work (whole row blocks where that leaves
 * more than one). The cut depends on the batch and the model only, never on the thread count:
 * the chunks' gradients are summed in chunk order, so 1 thread and 16 give the same bits. */
#define CHUNKS_PER_BATCH 16
static int chunk_rows(int batch, double macs_per_row)
{
    int per = (batch + CHUNKS_PER_BATCH - 1) / CHUNKS_PER_BATCH;
    per = (per + LSTM_ROW_BLOCK - 1) / LSTM_ROW_BLOCK * LSTM_ROW_BLOCK;
    double cap = CHUNK_MAX_MACS / (macs_per_row > 1.0 ? macs_per_row : 1.0);
    if (cap < per) {
        per = cap < 1.0 ? 1 : (int)cap;
        if (per > LSTM_ROW_BLOCK) per = per / LSTM_ROW_BLOCK * LSTM_ROW_BLOCK;
    }
    return per < batch ? per : batch;
}

static void run_chunk(struct worker *w, int c)
{
    struct trainer *tr = w->tr;
    const struct lstmsrc_model *m = tr->m;
    const struct lstmsrc_dataset *ds = tr->ds;
    const int T = m->seq_len, K = m->k, multi = m->task == LSTMSRC_TASK_MULTILABEL;
    const size_t lab = window_label_row(0, T, m->label_offset); /* labelled row in a window */
    const int r0 = c * tr->chunk, B = tr->B - r0 < tr->chunk ? tr->B - r0 : tr->chunk;
    const size_t *st = tr->starts + r0;
    window_gather(w->xb, tr->x, m->f, st, B, T, m->scale_mean, m->scale_std);
    if (multi)
        for (int b = 0; b < B; b++) {
            const uint8_t *y = ds->y + (st[b] + lab) * (size_t)K;
            for (int j = 0; j < K; j++) w->yb[(size_t)b * K + j] = y[j];
        }
    else
        for (int b = 0; b < B; b++) w->cb[b] = ds->cls[st[b] + lab];
    if (tr->job == JOB_TRAIN) {
        float *g = tr->grads + (size_t)c * m->n_params;
        memset(g, 0, m->n_params * sizeof *g);
        tr->loss[c] = model_train_step(m, w->ws, g, w->xb, multi ? w->yb : NULL,
                                       multi ? NULL : w->cb, B, tr->norm);
        return;
    }
    const float *logits = model_forward(m, w->ws, w->xb, B);
    tr->loss[c] = multi ? loss_bce_logits(w->dlogits, logits, w->yb, m->pos_weight, B, K, tr->norm)
                        : loss_softmax_ce(w->dlogits, logits, w->cb, B, K, tr->norm);
    float *out = tr->probs + (size_t)r0 * K;
    memcpy(out, logits, (size_t)B * K * sizeof *out);
    model_probs(m, out, B);
}

/* The next chunk of the current job, or -1 when all are taken or a stop was requested (the
 * batch is then left unfinished: tr->cut). */
static int take_chunk(struct trainer *tr)
{
    int c;
    if (tr->running > 1) pthread_mutex_lock(&tr->mu);
    if (tr->next < tr->nchunks && tr->stop && *tr->stop) tr->cut = 1;
    c = !tr->cut && tr->next < tr->nchunks ? tr->next++ : -1;
    if (tr->running > 1) pthread_mutex_unlock(&tr->mu);
    return c;
}

static void run_chunks(struct worker *w)
{
    int c;
    while ((c = take_chunk(w->tr)) >= 0) run_chunk(w, c);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct trainer *tr = w->tr;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&tr->mu);
        while (tr->gen == seen) pthread_cond_wait(&tr->go, &tr->mu);
        seen = tr->gen;
        enum job job = tr->job;
        pthread_mutex_unlock(&tr->mu);
        if (job == JOB_QUIT) break;
        run_chunks(w);
        pthread_mutex_lock(&tr->mu);
        if (--tr->pending == 0) pthread_cond_signal(&tr->done);
        pthread_mutex_unlock(&tr->mu);
    }
    return NULL;
}

/* Hands `job` to every worker thread (they read the batch fields set before this call). */
static void pool_dispatch(struct trainer *tr, enum job job)
{
    pthread_mutex_lock(&tr->mu);
    tr->job = job;
    tr->pending = tr->running - 1;
    tr->gen++;
    pthread_cond_broadcast(&tr->go);
    pthread_mutex_unlock(&tr->mu);
}

/* Runs `job` on the current batch across all threads; returns the summed loss. JOB_TRAIN
 * leaves the batch's gradient in tr->grads. A stop request seen between chunks sets tr->cut:
 * the batch's results are then incomplete and must not be used. */
static double run_batch(struct trainer *tr, enum job job)
{
    tr->job = job;
    tr->nchunks = (tr->B + tr->chunk - 1) / tr->chunk;
    tr->next = 0;
    tr->cut = 0;
    if (tr->running > 1) pool_dispatch(tr, job);
    run_chunks(&tr->w[0]);
    if (tr->running > 1) {
        pthread_mutex_lock(&tr->mu);
        while (tr->pending > 0) pthread_cond_wait(&tr->done, &tr->mu);
        pthread_mutex_unlock(&tr->mu);
    }
    if (tr->cut) return NAN;
    double loss = 0.0;
    for (int c = 0; c < tr->nchunks; c++) loss += tr->loss[c];
    if (job == JOB_TRAIN) {
        const size_t n = tr->m->n_params;
        for (int c = 1; c < tr->nchunks; c++) {
            const float *g = tr->grads + (size_t)c * n;
            for (size_t p = 0; p < n; p++) tr->grads[p] += g[p];
        }
    }
    return loss;
}

static void trainer_free(struct trainer *tr)
{
    if (tr->running > 1) {
        pool_dispatch(tr, JOB_QUIT);
        for (int i = 1; i < tr->running; i++) pthread_join(tr->th[i], NULL);
    }
    tr->running = 0;
    if (tr->sync_ok) {
        pthread_mutex_destroy(&tr->mu);
        pthread_cond_destroy(&tr->go);
        pthread_cond_destroy(&tr->done);
    }
    free(tr->grads);
    free(tr->loss);
    for (int i = 0; i < tr->nthreads; i++) {
        struct worker *w = &tr->w[i];
        model_ws_free(w->ws);
        free(w->xb);
        free(w->yb);
        free(w->cb);
        free(w->dlogits);
    }
}

static enum lstmsrc_status trainer_init(struct trainer *tr, struct lstmsrc_error *err)
{
    const struct lstmsrc_model *m = tr->m;
    const int cap = tr->chunk = chunk_rows(tr->cfg->batch, row_macs(m));
    tr->max_chunks = (tr->cfg->batch + cap - 1) / cap;
    tr->grads = xmalloc_n((size_t)tr->max_chunks, m->n_params * sizeof(float));
    tr->loss = xmalloc_n((size_t)tr->max_chunks, sizeof *tr->loss);
    if (!tr->grads || !tr->loss)
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the training gradients");
    for (int i = 0; i < tr->nthreads; i++) {
        struct worker *w = &tr->w[i];
        w->tr = tr;
        w->id = i;
        w->ws = model_ws_create(m, cap, 1);
        w->xb = xmalloc_n((size_t)cap * m->seq_len, (size_t)m->f * sizeof(float));
        w->yb = xmalloc_n((size_t)cap, (size_t)m->k * sizeof(float));
        w->cb = xmalloc_n((size_t)cap, sizeof(int32_t));
        w->dlogits = xmalloc_n((size_t)cap, (size_t)m->k * sizeof(float));
        if (!w->ws || !w->xb || !w->yb || !w->cb || !w->dlogits)
            return set_error(err, LSTMSRC_ERR_NOMEM,
                             "out of memory for the training workspace (batch %d, window %d, "
                             "hidden %d)", tr->cfg->batch, m->seq_len, m->h);
    }
    tr->running = 1;
    if (tr->nthreads == 1) return LSTMSRC_OK;
    if (pthread_mutex_init(&tr->mu, NULL)) return set_error(err, LSTMSRC_ERR_NOMEM, "no mutex");
    if (pthread_cond_init(&tr->go, NULL)) {
        pthread_mutex_destroy(&tr->mu);
        return set_error(err, LSTMSRC_ERR_NOMEM, "no condition variable");
    }
    if (pthread_cond_init(&tr->done, NULL)) {
        pthread_cond_destroy(&tr->go);
        pthread_mutex_destroy(&tr->mu);
        return set_error(err, LSTMSRC_ERR_NOMEM, "no condition variable");
    }
    tr->sync_ok = 1;
    for (int i = 1; i < tr->nthreads; i++) {
        if (pthread_create(&tr->th[i], NULL, worker_main, &tr->w[i]))
            return set_error(err, LSTMSRC_ERR_NOMEM, "cannot start training thread %d of %d",
                             i + 1, tr->nthreads);
        tr->running = i + 1;
    }
    return LSTMSRC_OK;
}

/* ============================== validation ============================== */

/* A part of the data (training or validation): its windows and, once gathered, the label of
 * each window in window order: y (total, K) for multi-label, cls (total) for multi-class. */
struct part {
    struct window_set ws;
    uint8_t *y;
    int32_t *cls;
};

static void part_free(struct part *p)
{
    window_set_free(&p->ws);
    free(p->y);
    free(p->cls);
    p->y = NULL;
    p->cls = NULL;
}

/* Gathers the labels of p's windows (their labelled rows). Returns 0 on out of memory. */
static int part_labels(struct part *p, const struct lstmsrc_model *m,
                       const struct lstmsrc_dataset *ds)
{
    const size_t K = (size_t)m->k, lab = window_label_row(0, m->seq_len, m->label_offset);
    const size_t nw = p->ws.total;
    if (m->task == LSTMSRC_TASK_MULTILABEL) {
        if (!(p->y = xmalloc_n(nw ? nw : 1, K))) return 0;
        for (size_t r = 0, w = 0; r < p->ws.n_runs; r++)
            for (size_t i = 0; i < p->ws.first[r + 1] - p->ws.first[r]; i++, w++)
                memcpy(p->y + w * K, ds->y + (p->ws.runs[r].start + i + lab) * K, K);
    } else {
        if (!(p->cls = xmalloc_n(nw ? nw : 1, sizeof *p->cls))) return 0;
        for (size_t r = 0, w = 0; r < p->ws.n_runs; r++)
            for (size_t i = 0; i < p->ws.first[r + 1] - p->ws.first[r]; i++, w++)
                p->cls[w] = ds->cls[p->ws.runs[r].start + i + lab];
    }
    return 1;
}

/* Macro F1 over sources with thresholds tuned on these windows (multi-label; thr may be NULL),
 * or macro F1 of the argmax (multi-class). */
static double val_macro_f1(const struct lstmsrc_model *m, const struct part *p, const float *probs,
                           float *thr)
{
    const int K = m->k;
    const size_t nw = p->ws.total;
    double sum = 0.0;
    if (m->task == LSTMSRC_TASK_MULTILABEL) {
        for (int j = 0; j < K; j++) {
            float t;
            double f1;
            if (best_f1_threshold(probs + j, (size_t)K, p->y + j, (size_t)K, nw, 0.5f, &t, &f1))
                return -1.0;
            if (thr) thr[j] = t;
            sum += f1;
        }
        return sum / K;
    }
    for (int c = 0; c < K; c++) {
        struct bin_counts cnt = {0, 0, 0, 0};
        for (size_t i = 0; i < nw; i++) {
            const float *pr = probs + i * K;
            int best = 0;
            for (int j = 1; j < K; j++)
                if (pr[j] > pr[best]) best = j;
            int truth = p->cls[i];
            cnt.tp += best == c && truth == c;
            cnt.fp += best == c && truth != c;
            cnt.fn += best != c && truth == c;
        }
        sum += counts_f1(&cnt);
    }
    return sum / K;
}

/* Runs the model over a part's windows; returns the mean loss, fills probs (nw, K). */
static double validate(struct trainer *tr, size_t *starts, const struct window_set *ws,
                       float *probs)
{
    const int K = tr->m->k;
    const int bs = tr->cfg->batch;
    const size_t nw = ws->total;
    double loss = 0.0;
    for (size_t w0 = 0; w0 < nw; w0 += (size_t)bs) {
        int B = nw - w0 < (size_t)bs ? (int)(nw - w0) : bs;
        for (int b = 0; b < B; b++) starts[b] = window_set_start(ws, w0 + (size_t)b);
        tr->starts = starts;
        tr->B = B;
        tr->norm = 1.0f;
        tr->probs = probs + w0 * K;
        loss += run_batch(tr, JOB_EVAL);
        if (tr->cut) return NAN; /* a stop request: the pass is incomplete */
    }
    return loss / ((double)nw * (tr->m->task == LSTMSRC_TASK_MULTILABEL ? K : 1));
}

/* Whether a source is on in any of n windows (labels y[w * stride]). */
static int any_on(const uint8_t *y, size_t stride, size_t n)
{
    for (size_t w = 0; w < n; w++)
        if (y[w * stride]) return 1;
    return 0;
}

/* Per-source decision thresholds for the best F1 on the validation windows. A source that is
 * never on in the validation part (a rare appliance and a short tail) is tuned on the training
 * windows instead: in-sample, but better than a fixed guess on a pos_weight-shifted output. */
static enum lstmsrc_status tune_thresholds(struct trainer *tr, const struct part *val,
                                           struct part *train, const float *val_probs,
                                           size_t *bstarts)
{
    struct lstmsrc_model *m = tr->m;
    const int K = m->k;
    const size_t nv = val->ws.total, nt = train->ws.total;
    float *train_probs = NULL;
    double f1;
    for (int j = 0; j < K; j++) {
        const uint8_t *yv = val->y + j;
        if (any_on(yv, (size_t)K, nv)) {
            if (best_f1_threshold(val_probs + j, (size_t)K, yv, (size_t)K, nv, m->threshold[j],
                                  &m->threshold[j], &f1))
                goto nomem;
            continue;
        }
        if (!train_probs) {
            train_probs = xmalloc_n(nt, (size_t)K * sizeof(float));
            if (!train_probs || (!train->y && !part_labels(train, m, tr->ds))) goto nomem;
            validate(tr, bstarts, &train->ws, train_probs);
        }
        if (best_f1_threshold(train_probs + j, (size_t)K, train->y + j, (size_t)K, nt,
                              m->threshold[j], &m->threshold[j], &f1))
            goto nomem;
    }
    /* A probability threshold: "everything on" comes out just below the smallest score, which
     * can be below 0; 0 says the same, and a model's thresholds stay where --threshold takes
     * them (0 to 1). */
    for (int j = 0; j < K; j++)
        m->threshold[j] = m->threshold[j] < 0.0f   ? 0.0f
                          : m->threshold[j] > 1.0f ? 1.0f
                                                   : m->threshold[j];
    free(train_probs);
    return LSTMSRC_OK;
nomem:
    free(train_probs);
    return LSTMSRC_ERR_NOMEM;
}

/* Per-source minimum on/off durations (durations.h) for the best F1 of the filtered decisions on
 * the validation windows, with the thresholds already tuned. Unlike the thresholds, a source
 * never on in the validation part keeps 1/1: there is nothing there to judge a filter by, and
 * the training windows' output is in-sample, its flicker not that of new data. The validation
 * windows are scored as one sequence, also where it spans a gap between segments. */
static enum lstmsrc_status tune_durations(struct lstmsrc_model *m, const struct part *val,
                                          const float *val_probs)
{
    const int K = m->k;
    const size_t nv = val->ws.total;
    for (int j = 0; j < K; j++) {
        const uint8_t *yv = val->y + j;
        double raw, best;
        if (any_on(yv, (size_t)K, nv) &&
            durations_tune(val_probs + j, (size_t)K, m->threshold[j], yv, (size_t)K, nv,
                           &m->min_on[j], &m->min_off[j], &raw, &best))
            return LSTMSRC_ERR_NOMEM;
    }
    return LSTMSRC_OK;
}

/* ============================== setup helpers ============================== */

static enum lstmsrc_status check_config(const struct lstmsrc_dataset *ds,
                                        const struct lstmsrc_train_config *c,
                                        struct lstmsrc_error *err)
{
    if (!ds->has_labels)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: no label columns to learn from", ds->source);
    if (c->seq_len < 1 || c->seq_len > LSTMSRC_MAX_SEQ)
        return set_error(err, LSTMSRC_ERR_ARG, "window length %d; supported: 1 to %d", c->seq_len,
                         LSTMSRC_MAX_SEQ);
    if (c->epochs < 1) return set_error(err, LSTMSRC_ERR_ARG, "epochs must be at least 1");
    if (c->batch < 1 || c->batch > (1 << 20))
        return set_error(err, LSTMSRC_ERR_ARG, "batch %d; supported: 1 to %d", c->batch, 1 << 20);
    if (c->patience < 0) return set_error(err, LSTMSRC_ERR_ARG, "patience must be >= 0");
    if (c->threads < 0 || c->threads > MAX_THREADS)
        return set_error(err, LSTMSRC_ERR_ARG, "threads %d; supported: 0 (all cores) to %d",
                         c->threads, MAX_THREADS);
    if (!(c->lr > 0.0f) || !isfinite(c->lr))
        return set_error(err, LSTMSRC_ERR_ARG, "learning rate must be a positive number");
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f) ||
        !(c->eps > 0.0f))
        return set_error(err, LSTMSRC_ERR_ARG, "Adam needs 0 <= beta < 1 and eps > 0");
    if (!(c->clip >= 0.0f)) return set_error(err, LSTMSRC_ERR_ARG, "clip must be >= 0");
    if (!(c->val_fraction >= 0.0f && c->val_fraction <= 0.5f))
        return set_error(err, LSTMSRC_ERR_ARG, "validation fraction %g; supported: 0 to 0.5",
                         (double)c->val_fraction);
    if (c->val_fraction == 0.0f &&
        (c->tune_durations || c->select == LSTMSRC_SELECT_F1 || c->patience > 0))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "validation fraction 0 leaves no validation part, which %s needs",
                         c->tune_durations                ? "tuning minimum durations"
                         : c->select == LSTMSRC_SELECT_F1 ? "selecting the epoch by F1"
                                                          : "patience");
    if (c->pos_weight == LSTMSRC_POS_WEIGHT_MANUAL) {
        if (ds->task != LSTMSRC_TASK_MULTILABEL)
            return set_error(err, LSTMSRC_ERR_ARG, "positive weights apply to multi-label sources only");
        if (c->n_pos_weights != ds->k || !c->pos_weights)
            return set_error(err, LSTMSRC_ERR_ARG, "%d positive weights given for %d sources",
                             c->n_pos_weights, ds->k);
        for (int j = 0; j < ds->k; j++)
            if (!(c->pos_weights[j] > 0.0f) || !isfinite(c->pos_weights[j]))
                return set_error(err, LSTMSRC_ERR_ARG, "positive weight %d must be > 0", j + 1);
    }
    if (c->select != LSTMSRC_SELECT_LOSS && c->select != LSTMSRC_SELECT_F1)
        return set_error(err, LSTMSRC_ERR_ARG, "epoch selection %d; supported: 0 (validation "
                         "loss) or 1 (validation macro F1)", (int)c->select);
    if (!(c->threshold >= 0.0f && c->threshold <= 1.0f))
        return set_error(err, LSTMSRC_ERR_ARG, "threshold must be between 0 and 1");
    if (c->pos_weight == LSTMSRC_POS_WEIGHT_AUTO && !(c->pos_weight_cap >= 1.0f))
        return set_error(err, LSTMSRC_ERR_ARG, "positive weight cap must be >= 1");
    int per = model_feature_count(c->features);
    if (per == 0)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "features 0x%x; supported: raw (0x1), first difference (0x2) or both",
                         c->features);
    if (ds->f * per > LSTMSRC_MAX_INPUTS)
        return set_error(err, LSTMSRC_ERR_LIMIT,
                         "%d input columns x %d channels each = %d channels; supported: up to %d",
                         ds->f, per, ds->f * per, LSTMSRC_MAX_INPUTS);
    if (c->label_at != LSTMSRC_LABEL_LAST && c->label_at != LSTMSRC_LABEL_CENTER)
        return set_error(err, LSTMSRC_ERR_ARG, "label position %d is not last (0) or center (1)",
                         (int)c->label_at);
    if (c->bidirectional < -1 || c->bidirectional > 1)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "bidirectional %d is not -1 (with a centred label), 0 or 1",
                         c->bidirectional);
    if (c->stride < 1 || c->stride > LSTMSRC_MAX_SEQ)
        return set_error(err, LSTMSRC_ERR_ARG, "stride %d; supported: 1 to %d", c->stride,
                         LSTMSRC_MAX_SEQ);
    if (!c->tune_durations && !durations_valid(c->min_on, c->min_off))
        return set_error(err, LSTMSRC_ERR_ARG, "minimum durations on %d, off %d rows; supported: "
                         "1 to %d", c->min_on, c->min_off, LSTMSRC_MAX_DURATION);
    if (!c->tune_durations && ds->task != LSTMSRC_TASK_MULTILABEL &&
        (c->min_on != 1 || c->min_off != 1))
        return set_error(err, LSTMSRC_ERR_ARG, "minimum durations apply to multi-label sources only");
    return LSTMSRC_OK;
}

/* Fine-tuning: the init model must have the architecture cfg and ds give, and the data's
 * columns. An option that differs is LSTMSRC_ERR_ARG, a column LSTMSRC_ERR_PARSE. */
static enum lstmsrc_status check_init(const struct lstmsrc_dataset *ds,
                                      const struct lstmsrc_train_config *c,
                                      struct lstmsrc_error *err)
{
    const struct lstmsrc_model *im = c->init;
    const char *nm = c->init_name && *c->init_name ? c->init_name : "the init model";
    if (c->resume)
        return set_error(err, LSTMSRC_ERR_ARG, "an init model and a checkpoint to resume from "
                         "exclude each other (a checkpoint holds the weights already)");
    const int dirs = c->bidirectional < 0 ? im->dirs : train_directions(c);
    static const char *const at_name[2] = {"last", "center"};
#define INIT_DIFF(what, mine, theirs)                                                          \
    if ((mine) != (theirs))                                                                    \
        return set_error(err, LSTMSRC_ERR_ARG, "%s has %s %d, this training %d", nm, what,     \
                         (int)(theirs), (int)(mine))
    INIT_DIFF("window (seq)", c->seq_len, im->seq_len);
    INIT_DIFF("hidden units", c->hidden, im->h);
    INIT_DIFF("layers", c->layers, im->layers);
    INIT_DIFF("directions", dirs, im->dirs);
#undef INIT_DIFF
    if (c->features != im->features)
        return set_error(err, LSTMSRC_ERR_ARG, "%s has features %s, this training %s", nm,
                         im->features == LSTMSRC_FEATURE_RAW    ? "raw"
                         : im->features == LSTMSRC_FEATURE_DIFF ? "diff"
                                                                : "raw,diff",
                         c->features == LSTMSRC_FEATURE_RAW    ? "raw"
                         : c->features == LSTMSRC_FEATURE_DIFF ? "diff"
                                                               : "raw,diff");
    if (c->label_at != im->label_at)
        return set_error(err, LSTMSRC_ERR_ARG, "%s is labelled at the window's %s row, this "
                         "training at its %s row", nm, at_name[im->label_at != 0],
                         at_name[c->label_at != 0]);
    if (ds->task != im->task || ds->mode != im->label_mode)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: %s is %s (label mode %d), this data %s "
                         "(label mode %d)", ds->source, nm,
                         im->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class",
                         (int)im->label_mode,
                         ds->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class",
                         (int)ds->mode);
    if (ds->f != im->n_raw)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: %s reads %d input column%s, this data %d",
                         ds->source, nm, im->n_raw, im->n_raw == 1 ? "" : "s", ds->f);
    for (int j = 0; j < ds->f; j++)
        if (strcmp(ds->input_names[j], im->input_names[j]))
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: input %d is \"%.40s\", %s's is \"%.40s\"", ds->source, j + 1,
                             ds->input_names[j], nm, im->input_names[j]);
    if (ds->k != im->k)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: %d output%s, %s has %d", ds->source, ds->k,
                         ds->k == 1 ? "" : "s", nm, im->k);
    for (int j = 0; j < ds->k; j++)
        if (strcmp(ds->output_names[j], im->output_names[j]))
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: output %d is \"%.40s\", %s's is \"%.40s\"", ds->source,
                             j + 1, ds->output_names[j], nm, im->output_names[j]);
    return LSTMSRC_OK;
}

/* Every row's channels standardised as window_gather does them must be finite: finite
 * readings can still land beyond a float there (3.4e38 in a column mostly at -3.4e38 is
 * (3.4e38 + 1.4e38) / 3.1e38), and training would meet it as a NaN gradient in the first step. */
static enum lstmsrc_status check_standardised(const struct lstmsrc_model *m,
                                              const struct lstmsrc_dataset *ds, const float *x,
                                              struct lstmsrc_error *err)
{
    const size_t F = (size_t)m->f;
    for (size_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < F; j++) {
            const float v = x[i * F + j];
            if (isfinite((v - m->scale_mean[j]) / m->scale_std[j])) continue;
            char at[32];
            long line = dataset_row_line(ds, i);
            if (line)
                snprintf(at, sizeof at, ":%ld", line);
            else
                snprintf(at, sizeof at, ": row %zu", i + 1);
            const int raw = (m->features & LSTMSRC_FEATURE_RAW) && j < (size_t)m->n_raw;
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s%s: %s of \"%.40s\" is %g, which the scaler (mean %g, std %g) "
                             "maps beyond a float; rescale the readings",
                             ds->source, at, raw ? "the reading" : "the first difference",
                             m->input_names[j], (double)v, (double)m->scale_mean[j],
                             (double)m->scale_std[j]);
        }
    return LSTMSRC_OK;
}

/* dst (n) from src (n_src): dst[i] = src[i % n_src], so each derived channel is named after its
 * column. */
static enum lstmsrc_status copy_names(char **dst, int n, char *const *src, int n_src)
{
    for (int i = 0; i < n; i++) {
        const char *s = src[i % n_src];
        if (!(dst[i] = str_dup(s ? s : ""))) return LSTMSRC_ERR_NOMEM;
    }
    return LSTMSRC_OK;
}

/* pos_weight = negatives / positives per source over the training windows' labels, capped. */
static void fit_pos_weights(struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                            const struct lstmsrc_train_config *cfg, const struct window_set *tw)
{
    const size_t train_windows = tw->total;
    const int K = m->k;
    for (int j = 0; j < K; j++) {
        if (m->task != LSTMSRC_TASK_MULTILABEL || cfg->pos_weight == LSTMSRC_POS_WEIGHT_NONE) {
            m->pos_weight[j] = 1.0f;
        } else if (cfg->pos_weight == LSTMSRC_POS_WEIGHT_MANUAL) {
            m->pos_weight[j] = cfg->pos_weights[j];
        } else {
            const size_t lab = window_label_row(0, m->seq_len, m->label_offset);
            size_t pos = 0;
            for (size_t r = 0; r < tw->n_runs; r++)
                for (size_t w = 0; w < tw->first[r + 1] - tw->first[r]; w++)
                    pos += ds->y[(tw->runs[r].start + w + lab) * K + j];
            double wgt = pos ? (double)(train_windows - pos) / (double)pos : 1.0;
            if (wgt > cfg->pos_weight_cap) wgt = cfg->pos_weight_cap;
            if (wgt < 1.0 / cfg->pos_weight_cap) wgt = 1.0 / cfg->pos_weight_cap;
            m->pos_weight[j] = (float)wgt;
        }
    }
}

/* The threshold rule's per-source thresholds (reading > t) for the best F1 over the training
 * rows, or every n-th of them past 2^20: its sort needs 16 bytes a row, which must not outgrow
 * the data itself. */
static enum lstmsrc_status fit_baseline(struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                        const struct window_set *tw, struct lstmsrc_error *err)
{
    const size_t rows = window_set_rows(tw), K = (size_t)m->k, F = (size_t)ds->f;
    const size_t every = rows > BASELINE_ROWS ? (rows + BASELINE_ROWS - 1) / BASELINE_ROWS : 1;
    const size_t n = (rows + every - 1) / every;
    const float *xs = ds->x;
    const uint8_t *ys = ds->y;
    size_t xstride = F * every, ystride = K * every;
    float *xg = NULL;
    uint8_t *yg = NULL;
    if (!(tw->n_runs == 1 && tw->runs[0].start == 0)) { /* segments: gather their rows */
        xg = xmalloc_n(n ? n : 1, sizeof *xg);
        yg = xmalloc_n(n ? n : 1, K);
        if (!xg || !yg) goto nomem;
        size_t i = 0, k = 0;
        for (size_t r = 0; r < tw->n_runs; r++)
            for (size_t row = tw->runs[r].start; row < tw->runs[r].start + tw->runs[r].len; row++)
                if (k++ % every == 0) {
                    xg[i] = ds->x[row * F];
                    memcpy(yg + i * K, ds->y + row * K, K);
                    i++;
                }
        xs = xg;
        ys = yg;
        xstride = 1;
        ystride = K;
    }
    float maxv = ds->x[tw->runs[0].start * F]; /* over every training row */
    for (size_t r = 0; r < tw->n_runs; r++)
        for (size_t row = tw->runs[r].start; row < tw->runs[r].start + tw->runs[r].len; row++)
            if (ds->x[row * F] > maxv) maxv = ds->x[row * F];
    for (size_t j = 0; j < K; j++) {
        double f1;
        if (best_f1_threshold(xs, xstride, ys + j, ystride, n, maxv, &m->base_threshold[j], &f1))
            goto nomem;
    }
    free(xg);
    free(yg);
    return LSTMSRC_OK;
nomem:
    free(xg);
    free(yg);
    return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
}

/* ============================== training ============================== */

/* Writes a checkpoint; a failure leaves the previous one intact and training goes on, the
 * caller's on_checkpoint hears either way. */
static void save_checkpoint(const struct lstmsrc_train_config *cfg, const struct ckpt_id *cid,
                            const struct ckpt_state *cs)
{
    struct lstmsrc_error e = {LSTMSRC_OK, ""};
    ckpt_save(cfg->checkpoint, cid, cs, &e);
    if (cfg->on_checkpoint) cfg->on_checkpoint(&e, cfg->checkpoint_user);
}

enum lstmsrc_status lstmsrc_train(const struct lstmsrc_dataset *ds,
                                  const struct lstmsrc_train_config *cfg,
                                  struct lstmsrc_model **out, struct lstmsrc_error *err)
{
    enum lstmsrc_status st = check_config(ds, cfg, err);
    if (st) return st;
    if (cfg->init && (st = check_init(ds, cfg, err))) return st;

    /* windows lie inside segments, and inside the training or the validation part */
    struct window_split sp;
    struct part trp = {0}, vap = {0};
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    if (!window_split_runs(runs, n_runs, ds->file_start, ds->n_files, ds->n, cfg->seq_len,
                           cfg->val_fraction, &sp, &trp.ws, &vap.ws))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the windows of %zu segments",
                         n_runs);
    if (sp.train_windows > UINT32_MAX || sp.train_windows == 0) {
        size_t tw = sp.train_windows, trows = window_set_rows(&trp.ws);
        part_free(&trp);
        part_free(&vap);
        if (tw) return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu training windows; supported: up to %u",
                                 ds->source, tw, (unsigned)UINT32_MAX);
        /* the data, not an option: exit 1, as plot and eval say it */
        if (n_runs != 1)
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: %zu training rows in %zu segments, none long enough for one "
                             "window of %d rows", ds->source, trows, n_runs, cfg->seq_len);
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu training rows, too few for one window of %d rows", ds->source,
                         sp.train_rows, cfg->seq_len);
    }

    struct lstmsrc_model *m = NULL;
    struct trainer *tr = NULL;
    float *adam_m = NULL, *adam_v = NULL, *best = NULL, *val_probs = NULL, *best_probs = NULL;
    uint32_t *order = NULL; /* 4 bytes a window: at 50M rows the order is the largest buffer */
    float *xc = NULL;       /* (n, channels) derived channels, when not the raw columns alone */
    size_t *bstarts = NULL;
    int interrupted = 0;

    const int channels = ds->f * model_feature_count(cfg->features);
    st = model_create(channels, cfg->hidden, cfg->layers,
                      cfg->init && cfg->bidirectional < 0 ? cfg->init->dirs
                                                          : train_directions(cfg), ds->k,
                      cfg->seq_len, ds->n_labels,
                      ds->task, ds->mode, &m, err);
    if (st) goto fail;
    int framed = model_set_framing(m, cfg->features, cfg->label_at);
    LSTMSRC_ASSERT(framed && m->n_raw == ds->f);
    m->meta.stride = cfg->stride;
    if (cfg->init) { /* where it started: the init model's name and file checksum */
        if ((st = model_file_crc(cfg->init, &m->init_crc, err))) goto fail;
        if (!(m->init_name = str_dup(cfg->init_name ? cfg->init_name : ""))) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    /* the reader's rules travel with the model: later files are read the same way */
    m->use_invalid_below = ds->use_invalid_below;
    m->invalid_below = ds->invalid_below;
    if (ds->time_kind && ds->period > 0.0) {
        if (!(m->time_name = str_dup(ds->time_name))) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
            goto fail;
        }
        m->period = ds->period;
        m->max_gap = ds->max_gap;
    }
    if (ds->on_above && ds->n_labels) {
        if (!(m->on_above = xmalloc_n((size_t)ds->n_labels, sizeof *m->on_above))) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(m->on_above, ds->on_above, (size_t)ds->n_labels * sizeof *m->on_above);
    }
    if (copy_names(m->input_names, m->f, ds->input_names, ds->f) ||
        (ds->n_labels && copy_names(m->label_names, ds->n_labels, ds->label_names, ds->n_labels)) ||
        copy_names(m->output_names, ds->k, ds->output_names, ds->k)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* Derived channels are computed once over the whole row sequence, before windowing, exactly
     * as prediction computes them; raw columns alone are used where they lie. */
    const float *x = ds->x;
    if (m->features != LSTMSRC_FEATURE_RAW) {
        if (!(xc = xcalloc_n(ds->n, (size_t)m->f * sizeof(float)))) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %d channels of %zu rows",
                           m->f, ds->n);
            goto fail;
        }
        /* each segment on its own, as if it were a file: no difference across a gap */
        for (size_t r = 0; r < n_runs; r++)
            model_channels(m, xc + runs[r].start * (size_t)m->f, ds->x + runs[r].start * (size_t)ds->f,
                           runs[r].len, NULL);
        x = xc;
        /* a step the float cannot hold (3.4e38 after -3.4e38) is named by its line now, not
         * found as a NaN loss in every epoch */
        if ((m->features & LSTMSRC_FEATURE_DIFF) && (st = dataset_check_diff(ds, err))) goto fail;
    }
    /* training windows: every stride-th one of the training part */
    const size_t stride = (size_t)cfg->stride;
    const size_t n_train = window_strided_count(sp.train_windows, cfg->stride);

    /* scaler and baselines from the training part only */
    if (cfg->init && !cfg->init_refit_scaler) { /* the init model's scaler, as it learnt on */
        memcpy(m->scale_mean, cfg->init->scale_mean, (size_t)m->f * sizeof *m->scale_mean);
        memcpy(m->scale_std, cfg->init->scale_std, (size_t)m->f * sizeof *m->scale_std);
    } else {
        scale_fit_runs(m->scale_mean, m->scale_std, x, &trp.ws, m->f);
    }
    if ((st = check_standardised(m, ds, x, err))) goto fail;
    fit_pos_weights(m, ds, cfg, &trp.ws);
    if (sp.val_windows && !part_labels(&vap, m, ds)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the validation labels");
        goto fail;
    }
    /* The baseline rule is fitted on every training row, or on every n-th row past 2^20 of
     * them: its sort needs 16 bytes a row, which must not outgrow the data itself. */
    if (m->task == LSTMSRC_TASK_MULTILABEL && (st = fit_baseline(m, ds, &trp.ws, err))) goto fail;

    struct rng rng;
    rng_seed(&rng, cfg->seed);
    size_t init_need = 0;
    if (cfg->init) {
        LSTMSRC_ASSERT(cfg->init->n_params == m->n_params);
        memcpy(m->params, cfg->init->params, m->n_params * sizeof *m->params);
    } else {
        init_need = model_init_params(m, &rng);
    }
    if (init_need) {
        st = set_error(err, LSTMSRC_ERR_NOMEM,
                       "out of memory for the weight initialisation (%zu bytes)", init_need);
        goto fail;
    }

    int nthreads = cfg->threads;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
    }
    if (nthreads > cfg->batch) nthreads = cfg->batch;

    tr = calloc(1, sizeof *tr);
    adam_m = xcalloc_n(m->n_params, sizeof(float));
    adam_v = xcalloc_n(m->n_params, sizeof(float));
    best = xmalloc_n(m->n_params, sizeof(float));
    order = xmalloc_n(n_train, sizeof *order);
    bstarts = xmalloc_n((size_t)cfg->batch, sizeof *bstarts);
    if (sp.val_windows) {
        val_probs = xmalloc_n(sp.val_windows, (size_t)m->k * sizeof(float));
        best_probs = xmalloc_n(sp.val_windows, (size_t)m->k * sizeof(float));
    }
    if (!tr || !adam_m || !adam_v || !best || !order || !bstarts ||
        (sp.val_windows && (!val_probs || !best_probs))) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for training state");
        goto fail;
    }
    tr->ds = ds;
    tr->x = x;
    tr->m = m;
    tr->cfg = cfg;
    tr->nthreads = nthreads;
    st = trainer_init(tr, err);
    if (st) goto fail;

    const int K = m->k;
    const float norm_div = m->task == LSTMSRC_TASK_MULTILABEL ? (float)K : 1.0f;
    float *grads = tr->grads;
    double best_val = INFINITY, best_f1 = -1.0;
    int best_epoch = 0, epochs_run = 0;
    long step = 0;
    memcpy(best, m->params, m->n_params * sizeof(float));

    /* checkpoints (checkpoint.h): what a resumed run restores instead of recomputing */
    struct ckpt_id cid;
    struct ckpt_state cs = {.params = m->params, .adam_m = adam_m, .adam_v = adam_v, .best = best};
    int first_epoch = 1;
    if (cfg->checkpoint || cfg->resume) ckpt_id_init(&cid, ds, cfg, m, nthreads, n_train);
    if (cfg->resume) {
        if ((st = ckpt_load(cfg->resume, &cid, &cs, err))) goto fail;
        model_weights_changed(m);
        first_epoch = cs.next_epoch;
        rng = cs.rng;
        step = cs.step;
        epochs_run = cs.epochs_run;
        best_epoch = cs.best_epoch;
        best_val = cs.best_val;
        best_f1 = cs.best_f1;
        /* the best epoch's validation outputs (for the thresholds) are recomputed from its
         * weights: same weights, batches and threads give the same bits */
        if (best_epoch > 0 && sp.val_windows) {
            float *cur = m->params;
            m->params = best;
            model_weights_changed(m);
            validate(tr, bstarts, &vap.ws, best_probs);
            m->params = cur;
            model_weights_changed(m);
        }
    }

    tr->stop = cfg->stop; /* from here to the end of the epochs a stop may cut a batch */
    double chunk_s = 0.0; /* the last step's time per round of chunks */
    for (int epoch = first_epoch; epoch <= cfg->epochs && !interrupted; epoch++) {
        /* a resumed run that had already stopped early stops again */
        if (cfg->patience > 0 && sp.val_windows && epoch - 1 - best_epoch >= cfg->patience) break;
        double t0 = now_seconds(), loss_sum = 0.0;
        size_t done = 0;
        struct rng epoch_rng = rng; /* a mid-epoch checkpoint redoes this epoch's shuffle */
        for (size_t i = 0; i < n_train; i++) order[i] = (uint32_t)i;
        rng_shuffle_u32(&rng, order, n_train);
        if (epoch == first_epoch && cfg->resume) {
            done = cs.done;
            loss_sum = cs.loss_sum;
        }
        for (size_t b0 = done; b0 < n_train; b0 += (size_t)cfg->batch) {
            int B = n_train - b0 < (size_t)cfg->batch ? (int)(n_train - b0) : cfg->batch;
            for (int b = 0; b < B; b++)
                bstarts[b] = window_set_start(&trp.ws, (size_t)order[b0 + (size_t)b] * stride);
            tr->starts = bstarts;
            tr->B = B;
            tr->norm = 1.0f / ((float)B * norm_div);
            const double ts = now_seconds();
            const double batch_loss = run_batch(tr, JOB_TRAIN);
            const int rounds = (tr->nchunks + tr->running - 1) / tr->running;
            chunk_s = (now_seconds() - ts) / (rounds > 0 ? rounds : 1);
            if (tr->cut) { /* stopped between chunks: this step never happened */
                interrupted = 1;
                break;
            }
            if (!isfinite(batch_loss)) { /* every later step would be NaN too: stop now */
                st = set_error(err, LSTMSRC_ERR_DIVERGED,
                               "%s: epoch %d, step %zu: the training loss is %s; nothing was kept "
                               "(a lower learning rate, gradient clipping or better-scaled "
                               "readings may help)",
                               ds->source, epoch, b0 / (size_t)cfg->batch + 1,
                               isnan(batch_loss) ? "NaN" : "infinite");
                goto fail;
            }
            loss_sum += batch_loss;
            if (cfg->clip > 0.0f) clip_grad_norm(grads, m->n_params, cfg->clip);
            adam_step(m->params, grads, adam_m, adam_v, m->n_params, cfg->lr, cfg->beta1,
                      cfg->beta2, cfg->eps, ++step);
            model_weights_changed(m);
            done += (size_t)B;
            if (cfg->progress) {
                struct lstmsrc_progress p = {epoch, cfg->epochs, done, n_train,
                                             now_seconds() - t0, loss_sum / ((double)done * norm_div),
                                             -1.0, -1.0, 0, 0, chunk_s};
                cfg->progress(&p, cfg->progress_user);
            }
            if (cfg->stop && *cfg->stop) {
                interrupted = 1;
                break;
            }
        }
        double vloss = -1.0, vf1 = -1.0;
        if (done == n_train && sp.val_windows) { /* validation runs whole: it scores the epoch */
            tr->stop = NULL;
            vloss = validate(tr, bstarts, &vap.ws, val_probs);
            tr->stop = cfg->stop;
        }
        if (interrupted && done < n_train) { /* a partial epoch is not scored */
            if (cfg->checkpoint) {
                cs = (struct ckpt_state){.next_epoch = epoch, .epochs_run = epochs_run,
                                         .best_epoch = best_epoch, .done = done, .step = step,
                                         .rng = epoch_rng, .loss_sum = loss_sum,
                                         .best_val = best_val, .best_f1 = best_f1,
                                         .params = m->params, .adam_m = adam_m,
                                         .adam_v = adam_v, .best = best};
                save_checkpoint(cfg, &cid, &cs);
            }
            break;
        }
        epochs_run = epoch;

        int improved = 0;
        if (sp.val_windows) {
            vf1 = val_macro_f1(m, &vap, val_probs, NULL);
            if (vf1 < 0.0) {
                st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory scoring validation");
                goto fail;
            }
            /* a diverged epoch (NaN loss) is never kept, whatever its F1 */
            if (cfg->select == LSTMSRC_SELECT_F1 ? !isnan(vloss) && vf1 > best_f1
                                                 : vloss < best_val) {
                improved = 1;
                best_val = vloss;
                best_f1 = vf1;
                best_epoch = epoch;
                memcpy(best, m->params, m->n_params * sizeof(float));
                memcpy(best_probs, val_probs, sp.val_windows * K * sizeof(float));
            }
        } else {
            improved = 1;
            best_epoch = epoch;
            memcpy(best, m->params, m->n_params * sizeof(float));
        }
        if (cfg->progress) {
            struct lstmsrc_progress p = {epoch, cfg->epochs, done, n_train,
                                         now_seconds() - t0, loss_sum / ((double)done * norm_div),
                                         vloss, vf1, 1, improved, chunk_s};
            cfg->progress(&p, cfg->progress_user);
        }
        if (cfg->checkpoint && (!cfg->checkpoint_on_stop_only || interrupted)) {
            cs = (struct ckpt_state){.next_epoch = epoch + 1, .epochs_run = epochs_run,
                                     .best_epoch = best_epoch, .step = step, .rng = rng,
                                     .best_val = best_val, .best_f1 = best_f1,
                                     .params = m->params, .adam_m = adam_m, .adam_v = adam_v,
                                     .best = best};
            save_checkpoint(cfg, &cid, &cs);
        }
        if (cfg->patience > 0 && sp.val_windows && epoch - best_epoch >= cfg->patience) break;
    }

    tr->stop = NULL; /* the rest runs to the end: the model is what a stop keeps */

    /* keep the best weights (cfg->select); tune thresholds on their validation output */
    if (best_epoch > 0) {
        memcpy(m->params, best, m->n_params * sizeof(float));
        model_weights_changed(m);
    }
    for (int j = 0; j < m->k; j++) m->threshold[j] = cfg->threshold;
    if (m->task == LSTMSRC_TASK_MULTILABEL && cfg->tune_thresholds && sp.val_windows &&
        best_epoch > 0) {
        if (tune_thresholds(tr, &vap, &trp, best_probs, bstarts)) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory tuning thresholds");
            goto fail;
        }
    }
    /* minimum durations after the thresholds, on the same validation output; multi-class
     * decisions are never filtered (1/1) */
    for (int j = 0; j < m->k && m->task == LSTMSRC_TASK_MULTILABEL && !cfg->tune_durations; j++) {
        m->min_on[j] = cfg->min_on;
        m->min_off[j] = cfg->min_off;
    }
    if (m->task == LSTMSRC_TASK_MULTILABEL && cfg->tune_durations && sp.val_windows &&
        best_epoch > 0 && tune_durations(m, &vap, best_probs)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory tuning minimum durations");
        goto fail;
    }
    /* what each part held of every output, for the caller's warnings (lstmsrc_validation_support) */
    if ((m->val_on = xcalloc_n((size_t)m->k, sizeof *m->val_on)) &&
        (m->train_on = xcalloc_n((size_t)m->k, sizeof *m->train_on))) {
        const size_t KK = (size_t)m->k, lab = window_label_row(0, m->seq_len, m->label_offset);
        for (size_t w = 0; w < vap.ws.total; w++) {
            if (vap.y)
                for (size_t j = 0; j < KK; j++) m->val_on[j] += vap.y[w * KK + j] != 0;
            else if (vap.cls && vap.cls[w] >= 0 && (size_t)vap.cls[w] < KK)
                m->val_on[vap.cls[w]]++;
        }
        for (size_t r = 0; r < trp.ws.n_runs; r++)
            for (size_t i = 0; i < trp.ws.first[r + 1] - trp.ws.first[r]; i++) {
                const size_t row = trp.ws.runs[r].start + i + lab;
                if (m->task == LSTMSRC_TASK_MULTILABEL)
                    for (size_t j = 0; j < KK; j++) m->train_on[j] += ds->y[row * KK + j] != 0;
                else if (ds->cls[row] >= 0 && (size_t)ds->cls[row] < KK)
                    m->train_on[ds->cls[row]]++;
            }
    }
    m->meta.seed = cfg->seed;
    m->meta.rows_train = sp.train_rows;
    m->meta.rows_val = sp.val_rows;
    m->meta.windows_train = n_train;
    m->meta.windows_val = sp.val_windows;
    m->meta.epochs_run = epochs_run;
    m->meta.best_epoch = best_epoch;
    m->meta.batch = cfg->batch;
    m->meta.threads = 0; /* not recorded: any thread count gives these bits */
    m->meta.lr = cfg->lr;
    m->meta.val_loss = sp.val_windows && best_epoch ? (float)best_val : -1.0f;
    m->meta.val_macro_f1 = sp.val_windows && best_epoch ? (float)best_f1 : -1.0f;

    st = interrupted ? set_error(err, LSTMSRC_ERR_INTERRUPTED,
                                 "interrupted after %d complete epoch%s", epochs_run,
                                 epochs_run == 1 ? "" : "s")
                     : LSTMSRC_OK;
    *out = m;
    m = NULL;
fail:
    if (tr) trainer_free(tr);
    free(tr);
    free(adam_m);
    free(adam_v);
    free(best);
    free(order);
    free(xc);
    free(bstarts);
    free(val_probs);
    free(best_probs);
    part_free(&trp);
    part_free(&vap);
    lstmsrc_model_free(m);
    return st;
}
