/*
 * head.h — the output layer's losses. The dense head itself is a GEMM in model.c; here are the
 * losses that match the labels: binary cross-entropy with logits per source (multi-label, with
 * per-source positive weights) and softmax cross-entropy (multi-class).
 *
 * Both return the SUM of per-element losses over the batch (for reporting) and write
 * dlogits = norm * d(sum)/d(logits), so a batch split across threads uses norm = 1/(B_total*K)
 * (BCE, the mean PyTorch's BCEWithLogitsLoss and Keras take) or 1/B_total (CE).
 */
#ifndef LSTMSRC_HEAD_H
#define LSTMSRC_HEAD_H

#include <stdint.h>

/* logits, y, dlogits (B, K); pos_weight (K) or NULL for all 1.
 * l = -[pw*y*log(sigmoid(x)) + (1-y)*log(1-sigmoid(x))]   (torch.nn.BCEWithLogitsLoss) */
double loss_bce_logits(float *dlogits, const float *logits, const float *y, const float *pos_weight,
                       int B, int K, float norm);

/* logits, dlogits (B, K); cls (B) in 0..K-1.  l = logsumexp(x) - x[cls]  (nn.CrossEntropyLoss) */
double loss_softmax_ce(float *dlogits, const float *logits, const int32_t *cls, int B, int K,
                       float norm);

#endif
