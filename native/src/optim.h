// Fused optimizer steps, in place on float32 buffers.
#pragma once
#include <cstdint>

namespace tslm {

struct AdamWParams {
  float lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based
};

/**
 * PyTorch's AdamW (decoupled weight decay, Loshchilov & Hutter 2019):
 *   p *= 1 - lr * wd
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamWParams& h);

}  // namespace tslm
