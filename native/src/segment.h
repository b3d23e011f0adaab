// Scatter-add kernels (the embedding gradient).
#pragma once
#include <cstdint>

namespace tslm {

/**
 * out[s, :] = sum of x[i, :] over i with ids[i] == s, for x [n, inner] and
 * out [num_segments, inner]; ids outside [0, num_segments) are skipped, as in
 * TF.js's cpu kernel.
 */
void unsorted_segment_sum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                          int64_t num_segments);

}  // namespace tslm
