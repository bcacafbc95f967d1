/*
 * validate.c — a part of the data (training or validation) as windows and their labels; the
 * model's output and loss over a part's windows (the validation pass, run whole every epoch);
 * its macro F1; and what is tuned on the best epoch's validation output once training ends:
 * per-source decision thresholds and minimum on/off durations.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/window.h"
#include "nn/model.h"
#include "post/durations.h"
#include "post/metrics.h"
#include "train/trainer.h"

void train_part_free(struct train_part *p)
{
    window_set_free(&p->ws);
    free(p->y);
    free(p->cls);
    p->y = NULL;
    p->cls = NULL;
}

/* Gathers the labels of p's windows (their labelled rows). Returns 0 on out of memory. */
int train_part_labels(struct train_part *p, const struct lstmsrc_model *m,
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
double train_macro_f1(const struct lstmsrc_model *m, const struct train_part *p, const float *probs,
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

/* In batches of the pool's size; the loss is normalised once, over all nw windows. */
double train_eval_windows(struct train_pool *pool, size_t *starts, const struct window_set *ws,
                          float *probs)
{
    const int K = pool->m->k;
    const int bs = pool->batch;
    const size_t nw = ws->total;
    double loss = 0.0;
    for (size_t w0 = 0; w0 < nw; w0 += (size_t)bs) {
        int B = nw - w0 < (size_t)bs ? (int)(nw - w0) : bs;
        for (int b = 0; b < B; b++)
            starts[b] = window_set_start(ws, w0 + (size_t)b);
        pool->starts = starts;
        pool->B = B;
        pool->norm = 1.0f;
        pool->probs = probs + w0 * K;
        loss += train_pool_run(pool, TRAIN_JOB_EVAL);
        if (pool->cut) return NAN; /* a stop request: the pass is incomplete */
    }
    return loss / ((double)nw * (pool->m->task == LSTMSRC_TASK_MULTILABEL ? K : 1));
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
enum lstmsrc_status train_tune_thresholds(struct train_pool *pool, struct lstmsrc_model *m,
                                          const struct train_part *val, struct train_part *train,
                                          const float *val_probs, size_t *bstarts)
{
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
            if (!train_probs || (!train->y && !train_part_labels(train, m, pool->ds))) goto nomem;
            train_eval_windows(pool, bstarts, &train->ws, train_probs);
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
enum lstmsrc_status train_tune_durations(struct lstmsrc_model *m, const struct train_part *val,
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
