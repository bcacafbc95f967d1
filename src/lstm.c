/*
 * lstm.c — LSTM layer forward and backward over a batch (see lstm.h for the equations).
 *
 * Per step the gates come from one GEMM of [x_t | h_{t-1}] (B, I+H) with W^T (I+H, 4H); at t = 0
 * the zero initial state is skipped (K = I). Backward walks t = T-1..0 carrying dh and dc, keeps
 * every dz_t, then forms dW with one GEMM over all T*B rows (kann's kann_layer_lstm, llm.c's
 * matmul_backward pattern).
 */
#include "lstm.h"

#include <string.h>

#include "kernels.h"

void lstm_forward(struct lstm_buf *buf, const float *x, const float *w, const float *b, int B,
                  int T, int I, int H, int rowwise)
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
            if (hprev) memcpy(xh + (size_t)r * IH + I, hprev + (size_t)r * H, (size_t)H * sizeof *xh);
            else memset(xh + (size_t)r * IH + I, 0, (size_t)H * sizeof *xh);
        }
        /* z (B, 4H) = xh (B, I+H) @ W^T; h_{-1} = 0 contributes nothing at t = 0 */
        (rowwise ? gemm_nn_own : gemm_nn)(z, G, xh, IH, buf->wt, G, B, G, t > 0 ? IH : I, 0.0f);
        lstm_cell_forward(z, buf->c + (size_t)t * B * H, buf->tc + (size_t)t * B * H,
                          buf->h + (size_t)t * B * H, H,
                          t > 0 ? buf->c + (size_t)(t - 1) * B * H : NULL, b, B, H);
    }
}

void lstm_backward(float *dw, float *db, float *dx, struct lstm_buf *buf, const float *dhseq,
                   const float *w, int B, int T, int I, int H)
{
    const int IH = I + H, G = 4 * H;
    memset(buf->dhnext, 0, (size_t)B * H * sizeof *buf->dhnext);
    memset(buf->dc, 0, (size_t)B * H * sizeof *buf->dc);
    for (int t = T - 1; t >= 0; t--) {
        const float *dht = dhseq + (size_t)t * B * H;
        for (size_t e = 0; e < (size_t)B * H; e++) buf->dh[e] = dht[e] + buf->dhnext[e];
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
                for (int j = 0; j < I; j++) dst[j] += src[j];
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
