// Vectorizable float math (the compiler turns the loops that call these into
// AVX2 code; libm's expf would stay scalar without -ffast-math).
#pragma once
#include <cstdint>
#include <cstring>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace tslm {

inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

/**
 * exp(x) with ~1-2 ulp error over the float range: 2^n * p(r), r = x - n ln2
 * in [-ln2/2, ln2/2], p a degree-6 Taylor polynomial (Cephes-style). Below
 * -87.3 it returns 0 (as expf underflows), above 88.7 +inf, NaN stays NaN.
 */
inline float fast_exp(float x) {
  const float hi = 88.72283905206835f, lo = -87.33654475055310f;
  float xc = x > hi ? hi : (x < lo ? lo : x);
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float t = xc * 1.44269504088896341f + shifter;
  int32_t n = float_to_bits(t) - float_to_bits(shifter);
  float fn = t - shifter;
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  // 2^n split in two factors so n = 128 (x near the top) does not overflow the exponent.
  int32_t n1 = n >> 1, n2 = n - n1;
  float y = p * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
  y = x > hi ? __builtin_inff() : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

/** tanh(x) = 1 - 2 / (exp(2x) + 1), exact enough away from 0; near 0 a series keeps relative accuracy. */
inline float fast_tanh(float x) {
  float ax = x < 0 ? -x : x;
  float e = fast_exp(2.0f * ax);
  float t = 1.0f - 2.0f / (e + 1.0f);
  float x2 = x * x;
  float small = ax * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.053968254f)));
  t = ax < 0.125f ? small : t;
  t = x < 0 ? -t : t;
  return x != x ? x : t;
}

#ifdef __AVX2__
/** Eight lanes of fast_exp (same constants and edge cases). */
inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.72283905206835f), lo = _mm256_set1_ps(-87.33654475055310f);
  const __m256 shifter = _mm256_set1_ps(12582912.0f);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f), shifter);
  __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(shifter));
  __m256 fn = _mm256_sub_ps(t, shifter);
  __m256 r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
  __m256i n1 = _mm256_srai_epi32(n, 1), n2 = _mm256_sub_epi32(n, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
#endif

/**
 * y[i] = f(exp(a * x[i] + b)) over an array, eight lanes at a time where
 * AVX2 is available. `post` maps (x, e) -> result for one lane group.
 */
template <typename Post8, typename Post1>
inline void map_exp(const float* x, float* y, int64_t n, float a, float b, Post8 post8, Post1 post1) {
  int64_t i = 0;
#ifdef __AVX2__
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(y + i, post8(v, exp8(_mm256_fmadd_ps(v, va, vb))));
  }
#endif
  for (; i < n; i++) y[i] = post1(x[i], fast_exp(a * x[i] + b));
}

}  // namespace tslm
