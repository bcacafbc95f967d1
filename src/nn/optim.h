/*
 * optim.h — Adam and global-norm gradient clipping over flat arrays.
 */
#ifndef LSTMSRC_OPTIM_H
#define LSTMSRC_OPTIM_H

#include <stddef.h>

/* One Adam step, t >= 1 (Kingma & Ba 2015, Algorithm 1; as torch.optim.Adam, no weight decay):
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * https://pytorch.org/docs/stable/generated/torch.optim.Adam.html */
void adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2,
               float eps, long t);

/* Scales g in place so that its L2 norm is at most max_norm (torch.nn.utils.clip_grad_norm_);
 * returns the norm before clipping. */
double clip_grad_norm(float *g, size_t n, float max_norm);

#endif
