// Layout kernels: strided copies (slice, concat, transpose, split), casts and
// reductions over a contiguous block of axes. TF.js's wasm Slice copies the
// whole input to JavaScript first and Identity copies; these work in place on
// the heap with the OpenMP pool.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "layout.h"
#include "parallel.h"

namespace tslm {
namespace {

constexpr int kMaxRank = 8;

struct Strided {
  int rank = 0;
  int64_t shape[kMaxRank], src[kMaxRank], dst[kMaxRank];
};

/** Drops size-1 axes and merges axes that are contiguous in both source and destination. */
Strided collapse(int rank, const int64_t* shape, const int64_t* src, const int64_t* dst) {
  Strided s;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 1) continue;
    if (s.rank > 0) {
      int j = s.rank - 1;
      if (s.src[j] == src[i] * shape[i] && s.dst[j] == dst[i] * shape[i]) {
        s.shape[j] *= shape[i];
        s.src[j] = src[i], s.dst[j] = dst[i];
        continue;
      }
    }
    s.shape[s.rank] = shape[i], s.src[s.rank] = src[i], s.dst[s.rank] = dst[i];
    s.rank++;
  }
  if (s.rank == 0) s.rank = 1, s.shape[0] = 1, s.src[0] = 1, s.dst[0] = 1;
  return s;
}

template <typename T>
void copy_strided(const T* src, T* dst, const Strided& s) {
  const int r = s.rank;
  const int64_t n = s.shape[r - 1], ss = s.src[r - 1], ds = s.dst[r - 1];
  int64_t rows = 1;
  for (int i = 0; i < r - 1; i++) rows *= s.shape[i];
  parallel_for(rows, n, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; row++) {
      int64_t so = 0, dO = 0, rem = row;
      for (int i = r - 2; i >= 0; i--) {
        int64_t idx = rem % s.shape[i];
        rem /= s.shape[i];
        so += idx * s.src[i], dO += idx * s.dst[i];
      }
      const T* a = src + so;
      T* b = dst + dO;
      if (ss == 1 && ds == 1) {
        std::memcpy(b, a, sizeof(T) * n);
      } else {
        for (int64_t j = 0; j < n; j++) b[j * ds] = a[j * ss];
      }
    }
  });
}

// copy(heap, srcOff, dstOff, elemBytes, desc Float64Array [rank, shape..., srcStrides..., dstStrides...])
void k_copy(napi_env, const Args& a) {
  size_t len, dlen;
  uint8_t* heap = a.buffer(0, &len);
  int64_t eb = a.i64(3);
  const double* d = reinterpret_cast<const double*>(a.buffer(4, &dlen));
  int rank = static_cast<int>(d[0]);
  if (rank < 1 || rank > kMaxRank || dlen < (1 + 3 * static_cast<size_t>(rank)) * 8) a.fail("bad copy descriptor");
  int64_t shape[kMaxRank], ss[kMaxRank], ds[kMaxRank];
  int64_t smax = 0, dmax = 0, total = 1;
  for (int i = 0; i < rank; i++) {
    shape[i] = static_cast<int64_t>(d[1 + i]);
    ss[i] = static_cast<int64_t>(d[1 + rank + i]);
    ds[i] = static_cast<int64_t>(d[1 + 2 * rank + i]);
    if (shape[i] < 0 || ss[i] < 0 || ds[i] < 0) a.fail("negative shape or stride");
    total *= shape[i];
    smax += (shape[i] - 1) * ss[i], dmax += (shape[i] - 1) * ds[i];
  }
  if (total == 0) return;
  Strided s = collapse(rank, shape, ss, ds);
  if (eb == 4) {
    copy_strided(a.at<int32_t>(heap, len, 1, smax + 1), a.at<int32_t>(heap, len, 2, dmax + 1), s);
  } else if (eb == 1) {
    copy_strided(a.at<uint8_t>(heap, len, 1, smax + 1), a.at<uint8_t>(heap, len, 2, dmax + 1), s);
  } else {
    a.fail("element size must be 1 or 4 bytes");
  }
}

enum Dtype { kF32 = 0, kI32 = 1, kBool = 2 };

template <typename S, typename D, typename F>
void cast_loop(const S* s, D* d, int64_t n, F f) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; i++) d[i] = f(s[i]);
  });
}

// cast(heap, srcOff, dstOff, n, fromDtype, toDtype)
void k_cast(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(3);
  int from = static_cast<int>(a.i64(4)), to = static_cast<int>(a.i64(5));
  auto width = [](int t) { return t == kBool ? 1 : 4; };
  uint8_t* s = a.at<uint8_t>(heap, len, 1, n * width(from));
  uint8_t* d = a.at<uint8_t>(heap, len, 2, n * width(to));
  auto f32 = [](uint8_t* p) { return reinterpret_cast<float*>(p); };
  auto i32 = [](uint8_t* p) { return reinterpret_cast<int32_t*>(p); };
  if (from == kF32 && to == kI32) return cast_loop(f32(s), i32(d), n, [](float v) { return static_cast<int32_t>(v); });
  if (from == kI32 && to == kF32) return cast_loop(i32(s), f32(d), n, [](int32_t v) { return static_cast<float>(v); });
  if (from == kBool && to == kF32) return cast_loop(s, f32(d), n, [](uint8_t v) { return v ? 1.0f : 0.0f; });
  if (from == kBool && to == kI32) return cast_loop(s, i32(d), n, [](uint8_t v) { return v ? 1 : 0; });
  if (from == kF32 && to == kBool) return cast_loop(f32(s), d, n, [](float v) { return static_cast<uint8_t>(v != 0); });
  if (from == kI32 && to == kBool) return cast_loop(i32(s), d, n, [](int32_t v) { return static_cast<uint8_t>(v != 0); });
  a.fail("unsupported cast " + std::to_string(from) + " -> " + std::to_string(to));
}

enum ReduceOp { kSum = 0, kMean = 1, kMax = 2, kMin = 3 };

template <int Op>
inline float combine(float acc, float v) {
  if constexpr (Op == kMax) return (v > acc || v != v) ? v : acc;
  if constexpr (Op == kMin) return (v < acc || v != v) ? v : acc;
  return acc + v;
}

template <int Op>
void reduce(const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
  const float init = Op == kMax ? -__builtin_inff() : (Op == kMin ? __builtin_inff() : 0.0f);
  const float scale = Op == kMean ? 1.0f / static_cast<float>(r) : 1.0f;
  if (inner == 1) {
    parallel_for(outer, r, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; o++) {
        const float* row = x + o * r;
        float acc = init;
        if constexpr (Op == kSum || Op == kMean) {
#pragma omp simd reduction(+ : acc)
          for (int64_t j = 0; j < r; j++) acc += row[j];
        } else {
          for (int64_t j = 0; j < r; j++) acc = combine<Op>(acc, row[j]);
        }
        y[o] = acc * scale;
      }
    });
    return;
  }
  // Threads take disjoint column blocks of each [r, inner] slab.
  const int64_t cols = std::max<int64_t>(1, std::min<int64_t>(inner, 1024));
  const int64_t blocks = (inner + cols - 1) / cols;
  parallel_for(outer * blocks, r * cols, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; w++) {
      int64_t o = w / blocks, c0 = (w % blocks) * cols, c1 = std::min(inner, c0 + cols);
      float* out = y + o * inner;
      for (int64_t c = c0; c < c1; c++) out[c] = init;
      for (int64_t j = 0; j < r; j++) {
        const float* row = x + (o * r + j) * inner;
#pragma omp simd
        for (int64_t c = c0; c < c1; c++) out[c] = combine<Op>(out[c], row[c]);
      }
      if (Op == kMean)
        for (int64_t c = c0; c < c1; c++) out[c] *= scale;
    }
  });
}

// reduce(heap, op, xOff, outOff, outer, r, inner)
void k_reduce(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int op = static_cast<int>(a.i64(1));
  int64_t outer = a.i64(4), r = a.i64(5), inner = a.i64(6);
  if (outer < 0 || r < 1 || inner < 0) a.fail("bad reduction sizes");
  const float* x = a.at<float>(heap, len, 2, outer * r * inner);
  float* y = a.at<float>(heap, len, 3, outer * inner);
  switch (op) {
    case kSum: return reduce<kSum>(x, y, outer, r, inner);
    case kMean: return reduce<kMean>(x, y, outer, r, inner);
    case kMax: return reduce<kMax>(x, y, outer, r, inner);
    case kMin: return reduce<kMin>(x, y, outer, r, inner);
    default: a.fail("unknown reduction " + std::to_string(op));
  }
}

}  // namespace

std::vector<Export> layout_exports() {
  return {{"copy", wrap<k_copy>}, {"cast", wrap<k_cast>}, {"reduce", wrap<k_reduce>}};
}

}  // namespace tslm
