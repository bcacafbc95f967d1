/*
 * predict.c — running a trained model over windows: one core for every entry point. A data set
 * (lstmsrc_predict: its segments, windows never crossing one) and a caller's buffer of raw rows
 * (lstmsrc_predict_rows: one chunk of a file read in pieces) are both runs of raw rows with
 * their windows numbered in order (window.h's window_set); the core takes a range of those
 * windows in batches, computes the derived channels (first differences) of each batch's rows
 * only, so memory stays bounded by the batch whatever the data's size, standardises them with
 * the model's scaler as it gathers the windows, and runs the model.
 *
 * Each thread owns an inference workspace and its batch buffers and takes a contiguous range of
 * windows. An inference workspace computes every row independently of its batch, so the result
 * does not depend on the thread count or the batch size: it is the same bits whichever entry
 * point is used, and as a stream pushing the same rows one by one.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/window.h"
#include "nn/model.h"

#define MAX_THREADS 256
/* Windows per batch at most (a batch small enough to stay in L2 measured fastest, 64 over
 * 16..1024 for H=64), and the workspace bytes a batch may take. */
#define BATCH_MAX 64
#define WS_BUDGET ((size_t)8 << 20)
/* Fewer windows than this per thread are not worth a thread. */
#define MIN_PER_THREAD 512

/* One thread's share: windows [w0, w1) of set over the raw rows x. */
struct job {
    const struct lstmsrc_model *m;
    const float *x;    /* (rows, n_raw) raw readings */
    const float *prev; /* (n_raw) the raw row before x[0], or NULL: the first
                          difference of a run starting at row 0 */
    const struct window_set *set;
    float *probs; /* (set->total, K) */
    size_t w0, w1;
    int cap; /* windows per batch */
    enum lstmsrc_status st;
};

/* Bytes one window takes in an inference workspace of BATCH_MAX windows, and its input. */
static size_t bytes_per_window(const struct lstmsrc_model *m)
{
    size_t ws;
    if (!model_ws_bytes(m, BATCH_MAX, 0, &ws)) return 0;
    return ws / BATCH_MAX + 2 * (size_t)m->seq_len * (size_t)m->f * sizeof(float);
}

/* Derived channels of the rows that windows [w, w + B) of the batch read, into xc, and each
 * window's first row there into starts. The windows of one run share their rows; each run's
 * first row has no difference (0), except the run at row 0 of the rows after j->prev. */
static void batch_channels(const struct job *j, size_t w, int B, float *xc, size_t *starts)
{
    const struct lstmsrc_model *m = j->m;
    const struct window_set *set = j->set;
    const size_t R = (size_t)m->n_raw, F = (size_t)m->f, T = (size_t)m->seq_len;
    size_t used = 0; /* rows of xc filled */
    for (int b = 0; b < B;) {
        const size_t r = window_set_run(set, w + (size_t)b);
        const struct window_run *run = &set->runs[r];
        const size_t s0 = run->start + (w + (size_t)b - set->first[r]);
        size_t nb = set->first[r + 1] - (w + (size_t)b);
        if (nb > (size_t)(B - b)) nb = (size_t)(B - b);
        const float *pv = s0 > run->start ? j->x + (s0 - 1) * R : run->start == 0 ? j->prev : NULL;
        model_channels(m, xc + used * F, j->x + s0 * R, nb + T - 1, pv);
        for (size_t k = 0; k < nb; k++)
            starts[(size_t)b + k] = used + k;
        used += nb + T - 1;
        b += (int)nb;
    }
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
    /* derived channels of one batch's rows: at most T rows a window (each in its own run) */
    const int derived = m->features != LSTMSRC_FEATURE_RAW;
    float *xc = derived ? xmalloc_n((size_t)cap * (size_t)T, (size_t)m->f * sizeof(float)) : NULL;
    if (!ws || !starts || !xb || (derived && !xc)) {
        j->st = LSTMSRC_ERR_NOMEM;
        goto done;
    }
    for (size_t w = j->w0; w < j->w1; w += (size_t)cap) {
        int B = j->w1 - w < (size_t)cap ? (int)(j->w1 - w) : cap;
        if (derived) {
            batch_channels(j, w, B, xc, starts);
            window_gather(xb, xc, m->f, starts, B, T, m->scale_mean, m->scale_std);
        } else {
            for (int b = 0; b < B; b++)
                starts[b] = window_set_start(j->set, w + (size_t)b);
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

/* Every window of set into probs, over `threads` threads (0: all cores; fewer when there are
 * few windows). */
static enum lstmsrc_status predict_set(const struct lstmsrc_model *m, const float *x,
                                       const float *prev, const struct window_set *set,
                                       float *probs, int threads, struct lstmsrc_error *err)
{
    const size_t nw = set->total;
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
    for (int i = 0; i < threads; i++)
        jobs[i] = (struct job){m,
                               x,
                               prev,
                               set,
                               probs,
                               nw * (size_t)i / (size_t)threads,
                               nw * (size_t)(i + 1) / (size_t)threads,
                               (int)cap,
                               LSTMSRC_OK};
    /* threads 1..n-1 run beside the caller, which takes range 0; a thread that cannot start
     * leaves its range to the caller */
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&th[i], NULL, job_main, &jobs[i]) != 0) break;
        started = i;
    }
    run_job(&jobs[0]);
    for (int i = started + 1; i < threads; i++)
        run_job(&jobs[i]);
    for (int i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < threads; i++)
        if (jobs[i].st) return set_error(err, jobs[i].st, "out of memory for a prediction batch");
    return LSTMSRC_OK;
}

/* ============================== a data set ============================== */

/* Checks that ds carries the model's input channels, in order, by name. */
static enum lstmsrc_status check_inputs(const struct lstmsrc_model *m,
                                        const struct lstmsrc_dataset *ds, struct lstmsrc_error *err)
{
    if (ds->f != m->n_raw)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d input column%s, the model expects %d",
                         ds->source, ds->f, ds->f == 1 ? "" : "s", m->n_raw);
    for (int i = 0; i < m->n_raw; i++)
        if (m->input_names[i] && ds->input_names[i] &&
            strcmp(m->input_names[i], ds->input_names[i]))
            return set_error(err, LSTMSRC_ERR_ARG,
                             "%s: input column %d is \"%s\", the model expects \"%s\"", ds->source,
                             i + 1, ds->input_names[i], m->input_names[i]);
    return LSTMSRC_OK;
}

/* A per-file scaler: mean, std (m->f) of m's channels over the rows of runs clipped to
 * [lo, hi), each run's first difference starting at 0 as in training. */
static enum lstmsrc_status fit_rows(const struct lstmsrc_model *m, const float *x,
                                    const struct window_run *runs, size_t n_runs, size_t lo,
                                    size_t hi, float *mean, float *std, struct lstmsrc_error *err)
{
    const size_t R = (size_t)m->n_raw, F = (size_t)m->f;
    size_t rows = 0;
    for (size_t r = 0; r < n_runs; r++) {
        size_t a = runs[r].start < lo ? lo : runs[r].start;
        size_t b = runs[r].start + runs[r].len > hi ? hi : runs[r].start + runs[r].len;
        if (b > a) rows += b - a;
    }
    float *xc = xmalloc_n(rows ? rows : 1, F * sizeof *xc);
    if (!xc)
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the scaler of %zu rows", rows);
    size_t used = 0;
    for (size_t r = 0; r < n_runs; r++) {
        size_t a = runs[r].start < lo ? lo : runs[r].start;
        size_t b = runs[r].start + runs[r].len > hi ? hi : runs[r].start + runs[r].len;
        if (b <= a) continue;
        model_channels(m, xc + used * F, x + a * R, b - a, NULL);
        used += b - a;
    }
    scale_fit(mean, std, xc, rows, m->f);
    free(xc);
    return LSTMSRC_OK;
}

/* A per-file model over ds: each file's windows with that file's own scaler, on a view of m
 * that differs only in it. */
static enum lstmsrc_status predict_per_file(const struct lstmsrc_model *m,
                                            const struct lstmsrc_dataset *ds,
                                            const struct window_run *runs, size_t n_runs,
                                            float *probs, struct lstmsrc_error *err)
{
    struct lstmsrc_model v = *m;
    v.scale_mean = xmalloc_n((size_t)m->f, sizeof(float));
    v.scale_std = xmalloc_n((size_t)m->f, sizeof(float));
    enum lstmsrc_status st = LSTMSRC_OK;
    if (!v.scale_mean || !v.scale_std)
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a per-file scaler");
    const size_t nf = ds->n_files ? ds->n_files : 1;
    size_t done = 0;
    for (size_t i = 0; !st && i < nf; i++) {
        const size_t lo = ds->n_files ? ds->file_start[i] : 0;
        const size_t hi = ds->n_files && i + 1 < nf ? ds->file_start[i + 1] : ds->n;
        struct window_set set;
        if ((st = fit_rows(m, ds->x, runs, n_runs, lo, hi, v.scale_mean, v.scale_std, err))) break;
        if (!window_set_init(&set, runs, n_runs, m->seq_len, lo, hi)) {
            st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %zu segments", n_runs);
            break;
        }
        if (set.total) st = predict_set(&v, ds->x, NULL, &set, probs + done * (size_t)m->k, 1, err);
        done += set.total;
        window_set_free(&set);
    }
    free(v.scale_mean);
    free(v.scale_std);
    return st;
}

enum lstmsrc_status lstmsrc_model_scaler_fit(struct lstmsrc_model *m,
                                             const struct lstmsrc_dataset *ds,
                                             struct lstmsrc_error *err)
{
    if (!m->scaler_per_file)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "the model has the global scaler; only a per-file model fits one "
                         "to a recording");
    enum lstmsrc_status st = check_inputs(m, ds, err);
    if (st) return st;
    if ((m->features & LSTMSRC_FEATURE_DIFF) && (st = dataset_check_diff(ds, err))) return st;
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    return fit_rows(m, ds->x, runs, n_runs, 0, ds->n, m->scale_mean, m->scale_std, err);
}

enum lstmsrc_status lstmsrc_predict(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                    float *probs, size_t windows, struct lstmsrc_error *err)
{
    enum lstmsrc_status st = check_inputs(m, ds, err);
    if (st) return st;
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    size_t nw = lstmsrc_dataset_windows(ds, m->seq_len);
    if (nw == 0 && n_runs <= 1)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu rows, shorter than the model's window of %d", ds->source, ds->n,
                         m->seq_len);
    if (nw == 0)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu segments, none as long as the model's window of %d rows",
                         ds->source, n_runs, m->seq_len);
    if (windows != nw)
        return set_error(err, LSTMSRC_ERR_ARG, "output room for %zu windows, data has %zu", windows,
                         nw);
    if ((m->features & LSTMSRC_FEATURE_DIFF) && (st = dataset_check_diff(ds, err))) return st;
    if (m->scaler_per_file) return predict_per_file(m, ds, runs, n_runs, probs, err);
    struct window_set set;
    if (!window_set_init(&set, runs, n_runs, m->seq_len, 0, ds->n))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %zu segments", n_runs);
    LSTMSRC_ASSERT(set.total == nw);
    st = predict_set(m, ds->x, NULL, &set, probs, 1, err);
    window_set_free(&set);
    return st;
}

/* ============================== a buffer of rows ============================== */

enum lstmsrc_status lstmsrc_predict_rows(const struct lstmsrc_model *m, const float *x, size_t rows,
                                         float *probs, size_t windows, int threads,
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
    const struct window_run all = {0, rows};
    struct window_set set;
    if (!window_set_init(&set, &all, 1, m->seq_len, 0, rows))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a prediction batch");
    enum lstmsrc_status st = predict_set(m, x, prev, &set, probs, threads, err);
    window_set_free(&set);
    return st;
}
