/*
 * test_kernels.c — the kernels against references that share no code with them:
 *   - every product (gemm_nn_own, gemm_tn_own, gemm_tn_seg, gemm_packed) against a product in
 *     double, on shapes that are not multiples of the 6 x 16 tile (M, N from 1 to 67, K up to 600);
 *   - batch independence: each row of a product, and each window of an LSTM forward, gives the
 *     same bits alone as inside any batch (what stream == predict rests on);
 *   - the AVX2 kernels against the portable ones (when this machine runs AVX2);
 *   - exp, sigmoid and tanh against libm over their whole useful range, in ulps or absolute;
 *   - the LSTM fast path (packed, row-blocked) against the plain path, forward and backward,
 *     with B past one row block and odd I and H;
 *   - model_train_step (fused per block) against model_forward + loss + model_backward: the
 *     same gradient bits.
 * Bounds are stated next to each check with what was measured.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/common.h"
#include "base/rng.h"
#include "nn/head.h"
#include "nn/kernels.h"
#include "nn/lstm.h"
#include "nn/model.h"
#include "test.h"
#include "testrand.h"

/* |got - want| <= tol * (sum of |terms| + 1e-30): the float error of a dot product of K terms is
 * bounded by about K * 2^-24 times the sum of the terms' magnitudes. */
static int near_sum(double got, double want, double mag, double tol)
{
    return fabs(got - want) <= tol * mag + 1e-30;
}

/* ============================== products ============================== */

static const int dims_m[] = {1, 2, 5, 6, 7, 13, 48, 67};
static const int dims_n[] = {1, 3, 8, 15, 16, 17, 33, 64};
static const int dims_k[] = {1, 2, 7, 16, 65, 600};
#define NDIM(a) (int)(sizeof a / sizeof a[0])

/* gemm_nn_own C = beta*C + A B, against double; and every row alone equals the same row in the
 * batch, bit for bit. */
static void test_gemm_nn_own(void)
{
    struct rng r;
    rng_seed(&r, 1);
    int bad = 0, bad_rows = 0, cases = 0;
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++)
                for (int e = 0; e < 3; e++) {
                    const int M = dims_m[a], N = dims_n[b], K = dims_k[c];
                    const int lda = K + 3, ldb = N + 5, ldc = N + 2; /* strides past the width */
                    float *A = randv(&r, (size_t)M * lda, 1), *B = randv(&r, (size_t)K * ldb, 1);
                    float *C = randv(&r, (size_t)M * ldc, 1), *C0 = malloc((size_t)M * ldc * 4);
                    float *row = malloc((size_t)ldc * 4);
                    memcpy(C0, C, (size_t)M * ldc * 4);
                    gemm_nn_own(C, ldc, A, lda, B, ldb, M, N, K, betas[e]);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            double s = betas[e] == 0.0f ? 0.0 : (double)betas[e] * C0[i * ldc + j];
                            double mag = fabs(s);
                            for (int k = 0; k < K; k++) {
                                s += (double)A[i * lda + k] * B[k * ldb + j];
                                mag += fabs((double)A[i * lda + k] * B[k * ldb + j]);
                            }
                            bad += !near_sum(C[i * ldc + j], s, mag, (K + 2) * 0x1p-23);
                        }
                    /* each row alone (M = 1) */
                    for (int i = 0; i < M; i++) {
                        memcpy(row, C0 + i * ldc, (size_t)ldc * 4);
                        gemm_nn_own(row, ldc, A + i * lda, lda, B, ldb, 1, N, K, betas[e]);
                        bad_rows += memcmp(row, C + i * ldc, (size_t)N * 4) != 0;
                    }
                    cases++;
                    free(A);
                    free(B);
                    free(C);
                    free(C0);
                    free(row);
                }
    printf("  gemm_nn_own: %d shapes, %d elements off, %d rows differ alone (simd %d)\n", cases,
           bad, bad_rows, kernels_simd());
    CHECK(bad == 0);
    CHECK(bad_rows == 0);
}

/* gemm_tn_own (C += A^T B) and gemm_tn_seg (over segments, skipping segment 0 for the first
 * rows) against double. */
static void test_gemm_tn(void)
{
    struct rng r;
    rng_seed(&r, 2);
    int bad = 0, cases = 0;
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++) {
                const int M = dims_m[a], N = dims_n[b], K = dims_k[c], nseg = 3;
                const int lda = M + 1, ldb = N + 3, ldc = N + 1, skip = M / 2;
                const size_t aseg = (size_t)K * lda + 5, bseg = (size_t)K * ldb + 7;
                float *A = randv(&r, nseg * aseg, 1), *B = randv(&r, nseg * bseg, 1);
                float *C = randv(&r, (size_t)M * ldc, 1), *C0 = malloc((size_t)M * ldc * 4);
                float *S = malloc((size_t)M * ldc * 4);
                memcpy(C0, C, (size_t)M * ldc * 4);
                memcpy(S, C, (size_t)M * ldc * 4);
                /* the contract of skip_below: A_0 is zero in those columns */
                for (int k = 0; k < K; k++)
                    for (int i = 0; i < skip; i++)
                        A[k * lda + i] = 0.0f;
                gemm_tn_own(C, ldc, A, lda, B, ldb, M, N, K);
                gemm_tn_seg(S, ldc, A, lda, aseg, B, ldb, bseg, M, N, K, nseg, skip);
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) {
                        double s = C0[i * ldc + j], mag = fabs(s), ss = s, smag = mag;
                        for (int g = 0; g < nseg; g++)
                            for (int k = 0; k < K; k++) {
                                double p =
                                    (double)A[g * aseg + k * lda + i] * B[g * bseg + k * ldb + j];
                                if (g == 0) {
                                    s += p;
                                    mag += fabs(p);
                                }
                                ss += p;
                                smag += fabs(p);
                            }
                        bad += !near_sum(C[i * ldc + j], s, mag, (K + 2) * 0x1p-23);
                        bad += !near_sum(S[i * ldc + j], ss, smag, (nseg * K + 2) * 0x1p-23);
                    }
                cases++;
                free(A);
                free(B);
                free(C);
                free(C0);
                free(S);
            }
    printf("  gemm_tn_own / gemm_tn_seg: %d shapes, %d elements off\n", cases, bad);
    CHECK(bad == 0);
}

/* gemm_packed with two A sources, bias / zero / accumulate starts and K2 = 0, against double;
 * rows alone equal rows in the batch bit for bit; AVX2 against portable. */
static void test_gemm_packed(void)
{
    struct rng r;
    rng_seed(&r, 3);
    int bad = 0, bad_rows = 0, bad_port = 0, cases = 0;
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++)
                for (int mode = 0; mode < 4; mode++) {
                    const int M = dims_m[a], N = dims_n[b], K1 = dims_k[c], Kb = 5;
                    const int K2 = mode == 3 ? 0 : Kb, kp = K1 + Kb; /* mode 3: skip A2 */
                    const int lda1 = K1 + 1, lda2 = Kb + 2, ldc = N + 3;
                    float *A1 = randv(&r, (size_t)M * lda1, 1),
                          *A2 = randv(&r, (size_t)M * lda2, 1);
                    float *W = randv(&r, (size_t)N * kp, 1); /* (N, kp): B = W^T */
                    float *bias = randv(&r, (size_t)N, 1), *bp = malloc(pack_floats(kp, N) * 4);
                    float *C = randv(&r, (size_t)M * ldc, 1), *C0 = malloc((size_t)M * ldc * 4);
                    float *P = malloc((size_t)M * ldc * 4), *row = malloc((size_t)ldc * 4);
                    memcpy(C0, C, (size_t)M * ldc * 4);
                    memcpy(P, C, (size_t)M * ldc * 4);
                    pack_b_t(bp, W, kp, kp, N);
                    const float *bs = mode == 1 ? bias : NULL;
                    const int acc = mode == 2;
                    gemm_packed(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp, bs, acc, M, N);
                    gemm_packed_portable(P, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp, bs, acc, M, N);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            double s = acc ? C0[i * ldc + j] : bs ? bias[j] : 0.0, mag = fabs(s);
                            for (int k = 0; k < K1; k++) {
                                s += (double)A1[i * lda1 + k] * W[j * kp + k];
                                mag += fabs((double)A1[i * lda1 + k] * W[j * kp + k]);
                            }
                            for (int k = 0; k < K2; k++) {
                                s += (double)A2[i * lda2 + k] * W[j * kp + K1 + k];
                                mag += fabs((double)A2[i * lda2 + k] * W[j * kp + K1 + k]);
                            }
                            const double tol = (K1 + K2 + 2) * 0x1p-23;
                            bad += !near_sum(C[i * ldc + j], s, mag, tol);
                            /* the two implementations round differently (FMA), same bound */
                            bad_port += !near_sum(P[i * ldc + j], s, mag, tol);
                        }
                    for (int i = 0; i < M; i++) {
                        memcpy(row, C0 + i * ldc, (size_t)ldc * 4);
                        gemm_packed(row, ldc, A1 + i * lda1, lda1, K1, A2 + i * lda2, lda2, K2, bp,
                                    kp, bs, acc, 1, N);
                        bad_rows += memcmp(row, C + i * ldc, (size_t)N * 4) != 0;
                    }
                    cases++;
                    free(A1);
                    free(A2);
                    free(W);
                    free(bias);
                    free(bp);
                    free(C);
                    free(C0);
                    free(P);
                    free(row);
                }
    printf("  gemm_packed: %d shapes, %d elements off (portable %d), %d rows differ alone\n", cases,
           bad, bad_port, bad_rows);
    CHECK(bad == 0);
    CHECK(bad_port == 0);
    CHECK(bad_rows == 0);
}

/* ============================== activations ============================== */

static double ulp_err(double got, double want)
{
    if (got == want) return 0.0;
    double u = nextafterf((float)fabs(want), INFINITY) - (float)fabs(want);
    return fabs(got - want) / u;
}

/* scalar_expf against libm's exp in double over [-87, 88]: measured 1.5 ulp max. */
static void test_exp(void)
{
    double worst = 0, at = 0;
    for (double x = -87.0; x <= 88.0; x += 0.000731) {
        double e = ulp_err(scalar_expf((float)x), exp((double)(float)x));
        if (e > worst) worst = e, at = x;
    }
    printf("  exp: max %.2f ulp (at %.4f)\n", worst, at);
    CHECK(worst <= 3.0);
    CHECK(scalar_expf(100.0f) == scalar_expf(88.0f) && isfinite(scalar_expf(100.0f)));
    CHECK(scalar_expf(-100.0f) >= 0.0f && scalar_expf(-100.0f) < 1e-37f);
}

/* vec_sigmoid: relative error (measured 2.3 ulp; the division adds to the exp's); vec_tanh:
 * absolute error, since 2 sigmoid(2x) - 1 cancels near 0 (measured 1.2e-7). And the same
 * through the cell, which holds the AVX2 activations: a row whose state is zero makes
 * c = i * g, so h = o * tanh(i * g) checks all four against libm. */
static void test_sigmoid_tanh(void)
{
    enum { N = 4096 };
    static float x[N], s[N], t[N];
    double ws = 0, wt = 0;
    for (double x0 = -40.0; x0 < 40.0; x0 += N * 0.0037) {
        for (int i = 0; i < N; i++)
            x[i] = (float)(x0 + i * 0.0037);
        vec_sigmoid(s, x, N);
        vec_tanh(t, x, N);
        for (int i = 0; i < N; i++) {
            double sg = 1.0 / (1.0 + exp(-(double)x[i]));
            double e = sg > 1e-30 ? ulp_err(s[i], sg) : 0.0;
            ws = e > ws ? e : ws;
            double et = fabs(t[i] - tanh((double)x[i]));
            wt = et > wt ? et : wt;
        }
    }
    printf("  sigmoid: max %.2f ulp;  tanh: max abs error %.2e\n", ws, wt);
    CHECK(ws <= 4.0);
    CHECK(wt <= 3e-7);

    /* the cell (AVX2 when available): one row of H = 29 units per argument triple */
    enum { H = 29 };
    float z[4 * H], c[H], tc[H], h[H];
    double wh = 0, wg = 0;
    for (double x0 = -12.0; x0 < 12.0; x0 += 0.37) {
        for (int j = 0; j < 4 * H; j++)
            z[j] = (float)(x0 + 0.011 * j);
        float zin[4 * H];
        memcpy(zin, z, sizeof z);
        lstm_cell_forward(z, c, tc, h, H, NULL, NULL, 1, H);
        for (int j = 0; j < H; j++) {
            double i = 1.0 / (1.0 + exp(-(double)zin[j])), g = tanh((double)zin[2 * H + j]);
            double o = 1.0 / (1.0 + exp(-(double)zin[3 * H + j]));
            double cc = i * g, hh = o * tanh(cc);
            double e = fabs(h[j] - hh);
            wh = e > wh ? e : wh;
            e = fabs(z[j] - i) + fabs(z[2 * H + j] - g) + fabs(c[j] - cc);
            wg = e > wg ? e : wg;
        }
    }
    printf("  cell forward (simd %d): gates + c max abs error %.2e, h %.2e\n", kernels_simd(), wg,
           wh);
    CHECK(wg <= 6e-7);
    CHECK(wh <= 6e-7);

    /* NaN in, NaN out: a diverged run must show, not be clamped into range */
    for (int j = 0; j < 4 * H; j++)
        z[j] = j == 3 ? NAN : 0.5f;
    lstm_cell_forward(z, c, tc, h, H, NULL, NULL, 1, H);
    CHECK(isnan(z[3]) && isnan(c[3]) && isnan(h[3]));
    CHECK(!isnan(h[4]));
}

/* The AVX2 cell against the portable one, forward and backward, with c_prev, odd H. */
static void test_cell_simd_vs_portable(void)
{
    struct rng r;
    rng_seed(&r, 4);
    const int B = 7, H = 13, G = 4 * H, LDZ = G + 5;
    float *z = randv(&r, (size_t)B * G, 4), *z2 = malloc((size_t)B * G * 4);
    float *cp = randv(&r, (size_t)B * H, 2), *bias = randv(&r, G, 1);
    float *c = malloc((size_t)B * H * 4), *c2 = malloc((size_t)B * H * 4);
    float *tc = malloc((size_t)B * H * 4), *tc2 = malloc((size_t)B * H * 4);
    float *h = malloc((size_t)B * H * 4), *h2 = malloc((size_t)B * H * 4);
    memcpy(z2, z, (size_t)B * G * 4);
    lstm_cell_forward(z, c, tc, h, H, cp, bias, B, H);
    lstm_cell_forward_portable(z2, c2, tc2, h2, H, cp, bias, B, H);
    double wf = 0;
    for (int e = 0; e < B * G; e++)
        wf = fmax(wf, fabs(z[e] - z2[e]));
    for (int e = 0; e < B * H; e++)
        wf = fmax(wf, fmax(fabs(c[e] - c2[e]), fabs(h[e] - h2[e])));
    float *dh1 = randv(&r, (size_t)B * H, 1), *dh2 = randv(&r, (size_t)B * H, 1);
    float *dc = randv(&r, (size_t)B * H, 1), *dc2 = malloc((size_t)B * H * 4);
    float *dz = calloc((size_t)B * LDZ, 4), *dzp = calloc((size_t)B * LDZ, 4);
    memcpy(dc2, dc, (size_t)B * H * 4);
    lstm_cell_backward2(dz, LDZ, dc, dh1, dh2, z, cp, tc, B, H);
    lstm_cell_backward_portable(dzp, LDZ, dc2, dh1, dh2, z, cp, tc, B, H);
    double wb = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < G; j++)
            wb = fmax(wb, fabs(dz[i * LDZ + j] - dzp[i * LDZ + j]));
    for (int e = 0; e < B * H; e++)
        wb = fmax(wb, fabs(dc[e] - dc2[e]));
    printf("  cell simd vs portable: forward %.2e, backward %.2e\n", wf, wb);
    CHECK(wf <= 5e-7);
    CHECK(wb <= 5e-6);
    float *all[] = {z, z2, cp, bias, c, c2, tc, tc2, h, h2, dh1, dh2, dc, dc2, dz, dzp};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* ============================== LSTM fast path vs plain path ============================== */

struct bufs {
    struct lstm_buf b;
    float *mem;
};

/* fast: the buffers model.c gives the fast path; plain: those the plain path reads */
static void bufs_alloc(struct bufs *s, int fast, int T, int B, int I, int H)
{
    const size_t TB = (size_t)T * B, G = 4 * (size_t)H, IH = (size_t)I + H;
    size_t sz[16], n = 0, total = 0;
    memset(s, 0, sizeof *s);
    sz[n++] = TB * G;                                                           /* gates */
    sz[n++] = TB * H;                                                           /* c */
    sz[n++] = TB * H;                                                           /* tc */
    sz[n++] = TB * H;                                                           /* h */
    sz[n++] = fast ? TB * lstm_fast_floats(LSTM_FAST_DZ_ROW, T, I, H) : TB * G; /* dz */
    sz[n++] = (size_t)B * H;                                                    /* dhnext */
    sz[n++] = (size_t)B * H;                                                    /* dc */
    if (fast)
        for (int q = LSTM_FAST_WF; q <= LSTM_FAST_XA; q++)
            sz[n++] = lstm_fast_floats((enum lstm_fast_buf)q, T, I, H);
    else {
        sz[n++] = IH * G;         /* wt */
        sz[n++] = TB * IH;        /* xh */
        sz[n++] = (size_t)B * H;  /* dh */
        sz[n++] = (size_t)B * IH; /* dxh */
    }
    for (size_t i = 0; i < n; i++)
        total += sz[i];
    s->mem = calloc(total, sizeof(float));
    if (!s->mem) abort();
    float *p = s->mem, **dst_fast[] = {&s->b.wf, &s->b.wbh, &s->b.wbx, &s->b.dwt, &s->b.xa};
    float **dst_plain[] = {&s->b.wt, &s->b.xh, &s->b.dh, &s->b.dxh};
    float **common[] = {&s->b.gates, &s->b.c, &s->b.tc, &s->b.h, &s->b.dz, &s->b.dhnext, &s->b.dc};
    size_t k = 0;
    for (int i = 0; i < 7; i++, k++)
        *common[i] = p, p += sz[k];
    for (int i = 0; i < (fast ? 5 : 4); i++, k++)
        *(fast ? dst_fast : dst_plain)[i] = p, p += sz[k];
}

static void test_lstm_fast_vs_plain(void)
{
    struct rng r;
    rng_seed(&r, 5);
    const int shapes[][4] = {/* T, B, I, H */ {3, 53, 2, 5}, {4, 7, 1, 16}, {2, 97, 3, 9}};
    for (int sh = 0; sh < 3; sh++) {
        const int T = shapes[sh][0], B = shapes[sh][1], I = shapes[sh][2], H = shapes[sh][3];
        const int G = 4 * H, IH = I + H;
        float *w = randv(&r, (size_t)G * IH, 0.5), *b = randv(&r, (size_t)G, 0.5);
        float *x = randv(&r, (size_t)T * B * I, 1.5), *dhs = randv(&r, (size_t)T * B * H, 0.3);
        struct bufs f, p;
        bufs_alloc(&f, 1, T, B, I, H);
        bufs_alloc(&p, 0, T, B, I, H);
        lstm_forward(&f.b, x, w, b, B, T, I, H, 1);
        lstm_forward(&p.b, x, w, b, B, T, I, H, 1);
        double wh = 0;
        for (size_t e = 0; e < (size_t)T * B * H; e++)
            wh = fmax(wh, fabs(f.b.h[e] - p.b.h[e]));
        float *dwf = calloc((size_t)G * IH, 4), *dwp = calloc((size_t)G * IH, 4);
        float *dbf = calloc(G, 4), *dbp = calloc(G, 4);
        float *dxf = calloc((size_t)T * B * I, 4), *dxp = calloc((size_t)T * B * I, 4);
        lstm_backward(dwf, dbf, dxf, &f.b, dhs, w, B, T, I, H);
        lstm_backward(dwp, dbp, dxp, &p.b, dhs, w, B, T, I, H);
        double wd = 0, mag = 0;
        for (int e = 0; e < G * IH; e++) {
            wd = fmax(wd, fabs(dwf[e] - dwp[e]));
            mag = fmax(mag, fabs(dwp[e]));
        }
        for (int e = 0; e < G; e++)
            wd = fmax(wd, fabs(dbf[e] - dbp[e]));
        for (int e = 0; e < T * B * I; e++)
            wd = fmax(wd, fabs(dxf[e] - dxp[e]));
        printf("  lstm T=%d B=%d I=%d H=%d: fast vs plain h %.2e, grads %.2e (largest %.2e)\n", T,
               B, I, H, wh, wd, mag);
        CHECK(wh <= 2e-6);
        CHECK(wd <= 2e-6 * (mag + 1));
        CHECK(mag > 1e-3); /* not vacuous */

        /* every window alone gives the bits it has in the batch */
        int differ = 0;
        struct bufs one;
        bufs_alloc(&one, 1, T, 1, I, H);
        float *x1 = malloc((size_t)T * I * 4);
        for (int row = 0; row < B; row += 5) {
            for (int t = 0; t < T; t++)
                memcpy(x1 + t * I, x + ((size_t)t * B + row) * I, (size_t)I * 4);
            lstm_forward(&one.b, x1, w, b, 1, T, I, H, 1);
            for (int t = 0; t < T; t++)
                differ +=
                    memcmp(one.b.h + t * H, f.b.h + ((size_t)t * B + row) * H, (size_t)H * 4) != 0;
        }
        CHECK(differ == 0);
        free(x1);
        free(one.mem);

        /* inference scratch (gates, c, tc per block) gives the same h, bit for bit */
        struct bufs sc;
        bufs_alloc(&sc, 1, T, B, I, H);
        sc.b.scratch = 1;
        sc.b.dz = NULL; /* forward only */
        lstm_forward(&sc.b, x, w, b, B, T, I, H, 1);
        CHECK(memcmp(sc.b.h, f.b.h, (size_t)T * B * H * sizeof(float)) == 0);
        free(sc.mem);
        float *all[] = {w, b, x, dhs, dwf, dwp, dbf, dbp, dxf, dxp, f.mem, p.mem};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            free(all[i]);
    }
}

/* --precision bf16 on the fast path (its products: the gates, dh, dx, and on the AMX kernels
 * each step's dW_h as its transpose) against the fp32 plain path: within bf16's rounding of the
 * operands, relative to the largest value */
static void test_lstm_bf16_vs_fp32(void)
{
    if (!kernels_bf16_supported()) {
        SKIP("this CPU has no AVX-512 BF16 (avx512_bf16)");
        return;
    }
    struct rng r;
    rng_seed(&r, 6);
    const int shapes[][4] = {/* T, B, I, H */ {3, 53, 2, 5}, {5, 100, 1, 64}, {2, 97, 3, 20}};
    for (int sh = 0; sh < 3; sh++) {
        const int T = shapes[sh][0], B = shapes[sh][1], I = shapes[sh][2], H = shapes[sh][3];
        const int G = 4 * H, IH = I + H;
        float *w = randv(&r, (size_t)G * IH, 0.5), *b = randv(&r, (size_t)G, 0.5);
        float *x = randv(&r, (size_t)T * B * I, 1.5), *dhs = randv(&r, (size_t)T * B * H, 0.3);
        struct bufs f, p;
        bufs_alloc(&f, 1, T, B, I, H);
        f.b.bf16 = 1;
        bufs_alloc(&p, 0, T, B, I, H);
        lstm_forward(&f.b, x, w, b, B, T, I, H, 1);
        lstm_forward(&p.b, x, w, b, B, T, I, H, 1);
        double wh = 0;
        for (size_t e = 0; e < (size_t)T * B * H; e++)
            wh = fmax(wh, fabs(f.b.h[e] - p.b.h[e]));
        float *dwf = calloc((size_t)G * IH, 4), *dwp = calloc((size_t)G * IH, 4);
        float *dbf = calloc(G, 4), *dbp = calloc(G, 4);
        float *dxf = calloc((size_t)T * B * I, 4), *dxp = calloc((size_t)T * B * I, 4);
        lstm_backward(dwf, dbf, dxf, &f.b, dhs, w, B, T, I, H);
        lstm_backward(dwp, dbp, dxp, &p.b, dhs, w, B, T, I, H);
        double wd = 0, mag = 0, xd = 0, xmag = 0;
        for (int e = 0; e < G * IH; e++) {
            wd = fmax(wd, fabs(dwf[e] - dwp[e]));
            mag = fmax(mag, fabs(dwp[e]));
        }
        for (int e = 0; e < T * B * I; e++) {
            xd = fmax(xd, fabs(dxf[e] - dxp[e]));
            xmag = fmax(xmag, fabs(dxp[e]));
        }
        printf("  lstm bf16 (%s) T=%d B=%d I=%d H=%d: h %.2e, dW %.2e of %.2e, dx %.2e of %.2e\n",
               kernels_bf16_tn_supported() ? "amx, dW_h in bf16" : "avx512", T, B, I, H, wh, wd,
               mag, xd, xmag);
        CHECK(wh <= 2e-2);
        CHECK(wd <= 2e-2 * mag);
        CHECK(xd <= 2e-2 * xmag);
        CHECK(mag > 1e-2 && wd > 0); /* not vacuous: bf16 was used */
        float *all[] = {w, b, x, dhs, dwf, dwp, dbf, dbp, dxf, dxp, f.mem, p.mem};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            free(all[i]);
    }
}

/* ============================== fused training step ============================== */

static void test_train_step_fused(void)
{
    const enum lstmsrc_task tasks[2] = {LSTMSRC_TASK_MULTILABEL, LSTMSRC_TASK_MULTICLASS};
    for (int c = 0; c < 2; c++) {
        const int F = 2, H = 7, L = 2, K = c ? 4 : 3, T = 4, B = LSTM_ROW_BLOCK * 2 + 5;
        struct lstmsrc_model *m = NULL;
        struct lstmsrc_error err;
        CHECK(model_create(F, H, L, 1, K, T, c ? 1 : K, tasks[c],
                           c ? LSTMSRC_LABELS_CLASS : LSTMSRC_LABELS_SOURCES, &m, &err) == 0);
        if (!m) return;
        struct rng r;
        rng_seed(&r, 9 + (uint64_t)c);
        model_init_params(m, &r);
        for (int j = 0; j < K; j++)
            m->pos_weight[j] = 1.0f + (float)j;
        struct model_ws *ws = model_ws_create(m, B, 1), *ws2 = model_ws_create(m, B, 1);
        float *x = randv(&r, (size_t)T * B * F, 1.5), *y = malloc((size_t)B * K * 4);
        int32_t *cls = malloc((size_t)B * sizeof *cls);
        float *g1 = calloc(m->n_params, 4), *g2 = calloc(m->n_params, 4);
        float *dl = malloc((size_t)B * K * 4), *lg = malloc((size_t)B * K * 4);
        CHECK(ws && ws2 && y && cls && g1 && g2 && dl && lg);
        for (int i = 0; i < B * K; i++)
            y[i] = rng_uniform(&r) < 0.4;
        for (int i = 0; i < B; i++)
            cls[i] = (int32_t)(rng_uniform(&r) * K) % K;
        const float norm = 1.0f / (float)(B * K);
        const float *logits = model_forward(m, ws, x, B);
        memcpy(lg, logits, (size_t)B * K * 4);
        double l1 = c ? loss_softmax_ce(dl, logits, cls, B, K, norm)
                      : loss_bce_logits(dl, logits, y, m->pos_weight, B, K, norm);
        model_backward(m, ws, g1, dl, B);
        double l2 = model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, B, norm);
        double gmax = 0;
        for (size_t i = 0; i < m->n_params; i++)
            gmax = fmax(gmax, fabs(g1[i]));
        printf("  fused step %s: loss %.9g vs %.9g, largest gradient %.3g\n", c ? "ce " : "bce", l1,
               l2, gmax);
        CHECK(memcmp(g1, g2, m->n_params * sizeof *g1) == 0);
        CHECK(fabs(l1 - l2) <= 1e-12 * fabs(l1));
        CHECK(gmax > 1e-4);
        /* the gradients do not depend on what the workspace held before */
        memset(g2, 0, m->n_params * 4);
        model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, B, norm);
        CHECK(memcmp(g1, g2, m->n_params * sizeof *g1) == 0);
        /* nothing carries over from a call with another B (a partial last batch): a small
         * batch, then the full one again, gives the same bits */
        model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, 3, norm);
        float *sm = malloc((size_t)3 * K * 4);
        model_forward(m, ws2, x, 3);
        if (sm) {
            for (int i = 0; i < 3 * K; i++)
                sm[i] = 0.25f;
            model_backward(m, ws2, g2, sm, 3);
            free(sm);
        }
        memset(g2, 0, m->n_params * 4);
        model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, B, norm);
        CHECK(memcmp(g1, g2, m->n_params * sizeof *g1) == 0);
        /* weights packed once (model_ws_pack) give the same bits; after an update, packing
         * again gives what a workspace packing per call gives */
        model_ws_pack(ws2, m);
        memset(g2, 0, m->n_params * 4);
        model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, B, norm);
        CHECK(memcmp(g1, g2, m->n_params * sizeof *g1) == 0);
        /* after an update (model_weights_changed), both workspaces run the new weights
         * without being told to pack: the same bits as a workspace made after the update,
         * and not the old gradients (stale packed weights would give those) */
        float *gold = malloc(m->n_params * 4);
        if (gold) memcpy(gold, g1, m->n_params * 4);
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] *= 0.75f;
        model_weights_changed(m);
        struct model_ws *ws3 = model_ws_create(m, B, 1);
        float *g3 = calloc(m->n_params, 4);
        CHECK(ws3 && g3 && gold);
        memset(g1, 0, m->n_params * 4);
        memset(g2, 0, m->n_params * 4);
        model_train_step(m, ws, g1, x, c ? NULL : y, c ? cls : NULL, B, norm);
        model_train_step(m, ws2, g2, x, c ? NULL : y, c ? cls : NULL, B, norm);
        CHECK(memcmp(g1, g2, m->n_params * sizeof *g1) == 0);
        if (ws3 && g3) {
            model_train_step(m, ws3, g3, x, c ? NULL : y, c ? cls : NULL, B, norm);
            CHECK(memcmp(g1, g3, m->n_params * sizeof *g1) == 0);
        }
        if (gold) CHECK(memcmp(g1, gold, m->n_params * sizeof *g1) != 0);
        /* an inference workspace, packed at creation, follows a change too */
        struct model_ws *wi = model_ws_create(m, B, 0);
        CHECK(wi != NULL);
        if (wi) {
            float *before = malloc((size_t)B * K * 4);
            const float *lo = model_forward(m, wi, x, B);
            if (before) memcpy(before, lo, (size_t)B * K * 4);
            for (size_t i = 0; i < m->n_params; i++)
                m->params[i] *= 1.5f;
            model_weights_changed(m);
            lo = model_forward(m, wi, x, B);
            const float *fresh = model_forward(m, ws3 ? ws3 : ws, x, B);
            CHECK(memcmp(lo, fresh, (size_t)B * K * 4) == 0);
            if (before) CHECK(memcmp(lo, before, (size_t)B * K * 4) != 0);
            free(before);
            model_ws_free(wi);
        }
        model_ws_free(ws3);
        free(g3);
        free(gold);
        free(x);
        free(y);
        free(cls);
        free(g1);
        free(g2);
        free(dl);
        free(lg);
        model_ws_free(ws);
        model_ws_free(ws2);
        lstmsrc_model_free(m);
    }
}

/* add_transpose: dst += src^T exactly (one addition per element), on ragged shapes */
static void test_add_transpose(void)
{
    struct rng r;
    rng_seed(&r, 21);
    int bad = 0;
    static const int dims[] = {1, 3, 16, 17, 64, 100};
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            const int R = dims[a], C = dims[b], ldd = C + 2, lds = R + 3;
            float *dst = randv(&r, (size_t)R * ldd, 1), *src = randv(&r, (size_t)C * lds, 1);
            float *want = malloc((size_t)R * ldd * sizeof *want);
            memcpy(want, dst, (size_t)R * ldd * sizeof *want);
            for (int i = 0; i < R; i++)
                for (int j = 0; j < C; j++)
                    want[(size_t)i * ldd + j] += src[(size_t)j * lds + i];
            add_transpose(dst, ldd, src, lds, R, C);
            bad += memcmp(dst, want, (size_t)R * ldd * sizeof *want) != 0;
            free(dst), free(src), free(want);
        }
    CHECK(bad == 0);
}

int main(void)
{
    RUN(test_add_transpose);
    RUN(test_gemm_nn_own);
    RUN(test_gemm_tn);
    RUN(test_gemm_packed);
    RUN(test_exp);
    RUN(test_sigmoid_tanh);
    RUN(test_cell_simd_vs_portable);
    RUN(test_lstm_fast_vs_plain);
    RUN(test_lstm_bf16_vs_fp32);
    RUN(test_train_step_fused);
    return test_report("test_kernels");
}
