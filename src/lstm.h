/*
 * lstm.h — one LSTM layer over a batch of sequences, forward and backward (BPTT), as matrix
 * products: one GEMM per time step for the gates with the input projection folded in
 * ([x_t | h_{t-1}] @ W^T), and one GEMM over all time steps for the weight gradient.
 *
 * Equations (PyTorch nn.LSTM, Keras LSTM with the same gate order i, f, g(=c~), o):
 *   z_t = W [x_t ; h_{t-1}] + b
 *   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
 *   c_t = f # c_{t-1} + i # g        h_t = o # tanh(c_t)       h_{-1} = c_{-1} = 0
 * The caller owns every buffer (struct lstm_buf points into one workspace); nothing allocates.
 */
#ifndef LSTMSRC_LSTM_H
#define LSTMSRC_LSTM_H

/* Caches and scratch for one layer, T steps, up to B rows. I = input width, H = hidden. */
struct lstm_buf {
    float *wt;     /* (I+H, 4H)   W transposed, refreshed by lstm_forward */
    float *xh;     /* (T, B, I+H) [x_t | h_{t-1}] per step */
    float *gates;  /* (T, B, 4H)  activated gates i, f, g, o */
    float *c;      /* (T, B, H)   cell state */
    float *tc;     /* (T, B, H)   tanh(c) */
    float *h;      /* (T, B, H)   hidden state = layer output */
    /* backward only (NULL for inference) */
    float *dz;     /* (T, B, 4H)  gradient w.r.t. gate pre-activations */
    float *dh;     /* (B, H)      gradient into h_t */
    float *dhnext; /* (B, H)      gradient into h_{t-1} from step t */
    float *dc;     /* (B, H)      gradient into c_t, carried backward */
    float *dxh;    /* (B, I+H)    scratch for the input gradient */
};

/* x (T, B, I) time-major input with row stride I; w (4H, I+H); b (4H). Fills buf.
 * rowwise: use gemm_nn_own so every row's result is independent of B (inference). */
void lstm_forward(struct lstm_buf *buf, const float *x, const float *w, const float *b, int B,
                  int T, int I, int H, int rowwise);

/* dhseq (T, B, H): gradient of the loss w.r.t. every h_t from above (read only).
 * Accumulates (+=) into dw (4H, I+H) and db (4H); if dx is non-NULL, accumulates the gradient
 * w.r.t. x into dx (T, B, I). */
void lstm_backward(float *dw, float *db, float *dx, struct lstm_buf *buf, const float *dhseq,
                   const float *w, int B, int T, int I, int H);

#endif
