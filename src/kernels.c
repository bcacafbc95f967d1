/*
 * kernels.c — GEMMs (BLAS or our own loops), the fused LSTM cell and small row helpers.
 *
 * The fallback GEMMs are written so the innermost loop is an axpy over contiguous memory, which
 * the compiler vectorises without -ffast-math; the summation order is fixed, so results are
 * reproducible run to run. Activations use a branch-free polynomial exp (see exp_poly) so
 * they vectorise; on x86-64 the hot loops are also compiled for AVX2+FMA and picked at run time.
 */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef LSTMSRC_USE_CBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif

void kernels_init(void)
{
#ifdef LSTMSRC_USE_CBLAS
    openblas_set_num_threads(1);
#endif
}

/* ============================== GEMM ============================== */

static void scale_c(float *C, int ldc, int M, int N, float beta)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

LSTMSRC_CLONES void gemm_nn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta)
{
    scale_c(C, ldc, M, N, beta);
    /* 4 rows of C at a time share each row of B while it is in L1 */
    int i = 0;
    for (; i + 4 <= M; i += 4) {
        float *restrict c0 = C + (size_t)i * ldc, *restrict c1 = c0 + ldc;
        float *restrict c2 = c1 + ldc, *restrict c3 = c2 + ldc;
        const float *a0 = A + (size_t)i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (int p = 0; p < K; p++) {
            const float *restrict b = B + (size_t)p * ldb;
            float x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p];
            for (int j = 0; j < N; j++) {
                float bj = b[j];
                c0[j] += x0 * bj;
                c1[j] += x1 * bj;
                c2[j] += x2 * bj;
                c3[j] += x3 * bj;
            }
        }
    }
    for (; i < M; i++) {
        float *restrict c = C + (size_t)i * ldc;
        const float *a = A + (size_t)i * lda;
        for (int p = 0; p < K; p++) {
            const float *restrict b = B + (size_t)p * ldb;
            float x = a[p];
            for (int j = 0; j < N; j++) c[j] += x * b[j];
        }
    }
}


void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta)
{
#ifdef LSTMSRC_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C,
                ldc);
#else
    gemm_nn_own(C, ldc, A, lda, B, ldb, M, N, K, beta);
#endif
}

void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta)
{
#ifdef LSTMSRC_USE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C,
                ldc);
#else
    scale_c(C, ldc, M, N, beta);
    /* C[i,:] += A[p,i] * B[p,:]; 4 rows of C per pass over B */
    int i = 0;
    for (; i + 4 <= M; i += 4) {
        float *restrict c0 = C + (size_t)i * ldc, *restrict c1 = c0 + ldc;
        float *restrict c2 = c1 + ldc, *restrict c3 = c2 + ldc;
        for (int p = 0; p < K; p++) {
            const float *a = A + (size_t)p * lda + i;
            const float *restrict b = B + (size_t)p * ldb;
            float x0 = a[0], x1 = a[1], x2 = a[2], x3 = a[3];
            for (int j = 0; j < N; j++) {
                float bj = b[j];
                c0[j] += x0 * bj;
                c1[j] += x1 * bj;
                c2[j] += x2 * bj;
                c3[j] += x3 * bj;
            }
        }
    }
    for (; i < M; i++) {
        float *restrict c = C + (size_t)i * ldc;
        for (int p = 0; p < K; p++) {
            const float *restrict b = B + (size_t)p * ldb;
            float x = A[(size_t)p * lda + i];
            for (int j = 0; j < N; j++) c[j] += x * b[j];
        }
    }
#endif
}

void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
}

/* ============================== activations ============================== */

/* exp(x) for x in [-88, 88] (callers clamp): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
 * a degree-6 polynomial for e^r (Cephes expf coefficients), and 2^n built from the exponent
 * bits. Branch-free so the loops below vectorise; max relative error ~2 ulp against libm's
 * expf (tests/test_kernels.c checks it). */
static inline float exp_poly(float x)
{
    const float log2e = 1.44269504088896341f, c1 = 0.693359375f, c2 = -2.12194440e-4f;
    float t = x * log2e;
    /* round to nearest with the 1.5*2^23 trick: exact for |t| < 2^22, no libm call */
    float n = (t + 12582912.0f) - 12582912.0f;
    float r = x - n * c1;
    r = r - n * c2;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = (int32_t)n + 127;
    uint32_t bits = (uint32_t)e << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

/* 1 / (1 + e^-x); saturates cleanly to 0 and 1 */
static inline float sigmoid_poly(float x) { return 1.0f / (1.0f + exp_poly(clampf(-x, -88.0f, 88.0f))); }

/* tanh(x) = 2 sigmoid(2x) - 1: absolute error below 1e-7, which is what the cell needs */
static inline float tanh_poly(float x) { return 2.0f / (1.0f + exp_poly(clampf(-2.0f * x, -88.0f, 88.0f))) - 1.0f; }

LSTMSRC_CLONES void vec_sigmoid(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++) y[i] = sigmoid_poly(x[i]);
}

LSTMSRC_CLONES void vec_tanh(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++) y[i] = tanh_poly(x[i]);
}

float scalar_expf(float x) { return exp_poly(clampf(x, -88.0f, 88.0f)); }

/* ============================== LSTM cell ============================== */

LSTMSRC_CLONES void lstm_cell_forward(float *z, float *c, float *tc, float *h, int ldh,
                                      const float *c_prev, const float *b, int B, int H)
{
    for (int r = 0; r < B; r++) {
        float *restrict zr = z + (size_t)r * 4 * H;
        float *restrict cr = c + (size_t)r * H, *restrict tcr = tc + (size_t)r * H;
        float *restrict hr = h + (size_t)r * ldh;
        for (int j = 0; j < 4 * H; j++) zr[j] += b[j];
        /* i, f: sigmoid over the first 2H; g: tanh; o: sigmoid */
        for (int j = 0; j < 2 * H; j++) zr[j] = sigmoid_poly(zr[j]);
        for (int j = 2 * H; j < 3 * H; j++) zr[j] = tanh_poly(zr[j]);
        for (int j = 3 * H; j < 4 * H; j++) zr[j] = sigmoid_poly(zr[j]);
        const float *zi = zr, *zf = zr + H, *zg = zr + 2 * H, *zo = zr + 3 * H;
        /* c_t = f # c_{t-1} + i # g;  h_t = o # tanh(c_t) */
        if (c_prev) {
            const float *restrict cp = c_prev + (size_t)r * H;
            for (int j = 0; j < H; j++) cr[j] = zf[j] * cp[j] + zi[j] * zg[j];
        } else {
            for (int j = 0; j < H; j++) cr[j] = zi[j] * zg[j];
        }
        for (int j = 0; j < H; j++) tcr[j] = tanh_poly(cr[j]);
        for (int j = 0; j < H; j++) hr[j] = zo[j] * tcr[j];
    }
}

/* One row of the cell backward; cp NULL means c_{t-1} = 0 (then df = 0). */
static inline void cell_backward_row(float *restrict dz, float *restrict dc,
                                     const float *restrict dh, const float *restrict gates,
                                     const float *restrict cp, const float *restrict tc, int H)
{
    const float *gi = gates, *gf = gates + H, *gg = gates + 2 * H, *go = gates + 3 * H;
    float *di = dz, *df = dz + H, *dg = dz + 2 * H, *dO = dz + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];
        /* dc_t = dc_next + dh * o * (1 - tanh^2 c_t) */
        float dcv = dc[j] + dh[j] * o * (1.0f - t * t);
        di[j] = dcv * g * i * (1.0f - i);
        df[j] = cp ? dcv * cp[j] * f * (1.0f - f) : 0.0f;
        dg[j] = dcv * i * (1.0f - g * g);
        dO[j] = dh[j] * t * o * (1.0f - o);
        dc[j] = dcv * f; /* flows to c_{t-1} */
    }
}

LSTMSRC_CLONES void lstm_cell_backward(float *dz, float *dc, const float *dh, const float *gates,
                                       const float *c_prev, const float *tc, int B, int H)
{
    for (int r = 0; r < B; r++) {
        size_t o4 = (size_t)r * 4 * H, o1 = (size_t)r * H;
        /* two call sites so each inlined copy has no branch in its loop */
        if (c_prev)
            cell_backward_row(dz + o4, dc + o1, dh + o1, gates + o4, c_prev + o1, tc + o1, H);
        else
            cell_backward_row(dz + o4, dc + o1, dh + o1, gates + o4, NULL, tc + o1, H);
    }
}

/* ============================== row helpers ============================== */

void add_bias_rows(float *y, int ldy, const float *b, int B, int N)
{
    for (int r = 0; r < B; r++) {
        float *yr = y + (size_t)r * ldy;
        for (int j = 0; j < N; j++) yr[j] += b[j];
    }
}

void sum_rows(float *db, const float *x, int R, int N)
{
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * N;
        for (int j = 0; j < N; j++) db[j] += xr[j];
    }
}
