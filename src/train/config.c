/*
 * config.c — what a training config means before any data is touched: the defaults
 * (lstmsrc_train_config_default), the directions a config asks for, the checks of every option
 * against the data, and of an --init model against the config and the data's columns.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "post/durations.h"
#include "train/trainer.h"

void lstmsrc_train_config_default(struct lstmsrc_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seq_len = 5;
    cfg->hidden = 64;
    cfg->layers = 1;
    /* centred windows kept improving validation loss past 10 (REFIT best 13, IDEAL 16) */
    cfg->epochs = 20;
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
int train_directions(const struct lstmsrc_train_config *cfg)
{
    if (cfg->bidirectional < 0) return cfg->label_at == LSTMSRC_LABEL_CENTER ? 2 : 1;
    return cfg->bidirectional ? 2 : 1;
}

/* The window, the schedule and the optimiser, and the validation part that needs. */
static enum lstmsrc_status check_schedule(const struct lstmsrc_train_config *c,
                                          struct lstmsrc_error *err)
{
    if (c->seq_len < 1 || c->seq_len > LSTMSRC_MAX_SEQ)
        return set_error(err, LSTMSRC_ERR_ARG, "window length %d; supported: 1 to %d", c->seq_len,
                         LSTMSRC_MAX_SEQ);
    if (c->epochs < 1) return set_error(err, LSTMSRC_ERR_ARG, "epochs must be at least 1");
    if (c->batch < 1 || c->batch > (1 << 20))
        return set_error(err, LSTMSRC_ERR_ARG, "batch %d; supported: 1 to %d", c->batch, 1 << 20);
    if (c->patience < 0) return set_error(err, LSTMSRC_ERR_ARG, "patience must be >= 0");
    if (c->threads < 0 || c->threads > TRAIN_MAX_THREADS)
        return set_error(err, LSTMSRC_ERR_ARG, "threads %d; supported: 0 (all cores) to %d",
                         c->threads, TRAIN_MAX_THREADS);
    if (!(c->lr > 0.0f) || !isfinite(c->lr))
        return set_error(err, LSTMSRC_ERR_ARG, "learning rate must be a positive number");
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f) ||
        !(c->eps > 0.0f))
        return set_error(err, LSTMSRC_ERR_ARG, "Adam needs 0 <= beta < 1 and eps > 0");
    if (!(c->clip >= 0.0f)) return set_error(err, LSTMSRC_ERR_ARG, "clip must be >= 0");
    if (c->scaler != LSTMSRC_SCALER_GLOBAL && c->scaler != LSTMSRC_SCALER_PER_FILE)
        return set_error(err, LSTMSRC_ERR_ARG, "scaler %d; supported: 0 (global), 1 (per-file)",
                         (int)c->scaler);
    if (!(c->ema >= 0.0f && c->ema < 1.0f))
        return set_error(err, LSTMSRC_ERR_ARG, "ema must be 0 (off) or in (0, 1), not %g",
                         (double)c->ema);
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
    return LSTMSRC_OK;
}

/* The loss, the decisions and the input channels, against the data's sources and columns. */
static enum lstmsrc_status check_outputs(const struct lstmsrc_dataset *ds,
                                         const struct lstmsrc_train_config *c,
                                         struct lstmsrc_error *err)
{
    if (c->pos_weight == LSTMSRC_POS_WEIGHT_MANUAL) {
        if (ds->task != LSTMSRC_TASK_MULTILABEL)
            return set_error(err, LSTMSRC_ERR_ARG,
                             "positive weights apply to multi-label sources only");
        if (c->n_pos_weights != ds->k || !c->pos_weights)
            return set_error(err, LSTMSRC_ERR_ARG, "%d positive weights given for %d sources",
                             c->n_pos_weights, ds->k);
        for (int j = 0; j < ds->k; j++)
            if (!(c->pos_weights[j] > 0.0f) || !isfinite(c->pos_weights[j]))
                return set_error(err, LSTMSRC_ERR_ARG, "positive weight %d must be > 0", j + 1);
    }
    if (c->select != LSTMSRC_SELECT_LOSS && c->select != LSTMSRC_SELECT_F1)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "epoch selection %d; supported: 0 (validation loss) or 1 (validation "
                         "macro F1)",
                         (int)c->select);
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
        return set_error(err, LSTMSRC_ERR_ARG,
                         "minimum durations on %d, off %d rows; supported: 1 to %d", c->min_on,
                         c->min_off, LSTMSRC_MAX_DURATION);
    if (!c->tune_durations && ds->task != LSTMSRC_TASK_MULTILABEL &&
        (c->min_on != 1 || c->min_off != 1))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "minimum durations apply to multi-label sources only");
    return LSTMSRC_OK;
}

enum lstmsrc_status train_check_config(const struct lstmsrc_dataset *ds,
                                       const struct lstmsrc_train_config *c,
                                       struct lstmsrc_error *err)
{
    enum lstmsrc_status st;
    if (!ds->has_labels)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: no label columns to learn from", ds->source);
    if ((st = check_schedule(c, err))) return st;
    if (c->comm && (c->comm->size < 1 || c->comm->rank < 0 || c->comm->rank >= c->comm->size ||
                    !c->comm->allgather))
        return set_error(err, LSTMSRC_ERR_ARG,
                         "comm: rank %d of %d processes%s; a rank runs from 0 to size - 1, and "
                         "allgather is needed",
                         c->comm->rank, c->comm->size, c->comm->allgather ? "" : ", no allgather");
    return check_outputs(ds, c, err);
}

/* Fine-tuning: the init model must have the architecture cfg and ds give, and the data's
 * columns. An option that differs is LSTMSRC_ERR_ARG, a column LSTMSRC_ERR_PARSE. */
enum lstmsrc_status train_check_init(const struct lstmsrc_dataset *ds,
                                     const struct lstmsrc_train_config *c,
                                     struct lstmsrc_error *err)
{
    const struct lstmsrc_model *im = c->init;
    const char *nm = c->init_name && *c->init_name ? c->init_name : "the init model";
    if (c->resume)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "an init model and a checkpoint to resume from "
                         "exclude each other (a checkpoint holds the weights already)");
    const int dirs = c->bidirectional < 0 ? im->dirs : train_directions(c);
    static const char *const at_name[2] = {"last", "center"};
#define INIT_DIFF(what, mine, theirs)                                                              \
    do {                                                                                           \
        if ((mine) != (theirs))                                                                    \
            return set_error(err, LSTMSRC_ERR_ARG, "%s has %s %d, this training %d", nm, what,     \
                             (int)(theirs), (int)(mine));                                          \
    } while (0)
    INIT_DIFF("window (seq)", c->seq_len, im->seq_len);
    INIT_DIFF("hidden units", c->hidden, im->h);
    INIT_DIFF("layers", c->layers, im->layers);
    INIT_DIFF("directions", dirs, im->dirs);
#undef INIT_DIFF
    if ((c->scaler == LSTMSRC_SCALER_PER_FILE) != im->scaler_per_file)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s has the %s scaler, this training the %s (--scaler)", nm,
                         im->scaler_per_file ? "per-file" : "global",
                         im->scaler_per_file ? "global" : "per-file");
    if (c->features != im->features)
        return set_error(err, LSTMSRC_ERR_ARG, "%s has features %s, this training %s", nm,
                         im->features == LSTMSRC_FEATURE_RAW    ? "raw"
                         : im->features == LSTMSRC_FEATURE_DIFF ? "diff"
                                                                : "raw,diff",
                         c->features == LSTMSRC_FEATURE_RAW    ? "raw"
                         : c->features == LSTMSRC_FEATURE_DIFF ? "diff"
                                                               : "raw,diff");
    if (c->label_at != im->label_at)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s is labelled at the window's %s row, this training at its %s row", nm,
                         at_name[im->label_at != 0], at_name[c->label_at != 0]);
    if (ds->task != im->task || ds->mode != im->label_mode)
        return set_error(
            err, LSTMSRC_ERR_PARSE, "%s: %s is %s (label mode %d), this data %s (label mode %d)",
            ds->source, nm, im->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class",
            (int)im->label_mode,
            ds->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class", (int)ds->mode);
    if (ds->f != im->n_raw)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: %s reads %d input column%s, this data %d",
                         ds->source, nm, im->n_raw, im->n_raw == 1 ? "" : "s", ds->f);
    for (int j = 0; j < ds->f; j++)
        if (strcmp(ds->input_names[j], im->input_names[j]))
            return set_error(err, LSTMSRC_ERR_PARSE, "%s: input %d is \"%.40s\", %s's is \"%.40s\"",
                             ds->source, j + 1, ds->input_names[j], nm, im->input_names[j]);
    if (ds->k != im->k)
        return set_error(err, LSTMSRC_ERR_PARSE, "%s: %d output%s, %s has %d", ds->source, ds->k,
                         ds->k == 1 ? "" : "s", nm, im->k);
    for (int j = 0; j < ds->k; j++)
        if (strcmp(ds->output_names[j], im->output_names[j]))
            return set_error(err, LSTMSRC_ERR_PARSE,
                             "%s: output %d is \"%.40s\", %s's is \"%.40s\"", ds->source, j + 1,
                             ds->output_names[j], nm, im->output_names[j]);
    return LSTMSRC_OK;
}
