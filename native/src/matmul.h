// Batched matrix multiply on oneDNN: C[b] = op(A[b']) @ op(B[b'']) with
// broadcast batch dimensions, float32 or bfloat16 compute (float32 in/out).
#pragma once
#include <cstdint>

namespace tslm {

/**
 * a: [batchA..., M, K] (stored [..., K, M] when trans_a), b: [batchB..., K, N]
 * (stored [..., N, K] when trans_b), c: [max(batchA, batchB)..., M, N].
 * batch_a / batch_b have nb entries each (equal or 1 per dimension).
 * bf16: round A and B to bfloat16 and multiply on the bf16 units, accumulating
 * in float32.
 */
void matmul(const float* a, const float* b, float* c, int nb, const int64_t* batch_a, const int64_t* batch_b,
            int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, bool bf16);

/** Rounds float32 to bfloat16 (round to nearest even), in parallel. */
void to_bf16(const float* src, uint16_t* dst, int64_t n);

/** Name and version of the library that runs the matmuls. */
const char* matmul_library();

}  // namespace tslm
