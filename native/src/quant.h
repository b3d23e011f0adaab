// Dequantization of packed weights (layouts in lib/tensor/fused.ts) and the
// fused dequantize-matmul used by quantized linear layers.
#pragma once
#include <cstdint>

namespace tslm {

enum class QuantKind { kInt8 = 0, kInt4 = 1, kNf4 = 2 };

struct Packed {
  QuantKind kind;
  int64_t rows, cols, block_size;
  const int32_t* words;
  const float* scales;
};

/** Writes the float32 matrix [rows, cols] (row-major) into out. */
void dequantize(const Packed& w, float* out);

/**
 * out = x @ W^T (x [t, cols] -> out [t, rows]) or, with transpose_w,
 * out = x @ W (x [t, rows] -> out [t, cols]); W dequantized into scratch
 * memory that never becomes a tensor.
 */
void dequant_matmul(const float* x, const Packed& w, float* out, int64_t t, bool transpose_w, bool bf16);

}  // namespace tslm
