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

}  // namespace tslm
