/*
 * predict_rows.c — prediction over a caller's buffer of raw rows (one chunk of a file that is
 * read in pieces), split over threads, and the decision rule that turns probabilities into
 * ON/OFF or a class.
 *
 * Each thread owns an inference workspace and a gather buffer and takes a contiguous range of
 * windows in batches. An inference workspace computes every row independently of its batch, so
 * the result does not depend on the thread count or the batch size: it is the same bits as
 * lstmsrc_predict and as a stream pushing the same rows one by one.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "model.h"
#include "window.h"

#define MAX_THREADS 256
/* Windows per batch at most (a batch small enough to stay in L2 measured fastest, 64 over
 * 16..1024 for H=64), and the workspace bytes a batch may take. */
#define BATCH_MAX 64
#define WS_BUDGET ((size_t)8 << 20)
/* Fewer windows than this per thread are not worth a thread. */
#define MIN_PER_THREAD 512

struct job {
    const struct lstmsrc_model *m;
    const float *prev;  /* (n_raw) raw row before x[0], or NULL */
    const float *x;
    float *probs;
    size_t w0, w1;      /* windows [w0, w1) */
    int cap;            /* batch size */
    enum lstmsrc_status st;
};

/* Bytes one window takes in an inference workspace of BATCH_MAX windows, and its input. */
static size_t bytes_per_window(const struct lstmsrc_model *m)
{
    size_t ws;
    if (!model_ws_bytes(m, BATCH_MAX, 0, &ws)) return 0;
    return ws / BATCH_MAX + (size_t)m->seq_len * (size_t)m->f * sizeof(float);
}

static void run_job(struct job *j)
{
    const struct lstmsrc_model *m = j->m;
    const int T = m->seq_len, K = m->k;
    j->st = LSTMSRC_OK;
    if (j->w1 <= j->w0) return;
    size_t n = j->w1 - j->w0;
    int cap = n < (size_t)j->cap ? (int)n : j->cap;
    struct model_ws *ws = model_ws_create(m, cap, 0);
    size_t *starts = xmalloc_n((size_t)cap, sizeof *starts);
    float *xb = xmalloc_n((size_t)cap * (size_t)T, (size_t)m->f * sizeof(float));
    /* derived channels of one batch's rows (cap + T - 1 of them), so memory stays bounded */
    const int derived = m->features != LSTMSRC_FEATURE_RAW;
    float *xc = derived ? xmalloc_n((size_t)cap + (size_t)T - 1, (size_t)m->f * sizeof(float))
                        : NULL;
    if (!ws || !starts || !xb || (derived && !xc)) {
        j->st = LSTMSRC_ERR_NOMEM;
        goto done;
    }
    const size_t R = (size_t)m->n_raw;
    for (size_t w = j->w0; w < j->w1; w += (size_t)cap) {
        int B = j->w1 - w < (size_t)cap ? (int)(j->w1 - w) : cap;
        if (derived) {
            model_channels(m, xc, j->x + w * R, (size_t)B + (size_t)T - 1,
                           w ? j->x + (w - 1) * R : j->prev);
            for (int b = 0; b < B; b++) starts[b] = (size_t)b;
            window_gather(xb, xc, m->f, starts, B, T, m->scale_mean, m->scale_std);
        } else {
            for (int b = 0; b < B; b++) starts[b] = w + (size_t)b;
            window_gather(xb, j->x, m->f, starts, B, T, m->scale_mean, m->scale_std);
        }
        const float *logits = model_forward(m, ws, xb, B);
        float *out = j->probs + w * (size_t)K;
        memcpy(out, logits, (size_t)B * (size_t)K * sizeof *out);
        model_probs(m, out, B);
    }
done:
    model_ws_free(ws);
    free(starts);
    free(xb);
    free(xc);
}

static void *job_main(void *arg)
{
    run_job(arg);
    return NULL;
}

enum lstmsrc_status lstmsrc_predict_rows(const struct lstmsrc_model *m, const float *x,
                                         size_t rows, float *probs, size_t windows, int threads,
                                         struct lstmsrc_error *err)
{
    return lstmsrc_predict_rows_after(m, NULL, x, rows, probs, windows, threads, err);
}

enum lstmsrc_status lstmsrc_predict_rows_after(const struct lstmsrc_model *m, const float *prev,
                                               const float *x, size_t rows, float *probs,
                                               size_t windows, int threads,
                                               struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && (x || rows == 0) && (probs || windows == 0));
    size_t nw = window_count(rows, m->seq_len);
    if (nw == 0)
        return set_error(err, LSTMSRC_ERR_ARG, "%zu rows, shorter than the model's window of %d",
                         rows, m->seq_len);
    if (windows != nw)
        return set_error(err, LSTMSRC_ERR_ARG, "output room for %zu windows, the rows hold %zu",
                         windows, nw);
    if (threads < 0 || threads > MAX_THREADS)
        return set_error(err, LSTMSRC_ERR_ARG, "threads %d; supported: 0 (all cores) to %d",
                         threads, MAX_THREADS);
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
    }
    size_t most = nw / MIN_PER_THREAD;
    if (most < 1) most = 1;
    if ((size_t)threads > most) threads = (int)most;

    size_t per = bytes_per_window(m);
    size_t cap = per ? WS_BUDGET / per : BATCH_MAX;
    if (cap > BATCH_MAX) cap = BATCH_MAX;
    if (cap < 1) cap = 1;

    struct job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){m, prev, x, probs, nw * (size_t)i / (size_t)threads,
                               nw * (size_t)(i + 1) / (size_t)threads, (int)cap, LSTMSRC_OK};
    }
    /* threads 1..n-1 run beside the caller, which takes range 0; a thread that cannot start
     * leaves its range to the caller */
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0) break;
        started = i;
    }
    run_job(&jobs[0]);
    for (int i = started + 1; i < threads; i++) run_job(&jobs[i]);
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < threads; i++)
        if (jobs[i].st) return set_error(err, jobs[i].st, "out of memory for a prediction batch");
    return LSTMSRC_OK;
}

void lstmsrc_decide(const struct lstmsrc_model *m, const float *probs, size_t windows,
                    uint8_t *on)
{
    const int K = m->k;
    for (size_t w = 0; w < windows; w++) {
        const float *p = probs + w * (size_t)K;
        uint8_t *o = on + w * (size_t)K;
        if (m->task == LSTMSRC_TASK_MULTILABEL) {
            for (int j = 0; j < K; j++) o[j] = p[j] > m->threshold[j];
        } else {
            int best = 0;
            for (int j = 1; j < K; j++)
                if (p[j] > p[best]) best = j;
            for (int j = 0; j < K; j++) o[j] = j == best;
        }
    }
}
