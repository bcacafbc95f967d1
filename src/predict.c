/*
 * predict.c — running a trained model over every full window of a data set, in batches of one
 * reusable workspace. The data set's raw readings are standardised with the model's scaler as
 * each batch is gathered, so for a model on raw channels nothing the size of the data is copied;
 * derived channels (first differences) are computed once over the whole series first, as
 * training computed them (lstmsrc_predict_rows does it batch by batch in bounded memory).
 */
#include <string.h>

#include "common.h"
#include "dataset.h"
#include "model.h"
#include "window.h"

#define PREDICT_BATCH 1024

/* Checks that ds carries the model's input channels, in order, by name. */
static enum lstmsrc_status check_inputs(const struct lstmsrc_model *m,
                                        const struct lstmsrc_dataset *ds, struct lstmsrc_error *err)
{
    if (ds->f != m->n_raw)
        return set_error(err, LSTMSRC_ERR_ARG, "%s: %d input column%s, the model expects %d",
                         ds->source, ds->f, ds->f == 1 ? "" : "s", m->n_raw);
    for (int i = 0; i < m->n_raw; i++)
        if (m->input_names[i] && ds->input_names[i] && strcmp(m->input_names[i], ds->input_names[i]))
            return set_error(err, LSTMSRC_ERR_ARG, "%s: input column %d is \"%s\", the model expects \"%s\"",
                             ds->source, i + 1, ds->input_names[i], m->input_names[i]);
    return LSTMSRC_OK;
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
    struct window_set set;
    if (!window_set_init(&set, runs, n_runs, m->seq_len, 0, ds->n))
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for %zu segments", n_runs);
    int cap = nw < PREDICT_BATCH ? (int)nw : PREDICT_BATCH;
    struct model_ws *ws = model_ws_create(m, cap, 0);
    size_t *starts = xmalloc_n((size_t)cap, sizeof *starts);
    float *xb = xmalloc_n((size_t)cap * m->seq_len, (size_t)m->f * sizeof(float));
    /* derived channels over each segment, as training computed them */
    float *xc = m->features == LSTMSRC_FEATURE_RAW ? NULL
                                                   : xcalloc_n(ds->n, (size_t)m->f * sizeof(float));
    const float *x = xc ? xc : ds->x;
    if (!ws || !starts || !xb || (m->features != LSTMSRC_FEATURE_RAW && !xc)) {
        st = set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a prediction batch");
        goto done;
    }
    for (size_t r = 0; xc && r < n_runs; r++)
        model_channels(m, xc + runs[r].start * (size_t)m->f, ds->x + runs[r].start * (size_t)ds->f,
                       runs[r].len, NULL);
    for (size_t w0 = 0; w0 < nw; w0 += (size_t)cap) {
        int B = nw - w0 < (size_t)cap ? (int)(nw - w0) : cap;
        for (int b = 0; b < B; b++) starts[b] = window_set_start(&set, w0 + (size_t)b);
        window_gather(xb, x, m->f, starts, B, m->seq_len, m->scale_mean, m->scale_std);
        const float *logits = model_forward(m, ws, xb, B);
        float *out = probs + w0 * (size_t)m->k;
        memcpy(out, logits, (size_t)B * m->k * sizeof *out);
        model_probs(m, out, B);
    }
done:
    window_set_free(&set);
    model_ws_free(ws);
    free(starts);
    free(xb);
    free(xc);
    return st;
}
