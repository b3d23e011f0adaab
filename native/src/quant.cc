#include "quant.h"

#include <vector>

#include "matmul.h"
#include "parallel.h"

namespace tslm {
namespace {

// NF4 code book (Dettmers et al. 2023, QLoRA, Appendix E); the same values as
// NF4_TABLE in lib/tensor/fused.ts.
const float kNf4[16] = {-1.0f,
                        -0.6961928009986877f,
                        -0.5250730514526367f,
                        -0.39491748809814453f,
                        -0.28444138169288635f,
                        -0.18477343022823334f,
                        -0.09105003625154495f,
                        0.0f,
                        0.07958029955625534f,
                        0.16093020141124725f,
                        0.24611230194568634f,
                        0.33791524171829224f,
                        0.44070982933044434f,
                        0.5626170039176941f,
                        0.7229568362236023f,
                        1.0f};

void dequant_rows(const Packed& w, float* out, int64_t r0, int64_t r1) {
  const int64_t cols = w.cols;
  if (w.kind == QuantKind::kInt8) {
    const int8_t* q = reinterpret_cast<const int8_t*>(w.words);  // little-endian bytes, element j at byte j
    for (int64_t r = r0; r < r1; r++) {
      const float s = w.scales[r];
      const int8_t* row = q + r * cols;
      float* o = out + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] = static_cast<float>(row[j]) * s;
    }
    return;
  }
  float table[16];
  for (int c = 0; c < 16; c++) table[c] = w.kind == QuantKind::kNf4 ? kNf4[c] : static_cast<float>(c - 8);
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(w.words);  // two codes a byte, low nibble first
  const int64_t bs = w.block_size;
  for (int64_t r = r0; r < r1; r++) {
    float* o = out + r * cols;
    for (int64_t j0 = 0; j0 < cols; j0 += bs) {
      const int64_t e0 = r * cols + j0;
      const float s = w.scales[e0 / bs];
      float lut[16];
      for (int c = 0; c < 16; c++) lut[c] = table[c] * s;
      if ((e0 & 1) == 0 && (bs & 1) == 0) {
        const uint8_t* src = bytes + e0 / 2;
        for (int64_t j = 0; j < bs; j += 2) {
          uint8_t b = src[j / 2];
          o[j0 + j] = lut[b & 15];
          o[j0 + j + 1] = lut[b >> 4];
        }
      } else {
        for (int64_t j = 0; j < bs; j++) {
          int64_t e = e0 + j;
          o[j0 + j] = lut[(bytes[e >> 1] >> ((e & 1) * 4)) & 15];
        }
      }
    }
  }
}

thread_local std::vector<float> scratch;

}  // namespace

void dequantize(const Packed& w, float* out) {
  parallel_for(w.rows, w.cols, [&](int64_t b, int64_t e) { dequant_rows(w, out, b, e); });
}

void dequant_matmul(const float* x, const Packed& w, float* out, int64_t t, bool transpose_w, bool bf16) {
  const size_t n = static_cast<size_t>(w.rows * w.cols);
  if (scratch.size() < n) scratch.resize(n);
  dequantize(w, scratch.data());
  if (!transpose_w) {
    matmul(x, scratch.data(), out, 0, nullptr, nullptr, t, w.rows, w.cols, false, true, bf16);
  } else {
    matmul(x, scratch.data(), out, 0, nullptr, nullptr, t, w.cols, w.rows, false, false, bf16);
  }
}

}  // namespace tslm
