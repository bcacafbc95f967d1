/*
 * test_bf16.c — the bf16 packed product (gemm_packed_bf16) against the portable fp32 one:
 *   - every element within the bound kernels.h states, (2^-7 + 2^-16 + K 2^-23) sum_k |a_k b_k|
 * plus the fp32 bound on the initial value: a and b are each rounded to 8 significant bits (unit
 *     roundoff 2^-8 each, so <= 2^-7 + 2^-16 per product), the sums are fp32; shapes that are not
 *     multiples of any tile (M, N 1..67), odd K1 and K2, K past one converted chunk (600);
 *   - deterministic: the same inputs give the same bytes, and a row's result does not depend
 *     on the other rows of the call (row by row = the whole batch);
 *   - the packed size never exceeds pack_floats(K1 + K2, N) (the LSTM buffers are shared).
 *   - columns past N of C are never written;
 *   - gemm_tn_bf16 (the AMX weight gradient) within the same bound of the fp32 gemm_tn;
 * for each bf16 kernel the CPU has: vdpbf16ps (avx512) and the AMX tiles (amx), each skipped
 * with the reason printed where the CPU lacks it; where both run, they agree within the bound.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/rng.h"
#include "nn/kernels.h"
#include "test.h"
#include "testrand.h"

static const int dims_m[] = {1, 2, 5, 12, 13, 48, 67};
static const int dims_n[] = {1, 3, 16, 17, 31, 33, 64, 256};
static const int dims_k[] = {1, 6, 17, 65, 600};
#define NDIM(a) (int)(sizeof a / sizeof a[0])

static void test_bf16_pack_size(void)
{
    for (int k1 = 0; k1 < 70; k1++)
        for (int k2 = 0; k2 < 70; k2++)
            if (k1 + k2 >= 2)
                for (int n = 1; n < 40; n += 7)
                    CHECK(pack_bf16_floats(k1, k2, n) <= pack_floats(k1 + k2, n));
}

/* C[1] of every shape and mode of the last run of each kernel, for the comparison between them */
static float *last_c[2][NDIM(dims_m) * NDIM(dims_n) * NDIM(dims_k) * 3];

static void products(enum kernels_isa isa, int slot)
{
    if (!kernels_bf16_supported()) {
        SKIP("this CPU has no AVX-512 BF16 (avx512_bf16)");
        return;
    }
    if (!kernels_isa_supported(isa)) {
        SKIP("this CPU (or its kernel) offers no AMX-BF16 tiles (amx_tile, amx_bf16)");
        return;
    }
    int run = 0, outside = 0;
    struct rng r;
    rng_seed(&r, 11);
    int bad = 0, diff = 0, rowdiff = 0;
    double worst = 0;
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++)
                for (int mode = 0; mode < 3; mode++) {
                    const int M = dims_m[a], N = dims_n[b], K = dims_k[c], K2 = 3, kp = K + K2;
                    const int k2 = mode == 1 ? 0 : K2, lda = K + 1, ldc = N + 3;
                    float *A = randv(&r, (size_t)M * lda, 1), *A2 = randv(&r, (size_t)M * 4, 1);
                    float *W = randv(&r, (size_t)N * kp, 1), *bias = randv(&r, (size_t)N, 1);
                    float *bp = malloc(pack_floats(kp, N) * 4);
                    float *bq = malloc(pack_bf16_floats(K, K2, N) * 4);
                    float *C0 = randv(&r, (size_t)M * ldc, 1);
                    float *C[4];
                    for (int q = 0; q < 4; q++) {
                        C[q] = malloc((size_t)M * ldc * 4);
                        memcpy(C[q], C0, (size_t)M * ldc * 4);
                    }
                    pack_b_t(bp, W, kp, kp, N);
                    pack_bf16(bq, W, 1, (size_t)kp, K, K2, N);
                    const float *bi = mode == 2 ? bias : NULL;
                    gemm_packed_portable(C[0], ldc, A, lda, K, A2, 4, k2, bp, kp, bi, mode == 0, M,
                                         N);
                    for (int q = 1; q < 3; q++)
                        gemm_packed_bf16_isa(isa, C[q], ldc, A, lda, K, A2, 4, k2, bq, K, K2, bi,
                                             mode == 0, M, N);
                    for (int i = 0; i < M; i++) /* one row per call */
                        gemm_packed_bf16_isa(isa, C[3] + (size_t)i * ldc, ldc, A + (size_t)i * lda,
                                             lda, K, A2 + (size_t)i * 4, 4, k2, bq, K, K2, bi,
                                             mode == 0, 1, N);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            const size_t o = (size_t)i * ldc + j;
                            double s = 0, init = mode == 0 ? C0[o] : mode == 2 ? bias[j] : 0;
                            for (int k = 0; k < K + k2; k++) {
                                const float av =
                                    k < K ? A[(size_t)i * lda + k] : A2[(size_t)i * 4 + k - K];
                                s += fabs((double)av * W[(size_t)j * kp + k]);
                            }
                            const double err = fabs((double)C[1][o] - C[0][o]);
                            const double bound = (0x1p-7 + 0x1p-16 + (K + k2 + 2) * 0x1p-23) * s +
                                                 (K + k2 + 2) * 0x1p-23 * fabs(init);
                            if (err > bound) bad++;
                            if (s > 0 && err / s > worst) worst = err / s;
                        }
                    for (int i = 0; i < M; i++)
                        for (int j = N; j < ldc; j++)
                            outside += C[1][(size_t)i * ldc + j] != C0[(size_t)i * ldc + j];
                    diff += memcmp(C[1], C[2], (size_t)M * ldc * 4) != 0;
                    rowdiff += memcmp(C[1], C[3], (size_t)M * ldc * 4) != 0;
                    free(last_c[slot][run]);
                    last_c[slot][run++] = C[1];
                    for (int q = 0; q < 4; q++)
                        if (q != 1) free(C[q]);
                    free(A), free(A2), free(W), free(bias), free(bp), free(bq), free(C0);
                }
    printf("  %s: worst |bf16 - fp32| / sum|a b| = %.3g (bound 2^-7 = %.3g)\n",
           kernels_isa_name(isa), worst, 0x1p-7);
    CHECK(bad == 0);
    CHECK(outside == 0);
    CHECK(diff == 0);
    CHECK(rowdiff == 0);
}

static void test_bf16_products_avx512(void)
{
    products(KERNELS_ISA_AVX512, 0);
}

static void test_bf16_products_amx(void)
{
    products(KERNELS_ISA_AMX, 1);
}

/* where both ran: the tile unit and vdpbf16ps round the same products (to bf16, the same way)
 * and differ only in the order of the fp32 sums and in bf16 denormals (none here) */
static void test_bf16_amx_vs_avx512(void)
{
    if (!last_c[0][0] || !last_c[1][0]) {
        SKIP("needs both the AVX-512 BF16 and the AMX products");
        return;
    }
    int run = 0, far = 0, same = 0, n = 0;
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++)
                for (int mode = 0; mode < 3; mode++, run++) {
                    const int M = dims_m[a], N = dims_n[b], K = dims_k[c] + 3;
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            const size_t o = (size_t)i * (N + 3) + j;
                            const float x = last_c[0][run][o], y = last_c[1][run][o];
                            /* sums of K products of |a b| <= 1 each, in fp32 */
                            far += fabsf(x - y) > (K + 4) * 0x1p-22f * (1 + fabsf(x));
                            same += x == y;
                            n++;
                        }
                }
    printf("  amx vs avx512: %d of %d elements equal, %d beyond the fp32 sum bound\n", same, n,
           far);
    CHECK(far == 0);
}

/* gemm_tn_bf16 (the weight gradient on the AMX tiles) against the portable fp32 gemm_tn: the
 * same bound per element, shapes past every tile and chunk (M, N past 16 and 256, K odd and past
 * the 64 of a chunk), columns past N untouched, the same bytes twice */
static void test_bf16_tn(void)
{
    if (!kernels_bf16_tn_supported()) {
        SKIP("the AMX kernels are not in use (amx_tile, amx_bf16; LSTMSRC_ISA)");
        return;
    }
    static const int ms[] = {1, 5, 16, 17, 64}, ns[] = {1, 16, 33, 256, 300},
                     ks[] = {1, 2, 47, 48, 65, 130};
    struct rng r;
    rng_seed(&r, 12);
    int bad = 0, outside = 0, diff = 0;
    double worst = 0;
    for (int a = 0; a < NDIM(ms); a++)
        for (int b = 0; b < NDIM(ns); b++)
            for (int c = 0; c < NDIM(ks); c++) {
                const int M = ms[a], N = ns[b], K = ks[c], lda = M + 2, ldb = N + 5, ldc = N + 3;
                float *A = randv(&r, (size_t)K * lda, 1), *B = randv(&r, (size_t)K * ldb, 1);
                float *C0 = randv(&r, (size_t)M * ldc, 1), *C[3];
                for (int q = 0; q < 3; q++) {
                    C[q] = malloc((size_t)M * ldc * 4);
                    memcpy(C[q], C0, (size_t)M * ldc * 4);
                }
                gemm_tn_portable(C[0], ldc, A, lda, B, ldb, M, N, K);
                gemm_tn_bf16(C[1], ldc, A, lda, B, ldb, M, N, K);
                gemm_tn_bf16(C[2], ldc, A, lda, B, ldb, M, N, K);
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        double sum = 0;
                        for (int k = 0; k < K; k++)
                            sum += fabs((double)A[(size_t)k * lda + i] * B[(size_t)k * ldb + j]);
                        const size_t o = (size_t)i * ldc + j;
                        const double err = fabs((double)C[1][o] - C[0][o]);
                        if (err > (0x1p-7 + 0x1p-16 + (K + 2) * 0x1p-23) * sum +
                                      (K + 2) * 0x1p-23 * fabs(C0[o]))
                            bad++;
                        if (sum > 0 && err / sum > worst) worst = err / sum;
                    }
                    for (int j = N; j < ldc; j++)
                        outside += C[1][(size_t)i * ldc + j] != C0[(size_t)i * ldc + j];
                }
                diff += memcmp(C[1], C[2], (size_t)M * ldc * 4) != 0;
                for (int q = 0; q < 3; q++)
                    free(C[q]);
                free(A), free(B), free(C0);
            }
    printf("  amx gemm_tn_bf16: worst |bf16 - fp32| / sum|a b| = %.3g\n", worst);
    CHECK(bad == 0);
    CHECK(outside == 0);
    CHECK(diff == 0);
}

/* the packed layout, element by element (any CPU: pack_bf16 is plain C) */
static void test_bf16_pack_layout(void)
{
    const int K1 = 3, K2 = 2, N = 17, kp = K1 + K2;
    float W[17 * 5];
    for (int i = 0; i < N * kp; i++)
        W[i] = (float)(i + 1); /* small integers: exact in bf16 */
    uint32_t bq[64 * 2 * 16];
    CHECK(pack_bf16_floats(K1, K2, N) == (size_t)(2 + 1) * 2 * 16);
    pack_bf16((float *)(void *)bq, W, 1, (size_t)kp, K1, K2, N);
    int bad = 0;
    for (int p = 0; p < 2; p++)
        for (int q = 0; q < 3; q++)
            for (int j = 0; j < 16; j++) {
                const int n = p * 16 + j;
                const uint32_t w = bq[((size_t)p * 3 + q) * 16 + j];
                const int k = q < 2 ? 2 * q : K1 + 2 * (q - 2), klim = q < 2 ? K1 : kp;
                float lo = 0, hi = 0;
                if (n < N) {
                    lo = W[n * kp + k];
                    if (k + 1 < klim) hi = W[n * kp + k + 1];
                }
                uint32_t ulo, uhi;
                memcpy(&ulo, &lo, 4);
                memcpy(&uhi, &hi, 4);
                if (w != ((ulo >> 16) | (uhi & 0xffff0000u))) bad++;
            }
    CHECK(bad == 0);
}

int main(void)
{
    RUN(test_bf16_pack_size);
    RUN(test_bf16_pack_layout);
    RUN(test_bf16_products_avx512);
    RUN(test_bf16_products_amx);
    RUN(test_bf16_amx_vs_avx512);
    RUN(test_bf16_tn);
    for (int slot = 0; slot < 2; slot++)
        for (int i = 0; i < NDIM(last_c[0]); i++)
            free(last_c[slot][i]);
    return test_report("test_bf16");
}
