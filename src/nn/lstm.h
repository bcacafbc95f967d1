/*
 * lstm.h — one LSTM layer over a batch of sequences, forward and backward (BPTT), as matrix
 * products: one product per time step for the gates with the input projection folded in
 * ([x_t | h_{t-1}] @ W^T), and products over all time steps for the weight gradient.
 *
 * Equations (PyTorch nn.LSTM, Keras LSTM with the same gate order i, f, g(=c~), o):
 *   z_t = W [x_t ; h_{t-1}] + b
 *   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
 *   c_t = f # c_{t-1} + i # g        h_t = o # tanh(c_t)       h_{-1} = c_{-1} = 0
 * The caller owns every buffer (struct lstm_buf points into one workspace); nothing allocates.
 */
#ifndef LSTMSRC_LSTM_H
#define LSTMSRC_LSTM_H

#include <stddef.h>

/* Caches and scratch for one layer, T steps, up to B rows. I = input width, H = hidden.
 *
 * Two paths compute the same function. With the fast-path buffers set (wf; for backward also
 * wbh, dwt, xa, and wbx when the input gradient is wanted), the fast path runs blocks of rows
 * through all T steps while they are in cache, with the weights packed into panels (kernels.h
 * gemm_packed), and ignores wt, xh and dxh. With wf NULL, the plain path uses wt, xh, dxh and the
 * general GEMMs. */
struct lstm_buf {
    float *wt;    /* (I+H, 4H)   plain path: W transposed, refreshed by lstm_forward */
    float *xh;    /* (T, B, I+H) plain path: [x_t | h_{t-1}] per step */
    float *gates; /* (T, B, 4H)  activated gates i, f, g, o */
    float *c;     /* (T, B, H)   cell state */
    float *tc;    /* (T, B, H)   tanh(c) */
    float *h;     /* (T, B, H)   hidden state = layer output */
    /* backward only (NULL for inference) */
    float *dz;     /* (T, B, 4H)  gradient w.r.t. gate pre-activations; on the fast path the
                      rows are lstm_dz_stride(H) >= 4H apart */
    float *dh;     /* (B, H)      gradient into h_t */
    float *dhnext; /* (B, H)      gradient into h_{t-1} from step t */
    float *dc;     /* (B, H)      gradient into c_t, carried backward */
    float *dxh;    /* (B, I+H)    plain path: scratch for the input gradient */
    /* fast path (sizes from lstm_fast_floats) */
    float *wf;      /* W^T (I+H, 4H) packed: z = [x | h] @ W^T */
    float *wbh;     /* W[:, I:] (4H, H) packed: dh_{t-1} = dz @ W_h (backward only) */
    float *wbx;     /* W[:, :I] (4H, I) packed: dx_t = dz @ W_x (only with an input gradient) */
    float *dwt;     /* dW_h (4H, H), then [dW_x | db]^T (I+1, 4H), summed over the row blocks;
                       with bf16 on the AMX kernels dW_h^T (H, 4H), in bf16 products */
    float *xa;      /* (T, LSTM_ROW_BLOCK, I+1) [x_t | 1] of one block (backward) */
    const float *x; /* the last forward's input (T, B, I), read again by the fast backward */
    int frozen;     /* wf (and wbh, wbx when present) hold this layer's weights (set by
                       lstm_pack_weights): forward and backward do not re-pack them, and ignore
                       their w argument for the products */
    int bf16;       /* fast path: the step products (gates, dh_{t-1}, dx) in bf16 with fp32
                       sums (kernels.h gemm_packed_bf16; needs kernels_bf16_supported), wf, wbh
                       and wbx packed as bf16 pairs; on the AMX kernels also each step's dW_h
                       (kernels.h gemm_tn_bf16); sums, cell and state stay fp32. Set before the
                       first pack. */
    int scratch;    /* inference only (fast path): gates (LSTM_ROW_BLOCK, 4H), c (2,
                       LSTM_ROW_BLOCK, H) and tc (LSTM_ROW_BLOCK, H) are one block's scratch, not
                       kept per step; h is still (T, B, H) */
};

/* Rows per block on the fast path: a block's gates, cell and hidden state stay in L1/L2 between
 * the product and the cell and across the T steps; a multiple of the 6-row product tile. */
#ifndef LSTM_ROW_BLOCK
#define LSTM_ROW_BLOCK 48
#endif

/* The fast path's buffers whose sizes lstm_fast_floats gives. */
enum lstm_fast_buf {
    LSTM_FAST_WF,    /* wf */
    LSTM_FAST_WBH,   /* wbh */
    LSTM_FAST_WBX,   /* wbx */
    LSTM_FAST_DWT,   /* dwt */
    LSTM_FAST_XA,    /* xa */
    LSTM_FAST_DZ_ROW /* dz, per (t, row): the row stride */
};
size_t lstm_fast_floats(enum lstm_fast_buf which, int T, int I, int H);
/* Row stride of dz on the fast path. */
int lstm_dz_stride(int H);

/* Packs w (4H, I+H) into wf (and wbh, wbx when present) and marks buf frozen, for callers
 * whose weights do not change until they pack again. */
void lstm_pack_weights(struct lstm_buf *buf, const float *w, int I, int H);

/* x (T, B, I) time-major input with row stride I; w (4H, I+H); b (4H). Fills buf.
 * rowwise: the plain path uses gemm_nn_own so every row's result is independent of B
 * (inference); the fast path always is. */
void lstm_forward(struct lstm_buf *buf, const float *x, const float *w, const float *b, int B,
                  int T, int I, int H, int rowwise);

/* The fast path in pieces, for callers that interleave layers or the loss per block of rows
 * (model.c): lstm_forward is prepare + rows over blocks [r0, r0 + nb) with nb <= LSTM_ROW_BLOCK;
 * lstm_backward is prepare + rows over blocks + finish. The rows of one block are independent of
 * all others, so any interleaving gives the same bits as the whole calls, given the same blocks
 * in the same order for the weight gradient. */
void lstm_forward_prepare(struct lstm_buf *buf, const float *w, int I, int H);
void lstm_forward_rows(struct lstm_buf *buf, const float *x, const float *b, int B, int r0, int nb,
                       int T, int I, int H);
void lstm_backward_prepare(struct lstm_buf *buf, const float *w, int T, int I, int H, int with_dx);
/* dhseq, dx as for lstm_backward (rows r0.. of each step); the weight gradient is summed in buf
 * until lstm_backward_finish adds it (+=) into dw (4H, I+H) and db (4H). */
void lstm_backward_rows(struct lstm_buf *buf, const float *dhseq, float *dx, int B, int r0, int nb,
                        int T, int I, int H);
void lstm_backward_finish(const struct lstm_buf *buf, float *dw, float *db, int I, int H);

/* dhseq (T, B, H): gradient of the loss w.r.t. every h_t from above (read only). Uses the input
 * of the last lstm_forward on buf, which must still hold it. Accumulates (+=) into dw (4H, I+H)
 * and db (4H); if dx is non-NULL, accumulates the gradient w.r.t. x into dx (T, B, I). */
void lstm_backward(float *dw, float *db, float *dx, struct lstm_buf *buf, const float *dhseq,
                   const float *w, int B, int T, int I, int H);

#endif
