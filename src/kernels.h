/*
 * kernels.h — the few dense operations everything else is made of: two GEMM shapes, the fused
 * LSTM gate step, row-wise bias broadcast and column sums. With LSTMSRC_USE_CBLAS the GEMMs go
 * to the BLAS; otherwise our own loops (libc + libm only). Kernels never allocate and keep no
 * state. All matrices are row-major; shapes are in the comments as (rows, cols).
 */
#ifndef LSTMSRC_KERNELS_H
#define LSTMSRC_KERNELS_H

#include <stddef.h>

/* Hot loops get an AVX2+FMA clone picked at load time on x86-64 (GCC/clang function
 * multi-versioning); elsewhere they are plain C. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LSTMSRC_NO_CLONES)
#define LSTMSRC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LSTMSRC_CLONES
#endif

/* Asks the BLAS (if any) for single-threaded operation: lstmsrc runs its own threads over batch
 * shards and an inner thread pool on top of them would oversubscribe the cores. */
void kernels_init(void);

/* C (M,N) = beta*C + A (M,K) @ B (K,N)          lda/ldb/ldc are row strides */
void gemm_nn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta);
/* Same product with our own loops even when a BLAS is linked. Each element of C is summed over
 * k in order 0..K-1 whatever M is, so a row's result does not depend on the batch it is in:
 * inference uses it so that streaming one row at a time equals batch prediction bit for bit. */
void gemm_nn_own(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                 int K, float beta);
/* C (M,N) = beta*C + A^T @ B, with A (K,M), B (K,N) */
void gemm_tn(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
             int K, float beta);

/* dst (cols, rows) = src (rows, cols)^T */
void transpose(float *dst, const float *src, int rows, int cols);

/* Fused LSTM cell for one time step, in place on the gate pre-activations:
 *   z (B, 4H) = x W_x^T + h_prev W_h^T (+ b added here), blocks in order i, f, g, o
 *   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
 *   c = f * c_prev + i * g        h = o * tanh(c)
 * z becomes the activated gates (cached for backward); c_prev NULL means zeros.
 * z (B,4H)  b (4H)  c_prev, c, tc = tanh(c), h (B,H); h has row stride ldh. */
void lstm_cell_forward(float *z, float *c, float *tc, float *h, int ldh, const float *c_prev,
                       const float *b, int B, int H);

/* Backward of lstm_cell_forward for one step.
 *   dh (B,H): gradient into h_t (from above + from t+1), dc (B,H): in = dc_next from t+1, out =
 *   dc for c_prev (= dc_t * f).  gates (B,4H) activated, c_prev (B,H) or NULL, tc (B,H).
 *   dz (B,4H) out: gradient w.r.t. the pre-activations. */
void lstm_cell_backward(float *dz, float *dc, const float *dh, const float *gates,
                        const float *c_prev, const float *tc, int B, int H);

/* y = sigmoid(x), y = tanh(x) elementwise (may alias); vectorised polynomial, see kernels.c */
void vec_sigmoid(float *y, const float *x, int n);
void vec_tanh(float *y, const float *x, int n);
/* exp(x) with the same polynomial, x clamped to [-88, 88] */
float scalar_expf(float x);

/* y (B,N) += b (N) broadcast over rows (row stride ldy) */
void add_bias_rows(float *y, int ldy, const float *b, int B, int N);
/* db (N) += column sums of x (R,N) */
void sum_rows(float *db, const float *x, int R, int N);

#endif
