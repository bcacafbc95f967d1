/*
 * pool.c — the threads that run a mini-batch: a training step's gradient (TRAIN_JOB_STEP) or
 * the model's output on a batch of windows (TRAIN_JOB_EVAL). The batch is cut into fixed
 * chunks, which the threads take as they get free; each thread has its own workspace, each
 * chunk its own gradient buffer, and the buffers are summed in chunk order once per step; the
 * cut depends on the batch and the model, not on the thread count, so a given seed gives the
 * same model bytes on any number of threads. Several processes (struct lstmsrc_comm) each run
 * a contiguous share of the chunks and exchange the results, which every process then sums in
 * the same chunk order: the same bytes on any number of processes too. Nothing allocates after
 * train_pool_start.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/window.h"
#include "nn/head.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "train/trainer.h"

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

static void run_chunk(struct train_worker *w, int c)
{
    struct train_pool *pool = w->pool;
    const struct lstmsrc_model *m = pool->m;
    const struct lstmsrc_dataset *ds = pool->ds;
    const int T = m->seq_len, K = m->k, multi = m->task == LSTMSRC_TASK_MULTILABEL;
    const size_t lab = window_label_row(0, T, m->label_offset); /* labelled row in a window */
    const int r0 = c * pool->chunk, B = pool->B - r0 < pool->chunk ? pool->B - r0 : pool->chunk;
    const size_t *st = pool->starts + r0;
    window_gather(w->xb, pool->x, m->f, st, B, T, m->scale_mean, m->scale_std);
    if (multi)
        for (int b = 0; b < B; b++) {
            const uint8_t *y = ds->y + (st[b] + lab) * (size_t)K;
            for (int j = 0; j < K; j++)
                w->yb[(size_t)b * K + j] = y[j];
        }
    else
        for (int b = 0; b < B; b++)
            w->cb[b] = ds->cls[st[b] + lab];
    if (pool->job == TRAIN_JOB_STEP) {
        float *g = pool->grads + (size_t)c * m->n_params;
        memset(g, 0, m->n_params * sizeof *g);
        pool->loss[c] = model_train_step(m, w->ws, g, w->xb, multi ? w->yb : NULL,
                                         multi ? NULL : w->cb, B, pool->norm);
        return;
    }
    const float *logits = model_forward(m, w->ws, w->xb, B);
    pool->loss[c] =
        multi ? loss_bce_logits(w->dlogits, logits, w->yb, m->pos_weight, B, K, pool->norm)
              : loss_softmax_ce(w->dlogits, logits, w->cb, B, K, pool->norm);
    float *out = pool->probs + (size_t)r0 * K;
    memcpy(out, logits, (size_t)B * K * sizeof *out);
    model_probs(m, out, B);
}

/* The next chunk of the current job, or -1 when all are taken or a stop was requested (the
 * batch is then left unfinished: pool->cut). */
static int take_chunk(struct train_pool *pool)
{
    int c;
    if (pool->running > 1) pthread_mutex_lock(&pool->mu);
    if (pool->next < pool->c1 && pool->stop && *pool->stop) pool->cut = 1;
    c = !pool->cut && pool->next < pool->c1 ? pool->next++ : -1;
    if (pool->running > 1) pthread_mutex_unlock(&pool->mu);
    return c;
}

static void run_chunks(struct train_worker *w)
{
    int c;
    while ((c = take_chunk(w->pool)) >= 0)
        run_chunk(w, c);
}

static void *worker_main(void *arg)
{
    struct train_worker *w = arg;
    struct train_pool *pool = w->pool;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        while (pool->gen == seen)
            pthread_cond_wait(&pool->go, &pool->mu);
        seen = pool->gen;
        enum train_job job = pool->job;
        pthread_mutex_unlock(&pool->mu);
        if (job == TRAIN_JOB_QUIT) break;
        run_chunks(w);
        pthread_mutex_lock(&pool->mu);
        if (--pool->pending == 0) pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->mu);
    }
    return NULL;
}

/* Hands `job` to every worker thread (they read the batch fields set before this call). */
static void pool_dispatch(struct train_pool *pool, enum train_job job)
{
    pthread_mutex_lock(&pool->mu);
    pool->job = job;
    pool->pending = pool->running - 1;
    pool->gen++;
    pthread_cond_broadcast(&pool->go);
    pthread_mutex_unlock(&pool->mu);
}

/* One process alone: its block is every block, nothing to exchange. */
static int self_allgather(void *user, void *buf, const size_t *counts)
{
    (void)user, (void)buf, (void)counts;
    return 0;
}
static const struct lstmsrc_comm comm_self = {.rank = 0, .size = 1, .allgather = self_allgather};

/* The first chunk of process r's share of n chunks (contiguous shares, in rank order). */
static int share_start(const struct lstmsrc_comm *comm, int n, int r)
{
    return (int)((long long)n * r / comm->size);
}

int train_pool_any(struct train_pool *pool, int flag)
{
    const struct lstmsrc_comm *comm = pool->comm;
    for (int r = 0; r < comm->size; r++)
        pool->xcount[r] = sizeof(double);
    pool->xsmall[comm->rank] = flag ? 1.0 : 0.0;
    if (comm->allgather(comm->user, pool->xsmall, pool->xcount)) {
        pool->comm_failed = pool->cut = 1;
        return 1;
    }
    int any = 0;
    for (int r = 0; r < comm->size; r++)
        any |= pool->xsmall[r] != 0.0;
    return any;
}

/* After the chunks: every process's stop flag and chunk losses, then its chunk gradients
 * (TRAIN_JOB_STEP) or output rows (TRAIN_JOB_EVAL), so that each holds the whole batch's. A
 * stop seen by any process cuts the batch in all. Returns 0, or -1 when an exchange failed. */
static int pool_exchange(struct train_pool *pool)
{
    const struct lstmsrc_comm *comm = pool->comm;
    const int P = comm->size, n = pool->nchunks;
    double *x = pool->xsmall;
    for (int r = 0; r < P; r++) /* block r: its flag, then its chunks' losses */
        pool->xcount[r] =
            (size_t)(1 + share_start(comm, n, r + 1) - share_start(comm, n, r)) * sizeof *x;
    double *mine = x + comm->rank + pool->c0;
    mine[0] = pool->cut;
    for (int c = pool->c0; c < pool->c1; c++)
        mine[1 + c - pool->c0] = pool->loss[c];
    if (comm->allgather(comm->user, x, pool->xcount)) return -1;
    for (int r = 0; r < P; r++) {
        const int a = share_start(comm, n, r), b = share_start(comm, n, r + 1);
        if (x[r + a] != 0.0) pool->cut = 1;
        for (int c = a; c < b; c++)
            pool->loss[c] = x[r + 1 + c];
    }
    if (pool->cut || P == 1) return 0;
    const size_t np = pool->m->n_params, K = (size_t)pool->m->k;
    for (int r = 0; r < P; r++) {
        const int a = share_start(comm, n, r), b = share_start(comm, n, r + 1);
        if (pool->job == TRAIN_JOB_STEP)
            pool->xcount[r] = (size_t)(b - a) * np * sizeof(float);
        else { /* rows a * chunk up to b * chunk, the last chunk maybe short */
            const int ra = a * pool->chunk,
                      rb = b * pool->chunk < pool->B ? b * pool->chunk : pool->B;
            pool->xcount[r] = b > a ? (size_t)(rb - ra) * K * sizeof(float) : 0;
        }
    }
    void *buf = pool->job == TRAIN_JOB_STEP ? (void *)pool->grads : (void *)pool->probs;
    return comm->allgather(comm->user, buf, pool->xcount) ? -1 : 0;
}

/* The calling thread takes chunks too (it is worker 0), then waits for the others; then the
 * processes exchange their chunks' results. */
double train_pool_run(struct train_pool *pool, enum train_job job)
{
    const struct lstmsrc_comm *comm = pool->comm;
    pool->job = job;
    pool->nchunks = (pool->B + pool->chunk - 1) / pool->chunk;
    pool->c0 = share_start(comm, pool->nchunks, comm->rank);
    pool->c1 = share_start(comm, pool->nchunks, comm->rank + 1);
    pool->next = pool->c0;
    pool->cut = 0;
    if (pool->running > 1) pool_dispatch(pool, job);
    run_chunks(&pool->w[0]);
    if (pool->running > 1) {
        pthread_mutex_lock(&pool->mu);
        while (pool->pending > 0)
            pthread_cond_wait(&pool->done, &pool->mu);
        pthread_mutex_unlock(&pool->mu);
    }
    if (pool_exchange(pool)) pool->comm_failed = pool->cut = 1;
    if (pool->cut) return NAN;
    double loss = 0.0;
    for (int c = 0; c < pool->nchunks; c++)
        loss += pool->loss[c];
    if (job == TRAIN_JOB_STEP) {
        const size_t n = pool->m->n_params;
        for (int c = 1; c < pool->nchunks; c++) {
            const float *g = pool->grads + (size_t)c * n;
            for (size_t p = 0; p < n; p++)
                pool->grads[p] += g[p];
        }
    }
    return loss;
}

void train_pool_free(struct train_pool *pool)
{
    if (pool->running > 1) {
        pool_dispatch(pool, TRAIN_JOB_QUIT);
        for (int i = 1; i < pool->running; i++)
            pthread_join(pool->th[i], NULL);
    }
    pool->running = 0;
    if (pool->sync_ok) {
        pthread_mutex_destroy(&pool->mu);
        pthread_cond_destroy(&pool->go);
        pthread_cond_destroy(&pool->done);
    }
    free(pool->grads);
    free(pool->loss);
    free(pool->xcount);
    free(pool->xsmall);
    for (int i = 0; i < pool->nthreads; i++) {
        struct train_worker *w = &pool->w[i];
        model_ws_free(w->ws);
        free(w->xb);
        free(w->yb);
        free(w->cb);
        free(w->dlogits);
    }
}

enum lstmsrc_status train_pool_start(struct train_pool *pool, int batch, struct lstmsrc_error *err)
{
    const struct lstmsrc_model *m = pool->m;
    pool->batch = batch;
    const int cap = pool->chunk = chunk_rows(batch, row_macs(m));
    pool->max_chunks = (batch + cap - 1) / cap;
    pool->grads = xmalloc_n((size_t)pool->max_chunks, m->n_params * sizeof(float));
    pool->loss = xmalloc_n((size_t)pool->max_chunks, sizeof *pool->loss);
    if (!pool->comm) pool->comm = &comm_self;
    const size_t P = (size_t)pool->comm->size;
    pool->xcount = xmalloc_n(P, sizeof *pool->xcount);
    pool->xsmall = xmalloc_n((size_t)pool->max_chunks + P, sizeof *pool->xsmall);
    if (!pool->grads || !pool->loss || !pool->xcount || !pool->xsmall)
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the training gradients");
    for (int i = 0; i < pool->nthreads; i++) {
        struct train_worker *w = &pool->w[i];
        w->pool = pool;
        w->id = i;
        w->ws = model_ws_create(m, cap, 1);
        w->xb = xmalloc_n((size_t)cap * m->seq_len, (size_t)m->f * sizeof(float));
        w->yb = xmalloc_n((size_t)cap, (size_t)m->k * sizeof(float));
        w->cb = xmalloc_n((size_t)cap, sizeof(int32_t));
        w->dlogits = xmalloc_n((size_t)cap, (size_t)m->k * sizeof(float));
        if (!w->ws || !w->xb || !w->yb || !w->cb || !w->dlogits)
            return set_error(err, LSTMSRC_ERR_NOMEM,
                             "out of memory for the training workspace (batch %d, window %d, "
                             "hidden %d)",
                             batch, m->seq_len, m->h);
    }
    pool->running = 1;
    if (pool->nthreads == 1) return LSTMSRC_OK;
    if (pthread_mutex_init(&pool->mu, NULL)) return set_error(err, LSTMSRC_ERR_NOMEM, "no mutex");
    if (pthread_cond_init(&pool->go, NULL)) {
        pthread_mutex_destroy(&pool->mu);
        return set_error(err, LSTMSRC_ERR_NOMEM, "no condition variable");
    }
    if (pthread_cond_init(&pool->done, NULL)) {
        pthread_cond_destroy(&pool->go);
        pthread_mutex_destroy(&pool->mu);
        return set_error(err, LSTMSRC_ERR_NOMEM, "no condition variable");
    }
    pool->sync_ok = 1;
    for (int i = 1; i < pool->nthreads; i++) {
        if (pthread_create(&pool->th[i], NULL, worker_main, &pool->w[i]))
            return set_error(err, LSTMSRC_ERR_NOMEM, "cannot start training thread %d of %d", i + 1,
                             pool->nthreads);
        pool->running = i + 1;
    }
    return LSTMSRC_OK;
}
