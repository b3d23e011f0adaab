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

/**
 * TF's ScatterNd for float32: out (num_slices x slice, zeroed) gets
 * updates[i] added at the slice whose index is sum_j idx[i, j] * strides[j].
 * Returns -1, or the first row whose index is out of range (nothing written
 * beyond the zero fill).
 */
int64_t scatter_nd(const int32_t* idx, const float* updates, float* out, int64_t n, int64_t k, const int64_t* strides,
                   int64_t slice, int64_t num_slices);

/**
 * GatherV2 (batchDims 0): out[o, i, :] = x[o, idx[i], :] for x [outer, axis,
 * inner] of `elem`-byte elements. Returns -1, or the position of the first
 * index outside [0, axis).
 */
int64_t gather(const uint8_t* x, const int32_t* idx, uint8_t* out, int64_t outer, int64_t axis, int64_t inner, int64_t n,
               int64_t elem);

}  // namespace tslm
