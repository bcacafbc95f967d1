/*
 * train.c — the training loop, lstmsrc_train, as stages over one struct trainer (trainer.h):
 *   setup                 the split, the model, scaler and baselines, the buffers (setup.c)
 *   epoch                 shuffled mini-batches, an Adam step each, progress, a stop request
 *   validate, keep best   the validation pass, the epoch's score, the best epoch's weights kept
 *                         (lowest validation loss or highest validation macro F1, cfg->select)
 *   checkpoint            what a resumed run needs to end with the same bytes
 *   finish                the best weights restored, thresholds and durations tuned on their
 *                         validation output, what the run was recorded, the model handed out
 * with early stopping between epochs (cfg->patience). Threads run each batch in fixed chunks
 * (pool.c), so a given seed gives the same model bytes on any number of threads. Nothing
 * allocates inside the step loop. It does not parse files or print: progress goes to the
 * caller's callback.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/window.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "train/trainer.h"

/* Hands the caller's callback where the current epoch stands; at its end (end = 1) with its
 * validation scores. */
static void report_progress(const struct trainer *t, int end)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    if (!cfg->progress) return;
    struct lstmsrc_progress p = {.epoch = t->epoch,
                                 .epochs = cfg->epochs,
                                 .done = t->done,
                                 .total = t->n_train,
                                 .seconds = now_seconds() - t->t0,
                                 .loss = t->loss_sum / ((double)t->done * t->norm_div),
                                 .val_loss = end ? t->vloss : -1.0,
                                 .val_f1 = end ? t->vf1 : -1.0,
                                 .end_of_epoch = end,
                                 .improved = end ? t->improved : 0,
                                 .chunk_seconds = t->chunk_s};
    cfg->progress(&p, cfg->progress_user);
}

/* The moving average after step `step` (>= 1): avg += (1 - d) (w - avg), d = min(ema, (1 + step)
 * / (10 + step)), so the first steps, far from where training goes, weigh less for longer. */
static void ema_update(float *avg, const float *w, size_t n, float ema, long step)
{
    const float warm = (float)((1.0 + (double)step) / (10.0 + (double)step));
    const float a = 1.0f - (warm < ema ? warm : ema);
    for (size_t i = 0; i < n; i++)
        avg[i] += a * (w[i] - avg[i]);
}

/* With cfg->ema, the model's weights become the average (in = 1) for validating and keeping,
 * and the raw ones again after (in = 0). */
static void ema_swap(struct trainer *t, int in)
{
    struct lstmsrc_model *m = t->m;
    if (!t->avg) return;
    if (in) {
        memcpy(t->raw, m->params, m->n_params * sizeof(float));
        memcpy(m->params, t->avg, m->n_params * sizeof(float));
    } else {
        memcpy(m->params, t->raw, m->n_params * sizeof(float));
    }
    model_weights_changed(m);
}

/* An exchange between the training processes failed (struct lstmsrc_comm). */
static enum lstmsrc_status comm_error(const struct trainer *t, struct lstmsrc_error *err)
{
    return set_error(err, LSTMSRC_ERR_IO,
                     "%s: epoch %d: process %d of %d: the exchange with the other training "
                     "processes failed",
                     t->ds->source, t->epoch, t->pool->comm->rank + 1, t->pool->comm->size);
}

/* One mini-batch from window b0 of the shuffled order: its gradient over the pool, clipping,
 * an Adam step, progress. A stop request seen between chunks leaves the weights as they were
 * (the step never happened); one seen after the step ends the epoch there. A loss that is not
 * finite is LSTMSRC_ERR_DIVERGED. */
static enum lstmsrc_status train_step(struct trainer *t, size_t b0, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    struct train_pool *pool = t->pool;
    const int B = t->n_train - b0 < (size_t)cfg->batch ? (int)(t->n_train - b0) : cfg->batch;
    for (int b = 0; b < B; b++)
        t->starts[b] = window_set_start(&t->train.ws, (size_t)t->order[b0 + (size_t)b] * t->stride);
    pool->starts = t->starts;
    pool->B = B;
    pool->norm = 1.0f / ((float)B * t->norm_div);
    const double ts = now_seconds();
    const double batch_loss = train_pool_run(pool, TRAIN_JOB_STEP);
    const int rounds = (pool->c1 - pool->c0 + pool->running - 1) / pool->running;
    t->chunk_s = (now_seconds() - ts) / (rounds > 0 ? rounds : 1);
    if (pool->comm_failed) return comm_error(t, err);
    if (pool->cut) { /* stopped between chunks: this step never happened */
        t->interrupted = 1;
        return LSTMSRC_OK;
    }
    if (!isfinite(batch_loss)) /* every later step would be NaN too: stop now */
        return set_error(err, LSTMSRC_ERR_DIVERGED,
                         "%s: epoch %d, step %zu: the training loss is %s; nothing was kept "
                         "(a lower learning rate, gradient clipping or better-scaled "
                         "readings may help)",
                         t->ds->source, t->epoch, b0 / (size_t)cfg->batch + 1,
                         isnan(batch_loss) ? "NaN" : "infinite");
    t->loss_sum += batch_loss;
    if (cfg->clip > 0.0f) clip_grad_norm(pool->grads, m->n_params, cfg->clip);
    adam_step(m->params, pool->grads, t->adam_m, t->adam_v, m->n_params, cfg->lr, cfg->beta1,
              cfg->beta2, cfg->eps, ++t->step);
    if (t->avg) ema_update(t->avg, m->params, m->n_params, cfg->ema, t->step);
    model_weights_changed(m);
    t->done += (size_t)B;
    report_progress(t, 0);
    /* every process stops after the same step */
    if (train_pool_any(pool, cfg->stop && *cfg->stop)) t->interrupted = 1;
    return pool->comm_failed ? comm_error(t, err) : LSTMSRC_OK;
}

/* The epoch stage: the training windows shuffled, then a step per mini-batch until they are
 * done or a stop request ends the epoch early (t->interrupted). The first epoch of a resumed
 * run redoes the shuffle and skips the windows its checkpoint had already trained. */
static enum lstmsrc_status train_epoch(struct trainer *t, int epoch, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    enum lstmsrc_status st;
    t->epoch = epoch;
    t->t0 = now_seconds();
    t->loss_sum = 0.0;
    t->done = 0;
    t->epoch_rng = t->rng; /* a mid-epoch checkpoint redoes this epoch's shuffle */
    for (size_t i = 0; i < t->n_train; i++)
        t->order[i] = (uint32_t)i;
    rng_shuffle_u32(&t->rng, t->order, t->n_train);
    if (epoch == t->first_epoch && cfg->resume) {
        t->done = t->cs.done;
        t->loss_sum = t->cs.loss_sum;
    }
    for (size_t b0 = t->done; b0 < t->n_train && !t->interrupted; b0 += (size_t)cfg->batch)
        if ((st = train_step(t, b0, err))) return st;
    return LSTMSRC_OK;
}

/* The validate-and-keep-best stage, on a complete epoch: the validation pass (whole, whatever a
 * stop request says: it scores the epoch), its macro F1, and the epoch's weights and output kept
 * when it is the best so far by cfg->select; with no validation part every epoch is. */
static enum lstmsrc_status train_validate_keep_best(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    const size_t nv = t->sp.val_windows;
    t->vloss = -1.0;
    t->vf1 = -1.0;
    t->improved = 0;
    ema_swap(t, 1); /* the average is what is validated and kept */
    if (t->done == t->n_train && nv) {
        t->pool->stop = NULL;
        t->vloss = train_eval_windows(t->pool, t->starts, &t->val.ws, t->val_probs);
        t->pool->stop = cfg->stop;
    }
    t->epochs_run = t->epoch;
    if (nv) {
        t->vf1 = train_macro_f1(m, &t->val, t->val_probs, NULL);
        if (t->vf1 < 0.0) {
            ema_swap(t, 0);
            return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory scoring validation");
        }
        /* a diverged epoch (NaN loss) is never kept, whatever its F1 */
        if (cfg->select == LSTMSRC_SELECT_F1 ? !isnan(t->vloss) && t->vf1 > t->best_f1
                                             : t->vloss < t->best_val) {
            t->improved = 1;
            t->best_val = t->vloss;
            t->best_f1 = t->vf1;
            t->best_epoch = t->epoch;
            memcpy(t->best, m->params, m->n_params * sizeof(float));
            memcpy(t->best_probs, t->val_probs, nv * m->k * sizeof(float));
        }
    } else {
        t->improved = 1;
        t->best_epoch = t->epoch;
        memcpy(t->best, m->params, m->n_params * sizeof(float));
    }
    ema_swap(t, 0);
    report_progress(t, 1);
    return LSTMSRC_OK;
}

/* The checkpoint stage (checkpoint.h): after a complete epoch, the next one to run; after a
 * partial one, the same epoch, its generator before the shuffle and the windows already done.
 * A failure leaves the previous file intact and training goes on; the caller's on_checkpoint
 * hears either way. */
static void train_checkpoint(struct trainer *t)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    const int partial = t->done < t->n_train;
    t->cs = (struct ckpt_state){.next_epoch = partial ? t->epoch : t->epoch + 1,
                                .epochs_run = t->epochs_run,
                                .best_epoch = t->best_epoch,
                                .done = partial ? t->done : 0,
                                .step = t->step,
                                .rng = partial ? t->epoch_rng : t->rng,
                                .loss_sum = partial ? t->loss_sum : 0.0,
                                .best_val = t->best_val,
                                .best_f1 = t->best_f1,
                                .params = t->m->params,
                                .adam_m = t->adam_m,
                                .adam_v = t->adam_v,
                                .best = t->best,
                                .avg = t->avg};
    struct lstmsrc_error e = {LSTMSRC_OK, ""};
    ckpt_save(cfg->checkpoint, &t->cid, &t->cs, &e);
    if (cfg->on_checkpoint) cfg->on_checkpoint(&e, cfg->checkpoint_user);
}

/* Whether `patience` epochs after the best one have passed by the end of epoch `epoch`. */
static int patience_spent(const struct trainer *t, int epoch)
{
    return t->cfg->patience > 0 && t->sp.val_windows && epoch - t->best_epoch >= t->cfg->patience;
}

/* The epochs from t->first_epoch: each trained, scored and checkpointed, until the last, a
 * stop request or early stopping. A stop request may cut a batch from here to the end of the
 * epochs; a partial epoch is not scored, only checkpointed. */
static enum lstmsrc_status train_epochs(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    enum lstmsrc_status st;
    t->pool->stop = cfg->stop;
    for (int epoch = t->first_epoch; epoch <= cfg->epochs && !t->interrupted; epoch++) {
        /* a resumed run that had already stopped early stops again */
        if (patience_spent(t, epoch - 1)) break;
        if ((st = train_epoch(t, epoch, err))) return st;
        if (t->interrupted && t->done < t->n_train) {
            if (cfg->checkpoint) train_checkpoint(t);
            break;
        }
        if ((st = train_validate_keep_best(t, err))) return st;
        if (cfg->checkpoint && (!cfg->checkpoint_on_stop_only || t->interrupted))
            train_checkpoint(t);
        if (patience_spent(t, epoch)) break;
    }
    t->pool->stop = NULL; /* the rest runs to the end: the model is what a stop keeps */
    return LSTMSRC_OK;
}

/* The decisions: every threshold cfg->threshold, or tuned on the best epoch's validation
 * output; then the minimum durations, cfg's or tuned on the same output. Multi-class decisions
 * are never filtered (1/1). */
static enum lstmsrc_status finish_decisions(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    const int multi = m->task == LSTMSRC_TASK_MULTILABEL;
    const int scored = t->sp.val_windows && t->best_epoch > 0;
    for (int j = 0; j < m->k; j++)
        m->threshold[j] = cfg->threshold;
    if (multi && cfg->tune_thresholds && scored &&
        train_tune_thresholds(t->pool, m, &t->val, &t->train, t->best_probs, t->starts))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory tuning thresholds");
    for (int j = 0; j < m->k && multi && !cfg->tune_durations; j++) {
        m->min_on[j] = cfg->min_on;
        m->min_off[j] = cfg->min_off;
    }
    if (multi && cfg->tune_durations && scored && train_tune_durations(m, &t->val, t->best_probs))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory tuning minimum durations");
    return LSTMSRC_OK;
}

/* What each part held of every output, for the caller's warnings (lstmsrc_validation_support);
 * left out when out of memory. */
static void finish_support(struct trainer *t)
{
    const struct lstmsrc_dataset *ds = t->ds;
    struct lstmsrc_model *m = t->m;
    const struct train_part *va = &t->val;
    const struct window_set *tw = &t->train.ws;
    if (!(m->val_on = xcalloc_n((size_t)m->k, sizeof *m->val_on)) ||
        !(m->train_on = xcalloc_n((size_t)m->k, sizeof *m->train_on)))
        return;
    const size_t KK = (size_t)m->k, lab = window_label_row(0, m->seq_len, m->label_offset);
    for (size_t w = 0; w < va->ws.total; w++) {
        if (va->y)
            for (size_t j = 0; j < KK; j++)
                m->val_on[j] += va->y[w * KK + j] != 0;
        else if (va->cls && va->cls[w] >= 0 && (size_t)va->cls[w] < KK)
            m->val_on[va->cls[w]]++;
    }
    for (size_t r = 0; r < tw->n_runs; r++)
        for (size_t i = 0; i < tw->first[r + 1] - tw->first[r]; i++) {
            const size_t row = tw->runs[r].start + i + lab;
            if (m->task == LSTMSRC_TASK_MULTILABEL)
                for (size_t j = 0; j < KK; j++)
                    m->train_on[j] += ds->y[row * KK + j] != 0;
            else if (ds->cls[row] >= 0 && (size_t)ds->cls[row] < KK)
                m->train_on[ds->cls[row]]++;
        }
}

/* The run as the model file records it. */
static void finish_meta(struct trainer *t)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    const int scored = t->sp.val_windows && t->best_epoch;
    m->meta.seed = cfg->seed;
    m->meta.rows_train = t->sp.train_rows;
    m->meta.rows_val = t->sp.val_rows;
    m->meta.windows_train = t->n_train;
    m->meta.windows_val = t->sp.val_windows;
    m->meta.epochs_run = t->epochs_run;
    m->meta.best_epoch = t->best_epoch;
    m->meta.batch = cfg->batch;
    m->meta.threads = 0; /* not recorded: any thread count gives these bits */
    m->meta.lr = cfg->lr;
    m->meta.val_loss = scored ? (float)t->best_val : -1.0f;
    m->meta.val_macro_f1 = scored ? (float)t->best_f1 : -1.0f;
}

/* The finish stage: the best epoch's weights (cfg->select) back in place, the decisions tuned
 * on their validation output, what the run was recorded, and the model handed out, also when
 * a stop request ended the epochs (LSTMSRC_ERR_INTERRUPTED). */
static enum lstmsrc_status train_finish(struct trainer *t, struct lstmsrc_model **out,
                                        struct lstmsrc_error *err)
{
    struct lstmsrc_model *m = t->m;
    enum lstmsrc_status st;
    if (t->best_epoch > 0) {
        memcpy(m->params, t->best, m->n_params * sizeof(float));
        model_weights_changed(m);
    }
    if ((st = finish_decisions(t, err))) return st;
    finish_support(t);
    finish_meta(t);
    st = t->interrupted
             ? set_error(err, LSTMSRC_ERR_INTERRUPTED, "interrupted after %d complete epoch%s",
                         t->epochs_run, t->epochs_run == 1 ? "" : "s")
             : LSTMSRC_OK;
    *out = m;
    t->m = NULL;
    return st;
}

/* Frees everything the trainer holds (the model too, unless it was handed out), once. */
static void trainer_free(struct trainer *t)
{
    if (t->pool) train_pool_free(t->pool);
    free(t->pool);
    free(t->avg);
    free(t->raw);
    free(t->adam_m);
    free(t->adam_v);
    free(t->best);
    free(t->order);
    free(t->xc);
    free(t->starts);
    free(t->val_probs);
    free(t->best_probs);
    train_part_free(&t->train);
    train_part_free(&t->val);
    lstmsrc_model_free(t->m);
}

enum lstmsrc_status lstmsrc_train(const struct lstmsrc_dataset *ds,
                                  const struct lstmsrc_train_config *cfg,
                                  struct lstmsrc_model **out, struct lstmsrc_error *err)
{
    struct trainer t = {0};
    enum lstmsrc_status st = train_setup(&t, ds, cfg, err);
    if (!st) st = train_epochs(&t, err);
    if (!st && t.pool->comm_failed) st = comm_error(&t, err); /* in a validation pass */
    if (!st) st = train_finish(&t, out, err);
    if ((!st || st == LSTMSRC_ERR_INTERRUPTED) && t.pool->comm_failed) { /* in the tuning pass */
        lstmsrc_model_free(*out);
        *out = NULL;
        st = comm_error(&t, err);
    }
    trainer_free(&t);
    return st;
}
