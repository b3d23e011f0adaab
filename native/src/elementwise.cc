// Multi-threaded float32 elementwise kernels: broadcasting binary ops, unary
// ops and row softmax. TF.js's wasm kernels for these run on one thread;
// these split rows over the OpenMP pool and use AVX2.
#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "parallel.h"
#include "vmath.h"

namespace tslm {
namespace {

enum BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kPrelu, kNumBinary };

template <int Op>
inline float bin(float a, float b) {
  if constexpr (Op == kAdd) return a + b;
  if constexpr (Op == kSub) return a - b;
  if constexpr (Op == kMul) return a * b;
  if constexpr (Op == kDiv) return a / b;
  // NaN in either operand gives NaN, as TF.js's maximum/minimum do.
  if constexpr (Op == kMax) return (a != a || b != b) ? a + b : (a > b ? a : b);
  if constexpr (Op == kMin) return (a != a || b != b) ? a + b : (a < b ? a : b);
  if constexpr (Op == kSquaredDiff) return (a - b) * (a - b);
  if constexpr (Op == kPrelu) return a < 0 ? a * b : a;
  return 0;
}

constexpr int kMaxRank = 8;

/** Output shape and per-input element strides (0 on broadcast axes), collapsed. */
struct Broadcast {
  int rank = 0;
  int64_t out[kMaxRank], sa[kMaxRank], sb[kMaxRank];
};

Broadcast plan(const int32_t* as, int ra, const int32_t* bs, int rb, const Args& args) {
  int r = std::max(ra, rb);
  if (r > kMaxRank) args.fail("rank " + std::to_string(r) + " exceeds " + std::to_string(kMaxRank));
  int64_t od[kMaxRank], ad[kMaxRank], bd[kMaxRank];
  for (int i = 0; i < r; i++) {
    int ia = i - (r - ra), ib = i - (r - rb);
    ad[i] = ia >= 0 ? as[ia] : 1;
    bd[i] = ib >= 0 ? bs[ib] : 1;
    if (ad[i] != bd[i] && ad[i] != 1 && bd[i] != 1) args.fail("shapes do not broadcast");
    od[i] = ad[i] == 1 ? bd[i] : ad[i];
  }
  int64_t sa[kMaxRank], sb[kMaxRank], acc_a = 1, acc_b = 1;
  for (int i = r; i-- > 0;) {
    sa[i] = ad[i] == 1 ? 0 : acc_a;
    sb[i] = bd[i] == 1 ? 0 : acc_b;
    acc_a *= ad[i], acc_b *= bd[i];
  }
  Broadcast p;
  for (int i = 0; i < r; i++) {
    if (od[i] == 1) continue;
    if (p.rank > 0) {
      int j = p.rank - 1;
      // Merge with the previous axis when both inputs continue contiguously (or both broadcast).
      if (p.sa[j] == sa[i] * od[i] && p.sb[j] == sb[i] * od[i]) {
        p.out[j] *= od[i];
        p.sa[j] = sa[i], p.sb[j] = sb[i];
        continue;
      }
    }
    p.out[p.rank] = od[i], p.sa[p.rank] = sa[i], p.sb[p.rank] = sb[i];
    p.rank++;
  }
  if (p.rank == 0) {
    p.rank = 1, p.out[0] = 1, p.sa[0] = 0, p.sb[0] = 0;
  }
  return p;
}

template <int Op>
void inner(const float* a, const float* b, float* o, int64_t n, int64_t sa, int64_t sb) {
  if (sa == 1 && sb == 1) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = bin<Op>(a[i], b[i]);
  } else if (sa == 1) {
    const float bv = b[0];
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = bin<Op>(a[i], bv);
  } else if (sb == 1) {
    const float av = a[0];
#pragma omp simd
    for (int64_t i = 0; i < n; i++) o[i] = bin<Op>(av, b[i]);
  } else {
    const float v = bin<Op>(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) o[i] = v;
  }
}

template <int Op>
void run_binary(const float* a, const float* b, float* o, const Broadcast& p) {
  const int r = p.rank;
  const int64_t n = p.out[r - 1];
  int64_t rows = 1;
  for (int i = 0; i < r - 1; i++) rows *= p.out[i];
  // Work items are (row, chunk of the inner axis) so a single huge row still splits.
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(n / 8192, (16 + rows - 1) / rows));
  const int64_t chunk = (n + chunks - 1) / chunks;
  parallel_for(rows * chunks, chunk, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; w++) {
      int64_t row = w / chunks, c = w % chunks;
      int64_t oa = 0, ob = 0, rem = row;
      for (int i = r - 2; i >= 0; i--) {
        int64_t idx = rem % p.out[i];
        rem /= p.out[i];
        oa += idx * p.sa[i], ob += idx * p.sb[i];
      }
      int64_t c0 = c * chunk, c1 = std::min(n, c0 + chunk);
      if (c0 >= c1) continue;
      inner<Op>(a + oa + c0 * p.sa[r - 1], b + ob + c0 * p.sb[r - 1], o + row * n + c0, c1 - c0, p.sa[r - 1],
                p.sb[r - 1]);
    }
  });
}

using BinaryFn = void (*)(const float*, const float*, float*, const Broadcast&);
const BinaryFn kBinary[kNumBinary] = {run_binary<kAdd>, run_binary<kSub>,         run_binary<kMul>,
                                      run_binary<kDiv>, run_binary<kMax>,         run_binary<kMin>,
                                      run_binary<kSquaredDiff>, run_binary<kPrelu>};

// binary(heap, op, aOff, bOff, outOff, shapes Int32Array [ra, a..., rb, b...])
void k_binary(napi_env, const Args& a) {
  size_t len, slen;
  uint8_t* heap = a.buffer(0, &len);
  int op = static_cast<int>(a.i64(1));
  if (op < 0 || op >= kNumBinary) a.fail("unknown binary op " + std::to_string(op));
  const int32_t* s = reinterpret_cast<const int32_t*>(a.buffer(5, &slen));
  int ra = s[0];
  const int32_t* as = s + 1;
  int rb = s[1 + ra];
  const int32_t* bs = s + 2 + ra;
  if (static_cast<size_t>(2 + ra + rb) * 4 > slen) a.fail("bad shape descriptor");
  Broadcast p = plan(as, ra, bs, rb, a);
  int64_t na = 1, nb = 1, no = 1;
  for (int i = 0; i < ra; i++) na *= as[i];
  for (int i = 0; i < rb; i++) nb *= bs[i];
  for (int i = 0; i < p.rank; i++) no *= p.out[i];
  if (no == 0) return;
  const float* pa = a.at<float>(heap, len, 2, na);
  const float* pb = a.at<float>(heap, len, 3, nb);
  float* po = a.at<float>(heap, len, 4, no);
  kBinary[op](pa, pb, po, p);
}

enum UnaryOp {
  kNeg, kExp, kLog, kSqrt, kRsqrt, kSquare, kAbs, kRelu, kRelu6, kElu, kSigmoid, kTanh, kLeakyRelu, kReciprocal,
  kNumUnary
};

template <int Op>
inline float unary1(float v, float alpha) {
  if constexpr (Op == kNeg) return -v;
  if constexpr (Op == kLog) return std::log(v);
  if constexpr (Op == kSqrt) return std::sqrt(v);
  if constexpr (Op == kRsqrt) return 1.0f / std::sqrt(v);
  if constexpr (Op == kSquare) return v * v;
  if constexpr (Op == kAbs) return std::fabs(v);
  if constexpr (Op == kRelu) return v < 0 ? 0.0f : v;  // NaN stays NaN (NaN < 0 is false)
  if constexpr (Op == kRelu6) return v < 0 ? 0.0f : (v > 6 ? 6.0f : v);
  if constexpr (Op == kLeakyRelu) return v < 0 ? v * alpha : v;
  if constexpr (Op == kReciprocal) return 1.0f / v;
  if constexpr (Op == kExp) return fast_exp(v);
  if constexpr (Op == kSigmoid) return fast_sigmoid(v);
  if constexpr (Op == kTanh) return fast_tanh(v);
  if constexpr (Op == kElu) return v < 0 ? fast_exp(v) - 1.0f : v;
  return 0;
}

template <int Op>
void unary_range(const float* x, float* y, int64_t n, float alpha) {
#ifdef __AVX2__
  if constexpr (Op == kExp) {
    return map_exp(x, y, n, 1.0f, 0.0f, [](__m256, __m256 e) { return e; }, [](float, float e) { return e; });
  }
  if constexpr (Op == kSigmoid) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return map_exp(
        x, y, n, -1.0f, 0.0f, [&](__m256, __m256 e) { return _mm256_div_ps(one, _mm256_add_ps(one, e)); },
        [](float, float e) { return 1.0f / (1.0f + e); });
  }
  if constexpr (Op == kElu) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    return map_exp(
        x, y, n, 1.0f, 0.0f,
        [&](__m256 v, __m256 e) { return _mm256_blendv_ps(v, _mm256_sub_ps(e, one), _mm256_cmp_ps(v, zero, _CMP_LT_OQ)); },
        [](float v, float e) { return v < 0 ? e - 1.0f : v; });
  }
  if constexpr (Op == kTanh) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f), sign = _mm256_set1_ps(-0.0f);
    for (; i + 8 <= n; i += 8) {
      __m256 v = _mm256_loadu_ps(x + i);
      __m256 ax = _mm256_andnot_ps(sign, v);
      __m256 e = exp8(_mm256_mul_ps(two, ax));
      __m256 t = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(e, one)));
      __m256 x2 = _mm256_mul_ps(v, v);
      __m256 ser = _mm256_fmadd_ps(x2, _mm256_set1_ps(-0.053968254f), _mm256_set1_ps(0.133333333f));
      ser = _mm256_fmadd_ps(x2, ser, _mm256_set1_ps(-0.333333333f));
      ser = _mm256_mul_ps(ax, _mm256_fmadd_ps(x2, ser, one));
      t = _mm256_blendv_ps(t, ser, _mm256_cmp_ps(ax, _mm256_set1_ps(0.125f), _CMP_LT_OQ));
      t = _mm256_or_ps(t, _mm256_and_ps(sign, v));  // copy the sign of x
      t = _mm256_blendv_ps(t, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      _mm256_storeu_ps(y + i, t);
    }
    for (; i < n; i++) y[i] = fast_tanh(x[i]);
    return;
  }
#endif
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = unary1<Op>(x[i], alpha);
}

template <int Op>
void run_unary(const float* x, float* y, int64_t n, float alpha) {
  parallel_for(n, 4, [&](int64_t b, int64_t e) { unary_range<Op>(x + b, y + b, e - b, alpha); });
}

using UnaryFn = void (*)(const float*, float*, int64_t, float);
const UnaryFn kUnary[kNumUnary] = {run_unary<kNeg>,     run_unary<kExp>,    run_unary<kLog>,       run_unary<kSqrt>,
                                   run_unary<kRsqrt>,   run_unary<kSquare>, run_unary<kAbs>,       run_unary<kRelu>,
                                   run_unary<kRelu6>,   run_unary<kElu>,    run_unary<kSigmoid>,   run_unary<kTanh>,
                                   run_unary<kLeakyRelu>, run_unary<kReciprocal>};

// unary(heap, op, xOff, outOff, n, alpha)
void k_unary(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int op = static_cast<int>(a.i64(1));
  if (op < 0 || op >= kNumUnary) a.fail("unknown unary op " + std::to_string(op));
  int64_t n = a.i64(4);
  const float* x = a.at<float>(heap, len, 2, n);
  float* y = a.at<float>(heap, len, 3, n);
  kUnary[op](x, y, n, static_cast<float>(a.num(5)));
}

// softmax(heap, xOff, outOff, rows, cols): softmax over the last axis.
void k_softmax(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t rows = a.i64(3), cols = a.i64(4);
  const float* x = a.at<float>(heap, len, 1, rows * cols);
  float* y = a.at<float>(heap, len, 2, rows * cols);
  parallel_for(rows, cols * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      float mx = -__builtin_inff();
      for (int64_t j = 0; j < cols; j++) mx = xr[j] > mx ? xr[j] : mx;
      if (mx == -__builtin_inff()) mx = 0;  // all -inf: exp gives 0s, then 0/0 = NaN as TF.js
      map_exp(xr, yr, cols, 1.0f, -mx, [](auto, auto e) { return e; }, [](float, float e) { return e; });
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < cols; j++) sum += yr[j];
      const float inv = 1.0f / sum;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
  });
}

}  // namespace

std::vector<Export> elementwise_exports() {
  return {{"binary", wrap<k_binary>}, {"unary", wrap<k_unary>}, {"softmax", wrap<k_softmax>}};
}

}  // namespace tslm
