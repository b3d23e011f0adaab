// A small thread pool for the elementwise and fused kernels.
//
// Why not OpenMP for these: on a shared 2-core machine, an OpenMP region ends
// in a barrier that waits for every team thread, so when another process
// holds the second core a 50 us kernel waits a whole scheduler slice
// (measured ~3 ms per region under load). Here work is split into chunks that
// threads claim; the caller works through the chunks itself and waits only
// for chunks a worker has actually started, never for a worker that has not
// woken up yet. oneDNN's matmuls keep their own OpenMP threads.
#pragma once
#include <cstdint>
#include <functional>

namespace tslm {

/** Number of threads (the caller included) that may run chunks. */
int pool_threads();

/**
 * True while recent jobs found a helper preempted mid-chunk (another process
 * holds the other core): callers then keep small jobs on their own thread.
 */
bool pool_contended();

/** Sets the thread count (>= 1); threads are created lazily. */
void set_pool_threads(int n);

/**
 * Runs fn(chunk, thread) for every chunk in [0, chunks), spread over the
 * pool; returns when all are done. `thread` is in [0, pool_threads()) and
 * unique among chunks running at the same time (for per-thread scratch).
 * Exceptions thrown by fn are rethrown here (the first one).
 */
void pool_run(int64_t chunks, const std::function<void(int64_t chunk, int thread)>& fn);

}  // namespace tslm
