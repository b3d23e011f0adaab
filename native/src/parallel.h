// Work splitting over the OpenMP thread pool that oneDNN also uses, so the
// matmuls and the elementwise kernels share one set of threads instead of two
// pools spinning against each other on a small machine.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace tslm {

/** Threads the kernels may use (OpenMP's max, settable with TSLM_THREADS / OMP_NUM_THREADS). */
inline int max_threads() { return omp_get_max_threads(); }

/**
 * Calls fn(begin, end) over [0, n) split into contiguous chunks, one per
 * thread. Runs inline when the work (n * cost_per_item, in rough element
 * operations) is too small to repay waking the other threads (~5-20 us).
 */
template <typename F>
inline void parallel_for(int64_t n, int64_t cost_per_item, F&& fn) {
  if (n <= 0) return;
  const int64_t kMinWork = 1 << 15;
  int threads = max_threads();
  if (threads <= 1 || n < 2 || n * cost_per_item < kMinWork) {
    fn(int64_t{0}, n);
    return;
  }
  int64_t useful = std::max<int64_t>(1, (n * cost_per_item) / kMinWork);
  threads = static_cast<int>(std::min<int64_t>({static_cast<int64_t>(threads), n, useful}));
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    int nt = omp_get_num_threads();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = t * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  }
}

}  // namespace tslm
