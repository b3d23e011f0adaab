// Work splitting over the kernels' thread pool (pool.h). Small jobs run
// inline: waking another thread costs ~5-20 us, more than they take.
#pragma once
#include <algorithm>
#include <cstdint>

#include "pool.h"

namespace tslm {

/** Threads the kernels may use. */
inline int max_threads() { return pool_threads(); }

/**
 * Rough element operations below which a job stays on the calling thread
 * (~0.3 ms of work): memory-bound ops gain little from a second core, and on a
 * busy machine waiting for a preempted helper costs more than it saves.
 */
constexpr int64_t kMinParallelWork = 1 << 20;

/**
 * Calls fn(begin, end) over [0, n) in contiguous chunks spread over the pool.
 * cost_per_item is the rough number of element operations one item takes.
 * Chunk boundaries depend only on n and the cost, never on timing, so
 * kernels that reduce per chunk give the same bits on every run.
 */
template <typename F>
inline void parallel_for(int64_t n, int64_t cost_per_item, F&& fn) {
  if (n <= 0) return;
  const int64_t work = n * std::max<int64_t>(1, cost_per_item);
  // While the machine is busy, only jobs big enough (~5 ms) to amortize a stalled helper go parallel.
  if (pool_threads() <= 1 || n < 2 || work < kMinParallelWork || (work < 16 * kMinParallelWork && pool_contended())) {
    fn(int64_t{0}, n);
    return;
  }
  // About 8 chunks (4 per thread on 2 cores, fine-grained enough to rebalance
  // when a core is busy elsewhere), each worth at least half the threshold.
  const int64_t chunks = std::min<int64_t>({n, int64_t{8}, std::max<int64_t>(1, work / (kMinParallelWork / 2))});
  const int64_t size = (n + chunks - 1) / chunks;
  const int64_t count = (n + size - 1) / size;
  pool_run(count, [&](int64_t c, int) {
    const int64_t b = c * size, e = std::min(n, b + size);
    fn(b, e);
  });
}

}  // namespace tslm
