#include "segment.h"

#include <cstring>

#include "parallel.h"

namespace tslm {

void unsorted_segment_sum(const float* x, const int32_t* ids, float* out, int64_t n, int64_t inner,
                          int64_t num_segments) {
  std::memset(out, 0, sizeof(float) * num_segments * inner);
  // Threads own disjoint column ranges, so the result does not depend on the
  // thread count and needs no atomics.
  parallel_for(inner, n, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t s = ids[i];
      if (s < 0 || s >= num_segments) continue;
      const float* src = x + i * inner;
      float* dst = out + s * inner;
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
    }
  });
}

int64_t scatter_nd(const int32_t* idx, const float* updates, float* out, int64_t n, int64_t k, const int64_t* strides,
                   int64_t slice, int64_t num_slices) {
  std::memset(out, 0, sizeof(float) * num_slices * slice);
  for (int64_t i = 0; i < n; i++) {
    int64_t s = 0;
    for (int64_t j = 0; j < k; j++) s += static_cast<int64_t>(idx[i * k + j]) * strides[j];
    if (s < 0 || s >= num_slices) return i;
  }
  parallel_for(slice, n, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t s = 0;
      for (int64_t j = 0; j < k; j++) s += static_cast<int64_t>(idx[i * k + j]) * strides[j];
      const float* src = updates + i * slice;
      float* dst = out + s * slice;
#pragma omp simd
      for (int64_t c = c0; c < c1; c++) dst[c] += src[c];
    }
  });
  return -1;
}

int64_t gather(const uint8_t* x, const int32_t* idx, uint8_t* out, int64_t outer, int64_t axis, int64_t inner, int64_t n,
               int64_t elem) {
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= axis) return i;
  const int64_t row = inner * elem;
  parallel_for(outer * n, inner, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; w++) {
      int64_t o = w / n, i = w % n;
      std::memcpy(out + w * row, x + (o * axis + idx[i]) * row, row);
    }
  });
  return -1;
}

}  // namespace tslm
