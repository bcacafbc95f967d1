/*
 * setup.c — the setup stage of a training run (train_setup): the chronological split into
 * training and validation windows, the model (fresh, or the --init model's weights), the reader's
 * rules and names it carries, the derived channels, the scaler, positive weights and baselines
 * fitted on the training part only, Keras initialisation, the buffers and threads the epochs
 * use, and the state a checkpoint restores (cfg->resume). Every allocation lands in the trainer,
 * which the driver frees once, whether setup succeeded or not.
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/window.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "post/metrics.h"
#include "train/trainer.h"

#define BASELINE_ROWS ((size_t)1 << 20)

/* ============================== fitted on the training part ============================== */

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

/* ============================== the setup stage ============================== */

/* The windows, inside segments and inside the training or the validation part; too many
 * training windows, or none, is the data's fault, not an option's. */
static enum lstmsrc_status setup_windows(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_dataset *ds = t->ds;
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct window_split *sp = &t->sp;
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    if (!window_split_runs(runs, n_runs, ds->file_start, ds->n_files, ds->n, cfg->seq_len,
                           cfg->val_fraction, sp, &t->train.ws, &t->val.ws))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the windows of %zu segments",
                         n_runs);
    if (sp->train_windows > UINT32_MAX)
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu training windows; supported: up to %u",
                         ds->source, sp->train_windows, (unsigned)UINT32_MAX);
    if (sp->train_windows > 0) return LSTMSRC_OK;
    /* the data, not an option: exit 1, as plot and eval say it */
    if (n_runs != 1)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu training rows in %zu segments, none long enough for one "
                         "window of %d rows",
                         ds->source, window_set_rows(&t->train.ws), n_runs, cfg->seq_len);
    return set_error(err, LSTMSRC_ERR_PARSE,
                     "%s: %zu training rows, too few for one window of %d rows", ds->source,
                     sp->train_rows, cfg->seq_len);
}

/* The model of the config's shape (the --init model's directions where the config leaves them
 * open), and where it started: the init model's name and file checksum. */
static enum lstmsrc_status setup_model(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_dataset *ds = t->ds;
    const struct lstmsrc_train_config *cfg = t->cfg;
    const int channels = ds->f * model_feature_count(cfg->features);
    const int dirs = cfg->init && cfg->bidirectional < 0 ? cfg->init->dirs : train_directions(cfg);
    enum lstmsrc_status st =
        model_create(channels, cfg->hidden, cfg->layers, dirs, ds->k, cfg->seq_len, ds->n_labels,
                     ds->task, ds->mode, &t->m, err);
    if (st) return st;
    struct lstmsrc_model *m = t->m;
    int framed = model_set_framing(m, cfg->features, cfg->label_at);
    LSTMSRC_ASSERT(framed && m->n_raw == ds->f);
    m->meta.stride = cfg->stride;
    if ((st = model_precision_check(cfg->precision, err))) return st;
    m->bf16 = lstmsrc_precision_resolve(cfg->precision) == LSTMSRC_PRECISION_BF16;
    if (cfg->init) {
        if ((st = model_file_crc(cfg->init, &m->init_crc, err))) return st;
        if (!(m->init_name = str_dup(cfg->init_name ? cfg->init_name : "")))
            return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
    }
    return LSTMSRC_OK;
}

/* The reader's rules travel with the model, so later files are read the same way, and the
 * data's names with them (each derived channel named after its column). */
static enum lstmsrc_status setup_reader(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_dataset *ds = t->ds;
    struct lstmsrc_model *m = t->m;
    m->use_invalid_below = ds->use_invalid_below;
    m->invalid_below = ds->invalid_below;
    if (ds->time_kind && ds->period > 0.0) {
        if (!(m->time_name = str_dup(ds->time_name)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
        m->period = ds->period;
        m->max_gap = ds->max_gap;
    }
    if (ds->on_above && ds->n_labels) {
        if (!(m->on_above = xmalloc_n((size_t)ds->n_labels, sizeof *m->on_above)))
            return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
        memcpy(m->on_above, ds->on_above, (size_t)ds->n_labels * sizeof *m->on_above);
    }
    if (copy_names(m->input_names, m->f, ds->input_names, ds->f) ||
        (ds->n_labels && copy_names(m->label_names, ds->n_labels, ds->label_names, ds->n_labels)) ||
        copy_names(m->output_names, ds->k, ds->output_names, ds->k))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
    return LSTMSRC_OK;
}

/* Derived channels are computed once over the whole row sequence, before windowing, exactly
 * as prediction computes them; raw columns alone are used where they lie. */
static enum lstmsrc_status setup_channels(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_dataset *ds = t->ds;
    const struct lstmsrc_model *m = t->m;
    t->x = ds->x;
    if (m->features == LSTMSRC_FEATURE_RAW && !t->cfg->scaler) return LSTMSRC_OK;
    if (!(t->xc = xcalloc_n(ds->n, (size_t)m->f * sizeof(float))))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %d channels of %zu rows", m->f,
                         ds->n);
    /* each segment on its own, as if it were a file: no difference across a gap */
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    for (size_t r = 0; r < n_runs; r++)
        model_channels(m, t->xc + runs[r].start * (size_t)m->f,
                       ds->x + runs[r].start * (size_t)ds->f, runs[r].len, NULL);
    t->x = t->xc;
    /* a step the float cannot hold (3.4e38 after -3.4e38) is named by its line now, not
     * found as a NaN loss in every epoch */
    if (m->features & LSTMSRC_FEATURE_DIFF) return dataset_check_diff(ds, err);
    return LSTMSRC_OK;
}

/* The scaler (or the init model's, as it learnt on), positive weights and baselines, from the
 * training part only; the validation labels, for scoring every epoch. */
static enum lstmsrc_status setup_fit(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_dataset *ds = t->ds;
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    enum lstmsrc_status st;
    if (cfg->scaler == LSTMSRC_SCALER_PER_FILE) {
        /* each file's channels by its own training rows' statistics, in place: the model's
         * scaler stays 0/1 and every later file is standardised by its own */
        m->scaler_per_file = 1;
        if (!scale_per_file(t->xc, m->f, &t->train.ws, ds->file_start, ds->n_files, ds->n))
            return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the per-file scaler");
    } else if (cfg->init && !cfg->init_refit_scaler) {
        memcpy(m->scale_mean, cfg->init->scale_mean, (size_t)m->f * sizeof *m->scale_mean);
        memcpy(m->scale_std, cfg->init->scale_std, (size_t)m->f * sizeof *m->scale_std);
    } else {
        scale_fit_runs(m->scale_mean, m->scale_std, t->x, &t->train.ws, m->f);
    }
    if ((st = check_standardised(m, ds, t->x, err))) return st;
    fit_pos_weights(m, ds, cfg, &t->train.ws);
    if (t->sp.val_windows && !train_part_labels(&t->val, m, ds))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for the validation labels");
    if (m->task == LSTMSRC_TASK_MULTILABEL) return fit_baseline(m, ds, &t->train.ws, err);
    return LSTMSRC_OK;
}

/* The generator seeded, and the weights: the init model's, or Keras initialisation from it. */
static enum lstmsrc_status setup_weights(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    rng_seed(&t->rng, cfg->seed);
    if (cfg->init) {
        LSTMSRC_ASSERT(cfg->init->n_params == m->n_params);
        memcpy(m->params, cfg->init->params, m->n_params * sizeof *m->params);
        return LSTMSRC_OK;
    }
    const size_t need = model_init_params(m, &t->rng);
    if (need)
        return set_error(err, LSTMSRC_ERR_NOMEM,
                         "out of memory for the weight initialisation (%zu bytes)", need);
    return LSTMSRC_OK;
}

/* The thread count (0: one per core, never more than the batch has rows), the optimiser's and
 * the epochs' buffers, and the pool started on them. Nothing allocates after this. */
static enum lstmsrc_status setup_buffers(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    const struct lstmsrc_model *m = t->m;
    const size_t nv = t->sp.val_windows;
    t->nthreads = cfg->threads;
    if (t->nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        t->nthreads = n < 1 ? 1 : n > TRAIN_MAX_THREADS ? TRAIN_MAX_THREADS : (int)n;
    }
    if (t->nthreads > cfg->batch) t->nthreads = cfg->batch;
    t->pool = calloc(1, sizeof *t->pool);
    t->adam_m = xcalloc_n(m->n_params, sizeof(float));
    t->adam_v = xcalloc_n(m->n_params, sizeof(float));
    t->best = xmalloc_n(m->n_params, sizeof(float));
    if (cfg->ema > 0.0f) {
        t->avg = xmalloc_n(m->n_params, sizeof(float));
        t->raw = xmalloc_n(m->n_params, sizeof(float));
    }
    t->order = xmalloc_n(t->n_train, sizeof *t->order);
    t->starts = xmalloc_n((size_t)cfg->batch, sizeof *t->starts);
    if (nv) {
        t->val_probs = xmalloc_n(nv, (size_t)m->k * sizeof(float));
        t->best_probs = xmalloc_n(nv, (size_t)m->k * sizeof(float));
    }
    if (!t->pool || !t->adam_m || !t->adam_v || !t->best || !t->order || !t->starts ||
        (nv && (!t->val_probs || !t->best_probs)) || (cfg->ema > 0.0f && (!t->avg || !t->raw)))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for training state");
    t->pool->ds = t->ds;
    t->pool->x = t->x;
    t->pool->m = m;
    t->pool->nthreads = t->nthreads;
    t->pool->comm = cfg->comm;
    return train_pool_start(t->pool, cfg->batch, err);
}

/* Where the epochs start: epoch 1 with no best yet, or, resuming, what the checkpoint holds (the
 * best epoch's validation output recomputed from its weights: same weights, batches and
 * threads give the same bits). */
static enum lstmsrc_status setup_progress(struct trainer *t, struct lstmsrc_error *err)
{
    const struct lstmsrc_train_config *cfg = t->cfg;
    struct lstmsrc_model *m = t->m;
    enum lstmsrc_status st;
    t->best_val = INFINITY;
    t->best_f1 = -1.0;
    memcpy(t->best, m->params, m->n_params * sizeof(float));
    if (t->avg) memcpy(t->avg, m->params, m->n_params * sizeof(float));
    t->cs = (struct ckpt_state){.params = m->params,
                                .adam_m = t->adam_m,
                                .adam_v = t->adam_v,
                                .best = t->best,
                                .avg = t->avg};
    t->first_epoch = 1;
    if (cfg->checkpoint || cfg->resume)
        ckpt_id_init(&t->cid, t->ds, cfg, m, t->nthreads, t->n_train);
    if (!cfg->resume) return LSTMSRC_OK;
    if ((st = ckpt_load(cfg->resume, &t->cid, &t->cs, err))) return st;
    model_weights_changed(m);
    t->first_epoch = t->cs.next_epoch;
    t->rng = t->cs.rng;
    t->step = t->cs.step;
    t->epochs_run = t->cs.epochs_run;
    t->best_epoch = t->cs.best_epoch;
    t->best_val = t->cs.best_val;
    t->best_f1 = t->cs.best_f1;
    if (t->best_epoch > 0 && t->sp.val_windows) {
        float *cur = m->params;
        m->params = t->best;
        model_weights_changed(m);
        train_eval_windows(t->pool, t->starts, &t->val.ws, t->best_probs);
        m->params = cur;
        model_weights_changed(m);
    }
    return LSTMSRC_OK;
}

enum lstmsrc_status train_setup(struct trainer *t, const struct lstmsrc_dataset *ds,
                                const struct lstmsrc_train_config *cfg, struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    t->ds = ds;
    t->cfg = cfg;
    if ((st = train_check_config(ds, cfg, err))) return st;
    if (cfg->init && (st = train_check_init(ds, cfg, err))) return st;
    if ((st = setup_windows(t, err)) || (st = setup_model(t, err)) || (st = setup_reader(t, err)) ||
        (st = setup_channels(t, err)))
        return st;
    /* training windows: every stride-th one of the training part */
    t->stride = (size_t)cfg->stride;
    t->n_train = window_strided_count(t->sp.train_windows, cfg->stride);
    if ((st = setup_fit(t, err)) || (st = setup_weights(t, err)) || (st = setup_buffers(t, err)))
        return st;
    t->norm_div = t->m->task == LSTMSRC_TASK_MULTILABEL ? (float)t->m->k : 1.0f;
    return setup_progress(t, err);
}
