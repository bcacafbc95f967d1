/*
 * optim.c — Adam and global-norm clipping over the flat parameter/gradient/moment arrays.
 * One pass per step, no allocation; the bias corrections are computed once per step in double.
 */
#include "nn/optim.h"

#include <math.h>

void adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2,
               float eps, long t)
{
    const float bc1 = (float)(1.0 - pow((double)b1, (double)t));
    const float bc2 = (float)(1.0 - pow((double)b2, (double)t));
    const float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        p[i] -= step * m[i] / (sqrtf(v[i]) * rbc2 + eps);
    }
}

double clip_grad_norm(float *g, size_t n, float max_norm)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        float s = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < n; i++)
            g[i] *= s;
    }
    return norm;
}
