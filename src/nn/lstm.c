/*
 * lstm.c — LSTM layer forward and backward over a batch (see lstm.h for the equations).
 *
 * Fast path: the rows of a batch are independent until the weight gradient, so they are taken in
 * blocks of ROW_BLOCK through all T steps while the block's gates, cell and hidden state stay in
 * L1/L2. Each step is one packed product [x_t | h_{t-1}] @ W^T with the bias as its starting
 * value, followed at once by the fused cell; at t = 0 the zero initial state is skipped (K = I).
 * Backward walks t = T-1..0 per block carrying dh and dc; each step's dW_h += dz^T h_{t-1} is
 * taken while its dz is in L1 (none at t = 0, where h_{-1} = 0), and dW_x with db in one product
 * of [x_t | 1] over the block's T steps. dz rows are padded off the 1 KB critical stride (see
 * lstm_dz_stride). For a given B the order of every sum is fixed, so results are reproducible;
 * every row's forward is independent of B. Inference workspaces keep only one block's gates
 * and cell state (buf->scratch): nothing per step but h goes to memory.
 *
 * Plain path (wf NULL): one general GEMM per step over the whole batch and one GEMM over all
 * T*B rows for dW (kann's kann_layer_lstm, llm.c's matmul_backward pattern).
 */
#include "nn/lstm.h"

#include <string.h>

#include "base/common.h"
#include "nn/kernels.h"

#define ROW_BLOCK LSTM_ROW_BLOCK

size_t lstm_fast_floats(enum lstm_fast_buf which, int T, int I, int H)
{
    switch (which) {
    case LSTM_FAST_WF:
        return pack_floats(I + H, 4 * H);
    case LSTM_FAST_WBH:
        return pack_floats(4 * H, H);
    case LSTM_FAST_WBX:
        return pack_floats(4 * H, I);
    case LSTM_FAST_DWT:
        return (size_t)(H + I + 1) * 4 * (size_t)H;
    case LSTM_FAST_XA:
        return (size_t)T * ROW_BLOCK * (size_t)(I + 1);
    case LSTM_FAST_DZ_ROW:
        break;
    }
    return (size_t)lstm_dz_stride(H);
}

/* A row stride of 4H floats is a multiple of 1 KB for H = 64, 128, ...: rows that far apart
 * share a handful of L1 sets, and the products that walk dz down its rows would evict their own
 * lines. An odd number of cache lines spreads consecutive rows over all sets. */
int lstm_dz_stride(int H)
{
    int lines = (4 * H + 15) / 16;
    return (lines | 1) * 16;
}

/* The packed weights in buf's precision: fp32 panels, or bf16 pairs of rows (kernels.h
 * pack_bf16; never larger than the fp32 panels, so the buffers serve both). */
static void pack_wf(struct lstm_buf *buf, const float *w, int I, int H)
{
    if (buf->bf16)
        pack_bf16(buf->wf, w, 1, (size_t)(I + H), I, H, 4 * H);
    else
        pack_b_t(buf->wf, w, I + H, I + H, 4 * H);
}
static void pack_wb(struct lstm_buf *buf, float *dst, const float *w, int I, int H, int N)
{
    if (buf->bf16)
        pack_bf16(dst, w, (size_t)(I + H), 1, 4 * H, 0, N);
    else
        pack_b_n(dst, w, I + H, 4 * H, N);
}

void lstm_pack_weights(struct lstm_buf *buf, const float *w, int I, int H)
{
    pack_wf(buf, w, I, H);
    if (buf->wbh) pack_wb(buf, buf->wbh, w + I, I, H, H);
    if (buf->wbx) pack_wb(buf, buf->wbx, w, I, H, I);
    buf->frozen = 1;
}

/* C (nb, N) = init + A1 @ B[0:K1] + A2 @ B[K1:] with the packed weights of buf's precision; the
 * pack has parts kp1, kp2 */
static void step_product(const struct lstm_buf *buf, float *C, int ldc, const float *A1, int lda1,
                         int K1, const float *A2, int lda2, int K2, const float *bp, int kp1,
                         int kp2, const float *bias, int accumulate, int nb, int N)
{
    if (buf->bf16)
        gemm_packed_bf16(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp1, kp2, bias, accumulate, nb, N);
    else
        gemm_packed(C, ldc, A1, lda1, K1, A2, lda2, K2, bp, kp1 + kp2, bias, accumulate, nb, N);
}

/* ============================== fast path ============================== */

/* bf16 on the AMX tiles takes the step's dW_h in bf16 too, as its transpose: dwt holds dW_h^T
 * (H, 4H) += h_{t-1}^T dz, whose bf16 operands are h's columns (gathered) and dz's rows
 * (interleaved in pairs), the cheap way round (kernels.h gemm_tn_bf16) */
static int dwh_transposed(const struct lstm_buf *buf)
{
    return buf->bf16 && kernels_bf16_tn_supported();
}

void lstm_forward_prepare(struct lstm_buf *buf, const float *w, int I, int H)
{
    LSTMSRC_ASSERT(buf->wf);
    if (!buf->frozen) pack_wf(buf, w, I, H);
}

void lstm_forward_rows(struct lstm_buf *buf, const float *x, const float *b, int B, int r0, int nb,
                       int T, int I, int H)
{
    const int G = 4 * H, keep = !buf->scratch;
    LSTMSRC_ASSERT(nb >= 1 && nb <= ROW_BLOCK && r0 >= 0 && r0 + nb <= B);
    buf->x = x;
    for (int t = 0; t < T; t++) {
        const size_t row = (size_t)t * B + r0, prev = row - (size_t)B;
        /* training keeps every step for backward; inference only the block's last step */
        float *z = keep ? buf->gates + row * G : buf->gates;
        float *c = keep ? buf->c + row * H : buf->c + (size_t)(t & 1) * ROW_BLOCK * H;
        const float *cp = !t     ? NULL
                          : keep ? buf->c + prev * H
                                 : buf->c + (size_t)(~t & 1) * ROW_BLOCK * H;
        /* z (nb, 4H) = b + x_t W_x^T + h_{t-1} W_h^T; h_{-1} = 0 contributes nothing */
        step_product(buf, z, G, x + row * I, I, I, t ? buf->h + prev * H : NULL, H, t ? H : 0,
                     buf->wf, I, H, b, 0, nb, G);
        lstm_cell_forward(z, c, keep ? buf->tc + row * H : buf->tc, buf->h + row * H, H, cp, NULL,
                          nb, H);
    }
}

void lstm_backward_prepare(struct lstm_buf *buf, const float *w, int T, int I, int H, int with_dx)
{
    LSTMSRC_ASSERT(buf->wbh && buf->dwt && buf->xa && (!with_dx || buf->wbx));
    if (!buf->frozen) {
        pack_wb(buf, buf->wbh, w + I, I, H, H);
        if (with_dx) pack_wb(buf, buf->wbx, w, I, H, I);
    }
    memset(buf->dwt, 0, lstm_fast_floats(LSTM_FAST_DWT, T, I, H) * sizeof *buf->dwt);
}

void lstm_backward_rows(struct lstm_buf *buf, const float *dhseq, float *dx, int B, int r0, int nb,
                        int T, int I, int H)
{
    const int G = 4 * H, LDZ = lstm_dz_stride(H);
    const float *x = buf->x;
    float *dwh = buf->dwt, *dwx1 = buf->dwt + (size_t)G * H; /* (4H, H), (I+1, 4H) */
    float *dc = buf->dc + (size_t)r0 * H, *dhn = buf->dhnext + (size_t)r0 * H;
    LSTMSRC_ASSERT(x && !buf->scratch && nb >= 1 && nb <= ROW_BLOCK && r0 + nb <= B);
    memset(dc, 0, (size_t)nb * H * sizeof *dc);
    for (int t = T - 1; t >= 0; t--) {
        const size_t row = (size_t)t * B + r0, prev = row - (size_t)B;
        float *dz = buf->dz + row * LDZ;
        /* dh_t = dhseq_t + dhnext (from step t+1; none at T-1) */
        lstm_cell_backward2(dz, LDZ, dc, dhseq + row * H, t < T - 1 ? dhn : NULL,
                            buf->gates + row * G, t ? buf->c + prev * H : NULL, buf->tc + row * H,
                            nb, H);
        /* dh_{t-1} (nb, H) = dz (nb, 4H) @ W_h (4H, H);  dx_t += dz @ W_x;
         * dW_h (4H, H) += dz^T h_{t-1} while dz is in L1 (none at t = 0: h_{-1} = 0) */
        if (t > 0) {
            step_product(buf, dhn, H, dz, LDZ, G, NULL, 0, 0, buf->wbh, G, 0, NULL, 0, nb, H);
            if (dwh_transposed(buf))
                gemm_tn_bf16(dwh, G, buf->h + prev * H, H, dz, LDZ, H, G, nb);
            else
                gemm_tn_own(dwh, H, dz, LDZ, buf->h + prev * H, H, G, H, nb);
        }
        if (dx)
            step_product(buf, dx + row * I, I, dz, LDZ, G, NULL, 0, 0, buf->wbx, G, 0, NULL, 1, nb,
                         I);
        /* the block's rows of [x_t | 1] for dW_x and db below */
        for (int r = 0; r < nb; r++) {
            float *a = buf->xa + ((size_t)t * nb + r) * (I + 1);
            memcpy(a, x + (row + r) * I, (size_t)I * sizeof *a);
            a[I] = 1.0f;
        }
    }
    /* [dW_x | db]^T (I+1, 4H) += sum_t [x_t | 1]^T dz_t: one product over all T steps */
    gemm_tn_seg(dwx1, G, buf->xa, I + 1, (size_t)nb * (I + 1), buf->dz + (size_t)r0 * LDZ, LDZ,
                (size_t)B * LDZ, I + 1, G, nb, T, 0);
}

void lstm_backward_finish(const struct lstm_buf *buf, float *dw, float *db, int I, int H)
{
    const int IH = I + H, G = 4 * H;
    const float *dwh = buf->dwt, *dwx1 = buf->dwt + (size_t)G * H;
    if (dwh_transposed(buf)) add_transpose(dw + I, IH, dwh, G, G, H); /* dW_h^T (H, 4H) */
    for (int m = 0; m < G; m++) {
        float *dwm = dw + (size_t)m * IH;
        if (!dwh_transposed(buf))
            for (int j = 0; j < H; j++)
                dwm[I + j] += dwh[(size_t)m * H + j];
        for (int i = 0; i < I; i++)
            dwm[i] += dwx1[(size_t)i * G + m];
        db[m] += dwx1[(size_t)I * G + m];
    }
}

/* ============================== plain path ============================== */

static void forward_plain(struct lstm_buf *buf, const float *x, const float *w, const float *b,
                          int B, int T, int I, int H, int rowwise)
{
    const int IH = I + H, G = 4 * H;
    transpose(buf->wt, w, G, IH);
    for (int t = 0; t < T; t++) {
        float *xh = buf->xh + (size_t)t * B * IH;
        float *z = buf->gates + (size_t)t * B * G;
        const float *xt = x + (size_t)t * B * I;
        const float *hprev = t > 0 ? buf->h + (size_t)(t - 1) * B * H : NULL;
        for (int r = 0; r < B; r++) {
            memcpy(xh + (size_t)r * IH, xt + (size_t)r * I, (size_t)I * sizeof *xh);
            if (hprev)
                memcpy(xh + (size_t)r * IH + I, hprev + (size_t)r * H, (size_t)H * sizeof *xh);
            else
                memset(xh + (size_t)r * IH + I, 0, (size_t)H * sizeof *xh);
        }
        /* z (B, 4H) = xh (B, I+H) @ W^T; h_{-1} = 0 contributes nothing at t = 0 */
        (rowwise ? gemm_nn_own : gemm_nn)(z, G, xh, IH, buf->wt, G, B, G, t > 0 ? IH : I, 0.0f);
        lstm_cell_forward(z, buf->c + (size_t)t * B * H, buf->tc + (size_t)t * B * H,
                          buf->h + (size_t)t * B * H, H,
                          t > 0 ? buf->c + (size_t)(t - 1) * B * H : NULL, b, B, H);
    }
}

static void backward_plain(float *dw, float *db, float *dx, struct lstm_buf *buf,
                           const float *dhseq, const float *w, int B, int T, int I, int H)
{
    const int IH = I + H, G = 4 * H;
    memset(buf->dhnext, 0, (size_t)B * H * sizeof *buf->dhnext);
    memset(buf->dc, 0, (size_t)B * H * sizeof *buf->dc);
    for (int t = T - 1; t >= 0; t--) {
        const float *dht = dhseq + (size_t)t * B * H;
        for (size_t e = 0; e < (size_t)B * H; e++)
            buf->dh[e] = dht[e] + buf->dhnext[e];
        float *dz = buf->dz + (size_t)t * B * G;
        lstm_cell_backward(dz, buf->dc, buf->dh, buf->gates + (size_t)t * B * G,
                           t > 0 ? buf->c + (size_t)(t - 1) * B * H : NULL,
                           buf->tc + (size_t)t * B * H, B, H);
        if (dx) {
            /* dxh (B, I+H) = dz (B, 4H) @ W (4H, I+H) */
            gemm_nn(buf->dxh, IH, dz, G, w, IH, B, t > 0 ? IH : I, G, 0.0f);
            float *dxt = dx + (size_t)t * B * I;
            for (int r = 0; r < B; r++) {
                const float *src = buf->dxh + (size_t)r * IH;
                float *dst = dxt + (size_t)r * I;
                for (int j = 0; j < I; j++)
                    dst[j] += src[j];
                if (t > 0) memcpy(buf->dhnext + (size_t)r * H, src + I, (size_t)H * sizeof *src);
            }
        } else if (t > 0) {
            /* only the recurrent part: dh_{t-1} (B, H) = dz (B, 4H) @ W[:, I:] (4H, H) */
            gemm_nn(buf->dhnext, H, dz, G, w + I, IH, B, H, G, 0.0f);
        }
    }
    /* dW (4H, I+H) += dz^T (4H, T*B) @ xh (T*B, I+H);  db += column sums of dz */
    gemm_tn(dw, IH, buf->dz, G, buf->xh, IH, G, IH, T * B, 1.0f);
    sum_rows(db, buf->dz, T * B, G);
}

/* ============================== entry points ============================== */

void lstm_forward(struct lstm_buf *buf, const float *x, const float *w, const float *b, int B,
                  int T, int I, int H, int rowwise)
{
    if (!buf->wf) {
        forward_plain(buf, x, w, b, B, T, I, H, rowwise);
        return;
    }
    lstm_forward_prepare(buf, w, I, H);
    for (int r0 = 0; r0 < B; r0 += ROW_BLOCK)
        lstm_forward_rows(buf, x, b, B, r0, B - r0 < ROW_BLOCK ? B - r0 : ROW_BLOCK, T, I, H);
}

void lstm_backward(float *dw, float *db, float *dx, struct lstm_buf *buf, const float *dhseq,
                   const float *w, int B, int T, int I, int H)
{
    if (!buf->wf) {
        backward_plain(dw, db, dx, buf, dhseq, w, B, T, I, H);
        return;
    }
    /* the fast forward keeps no xh: its backward must be the fast one too */
    lstm_backward_prepare(buf, w, T, I, H, dx != NULL);
    for (int r0 = 0; r0 < B; r0 += ROW_BLOCK)
        lstm_backward_rows(buf, dhseq, dx, B, r0, B - r0 < ROW_BLOCK ? B - r0 : ROW_BLOCK, T, I, H);
    lstm_backward_finish(buf, dw, db, I, H);
}
