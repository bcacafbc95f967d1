/*
 * test_metrics.c — the counting behind every reported number: precision/recall/F1 from counts,
 * the best-F1 threshold sweep on hand-made cases and against a brute-force search, and
 * lstmsrc_evaluate on a hand-set model whose outputs are known constants (zero LSTM weights, so
 * the head bias alone sets the probabilities) over a hand-built data set, checked by hand.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "lstmsrc.h"
#include "nn/model.h"
#include "post/metrics.h"
#include "test.h"

/* ============================== counts ============================== */

static void test_counts(void)
{
    struct bin_counts c = {3, 1, 2, 10};
    CHECK_NEAR(counts_precision(&c), 0.75, 1e-12);
    CHECK_NEAR(counts_recall(&c), 0.6, 1e-12);
    CHECK_NEAR(counts_f1(&c), 2.0 / 3.0, 1e-12);

    struct bin_counts none = {0, 0, 0, 7};
    CHECK(counts_precision(&none) == 0.0);
    CHECK(counts_recall(&none) == 0.0);
    CHECK(counts_f1(&none) == 0.0);

    struct bin_counts miss = {0, 4, 5, 0};
    CHECK(counts_precision(&miss) == 0.0 && counts_recall(&miss) == 0.0 && counts_f1(&miss) == 0.0);

    struct bin_counts perfect = {5, 0, 0, 5};
    CHECK(counts_f1(&perfect) == 1.0);
    /* equal ratios from different counts compare equal (the sweep's tie rule needs it) */
    struct bin_counts a = {2, 1, 1, 0}, b = {4, 2, 2, 0};
    CHECK(counts_f1(&a) == counts_f1(&b));
}

/* ============================== best_f1_threshold ============================== */

static void test_best_perfect(void)
{
    const float s[] = {0.9f, 0.1f, 0.8f, 0.2f};
    const uint8_t y[] = {1, 0, 1, 0};
    float t = -1;
    double f1 = -1;
    CHECK(best_f1_threshold(s, 1, y, 1, 4, 0.5f, &t, &f1) == 0);
    CHECK(f1 == 1.0);
    CHECK_NEAR(t, 0.5, 1e-6); /* midway between 0.2 and 0.8 */
    for (int i = 0; i < 4; i++)
        CHECK((s[i] > t) == (y[i] != 0));
}

/* Two thresholds give F1 2/3: "all on" and "only 0.9 on"; the higher one wins. Equal scores
 * always fall on the same side. */
static void test_best_ties(void)
{
    const float s[] = {0.5f, 0.5f, 0.9f, 0.5f};
    const uint8_t y[] = {1, 0, 1, 0};
    float t;
    double f1;
    CHECK(best_f1_threshold(s, 1, y, 1, 4, 0.5f, &t, &f1) == 0);
    CHECK_NEAR(f1, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(t, 0.7, 1e-6);

    /* every score equal: the only useful threshold is below them all */
    const float e[] = {0.3f, 0.3f, 0.3f};
    const uint8_t ye[] = {0, 1, 0};
    CHECK(best_f1_threshold(e, 1, ye, 1, 3, 0.5f, &t, &f1) == 0);
    CHECK_NEAR(f1, 0.5, 1e-12);
    CHECK(t < 0.3f);
}

static void test_best_no_positives(void)
{
    const float s[] = {0.1f, 0.7f, 0.3f};
    const uint8_t y[] = {0, 0, 0};
    float t = 0;
    double f1 = 1;
    CHECK(best_f1_threshold(s, 1, y, 1, 3, 0.42f, &t, &f1) == 0);
    CHECK(t == 0.42f && f1 == 0.0);
    /* n == 0 is the same case */
    t = 0;
    f1 = 1;
    CHECK(best_f1_threshold(s, 1, y, 1, 0, 0.25f, &t, &f1) == 0);
    CHECK(t == 0.25f && f1 == 0.0);
}

static void test_best_all_positive(void)
{
    const float s[] = {0.1f, 0.7f, 0.3f, 0.3f};
    const uint8_t y[] = {1, 1, 1, 1};
    float t;
    double f1;
    CHECK(best_f1_threshold(s, 1, y, 1, 4, 0.5f, &t, &f1) == 0);
    CHECK(f1 == 1.0);
    CHECK(t < 0.1f);

    /* raw readings in the thousands, as for the baseline rule: still strictly below */
    const float r[] = {3000.0f, 2500.0f};
    CHECK(best_f1_threshold(r, 1, y, 1, 2, 0.0f, &t, &f1) == 0);
    CHECK(f1 == 1.0 && t < 2500.0f);
    const float big[] = {1e9f, 2e9f};
    CHECK(best_f1_threshold(big, 1, y, 1, 2, 0.0f, &t, &f1) == 0);
    CHECK(f1 == 1.0 && t < 1e9f);
}

/* Strided access, as src/train/validate.c uses it: scores (n, 3) column 1, labels (n, 2) column 1.
 */
static void test_best_strided(void)
{
    const float s[] = {9, 0.2f, 9, 9, 0.6f, 9, 9, 0.4f, 9, 9, 0.8f, 9};
    const uint8_t y[] = {7, 0, 7, 1, 7, 0, 7, 1};
    float t;
    double f1;
    CHECK(best_f1_threshold(s + 1, 3, y + 1, 2, 4, 0.5f, &t, &f1) == 0);
    CHECK(f1 == 1.0);
    CHECK_NEAR(t, 0.5, 1e-6);
}

/* Adjacent floats: the midpoint rounds onto one of them, and must still separate them. */
static void test_best_adjacent_floats(void)
{
    float lo = 1.0f, hi = nextafterf(1.0f, 2.0f);
    const float s[] = {lo, hi, lo};
    const uint8_t y[] = {0, 1, 0};
    float t;
    double f1;
    CHECK(best_f1_threshold(s, 1, y, 1, 3, 0.5f, &t, &f1) == 0);
    CHECK(f1 == 1.0);
    CHECK(lo <= t && t < hi);
}

/* NaN is never ON: it can only be a miss. */
static void test_best_nan(void)
{
    const float s[] = {NAN, 0.9f, 0.1f, NAN};
    const uint8_t y[] = {1, 1, 0, 0};
    float t;
    double f1;
    CHECK(best_f1_threshold(s, 1, y, 1, 4, 0.5f, &t, &f1) == 0);
    CHECK_NEAR(f1, 2.0 / 3.0, 1e-12); /* tp 1, fn 1 (the NaN positive), fp 0 */
    CHECK(0.1f <= t && t < 0.9f);
}

/* F1 of "score > t" computed directly. */
static double f1_at(const float *s, const uint8_t *y, size_t n, float t)
{
    struct bin_counts c = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int p = s[i] > t, tr = y[i] != 0;
        if (p && tr)
            c.tp++;
        else if (p)
            c.fp++;
        else if (tr)
            c.fn++;
        else
            c.tn++;
    }
    return counts_f1(&c);
}

/* Against brute force over every score as a threshold (which gives the same partitions as the
 * midpoints) plus "below all": same best F1, the returned threshold achieves it, and no higher
 * threshold achieves it too. Few distinct scores so ties are common. */
static void test_best_brute_force(void)
{
    struct rng r;
    rng_seed(&r, 123);
    enum { N = 40 };
    float s[N];
    uint8_t y[N];
    int bad_f1 = 0, bad_t = 0, bad_tie = 0;
    for (int trial = 0; trial < 500; trial++) {
        size_t n = 1 + (size_t)rng_below(&r, N);
        for (size_t i = 0; i < n; i++) {
            s[i] = (float)rng_below(&r, 8) / 8.0f;
            y[i] = rng_uniform(&r) < 0.3 + 0.4 * s[i];
            if (trial % 2) { /* signed scores: negatives, -0 beside +0, +inf */
                const uint64_t k = rng_below(&r, 12);
                s[i] = k == 0 ? -0.0f : k == 1 ? INFINITY : (float)k / 4.0f - 1.5f;
            }
        }
        float t;
        double f1;
        if (best_f1_threshold(s, 1, y, 1, n, 0.5f, &t, &f1)) {
            bad_f1++;
            continue;
        }
        double best = f1_at(s, y, n, -1000.0f);
        float best_t = -1000.0f;
        for (size_t i = 0; i < n; i++) {
            double f = f1_at(s, y, n, s[i]);
            if (f > best || (f == best && s[i] > best_t)) {
                best = f;
                best_t = s[i];
            }
        }
        size_t pos = 0;
        for (size_t i = 0; i < n; i++)
            pos += y[i];
        if (!pos) {
            if (t != 0.5f || f1 != 0.0) bad_t++;
            continue;
        }
        if (f1 != best) bad_f1++;
        if (f1_at(s, y, n, t) != f1) bad_t++;
        /* the highest best threshold keeps the same items ON as the returned one */
        for (size_t i = 0; i < n; i++)
            if ((s[i] > t) != (s[i] > best_t)) {
                bad_tie++;
                break;
            }
    }
    CHECK(bad_f1 == 0);
    CHECK(bad_t == 0);
    CHECK(bad_tie == 0);
}

/* Same input, same output, whatever the order ties arrive in. */
static void test_best_large_deterministic(void)
{
    enum { N = 100000 };
    float *s = malloc(N * sizeof *s);
    uint8_t *y = malloc(N);
    CHECK(s && y);
    if (s && y) {
        struct rng r;
        rng_seed(&r, 5);
        for (size_t i = 0; i < N; i++) {
            s[i] = (float)rng_below(&r, 1000) / 1000.0f;
            y[i] = rng_uniform(&r) < s[i] * s[i];
        }
        float t1, t2;
        double f1a, f1b;
        CHECK(best_f1_threshold(s, 1, y, 1, N, 0.5f, &t1, &f1a) == 0);
        CHECK(best_f1_threshold(s, 1, y, 1, N, 0.5f, &t2, &f1b) == 0);
        CHECK(t1 == t2 && f1a == f1b);
        CHECK(f1_at(s, y, N, t1) == f1a);
        CHECK(f1a > 0.3);
    }
    free(s);
    free(y);
}

/* ============================== lstmsrc_evaluate ============================== */

/* A model whose every window gets the same probabilities: zero LSTM weights keep h = 0
 * (c = i*g = 0.5*tanh(0) = 0), so logits = head bias. */
static struct lstmsrc_model *const_model(int k, int seq, enum lstmsrc_task task, const float *bias,
                                         const char *const *names)
{
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_label_mode mode =
        task == LSTMSRC_TASK_MULTILABEL ? LSTMSRC_LABELS_SOURCES : LSTMSRC_LABELS_CLASS;
    int n_labels = task == LSTMSRC_TASK_MULTILABEL ? k : 1;
    if (model_create(1, 2, 1, 1, k, seq, n_labels, task, mode, &m, &err)) {
        fprintf(stderr, "  model_create: %s\n", err.msg);
        return NULL;
    }
    struct model_layout l;
    LSTMSRC_ASSERT(model_layout_fill(&l, 1, 2, 1, 1, k));
    for (int j = 0; j < k; j++) {
        m->params[l.bd + (size_t)j] = bias[j];
        m->output_names[j] = str_dup(names[j]);
    }
    m->input_names[0] = str_dup("reading");
    return m;
}

static char *reading_name[] = {"reading"};

static void test_evaluate_multilabel(void)
{
    /* rows 0..6, windows of 3 end at rows 2..6; the model says src1 always on (p 0.88), src2
     * always off (p 0.12) */
    static float x[] = {100, 100, 250, 400, 1200, 220, 500};
    static uint8_t y[] = {0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1};
    struct lstmsrc_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.source = "hand.csv";
    ds.n = 7;
    ds.f = 1;
    ds.k = 2;
    ds.task = LSTMSRC_TASK_MULTILABEL;
    ds.has_labels = 1;
    ds.input_names = reading_name;
    ds.x = x;
    ds.y = y;

    const float bias[] = {2.0f, -2.0f};
    const char *const names[] = {"src1", "src2"};
    struct lstmsrc_model *m = const_model(2, 3, LSTMSRC_TASK_MULTILABEL, bias, names);
    CHECK(m != NULL);
    if (!m) return;
    m->base_threshold[0] = 300.0f;
    m->base_threshold[1] = 1000.0f;

    struct lstmsrc_eval *ev = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_status st = lstmsrc_evaluate(m, &ds, &ev, &err);
    CHECK(st == LSTMSRC_OK);
    if (st) fprintf(stderr, "  evaluate: %s\n", err.msg);
    if (ev) {
        CHECK(ev->task == LSTMSRC_TASK_MULTILABEL);
        CHECK(ev->windows == 5 && ev->outputs == 2);
        CHECK(!strcmp(ev->per[0].name, "src1") && !strcmp(ev->per[1].name, "src2"));
        /* src1 truth at rows 2..6: 1,0,1,0,0; always on: tp 2, fp 3 */
        CHECK_NEAR(ev->per[0].precision, 0.4, 1e-12);
        CHECK_NEAR(ev->per[0].recall, 1.0, 1e-12);
        CHECK_NEAR(ev->per[0].f1, 4.0 / 7.0, 1e-12);
        CHECK(ev->per[0].support == 2);
        CHECK_NEAR(ev->per[0].threshold, 0.5, 1e-7);
        /* src2 truth 0,0,1,0,1; always off */
        CHECK(ev->per[1].precision == 0.0 && ev->per[1].recall == 0.0 && ev->per[1].f1 == 0.0);
        CHECK(ev->per[1].support == 2);
        CHECK_NEAR(ev->macro_f1, 2.0 / 7.0, 1e-12);
        /* predicted (1,0) everywhere: exact only at row 2; 5 wrong labels out of 10 */
        CHECK_NEAR(ev->subset_accuracy, 0.2, 1e-12);
        CHECK_NEAR(ev->hamming_loss, 0.5, 1e-12);
        /* nothing on at rows 3 and 5 */
        CHECK_NEAR(ev->all_off_subset_accuracy, 0.4, 1e-12);
        CHECK(ev->all_off_macro_f1 == 0.0);
        /* rule: readings 250,400,1200,220,500; src1 > 300 -> 0,1,1,0,1 (tp 1 fp 2 fn 1),
         * src2 > 1000 -> 0,0,1,0,0 (tp 1 fn 1); exact at rows 4 and 5 */
        CHECK_NEAR(ev->per[0].baseline_f1, 0.4, 1e-12);
        CHECK_NEAR(ev->per[1].baseline_f1, 2.0 / 3.0, 1e-12);
        CHECK_NEAR(ev->per[0].baseline_threshold, 300.0, 1e-9);
        CHECK_NEAR(ev->per[1].baseline_threshold, 1000.0, 1e-9);
        CHECK_NEAR(ev->threshold_macro_f1, (0.4 + 2.0 / 3.0) / 2.0, 1e-12);
        CHECK_NEAR(ev->threshold_subset_accuracy, 0.4, 1e-12);
        CHECK(ev->confusion == NULL);
    }
    lstmsrc_eval_free(ev);

    /* a threshold above the probability turns src1 off: the decision is "prob > threshold" */
    m->threshold[0] = 0.95f;
    ev = NULL;
    CHECK(lstmsrc_evaluate(m, &ds, &ev, &err) == LSTMSRC_OK);
    if (ev) {
        CHECK(ev->per[0].f1 == 0.0);
        CHECK_NEAR(ev->subset_accuracy, 0.4, 1e-12);
        CHECK_NEAR(ev->per[0].threshold, 0.95, 1e-7);
    }
    lstmsrc_eval_free(ev);

    /* refusals: no labels, other source count, window longer than the data, other task */
    struct lstmsrc_eval *none = NULL;
    ds.has_labels = 0;
    ds.y = NULL;
    CHECK(lstmsrc_evaluate(m, &ds, &none, &err) == LSTMSRC_ERR_ARG && none == NULL);
    CHECK(strstr(err.msg, "hand.csv") != NULL);
    ds.has_labels = 1;
    ds.y = y;
    ds.k = 1;
    CHECK(lstmsrc_evaluate(m, &ds, &none, &err) == LSTMSRC_ERR_ARG && none == NULL);
    ds.k = 2;
    ds.n = 2; /* too short for a window: a data problem (exit 1), like a bad cell */
    CHECK(lstmsrc_evaluate(m, &ds, &none, &err) == LSTMSRC_ERR_PARSE && none == NULL);
    CHECK(strstr(err.msg, "window") != NULL);
    ds.n = 3; /* exactly one window */
    CHECK(lstmsrc_evaluate(m, &ds, &none, NULL) == LSTMSRC_OK);
    CHECK(none && none->windows == 1);
    lstmsrc_eval_free(none);
    none = NULL;
    ds.task = LSTMSRC_TASK_MULTICLASS;
    CHECK(lstmsrc_evaluate(m, &ds, &none, &err) == LSTMSRC_ERR_ARG && none == NULL);
    lstmsrc_model_free(m);
}

static void test_evaluate_multiclass(void)
{
    /* windows of 2 end at rows 1..5 with classes 1,0,1,2,1; the model always says class 0 */
    static float x[] = {200, 210, 220, 230, 240, 250};
    static int32_t cls[] = {0, 1, 0, 1, 2, 1};
    struct lstmsrc_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.source = "hand.csv";
    ds.n = 6;
    ds.f = 1;
    ds.k = 3;
    ds.task = LSTMSRC_TASK_MULTICLASS;
    ds.mode = LSTMSRC_LABELS_CLASS;
    ds.has_labels = 1;
    ds.input_names = reading_name;
    ds.x = x;
    ds.cls = cls;

    const float bias[] = {1.0f, 0.0f, 0.0f};
    const char *const names[] = {"0", "1", "2"};
    struct lstmsrc_model *m = const_model(3, 2, LSTMSRC_TASK_MULTICLASS, bias, names);
    CHECK(m != NULL);
    if (!m) return;
    struct lstmsrc_eval *ev = NULL;
    struct lstmsrc_error err;
    enum lstmsrc_status st = lstmsrc_evaluate(m, &ds, &ev, &err);
    CHECK(st == LSTMSRC_OK);
    if (st) fprintf(stderr, "  evaluate: %s\n", err.msg);
    if (ev) {
        CHECK(ev->task == LSTMSRC_TASK_MULTICLASS && ev->windows == 5 && ev->outputs == 3);
        CHECK_NEAR(ev->accuracy, 0.2, 1e-12);
        /* class 0: tp 1, fp 4 -> P 0.2, R 1, F1 1/3; the others never predicted */
        CHECK_NEAR(ev->per[0].precision, 0.2, 1e-12);
        CHECK_NEAR(ev->per[0].recall, 1.0, 1e-12);
        CHECK_NEAR(ev->per[0].f1, 1.0 / 3.0, 1e-12);
        CHECK(ev->per[1].f1 == 0.0 && ev->per[2].f1 == 0.0);
        CHECK(ev->per[0].support == 1 && ev->per[1].support == 3 && ev->per[2].support == 1);
        CHECK_NEAR(ev->macro_f1, 1.0 / 9.0, 1e-12);
        const size_t expect[9] = {1, 0, 0, 3, 0, 0, 1, 0, 0};
        CHECK(ev->confusion && !memcmp(ev->confusion, expect, sizeof expect));
        /* majority: class 1, right 3 of 5; its F1 2*0.6/1.6 = 0.75, macro over 3 classes */
        CHECK(ev->majority_class == 1);
        CHECK_NEAR(ev->majority_accuracy, 0.6, 1e-12);
        CHECK_NEAR(ev->majority_macro_f1, 0.25, 1e-12);
        CHECK(!strcmp(ev->per[2].name, "2"));
    }
    lstmsrc_eval_free(ev);
    lstmsrc_eval_free(NULL);
    lstmsrc_model_free(m);
}

int main(void)
{
    RUN(test_counts);
    RUN(test_best_perfect);
    RUN(test_best_ties);
    RUN(test_best_no_positives);
    RUN(test_best_all_positive);
    RUN(test_best_strided);
    RUN(test_best_adjacent_floats);
    RUN(test_best_nan);
    RUN(test_best_brute_force);
    RUN(test_best_large_deterministic);
    RUN(test_evaluate_multilabel);
    RUN(test_evaluate_multiclass);
    return test_report("test_metrics");
}
