/*
 * head.c — losses that match the labels: sigmoid + binary cross-entropy per source (multi-label,
 * all-zero rows are ordinary), softmax + cross-entropy (multi-class). Computed from logits in a
 * numerically stable form; gradients are written, scaled by `norm`, in the same pass.
 */
#include "nn/head.h"

#include <math.h>
#include <stddef.h>

double loss_bce_logits(float *dlogits, const float *logits, const float *y, const float *pos_weight,
                       int B, int K, float norm)
{
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        for (int j = 0; j < K; j++) {
            size_t e = (size_t)r * K + j;
            float x = logits[e], t = y[e], pw = pos_weight ? pos_weight[j] : 1.0f;
            /* log sigmoid(x) = -softplus(-x);  log(1 - sigmoid(x)) = -softplus(x) */
            double sp_neg = x > 0 ? log1p(exp(-(double)x)) : -(double)x + log1p(exp((double)x));
            double sp_pos = sp_neg + (double)x;
            sum += pw * t * sp_neg + (1.0 - t) * sp_pos;
            float s = 1.0f / (1.0f + expf(-x));
            /* d/dx = pw*y*(s - 1) + (1 - y)*s */
            dlogits[e] = norm * (pw * t * (s - 1.0f) + (1.0f - t) * s);
        }
    }
    return sum;
}

double loss_softmax_ce(float *dlogits, const float *logits, const int32_t *cls, int B, int K,
                       float norm)
{
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        const float *z = logits + (size_t)r * K;
        float *dz = dlogits + (size_t)r * K;
        float mx = z[0];
        for (int j = 1; j < K; j++)
            mx = z[j] > mx ? z[j] : mx;
        double s = 0.0;
        for (int j = 0; j < K; j++)
            s += exp((double)z[j] - mx);
        double lse = mx + log(s);
        sum += lse - z[cls[r]];
        for (int j = 0; j < K; j++)
            dz[j] = norm * (float)(exp((double)z[j] - lse));
        dz[cls[r]] -= norm;
    }
    return sum;
}
