/*
 * test_gradcheck.c — every analytic gradient against finite differences (ggml test-backend-ops
 * eval_grad per element; kann kad_check_grad along a random direction).
 *
 * The kernels are float32, so the reference is built to keep float rounding out of the way:
 *   - parameters, inputs and logits are multiples of 2^-10 and the steps are powers of two
 *     (h = 2^-5 per parameter or input, 2^-7 along a random direction, 2^-10 on logits) and 2h,
 *     so every perturbed value is exact in float and the step is exactly what the formula uses;
 *   - the loss is accumulated in double from the float logits (loss_bce_logits / loss_softmax_ce
 *     return double sums);
 *   - the derivative is the 4-point central difference
 *         g ~ [8 (L(p+h) - L(p-h)) - (L(p+2h) - L(p-2h))] / (12 h)       error O(h^4),
 *     so what is left is the float noise of the forward pass divided by h.
 * Pass rule per element: |num - ana| <= RTOL * max(|num|, |ana|) + ATOL. ATOL is the absolute
 * floor under which a gradient counts as "zero" (float noise of the forward / h). The numbers
 * are stated next to each check, with the measured errors; a deliberately wrong gradient must
 * fail the same rule (test_wrong_gradient_fails).
 * Shapes: B=2, T=3, F=2, H=3, 1 and 2 layers, K=3 sources (BCE, pos_weight != 1) or K=4 classes.
 */
#include <stdint.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "test.h"

/* Model gradients (float forward, h = 2^-5): the noise of the float forward pass, divided by
 * the step, leaves at most 7e-7 absolute (measured, own GEMM and OpenBLAS); the largest
 * gradients are 3e-3 .. 3e-1, so ATOL sits 3x above the noise and RTOL still catches a 1% error
 * in any gradient above 4e-4. */
#define MODEL_RTOL 5e-3
#define MODEL_ATOL 2e-6
/* The losses alone (loss in double, dlogits in float): measured 3e-7 relative, except that
 * near saturation sigmoid(x) - 1 is a float difference next to 1, whose absolute error is up to
 * norm * pos_weight * 2^-24 (1.5e-8 here; 9e-9 measured at x = 12). */
#define LOSS_RTOL 1e-6
#define LOSS_ATOL 2e-8
/* Random direction (h = 2^-7 on every parameter at once): measured rel_err <= 5e-6. */
#define DIR_RTOL 1e-4

#define B_ 2
#define T_ 3
#define F_ 2
#define H_ 3
#define STEP 0x1p-5 /* per element */
#ifndef DIR_STEP
#define DIR_STEP 0x1p-7 /* random direction: every parameter moves at once, so a smaller step */
#endif

/* A multiple of 2^-10 in [-a, a]. */
static float grid_uniform(struct rng *r, double a)
{
    return (float)(round((2.0 * rng_uniform(r) - 1.0) * a * 1024.0) / 1024.0);
}

/* ============================== comparison ============================== */

struct cmp_stats {
    size_t n, bad, tiny; /* checked, failed, below the absolute floor */
    double max_rel;      /* over elements above the floor */
    double max_abs;
    double max_g; /* largest |analytic| */
};

static int grad_ok(double num, double ana, double rtol, double atol)
{
    return fabs(num - ana) <= rtol * fmax(fabs(num), fabs(ana)) + atol;
}

static void cmp_add(struct cmp_stats *s, const char *what, size_t i, double num, double ana,
                    double rtol, double atol, int quiet)
{
    double d = fabs(num - ana);
    s->n++;
    if (d > s->max_abs) s->max_abs = d;
    if (fabs(ana) > s->max_g) s->max_g = fabs(ana);
    if (fmax(fabs(num), fabs(ana)) < 10 * atol)
        s->tiny++;
    else if (d / fmax(fabs(num), fabs(ana)) > s->max_rel)
        s->max_rel = d / fmax(fabs(num), fabs(ana));
    if (!grad_ok(num, ana, rtol, atol)) {
        if (!quiet && s->bad < 5)
            fprintf(stderr, "  %s[%zu]: numeric %.9g analytic %.9g\n", what, i, num, ana);
        s->bad++;
    }
}

static void cmp_print(const char *what, const struct cmp_stats *s)
{
    printf("  %-34s n=%-4zu max|g| %.1e  max rel %.1e  max abs %.1e  near zero %zu  bad %zu\n",
           what, s->n, s->max_g, s->max_rel, s->max_abs, s->tiny, s->bad);
}

/* ============================== the losses alone ============================== */

/* 4-point central difference of the expression f w.r.t. *v (a float on the 2^-10 grid), step h;
 * the result goes to the caller's `double fd_`. *v is restored. */
#define FD4(v, h, f)                                                                               \
    do {                                                                                           \
        float v0_ = *(v);                                                                          \
        double lp1_, lm1_, lp2_, lm2_;                                                             \
        *(v) = (float)(v0_ + (h));                                                                 \
        lp1_ = (f);                                                                                \
        *(v) = (float)(v0_ - (h));                                                                 \
        lm1_ = (f);                                                                                \
        *(v) = (float)(v0_ + 2 * (h));                                                             \
        lp2_ = (f);                                                                                \
        *(v) = (float)(v0_ - 2 * (h));                                                             \
        lm2_ = (f);                                                                                \
        *(v) = v0_;                                                                                \
        fd_ = (8.0 * (lp1_ - lm1_) - (lp2_ - lm2_)) / (12.0 * (h));                                \
    } while (0)

static void test_bce_dlogits(void)
{
    enum { B = 4, K = 3 };
    const float pw[K] = {2.0f, 0.5f, 3.0f}, norm = 1.0f / (B * K);
    float z[B * K], y[B * K], dz[B * K], scratch[B * K];
    struct rng r;
    rng_seed(&r, 11);
    for (int e = 0; e < B * K; e++) {
        z[e] = grid_uniform(&r, 4.0);
        y[e] = (float)(rng_next(&r) & 1);
    }
    z[0] = 12.0f; /* saturated on both sides */
    z[1] = -12.0f;
    double sum = loss_bce_logits(dz, z, y, pw, B, K, norm);
    /* the loss value against the formula of nn.BCEWithLogitsLoss, in double */
    double want = 0.0;
    for (int e = 0; e < B * K; e++) {
        double s = 1.0 / (1.0 + exp(-(double)z[e]));
        want -= pw[e % K] * y[e] * log(s) + (1.0 - y[e]) * log(1.0 - s);
    }
    CHECK_NEAR(sum, want, 1e-12 * want);
    struct cmp_stats st = {0};
    for (int e = 0; e < B * K; e++) {
        double fd_;
        FD4(&z[e], 0x1p-10, norm * loss_bce_logits(scratch, z, y, pw, B, K, norm));
        cmp_add(&st, "bce dlogits", (size_t)e, fd_, dz[e], LOSS_RTOL, LOSS_ATOL, 0);
    }
    cmp_print("loss_bce_logits dlogits", &st);
    CHECK(st.bad == 0);
}

static void test_ce_dlogits(void)
{
    enum { B = 3, K = 4 };
    const float norm = 1.0f / B;
    float z[B * K], dz[B * K], scratch[B * K];
    int32_t cls[B] = {0, 3, 2};
    struct rng r;
    rng_seed(&r, 12);
    for (int e = 0; e < B * K; e++)
        z[e] = grid_uniform(&r, 4.0);
    z[4 + 1] = 30.0f; /* row 1: a confident wrong class */
    double sum = loss_softmax_ce(dz, z, cls, B, K, norm);
    double want = 0.0;
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (int j = 0; j < K; j++)
            s += exp((double)z[b * K + j]);
        want += log(s) - z[b * K + cls[b]];
    }
    CHECK_NEAR(sum, want, 1e-12 * want);
    struct cmp_stats st = {0};
    for (int e = 0; e < B * K; e++) {
        double fd_;
        FD4(&z[e], 0x1p-10, norm * loss_softmax_ce(scratch, z, cls, B, K, norm));
        cmp_add(&st, "ce dlogits", (size_t)e, fd_, dz[e], LOSS_RTOL, LOSS_ATOL, 0);
    }
    cmp_print("loss_softmax_ce dlogits", &st);
    CHECK(st.bad == 0);
    /* every row of dlogits sums to 0 (softmax minus one-hot) */
    for (int b = 0; b < B; b++)
        CHECK_NEAR(dz[b * K] + dz[b * K + 1] + dz[b * K + 2] + dz[b * K + 3], 0.0, 1e-7);
}

/* ============================== the whole model ============================== */

struct gc {
    enum lstmsrc_task task;
    int L, D, K; /* layers, directions of the top layer, outputs */
    struct lstmsrc_model *m;
    struct model_ws *ws;
    float x[T_ * B_ * F_]; /* (T, B, F) */
    float y[B_ * 8];       /* (B, K) multi-label targets */
    int32_t cls[B_];       /* multi-class targets */
    float pw[8];           /* (K) */
    float dlogits[B_ * 8]; /* (B, K) */
    float *grads;          /* (n_params) */
};

/* dirs 2: a bidirectional top layer, labelled at the window's centre or last row (the
 * reverse direction then runs 2 or 1 of the T_ = 3 steps, the forward one 2 or 3). */
static int gc_open_dirs(struct gc *g, enum lstmsrc_task task, int layers, int dirs,
                        enum lstmsrc_label_at at, int k, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->task = task;
    g->L = layers;
    g->D = dirs;
    g->K = k;
    int multi = task == LSTMSRC_TASK_MULTILABEL;
    if (model_create(F_, H_, layers, dirs, k, T_, multi ? k : 1, task,
                     multi ? LSTMSRC_LABELS_SOURCES : LSTMSRC_LABELS_CLASS, &g->m,
                     NULL) != LSTMSRC_OK ||
        !model_set_framing(g->m, LSTMSRC_FEATURE_RAW, at))
        return 0;
    g->ws = model_ws_create(g->m, B_, 1);
    g->grads = calloc(g->m->n_params, sizeof *g->grads);
    if (!g->ws || !g->grads) return 0;
    struct rng r;
    rng_seed(&r, seed);
    /* weights large enough that the gates are away from 0.5 and the tanh is curved */
    for (size_t i = 0; i < g->m->n_params; i++)
        g->m->params[i] = grid_uniform(&r, 0.8);
    model_weights_changed(g->m);
    for (int i = 0; i < T_ * B_ * F_; i++)
        g->x[i] = grid_uniform(&r, 1.5);
    for (int j = 0; j < k; j++)
        g->pw[j] = multi ? 0.5f + 1.0f * (float)j : 1.0f;
    for (int e = 0; e < B_ * k; e++)
        g->y[e] = (float)(rng_next(&r) & 1);
    for (int b = 0; b < B_; b++)
        g->cls[b] = (int32_t)rng_below(&r, (uint64_t)k);
    return 1;
}

static int gc_open(struct gc *g, enum lstmsrc_task task, int layers, int k, uint64_t seed)
{
    return gc_open_dirs(g, task, layers, 1, LSTMSRC_LABEL_LAST, k, seed);
}

static void gc_close(struct gc *g)
{
    lstmsrc_model_free(g->m);
    model_ws_free(g->ws);
    free(g->grads);
}

/* Mean loss as training computes it (BCE norm 1/(B*K), CE norm 1/B), in double; writes
 * g->dlogits. */
static double gc_loss_from(struct gc *g, const float *logits)
{
    if (g->task == LSTMSRC_TASK_MULTILABEL) {
        const float norm = 1.0f / (float)(B_ * g->K);
        return norm * loss_bce_logits(g->dlogits, logits, g->y, g->pw, B_, g->K, norm);
    }
    const float norm = 1.0f / (float)B_;
    return norm * loss_softmax_ce(g->dlogits, logits, g->cls, B_, g->K, norm);
}

static double gc_loss(struct gc *g)
{
    model_weights_changed(g->m); /* a parameter was perturbed since the last call */
    return gc_loss_from(g, model_forward(g->m, g->ws, g->x, B_));
}

/* Analytic gradients of every parameter into g->grads. */
static void gc_backprop(struct gc *g)
{
    memset(g->grads, 0, g->m->n_params * sizeof *g->grads);
    gc_loss(g);
    model_backward(g->m, g->ws, g->grads, g->dlogits, B_);
}

/* Numerical gradient of every parameter into num (n_params). */
static void gc_numeric(struct gc *g, double *num)
{
    for (size_t i = 0; i < g->m->n_params; i++) {
        double fd_;
        FD4(&g->m->params[i], STEP, gc_loss(g));
        num[i] = fd_;
    }
}

/* Compares the blocks of the layout separately so a failure names the tensor. */
static size_t check_blocks(const struct gc *g, const double *num, const float *ana, double rtol,
                           double atol, int quiet)
{
    struct model_layout lay;
    LSTMSRC_ASSERT(model_layout_fill(&lay, F_, H_, g->L, g->D, g->K));
    struct {
        const char *name;
        size_t off, n;
    } blk[2 * LSTMSRC_MAX_LAYERS + 4];
    int nb = 0;
    static char names[2 * LSTMSRC_MAX_LAYERS][16];
    for (int l = 0; l < g->L; l++) {
        snprintf(names[2 * l], sizeof names[0], "w_%d", l);
        snprintf(names[2 * l + 1], sizeof names[0], "b_%d", l);
        blk[nb].name = names[2 * l];
        blk[nb].off = lay.w[l];
        blk[nb++].n = lay.b[l] - lay.w[l];
        blk[nb].name = names[2 * l + 1];
        blk[nb].off = lay.b[l];
        blk[nb++].n = 4 * H_;
    }
    if (g->D == 2) {
        blk[nb].name = "w_rev";
        blk[nb].off = lay.wr;
        blk[nb++].n = lay.br - lay.wr;
        blk[nb].name = "b_rev";
        blk[nb].off = lay.br;
        blk[nb++].n = 4 * H_;
    }
    blk[nb].name = "wd";
    blk[nb].off = lay.wd;
    blk[nb++].n = lay.bd - lay.wd;
    blk[nb].name = "bd";
    blk[nb].off = lay.bd;
    blk[nb++].n = (size_t)g->K;
    size_t bad = 0;
    for (int b = 0; b < nb; b++) {
        struct cmp_stats st = {0};
        for (size_t i = 0; i < blk[b].n; i++)
            cmp_add(&st, blk[b].name, i, num[blk[b].off + i], ana[blk[b].off + i], rtol, atol,
                    quiet);
        if (!quiet) {
            char what[64];
            snprintf(what, sizeof what, "%s L=%d%s K=%d %s",
                     g->task == LSTMSRC_TASK_MULTILABEL ? "bce" : "ce", g->L,
                     g->D == 2 ? (g->m->label_offset ? " bi centre" : " bi last") : "", g->K,
                     blk[b].name);
            cmp_print(what, &st);
        }
        bad += st.bad;
    }
    return bad;
}

static void check_all_params_dirs(enum lstmsrc_task task, int layers, int dirs,
                                  enum lstmsrc_label_at at, int k, uint64_t seed)
{
    struct gc g;
    int ok = gc_open_dirs(&g, task, layers, dirs, at, k, seed);
    CHECK(ok);
    if (ok) {
        double *num = malloc(g.m->n_params * sizeof *num);
        CHECK(num != NULL);
        if (num) {
            gc_backprop(&g);
            gc_numeric(&g, num);
            CHECK(check_blocks(&g, num, g.grads, MODEL_RTOL, MODEL_ATOL, 0) == 0);
            free(num);
        }
    }
    gc_close(&g);
}

static void check_all_params(enum lstmsrc_task task, int layers, int k, uint64_t seed)
{
    check_all_params_dirs(task, layers, 1, LSTMSRC_LABEL_LAST, k, seed);
}

/* a bidirectional top layer: its reverse direction, the head's second half and, with two
 * layers, the reverse direction's input gradient into the layer below (rows it read backwards) */
static void test_params_bidirectional(void)
{
    check_all_params_dirs(LSTMSRC_TASK_MULTILABEL, 1, 2, LSTMSRC_LABEL_CENTER, 3, 24);
    check_all_params_dirs(LSTMSRC_TASK_MULTILABEL, 1, 2, LSTMSRC_LABEL_LAST, 2, 25);
    check_all_params_dirs(LSTMSRC_TASK_MULTILABEL, 2, 2, LSTMSRC_LABEL_CENTER, 3, 26);
    check_all_params_dirs(LSTMSRC_TASK_MULTICLASS, 2, 2, LSTMSRC_LABEL_LAST, 4, 27);
    check_all_params_dirs(LSTMSRC_TASK_MULTICLASS, 1, 2, LSTMSRC_LABEL_CENTER, 3, 28);
}

static void test_params_bce_1layer(void)
{
    check_all_params(LSTMSRC_TASK_MULTILABEL, 1, 3, 21);
}
static void test_params_bce_2layer(void)
{
    check_all_params(LSTMSRC_TASK_MULTILABEL, 2, 3, 22);
}
static void test_params_ce_2layer(void)
{
    check_all_params(LSTMSRC_TASK_MULTICLASS, 2, 4, 23);
}

/* kann kad_check_grad: along a random +-1 direction d (exact steps on the grid), the change of
 * the loss must match g . d. Returns the relative error. */
static double random_direction_error(struct gc *g, const float *ana, uint64_t seed)
{
    const size_t n = g->m->n_params;
    float *p0 = malloc(n * sizeof *p0);
    signed char *d = malloc(n);
    LSTMSRC_ASSERT(p0 && d);
    memcpy(p0, g->m->params, n * sizeof *p0);
    struct rng r;
    rng_seed(&r, seed);
    double gd = 0.0;
    for (size_t i = 0; i < n; i++) {
        d[i] = (rng_next(&r) & 1) ? 1 : -1;
        gd += (double)ana[i] * d[i];
    }
    double lv[4];
    const double mult[4] = {1, -1, 2, -2};
    for (int s = 0; s < 4; s++) {
        for (size_t i = 0; i < n; i++)
            g->m->params[i] = (float)(p0[i] + mult[s] * DIR_STEP * d[i]);
        lv[s] = gc_loss(g);
    }
    memcpy(g->m->params, p0, n * sizeof *p0);
    double num = (8.0 * (lv[0] - lv[1]) - (lv[2] - lv[3])) / (12.0 * DIR_STEP);
    free(p0);
    free(d);
    return fabs(num - gd) / fmax(fabs(num), fabs(gd));
}

static void test_random_direction(void)
{
    const struct {
        enum lstmsrc_task task;
        int layers, k;
    } cases[] = {{LSTMSRC_TASK_MULTILABEL, 2, 3}, {LSTMSRC_TASK_MULTICLASS, 2, 4}};
    for (int c = 0; c < 2; c++) {
        struct gc g;
        int ok = gc_open(&g, cases[c].task, cases[c].layers, cases[c].k, 31 + (uint64_t)c);
        CHECK(ok);
        if (ok) {
            gc_backprop(&g);
            for (uint64_t s = 0; s < 3; s++) {
                double rel = random_direction_error(&g, g.grads, 100 + s);
                printf("  random direction %s L=2: rel_err %.2e\n", c ? "ce " : "bce", rel);
                CHECK(rel <= DIR_RTOL);
            }
        }
        gc_close(&g);
    }
}

/* ============================== input gradient (dx path) ============================== */

struct layer_mem {
    struct lstm_buf b;
    float *mem;
};

static int layer_alloc(struct layer_mem *lm, int I)
{
    const size_t IH = (size_t)I + H_, G = 4 * H_, TB = (size_t)T_ * B_;
    const size_t sz[] = {IH * G, TB * IH, TB * G,  TB * H_, TB * H_, TB * H_,
                         TB * G, B_ * H_, B_ * H_, B_ * H_, B_ * IH};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
        total += sz[i];
    lm->mem = calloc(total, sizeof(float));
    if (!lm->mem) return 0;
    float *p = lm->mem;
    float **dst[] = {&lm->b.wt, &lm->b.xh, &lm->b.gates,  &lm->b.c,  &lm->b.tc, &lm->b.h,
                     &lm->b.dz, &lm->b.dh, &lm->b.dhnext, &lm->b.dc, &lm->b.dxh};
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        *dst[i] = p;
        p += sz[i];
    }
    return 1;
}

/* Gradient of the loss w.r.t. the input x, through a 2-layer stack driven by lstm_forward /
 * lstm_backward directly (model_backward does not return dx): layer 1 hands its dx to layer 0
 * as dhseq, layer 0 writes dL/dx. Checked against finite differences of the model's own loss.
 * Also checks that this stack reproduces model_forward's logits and model_backward's grads. */
static void test_input_gradient(void)
{
    const enum lstmsrc_task tasks[2] = {LSTMSRC_TASK_MULTILABEL, LSTMSRC_TASK_MULTICLASS};
    for (int c = 0; c < 2; c++) {
        struct gc g;
        struct layer_mem l0 = {0}, l1 = {0};
        float *dw = NULL;
        int ok = gc_open(&g, tasks[c], 2, c ? 4 : 3, 41 + (uint64_t)c) && layer_alloc(&l0, F_) &&
                 layer_alloc(&l1, H_);
        CHECK(ok);
        if (!ok) goto next;
        const int K = g.K;
        struct model_layout lay;
        LSTMSRC_ASSERT(model_layout_fill(&lay, F_, H_, 2, 1, K));
        const float *P = g.m->params;
        dw = calloc(g.m->n_params, sizeof *dw);
        LSTMSRC_ASSERT(dw != NULL);

        /* forward: two layers, then the head in double */
        lstm_forward(&l0.b, g.x, P + lay.w[0], P + lay.b[0], B_, T_, F_, H_, 0);
        lstm_forward(&l1.b, l0.b.h, P + lay.w[1], P + lay.b[1], B_, T_, H_, H_, 0);
        const float *hl = l1.b.h + (size_t)(T_ - 1) * B_ * H_;
        float logits[B_ * 8];
        for (int b = 0; b < B_; b++)
            for (int j = 0; j < K; j++) {
                double s = P[lay.bd + j];
                for (int u = 0; u < H_; u++)
                    s += (double)P[lay.wd + j * H_ + u] * hl[b * H_ + u];
                logits[b * K + j] = (float)s;
            }
        const float *ml = model_forward(g.m, g.ws, g.x, B_);
        for (int e = 0; e < B_ * K; e++)
            CHECK_NEAR(logits[e], ml[e], 1e-6);
        gc_loss_from(&g, logits);

        /* backward: head, layer 1 (dx -> dh of layer 0), layer 0 (dx -> dL/dx) */
        float dh1[T_ * B_ * H_] = {0}, dh0[T_ * B_ * H_] = {0}, dx[T_ * B_ * F_] = {0};
        for (int b = 0; b < B_; b++)
            for (int u = 0; u < H_; u++) {
                double s = 0.0;
                for (int j = 0; j < K; j++)
                    s += (double)g.dlogits[b * K + j] * P[lay.wd + j * H_ + u];
                dh1[(T_ - 1) * B_ * H_ + b * H_ + u] = (float)s;
            }
        lstm_backward(dw + lay.w[1], dw + lay.b[1], dh0, &l1.b, dh1, P + lay.w[1], B_, T_, H_, H_);
        lstm_backward(dw + lay.w[0], dw + lay.b[0], dx, &l0.b, dh0, P + lay.w[0], B_, T_, F_, H_);

        /* the LSTM weight gradients agree with model_backward's */
        gc_backprop(&g);
        for (size_t i = 0; i < lay.wd; i++)
            CHECK_NEAR(dw[i], g.grads[i], 1e-6 * fabs(g.grads[i]) + 1e-8);

        /* dL/dx against finite differences of the model's loss */
        struct cmp_stats st = {0};
        for (int i = 0; i < T_ * B_ * F_; i++) {
            double fd_;
            FD4(&g.x[i], STEP, gc_loss(&g));
            cmp_add(&st, "dx", (size_t)i, fd_, dx[i], MODEL_RTOL, MODEL_ATOL, 0);
        }
        cmp_print(c ? "dL/dx ce L=2 (through layer 1 dx)" : "dL/dx bce L=2 (through layer 1 dx)",
                  &st);
        CHECK(st.bad == 0);
        CHECK(st.tiny < st.n / 2); /* the check is not vacuous */
    next:
        free(dw);
        free(l0.mem);
        free(l1.mem);
        gc_close(&g);
    }
}

/* ============================== the check can fail ============================== */

/* A gradient that is a little wrong must fail the same rules: the largest layer-0 weight gradient
 * 5% off (the per-element check), and every gradient 1% short (the random-direction check). */
static void test_wrong_gradient_fails(void)
{
    struct gc g;
    int ok = gc_open(&g, LSTMSRC_TASK_MULTILABEL, 2, 3, 22);
    CHECK(ok);
    double *num = ok ? malloc(g.m->n_params * sizeof *num) : NULL;
    CHECK(num != NULL);
    if (ok && num) {
        const size_t n = g.m->n_params;
        gc_backprop(&g);
        gc_numeric(&g, num);
        CHECK(check_blocks(&g, num, g.grads, MODEL_RTOL, MODEL_ATOL, 1) == 0);
        /* the largest gradient of w_0, 5% off: exactly one failure */
        struct model_layout lay;
        LSTMSRC_ASSERT(model_layout_fill(&lay, F_, H_, 2, 1, 3));
        size_t worst = lay.w[0];
        for (size_t i = lay.w[0]; i < lay.b[0]; i++)
            if (fabs(g.grads[i]) > fabs(g.grads[worst])) worst = i;
        float keep = g.grads[worst];
        g.grads[worst] *= 1.05f;
        CHECK(check_blocks(&g, num, g.grads, MODEL_RTOL, MODEL_ATOL, 1) == 1);
        g.grads[worst] = keep;
        float *scaled = malloc(n * sizeof *scaled);
        CHECK(scaled != NULL);
        if (scaled) {
            for (size_t i = 0; i < n; i++)
                scaled[i] = 0.99f * g.grads[i];
            double rel = random_direction_error(&g, scaled, 100);
            printf("  1%%-wrong gradient: random direction rel_err %.2e (must exceed %.0e)\n", rel,
                   DIR_RTOL);
            CHECK(rel > DIR_RTOL);
            free(scaled);
        }
    }
    free(num);
    gc_close(&g);
}

int main(void)
{
    RUN(test_bce_dlogits);
    RUN(test_ce_dlogits);
    RUN(test_params_bce_1layer);
    RUN(test_params_bce_2layer);
    RUN(test_params_ce_2layer);
    RUN(test_params_bidirectional);
    RUN(test_random_direction);
    RUN(test_input_gradient);
    RUN(test_wrong_gradient_fails);
    return test_report("test_gradcheck");
}
