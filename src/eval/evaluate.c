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
    free(ev);
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
static void eval_multilabel(struct lstmsrc_eval *ev, const struct lstmsrc_model *m,
                            const struct lstmsrc_dataset *ds, const struct window_set *set,
                            const uint8_t *on)
{
    size_t W = ev->windows, K = (size_t)m->k, T = (size_t)m->seq_len, F = (size_t)ds->f;
    int ch = reading_channel(m, ds);
    size_t exact = 0, wrong = 0, all_off = 0, rule_exact = 0, rule_wrong = 0;
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
        wrong += (size_t)miss;
        rule_wrong += (size_t)rule_miss;
        exact += miss == 0;
        rule_exact += rule_miss == 0;
        all_off += !any;
    }

    double sum = 0.0, rule_sum = 0.0;
    size_t positives = 0;
    for (size_t j = 0; j < K; j++) {
        struct lstmsrc_output_metrics *o = &ev->per[j];
        o->precision = counts_precision(&cm[j]);
        o->recall = counts_recall(&cm[j]);
        o->f1 = counts_f1(&cm[j]);
        o->support = cm[j].tp + cm[j].fn;
        o->threshold = m->threshold[j];
        o->baseline_f1 = counts_f1(&cb[j]);
        o->baseline_threshold = m->base_threshold[j];
        o->min_on = m->min_on[j];
        o->min_off = m->min_off[j];
        sum += o->f1;
        rule_sum += o->baseline_f1;
        positives += o->support;
    }
    ev->macro_f1 = sum / (double)K;
    ev->subset_accuracy = (double)exact / (double)W;
    ev->hamming_loss = (double)wrong / ((double)W * (double)K);
    ev->all_off_subset_accuracy = (double)all_off / (double)W;
    ev->all_off_macro_f1 = 0.0; /* never ON: no true positives for any source */
    ev->threshold_macro_f1 = rule_sum / (double)K;
    ev->threshold_subset_accuracy = (double)rule_exact / (double)W;
    /* all off is wrong exactly on the true positives */
    ev->all_off_hamming_loss = (double)positives / ((double)W * (double)K);
    ev->threshold_hamming_loss = (double)rule_wrong / ((double)W * (double)K);
}

static void eval_multiclass(struct lstmsrc_eval *ev, const struct lstmsrc_model *m,
                            const struct lstmsrc_dataset *ds, const struct window_set *set,
                            const float *probs)
{
    size_t W = ev->windows, K = (size_t)m->k, T = (size_t)m->seq_len;
    size_t *conf = ev->confusion;
    size_t correct = 0;
    for (size_t w = 0; w < W; w++) {
        int32_t t = ds->cls[window_label_row(window_set_start(set, w), (int)T, m->label_offset)];
        LSTMSRC_ASSERT(t >= 0 && (size_t)t < K);
        size_t p = (size_t)argmax(probs + w * K, (int)K);
        conf[(size_t)t * K + p]++;
        correct += p == (size_t)t;
    }

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
        o->threshold = 0.0;
        o->baseline_f1 = 0.0;
        o->baseline_threshold = 0.0;
        o->min_on = 1;
        o->min_off = 1;
        sum += o->f1;
        if (row > ev->per[majority].support) majority = (int)c; /* first on ties */
    }
    ev->accuracy = (double)correct / (double)W;
    ev->macro_f1 = sum / (double)K;

    /* Always predicting the majority class: precision = its share, recall 1, others F1 0. */
    struct bin_counts mc = {ev->per[majority].support, W - ev->per[majority].support, 0, 0};
    ev->majority_class = majority;
    ev->majority_accuracy = (double)mc.tp / (double)W;
    ev->majority_macro_f1 = counts_f1(&mc) / (double)K;
}

enum lstmsrc_status lstmsrc_evaluate(const struct lstmsrc_model *m,
                                     const struct lstmsrc_dataset *ds, struct lstmsrc_eval **out,
                                     struct lstmsrc_error *err)
{
    enum lstmsrc_status st = LSTMSRC_OK;
    struct lstmsrc_eval *ev = NULL;
    float *probs = NULL;
    uint8_t *on = NULL;
    LSTMSRC_ASSERT(m && ds && out);
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
    if (m->k < 1 || (m->task == LSTMSRC_TASK_MULTILABEL && m->k > LSTMSRC_MAX_SOURCES) ||
        m->k > LSTMSRC_MAX_CLASSES)
        return set_error(err, LSTMSRC_ERR_ARG, "model has %d outputs, outside the limits", m->k);
    size_t windows = m->seq_len > 0 ? lstmsrc_dataset_windows(ds, m->seq_len) : 0;
    struct window_run one;
    size_t n_runs;
    const struct window_run *runs = dataset_runs(ds, &one, &n_runs);
    if (windows == 0 && n_runs > 1)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu segments, none as long as the model's window of %d rows", src,
                         n_runs, m->seq_len);
    if (windows == 0)
        return set_error(err, LSTMSRC_ERR_PARSE,
                         "%s: %zu rows, fewer than the model's window of %d rows", src, ds->n,
                         m->seq_len);
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
    ev = calloc(1, sizeof *ev);
    if (ev) {
        ev->per = xcalloc_n((size_t)m->k, sizeof *ev->per);
        if (n_conf) ev->confusion = xcalloc_n(n_conf, sizeof *ev->confusion);
    }
    if (!probs || !ev || !ev->per || (n_conf && !ev->confusion) ||
        (m->task == LSTMSRC_TASK_MULTILABEL && !on)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory for %zu windows", src, windows);
        goto cleanup;
    }

    st = lstmsrc_predict(m, ds, probs, windows, err);
    if (st) goto cleanup;

    ev->task = m->task;
    ev->windows = windows;
    ev->outputs = m->k;
    for (int j = 0; j < m->k; j++)
        ev->per[j].name = m->output_names ? m->output_names[j] : NULL;
    if (m->task == LSTMSRC_TASK_MULTILABEL) {
        /* the windows of one segment are one sequence: the durations filter runs over each */
        lstmsrc_decide(m, probs, windows, on);
        for (size_t r = 0; r < set.n_runs; r++)
            lstmsrc_filter_rows(m, on + set.first[r] * (size_t)m->k,
                                set.first[r + 1] - set.first[r]);
        eval_multilabel(ev, m, ds, &set, on);
    } else
        eval_multiclass(ev, m, ds, &set, probs);

    *out = ev;
    ev = NULL;
cleanup:
    window_set_free(&set);
    lstmsrc_eval_free(ev);
    free(probs);
    free(on);
    return st;
}
