/*
 * kernels.c — GEMMs (our own register-blocked kernels), the packed-panel GEMM of the
 * LSTM step, the fused LSTM cell forward/backward and small row helpers.
 *
 * Two implementations of each hot kernel, chosen per call by kernels_simd() (a CPU feature
 * test whose answer never changes within a process, so every caller gets the same bits):
 *   - AVX2+FMA on x86-64, written with intrinsics: the build is -std=c11, under which GCC never
 *     contracts a*b+c into an FMA, so plain C (and the target_clones of it) would run at half the
 *     FMA peak. Products use a 6 x 16 register tile (12 accumulators) over k;
 *   - portable C, used elsewhere and kept callable (the *_portable functions) so tests can check
 *     one against the other: 4 x 8 tiles in GCC/clang generic vector types (SSE2, NEON, ...;
 *     plain loops for other compilers or with -DLSTMSRC_NO_VECTOR_EXT).
 * Each output element is its initial value plus the products summed over k in order, in both;
 * no kernel depends on how many rows a call has. Activations use a branch-free polynomial exp
 * (exp_poly; exp8 on 8 lanes) within ~1 ulp of libm's (tests/test_kernels.c).
 * Not here: threads (train/pool.c shards batches), allocation, the parameter layout (model.c).
 */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* syscall(2): the AMX tile permission */
#endif
#include "nn/kernels.h"

#include "base/common.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LSTMSRC_NO_SIMD)
#define KERNELS_X86 1
#include <cpuid.h>
#include <immintrin.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#else
#define KERNELS_X86 0
#endif

#define PANEL KERNELS_PANEL

#if KERNELS_X86
/* Linux gives a process the AMX tile registers' state (8 KB of XSAVE area per thread) only when
 * asked (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA). Asking again is a no-op; the answer is
 * the kernel's and fixed for the process. Elsewhere: no AMX. */
/* CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE (read directly: not every compiler's
 * __builtin_cpu_supports knows their names) */
static int cpu_has_amx_bf16(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (d >> 22 & 1u) && (d >> 24 & 1u);
}

static int amx_permitted(void)
{
#if defined(__linux__) && defined(SYS_arch_prctl)
    const long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#else
    return 0;
#endif
}
#endif

int kernels_isa_supported(enum kernels_isa isa)
{
    switch (isa) {
    case KERNELS_ISA_PORTABLE:
        return 1;
#if KERNELS_X86
    case KERNELS_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KERNELS_ISA_AVX512:
        return kernels_isa_supported(KERNELS_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl");
    case KERNELS_ISA_AMX:
        return kernels_isa_supported(KERNELS_ISA_AVX512) && __builtin_cpu_supports("avx512bf16") &&
               cpu_has_amx_bf16() && amx_permitted();
#endif
    default:
        return 0;
    }
}

enum kernels_isa kernels_isa_best(void)
{
    for (int i = KERNELS_ISA_COUNT - 1; i > 0; i--)
        if (kernels_isa_supported((enum kernels_isa)i)) return (enum kernels_isa)i;
    return KERNELS_ISA_PORTABLE;
}

static const char *const isa_names[KERNELS_ISA_COUNT] = {"portable", "avx2", "avx512", "amx"};

const char *kernels_isa_name(enum kernels_isa isa)
{
    return (int)isa >= 0 && (int)isa < KERNELS_ISA_COUNT ? isa_names[isa] : "?";
}

int kernels_isa_parse(const char *s)
{
    for (int i = 0; s && i < KERNELS_ISA_COUNT; i++)
        if (!strcmp(s, isa_names[i])) return i;
    return -1;
}

/* The choice from the CPU and LSTMSRC_ISA: a pure function of the process's environment. */
static enum kernels_isa isa_choose(void)
{
    const char *e = getenv("LSTMSRC_ISA");
    int want = e && *e ? kernels_isa_parse(e) : -1;
    if (want < 0) return kernels_isa_best();
    while (want > 0 && !kernels_isa_supported((enum kernels_isa)want))
        want--;
    return (enum kernels_isa)want;
}

/* The only writable static of the library: a cache of isa_choose(), whose answer is the same
 * whichever thread computes it first (a race stores the same value twice). It spares a getenv
 * per kernel call. */
static _Atomic int isa_cache = -1;

enum kernels_isa kernels_isa(void)
{
    int v = atomic_load_explicit(&isa_cache, memory_order_relaxed);
    if (v < 0) {
        v = (int)isa_choose();
        atomic_store_explicit(&isa_cache, v, memory_order_relaxed);
    }
    return (enum kernels_isa)v;
}

int kernels_isa_env_problem(char *msg, size_t n)
{
    const char *e = getenv("LSTMSRC_ISA");
    if (!e || !*e) return 0;
    int want = kernels_isa_parse(e);
    if (want < 0) {
        snprintf(msg, n, "LSTMSRC_ISA=%s is not one of amx, avx512, avx2, portable", e);
        return 1;
    }
    if (!kernels_isa_supported((enum kernels_isa)want)) {
        snprintf(msg, n, "LSTMSRC_ISA=%s: this CPU (or build) lacks %s; it has %s", e,
                 want == KERNELS_ISA_AMX      ? "AMX-BF16 tiles (amx_tile, amx_bf16)"
                 : want == KERNELS_ISA_AVX512 ? "AVX-512 F/BW/DQ/VL"
                                              : "AVX2+FMA",
                 kernels_isa_name(kernels_isa_best()));
        return 1;
    }
    return 0;
}

int kernels_simd(void)
{
    return kernels_isa() >= KERNELS_ISA_AVX2;
}

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static void scale_c(float *C, int ldc, int M, int N, float beta)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++)
                c[j] *= beta;
    }
}

/* How a product tile starts: from zero, from a bias row, or from C itself. */
enum { INIT_ZERO, INIT_BIAS, INIT_ACC };

/* ============================== packing ============================== */

size_t pack_floats(int K, int N)
{
    return (size_t)K * (size_t)((N + PANEL - 1) / PANEL) * PANEL;
}

void pack_b_t(float *bp, const float *src, int lds, int K, int N)
{
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        float *p = bp + (size_t)(n0 / PANEL) * K * PANEL;
        int nn = imin(PANEL, N - n0);
        for (int k = 0; k < K; k++) {
            for (int j = 0; j < nn; j++)
                p[(size_t)k * PANEL + j] = src[(size_t)(n0 + j) * lds + k];
            for (int j = nn; j < PANEL; j++)
                p[(size_t)k * PANEL + j] = 0.0f;
        }
    }
}

void pack_b_n(float *bp, const float *src, int lds, int K, int N)
{
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        float *p = bp + (size_t)(n0 / PANEL) * K * PANEL;
        int nn = imin(PANEL, N - n0);
        for (int k = 0; k < K; k++) {
            memcpy(p + (size_t)k * PANEL, src + (size_t)k * lds + n0, (size_t)nn * sizeof *p);
            for (int j = nn; j < PANEL; j++)
                p[(size_t)k * PANEL + j] = 0.0f;
        }
    }
}

/* ============================== portable products ============================== */

#define PMR 4 /* rows per portable tile */

/* The full 4 x 8 part of tile_nn_c (below), C += A (4, K) @ B (K, 8), k outer, the 4 x 8
 * accumulators in vector registers: 8 of SSE2's 16, a quarter of NEON's 32. Same per-element
 * order as tile_nn_c. With GCC or clang, generic vector types (any target); left to the
 * vectoriser, GCC turns the four rows into shuffles and runs at a tenth of the speed. */
#define PNR 8
#if defined(__GNUC__) && !defined(LSTMSRC_NO_VECTOR_EXT)
typedef float vf4 __attribute__((vector_size(16)));
static inline vf4 ld4(const float *p)
{
    vf4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st4(float *p, vf4 v)
{
    memcpy(p, &v, sizeof v);
}

static void tile_nn_c_full(float *C, int ldc, const float *A, int lda, int K, const float *b,
                           size_t bs)
{
    float *r0 = C, *r1 = r0 + ldc, *r2 = r1 + ldc, *r3 = r2 + ldc;
    vf4 c00 = ld4(r0), c01 = ld4(r0 + 4), c10 = ld4(r1), c11 = ld4(r1 + 4);
    vf4 c20 = ld4(r2), c21 = ld4(r2 + 4), c30 = ld4(r3), c31 = ld4(r3 + 4);
    const float *a0 = A, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * bs;
        const vf4 b0 = ld4(bk), b1 = ld4(bk + 4);
        const float x0 = a0[k], x1 = a1[k], x2 = a2[k], x3 = a3[k];
        c00 += x0 * b0;
        c01 += x0 * b1;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c20 += x2 * b0;
        c21 += x2 * b1;
        c30 += x3 * b0;
        c31 += x3 * b1;
    }
    st4(r0, c00);
    st4(r0 + 4, c01);
    st4(r1, c10);
    st4(r1 + 4, c11);
    st4(r2, c20);
    st4(r2 + 4, c21);
    st4(r3, c30);
    st4(r3 + 4, c31);
}

/* C (4, 8) += sum over segments of A_s^T (4, K) @ B_s (K, 8); A_s rows give the 4 values of
 * one k, contiguous */
static void tile_tn_c_full(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B,
                           int ldb, size_t b_seg, int K, int s0, int nseg)
{
    float *r0 = C, *r1 = r0 + ldc, *r2 = r1 + ldc, *r3 = r2 + ldc;
    vf4 c00 = ld4(r0), c01 = ld4(r0 + 4), c10 = ld4(r1), c11 = ld4(r1 + 4);
    vf4 c20 = ld4(r2), c21 = ld4(r2 + 4), c30 = ld4(r3), c31 = ld4(r3 + 4);
    for (int sg = s0; sg < nseg; sg++)
        for (int k = 0; k < K; k++) {
            const float *ak = A + sg * a_seg + (size_t)k * lda,
                        *bk = B + sg * b_seg + (size_t)k * ldb;
            const vf4 b0 = ld4(bk), b1 = ld4(bk + 4);
            c00 += ak[0] * b0;
            c01 += ak[0] * b1;
            c10 += ak[1] * b0;
            c11 += ak[1] * b1;
            c20 += ak[2] * b0;
            c21 += ak[2] * b1;
            c30 += ak[3] * b0;
            c31 += ak[3] * b1;
        }
    st4(r0, c00);
    st4(r0 + 4, c01);
    st4(r1, c10);
    st4(r1 + 4, c11);
    st4(r2, c20);
    st4(r2 + 4, c21);
    st4(r3, c30);
    st4(r3 + 4, c31);
}
#else
static void tile_nn_c_full(float *C, int ldc, const float *A, int lda, int K,
                           const float *restrict b, size_t bs)
{
    for (int i = 0; i < PMR; i++) {
        float c[PNR];
        memcpy(c, C + (size_t)i * ldc, sizeof c);
        for (int k = 0; k < K; k++) {
            const float x = A[(size_t)i * lda + k], *bk = b + (size_t)k * bs;
            for (int j = 0; j < PNR; j++)
                c[j] += x * bk[j];
        }
        memcpy(C + (size_t)i * ldc, c, sizeof c);
    }
}

static void tile_tn_c_full(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B,
                           int ldb, size_t b_seg, int K, int s0, int nseg)
{
    for (int i = 0; i < PMR; i++) {
        float c[PNR];
        memcpy(c, C + (size_t)i * ldc, sizeof c);
        for (int sg = s0; sg < nseg; sg++)
            for (int k = 0; k < K; k++) {
                const float x = A[sg * a_seg + (size_t)k * lda + i];
                const float *bk = B + sg * b_seg + (size_t)k * ldb;
                for (int j = 0; j < PNR; j++)
                    c[j] += x * bk[j];
            }
        memcpy(C + (size_t)i * ldc, c, sizeof c);
    }
}
#endif

/* One (mr <= PMR) x (nn <= PANEL) tile of C = init + A1 @ B[0:K1] + A2 @ B[K1:]; row k of B
 * (starting at this tile's first column) is at b + k*bs and holds nn valid floats. */
static void tile_nn_c(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                      int lda2, int K2, const float *b, size_t bs, const float *bias, int init,
                      int mr, int nn)
{
    if (mr == PMR && nn == PANEL) {
        /* full tile: the start value written into C, then the two parts as 4 x 8 halves */
        for (int i = 0; i < PMR; i++)
            for (int j = 0; j < PANEL; j++)
                if (init != INIT_ACC) C[(size_t)i * ldc + j] = init == INIT_BIAS ? bias[j] : 0.0f;
        for (int h = 0; h < PANEL; h += PNR) {
            tile_nn_c_full(C + h, ldc, A1, lda1, K1, b + h, bs);
            if (K2) tile_nn_c_full(C + h, ldc, A2, lda2, K2, b + (size_t)K1 * bs + h, bs);
        }
        return;
    }
    float acc[PMR][PANEL];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < PANEL; j++)
            acc[i][j] = j >= nn             ? 0.0f
                        : init == INIT_ACC  ? C[(size_t)i * ldc + j]
                        : init == INIT_BIAS ? bias[j]
                                            : 0.0f;
    for (int part = 0; part < 2; part++) {
        const float *A = part ? A2 : A1;
        const int lda = part ? lda2 : lda1, K = part ? K2 : K1;
        const float *bb = part ? b + (size_t)K1 * bs : b;
        for (int k = 0; k < K; k++) {
            const float *restrict bk = bb + (size_t)k * bs;
            for (int i = 0; i < mr; i++) {
                float a = A[(size_t)i * lda + k];
                if (nn == PANEL)
                    for (int j = 0; j < PANEL; j++)
                        acc[i][j] += a * bk[j];
                else
                    for (int j = 0; j < nn; j++)
                        acc[i][j] += a * bk[j];
            }
        }
    }
    for (int i = 0; i < mr; i++)
        memcpy(C + (size_t)i * ldc, acc[i], (size_t)nn * sizeof(float));
}

void gemm_packed_portable(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                          int lda2, int K2, const float *bp, int kp, const float *bias,
                          int accumulate, int M, int N)
{
    const int init = accumulate ? INIT_ACC : bias ? INIT_BIAS : INIT_ZERO;
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        const float *b = bp + (size_t)(n0 / PANEL) * kp * PANEL;
        int nn = imin(PANEL, N - n0);
        for (int i0 = 0; i0 < M; i0 += PMR)
            tile_nn_c(C + (size_t)i0 * ldc + n0, ldc, A1 + (size_t)i0 * lda1, lda1, K1,
                      A2 ? A2 + (size_t)i0 * lda2 : NULL, lda2, K2, b, PANEL,
                      bias ? bias + n0 : NULL, init, imin(PMR, M - i0), nn);
    }
}

void gemm_nn_portable(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                      int N, int K, float beta)
{
    scale_c(C, ldc, M, N, beta);
    const int init = beta == 0.0f ? INIT_ZERO : INIT_ACC;
    for (int n0 = 0; n0 < N; n0 += PANEL)
        for (int i0 = 0; i0 < M; i0 += PMR)
            tile_nn_c(C + (size_t)i0 * ldc + n0, ldc, A + (size_t)i0 * lda, lda, K, NULL, 0, 0,
                      B + n0, (size_t)ldb, NULL, init, imin(PMR, M - i0), imin(PANEL, N - n0));
}

/* C (M,N) += A^T B, A (K,M), B (K,N): for each k, row k of A (contiguous over m) times row k of
 * B (contiguous over n), so neither operand needs packing. Segments: see gemm_tn_seg. */
void gemm_tn_seg_portable(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B,
                          int ldb, size_t b_seg, int M, int N, int K, int nseg, int skip_below)
{
    for (int i0 = 0; i0 < M; i0 += PMR) {
        const int mr = imin(PMR, M - i0), s0 = i0 + mr <= skip_below ? 1 : 0;
        for (int n0 = 0; n0 < N; n0 += PANEL) {
            const int nn = imin(PANEL, N - n0);
            if (mr == PMR && nn == PANEL) {
                for (int h = 0; h < PANEL; h += PNR)
                    tile_tn_c_full(C + (size_t)i0 * ldc + n0 + h, ldc, A + i0, lda, a_seg,
                                   B + n0 + h, ldb, b_seg, K, s0, nseg);
                continue;
            }
            float acc[PMR][PANEL];
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < PANEL; j++)
                    acc[i][j] = j < nn ? C[(size_t)(i0 + i) * ldc + n0 + j] : 0.0f;
            for (int sg = s0; sg < nseg; sg++) {
                const float *As = A + sg * a_seg + i0, *Bs = B + sg * b_seg + n0;
                for (int k = 0; k < K; k++) {
                    const float *restrict bk = Bs + (size_t)k * ldb;
                    const float *ak = As + (size_t)k * lda;
                    for (int i = 0; i < mr; i++) {
                        float a = ak[i];
                        if (nn == PANEL)
                            for (int j = 0; j < PANEL; j++)
                                acc[i][j] += a * bk[j];
                        else
                            for (int j = 0; j < nn; j++)
                                acc[i][j] += a * bk[j];
                    }
                }
            }
            for (int i = 0; i < mr; i++)
                memcpy(C + (size_t)(i0 + i) * ldc + n0, acc[i], (size_t)nn * sizeof(float));
        }
    }
}

void gemm_tn_portable(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                      int N, int K)
{
    gemm_tn_seg_portable(C, ldc, A, lda, 0, B, ldb, 0, M, N, K, 1, 0);
}

/* ============================== scalar activations ============================== */

/* exp(x) for x in [-88, 88] (callers clamp): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
 * a degree-6 polynomial for e^r (Cephes expf coefficients), and 2^n built from the exponent
 * bits. Branch-free so the loops below vectorise; max relative error ~2 ulp against libm's
 * expf (tests/test_kernels.c checks it). */
static inline float exp_poly(float x)
{
    const float log2e = 1.44269504088896341f, c1 = 0.693359375f, c2 = -2.12194440e-4f;
    float t = x * log2e;
    /* round to nearest with the 1.5*2^23 trick: exact for |t| < 2^22, no libm call */
    float big = t + 12582912.0f;
    float n = big - 12582912.0f;
    float r = x - n * c1;
    r = r - n * c2;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n from the integer held in big's low mantissa bits (0x400000 + n): converting the float
     * n to an int would be undefined for the NaN that a non-finite input brings */
    uint32_t nb;
    memcpy(&nb, &big, sizeof nb);
    uint32_t bits = ((nb & 0x7fffffu) - 0x400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* 1 / (1 + e^-x); saturates cleanly to 0 and 1 */
static inline float sigmoid_poly(float x)
{
    return 1.0f / (1.0f + exp_poly(clampf(-x, -88.0f, 88.0f)));
}

/* tanh(x) = 2 sigmoid(2x) - 1: absolute error below 1e-7, which is what the cell needs */
static inline float tanh_poly(float x)
{
    return 2.0f / (1.0f + exp_poly(clampf(-2.0f * x, -88.0f, 88.0f))) - 1.0f;
}

LSTMSRC_CLONES void vec_sigmoid(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = sigmoid_poly(x[i]);
}

LSTMSRC_CLONES void vec_tanh(float *y, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] = tanh_poly(x[i]);
}

float scalar_expf(float x)
{
    return exp_poly(clampf(x, -88.0f, 88.0f));
}

/* ============================== portable LSTM cell ============================== */

LSTMSRC_CLONES void lstm_cell_forward_portable(float *z, float *c, float *tc, float *h, int ldh,
                                               const float *c_prev, const float *b, int B, int H)
{
    for (int r = 0; r < B; r++) {
        float *restrict zr = z + (size_t)r * 4 * H;
        float *restrict cr = c + (size_t)r * H, *restrict tcr = tc + (size_t)r * H;
        float *restrict hr = h + (size_t)r * ldh;
        if (b)
            for (int j = 0; j < 4 * H; j++)
                zr[j] += b[j];
        /* i, f: sigmoid over the first 2H; g: tanh; o: sigmoid */
        for (int j = 0; j < 2 * H; j++)
            zr[j] = sigmoid_poly(zr[j]);
        for (int j = 2 * H; j < 3 * H; j++)
            zr[j] = tanh_poly(zr[j]);
        for (int j = 3 * H; j < 4 * H; j++)
            zr[j] = sigmoid_poly(zr[j]);
        const float *zi = zr, *zf = zr + H, *zg = zr + 2 * H, *zo = zr + 3 * H;
        /* c_t = f # c_{t-1} + i # g;  h_t = o # tanh(c_t) */
        if (c_prev) {
            const float *restrict cp = c_prev + (size_t)r * H;
            for (int j = 0; j < H; j++)
                cr[j] = zf[j] * cp[j] + zi[j] * zg[j];
        } else {
            for (int j = 0; j < H; j++)
                cr[j] = zi[j] * zg[j];
        }
        for (int j = 0; j < H; j++)
            tcr[j] = tanh_poly(cr[j]);
        for (int j = 0; j < H; j++)
            hr[j] = zo[j] * tcr[j];
    }
}

/* One row of the cell backward; cp NULL means c_{t-1} = 0 (then df = 0). */
static inline void cell_backward_row(float *restrict dz, float *restrict dc,
                                     const float *restrict dh1, const float *restrict dh2,
                                     const float *restrict gates, const float *restrict cp,
                                     const float *restrict tc, int H)
{
    const float *gi = gates, *gf = gates + H, *gg = gates + 2 * H, *go = gates + 3 * H;
    float *di = dz, *df = dz + H, *dg = dz + 2 * H, *dO = dz + 3 * H;
    for (int j = 0; j < H; j++) {
        float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];
        float dh = dh2 ? dh1[j] + dh2[j] : dh1[j];
        /* dc_t = dc_next + dh * o * (1 - tanh^2 c_t) */
        float dcv = dc[j] + dh * o * (1.0f - t * t);
        di[j] = dcv * g * i * (1.0f - i);
        df[j] = cp ? dcv * cp[j] * f * (1.0f - f) : 0.0f;
        dg[j] = dcv * i * (1.0f - g * g);
        dO[j] = dh * t * o * (1.0f - o);
        dc[j] = dcv * f; /* flows to c_{t-1} */
    }
}

LSTMSRC_CLONES void lstm_cell_backward_portable(float *dz, int ldz, float *dc, const float *dh1,
                                                const float *dh2, const float *gates,
                                                const float *c_prev, const float *tc, int B, int H)
{
    for (int r = 0; r < B; r++) {
        size_t o4 = (size_t)r * 4 * H, o1 = (size_t)r * H, oz = (size_t)r * ldz;
        /* separate call sites so each inlined copy has no branch in its loop */
        const float *d2 = dh2 ? dh2 + o1 : NULL;
        if (c_prev && d2)
            cell_backward_row(dz + oz, dc + o1, dh1 + o1, d2, gates + o4, c_prev + o1, tc + o1, H);
        else if (c_prev)
            cell_backward_row(dz + oz, dc + o1, dh1 + o1, NULL, gates + o4, c_prev + o1, tc + o1,
                              H);
        else if (d2)
            cell_backward_row(dz + oz, dc + o1, dh1 + o1, d2, gates + o4, NULL, tc + o1, H);
        else
            cell_backward_row(dz + oz, dc + o1, dh1 + o1, NULL, gates + o4, NULL, tc + o1, H);
    }
}

/* ============================== AVX2 + FMA ============================== */

#if KERNELS_X86
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline
#define MR 6 /* rows per AVX2 tile: 6 x 2 accumulators + 2 B rows + 1 broadcast of 16 ymm */

/* lanes j < n of a row of 8 (n may be <= 0 or >= 8) */
AVX2_INLINE __m256i lane_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2_INLINE __m256 load16(const float *p, int half, int full, __m256i m)
{
    return full ? _mm256_loadu_ps(p + 8 * half) : _mm256_maskload_ps(p + 8 * half, m);
}

AVX2_INLINE void store16(float *p, int half, int full, __m256i m, __m256 v)
{
    if (full)
        _mm256_storeu_ps(p + 8 * half, v);
    else
        _mm256_maskstore_ps(p + 8 * half, m, v);
}

/* The accumulators are named variables, not arrays: GCC keeps an array of vectors in memory
 * and stores it back on every k. Row i's two vectors are c<i>0 (columns 0..7), c<i>1 (8..15);
 * a row beyond mr is dead code once mr is a constant. */
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DECL_ACC(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define LOAD_ACC(i)                                                                                \
    if (mr > i) {                                                                                  \
        c##i##0 = load16(C + (size_t)i * ldc, 0, full, m0);                                        \
        c##i##1 = load16(C + (size_t)i * ldc, 1, full, m1);                                        \
    }
#define BIAS_ACC(i)                                                                                \
    if (mr > i) {                                                                                  \
        c##i##0 = bias0;                                                                           \
        c##i##1 = bias1;                                                                           \
    }
#define STORE_ACC(i)                                                                               \
    if (mr > i) {                                                                                  \
        store16(C + (size_t)i * ldc, 0, full, m0, c##i##0);                                        \
        store16(C + (size_t)i * ldc, 1, full, m1, c##i##1);                                        \
    }
/* a row of A at stride lda: broadcast a[i*lda] */
#define FMA_ROW(i)                                                                                 \
    if (mr > i) {                                                                                  \
        __m256 a = _mm256_broadcast_ss(ak + (size_t)i * lda);                                      \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                                 \
        c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                                                 \
    }
/* a row of A^T: broadcast ak[i] */
#define FMA_COL(i)                                                                                 \
    if (mr > i) {                                                                                  \
        __m256 a = _mm256_broadcast_ss(ak + i);                                                    \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                                 \
        c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                                                 \
    }

/* k = 0..K-1 of one A operand (rows at ak + i*lda, column k) against B rows b + k*bs */
#define NN_PART(A, LDA, K, B)                                                                      \
    for (int k = 0; k < (K); k++) {                                                                \
        const float *bk = (B) + (size_t)k * bs, *ak = (A) + k;                                     \
        const size_t lda = (size_t)(LDA);                                                          \
        __m256 b0 = load16(bk, 0, full, m0), b1 = load16(bk, 1, full, m1);                         \
        FOR_ROWS(FMA_ROW)                                                                          \
    }

/* mr x 16 tile of C = init + A1 @ B[0:K1] + A2 @ B[K1:K1+K2]; row k of B at b + k*bs. `full`:
 * all 16 columns valid (else nn of them, masked). mr and full are constants after inlining. */
AVX2_INLINE void tile_nn_avx2(const int mr, const int full, float *C, int ldc, const float *A1,
                              int lda1, int K1, const float *A2, int lda2, int K2, const float *b,
                              size_t bs, const float *bias, int init, int nn)
{
    const __m256i m0 = lane_mask(nn), m1 = lane_mask(nn - 8);
    FOR_ROWS(DECL_ACC)
    if (init == INIT_ACC) {
        FOR_ROWS(LOAD_ACC)
    } else if (init == INIT_BIAS) {
        const __m256 bias0 = load16(bias, 0, full, m0), bias1 = load16(bias, 1, full, m1);
        FOR_ROWS(BIAS_ACC)
    }
    NN_PART(A1, lda1, K1, b)
    NN_PART(A2, lda2, K2, b + (size_t)K1 * bs)
    FOR_ROWS(STORE_ACC)
}

#define TILE_NN_CASE(MRV)                                                                          \
    case MRV:                                                                                      \
        if (nn == PANEL)                                                                           \
            tile_nn_avx2(MRV, 1, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, bias, init, nn);       \
        else                                                                                       \
            tile_nn_avx2(MRV, 0, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, bias, init, nn);       \
        break;

AVX2 static void tile_nn_dispatch(int mr, float *C, int ldc, const float *A1, int lda1, int K1,
                                  const float *A2, int lda2, int K2, const float *b, size_t bs,
                                  const float *bias, int init, int nn)
{
    switch (mr) {
        TILE_NN_CASE(1)
        TILE_NN_CASE(2)
        TILE_NN_CASE(3)
        TILE_NN_CASE(4)
        TILE_NN_CASE(5)
        TILE_NN_CASE(6)
    }
}

/* One or two rows (a stream, or a batch's last rows) against NP panels at once: the 6 x 16 tile
 * would leave only 2 or 4 independent accumulator chains and wait on FMA latency. Each element
 * is still init + the same FMAs in the same k order, so the bits equal the 6 x 16 tile's. */
#define WIDE_DECL(q) __m256 w0##q = _mm256_setzero_ps(), w1##q = _mm256_setzero_ps();
#define WIDE_INIT(q)                                                                               \
    if (np > q / 2) {                                                                              \
        const int col = 8 * q;                                                                     \
        if (init == INIT_ACC) {                                                                    \
            w0##q = _mm256_loadu_ps(C + col);                                                      \
            if (mr > 1) w1##q = _mm256_loadu_ps(C + ldc + col);                                    \
        } else if (init == INIT_BIAS) {                                                            \
            w0##q = w1##q = _mm256_loadu_ps(bias + col);                                           \
        }                                                                                          \
    }
#define WIDE_FMA(q)                                                                                \
    if (np > q / 2) {                                                                              \
        __m256 bq = _mm256_loadu_ps(bk + (size_t)(q / 2) * pstride + 8 * (q % 2));                 \
        w0##q = _mm256_fmadd_ps(a0, bq, w0##q);                                                    \
        if (mr > 1) w1##q = _mm256_fmadd_ps(a1, bq, w1##q);                                        \
    }
#define WIDE_STORE(q)                                                                              \
    if (np > q / 2) {                                                                              \
        _mm256_storeu_ps(C + 8 * q, w0##q);                                                        \
        if (mr > 1) _mm256_storeu_ps(C + ldc + 8 * q, w1##q);                                      \
    }
#define FOR_WIDE(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* mr (1 or 2) rows x np full panels (np * 16 columns, np <= 4 / mr) */
AVX2_INLINE void tile_wide_avx2(const int mr, const int np, float *C, int ldc, const float *A1,
                                int lda1, int K1, const float *A2, int lda2, int K2, const float *b,
                                size_t bs, size_t pstride, const float *bias, int init)
{
    FOR_WIDE(WIDE_DECL)
    FOR_WIDE(WIDE_INIT)
    for (int part = 0; part < 2; part++) {
        const float *A = part ? A2 : A1;
        const int K = part ? K2 : K1;
        const size_t lda = (size_t)(part ? lda2 : lda1);
        const float *bb = part ? b + (size_t)K1 * bs : b;
        for (int k = 0; k < K; k++) {
            const float *bk = bb + (size_t)k * bs;
            __m256 a0 = _mm256_broadcast_ss(A + k), a1 = a0;
            if (mr > 1) a1 = _mm256_broadcast_ss(A + lda + k);
            FOR_WIDE(WIDE_FMA)
        }
    }
    FOR_WIDE(WIDE_STORE)
}

/* Panels outer, row tiles inner: the panel (K x 16) stays in L1 while all rows pass it. */
AVX2 static void gemm_nn_avx2(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                              int lda2, int K2, const float *b, size_t bs, size_t panel_stride,
                              const float *bias, int init, int M, int N)
{
    if (M <= 2) {
        /* full panels four (one row) or two (two rows) at a time, then the rest as usual */
        const int per = M == 1 ? 4 : 2, full = N / PANEL;
        int p = 0;
        for (; p + per <= full; p += per) {
            if (M == 1)
                tile_wide_avx2(1, 4, C + p * PANEL, ldc, A1, lda1, K1, A2, lda2, K2,
                               b + p * panel_stride, bs, panel_stride,
                               bias ? bias + p * PANEL : NULL, init);
            else
                tile_wide_avx2(2, 2, C + p * PANEL, ldc, A1, lda1, K1, A2, lda2, K2,
                               b + p * panel_stride, bs, panel_stride,
                               bias ? bias + p * PANEL : NULL, init);
        }
        if (p * PANEL >= N) return;
        C += p * PANEL;
        b += p * panel_stride;
        if (bias) bias += p * PANEL;
        N -= p * PANEL;
    }
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        const float *bpanel = b + (size_t)(n0 / PANEL) * panel_stride;
        const int nn = imin(PANEL, N - n0);
        for (int i0 = 0; i0 < M; i0 += MR)
            tile_nn_dispatch(imin(MR, M - i0), C + (size_t)i0 * ldc + n0, ldc,
                             A1 + (size_t)i0 * lda1, lda1, K1, A2 ? A2 + (size_t)i0 * lda2 : NULL,
                             lda2, K2, bpanel, bs, bias ? bias + n0 : NULL, init, nn);
    }
}

/* mr x 16 tile of C += A^T B over segments s0..nseg-1: A (K, M) rows give mr broadcasts,
 * B (K, N) rows two vectors. */
AVX2_INLINE void tile_tn_avx2(const int mr, const int full, float *C, int ldc, const float *A,
                              int lda, size_t a_seg, const float *B, int ldb, size_t b_seg, int K,
                              int s0, int nseg, int nn)
{
    const __m256i m0 = lane_mask(nn), m1 = lane_mask(nn - 8);
    FOR_ROWS(DECL_ACC)
    FOR_ROWS(LOAD_ACC)
    for (int sg = s0; sg < nseg; sg++) {
        const float *As = A + sg * a_seg, *Bs = B + sg * b_seg;
        for (int k = 0; k < K; k++) {
            const float *bk = Bs + (size_t)k * ldb, *ak = As + (size_t)k * lda;
            __m256 b0 = load16(bk, 0, full, m0), b1 = load16(bk, 1, full, m1);
            FOR_ROWS(FMA_COL)
        }
    }
    FOR_ROWS(STORE_ACC)
}

#define TILE_TN_CASE(MRV)                                                                          \
    case MRV:                                                                                      \
        if (nn == PANEL)                                                                           \
            tile_tn_avx2(MRV, 1, C, ldc, A, lda, a_seg, B, ldb, b_seg, K, s0, nseg, nn);           \
        else                                                                                       \
            tile_tn_avx2(MRV, 0, C, ldc, A, lda, a_seg, B, ldb, b_seg, K, s0, nseg, nn);           \
        break;

AVX2 static void tile_tn_dispatch(int mr, float *C, int ldc, const float *A, int lda, size_t a_seg,
                                  const float *B, int ldb, size_t b_seg, int K, int s0, int nseg,
                                  int nn)
{
    switch (mr) {
        TILE_TN_CASE(1)
        TILE_TN_CASE(2)
        TILE_TN_CASE(3)
        TILE_TN_CASE(4)
        TILE_TN_CASE(5)
        TILE_TN_CASE(6)
    }
}

AVX2 static void gemm_tn_avx2(float *C, int ldc, const float *A, int lda, size_t a_seg,
                              const float *B, int ldb, size_t b_seg, int M, int N, int K, int nseg,
                              int skip_below)
{
    /* Panels outer: a panel of B (nseg*K x 16 floats) stays in L1 for every row tile, and A is
     * streamed once per panel: 6/16 of the traffic of the other order, which streams all of B
     * once per row tile. When the panel would not fit in L1, row tiles go outer instead. */
    if (nseg == 1 && K > 256) {
        /* a long product (the plain path's dW over all T*B rows): K in chunks, C reloaded between
         * them (exact), so each chunk's panel fits in L1 */
        for (int k0 = 0; k0 < K; k0 += 256)
            gemm_tn_avx2(C, ldc, A + (size_t)k0 * lda, lda, 0, B + (size_t)k0 * ldb, ldb, 0, M, N,
                         K - k0 < 256 ? K - k0 : 256, 1, skip_below);
        return;
    }
    if ((size_t)nseg * K > 256) {
        for (int i0 = 0; i0 < M; i0 += MR) {
            const int mr = imin(MR, M - i0), s0 = i0 + mr <= skip_below ? 1 : 0;
            for (int n0 = 0; n0 < N; n0 += PANEL)
                tile_tn_dispatch(mr, C + (size_t)i0 * ldc + n0, ldc, A + i0, lda, a_seg, B + n0,
                                 ldb, b_seg, K, s0, nseg, imin(PANEL, N - n0));
        }
    } else {
        for (int n0 = 0; n0 < N; n0 += PANEL)
            for (int i0 = 0; i0 < M; i0 += MR) {
                const int mr = imin(MR, M - i0), s0 = i0 + mr <= skip_below ? 1 : 0;
                tile_tn_dispatch(mr, C + (size_t)i0 * ldc + n0, ldc, A + i0, lda, a_seg, B + n0,
                                 ldb, b_seg, K, s0, nseg, imin(PANEL, N - n0));
            }
    }
}

/* ---------- activations ---------- */

/* exp_poly on 8 lanes, x in [-88, 88] (NaN stays NaN). n = round(x log2e) with the 1.5*2^23
 * trick, as in exp_poly: the sum t + 1.5*2^23 holds n in its low mantissa bits, so 2^n is built
 * from those bits with an integer add and shift (no round/convert instructions: the cell is
 * bound by FP-pipe throughput, not latency). */
AVX2_INLINE __m256 exp8(__m256 x)
{
    const __m256 log2e = _mm256_set1_ps(1.44269504088896341f), magic = _mm256_set1_ps(12582912.0f);
    const __m256 c1 = _mm256_set1_ps(0.693359375f), c2 = _mm256_set1_ps(-2.12194440e-4f);
    __m256 tm = _mm256_fmadd_ps(x, log2e, magic);
    __m256 n = _mm256_sub_ps(tm, magic);
    __m256 r = _mm256_fnmadd_ps(n, c1, x);
    r = _mm256_fnmadd_ps(n, c2, r);
    /* e^r = 1 + r + r^2 P(r) with P of degree 4 fitted for float (minimax relative error
     * 3e-9; Cephes' degree 5 buys nothing in float), by Estrin's scheme */
    __m256 r2 = _mm256_mul_ps(r, r), r4 = _mm256_mul_ps(r2, r2);
    __m256 q0 = _mm256_fmadd_ps(_mm256_set1_ps(0.1666652113199234f), r,
                                _mm256_set1_ps(0.4999999403953552f));
    __m256 q1 = _mm256_fmadd_ps(_mm256_set1_ps(0.008368710055947304f), r,
                                _mm256_set1_ps(0.04166838899254799f));
    __m256 p =
        _mm256_fmadd_ps(_mm256_set1_ps(0.001381461275741458f), r4, _mm256_fmadd_ps(q1, r2, q0));
    p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* low bits of tm: n + 2^22 (two's complement for n < 0); (n + 127) << 23 is the float 2^n */
    __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_castps_si256(tm), _mm256_set1_epi32(127 - 0x4B400000)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* 1 / (1 + e^(s*x)) with s*x clamped to [-88, 88]; max(lo, v) keeps a NaN v */
AVX2_INLINE __m256 recip_one_plus_exp(__m256 sx)
{
    const __m256 lo = _mm256_set1_ps(-88.0f), hi = _mm256_set1_ps(88.0f);
    __m256 e = exp8(_mm256_min_ps(hi, _mm256_max_ps(lo, sx)));
    __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), e);
    /* a true division: rcp + Newton measured no faster here, and is not exact */
    return _mm256_div_ps(_mm256_set1_ps(1.0f), d);
}

AVX2_INLINE __m256 sigmoid8(__m256 x)
{
    return recip_one_plus_exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
}

/* tanh(x) = 2 / (1 + e^-2x) - 1 */
AVX2_INLINE __m256 tanh8(__m256 x)
{
    __m256 s = recip_one_plus_exp(_mm256_mul_ps(_mm256_set1_ps(-2.0f), x));
    return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), s, _mm256_set1_ps(1.0f));
}

/* ---------- cell ---------- */

/* In place over n floats: y = sigmoid(y) (tanh = 0) or y = tanh(y) (tanh = 1). Every 8 lanes
 * are independent of the others, so out-of-order execution overlaps the exp/divide chains of
 * neighbouring iterations (one fused pass per unit would be one long dependent chain). */
AVX2_INLINE void activate_avx2(float *y, int n, const int tanh)
{
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(y + j);
        _mm256_storeu_ps(y + j, tanh ? tanh8(v) : sigmoid8(v));
    }
    if (j < n) {
        /* the last n % 8 through a zero-padded copy: same arithmetic per element */
        float t[8] = {0};
        memcpy(t, y + j, (size_t)(n - j) * sizeof(float));
        __m256 v = _mm256_loadu_ps(t);
        _mm256_storeu_ps(t, tanh ? tanh8(v) : sigmoid8(v));
        memcpy(y + j, t, (size_t)(n - j) * sizeof(float));
    }
}

/* 8 units: c = f # c_prev + i # g (cp NULL: c_prev = 0), tc = tanh(c), h = o # tc */
AVX2_INLINE void cell_state8(const float *zi, const float *zf, const float *zg, const float *zo,
                             const float *cp, float *c, float *tc, float *h)
{
    __m256 ig = _mm256_mul_ps(_mm256_loadu_ps(zi), _mm256_loadu_ps(zg));
    __m256 cv = cp ? _mm256_fmadd_ps(_mm256_loadu_ps(zf), _mm256_loadu_ps(cp), ig) : ig;
    __m256 t = tanh8(cv);
    _mm256_storeu_ps(c, cv);
    _mm256_storeu_ps(tc, t);
    _mm256_storeu_ps(h, _mm256_mul_ps(_mm256_loadu_ps(zo), t));
}

AVX2 static void cell_forward_avx2(float *z, float *c, float *tc, float *h, int ldh,
                                   const float *c_prev, const float *b, int B, int H)
{
    const int H8 = H / 8 * 8;
    for (int r = 0; r < B; r++) {
        float *zr = z + (size_t)r * 4 * H, *cr = c + (size_t)r * H, *tcr = tc + (size_t)r * H;
        float *hr = h + (size_t)r * ldh;
        const float *cp = c_prev ? c_prev + (size_t)r * H : NULL;
        if (b)
            for (int j = 0; j < 4 * H; j++)
                zr[j] += b[j];
        /* i, f: sigmoid over the first 2H; g: tanh; o: sigmoid */
        activate_avx2(zr, 2 * H, 0);
        activate_avx2(zr + 2 * H, H, 1);
        activate_avx2(zr + 3 * H, H, 0);
        /* c_t = f # c_{t-1} + i # g;  h_t = o # tanh(c_t) */
        for (int j = 0; j < H8; j += 8)
            cell_state8(zr + j, zr + H + j, zr + 2 * H + j, zr + 3 * H + j, cp ? cp + j : NULL,
                        cr + j, tcr + j, hr + j);
        if (H8 < H) {
            float t[8][8] = {{0}};
            const int n = H - H8;
            for (int q = 0; q < 4; q++)
                memcpy(t[q], zr + q * H + H8, (size_t)n * sizeof(float));
            if (cp) memcpy(t[4], cp + H8, (size_t)n * sizeof(float));
            cell_state8(t[0], t[1], t[2], t[3], cp ? t[4] : NULL, t[5], t[6], t[7]);
            memcpy(cr + H8, t[5], (size_t)n * sizeof(float));
            memcpy(tcr + H8, t[6], (size_t)n * sizeof(float));
            memcpy(hr + H8, t[7], (size_t)n * sizeof(float));
        }
    }
}

/* 8 units of one row of the cell backward; see cell_backward_row for the equations. */
AVX2_INLINE void cell_bwd8(float *di, float *df, float *dg, float *dO, float *dc, const float *dh1,
                           const float *dh2, const float *gi, const float *gf, const float *gg,
                           const float *go, const float *cp, const float *tc)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 i = _mm256_loadu_ps(gi), f = _mm256_loadu_ps(gf), g = _mm256_loadu_ps(gg);
    __m256 o = _mm256_loadu_ps(go), t = _mm256_loadu_ps(tc);
    __m256 dh = _mm256_loadu_ps(dh1);
    if (dh2) dh = _mm256_add_ps(dh, _mm256_loadu_ps(dh2));
    __m256 dcv =
        _mm256_fmadd_ps(_mm256_mul_ps(dh, o), _mm256_fnmadd_ps(t, t, one), _mm256_loadu_ps(dc));
    _mm256_storeu_ps(di,
                     _mm256_mul_ps(_mm256_mul_ps(dcv, g), _mm256_mul_ps(i, _mm256_sub_ps(one, i))));
    _mm256_storeu_ps(df, cp ? _mm256_mul_ps(_mm256_mul_ps(dcv, _mm256_loadu_ps(cp)),
                                            _mm256_mul_ps(f, _mm256_sub_ps(one, f)))
                            : _mm256_setzero_ps());
    _mm256_storeu_ps(dg, _mm256_mul_ps(_mm256_mul_ps(dcv, i), _mm256_fnmadd_ps(g, g, one)));
    _mm256_storeu_ps(dO,
                     _mm256_mul_ps(_mm256_mul_ps(dh, t), _mm256_mul_ps(o, _mm256_sub_ps(one, o))));
    _mm256_storeu_ps(dc, _mm256_mul_ps(dcv, f));
}

AVX2 static void cell_backward_avx2(float *dz, int ldz, float *dc, const float *dh1,
                                    const float *dh2, const float *gates, const float *c_prev,
                                    const float *tc, int B, int H)
{
    const int H8 = H / 8 * 8;
    for (int r = 0; r < B; r++) {
        size_t o4 = (size_t)r * 4 * H, o1 = (size_t)r * H;
        float *d = dz + (size_t)r * ldz, *dcr = dc + o1;
        const float *g = gates + o4, *d1 = dh1 + o1, *d2 = dh2 ? dh2 + o1 : NULL;
        const float *cp = c_prev ? c_prev + o1 : NULL, *t = tc + o1;
        for (int j = 0; j < H8; j += 8)
            cell_bwd8(d + j, d + H + j, d + 2 * H + j, d + 3 * H + j, dcr + j, d1 + j,
                      d2 ? d2 + j : NULL, g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                      cp ? cp + j : NULL, t + j);
        if (H8 < H) {
            float q[13][8] = {{0}};
            const int n = H - H8;
            const size_t sz = (size_t)n * sizeof(float);
            memcpy(q[4], dcr + H8, sz);
            memcpy(q[5], d1 + H8, sz);
            if (d2) memcpy(q[6], d2 + H8, sz);
            for (int k = 0; k < 4; k++)
                memcpy(q[7 + k], g + k * H + H8, sz);
            if (cp) memcpy(q[11], cp + H8, sz);
            memcpy(q[12], t + H8, sz);
            cell_bwd8(q[0], q[1], q[2], q[3], q[4], q[5], d2 ? q[6] : NULL, q[7], q[8], q[9], q[10],
                      cp ? q[11] : NULL, q[12]);
            for (int k = 0; k < 4; k++)
                memcpy(d + k * H + H8, q[k], sz);
            memcpy(dcr + H8, q[4], sz);
        }
    }
}

/* ============================== AVX-512 ============================== */

/* The AVX2 kernels at twice the width: 32 zmm registers hold a 12 x 32 tile (24 accumulators).
 * Every element gets the same operations in the same order as in the AVX2 kernels (init, then
 * one FMA per k in order; the same exp polynomial, clamp and division in the cells), so in this
 * build the two give the same bits; masks replace the zero-padded copies of the row tails. */
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define AVX512_INLINE                                                                              \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"),                          \
                   always_inline)) static inline
#define MR5 12 /* rows per AVX-512 tile */

/* lanes j < n of a row of 16 (n may be <= 0 or >= 16) */
AVX512_INLINE __mmask16 mask16(int n)
{
    return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

#define FOR_ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define Z_DECL(i) __m512 z##i##_0 = _mm512_setzero_ps(), z##i##_1 = _mm512_setzero_ps();
#define Z_LOAD(i)                                                                                  \
    if (mr > i) {                                                                                  \
        z##i##_0 = _mm512_maskz_loadu_ps(m0, C + (size_t)i * ldc);                                 \
        if (np > 1) z##i##_1 = _mm512_maskz_loadu_ps(m1, C + (size_t)i * ldc + 16);                \
    }
#define Z_BIAS(i)                                                                                  \
    if (mr > i) {                                                                                  \
        z##i##_0 = bias0;                                                                          \
        z##i##_1 = bias1;                                                                          \
    }
#define Z_STORE(i)                                                                                 \
    if (mr > i) {                                                                                  \
        _mm512_mask_storeu_ps(C + (size_t)i * ldc, m0, z##i##_0);                                  \
        if (np > 1) _mm512_mask_storeu_ps(C + (size_t)i * ldc + 16, m1, z##i##_1);                 \
    }
#define Z_FMA_ROW(i)                                                                               \
    if (mr > i) {                                                                                  \
        __m512 a = _mm512_set1_ps(ak[(size_t)i * lda]);                                            \
        z##i##_0 = _mm512_fmadd_ps(a, b0, z##i##_0);                                               \
        if (np > 1) z##i##_1 = _mm512_fmadd_ps(a, b1, z##i##_1);                                   \
    }
#define Z_FMA_COL(i)                                                                               \
    if (mr > i) {                                                                                  \
        __m512 a = _mm512_set1_ps(ak[i]);                                                          \
        z##i##_0 = _mm512_fmadd_ps(a, b0, z##i##_0);                                               \
        if (np > 1) z##i##_1 = _mm512_fmadd_ps(a, b1, z##i##_1);                                   \
    }

/* k = 0..K-1 of one A operand against B rows b + k*bs, columns 16..31 at pstride */
#define Z_NN_PART(A, LDA, K, B)                                                                    \
    for (int k = 0; k < (K); k++) {                                                                \
        const float *bk = (B) + (size_t)k * bs, *ak = (A) + k;                                     \
        const size_t lda = (size_t)(LDA);                                                          \
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = b0;                                        \
        if (np > 1) b1 = _mm512_maskz_loadu_ps(m1, bk + pstride);                                  \
        FOR_ROWS12(Z_FMA_ROW)                                                                      \
    }

/* mr x (16 np) tile of C = init + A1 @ B[0:K1] + A2 @ B[K1:K1+K2]; row k of B's first 16 columns
 * at b + k*bs, of the next 16 at pstride further; nn valid columns (masked loads and stores:
 * masked-off lanes are never read, so unpacked B may end at column nn). */
AVX512_INLINE void tile_nn_avx512(const int mr, const int np, float *C, int ldc, const float *A1,
                                  int lda1, int K1, const float *A2, int lda2, int K2,
                                  const float *b, size_t bs, size_t pstride, const float *bias,
                                  int init, int nn)
{
    const __mmask16 m0 = mask16(nn), m1 = mask16(nn - 16);
    FOR_ROWS12(Z_DECL)
    if (init == INIT_ACC) {
        FOR_ROWS12(Z_LOAD)
    } else if (init == INIT_BIAS) {
        const __m512 bias0 = _mm512_maskz_loadu_ps(m0, bias);
        const __m512 bias1 = np > 1 ? _mm512_maskz_loadu_ps(m1, bias + 16) : bias0;
        FOR_ROWS12(Z_BIAS)
    }
    Z_NN_PART(A1, lda1, K1, b)
    Z_NN_PART(A2, lda2, K2, b + (size_t)K1 * bs)
    FOR_ROWS12(Z_STORE)
}

#define TILE_NN5_CASE(MRV)                                                                         \
    case MRV:                                                                                      \
        if (nn > 16)                                                                               \
            tile_nn_avx512(MRV, 2, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, pstride, bias, init, \
                           nn);                                                                    \
        else                                                                                       \
            tile_nn_avx512(MRV, 1, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, pstride, bias, init, \
                           nn);                                                                    \
        break;

AVX512 static void tile_nn5_dispatch(int mr, float *C, int ldc, const float *A1, int lda1, int K1,
                                     const float *A2, int lda2, int K2, const float *b, size_t bs,
                                     size_t pstride, const float *bias, int init, int nn)
{
    switch (mr) {
        TILE_NN5_CASE(1)
        TILE_NN5_CASE(2)
        TILE_NN5_CASE(3)
        TILE_NN5_CASE(4)
        TILE_NN5_CASE(5)
        TILE_NN5_CASE(6)
        TILE_NN5_CASE(7)
        TILE_NN5_CASE(8)
        TILE_NN5_CASE(9)
        TILE_NN5_CASE(10)
        TILE_NN5_CASE(11)
        TILE_NN5_CASE(12)
    }
}

/* One or two rows against up to 8 full panels at once (a stream, or a batch's last rows): the
 * 12 x 32 tile would leave 2 or 4 accumulator chains waiting on FMA latency. Same bits. */
#define W5_DECL(q) __m512 v0##q = _mm512_setzero_ps(), v1##q = _mm512_setzero_ps();
#define W5_INIT(q)                                                                                 \
    if (np > q) {                                                                                  \
        if (init == INIT_ACC) {                                                                    \
            v0##q = _mm512_loadu_ps(C + 16 * q);                                                   \
            if (mr > 1) v1##q = _mm512_loadu_ps(C + ldc + 16 * q);                                 \
        } else if (init == INIT_BIAS) {                                                            \
            v0##q = v1##q = _mm512_loadu_ps(bias + 16 * q);                                        \
        }                                                                                          \
    }
#define W5_FMA(q)                                                                                  \
    if (np > q) {                                                                                  \
        __m512 bq = _mm512_loadu_ps(bk + (size_t)q * pstride);                                     \
        v0##q = _mm512_fmadd_ps(a0, bq, v0##q);                                                    \
        if (mr > 1) v1##q = _mm512_fmadd_ps(a1, bq, v1##q);                                        \
    }
#define W5_STORE(q)                                                                                \
    if (np > q) {                                                                                  \
        _mm512_storeu_ps(C + 16 * q, v0##q);                                                       \
        if (mr > 1) _mm512_storeu_ps(C + ldc + 16 * q, v1##q);                                     \
    }
#define FOR_W5(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

AVX512_INLINE void tile_wide_avx512(const int mr, const int np, float *C, int ldc, const float *A1,
                                    int lda1, int K1, const float *A2, int lda2, int K2,
                                    const float *b, size_t bs, size_t pstride, const float *bias,
                                    int init)
{
    FOR_W5(W5_DECL)
    FOR_W5(W5_INIT)
    for (int part = 0; part < 2; part++) {
        const float *A = part ? A2 : A1;
        const int K = part ? K2 : K1;
        const size_t lda = (size_t)(part ? lda2 : lda1);
        const float *bb = part ? b + (size_t)K1 * bs : b;
        for (int k = 0; k < K; k++) {
            const float *bk = bb + (size_t)k * bs;
            __m512 a0 = _mm512_set1_ps(A[k]), a1 = a0;
            if (mr > 1) a1 = _mm512_set1_ps(A[lda + k]);
            FOR_W5(W5_FMA)
        }
    }
    FOR_W5(W5_STORE)
}

#define WIDE5_CASE(NP)                                                                             \
    case NP:                                                                                       \
        if (mr == 1)                                                                               \
            tile_wide_avx512(1, NP, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, pstride, bias,      \
                             init);                                                                \
        else                                                                                       \
            tile_wide_avx512(2, NP, C, ldc, A1, lda1, K1, A2, lda2, K2, b, bs, pstride, bias,      \
                             init);                                                                \
        break;

/* mr (1 or 2) rows x np (1..8) full panels */
AVX512 static void tile_wide5_dispatch(int mr, int np, float *C, int ldc, const float *A1, int lda1,
                                       int K1, const float *A2, int lda2, int K2, const float *b,
                                       size_t bs, size_t pstride, const float *bias, int init)
{
    switch (np) {
        WIDE5_CASE(1)
        WIDE5_CASE(2)
        WIDE5_CASE(3)
        WIDE5_CASE(4)
        WIDE5_CASE(5)
        WIDE5_CASE(6)
        WIDE5_CASE(7)
        WIDE5_CASE(8)
    }
}

/* Pairs of panels outer, row tiles inner: the two panels (K x 32) stay in L1 while all rows pass
 * them. */
AVX512 static void gemm_nn_avx512(float *C, int ldc, const float *A1, int lda1, int K1,
                                  const float *A2, int lda2, int K2, const float *b, size_t bs,
                                  size_t panel_stride, const float *bias, int init, int M, int N)
{
    if (M <= 2) {
        /* full panels up to eight at a time, then the partial one (if any) as usual */
        const int full = N / PANEL;
        int p = 0;
        while (p < full) {
            const int np = imin(8, full - p);
            tile_wide5_dispatch(M, np, C + p * PANEL, ldc, A1, lda1, K1, A2, lda2, K2,
                                b + p * panel_stride, bs, panel_stride,
                                bias ? bias + p * PANEL : NULL, init);
            p += np;
        }
        if (p * PANEL >= N) return;
        C += p * PANEL;
        b += p * panel_stride;
        if (bias) bias += p * PANEL;
        N -= p * PANEL;
    }
    for (int n0 = 0; n0 < N; n0 += 2 * PANEL) {
        const float *bpanel = b + (size_t)(n0 / PANEL) * panel_stride;
        const int nn = imin(2 * PANEL, N - n0);
        for (int i0 = 0; i0 < M; i0 += MR5)
            tile_nn5_dispatch(imin(MR5, M - i0), C + (size_t)i0 * ldc + n0, ldc,
                              A1 + (size_t)i0 * lda1, lda1, K1, A2 ? A2 + (size_t)i0 * lda2 : NULL,
                              lda2, K2, bpanel, bs, panel_stride, bias ? bias + n0 : NULL, init,
                              nn);
    }
}

/* mr x (16 np) tile of C += A^T B over segments s0..nseg-1 */
AVX512_INLINE void tile_tn_avx512(const int mr, const int np, float *C, int ldc, const float *A,
                                  int lda, size_t a_seg, const float *B, int ldb, size_t b_seg,
                                  int K, int s0, int nseg, int nn)
{
    const __mmask16 m0 = mask16(nn), m1 = mask16(nn - 16);
    FOR_ROWS12(Z_DECL)
    FOR_ROWS12(Z_LOAD)
    for (int sg = s0; sg < nseg; sg++) {
        const float *As = A + sg * a_seg, *Bs = B + sg * b_seg;
        for (int k = 0; k < K; k++) {
            const float *bk = Bs + (size_t)k * ldb, *ak = As + (size_t)k * lda;
            __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = b0;
            if (np > 1) b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
            FOR_ROWS12(Z_FMA_COL)
        }
    }
    FOR_ROWS12(Z_STORE)
}

#define TILE_TN5_CASE(MRV)                                                                         \
    case MRV:                                                                                      \
        if (nn > 16)                                                                               \
            tile_tn_avx512(MRV, 2, C, ldc, A, lda, a_seg, B, ldb, b_seg, K, s0, nseg, nn);         \
        else                                                                                       \
            tile_tn_avx512(MRV, 1, C, ldc, A, lda, a_seg, B, ldb, b_seg, K, s0, nseg, nn);         \
        break;

AVX512 static void tile_tn5_dispatch(int mr, float *C, int ldc, const float *A, int lda,
                                     size_t a_seg, const float *B, int ldb, size_t b_seg, int K,
                                     int s0, int nseg, int nn)
{
    switch (mr) {
        TILE_TN5_CASE(1)
        TILE_TN5_CASE(2)
        TILE_TN5_CASE(3)
        TILE_TN5_CASE(4)
        TILE_TN5_CASE(5)
        TILE_TN5_CASE(6)
        TILE_TN5_CASE(7)
        TILE_TN5_CASE(8)
        TILE_TN5_CASE(9)
        TILE_TN5_CASE(10)
        TILE_TN5_CASE(11)
        TILE_TN5_CASE(12)
    }
}

AVX512 static void gemm_tn_avx512(float *C, int ldc, const float *A, int lda, size_t a_seg,
                                  const float *B, int ldb, size_t b_seg, int M, int N, int K,
                                  int nseg, int skip_below)
{
    /* as gemm_tn_avx2, with 32-column panels of B (K x 128 bytes: 256 rows fill 32 KB of L1) */
    if (nseg == 1 && K > 256) {
        for (int k0 = 0; k0 < K; k0 += 256)
            gemm_tn_avx512(C, ldc, A + (size_t)k0 * lda, lda, 0, B + (size_t)k0 * ldb, ldb, 0, M, N,
                           K - k0 < 256 ? K - k0 : 256, 1, skip_below);
        return;
    }
    const int W = 2 * PANEL;
    if ((size_t)nseg * K > 256) {
        for (int i0 = 0; i0 < M; i0 += MR5) {
            const int mr = imin(MR5, M - i0), s0 = i0 + mr <= skip_below ? 1 : 0;
            for (int n0 = 0; n0 < N; n0 += W)
                tile_tn5_dispatch(mr, C + (size_t)i0 * ldc + n0, ldc, A + i0, lda, a_seg, B + n0,
                                  ldb, b_seg, K, s0, nseg, imin(W, N - n0));
        }
    } else {
        for (int n0 = 0; n0 < N; n0 += W)
            for (int i0 = 0; i0 < M; i0 += MR5) {
                const int mr = imin(MR5, M - i0), s0 = i0 + mr <= skip_below ? 1 : 0;
                tile_tn5_dispatch(mr, C + (size_t)i0 * ldc + n0, ldc, A + i0, lda, a_seg, B + n0,
                                  ldb, b_seg, K, s0, nseg, imin(W, N - n0));
            }
    }
}

/* ---------- activations (exp8 and friends on 16 lanes, same operations) ---------- */

AVX512_INLINE __m512 exp16(__m512 x)
{
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f), magic = _mm512_set1_ps(12582912.0f);
    const __m512 c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f);
    __m512 tm = _mm512_fmadd_ps(x, log2e, magic);
    __m512 n = _mm512_sub_ps(tm, magic);
    __m512 r = _mm512_fnmadd_ps(n, c1, x);
    r = _mm512_fnmadd_ps(n, c2, r);
    __m512 r2 = _mm512_mul_ps(r, r), r4 = _mm512_mul_ps(r2, r2);
    __m512 q0 = _mm512_fmadd_ps(_mm512_set1_ps(0.1666652113199234f), r,
                                _mm512_set1_ps(0.4999999403953552f));
    __m512 q1 = _mm512_fmadd_ps(_mm512_set1_ps(0.008368710055947304f), r,
                                _mm512_set1_ps(0.04166838899254799f));
    __m512 p =
        _mm512_fmadd_ps(_mm512_set1_ps(0.001381461275741458f), r4, _mm512_fmadd_ps(q1, r2, q0));
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_castps_si512(tm), _mm512_set1_epi32(127 - 0x4B400000)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

AVX512_INLINE __m512 recip_one_plus_exp16(__m512 sx)
{
    const __m512 lo = _mm512_set1_ps(-88.0f), hi = _mm512_set1_ps(88.0f);
    __m512 e = exp16(_mm512_min_ps(hi, _mm512_max_ps(lo, sx)));
    __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), e);
    return _mm512_div_ps(_mm512_set1_ps(1.0f), d);
}

AVX512_INLINE __m512 sigmoid16(__m512 x)
{
    return recip_one_plus_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
}

AVX512_INLINE __m512 tanh16(__m512 x)
{
    __m512 s = recip_one_plus_exp16(_mm512_mul_ps(_mm512_set1_ps(-2.0f), x));
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), s, _mm512_set1_ps(1.0f));
}

/* ---------- cell ---------- */

AVX512_INLINE void activate_avx512(float *y, int n, const int tanh)
{
    for (int j = 0; j < n; j += 16) {
        const __mmask16 m = mask16(n - j);
        __m512 v = _mm512_maskz_loadu_ps(m, y + j);
        _mm512_mask_storeu_ps(y + j, m, tanh ? tanh16(v) : sigmoid16(v));
    }
}

/* lanes m of 16 units: c = f # c_prev + i # g (cp NULL: c_prev = 0), tc = tanh(c), h = o # tc */
AVX512_INLINE void cell_state16(__mmask16 m, const float *zi, const float *zf, const float *zg,
                                const float *zo, const float *cp, float *c, float *tc, float *h)
{
    __m512 ig = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, zi), _mm512_maskz_loadu_ps(m, zg));
    __m512 cv =
        cp ? _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, zf), _mm512_maskz_loadu_ps(m, cp), ig) : ig;
    __m512 t = tanh16(cv);
    _mm512_mask_storeu_ps(c, m, cv);
    _mm512_mask_storeu_ps(tc, m, t);
    _mm512_mask_storeu_ps(h, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, zo), t));
}

AVX512 static void cell_forward_avx512(float *z, float *c, float *tc, float *h, int ldh,
                                       const float *c_prev, const float *b, int B, int H)
{
    for (int r = 0; r < B; r++) {
        float *zr = z + (size_t)r * 4 * H, *cr = c + (size_t)r * H, *tcr = tc + (size_t)r * H;
        float *hr = h + (size_t)r * ldh;
        const float *cp = c_prev ? c_prev + (size_t)r * H : NULL;
        if (b)
            for (int j = 0; j < 4 * H; j++)
                zr[j] += b[j];
        activate_avx512(zr, 2 * H, 0);
        activate_avx512(zr + 2 * H, H, 1);
        activate_avx512(zr + 3 * H, H, 0);
        for (int j = 0; j < H; j += 16)
            cell_state16(mask16(H - j), zr + j, zr + H + j, zr + 2 * H + j, zr + 3 * H + j,
                         cp ? cp + j : NULL, cr + j, tcr + j, hr + j);
    }
}

AVX512_INLINE void cell_bwd16(__mmask16 m, float *di, float *df, float *dg, float *dO, float *dc,
                              const float *dh1, const float *dh2, const float *gi, const float *gf,
                              const float *gg, const float *go, const float *cp, const float *tc)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 i = _mm512_maskz_loadu_ps(m, gi), f = _mm512_maskz_loadu_ps(m, gf);
    __m512 g = _mm512_maskz_loadu_ps(m, gg), o = _mm512_maskz_loadu_ps(m, go);
    __m512 t = _mm512_maskz_loadu_ps(m, tc);
    __m512 dh = _mm512_maskz_loadu_ps(m, dh1);
    if (dh2) dh = _mm512_add_ps(dh, _mm512_maskz_loadu_ps(m, dh2));
    __m512 dcv = _mm512_fmadd_ps(_mm512_mul_ps(dh, o), _mm512_fnmadd_ps(t, t, one),
                                 _mm512_maskz_loadu_ps(m, dc));
    _mm512_mask_storeu_ps(
        di, m, _mm512_mul_ps(_mm512_mul_ps(dcv, g), _mm512_mul_ps(i, _mm512_sub_ps(one, i))));
    _mm512_mask_storeu_ps(df, m,
                          cp ? _mm512_mul_ps(_mm512_mul_ps(dcv, _mm512_maskz_loadu_ps(m, cp)),
                                             _mm512_mul_ps(f, _mm512_sub_ps(one, f)))
                             : _mm512_setzero_ps());
    _mm512_mask_storeu_ps(dg, m, _mm512_mul_ps(_mm512_mul_ps(dcv, i), _mm512_fnmadd_ps(g, g, one)));
    _mm512_mask_storeu_ps(
        dO, m, _mm512_mul_ps(_mm512_mul_ps(dh, t), _mm512_mul_ps(o, _mm512_sub_ps(one, o))));
    _mm512_mask_storeu_ps(dc, m, _mm512_mul_ps(dcv, f));
}

AVX512 static void cell_backward_avx512(float *dz, int ldz, float *dc, const float *dh1,
                                        const float *dh2, const float *gates, const float *c_prev,
                                        const float *tc, int B, int H)
{
    for (int r = 0; r < B; r++) {
        size_t o4 = (size_t)r * 4 * H, o1 = (size_t)r * H;
        float *d = dz + (size_t)r * ldz, *dcr = dc + o1;
        const float *g = gates + o4, *d1 = dh1 + o1, *d2 = dh2 ? dh2 + o1 : NULL;
        const float *cp = c_prev ? c_prev + o1 : NULL, *t = tc + o1;
        for (int j = 0; j < H; j += 16)
            cell_bwd16(mask16(H - j), d + j, d + H + j, d + 2 * H + j, d + 3 * H + j, dcr + j,
                       d1 + j, d2 ? d2 + j : NULL, g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                       cp ? cp + j : NULL, t + j);
    }
}

/* ============================== AVX-512 BF16 ============================== */

/* Products in bf16 with fp32 accumulation (vdpbf16ps): each lane adds a[2q] b[2q] + a[2q+1]
 * b[2q+1] of one pair of k rows to its fp32 sum. B is packed in pairs of k rows (see
 * pack_bf16); each row tile of A is converted (round to nearest even) into a stack buffer of
 * pairs once and then runs past all panels. Per element: init, then pairs q = 0.. in order. */
#define BF16 __attribute__((target("avx512bf16,avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define BF16_INLINE                                                                                \
    __attribute__((target("avx512bf16,avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"),               \
                   always_inline)) static inline
#define BF_KC 256 /* pairs of k per converted chunk of A (12 rows: 12 KB of stack) */

#define Z_DOT_ROW(i)                                                                               \
    if (mr > i) {                                                                                  \
        __m512i a = _mm512_set1_epi32((int)aq[(size_t)i * BF_KC]);                                 \
        z##i##_0 = _mm512_dpbf16_ps(z##i##_0, (__m512bh)a, (__m512bh)b0);                          \
        if (np > 1) z##i##_1 = _mm512_dpbf16_ps(z##i##_1, (__m512bh)a, (__m512bh)b1);              \
    }

BF16_INLINE void tile_bf16(const int mr, const int np, float *C, int ldc, const uint32_t *abuf,
                           int nq, const uint32_t *b, size_t pstride, const float *bias, int init,
                           int nn)
{
    const __mmask16 m0 = mask16(nn), m1 = mask16(nn - 16);
    FOR_ROWS12(Z_DECL)
    if (init == INIT_ACC) {
        FOR_ROWS12(Z_LOAD)
    } else if (init == INIT_BIAS) {
        const __m512 bias0 = _mm512_maskz_loadu_ps(m0, bias);
        const __m512 bias1 = np > 1 ? _mm512_maskz_loadu_ps(m1, bias + 16) : bias0;
        FOR_ROWS12(Z_BIAS)
    }
    for (int q = 0; q < nq; q++) {
        const uint32_t *bq = b + (size_t)q * PANEL, *aq = abuf + q;
        const __m512i b0 = _mm512_loadu_si512(bq);
        __m512i b1 = b0;
        if (np > 1) b1 = _mm512_loadu_si512(bq + pstride);
        FOR_ROWS12(Z_DOT_ROW)
    }
    FOR_ROWS12(Z_STORE)
}

#define TILE_BF16_CASE(MRV)                                                                        \
    case MRV:                                                                                      \
        if (nn > 16)                                                                               \
            tile_bf16(MRV, 2, C, ldc, abuf, nq, b, pstride, bias, init, nn);                       \
        else                                                                                       \
            tile_bf16(MRV, 1, C, ldc, abuf, nq, b, pstride, bias, init, nn);                       \
        break;

BF16 static void tile_bf16_dispatch(int mr, float *C, int ldc, const uint32_t *abuf, int nq,
                                    const uint32_t *b, size_t pstride, const float *bias, int init,
                                    int nn)
{
    switch (mr) {
        TILE_BF16_CASE(1)
        TILE_BF16_CASE(2)
        TILE_BF16_CASE(3)
        TILE_BF16_CASE(4)
        TILE_BF16_CASE(5)
        TILE_BF16_CASE(6)
        TILE_BF16_CASE(7)
        TILE_BF16_CASE(8)
        TILE_BF16_CASE(9)
        TILE_BF16_CASE(10)
        TILE_BF16_CASE(11)
        TILE_BF16_CASE(12)
    }
}

/* dst (bf16) [0, 2*(qe-qs)) = a[2qs .. 2qe) rounded, zero at and past k = K */
BF16 static void bf16_row(uint16_t *dst, const float *a, int K, int qs, int qe)
{
    for (int k = 2 * qs; k < 2 * qe; k += 16) {
        const int n = imin(16, 2 * qe - k);
        const __m512 v = _mm512_maskz_loadu_ps(mask16(imin(n, K - k)), a + k);
        _mm256_mask_storeu_epi16(dst + (k - 2 * qs), mask16(n), (__m256i)_mm512_cvtneps_pbh(v));
    }
}

BF16 static void gemm_bf16_avx512(float *C, int ldc, const float *A1, int lda1, int K1,
                                  const float *A2, int lda2, int K2, const uint32_t *bp, int p1,
                                  size_t pstride, const float *bias, int init, int M, int N)
{
    uint32_t abuf[MR5 * BF_KC];
    const int nq = K2 > 0 ? p1 + (K2 + 1) / 2 : (K1 + 1) / 2;
    for (int i0 = 0; i0 < M; i0 += MR5) {
        const int mr = imin(MR5, M - i0);
        int q0 = 0;
        do {
            const int qn = imin(BF_KC, nq - q0);
            for (int r = 0; r < mr; r++) {
                uint16_t *d = (uint16_t *)(abuf + (size_t)r * BF_KC);
                const int e1 = imin(q0 + qn, p1);
                if (q0 < e1) bf16_row(d, A1 + (size_t)(i0 + r) * lda1, K1, q0, e1);
                if (q0 + qn > p1) {
                    const int s2 = q0 > p1 ? q0 : p1;
                    bf16_row(d + 2 * (s2 - q0), A2 + (size_t)(i0 + r) * lda2, K2, s2 - p1,
                             q0 + qn - p1);
                }
            }
            for (int n0 = 0; n0 < N; n0 += 2 * PANEL)
                tile_bf16_dispatch(mr, C + (size_t)i0 * ldc + n0, ldc, abuf, qn,
                                   bp + (size_t)(n0 / PANEL) * pstride + (size_t)q0 * PANEL,
                                   pstride, bias ? bias + n0 : NULL, q0 ? INIT_ACC : init,
                                   imin(2 * PANEL, N - n0));
            q0 += qn;
        } while (q0 < nq);
    }
}

/* ============================== AMX BF16 tiles ============================== */

/* The same product on the AMX tile unit (TDPBF16PS: a 16 x 16 fp32 tile += a 16 x 32 bf16 tile
 * of A times a 32 x 16 tile of B, as pairs): rows of A are converted as above (16 at a time),
 * and pack_bf16's panels are already the layout of a B tile (one row per pair of k, 16 columns
 * of 32-bit words). Per element: init, then the pairs of k in tiles of 16 in order; within a
 * tile the unit sums the 32 products in its own order (and treats bf16 denormals as zero), so
 * the bits differ from vdpbf16ps's, within the same bound, and are fixed for the same inputs.
 * Tiles: 0, 1 the C of two panels (16 rows x 16 columns), 2 the A of 16 pairs, 3 and 4 their B,
 * 5 to 7 the same for a last group of fewer pairs; a call's last block of fewer than 16 rows gets
 * tiles of that many rows, so a row's result never depends on the other rows of the call. */
#define AMX                                                                                        \
    __attribute__((target("amx-tile,amx-bf16,avx512bf16,avx512f,avx512bw,avx512dq,avx512vl,avx2,"  \
                          "fma")))
#define AMX_ROWS 16

struct amx_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

/* tiles of `rows` rows of C and A (1..16: the last block of a call may be shorter), and a last
 * group of `tail` pairs (0: none) */
AMX static void amx_configure(int rows, int tail)
{
    _Alignas(64) struct amx_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 5; t++) {
        c.rows[t] = (uint8_t)(t == 3 || t == 4 ? 16 : rows); /* B: 16 pairs */
        c.colsb[t] = 64;
    }
    if (tail) {
        c.rows[5] = (uint8_t)rows; /* A: rows x tail pairs */
        c.colsb[5] = (uint16_t)(4 * tail);
        c.rows[6] = c.rows[7] = (uint8_t)tail; /* B: tail pairs x 16 columns */
        c.colsb[6] = c.colsb[7] = 64;
    }
    _tile_loadconfig(&c);
}

/* The C tiles (mr rows; np panels of columns n0.., nn valid) before the products: from C, the
 * bias or zero, through ct (mr x 32) when the last panel is partial */
AMX static void amx_load_c(int whole, int np, float *C, int ldc, float *ct, const float *bias,
                           int init, int mr, int nn)
{
    if (whole) {
        if (init == INIT_ACC) {
            _tile_loadd(0, C, (size_t)ldc * 4);
            if (np > 1) _tile_loadd(1, C + PANEL, (size_t)ldc * 4);
        } else if (init == INIT_BIAS) {
            _tile_loadd(0, bias, 0); /* stride 0: the bias row in every row */
            if (np > 1) _tile_loadd(1, bias + PANEL, 0);
        } else {
            _tile_zero(0);
            if (np > 1) _tile_zero(1);
        }
        return;
    }
    const __mmask16 m0 = mask16(nn), m1 = mask16(nn - PANEL);
    const __m512 b0 = init == INIT_BIAS ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 b1 = init == INIT_BIAS ? _mm512_maskz_loadu_ps(m1, bias + PANEL) : b0;
    for (int r = 0; r < mr; r++) {
        const float *cr = C + (size_t)r * ldc;
        float *t = ct + r * 2 * PANEL;
        _mm512_store_ps(t, init == INIT_ACC ? _mm512_maskz_loadu_ps(m0, cr) : b0);
        _mm512_store_ps(t + PANEL, init == INIT_ACC ? _mm512_maskz_loadu_ps(m1, cr + PANEL) : b1);
    }
    _tile_loadd(0, ct, 2 * PANEL * 4);
    if (np > 1) _tile_loadd(1, ct + PANEL, 2 * PANEL * 4);
}

AMX static void amx_store_c(int whole, int np, float *C, int ldc, float *ct, int mr, int nn)
{
    if (whole) {
        _tile_stored(0, C, (size_t)ldc * 4);
        if (np > 1) _tile_stored(1, C + PANEL, (size_t)ldc * 4);
        return;
    }
    _tile_stored(0, ct, 2 * PANEL * 4);
    if (np > 1) _tile_stored(1, ct + PANEL, 2 * PANEL * 4);
    const __mmask16 m0 = mask16(nn), m1 = mask16(nn - PANEL);
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_ps(C + (size_t)r * ldc, m0, _mm512_load_ps(ct + r * 2 * PANEL));
        if (np > 1)
            _mm512_mask_storeu_ps(C + (size_t)r * ldc + PANEL, m1,
                                  _mm512_load_ps(ct + r * 2 * PANEL + PANEL));
    }
}

AMX static void gemm_bf16_amx(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                              int lda2, int K2, const uint32_t *bp, int p1, size_t pstride,
                              const float *bias, int init, int M, int N)
{
    _Alignas(64) uint32_t abuf[AMX_ROWS * BF_KC];
    _Alignas(64) float ct[AMX_ROWS * 2 * PANEL];
    const int nq = K2 > 0 ? p1 + (K2 + 1) / 2 : (K1 + 1) / 2;
    const int tail = nq % 16;
    const size_t as = (size_t)BF_KC * 4, bs = (size_t)PANEL * 4;
    int rows = imin(AMX_ROWS, M);
    amx_configure(rows, tail);
    for (int i0 = 0; i0 < M; i0 += AMX_ROWS) {
        const int mr = imin(AMX_ROWS, M - i0);
        if (mr != rows) amx_configure(rows = mr, tail); /* the last, shorter block */
        int q0 = 0;
        do {
            const int qn = imin(BF_KC, nq - q0), full = qn / 16, rem = qn % 16;
            for (int r = 0; r < mr; r++) {
                uint16_t *d = (uint16_t *)(abuf + (size_t)r * BF_KC);
                const int e1 = imin(q0 + qn, p1);
                if (q0 < e1) bf16_row(d, A1 + (size_t)(i0 + r) * lda1, K1, q0, e1);
                if (q0 + qn > p1) {
                    const int s2 = q0 > p1 ? q0 : p1;
                    bf16_row(d + 2 * (s2 - q0), A2 + (size_t)(i0 + r) * lda2, K2, s2 - p1,
                             q0 + qn - p1);
                }
            }
            for (int n0 = 0; n0 < N; n0 += 2 * PANEL) {
                const int nn = imin(2 * PANEL, N - n0), np = nn > PANEL ? 2 : 1;
                const int whole = nn == np * PANEL;
                float *cb = C + (size_t)i0 * ldc + n0;
                const uint32_t *b = bp + (size_t)(n0 / PANEL) * pstride + (size_t)q0 * PANEL;
                amx_load_c(whole, np, cb, ldc, ct, bias ? bias + n0 : NULL, q0 ? INIT_ACC : init,
                           mr, nn);
                for (int s = 0; s < full; s++) {
                    _tile_loadd(2, abuf + 16 * s, as);
                    _tile_loadd(3, b + (size_t)16 * s * PANEL, bs);
                    _tile_dpbf16ps(0, 2, 3);
                    if (np > 1) {
                        _tile_loadd(4, b + pstride + (size_t)16 * s * PANEL, bs);
                        _tile_dpbf16ps(1, 2, 4);
                    }
                }
                if (rem) {
                    _tile_loadd(5, abuf + 16 * full, as);
                    _tile_loadd(6, b + (size_t)16 * full * PANEL, bs);
                    _tile_dpbf16ps(0, 5, 6);
                    if (np > 1) {
                        _tile_loadd(7, b + pstride + (size_t)16 * full * PANEL, bs);
                        _tile_dpbf16ps(1, 5, 7);
                    }
                }
                amx_store_c(whole, np, cb, ldc, ct, mr, nn);
            }
            q0 += qn;
        } while (q0 < nq);
    }
    _tile_release();
}

/* C (M, N) += A^T @ B in bf16 products with fp32 sums on the tile unit; A (K, M), B (K, N).
 * Per chunk of up to TN_QC pairs of k (rows 2q, 2q+1 of A and B): B's rows are interleaved into
 * pairs panel by panel (TN_NC columns at a time), A's columns are gathered into rows of pairs
 * 16 at a time; then every 16 x 32 block of C takes the chunk's tiles. */
#define TN_QC 32  /* pairs of k per chunk */
#define TN_NC 256 /* columns of B per converted chunk (32 KB of pairs) */

AMX static void gemm_tn_bf16_amx(float *C, int ldc, const float *A, int lda, const float *B,
                                 int ldb, int M, int N, int K)
{
    _Alignas(64) uint32_t bb[TN_QC * TN_NC];
    _Alignas(64) uint32_t ab[AMX_ROWS * TN_QC];
    _Alignas(64) float ct[AMX_ROWS * 2 * PANEL];
    const size_t as = TN_QC * 4, bs = (size_t)PANEL * 4;
    const __m512i rowv =
        _mm512_setr_epi32(0, TN_QC, 2 * TN_QC, 3 * TN_QC, 4 * TN_QC, 5 * TN_QC, 6 * TN_QC,
                          7 * TN_QC, 8 * TN_QC, 9 * TN_QC, 10 * TN_QC, 11 * TN_QC, 12 * TN_QC,
                          13 * TN_QC, 14 * TN_QC, 15 * TN_QC); /* word of row r in ab */
    int rows = -1, tl = -1;
    for (int k0 = 0; k0 < K; k0 += 2 * TN_QC) {
        const int kn = imin(2 * TN_QC, K - k0), qn = (kn + 1) / 2, full = qn / 16, rem = qn % 16;
        for (int n0c = 0; n0c < N; n0c += TN_NC) {
            const int nc = imin(TN_NC, N - n0c);
            /* bb: panel p, pair q, column j = bf16(B[k0+2q][n]) | bf16(B[k0+2q+1][n]) << 16 */
            for (int q = 0; q < qn; q++) {
                const float *b0 = B + (size_t)(k0 + 2 * q) * ldb + n0c;
                const float *b1 = 2 * q + 1 < kn ? b0 + ldb : NULL;
                for (int j = 0; j < nc; j += PANEL) {
                    const __mmask16 m = mask16(nc - j);
                    const __m512i lo = _mm512_cvtepu16_epi32(
                        (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, b0 + j)));
                    const __m512i hi = b1 ? _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(
                                                _mm512_maskz_loadu_ps(m, b1 + j)))
                                          : _mm512_setzero_si512();
                    _mm512_store_si512(bb + ((size_t)(j / PANEL) * qn + q) * PANEL,
                                       _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
                }
            }
            for (int i0 = 0; i0 < M; i0 += AMX_ROWS) {
                const int mr = imin(AMX_ROWS, M - i0);
                if (mr != rows || rem != tl) amx_configure(rows = mr, tl = rem);
                /* ab: row r, pair q = bf16(A[k0+2q][i0+r]) | bf16(A[k0+2q+1][i0+r]) << 16 */
                for (int q = 0; q < qn; q++) {
                    const float *a0 = A + (size_t)(k0 + 2 * q) * lda + i0;
                    const float *a1 = 2 * q + 1 < kn ? a0 + lda : NULL;
                    const __mmask16 m = mask16(mr);
                    const __m512i lo = _mm512_cvtepu16_epi32(
                        (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, a0)));
                    const __m512i hi = a1 ? _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(
                                                _mm512_maskz_loadu_ps(m, a1)))
                                          : _mm512_setzero_si512();
                    /* column q of ab: lane r to row r */
                    _mm512_i32scatter_epi32(ab + q, rowv,
                                            _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)), 4);
                }
                for (int n0 = 0; n0 < nc; n0 += 2 * PANEL) {
                    const int nn = imin(2 * PANEL, nc - n0), np = nn > PANEL ? 2 : 1;
                    const int whole = nn == np * PANEL;
                    float *cb = C + (size_t)i0 * ldc + n0c + n0;
                    const uint32_t *b = bb + (size_t)(n0 / PANEL) * qn * PANEL;
                    const size_t ps = (size_t)qn * PANEL; /* the next panel */
                    amx_load_c(whole, np, cb, ldc, ct, NULL, INIT_ACC, mr, nn);
                    for (int s = 0; s < full; s++) {
                        _tile_loadd(2, ab + 16 * s, as);
                        _tile_loadd(3, b + (size_t)16 * s * PANEL, bs);
                        _tile_dpbf16ps(0, 2, 3);
                        if (np > 1) {
                            _tile_loadd(4, b + ps + (size_t)16 * s * PANEL, bs);
                            _tile_dpbf16ps(1, 2, 4);
                        }
                    }
                    if (rem) {
                        _tile_loadd(5, ab + 16 * full, as);
                        _tile_loadd(6, b + (size_t)16 * full * PANEL, bs);
                        _tile_dpbf16ps(0, 5, 6);
                        if (np > 1) {
                            _tile_loadd(7, b + ps + (size_t)16 * full * PANEL, bs);
                            _tile_dpbf16ps(1, 5, 7);
                        }
                    }
                    amx_store_c(whole, np, cb, ldc, ct, mr, nn);
                }
            }
        }
    }
    if (rows > 0) _tile_release();
}

/* dst (R, C) += src^T, src (C, R): 16 columns of a dst row from one gather down src */
AVX512 static void add_transpose_avx512(float *dst, int ldd, const float *src, int lds, int R,
                                        int C)
{
    const __m512i down =
        _mm512_mullo_epi32(_mm512_set1_epi32(lds),
                           _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    for (int r = 0; r < R; r++) {
        float *d = dst + (size_t)r * ldd;
        for (int c = 0; c < C; c += 16) {
            const __mmask16 m = mask16(C - c);
            const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, down,
                                                      src + (size_t)c * lds + r, 4);
            _mm512_mask_storeu_ps(d + c, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + c), v));
        }
    }
}

#endif /* KERNELS_X86 */

/* ============================== dispatch ============================== */

void gemm_packed_isa(enum kernels_isa isa, float *C, int ldc, const float *A1, int lda1, int K1,
                     const float *A2, int lda2, int K2, const float *bp, int kp, const float *bias,
                     int accumulate, int M, int N)
{
#if KERNELS_X86
    const int init = accumulate ? INIT_ACC : bias ? INIT_BIAS : INIT_ZERO;
    if (isa >= KERNELS_ISA_AVX512) {
        gemm_nn_avx512(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, PANEL, (size_t)kp * PANEL, bias,
                       init, M, N);
        return;
    }
    if (isa == KERNELS_ISA_AVX2) {
        gemm_nn_avx2(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, PANEL, (size_t)kp * PANEL, bias, init,
                     M, N);
        return;
    }
#endif
    (void)isa;
    gemm_packed_portable(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp, bias, accumulate, M, N);
}

void gemm_packed(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2, int lda2,
                 int K2, const float *bp, int kp, const float *bias, int accumulate, int M, int N)
{
    gemm_packed_isa(kernels_isa(), C, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp, bias, accumulate, M,
                    N);
}

void gemm_nn_own_isa(enum kernels_isa isa, float *C, int ldc, const float *A, int lda,
                     const float *B, int ldb, int M, int N, int K, float beta)
{
#if KERNELS_X86
    if (isa >= KERNELS_ISA_AVX2) {
        scale_c(C, ldc, M, N, beta);
        (isa >= KERNELS_ISA_AVX512 ? gemm_nn_avx512 : gemm_nn_avx2)(
            C, ldc, A, lda, K, NULL, 0, 0, B, (size_t)ldb, PANEL, NULL,
            beta == 0.0f ? INIT_ZERO : INIT_ACC, M, N);
        return;
    }
#endif
    (void)isa;
    gemm_nn_portable(C, ldc, A, lda, B, ldb, M, N, K, beta);
}

void gemm_nn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                 int K, float beta)
{
    gemm_nn_own_isa(kernels_isa(), C, ldc, A, lda, B, ldb, M, N, K, beta);
}

void gemm_tn_seg_isa(enum kernels_isa isa, float *C, int ldc, const float *A, int lda, size_t a_seg,
                     const float *B, int ldb, size_t b_seg, int M, int N, int K, int nseg,
                     int skip_below)
{
#if KERNELS_X86
    if (isa >= KERNELS_ISA_AVX512) {
        gemm_tn_avx512(C, ldc, A, lda, a_seg, B, ldb, b_seg, M, N, K, nseg, skip_below);
        return;
    }
    if (isa == KERNELS_ISA_AVX2) {
        gemm_tn_avx2(C, ldc, A, lda, a_seg, B, ldb, b_seg, M, N, K, nseg, skip_below);
        return;
    }
#endif
    (void)isa;
    gemm_tn_seg_portable(C, ldc, A, lda, a_seg, B, ldb, b_seg, M, N, K, nseg, skip_below);
}

void gemm_tn_seg(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B, int ldb,
                 size_t b_seg, int M, int N, int K, int nseg, int skip_below)
{
    gemm_tn_seg_isa(kernels_isa(), C, ldc, A, lda, a_seg, B, ldb, b_seg, M, N, K, nseg, skip_below);
}

void gemm_tn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                 int K)
{
    gemm_tn_seg(C, ldc, A, lda, 0, B, ldb, 0, M, N, K, 1, 0);
}

void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta)
{
    gemm_nn_own(C, ldc, A, lda, B, ldb, M, N, K, beta);
}

void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta)
{
    scale_c(C, ldc, M, N, beta);
    gemm_tn_own(C, ldc, A, lda, B, ldb, M, N, K);
}

void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
}

void lstm_cell_forward_isa(enum kernels_isa isa, float *z, float *c, float *tc, float *h, int ldh,
                           const float *c_prev, const float *b, int B, int H)
{
#if KERNELS_X86
    if (isa >= KERNELS_ISA_AVX512) {
        cell_forward_avx512(z, c, tc, h, ldh, c_prev, b, B, H);
        return;
    }
    if (isa == KERNELS_ISA_AVX2) {
        cell_forward_avx2(z, c, tc, h, ldh, c_prev, b, B, H);
        return;
    }
#endif
    (void)isa;
    lstm_cell_forward_portable(z, c, tc, h, ldh, c_prev, b, B, H);
}

void lstm_cell_forward(float *z, float *c, float *tc, float *h, int ldh, const float *c_prev,
                       const float *b, int B, int H)
{
    lstm_cell_forward_isa(kernels_isa(), z, c, tc, h, ldh, c_prev, b, B, H);
}

void lstm_cell_backward2_isa(enum kernels_isa isa, float *dz, int ldz, float *dc, const float *dh1,
                             const float *dh2, const float *gates, const float *c_prev,
                             const float *tc, int B, int H)
{
#if KERNELS_X86
    if (isa >= KERNELS_ISA_AVX512) {
        cell_backward_avx512(dz, ldz, dc, dh1, dh2, gates, c_prev, tc, B, H);
        return;
    }
    if (isa == KERNELS_ISA_AVX2) {
        cell_backward_avx2(dz, ldz, dc, dh1, dh2, gates, c_prev, tc, B, H);
        return;
    }
#endif
    (void)isa;
    lstm_cell_backward_portable(dz, ldz, dc, dh1, dh2, gates, c_prev, tc, B, H);
}

void lstm_cell_backward2(float *dz, int ldz, float *dc, const float *dh1, const float *dh2,
                         const float *gates, const float *c_prev, const float *tc, int B, int H)
{
    lstm_cell_backward2_isa(kernels_isa(), dz, ldz, dc, dh1, dh2, gates, c_prev, tc, B, H);
}

void lstm_cell_backward(float *dz, float *dc, const float *dh, const float *gates,
                        const float *c_prev, const float *tc, int B, int H)
{
    lstm_cell_backward2(dz, 4 * H, dc, dh, NULL, gates, c_prev, tc, B, H);
}

/* ============================== row helpers ============================== */

void add_bias_rows(float *y, int ldy, const float *b, int B, int N)
{
    for (int r = 0; r < B; r++) {
        float *yr = y + (size_t)r * ldy;
        for (int j = 0; j < N; j++)
            yr[j] += b[j];
    }
}

void sum_rows(float *db, const float *x, int R, int N)
{
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * N;
        for (int j = 0; j < N; j++)
            db[j] += xr[j];
    }
}

/* ============================== bf16 products ============================== */

int kernels_bf16_supported(void)
{
#if KERNELS_X86
    return kernels_isa_supported(KERNELS_ISA_AVX512) && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

static size_t bf16_pairs(int K1, int K2)
{
    return (size_t)(K1 + 1) / 2 + (size_t)(K2 + 1) / 2;
}

size_t pack_bf16_floats(int K1, int K2, int N)
{
    return bf16_pairs(K1, K2) * (size_t)((N + PANEL - 1) / PANEL) * PANEL;
}

/* x rounded to bf16, to nearest even (NaN stays NaN) */
static uint32_t bf16_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

void pack_bf16(float *bp, const float *src, size_t sk, size_t sn, int K1, int K2, int N)
{
    const size_t p1 = (size_t)(K1 + 1) / 2, np = bf16_pairs(K1, K2);
    uint32_t *out = (uint32_t *)(void *)bp;
    for (int n0 = 0; n0 < N; n0 += PANEL) {
        uint32_t *p = out + (size_t)(n0 / PANEL) * np * PANEL;
        for (size_t q = 0; q < np; q++) {
            const int part = q >= p1, K = part ? K2 : K1;
            const int k = 2 * (int)(part ? q - p1 : q), base = part ? K1 : 0;
            for (int j = 0; j < PANEL; j++) {
                uint32_t lo = 0, hi = 0;
                if (n0 + j < N) {
                    const float *s = src + (size_t)(n0 + j) * sn;
                    lo = bf16_bits(s[(size_t)(base + k) * sk]);
                    if (k + 1 < K) hi = bf16_bits(s[(size_t)(base + k + 1) * sk]);
                }
                p[q * PANEL + (size_t)j] = lo | hi << 16;
            }
        }
    }
}

void gemm_packed_bf16_isa(enum kernels_isa isa, float *C, int ldc, const float *A1, int lda1,
                          int K1, const float *A2, int lda2, int K2, const float *bp, int kp1,
                          int kp2, const float *bias, int accumulate, int M, int N)
{
#if KERNELS_X86
    const int init = accumulate ? INIT_ACC : bias ? INIT_BIAS : INIT_ZERO;
    LSTMSRC_ASSERT(kernels_bf16_supported() && K1 <= kp1 && K2 <= kp2);
    if (isa == KERNELS_ISA_AMX) {
        LSTMSRC_ASSERT(kernels_isa_supported(KERNELS_ISA_AMX));
        gemm_bf16_amx(C, ldc, A1, lda1, K1, A2, lda2, K2, (const uint32_t *)(const void *)bp,
                      (kp1 + 1) / 2, bf16_pairs(kp1, kp2) * PANEL, bias, init, M, N);
        return;
    }
    gemm_bf16_avx512(C, ldc, A1, lda1, K1, A2, lda2, K2, (const uint32_t *)(const void *)bp,
                     (kp1 + 1) / 2, bf16_pairs(kp1, kp2) * PANEL, bias, init, M, N);
#else
    (void)isa, (void)C, (void)ldc, (void)A1, (void)lda1, (void)K1, (void)A2, (void)lda2, (void)K2,
        (void)bp;
    (void)kp1, (void)kp2, (void)bias, (void)accumulate, (void)M, (void)N;
    LSTMSRC_ASSERT(0);
#endif
}

void add_transpose(float *dst, int ldd, const float *src, int lds, int R, int C)
{
#if KERNELS_X86
    if (kernels_isa() >= KERNELS_ISA_AVX512 && (size_t)lds * 16 < (size_t)1 << 31) {
        add_transpose_avx512(dst, ldd, src, lds, R, C);
        return;
    }
#endif
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            dst[(size_t)r * ldd + c] += src[(size_t)c * lds + r];
}

int kernels_bf16_tn_supported(void)
{
    return kernels_isa() == KERNELS_ISA_AMX;
}

void gemm_tn_bf16(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                  int K)
{
#if KERNELS_X86
    LSTMSRC_ASSERT(kernels_isa_supported(KERNELS_ISA_AMX));
    gemm_tn_bf16_amx(C, ldc, A, lda, B, ldb, M, N, K);
#else
    (void)C, (void)ldc, (void)A, (void)lda, (void)B, (void)ldb, (void)M, (void)N, (void)K;
    LSTMSRC_ASSERT(0);
#endif
}

void gemm_packed_bf16(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                      int lda2, int K2, const float *bp, int kp1, int kp2, const float *bias,
                      int accumulate, int M, int N)
{
    gemm_packed_bf16_isa(kernels_isa() == KERNELS_ISA_AMX ? KERNELS_ISA_AMX : KERNELS_ISA_AVX512, C,
                         ldc, A1, lda1, K1, A2, lda2, K2, bp, kp1, kp2, bias, accumulate, M, N);
}
