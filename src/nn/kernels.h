/*
 * kernels.h — the dense operations everything else is made of: GEMMs (our own
 * register-blocked kernels; no BLAS), a packed-panel GEMM for the LSTM step, the fused LSTM cell
 * forward and backward, vectorised sigmoid/tanh, row-wise bias broadcast and column sums.
 *
 * On x86-64 CPUs with AVX-512 (F, BW, DQ, VL) or AVX2+FMA the hot kernels run hand-written code
 * for the widest of them, picked at run time (LSTMSRC_ISA forces one, see kernels_isa);
 * elsewhere (and with -DLSTMSRC_NO_SIMD) portable C that the compiler vectorises. Kernels never
 * allocate and keep no state. All matrices are row-major; shapes are in the comments as
 * (rows, cols). Every product here sums each output element over k in order 0..K-1 after its
 * initial value, so a row's result never depends on the other rows of the call.
 */
#ifndef LSTMSRC_KERNELS_H
#define LSTMSRC_KERNELS_H

#include <stddef.h>

/* Elementwise loops get an AVX2 clone picked at load time on x86-64 (GCC function
 * multi-versioning); elsewhere they are plain C. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LSTMSRC_NO_CLONES)
#define LSTMSRC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LSTMSRC_CLONES
#endif

/* Which hand-written kernels run. Each level needs the one below it on the CPU. */
enum kernels_isa {
    KERNELS_ISA_PORTABLE = 0, /* portable C (any CPU) */
    KERNELS_ISA_AVX2 = 1,     /* AVX2 + FMA */
    KERNELS_ISA_AVX512 = 2,   /* AVX-512 F, BW, DQ and VL (+ FMA): 16-wide products and cells */
    KERNELS_ISA_AMX = 3       /* AVX-512 with BF16, and AMX-BF16 tiles: fp32 as AVX-512 (the
                                 same bits); bf16 products on the tile unit */
};
#define KERNELS_ISA_COUNT 4

/* 1 when this CPU (and build) can run the kernels of isa. */
int kernels_isa_supported(enum kernels_isa isa);
/* The best isa this CPU and build support. */
enum kernels_isa kernels_isa_best(void);
/* The kernels in use, fixed for the life of the process: the environment variable
 * LSTMSRC_ISA=amx|avx512|avx2|portable when set and supported, else the best supported level at or
 * below the one asked for; the best supported one when LSTMSRC_ISA is unset or unknown. Read
 * once (thread-safe) and cached, so every call of a process gets the same bits. */
enum kernels_isa kernels_isa(void);
/* "amx", "avx512", "avx2", "portable" */
const char *kernels_isa_name(enum kernels_isa isa);
/* isa named s (one of kernels_isa_name's), or -1 */
int kernels_isa_parse(const char *s);
/* What is wrong with LSTMSRC_ISA: 0 when unset, empty or honoured; else a one-line reason in
 * msg (unknown name, or an ISA this CPU lacks, with what is used instead) and 1. */
int kernels_isa_env_problem(char *msg, size_t n);

/* 1 when the AVX2+FMA (or wider) kernels are in use (kernels_isa() >= KERNELS_ISA_AVX2). */
int kernels_simd(void);

/* ============================== general GEMMs ============================== */

/* C (M,N) = beta*C + A (M,K) @ B (K,N)          lda/ldb/ldc are row strides */
void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta);
/* Same product, named for the callers that rely on its order. Each element of C is summed over
 * k in order 0..K-1 whatever M is, so a row's result does not depend on the batch it is in:
 * inference uses it so that streaming one row at a time equals batch prediction bit for bit. */
void gemm_nn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                 int K, float beta);
/* C (M,N) = beta*C + A^T @ B, with A (K,M), B (K,N) */
void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta);
/* C (M,N) += A^T @ B with our own kernels; A (K,M), B (K,N). Summed over k in order. */
void gemm_tn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                 int K);

/* C (M,N) += sum over segments s of A_s^T @ B_s, each A_s (K,M) at A + s*a_seg and B_s (K,N) at
 * B + s*b_seg: one product over nseg*K rows that need not be contiguous (the time steps of a
 * block of rows), with C held in registers across them. The caller guarantees that columns
 * 0..skip_below-1 of A_0 are zero; rows of C that only they feed may skip segment 0. Per
 * element: segments in order, k in order. */
void gemm_tn_seg(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B, int ldb,
                 size_t b_seg, int M, int N, int K, int nseg, int skip_below);

/* ============================== packed-panel GEMM ============================== */

/* B operands that are reused across many products (the LSTM weights) are packed once into
 * panels of PANEL columns: panel p holds rows k = 0..K-1 of columns p*PANEL .. p*PANEL+15,
 * contiguous, zero-padded past N. A panel row is one cache line; a panel of the LSTM step
 * (K = 65) is 4 KB and stays in L1 while a block of rows streams past it. */
#define KERNELS_PANEL 16

/* floats needed to pack a (K, N) operand */
size_t pack_floats(int K, int N);
/* Bp = B (K, N) where B[k][n] = src[n*lds + k]  (src is B^T, e.g. W (N, K) for x @ W^T) */
void pack_b_t(float *bp, const float *src, int lds, int K, int N);
/* Bp = B (K, N) where B[k][n] = src[k*lds + n] */
void pack_b_n(float *bp, const float *src, int lds, int K, int N);

/* C (M,N) = init + A1 (M,K1) @ B[0:K1] + A2 (M,K2) @ B[K1:K1+K2], B packed with kp rows
 * (kp >= K1 + K2; rows past K1 + K2 are ignored, so the recurrent part can be skipped while
 * h_{-1} = 0). A2 may be NULL when K2 = 0.
 * init: C itself when accumulate, else bias (N) broadcast over rows, else zero.
 * Per element: init, then k = 0..K1-1 of A1, then k = 0..K2-1 of A2, in order. */
void gemm_packed(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2, int lda2,
                 int K2, const float *bp, int kp, const float *bias, int accumulate, int M, int N);

/* ============================== LSTM cell ============================== */

/* dst (cols, rows) = src (rows, cols)^T */
void transpose(float *dst, const float *src, int rows, int cols);

/* Fused LSTM cell for one time step, in place on the gate pre-activations:
 *   z (B, 4H) = x W_x^T + h_prev W_h^T (+ b added here unless b is NULL), blocks i, f, g, o
 *   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
 *   c = f * c_prev + i * g        h = o * tanh(c)
 * z becomes the activated gates (cached for backward); c_prev NULL means zeros.
 * z (B,4H)  b (4H)  c_prev, c, tc = tanh(c) (B,H);  h (B,H) with row stride ldh. */
void lstm_cell_forward(float *z, float *c, float *tc, float *h, int ldh, const float *c_prev,
                       const float *b, int B, int H);

/* Backward of lstm_cell_forward for one step.
 *   dh (B,H): gradient into h_t (from above + from t+1), dc (B,H): in = dc_next from t+1, out =
 *   dc for c_prev (= dc_t * f).  gates (B,4H) activated, c_prev (B,H) or NULL, tc (B,H).
 *   dz (B,4H) out: gradient w.r.t. the pre-activations. */
void lstm_cell_backward(float *dz, float *dc, const float *dh, const float *gates,
                        const float *c_prev, const float *tc, int B, int H);
/* The same with dh = dh1 + dh2 formed on the fly (dh2 may be NULL) and dz rows ldz apart. */
void lstm_cell_backward2(float *dz, int ldz, float *dc, const float *dh1, const float *dh2,
                         const float *gates, const float *c_prev, const float *tc, int B, int H);

/* y = sigmoid(x), y = tanh(x) elementwise (may alias); vectorised polynomial, see kernels.c */
void vec_sigmoid(float *y, const float *x, int n);
void vec_tanh(float *y, const float *x, int n);
/* exp(x) with the same polynomial, x clamped to [-88, 88] */
float scalar_expf(float x);

/* y (B,N) += b (N) broadcast over rows (row stride ldy) */
void add_bias_rows(float *y, int ldy, const float *b, int B, int N);
/* db (N) += column sums of x (R,N) */
void sum_rows(float *db, const float *x, int R, int N);

/* ============================== bf16 products ============================== */

/* 1 when this CPU (and build) has the AVX-512 kernels and AVX-512 BF16 (vdpbf16ps). */
int kernels_bf16_supported(void);

/* A packed operand for gemm_packed_bf16: B (K1 + K2, N) in two parts of K1 and K2 rows, each in
 * pairs of rows rounded to bf16 (to nearest even): panel p, pair q holds for each of its 16
 * columns n the 32-bit word bf16(B[k][n]) | bf16(B[k+1][n]) << 16, k = 2q (part 1) or K1 +
 * 2(q - ceil(K1/2)) (part 2); a part's odd last row pairs with zero. Never more floats than
 * pack_floats(K1 + K2, N) when K1 + K2 >= 2. */
size_t pack_bf16_floats(int K1, int K2, int N);
/* B[k][n] = src[k*sk + n*sn]: sk = 1, sn = lds packs src = B^T (as pack_b_t); sk = lds, sn = 1
 * packs src = B (as pack_b_n). */
void pack_bf16(float *bp, const float *src, size_t sk, size_t sn, int K1, int K2, int N);
/* dst (R, C) += src^T for src (C, R); row strides ldd, lds (the same sums on every ISA) */
void add_transpose(float *dst, int ldd, const float *src, int lds, int R, int C);
/* 1 when gemm_tn_bf16 runs here: the kernels in use are KERNELS_ISA_AMX. */
int kernels_bf16_tn_supported(void);
/* C (M,N) += A^T @ B, A (K,M), B (K,N), with both rounded to bf16 (to nearest even) and the
 * products summed in fp32 on the AMX tiles, pairs of k in order, in chunks of 64 k; the same
 * bound per element as gemm_packed_bf16. Needs kernels_bf16_tn_supported(). */
void gemm_tn_bf16(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                  int K);
/* gemm_packed_bf16 on the kernels of isa: KERNELS_ISA_AMX (the tile unit) or KERNELS_ISA_AVX512
 * (vdpbf16ps), which must be supported; tests compare the two. */
void gemm_packed_bf16_isa(enum kernels_isa isa, float *C, int ldc, const float *A1, int lda1,
                          int K1, const float *A2, int lda2, int K2, const float *bp, int kp1,
                          int kp2, const float *bias, int accumulate, int M, int N);
/* gemm_packed with bf16 products and fp32 sums, B packed by pack_bf16 with parts kp1, kp2
 * (K1 <= kp1, K2 <= kp2; A2 may be NULL when K2 = 0). A is rounded to bf16 as it is read.
 * Per element: init, then the pairs of A1's k, then of A2's, in order, each pair's two products
 * added in one step in fp32. Needs kernels_bf16_supported(). Against the fp32 product, each
 * element is off by at most (2^-7 + 2^-16 + K 2^-23) sum_k |a_k b_k| (two roundings to bf16's
 * 8 significant bits, unit roundoff 2^-8, per product; then fp32 sums over K = K1 + K2 terms).
 * Runs on the AMX tiles when kernels_isa() is KERNELS_ISA_AMX, else on vdpbf16ps. */
void gemm_packed_bf16(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                      int lda2, int K2, const float *bp, int kp1, int kp2, const float *bias,
                      int accumulate, int M, int N);

/* ============================== for tests ============================== */

/* The dispatched kernels with the ISA chosen by the caller (isa must be supported: tests and
 * benchmarks hold each ISA present against the portable kernels in one process). */
void gemm_packed_isa(enum kernels_isa isa, float *C, int ldc, const float *A1, int lda1, int K1,
                     const float *A2, int lda2, int K2, const float *bp, int kp, const float *bias,
                     int accumulate, int M, int N);
void gemm_nn_own_isa(enum kernels_isa isa, float *C, int ldc, const float *A, int lda,
                     const float *B, int ldb, int M, int N, int K, float beta);
void gemm_tn_seg_isa(enum kernels_isa isa, float *C, int ldc, const float *A, int lda, size_t a_seg,
                     const float *B, int ldb, size_t b_seg, int M, int N, int K, int nseg,
                     int skip_below);
void lstm_cell_forward_isa(enum kernels_isa isa, float *z, float *c, float *tc, float *h, int ldh,
                           const float *c_prev, const float *b, int B, int H);
void lstm_cell_backward2_isa(enum kernels_isa isa, float *dz, int ldz, float *dc, const float *dh1,
                             const float *dh2, const float *gates, const float *c_prev,
                             const float *tc, int B, int H);

/* The portable C versions of the dispatched kernels above, callable on any machine so tests can
 * hold the SIMD kernels against them. */
void gemm_packed_portable(float *C, int ldc, const float *A1, int lda1, int K1, const float *A2,
                          int lda2, int K2, const float *bp, int kp, const float *bias,
                          int accumulate, int M, int N);
void gemm_nn_portable(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                      int N, int K, float beta);
void gemm_tn_portable(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M,
                      int N, int K);
void gemm_tn_seg_portable(float *C, int ldc, const float *A, int lda, size_t a_seg, const float *B,
                          int ldb, size_t b_seg, int M, int N, int K, int nseg, int skip_below);
void lstm_cell_forward_portable(float *z, float *c, float *tc, float *h, int ldh,
                                const float *c_prev, const float *b, int B, int H);
void lstm_cell_backward_portable(float *dz, int ldz, float *dc, const float *dh1, const float *dh2,
                                 const float *gates, const float *c_prev, const float *tc, int B,
                                 int H);

#endif
