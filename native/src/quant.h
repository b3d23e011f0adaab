// Packed frozen weights (layouts in lib/tensor/fused.ts, PackedWeight):
// dequantization, row lookups (embeddings) and the matmul that reads the
// packed form directly, never expanding a whole weight to float32.
#pragma once
#include <cstdint>

namespace tslm {

enum class QuantKind { kInt8 = 0, kInt4 = 1, kNf4 = 2, kBf16 = 3, kF16 = 4 };

/** Highest QuantKind value (for argument checks). */
constexpr int kQuantKinds = 5;

struct Packed {
  QuantKind kind;
  int64_t rows, cols;
  /** Elements per scale along a row (divides cols); unused by the 16-bit kinds. */
  int64_t block_size;
  const int32_t* words;
  /** One scale per block, row-major; null for the 16-bit kinds. */
  const float* scales;
};

/** Bits per element of a kind. */
inline int bits_of(QuantKind k) {
  return k == QuantKind::kInt8 ? 8 : (k == QuantKind::kBf16 || k == QuantKind::kF16) ? 16 : 4;
}

/**
 * Quantizes float32 w [rows, cols] into words and scales (int8, int4, nf4;
 * block_size elements per scale), with the arithmetic of quantizeHost in
 * lib/model/quant.ts (double precision, JavaScript's Math.round), so both
 * give the same bits. words must be zeroed by the caller.
 */
void quantize(const float* w, QuantKind kind, int64_t rows, int64_t cols, int64_t block_size, int32_t* words, float* scales);

/** Writes the float32 matrix [rows, cols] (row-major) into out. */
void dequantize(const Packed& w, float* out);

/** out[i] = row ids[i] of W, float32 [n, cols]; returns the position of an id outside [0, rows), or -1. */
int64_t dequantize_rows(const Packed& w, const int32_t* ids, int64_t n, float* out);

/**
 * out = x @ W^T (x [t, cols] -> out [t, rows]) or, with transpose_w,
 * out = x @ W (x [t, rows] -> out [t, cols]). A few rows of x (decoding)
 * stream W once, row by row, on every thread; more rows (prefill, training)
 * dequantize W a tile of rows at a time into scratch memory for the GEMM, so
 * the float32 form of a whole weight never exists.
 */
void dequant_matmul(const float* x, const Packed& w, float* out, int64_t t, bool transpose_w, bool bf16);

}  // namespace tslm
