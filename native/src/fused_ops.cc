// Fused forward/backward kernels for the decoder's hot blocks: RMSNorm,
// SwiGLU, rotary embedding, scaled dot-product attention and the per-row
// cross-entropy. Each replaces a chain of 5-15 TF.js ops (and the tensors
// the tape would keep for them) with one pass over memory.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fused_ops.h"
#include "matmul.h"
#include "parallel.h"
#include "vmath.h"

namespace tslm {
namespace {

// ---- RMSNorm: y = w * x * r, r = 1 / sqrt(mean(x^2) + eps), over rows of width d ----

// rmsNorm(heap, x, w, y, rstd, rows, d, eps)
void k_rmsnorm(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t rows = a.i64(5), d = a.i64(6);
  float eps = static_cast<float>(a.num(7));
  const float* x = a.at<float>(heap, len, 1, rows * d);
  const float* w = a.at<float>(heap, len, 2, d);
  float* y = a.at<float>(heap, len, 3, rows * d);
  float* rstd = a.at<float>(heap, len, 4, rows);
  parallel_for(rows, 3 * d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * d;
      float ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < d; j++) ss += xr[j] * xr[j];
      float rs = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
      rstd[r] = rs;
      float* yr = y + r * d;
#pragma omp simd
      for (int64_t j = 0; j < d; j++) yr[j] = xr[j] * rs * w[j];
    }
  });
}

// rmsNormGrad(heap, dy, x, w, rstd, dx, dw, rows, d)
//   g = dy * w;  dx = r * g - x * r^3 * mean(g * x);  dw = sum_rows dy * x * r
void k_rmsnorm_grad(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t rows = a.i64(7), d = a.i64(8);
  const float* dy = a.at<float>(heap, len, 1, rows * d);
  const float* x = a.at<float>(heap, len, 2, rows * d);
  const float* w = a.at<float>(heap, len, 3, d);
  const float* rstd = a.at<float>(heap, len, 4, rows);
  float* dx = a.at<float>(heap, len, 5, rows * d);
  float* dw = a.at<float>(heap, len, 6, d);
  // Fixed chunks of rows, each with its own dw partial, summed in chunk order:
  // the same bits whatever the thread count or timing.
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(rows, rows * d * 4 < kMinParallelWork ? 1 : 8));
  const int64_t per = (rows + chunks - 1) / chunks;
  std::vector<float> partial(static_cast<size_t>(chunks * d), 0.0f);
  pool_run(chunks, [&](int64_t c, int) {
    const int64_t r0 = c * per, r1 = std::min(rows, r0 + per);
    float* pw = partial.data() + c * d;
    for (int64_t r = r0; r < r1; r++) {
      const float *dyr = dy + r * d, *xr = x + r * d;
      const float rs = rstd[r];
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < d; j++) dot += dyr[j] * w[j] * xr[j];
      const float cc = rs * rs * rs * dot / static_cast<float>(d);
      float* dxr = dx + r * d;
#pragma omp simd
      for (int64_t j = 0; j < d; j++) {
        dxr[j] = rs * dyr[j] * w[j] - cc * xr[j];
        pw[j] += dyr[j] * xr[j] * rs;
      }
    }
  });
  for (int64_t j = 0; j < d; j++) {
    float s = 0;
    for (int64_t c = 0; c < chunks; c++) s += partial[static_cast<size_t>(c * d + j)];
    dw[j] = s;
  }
}

// ---- SwiGLU: y = silu(g) * u ----

// swiglu(heap, g, u, y, n)
void k_swiglu(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(4);
  const float* g = a.at<float>(heap, len, 1, n);
  const float* u = a.at<float>(heap, len, 2, n);
  float* y = a.at<float>(heap, len, 3, n);
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    // y = g * sigmoid(g) * u, with sigmoid from the vectorized exp
    map_exp(g + b, y + b, e - b, -1.0f, 0.0f,
#ifdef __AVX2__
            [](__m256 gv, __m256 ex) { return _mm256_div_ps(gv, _mm256_add_ps(_mm256_set1_ps(1.0f), ex)); },
#else
            [](auto gv, auto ex) { return gv / (1.0f + ex); },
#endif
            [](float gv, float ex) { return gv / (1.0f + ex); });
#pragma omp simd
    for (int64_t i = b; i < e; i++) y[i] *= u[i];
  });
}

// swigluGrad(heap, dy, g, u, dg, du, n): s = sigmoid(g); du = dy * g * s; dg = dy * u * s * (1 + g * (1 - s))
void k_swiglu_grad(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(6);
  const float* dy = a.at<float>(heap, len, 1, n);
  const float* g = a.at<float>(heap, len, 2, n);
  const float* u = a.at<float>(heap, len, 3, n);
  float* dg = a.at<float>(heap, len, 4, n);
  float* du = a.at<float>(heap, len, 5, n);
  parallel_for(n, 12, [&](int64_t b, int64_t e) {
    // dg temporarily holds sigmoid(g)
    map_exp(g + b, dg + b, e - b, -1.0f, 0.0f,
#ifdef __AVX2__
            [](__m256, __m256 ex) { return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), ex)); },
#else
            [](auto, auto ex) { return 1.0f / (1.0f + ex); },
#endif
            [](float, float ex) { return 1.0f / (1.0f + ex); });
#pragma omp simd
    for (int64_t i = b; i < e; i++) {
      float s = dg[i], gi = g[i], d = dy[i];
      du[i] = d * gi * s;
      dg[i] = d * u[i] * s * (1.0f + gi * (1.0f - s));
    }
  });
}

// ---- Rotary embedding (rotate_half): y = x * cos + rotate_half(x) * sin ----
// x [outer, t, hd] (outer = B * heads), cos/sin [t, hd]. rotate_half(x) = [-x2, x1].
// inverse = true applies the transposed rotation (the gradient): [x2, -x1] on sin.

// rotary(heap, x, cos, sin, y, outer, t, hd, inverse)
void k_rotary(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t outer = a.i64(5), t = a.i64(6), hd = a.i64(7);
  bool inverse = a.flag(8);
  if (hd % 2 != 0) a.fail("head width must be even");
  const float* x = a.at<float>(heap, len, 1, outer * t * hd);
  const float* cs = a.at<float>(heap, len, 2, t * hd);
  const float* sn = a.at<float>(heap, len, 3, t * hd);
  float* y = a.at<float>(heap, len, 4, outer * t * hd);
  const int64_t h = hd / 2;
  parallel_for(outer * t, hd * 2, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t p = r % t;
      const float *xr = x + r * hd, *c = cs + p * hd, *s = sn + p * hd;
      float* yr = y + r * hd;
      if (!inverse) {
#pragma omp simd
        for (int64_t j = 0; j < h; j++) {
          float x1 = xr[j], x2 = xr[j + h];
          yr[j] = x1 * c[j] - x2 * s[j];
          yr[j + h] = x2 * c[j + h] + x1 * s[j + h];
        }
      } else {
#pragma omp simd
        for (int64_t j = 0; j < h; j++) {
          float d1 = xr[j], d2 = xr[j + h];
          yr[j] = d1 * c[j] + d2 * s[j + h];
          yr[j + h] = d2 * c[j + h] - d1 * s[j];
        }
      }
    }
  });
}

// ---- Attention: o = softmax(q k^T * scale + mask) v per (batch, group) ----
// q [bg, m, hd], k [bg, n, hd], v [bg, n, hv], mask [m, n] or none, p [bg, m, n] saved.

void softmax_row(float* row, int64_t n) {
  float mx = -__builtin_inff();
  for (int64_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
  if (mx == -__builtin_inff()) mx = 0;
  map_exp(row, row, n, 1.0f, -mx, [](auto, auto e) { return e; }, [](float, float e) { return e; });
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; j++) sum += row[j];
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; j++) row[j] *= inv;
}


// The two products of each pass run as batched oneDNN matmuls (all heads in
// one call, OpenMP inside: measured 3-4x per-head sgemm calls for 128x128x64
// heads); the row-wise softmax steps in between run on the pool.

thread_local std::vector<float> attention_scratch;

// attention(heap, q, k, v, mask (or -1), o, p, bg, m, n, hd, hv, scale)
void k_attention(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t bg = a.i64(7), m = a.i64(8), n = a.i64(9), hd = a.i64(10), hv = a.i64(11);
  float scale = static_cast<float>(a.num(12));
  const float* q = a.at<float>(heap, len, 1, bg * m * hd);
  const float* k = a.at<float>(heap, len, 2, bg * n * hd);
  const float* v = a.at<float>(heap, len, 3, bg * n * hv);
  const float* mask = !a.present(4) ? nullptr : a.at<float>(heap, len, 4, m * n);
  float* o = a.at<float>(heap, len, 5, bg * m * hv);
  float* p = a.at<float>(heap, len, 6, bg * m * n);
  const int64_t batch[1] = {bg};
  matmul(q, k, p, 1, batch, batch, m, n, hd, false, true, false);  // S = q k^T  [bg, m, n]
  parallel_for(bg * m, n * 12, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* row = p + r * n;
      const float* mr = mask ? mask + (r % m) * n : nullptr;
      if (mr) {
#pragma omp simd
        for (int64_t j = 0; j < n; j++) row[j] = row[j] * scale + mr[j];
      } else if (scale != 1.0f) {
#pragma omp simd
        for (int64_t j = 0; j < n; j++) row[j] *= scale;
      }
      softmax_row(row, n);
    }
  });
  matmul(p, v, o, 1, batch, batch, m, hv, n, false, false, false);  // O = P v  [bg, m, hv]
}

// attentionGrad(heap, do, q, k, v, p, dq, dk, dv, bg, m, n, hd, hv, scale)
//   dP = dO v^T;  dS = P * (dP - rowsum(dP * P)) * scale;  dq = dS k;  dk = dS^T q;  dv = P^T dO
void k_attention_grad(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t bg = a.i64(9), m = a.i64(10), n = a.i64(11), hd = a.i64(12), hv = a.i64(13);
  float scale = static_cast<float>(a.num(14));
  const float* dout = a.at<float>(heap, len, 1, bg * m * hv);
  const float* q = a.at<float>(heap, len, 2, bg * m * hd);
  const float* k = a.at<float>(heap, len, 3, bg * n * hd);
  const float* v = a.at<float>(heap, len, 4, bg * n * hv);
  const float* p = a.at<float>(heap, len, 5, bg * m * n);
  float* dq = a.at<float>(heap, len, 6, bg * m * hd);
  float* dk = a.at<float>(heap, len, 7, bg * n * hd);
  float* dv = a.at<float>(heap, len, 8, bg * n * hv);
  std::vector<float>& ds = attention_scratch;
  if (ds.size() < static_cast<size_t>(bg * m * n)) ds.resize(static_cast<size_t>(bg * m * n));
  const int64_t batch[1] = {bg};
  matmul(dout, v, ds.data(), 1, batch, batch, m, n, hv, false, true, false);  // dP = dO v^T  [bg, m, n]
  parallel_for(bg * m, n * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* dr = ds.data() + r * n;
      const float* pr = p + r * n;
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < n; j++) dot += dr[j] * pr[j];
#pragma omp simd
      for (int64_t j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
    }
  });
  matmul(ds.data(), k, dq, 1, batch, batch, m, hd, n, false, false, false);  // dq = dS k      [bg, m, hd]
  matmul(ds.data(), q, dk, 1, batch, batch, n, hd, m, true, false, false);   // dk = dS^T q    [bg, n, hd]
  matmul(p, dout, dv, 1, batch, batch, n, hv, m, true, false, false);        // dv = P^T dO    [bg, n, hv]
}

// ---- Cross-entropy rows: nll[r] = logsumexp(x[r]) - x[r, label[r]] ----

// nllRows(heap, x, labels, nll, lse, rows, v)
void k_nll(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t rows = a.i64(5), vocab = a.i64(6);
  const float* x = a.at<float>(heap, len, 1, rows * vocab);
  const int32_t* labels = a.at<int32_t>(heap, len, 2, rows);
  float* nll = a.at<float>(heap, len, 3, rows);
  float* lse = a.at<float>(heap, len, 4, rows);
  bool bad = false;
  parallel_for(rows, vocab * 3, [&](int64_t r0, int64_t r1) {
    std::vector<float> tmp(static_cast<size_t>(vocab));
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * vocab;
      float mx = -__builtin_inff();
      for (int64_t j = 0; j < vocab; j++) mx = xr[j] > mx ? xr[j] : mx;
      map_exp(xr, tmp.data(), vocab, 1.0f, -mx, [](auto, auto e) { return e; }, [](float, float e) { return e; });
      double sum = 0;
      for (int64_t j = 0; j < vocab; j++) sum += tmp[j];
      float l = mx + static_cast<float>(std::log(sum));
      lse[r] = l;
      int32_t lab = labels[r];
      if (lab < 0 || lab >= vocab) {
        bad = true;
        nll[r] = 0;
      } else {
        nll[r] = l - xr[lab];
      }
    }
  });
  if (bad) a.fail("a label is outside [0, vocab)");
}

// nllRowsGrad(heap, x, labels, lse, dnll, dx, rows, v): dx = (exp(x - lse) - onehot(label)) * dnll
void k_nll_grad(napi_env, const Args& a) {
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t rows = a.i64(6), vocab = a.i64(7);
  const float* x = a.at<float>(heap, len, 1, rows * vocab);
  const int32_t* labels = a.at<int32_t>(heap, len, 2, rows);
  const float* lse = a.at<float>(heap, len, 3, rows);
  const float* dn = a.at<float>(heap, len, 4, rows);
  float* dx = a.at<float>(heap, len, 5, rows * vocab);
  parallel_for(rows, vocab * 2, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float g = dn[r];
      float* dr = dx + r * vocab;
      map_exp(x + r * vocab, dr, vocab, 1.0f, -lse[r], [](auto, auto e) { return e; }, [](float, float e) { return e; });
#pragma omp simd
      for (int64_t j = 0; j < vocab; j++) dr[j] *= g;
      int32_t lab = labels[r];
      if (lab >= 0 && lab < vocab) dr[lab] -= g;
    }
  });
}

}  // namespace

std::vector<Export> fused_exports() {
  return {{"rmsNorm", wrap<k_rmsnorm>},       {"rmsNormGrad", wrap<k_rmsnorm_grad>},
          {"swiglu", wrap<k_swiglu>},         {"swigluGrad", wrap<k_swiglu_grad>},
          {"rotary", wrap<k_rotary>},         {"attention", wrap<k_attention>},
          {"attentionGrad", wrap<k_attention_grad>}, {"nllRows", wrap<k_nll>},
          {"nllRowsGrad", wrap<k_nll_grad>}};
}

}  // namespace tslm
