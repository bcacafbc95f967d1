/*
 * test_isa.c — every instruction set this machine has, against the portable kernels, in one
 * process (each kernel is called with its ISA named, whatever LSTMSRC_ISA says):
 *   - gemm_packed, gemm_nn_own, gemm_tn_seg within the bound test_kernels.c states for a
 *     K-term float dot product ((K + 2) 2^-23 times the sum of the terms' magnitudes; the SIMD
 *     kernels fuse multiply-adds, the portable ones may not), on shapes that are not multiples
 *     of any tile (M, N 1..67);
 *   - the fused cell forward (5e-7 absolute) and backward (5e-6), odd H past one vector;
 *   - AVX-512 (and AMX, whose fp32 kernels are AVX-512's) against AVX2: the same operations in
 *     the same order, so the same bits (a property of this build, which keeps fp32 models the
 *     same across them; not promised across versions);
 *   - the ISA choice: names round-trip, the one in use is supported.
 * An ISA the CPU lacks is skipped with the reason printed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/rng.h"
#include "nn/kernels.h"
#include "test.h"
#include "testrand.h"

static const int dims_m[] = {1, 2, 5, 11, 12, 13, 48, 67};
static const int dims_n[] = {1, 3, 15, 16, 17, 31, 33, 64, 256};
static const int dims_k[] = {1, 7, 17, 65, 300};
#define NDIM(a) (int)(sizeof a / sizeof a[0])

/* |x - y| <= (K + 2) 2^-23 (|x| + |y| + K): the terms are products of values in [-1, 1] */
static int close_k(float x, float y, int K)
{
    return fabs((double)x - y) <= (K + 2) * 0x1p-23 * (fabs(x) + fabs(y) + K);
}

/* returns elements off the portable bound, counts bit differences against ref (NULL: none) */
static int products(enum kernels_isa isa, int *bits_vs_avx2)
{
    struct rng r;
    rng_seed(&r, 5);
    int bad = 0;
    for (int a = 0; a < NDIM(dims_m); a++)
        for (int b = 0; b < NDIM(dims_n); b++)
            for (int c = 0; c < NDIM(dims_k); c++)
                for (int mode = 0; mode < 3; mode++) {
                    const int M = dims_m[a], N = dims_n[b], K = dims_k[c], K2 = 3, kp = K + K2;
                    const int lda = K + 1, ldc = N + 3, ldb = N + 2;
                    float *A = randv(&r, (size_t)M * lda, 1), *A2 = randv(&r, (size_t)M * 4, 1);
                    float *W = randv(&r, (size_t)N * kp, 1), *bias = randv(&r, (size_t)N, 1);
                    float *Bn = randv(&r, (size_t)K * ldb, 1);
                    float *At = randv(&r, (size_t)2 * K * (M + 1), 1);
                    float *bp = malloc(pack_floats(kp, N) * 4);
                    float *C0 = randv(&r, (size_t)M * ldc, 1);
                    float *C[3], *D[3], *E[3]; /* portable, isa, avx2 */
                    for (int q = 0; q < 3; q++) {
                        C[q] = malloc((size_t)M * ldc * 4);
                        D[q] = malloc((size_t)M * ldc * 4);
                        E[q] = malloc((size_t)M * ldc * 4);
                        memcpy(C[q], C0, (size_t)M * ldc * 4);
                        memcpy(D[q], C0, (size_t)M * ldc * 4);
                        memcpy(E[q], C0, (size_t)M * ldc * 4);
                    }
                    pack_b_t(bp, W, kp, kp, N);
                    for (int k = 0; k < K; k++) /* skip_below's contract: A_0 zero there */
                        for (int i = 0; i < M / 2; i++)
                            At[(size_t)k * (M + 1) + i] = 0.0f;
                    const enum kernels_isa is[3] = {KERNELS_ISA_PORTABLE, isa,
                                                    bits_vs_avx2 ? KERNELS_ISA_AVX2 : isa};
                    for (int q = 0; q < 3; q++) {
                        gemm_packed_isa(is[q], C[q], ldc, A, lda, K, A2, 4, mode == 1 ? 0 : K2, bp,
                                        kp, mode == 2 ? bias : NULL, mode == 0, M, N);
                        gemm_nn_own_isa(is[q], D[q], ldc, A, lda, Bn, ldb, M, N, K,
                                        mode == 0 ? 0.0f : 1.0f);
                        /* two segments of K rows of A^T (K, M) and B (K, N), first half skipped */
                        gemm_tn_seg_isa(is[q], E[q], ldc, At, M + 1, (size_t)K * (M + 1), Bn, ldb,
                                        0, M, N, K, 2, mode == 2 ? M / 2 : 0);
                    }
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            const size_t e = (size_t)i * ldc + j;
                            bad += !close_k(C[1][e], C[0][e], kp) + !close_k(D[1][e], D[0][e], K) +
                                   !close_k(E[1][e], E[0][e], 2 * K);
                            if (bits_vs_avx2)
                                *bits_vs_avx2 += memcmp(C[1] + e, C[2] + e, 4) != 0 ||
                                                 memcmp(D[1] + e, D[2] + e, 4) != 0 ||
                                                 memcmp(E[1] + e, E[2] + e, 4) != 0;
                        }
                    float *all[] = {A,    A2,   W,    bias, Bn,   At,   bp,   C0,  C[0],
                                    C[1], C[2], D[0], D[1], D[2], E[0], E[1], E[2]};
                    for (size_t q = 0; q < sizeof all / sizeof all[0]; q++)
                        free(all[q]);
                }
    return bad;
}

/* max abs differences of the cell forward and backward against portable; bit differences
 * against AVX2 when bits is not NULL */
static void cells(enum kernels_isa isa, int H, double *wf, double *wb, int *bits)
{
    struct rng r;
    rng_seed(&r, 6);
    const int B = 5, G = 4 * H, LDZ = G + 3;
    const enum kernels_isa is[3] = {KERNELS_ISA_PORTABLE, isa, KERNELS_ISA_AVX2};
    const int nq = bits ? 3 : 2;
    float *z0 = randv(&r, (size_t)B * G, 4), *cp = randv(&r, (size_t)B * H, 2);
    float *bias = randv(&r, G, 1), *dh1 = randv(&r, (size_t)B * H, 1);
    float *dh2 = randv(&r, (size_t)B * H, 1), *dc0 = randv(&r, (size_t)B * H, 1);
    float *z[3], *c[3], *tc[3], *h[3], *dz[3], *dc[3];
    for (int q = 0; q < nq; q++) {
        z[q] = malloc((size_t)B * G * 4);
        memcpy(z[q], z0, (size_t)B * G * 4);
        c[q] = malloc((size_t)B * H * 4);
        tc[q] = malloc((size_t)B * H * 4);
        h[q] = malloc((size_t)B * H * 4);
        dz[q] = calloc((size_t)B * LDZ, 4);
        dc[q] = malloc((size_t)B * H * 4);
        memcpy(dc[q], dc0, (size_t)B * H * 4);
        lstm_cell_forward_isa(is[q], z[q], c[q], tc[q], h[q], H, cp, bias, B, H);
        lstm_cell_backward2_isa(is[q], dz[q], LDZ, dc[q], dh1, dh2, z[q], cp, tc[q], B, H);
    }
    *wf = *wb = 0;
    for (int e = 0; e < B * G; e++)
        *wf = fmax(*wf, fabs(z[1][e] - z[0][e]));
    for (int e = 0; e < B * H; e++) {
        *wf = fmax(*wf, fmax(fabs(c[1][e] - c[0][e]), fabs(h[1][e] - h[0][e])));
        *wb = fmax(*wb, fabs(dc[1][e] - dc[0][e]));
    }
    for (int e = 0; e < B * LDZ; e++)
        *wb = fmax(*wb, fabs(dz[1][e] - dz[0][e]));
    if (bits)
        *bits += memcmp(z[1], z[2], (size_t)B * G * 4) != 0 ||
                 memcmp(h[1], h[2], (size_t)B * H * 4) != 0 ||
                 memcmp(c[1], c[2], (size_t)B * H * 4) != 0 ||
                 memcmp(dz[1], dz[2], (size_t)B * LDZ * 4) != 0 ||
                 memcmp(dc[1], dc[2], (size_t)B * H * 4) != 0;
    for (int q = 0; q < nq; q++) {
        free(z[q]);
        free(c[q]);
        free(tc[q]);
        free(h[q]);
        free(dz[q]);
        free(dc[q]);
    }
    float *all[] = {z0, cp, bias, dh1, dh2, dc0};
    for (size_t q = 0; q < sizeof all / sizeof all[0]; q++)
        free(all[q]);
}

static void one_isa(enum kernels_isa isa)
{
    char why[128];
    if (!kernels_isa_supported(isa)) {
        snprintf(why, sizeof why, "this CPU (or build) has no %s; best here is %s",
                 kernels_isa_name(isa), kernels_isa_name(kernels_isa_best()));
        SKIP(why);
        return;
    }
    int bits = 0;
    const int vs_avx2 = isa >= KERNELS_ISA_AVX512;
    int bad = products(isa, vs_avx2 ? &bits : NULL);
    double worst_f = 0, worst_b = 0;
    const int hs[] = {1, 13, 16, 17, 64};
    for (int i = 0; i < NDIM(hs); i++) {
        double wf, wb;
        cells(isa, hs[i], &wf, &wb, vs_avx2 ? &bits : NULL);
        worst_f = fmax(worst_f, wf);
        worst_b = fmax(worst_b, wb);
    }
    printf("  %s: products %d elements off; cell forward %.2e, backward %.2e; %d differ from "
           "avx2%s\n",
           kernels_isa_name(isa), bad, worst_f, worst_b, bits, vs_avx2 ? "" : " (not compared)");
    CHECK(bad == 0);
    CHECK(worst_f <= 5e-7);
    CHECK(worst_b <= 5e-6);
    CHECK(bits == 0);
}

static void test_isa_avx2(void)
{
    one_isa(KERNELS_ISA_AVX2);
}

static void test_isa_avx512(void)
{
    one_isa(KERNELS_ISA_AVX512);
}

/* AMX changes only the bf16 products (test_bf16.c): its fp32 kernels are AVX-512's */
static void test_isa_amx(void)
{
    one_isa(KERNELS_ISA_AMX);
}

static void test_isa_choice(void)
{
    for (int i = 0; i < KERNELS_ISA_COUNT; i++)
        CHECK(kernels_isa_parse(kernels_isa_name((enum kernels_isa)i)) == i);
    CHECK(kernels_isa_parse("avx1024") == -1);
    CHECK(kernels_isa_parse(NULL) == -1);
    CHECK(kernels_isa_supported(KERNELS_ISA_PORTABLE));
    CHECK(kernels_isa_supported(kernels_isa()));
    CHECK(kernels_isa() <= kernels_isa_best());
    CHECK(kernels_isa() == kernels_isa()); /* cached: fixed for the process */
    CHECK(kernels_simd() == (kernels_isa() >= KERNELS_ISA_AVX2));
    const char *e = getenv("LSTMSRC_ISA");
    const int want = e ? kernels_isa_parse(e) : -1;
    if (want >= 0 && kernels_isa_supported((enum kernels_isa)want))
        CHECK((int)kernels_isa() == want);
    else if (want < 0)
        CHECK(kernels_isa() == kernels_isa_best());
    printf("  in use: %s (best here %s, LSTMSRC_ISA=%s)\n", kernels_isa_name(kernels_isa()),
           kernels_isa_name(kernels_isa_best()), e ? e : "(unset)");
}

int main(void)
{
    RUN(test_isa_choice);
    RUN(test_isa_avx2);
    RUN(test_isa_avx512);
    RUN(test_isa_amx);
    return test_report("test_isa");
}
