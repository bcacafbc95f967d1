/*
 * stream.c — online prediction, one row at a time: a ring of the last seq_len standardised rows
 * and one inference workspace for a single window, both allocated at creation. A push
 * standardises the row into the ring (the expression window_gather uses, so the same bits),
 * copies the ring out oldest first as a (T, 1, F) window, and runs model_forward + model_probs
 * on it: the same computation as lstmsrc_predict on the same window, bit for bit, since an
 * inference workspace computes every row independently of its batch. Nothing allocates after
 * creation.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "nn/model.h"

struct lstmsrc_stream {
    const struct lstmsrc_model *m;
    struct model_ws *ws;            /* capacity 1, inference */
    float *ring;                    /* (seq_len, f) standardised rows; slot `head` is the oldest */
    float *xb;                      /* (seq_len, 1, f) the window in time order */
    float prev[LSTMSRC_MAX_INPUTS]; /* (n_raw) the last raw row pushed, for differences */
    int has_prev;                   /* 0 before the first row: its difference is 0 */
    int head;                       /* next slot to write */
    int filled;                     /* rows in the ring, up to seq_len */
};

enum lstmsrc_status lstmsrc_stream_create(const struct lstmsrc_model *m,
                                          struct lstmsrc_stream **out, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(m && out);
    struct lstmsrc_stream *s = calloc(1, sizeof *s);
    if (!s) return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a stream");
    s->m = m;
    s->ws = model_ws_create(m, 1, 0);
    s->ring = xmalloc_n((size_t)m->seq_len, (size_t)m->f * sizeof(float));
    s->xb = xmalloc_n((size_t)m->seq_len, (size_t)m->f * sizeof(float));
    if (!s->ws || !s->ring || !s->xb) {
        lstmsrc_stream_free(s);
        return set_error(err, LSTMSRC_ERR_NOMEM, "out of memory for a stream");
    }
    *out = s;
    return LSTMSRC_OK;
}

void lstmsrc_stream_free(struct lstmsrc_stream *s)
{
    if (!s) return;
    model_ws_free(s->ws);
    free(s->ring);
    free(s->xb);
    free(s);
}

void lstmsrc_stream_reset(struct lstmsrc_stream *s)
{
    s->head = 0;
    s->filled = 0;
    s->has_prev = 0;
}

enum lstmsrc_status lstmsrc_stream_push(struct lstmsrc_stream *s, const float *row, float *probs,
                                        int *ready, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(s && row);
    const struct lstmsrc_model *m = s->m;
    const int F = m->f, T = m->seq_len, R = m->n_raw;
    for (int j = 0; j < R; j++)
        if (!isfinite(row[j])) {
            if (ready) *ready = 0;
            return set_error(err, LSTMSRC_ERR_ARG,
                             "reading %d of the row is %g, not a finite number", j + 1,
                             (double)row[j]);
        }
    float ch[LSTMSRC_MAX_INPUTS]; /* the row's channels, as model_channels gives them in batch */
    model_channels(m, ch, row, 1, s->has_prev ? s->prev : NULL);
    /* finite readings can still give a first difference a float cannot hold (3.4e38 after
     * -3.4e38): refused like a non-finite reading, the stream left as it was (lstmsrc_rows_read
     * refuses the same row for predict) */
    for (int j = 0; j < F; j++)
        if (!isfinite(ch[j])) {
            if (ready) *ready = 0;
            return set_error(err, LSTMSRC_ERR_ARG,
                             "reading %d of the row: the step from the previous row overflows a "
                             "float in the first-difference channel",
                             j % R + 1);
        }
    memcpy(s->prev, row, (size_t)R * sizeof *row);
    s->has_prev = 1;
    float *slot = s->ring + (size_t)s->head * (size_t)F;
    for (int j = 0; j < F; j++)
        slot[j] = (ch[j] - m->scale_mean[j]) / m->scale_std[j];
    s->head = s->head + 1 == T ? 0 : s->head + 1;
    if (s->filled < T) s->filled++;
    if (s->filled < T) {
        if (ready) *ready = 0;
        return LSTMSRC_OK;
    }
    /* oldest first: slots head..T-1, then 0..head-1 */
    size_t older = (size_t)(T - s->head) * (size_t)F;
    memcpy(s->xb, s->ring + (size_t)s->head * (size_t)F, older * sizeof(float));
    memcpy(s->xb + older, s->ring, (size_t)s->head * (size_t)F * sizeof(float));
    if (probs) {
        const float *logits = model_forward(m, s->ws, s->xb, 1);
        memcpy(probs, logits, (size_t)m->k * sizeof *probs);
        model_probs(m, probs, 1);
    }
    if (ready) *ready = 1;
    return LSTMSRC_OK;
}
