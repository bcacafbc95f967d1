/*
 * evaluate.c — lstmsrc_evaluate: the model's numbers next to the baselines a reader needs to
 * judge them (all-off and "on if reading > t"), because on data where nothing is on in ~90 % of
 * rows, accuracy alone says nothing. Prediction is lstmsrc_predict's job, the decisions
 * durations.c's; this file counts.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "data/dataset.h"
#include "data/window.h"
#include "nn/model.h"
#include "post/metrics.h"

/* ============================== lstmsrc_evaluate ============================== */

/* Index of the largest of k probabilities; the first one on ties. */
static int argmax(const float *p, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (p[j] > p[best]) best = j;
    return best;
}

void lstmsrc_eval_free(struct lstmsrc_eval *ev)
{
    if (!ev) return;
    free(ev->per);
    free(ev->confusion);
    free(ev->counts);
    free(ev);
}

/* ---- the counts: integers that add over data sets, every score computed from them ---- */

/* multi-label: windows, exact matches, wrong labels, windows with nothing on, the rule's exact
 * matches and wrong labels, then per source the model's TP, FP, FN, TN and the rule's */
enum { ML_W, ML_EXACT, ML_WRONG, ML_ALL_OFF, ML_RULE_EXACT, ML_RULE_WRONG, ML_PER };
/* multi-class: windows, then the (K, K) confusion, row = true class */
enum { MC_W, MC_CONF };

static size_t n_counts(enum lstmsrc_task task, size_t k)
{
    return task == LSTMSRC_TASK_MULTILABEL ? ML_PER + 8 * k : MC_CONF + k * k;
}

static struct bin_counts counts_at(const uint64_t *c)
{
    struct bin_counts b = {(size_t)c[0], (size_t)c[1], (size_t)c[2], (size_t)c[3]};
    return b;
}

/* An evaluation of m with every count 0: its outputs' names, thresholds and durations. */
static struct lstmsrc_eval *eval_new(const struct lstmsrc_model *m)
{
    struct lstmsrc_eval *ev = calloc(1, sizeof *ev);
    if (!ev) return NULL;
    ev->task = m->task;
    ev->outputs = m->k;
    ev->n_counts = n_counts(m->task, (size_t)m->k);
    ev->per = xcalloc_n((size_t)m->k, sizeof *ev->per);
    ev->counts = xcalloc_n(ev->n_counts, sizeof *ev->counts);
    if (m->task == LSTMSRC_TASK_MULTICLASS)
        ev->confusion = xcalloc_n((size_t)m->k * (size_t)m->k, sizeof *ev->confusion);
    if (!ev->per || !ev->counts || (m->task == LSTMSRC_TASK_MULTICLASS && !ev->confusion)) {
        lstmsrc_eval_free(ev);
        return NULL;
    }
    for (int j = 0; j < m->k; j++) {
        struct lstmsrc_output_metrics *o = &ev->per[j];
        o->name = m->output_names ? m->output_names[j] : NULL;
        o->min_on = 1;
        o->min_off = 1;
        if (m->task == LSTMSRC_TASK_MULTILABEL) {
            o->threshold = m->threshold[j];
            o->baseline_threshold = m->base_threshold[j];
            o->min_on = m->min_on[j];
            o->min_off = m->min_off[j];
        }
    }
    return ev;
}

static void scores_multilabel(struct lstmsrc_eval *ev)
{
    const uint64_t *c = ev->counts;
    size_t W = (size_t)c[ML_W], K = (size_t)ev->outputs;
    double sum = 0.0, rule_sum = 0.0;
    size_t positives = 0;
    for (size_t j = 0; j < K; j++) {
        struct lstmsrc_output_metrics *o = &ev->per[j];
        struct bin_counts cm = counts_at(c + ML_PER + 8 * j),
                          cb = counts_at(c + ML_PER + 8 * j + 4);
        o->precision = counts_precision(&cm);
        o->recall = counts_recall(&cm);
        o->f1 = counts_f1(&cm);
        o->support = cm.tp + cm.fn;
        o->baseline_f1 = counts_f1(&cb);
        sum += o->f1;
        rule_sum += o->baseline_f1;
        positives += o->support;
    }
    ev->macro_f1 = sum / (double)K;
    ev->all_off_macro_f1 = 0.0; /* never ON: no true positives for any source */
    ev->threshold_macro_f1 = rule_sum / (double)K;
    if (W == 0) return; /* no window: no rate */
    ev->subset_accuracy = (double)c[ML_EXACT] / (double)W;
    ev->hamming_loss = (double)c[ML_WRONG] / ((double)W * (double)K);
    ev->all_off_subset_accuracy = (double)c[ML_ALL_OFF] / (double)W;
    ev->threshold_subset_accuracy = (double)c[ML_RULE_EXACT] / (double)W;
    /* all off is wrong exactly on the true positives */
    ev->all_off_hamming_loss = (double)positives / ((double)W * (double)K);
    ev->threshold_hamming_loss = (double)c[ML_RULE_WRONG] / ((double)W * (double)K);
}

static void scores_multiclass(struct lstmsrc_eval *ev)
{
    size_t W = (size_t)ev->counts[MC_W], K = (size_t)ev->outputs;
    size_t *conf = ev->confusion;
    size_t correct = 0;
    for (size_t i = 0; i < K * K; i++)
        conf[i] = (size_t)ev->counts[MC_CONF + i];
    for (size_t c = 0; c < K; c++)
        correct += conf[c * K + c];

    double sum = 0.0;
    int majority = 0;
    for (size_t c = 0; c < K; c++) {
        size_t row = 0, col = 0;
        for (size_t o = 0; o < K; o++) {
            row += conf[c * K + o];
            col += conf[o * K + c];
        }
        size_t tp = conf[c * K + c];
        struct bin_counts bc = {tp, col - tp, row - tp, W - row - col + tp};
        struct lstmsrc_output_metrics *o = &ev->per[c];
        o->precision = counts_precision(&bc);
        o->recall = counts_recall(&bc);
        o->f1 = counts_f1(&bc);
        o->support = row;
        sum += o->f1;
        if (row > ev->per[majority].support) majority = (int)c; /* first on ties */
    }
    ev->majority_class = majority;
    ev->macro_f1 = sum / (double)K;
    if (W == 0) return;
    ev->accuracy = (double)correct / (double)W;
    /* Always predicting the majority class: precision = its share, recall 1, others F1 0. */
    struct bin_counts mc = {ev->per[majority].support, W - ev->per[majority].support, 0, 0};
    ev->majority_accuracy = (double)mc.tp / (double)W;
    ev->majority_macro_f1 = counts_f1(&mc) / (double)K;
}

/* Every score of ev from its counts. */
static void eval_scores(struct lstmsrc_eval *ev)
{
    ev->windows = (size_t)ev->counts[0];
    if (ev->task == LSTMSRC_TASK_MULTILABEL)
        scores_multilabel(ev);
    else
        scores_multiclass(ev);
}

/* The data set's column holding the model's input channel 0: the baseline rule reads the raw
 * reading, whatever order the file has its columns in. */
static int reading_channel(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds)
{
    if (m->input_names && m->input_names[0] && ds->input_names)
        for (int i = 0; i < ds->f; i++)
            if (ds->input_names[i] && !strcmp(ds->input_names[i], m->input_names[0])) return i;
    return 0;
}

/* on (W, K): the model's decisions, thresholded and filtered by its minimum durations. */
static void count_multilabel(struct lstmsrc_eval *ev, const struct lstmsrc_model *m,
                             const struct lstmsrc_dataset *ds, const struct window_set *set,
                             const uint8_t *on, size_t W)
{
    size_t K = (size_t)m->k, T = (size_t)m->seq_len, F = (size_t)ds->f;
    int ch = reading_channel(m, ds);
    uint64_t *c = ev->counts;
    struct bin_counts cm[LSTMSRC_MAX_SOURCES], cb[LSTMSRC_MAX_SOURCES];
    memset(cm, 0, sizeof cm);
    memset(cb, 0, sizeof cb);

    /* window w is scored on its labelled row (its last, or its centre) */
    const size_t off = (size_t)m->label_offset;
    for (size_t w = 0; w < W; w++) {
        size_t row = window_label_row(window_set_start(set, w), (int)T, (int)off);
        const uint8_t *y = ds->y + row * K;
        float reading = ds->x[row * F + (size_t)ch];
        int miss = 0, rule_miss = 0, any = 0;
        for (size_t j = 0; j < K; j++) {
            int t = y[j] != 0;
            int p = on[w * K + j] != 0;
            int b = reading > m->base_threshold[j];
            counts_add(&cm[j], p, t);
            counts_add(&cb[j], b, t);
            miss += p != t;
            rule_miss += b != t;
            any |= t;
        }
        c[ML_WRONG] += (uint64_t)miss;
        c[ML_RULE_WRONG] += (uint64_t)rule_miss;
        c[ML_EXACT] += miss == 0;
        c[ML_RULE_EXACT] += rule_miss == 0;
        c[ML_ALL_OFF] += !any;
    }
    c[ML_W] += W;
    for (size_t j = 0; j < K; j++) {
        const struct bin_counts *b[2] = {&cm[j], &cb[j]};
        for (int i = 0; i < 2; i++) {
            uint64_t *d = c + ML_PER + 8 * j + 4 * (size_t)i;
            d[0] += b[i]->tp;
            d[1] += b[i]->fp;
            d[2] += b[i]->fn;
            d[3] += b[i]->tn;
        }
    }
}

static void count_multiclass(struct lstmsrc_eval *ev, const struct lstmsrc_model *m,
                             const struct lstmsrc_dataset *ds, const struct window_set *set,
                             const float *probs, size_t W)
{
    size_t K = (size_t)m->k, T = (size_t)m->seq_len;
    uint64_t *conf = ev->counts + MC_CONF;
    for (size_t w = 0; w < W; w++) {
        int32_t t = ds->cls[window_label_row(window_set_start(set, w), (int)T, m->label_offset)];
        LSTMSRC_ASSERT(t >= 0 && (size_t)t < K);
        size_t p = (size_t)argmax(probs + w * K, (int)K);
        conf[(size_t)t * K + p]++;
    }
    ev->counts[MC_W] += W;
}

/* lstmsrc_evaluate (part 0) and lstmsrc_evaluate_part (part 1: no window, or no data, is
 * 0 windows). */
static enum lstmsrc_status evaluate(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds,
                                    int part, struct lstmsrc_eval **out, struct lstmsrc_error *err)
{
    enum lstmsrc_status st = LSTMSRC_OK;
    struct lstmsrc_eval *ev = NULL;
    float *probs = NULL;
    uint8_t *on = NULL;
    LSTMSRC_ASSERT(m && out && (ds || part));
    if (m->k < 1 || (m->task == LSTMSRC_TASK_MULTILABEL && m->k > LSTMSRC_MAX_SOURCES) ||
        m->k > LSTMSRC_MAX_CLASSES)
        return set_error(err, LSTMSRC_ERR_ARG, "model has %d outputs, outside the limits", m->k);
    if (!ds) {
        if (!(ev = eval_new(m))) return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory");
        eval_scores(ev);
        *out = ev;
        return LSTMSRC_OK;
    }
    const char *src = ds->source ? ds->source : "data";

    if (!ds->has_labels || (m->task == LSTMSRC_TASK_MULTILABEL ? !ds->y : !ds->cls))
        return set_error(err, LSTMSRC_ERR_ARG, "%s: no label columns to evaluate against", src);
    if (ds->task != m->task)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: labels are %s but the model is %s", src,
                         ds->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class",
                         m->task == LSTMSRC_TASK_MULTILABEL ? "multi-label" : "multi-class");
    /* A test file may lack a rare class (its class count comes from the values seen), but
     * never have one the model cannot predict. */
    if (m->task == LSTMSRC_TASK_MULTILABEL ? ds->k != m->k : ds->k > m->k)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d %s, the model has %d", src, ds->k,
                         m->task == LSTMSRC_TASK_MULTILABEL ? "sources" : "classes", m->k);
    size_t windows = m->seq_len > 0 ? lstmsrc_dataset_windows(ds, m->seq_len) : 0;
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    if (windows == 0 && !part && n_runs > 1)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu segments, none as long as the model's window of %d rows", src,
                         n_runs, m->seq_len);
    if (windows == 0 && !part)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu rows, fewer than the model's window of %d rows", src, ds->n,
                         m->seq_len);
    if (windows == 0) {
        if (!(ev = eval_new(m))) return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);
        eval_scores(ev);
        *out = ev;
        return LSTMSRC_OK;
    }
    struct window_set set;
    if (!window_set_init(&set, runs, n_runs, m->seq_len, 0, ds->n))
        return set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", src);

    size_t n_probs, n_conf = 0;
    if (!mul_size(windows, (size_t)m->k, &n_probs) ||
        (m->task == LSTMSRC_TASK_MULTICLASS && !mul_size((size_t)m->k, (size_t)m->k, &n_conf))) {
        st = set_error(err, LSTMSRC_ERR_LIMIT, "%s: %zu windows x %d outputs is too large", src,
                       windows, m->k);
        goto cleanup;
    }
    probs = xmalloc_n(n_probs, sizeof *probs);
    if (m->task == LSTMSRC_TASK_MULTILABEL) on = xmalloc_n(n_probs, 1);
    ev = eval_new(m);
    if (!probs || !ev || (m->task == LSTMSRC_TASK_MULTILABEL && !on)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory for %zu windows", src, windows);
        goto cleanup;
    }

    st = lstmsrc_predict(m, ds, probs, windows, err);
    if (st) goto cleanup;

    if (m->task == LSTMSRC_TASK_MULTILABEL) {
        /* the windows of one segment are one sequence: the durations filter runs over each */
        lstmsrc_decide(m, probs, windows, on);
        for (size_t r = 0; r < set.n_runs; r++)
            lstmsrc_filter_rows(m, on + set.first[r] * (size_t)m->k,
                                set.first[r + 1] - set.first[r]);
        count_multilabel(ev, m, ds, &set, on, windows);
    } else
        count_multiclass(ev, m, ds, &set, probs, windows);
    eval_scores(ev);

    *out = ev;
    ev = NULL;
cleanup:
    window_set_free(&set);
    lstmsrc_eval_free(ev);
    free(probs);
    free(on);
    return st;
}

enum lstmsrc_status lstmsrc_evaluate(const struct lstmsrc_model *m,
                                     const struct lstmsrc_dataset *ds, struct lstmsrc_eval **out,
                                     struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(ds);
    return evaluate(m, ds, 0, out, err);
}

enum lstmsrc_status lstmsrc_evaluate_part(const struct lstmsrc_model *m,
                                          const struct lstmsrc_dataset *ds,
                                          struct lstmsrc_eval **out, struct lstmsrc_error *err)
{
    return evaluate(m, ds, 1, out, err);
}

/* ============================== evaluations in parts ============================== */

static int same_shape(const struct lstmsrc_eval *a, const struct lstmsrc_eval *b)
{
    return a->task == b->task && a->outputs == b->outputs && a->n_counts == b->n_counts;
}

enum lstmsrc_status lstmsrc_eval_merge(struct lstmsrc_eval *into, const struct lstmsrc_eval *part,
                                       struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(into && part);
    if (!same_shape(into, part))
        return set_error(err, LSTMSRC_ERR_ARG, "evaluations of different models: %d and %d outputs",
                         into->outputs, part->outputs);
    for (size_t i = 0; i < into->n_counts; i++)
        into->counts[i] += part->counts[i];
    eval_scores(into);
    return LSTMSRC_OK;
}

enum lstmsrc_status lstmsrc_eval_reduce(struct lstmsrc_eval *ev, const struct lstmsrc_comm *comm,
                                        struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(ev);
    if (!comm || comm->size <= 1) return LSTMSRC_OK;
    if (comm->rank < 0 || comm->rank >= comm->size || !comm->allgather)
        return set_error(err, LSTMSRC_ERR_ARG, "comm: rank %d of %d, allgather %s", comm->rank,
                         comm->size, comm->allgather ? "set" : "missing");
    const size_t n = ev->n_counts, size = (size_t)comm->size;
    size_t n_all;
    if (!mul_size(n, size, &n_all)) return set_error(err, LSTMSRC_ERR_LIMIT, "comm: too large");
    uint64_t *all = xmalloc_n(n_all, sizeof *all);
    size_t *bytes = xmalloc_n(size, sizeof *bytes);
    enum lstmsrc_status st = LSTMSRC_OK;
    if (!all || !bytes) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %zu processes' counts", size);
        goto done;
    }
    for (size_t r = 0; r < size; r++)
        bytes[r] = n * sizeof *all;
    memcpy(all + (size_t)comm->rank * n, ev->counts, n * sizeof *all);
    if (comm->allgather(comm->user, all, bytes)) {
        st = set_error(err, LSTMSRC_ERR_IO, "the exchange of evaluation counts failed");
        goto done;
    }
    /* integers: the same sum in any order */
    memset(ev->counts, 0, n * sizeof *ev->counts);
    for (size_t r = 0; r < size; r++)
        for (size_t i = 0; i < n; i++)
            ev->counts[i] += all[r * n + i];
    eval_scores(ev);
done:
    free(all);
    free(bytes);
    return st;
}
