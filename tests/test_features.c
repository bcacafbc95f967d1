/*
 * test_features.c — what the network sees and which row it answers for:
 *   - derived channels: first differences by hand (0 on the first row, or from the row before a
 *     chunk), raw-only / diff-only / both layouts, channel counts and framing checks;
 *   - window/label alignment: the labelled row of a window (last or centre), strided training
 *     windows (count and starts);
 *   - training: a label that depends on rows after it is learnt with a centred label and not
 *     with the last-row label; --stride trains on ceil(windows / stride) windows and gives
 *     another model; the diff channel's scaler comes from the training part's differences;
 *     bad feature sets, label positions and strides are refused with a reason;
 *   - prediction: lstmsrc_predict, lstmsrc_predict_rows(_after) in chunks and lstmsrc_stream_push
 *     give the same bits for a diff + centre model, and reset forgets the previous row.
 */
#include <math.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "data/window.h"
#include "nn/model.h"
#include "test.h"

/* ============================== channels ============================== */

static struct lstmsrc_model *shaped(int raw, unsigned features, enum lstmsrc_label_at at, int seq)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    int per = model_feature_count(features);
    if (model_create(raw * per, 6, 1, 1, 2, seq, 2, LSTMSRC_TASK_MULTILABEL, LSTMSRC_LABELS_SOURCES,
                     &m, &err))
        return NULL;
    if (!model_set_framing(m, features, at)) {
        lstmsrc_model_free(m);
        return NULL;
    }
    return m;
}

static void test_channels_by_hand(void)
{
    /* 3 rows of 2 columns */
    const float x[6] = {10, -1, 13, -1, 12.5f, 4};
    float out[12];
    struct lstmsrc_model *m = shaped(2, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_LAST, 3);
    CHECK(m && m->f == 4 && m->n_raw == 2);
    if (!m) return;
    model_channels(m, out, x, 3, NULL);
    const float want[12] = {10, -1, 0, 0, 13, -1, 3, 0, 12.5f, 4, -0.5f, 5};
    CHECK(memcmp(out, want, sizeof want) == 0);
    /* a chunk starting at row 1 with row 0 as prev gives rows 1.. of the whole */
    model_channels(m, out, x + 2, 2, x);
    CHECK(memcmp(out, want + 4, 8 * sizeof *out) == 0);
    lstmsrc_model_free(m);

    m = shaped(2, LSTMSRC_FEATURE_DIFF, LSTMSRC_LABEL_LAST, 3);
    CHECK(m && m->f == 2 && m->n_raw == 2);
    if (!m) return;
    model_channels(m, out, x, 3, NULL);
    const float want_d[6] = {0, 0, 3, 0, -0.5f, 5};
    CHECK(memcmp(out, want_d, sizeof want_d) == 0);
    lstmsrc_model_free(m);

    m = shaped(2, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_LAST, 3);
    CHECK(m && m->f == 2);
    if (!m) return;
    model_channels(m, out, x, 3, x);
    CHECK(memcmp(out, x, sizeof x) == 0);
    lstmsrc_model_free(m);
}

static void test_framing(void)
{
    CHECK(model_feature_count(LSTMSRC_FEATURE_RAW) == 1);
    CHECK(model_feature_count(LSTMSRC_FEATURES_ALL) == 2);
    CHECK(model_feature_count(0) == 0 && model_feature_count(4) == 0 &&
          model_feature_count(7) == 0);
    int seqs[] = {1, 2, 5, 96, 97};
    int offs[] = {0, 1, 2, 48, 48};
    for (int i = 0; i < 5; i++) {
        struct lstmsrc_model *m = shaped(1, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_CENTER, seqs[i]);
        CHECK(m && m->label_offset == offs[i]);
        /* the labelled row sees seq/2 rows after it */
        if (m)
            CHECK(window_label_row(0, seqs[i], m->label_offset) + (size_t)offs[i] ==
                  (size_t)seqs[i] - 1);
        lstmsrc_model_free(m);
    }
    struct lstmsrc_model *m = shaped(3, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_LAST, 4);
    CHECK(m && m->label_offset == 0);
    if (m) {
        CHECK(!model_set_framing(m, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_LAST)); /* 3 channels */
        CHECK(!model_set_framing(m, 0, LSTMSRC_LABEL_LAST));
        CHECK(!model_set_framing(m, LSTMSRC_FEATURE_RAW, (enum lstmsrc_label_at)2));
        CHECK(m->features == LSTMSRC_FEATURE_RAW && m->n_raw == 3); /* unchanged */
    }
    lstmsrc_model_free(m);
}

static void test_window_alignment(void)
{
    CHECK(window_label_row(0, 5, 0) == 4);
    CHECK(window_label_row(10, 5, 0) == 14);
    CHECK(window_label_row(10, 5, 2) == 12);
    CHECK(window_label_row(0, 96, 48) == 47);
    CHECK(window_label_row(7, 1, 0) == 7);
    CHECK(window_strided_count(0, 3) == 0);
    CHECK(window_strided_count(1, 3) == 1);
    CHECK(window_strided_count(9, 3) == 3);
    CHECK(window_strided_count(10, 3) == 4);
    CHECK(window_strided_count(10, 1) == 10);
    CHECK(window_strided_count(10, 100) == 1);
    /* the last strided window starts inside the training windows */
    for (size_t w = 1; w < 40; w++)
        for (int s = 1; s < 7; s++) {
            size_t n = window_strided_count(w, s);
            CHECK((n - 1) * (size_t)s < w && n * (size_t)s >= w);
        }
}

/* ============================== training ============================== */

#define ROWS 3000

/* reading: a noisy base with pulses; label "soon": a pulse starts within the next 2 rows (so a
 * window must see rows after the labelled one); label "on": a pulse now. */
static struct lstmsrc_dataset *future_data(void)
{
    struct rng r;
    rng_seed(&r, 5);
    size_t cap = (size_t)ROWS * 32 + 64, n = 0;
    char *text = malloc(cap);
    float *v = malloc(ROWS * sizeof *v);
    if (!text || !v) {
        free(text);
        free(v);
        return NULL;
    }
    for (int i = 0; i < ROWS; i++)
        v[i] = 200.0f + (float)rng_normal(&r) * 5.0f;
    for (int i = 5; i < ROWS - 10; i += 10 + (int)rng_below(&r, 20))
        for (int j = 0; j < 3; j++)
            v[i + j] += 1500.0f;
    n += (size_t)snprintf(text + n, cap - n, "reading,soon,on\n");
    for (int i = 0; i < ROWS; i++) {
        int on = v[i] > 1000.0f;
        int soon =
            !on && ((i + 1 < ROWS && v[i + 1] > 1000.0f) || (i + 2 < ROWS && v[i + 2] > 1000.0f));
        n += (size_t)snprintf(text + n, cap - n, "%.2f,%d,%d\n", (double)v[i], soon, on);
    }
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_columns cols = {0};
    struct lstmsrc_error err;
    if (lstmsrc_dataset_load_mem("future.csv", text, n, &cols, &ds, &err))
        fprintf(stderr, "  load: %s\n", err.msg);
    free(text);
    free(v);
    return ds;
}

static struct lstmsrc_model *train_with(const struct lstmsrc_dataset *ds, unsigned features,
                                        enum lstmsrc_label_at at, int stride, int epochs)
{
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.seq_len = 5;
    cfg.hidden = 8;
    cfg.epochs = epochs;
    cfg.batch = 64;
    cfg.threads = 1;
    cfg.lr = 0.01f;
    cfg.features = features;
    cfg.label_at = at;
    cfg.stride = stride;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_train(ds, &cfg, &m, &err)) fprintf(stderr, "  train: %s\n", err.msg);
    return m;
}

static double f1_of(const struct lstmsrc_model *m, const struct lstmsrc_dataset *ds, int k)
{
    struct lstmsrc_eval *ev = NULL;
    struct lstmsrc_error err;
    if (lstmsrc_evaluate(m, ds, &ev, &err)) return -1.0;
    double f1 = ev->per[k].f1;
    lstmsrc_eval_free(ev);
    return f1;
}

static void test_centre_label_sees_the_future(void)
{
    struct lstmsrc_dataset *ds = future_data();
    CHECK(ds != NULL);
    if (!ds) return;
    struct lstmsrc_model *c = train_with(ds, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_CENTER, 1, 8);
    struct lstmsrc_model *l = train_with(ds, LSTMSRC_FEATURE_RAW, LSTMSRC_LABEL_LAST, 1, 8);
    CHECK(c && l);
    if (c && l) {
        double fc = f1_of(c, ds, 0), fl = f1_of(l, ds, 0);
        double oc = f1_of(c, ds, 1), ol = f1_of(l, ds, 1);
        CHECK(c->label_offset == 2 && l->label_offset == 0);
        /* "soon" needs the rows after the labelled one: only the centred window has them */
        CHECK(fc > 0.9);
        CHECK(fl < 0.75);
        /* "on" is visible either way */
        CHECK(oc > 0.9 && ol > 0.9);
        if (!(fc > 0.9 && fl < 0.75 && oc > 0.9 && ol > 0.9))
            fprintf(stderr, "  soon: centre %.3f last %.3f; on: centre %.3f last %.3f\n", fc, fl,
                    oc, ol);
    }
    lstmsrc_model_free(c);
    lstmsrc_model_free(l);
    lstmsrc_dataset_free(ds);
}

static void test_stride_and_diff_training(void)
{
    struct lstmsrc_dataset *ds = future_data();
    CHECK(ds != NULL);
    if (!ds) return;
    struct lstmsrc_model *a = train_with(ds, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_LAST, 1, 1);
    struct lstmsrc_model *b = train_with(ds, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_LAST, 3, 1);
    struct lstmsrc_model *b2 = train_with(ds, LSTMSRC_FEATURES_ALL, LSTMSRC_LABEL_LAST, 3, 1);
    CHECK(a && b && b2);
    if (a && b && b2) {
        struct window_split sp;
        window_split(ROWS, 5, 0.1f, &sp);
        CHECK(a->meta.windows_train == sp.train_windows && a->meta.stride == 1);
        CHECK(b->meta.windows_train == window_strided_count(sp.train_windows, 3));
        CHECK(b->meta.stride == 3 && b->meta.windows_val == sp.val_windows);
        CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0);
        CHECK(memcmp(b->params, b2->params, b->n_params * sizeof(float)) == 0); /* deterministic */
        /* channel 1 is the difference; its scaler is the training part's differences */
        const float *x = lstmsrc_dataset_inputs_data(ds);
        double sum = 0.0, ss = 0.0;
        for (size_t i = 0; i < sp.train_rows; i++)
            sum += i ? x[i] - x[i - 1] : 0.0f;
        double mu = sum / (double)sp.train_rows;
        for (size_t i = 0; i < sp.train_rows; i++) {
            double d = i ? (double)(x[i] - x[i - 1]) : 0.0;
            ss += (d - mu) * (d - mu);
        }
        CHECK(a->f == 2 && a->n_raw == 1);
        CHECK_NEAR(a->scale_mean[1], mu, 1e-3);
        CHECK_NEAR(a->scale_std[1], sqrt(ss / (double)sp.train_rows), 1e-2);
        CHECK(!strcmp(a->input_names[0], "reading") && !strcmp(a->input_names[1], "reading"));
    }
    lstmsrc_model_free(a);
    lstmsrc_model_free(b);
    lstmsrc_model_free(b2);

    /* refused with a reason */
    struct lstmsrc_train_config cfg;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    lstmsrc_train_config_default(&cfg);
    cfg.features = 0;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "features"));
    cfg.features = 8;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "features"));
    lstmsrc_train_config_default(&cfg);
    cfg.stride = 0;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "stride 0"));
    lstmsrc_train_config_default(&cfg);
    cfg.label_at = (enum lstmsrc_label_at)5;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_ARG && strstr(err.msg, "label"));
    CHECK(m == NULL);
    lstmsrc_dataset_free(ds);
}

/* 33 input columns with both channels would be 66 network inputs, over the limit of 64. */
static void test_too_many_channels(void)
{
    char text[4096];
    size_t n = 0;
    for (int c = 0; c < 33; c++)
        n += (size_t)snprintf(text + n, sizeof text - n, "x%d,", c);
    n += (size_t)snprintf(text + n, sizeof text - n, "y\n");
    for (int r = 0; r < 20; r++) {
        for (int c = 0; c < 33; c++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%d,", r + c);
        n += (size_t)snprintf(text + n, sizeof text - n, "%d\n", r % 2);
    }
    struct lstmsrc_columns cols = {0};
    cols.labels = "y";
    cols.input = "1-33";
    char in[256];
    size_t k = 0;
    for (int c = 1; c <= 33; c++)
        k += (size_t)snprintf(in + k, sizeof in - k, c > 1 ? ",%d" : "%d", c);
    cols.input = in;
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_error err;
    CHECK(lstmsrc_dataset_load_mem("wide.csv", text, n, &cols, &ds, &err) == LSTMSRC_OK);
    if (!ds) return;
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    cfg.seq_len = 2;
    cfg.epochs = 1;
    cfg.threads = 1;
    cfg.features = LSTMSRC_FEATURES_ALL;
    struct lstmsrc_model *m = NULL;
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_ERR_LIMIT && strstr(err.msg, "66 channels"));
    cfg.features = LSTMSRC_FEATURE_DIFF; /* 33 channels fit */
    CHECK(lstmsrc_train(ds, &cfg, &m, &err) == LSTMSRC_OK && m && m->f == 33);
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
}

/* ============================== prediction ============================== */

static void test_predict_stream_chunks_agree(void)
{
    struct lstmsrc_dataset *ds = future_data();
    CHECK(ds != NULL);
    if (!ds) return;
    unsigned feats[] = {LSTMSRC_FEATURES_ALL, LSTMSRC_FEATURE_DIFF};
    for (int fi = 0; fi < 2; fi++) {
        struct lstmsrc_model *m = train_with(ds, feats[fi], LSTMSRC_LABEL_CENTER, 2, 1);
        CHECK(m != NULL);
        if (!m) continue;
        struct lstmsrc_error err;
        const size_t n = lstmsrc_dataset_rows(ds), T = (size_t)m->seq_len, K = (size_t)m->k;
        const size_t nw = n - T + 1;
        const float *x = lstmsrc_dataset_inputs_data(ds);
        float *ref = malloc(nw * K * sizeof *ref), *p = malloc(nw * K * sizeof *p);
        CHECK(lstmsrc_predict(m, ds, ref, nw, &err) == LSTMSRC_OK);
        /* whole, then in two chunks joined by the row before the second */
        CHECK(lstmsrc_predict_rows(m, x, n, p, nw, 2, &err) == LSTMSRC_OK);
        CHECK(memcmp(p, ref, nw * K * sizeof *p) == 0);
        const size_t c = 1234; /* windows [0, c) then [c, nw) */
        memset(p, 0, nw * K * sizeof *p);
        CHECK(lstmsrc_predict_rows_after(m, NULL, x, c + T - 1, p, c, 1, &err) == LSTMSRC_OK);
        CHECK(lstmsrc_predict_rows_after(m, x + (c - 1), x + c, n - c, p + c * K, nw - c, 3,
                                         &err) == LSTMSRC_OK);
        CHECK(memcmp(p, ref, nw * K * sizeof *p) == 0);
        /* without the row before, the chunk's first difference is 0: other outputs */
        CHECK(lstmsrc_predict_rows(m, x + c, n - c, p + c * K, nw - c, 1, &err) == LSTMSRC_OK);
        CHECK(memcmp(p + c * K, ref + c * K, K * sizeof *p) != 0);

        /* stream: the window ending at row i belongs to row i - label_offset */
        struct lstmsrc_stream *s = NULL;
        CHECK(lstmsrc_stream_create(m, &s, &err) == LSTMSRC_OK);
        size_t same = 0, ready_rows = 0;
        float probs[LSTMSRC_MAX_SOURCES];
        for (size_t i = 0; s && i < n; i++) {
            int ready = -1;
            CHECK(lstmsrc_stream_push(s, x + i, probs, &ready, &err) == LSTMSRC_OK);
            if (!ready) continue;
            ready_rows++;
            same += memcmp(probs, ref + (i + 1 - T) * K, K * sizeof *probs) == 0;
        }
        CHECK(ready_rows == nw && same == nw);
        /* reset forgets the previous row: the next row's difference is 0 again */
        if (s) {
            lstmsrc_stream_reset(s);
            int ready = 0;
            for (size_t i = 0; i < T; i++)
                CHECK(lstmsrc_stream_push(s, x + 500 + i, probs, &ready, &err) == LSTMSRC_OK);
            float q[LSTMSRC_MAX_SOURCES];
            CHECK(ready && lstmsrc_predict_rows(m, x + 500, T, q, 1, 1, &err) == LSTMSRC_OK);
            CHECK(memcmp(q, probs, K * sizeof *q) == 0);
            CHECK(memcmp(q, ref + 500 * K, K * sizeof *q) != 0); /* differs from mid-series */
        }
        lstmsrc_stream_free(s);
        free(ref);
        free(p);
        lstmsrc_model_free(m);
    }
    lstmsrc_dataset_free(ds);
}

int main(void)
{
    RUN(test_channels_by_hand);
    RUN(test_framing);
    RUN(test_window_alignment);
    RUN(test_centre_label_sees_the_future);
    RUN(test_stride_and_diff_training);
    RUN(test_too_many_channels);
    RUN(test_predict_stream_chunks_agree);
    return test_report("test_features");
}
