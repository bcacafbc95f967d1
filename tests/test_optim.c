/*
 * test_optim.c — adam_step against a double-precision transcription of torch.optim.Adam
 * (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html, no weight decay), and
 * clip_grad_norm against torch.nn.utils.clip_grad_norm_ (coefficient max_norm / (norm + 1e-6)).
 *
 * Tolerances: moments 1e-6 relative; parameters 2e-7 absolute per step taken (a float32
 * parameter near 1 has an ulp of 1.2e-7, and each update is about lr in size).
 */
#include <string.h>

#include "nn/optim.h"
#include "test.h"

#define N 8
#define STEPS 10

/* Gradients with every kind of size: zero, below eps, small, ordinary, large, both signs, and
 * a sign change over the steps. */
static float grad_at(int i, long t)
{
    static const float base[N] = {0.0f, 3e-9f, -1e-4f, 0.02f, -0.5f, 1.0f, -30.0f, 0.25f};
    float g = base[i] * (1.0f + 0.1f * (float)t);
    if (i == 7 && t % 3 == 0) g = -g;
    return g;
}

static void test_adam_matches_double_reference(void)
{
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    float p[N], g[N], m[N] = {0}, v[N] = {0};
    double pd[N], md[N] = {0}, vd[N] = {0};
    for (int i = 0; i < N; i++)
        pd[i] = p[i] = 0.5f - 0.3f * (float)i;
    for (long t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++)
            g[i] = grad_at(i, t);
        adam_step(p, g, m, v, N, lr, b1, b2, eps, t);
        /* reference, in double from the same float hyper-parameters */
        double bc1 = 1.0 - pow((double)b1, (double)t), bc2 = 1.0 - pow((double)b2, (double)t);
        for (int i = 0; i < N; i++) {
            md[i] = (double)b1 * md[i] + (1.0 - (double)b1) * g[i];
            vd[i] = (double)b2 * vd[i] + (1.0 - (double)b2) * (double)g[i] * g[i];
            pd[i] -= ((double)lr / bc1) * md[i] / (sqrt(vd[i]) / sqrt(bc2) + (double)eps);
        }
        for (int i = 0; i < N; i++) {
            CHECK_NEAR(m[i], md[i], 1e-6 * fabs(md[i]) + 1e-30);
            CHECK_NEAR(v[i], vd[i], 1e-6 * fabs(vd[i]) + 1e-30);
            CHECK_NEAR(p[i], pd[i], 2e-7 * (double)t);
        }
    }
}

/* Step 1 of Adam moves every parameter whose gradient dwarfs eps by lr against its sign, and
 * leaves a parameter with zero gradient where it is. */
static void test_adam_first_step(void)
{
    const float lr = 1e-2f;
    float p[N], g[N], m[N] = {0}, v[N] = {0}, p0[N];
    for (int i = 0; i < N; i++) {
        p0[i] = p[i] = 0.1f * (float)i;
        g[i] = grad_at(i, 0);
    }
    adam_step(p, g, m, v, N, lr, 0.9f, 0.999f, 1e-7f, 1);
    CHECK(p[0] == p0[0]);
    for (int i = 2; i < N; i++) {
        double want = p0[i] - (g[i] > 0 ? lr : -lr) * (fabs(g[i]) / (fabs(g[i]) + 1e-7));
        CHECK_NEAR(p[i], want, 1e-6);
    }
    /* below eps, the step shrinks in proportion: 3e-9 / (3e-9 + 1e-7) of lr */
    CHECK_NEAR(p[1], p0[1] - lr * 3e-9 / (3e-9 + 1e-7), 1e-7);
}

static void test_adam_zero_lr_keeps_params(void)
{
    float p[N], g[N], m[N] = {0}, v[N] = {0}, p0[N];
    for (int i = 0; i < N; i++) {
        p0[i] = p[i] = (float)i - 3.0f;
        g[i] = grad_at(i, 1);
    }
    adam_step(p, g, m, v, N, 0.0f, 0.9f, 0.999f, 1e-7f, 1);
    CHECK(memcmp(p, p0, sizeof p) == 0);
    CHECK_NEAR(m[5], 0.1 * g[5], 1e-7); /* the moments still move */
}

static double norm2(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}

static void test_clip_below_max_is_noop(void)
{
    float g[N], g0[N];
    for (int i = 0; i < N; i++)
        g0[i] = g[i] = 0.01f * (float)(i - 4);
    double nrm = norm2(g, N);
    CHECK_NEAR(clip_grad_norm(g, N, 1.0f), nrm, 1e-12);
    CHECK(memcmp(g, g0, sizeof g) == 0);
    /* max_norm 0 means clipping is off, whatever the norm */
    for (int i = 0; i < N; i++)
        g0[i] = g[i] = 100.0f * (float)(i + 1);
    CHECK_NEAR(clip_grad_norm(g, N, 0.0f), norm2(g0, N), 1e-9 * norm2(g0, N));
    CHECK(memcmp(g, g0, sizeof g) == 0);
    /* all zero: norm 0, no NaN */
    memset(g, 0, sizeof g);
    CHECK(clip_grad_norm(g, N, 1.0f) == 0.0);
    for (int i = 0; i < N; i++)
        CHECK(g[i] == 0.0f);
}

static void test_clip_above_max_scales_to_max(void)
{
    const float max_norm = 0.5f;
    float g[N], g0[N];
    for (int i = 0; i < N; i++)
        g0[i] = g[i] = grad_at(i, 2);
    double before = norm2(g, N);
    CHECK(before > 10.0 * max_norm);
    /* returns the norm before clipping */
    CHECK_NEAR(clip_grad_norm(g, N, max_norm), before, 1e-12 * before);
    /* torch's coefficient max_norm / (norm + 1e-6): the new norm is max_norm to ~1e-6 */
    double after = norm2(g, N);
    CHECK_NEAR(after, max_norm * before / (before + 1e-6), 1e-6 * max_norm);
    CHECK_NEAR(after, max_norm, 2e-6 * max_norm);
    /* the direction is kept: every element scaled by the same factor */
    double s = max_norm / (before + 1e-6);
    for (int i = 0; i < N; i++)
        CHECK_NEAR(g[i], s * g0[i], 1e-6 * fabs(s * g0[i]) + 1e-30);
    /* clipping again is (nearly) a no-op */
    memcpy(g0, g, sizeof g);
    clip_grad_norm(g, N, max_norm);
    for (int i = 0; i < N; i++)
        CHECK_NEAR(g[i], g0[i], 1e-5 * fabs(g0[i]) + 1e-30);
}

int main(void)
{
    RUN(test_adam_matches_double_reference);
    RUN(test_adam_first_step);
    RUN(test_adam_zero_lr_keeps_params);
    RUN(test_clip_below_max_is_noop);
    RUN(test_clip_above_max_scales_to_max);
    return test_report("test_optim");
}
