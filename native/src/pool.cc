#include "pool.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TSLM_PAUSE() _mm_pause()
#else
#define TSLM_PAUSE() std::this_thread::yield()
#endif

namespace tslm {
namespace {

// True on pool threads and while a job runs on the caller: nested pool_run calls run inline.
thread_local bool inside_pool = false;

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      epoch_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  int threads() const { return wanted_; }

  void set_threads(int n) {
    std::lock_guard<std::mutex> run(run_mu_);
    wanted_ = n < 1 ? 1 : n;
  }

  void run(int64_t chunks, const std::function<void(int64_t, int)>& fn) {
    if (chunks <= 0) return;
    std::lock_guard<std::mutex> run(run_mu_);  // one job at a time (JS is single-threaded; this is a guard)
    if (wanted_ <= 1 || chunks == 1) {
      for (int64_t c = 0; c < chunks; c++) fn(c, 0);
      return;
    }
    while (static_cast<int>(threads_.size()) < wanted_ - 1) {
      int id = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, id] { loop(id); });
    }
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      total_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      open_ = true;
      error_ = nullptr;
      active_limit_ = wanted_ - 1;
      epoch_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) cv_.notify_all();
    const auto t0 = std::chrono::steady_clock::now();
    work(0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = false;  // late workers see a closed job and go back to waiting
    }
    const auto t1 = std::chrono::steady_clock::now();
    while (inflight_.load(std::memory_order_acquire) > 0) TSLM_PAUSE();
    const auto t2 = std::chrono::steady_clock::now();
    // A helper preempted in the middle of a chunk makes the caller wait for it:
    // count jobs where that wait was long, so small jobs stay inline while the
    // machine is busy.
    const double own = std::chrono::duration<double>(t1 - t0).count();
    const double waited = std::chrono::duration<double>(t2 - t1).count();
    if (waited > 1e-4 && waited > own) {
      contention_.store(std::min(contention_.load() + 4, 64));
    } else if (contention_.load() > 0) {
      contention_.fetch_sub(1);
    }
    if (error_) std::rethrow_exception(error_);
  }

  bool contended() {
    // Every 16th call goes parallel anyway, to notice when the machine is free again.
    if (contention_.load(std::memory_order_relaxed) < 8) return false;
    return (probe_.fetch_add(1, std::memory_order_relaxed) & 15) != 0;
  }

 private:
  void work(int id) {
    int64_t c;
    while ((c = next_.fetch_add(1, std::memory_order_relaxed)) < total_) {
      try {
        (*fn_)(c, id);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void loop(int id) {
    // Kernels called from these threads (oneDNN's sgemm in attention) run single-threaded.
    omp_set_num_threads(1);
    inside_pool = true;
    uint64_t seen = epoch_.load();
    for (;;) {
      // Spin briefly: consecutive kernels of a training step arrive tens of microseconds apart.
      for (int i = 0; i < 4000 && epoch_.load(std::memory_order_acquire) == seen; i++) TSLM_PAUSE();
      std::unique_lock<std::mutex> lock(mu_);
      if (epoch_.load() == seen && !stop_) {
        sleepers_++;
        cv_.wait(lock, [&] { return epoch_.load() != seen || stop_; });
        sleepers_--;
      }
      if (stop_) return;
      seen = epoch_.load();
      if (!open_ || id > active_limit_) continue;
      inflight_.fetch_add(1, std::memory_order_acq_rel);
      lock.unlock();
      work(id);
      inflight_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  int wanted_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> inflight_{0};
  std::atomic<int> contention_{0};
  std::atomic<uint32_t> probe_{0};
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  int64_t total_ = 0;
  int active_limit_ = 0;
  int sleepers_ = 0;
  bool open_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: worker threads must outlive static destructors
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }
bool pool_contended() { return pool().contended(); }
void set_pool_threads(int n) { pool().set_threads(n); }

void pool_run(int64_t chunks, const std::function<void(int64_t, int)>& fn) {
  // Work submitted from inside a chunk (a kernel calling another) runs inline.
  if (inside_pool) {
    for (int64_t c = 0; c < chunks; c++) fn(c, 0);
    return;
  }
  // The caller's oneDNN calls inside chunks must not open a second team either.
  const int omp = omp_get_max_threads();
  omp_set_num_threads(1);
  inside_pool = true;
  struct Restore {
    int omp;
    ~Restore() {
      inside_pool = false;
      omp_set_num_threads(omp);
    }
  } restore{omp};
  pool().run(chunks, fn);
}

}  // namespace tslm
