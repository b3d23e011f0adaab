// Node-API entry point: exposes the kernels to lib/tensor/native. Each call
// is synchronous and works in place on the tensors' own memory (typed arrays;
// see napi_util.h), so no tensor data is copied between JavaScript and
// native code.
#include <node_api.h>
#include <omp.h>

#include <string>
#include <vector>

#include "elementwise.h"
#include "fused_ops.h"
#include "layout.h"
#include "matmul.h"
#include "napi_util.h"
#include "optim.h"
#include "pool.h"
#include "quant.h"
#include "segment.h"

namespace tslm {
namespace {

// matmul(heap, aOff, bOff, cOff, batchDims Int32Array [nb batchA..., nb batchB...], M, N, K, transA, transB, bf16)
void k_matmul(napi_env, const Args& a) {
  if (a.count() < 11) a.fail("matmul needs 11 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  size_t dlen;
  const int32_t* dims = reinterpret_cast<const int32_t*>(a.buffer(4, &dlen));
  int nb = static_cast<int>(dlen / 4 / 2);
  std::vector<int64_t> ba(nb), bb(nb);
  int64_t batch_a = 1, batch_b = 1, batch_c = 1;
  for (int i = 0; i < nb; i++) {
    ba[i] = dims[i], bb[i] = dims[nb + i];
    if (ba[i] != bb[i] && ba[i] != 1 && bb[i] != 1) a.fail("batch dimensions do not broadcast");
    batch_a *= ba[i], batch_b *= bb[i], batch_c *= std::max(ba[i], bb[i]);
  }
  int64_t m = a.i64(5), n = a.i64(6), k = a.i64(7);
  if (m <= 0 || n <= 0 || k <= 0) a.fail("M, N and K must be positive (zero-size products are handled in JavaScript)");
  const float* pa = a.at<float>(heap, len, 1, batch_a * m * k);
  const float* pb = a.at<float>(heap, len, 2, batch_b * k * n);
  float* pc = a.at<float>(heap, len, 3, batch_c * m * n);
  matmul(pa, pb, pc, nb, ba.data(), bb.data(), m, n, k, a.flag(8), a.flag(9), a.flag(10));
}

// segmentSum(heap, xOff, idsOff, outOff, n, inner, numSegments)
void k_segment_sum(napi_env, const Args& a) {
  if (a.count() < 7) a.fail("segmentSum needs 7 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(4), inner = a.i64(5), segs = a.i64(6);
  const float* x = a.at<float>(heap, len, 1, n * inner);
  const int32_t* ids = a.at<int32_t>(heap, len, 2, n);
  float* out = a.at<float>(heap, len, 3, segs * inner);
  unsorted_segment_sum(x, ids, out, n, inner, segs);
}

// scatterNd(heap, idxOff, updatesOff, outOff, n, k, strides Float64Array, slice, numSlices)
void k_scatter_nd(napi_env, const Args& a) {
  if (a.count() < 9) a.fail("scatterNd needs 9 arguments");
  size_t len, slen;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(4), k = a.i64(5), slice = a.i64(7), num = a.i64(8);
  const double* st = reinterpret_cast<const double*>(a.buffer(6, &slen));
  if (static_cast<int64_t>(slen / 8) < k) a.fail("strides shorter than the index depth");
  std::vector<int64_t> strides(k);
  for (int64_t j = 0; j < k; j++) strides[j] = static_cast<int64_t>(st[j]);
  const int32_t* idx = a.at<int32_t>(heap, len, 1, n * k);
  const float* upd = a.at<float>(heap, len, 2, n * slice);
  float* out = a.at<float>(heap, len, 3, num * slice);
  int64_t bad = scatter_nd(idx, upd, out, n, k, strides.data(), slice, num);
  if (bad >= 0) a.fail("index row " + std::to_string(bad) + " is outside the output shape");
}

// gather(heap, xOff, idxOff, outOff, outer, axis, inner, n, elemBytes)
void k_gather(napi_env, const Args& a) {
  if (a.count() < 9) a.fail("gather needs 9 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t outer = a.i64(4), axis = a.i64(5), inner = a.i64(6), n = a.i64(7), eb = a.i64(8);
  const uint8_t* x = a.at<uint8_t>(heap, len, 1, outer * axis * inner * eb);
  const int32_t* idx = a.at<int32_t>(heap, len, 2, n);
  uint8_t* out = a.at<uint8_t>(heap, len, 3, outer * n * inner * eb);
  int64_t bad = gather(x, idx, out, outer, axis, inner, n, eb);
  if (bad >= 0) a.fail("index " + std::to_string(idx[bad]) + " at position " + std::to_string(bad) + " is not in [0, " + std::to_string(axis) + ")");
}

// adamw(heap, pOff, gOff, mOff, vOff, n, lr, beta1, beta2, eps, weightDecay, step)
void k_adamw(napi_env, const Args& a) {
  if (a.count() < 12) a.fail("adamw needs 12 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int64_t n = a.i64(5);
  float* p = a.at<float>(heap, len, 1, n);
  const float* g = a.at<float>(heap, len, 2, n);
  float* m = a.at<float>(heap, len, 3, n);
  float* v = a.at<float>(heap, len, 4, n);
  AdamWParams h{static_cast<float>(a.num(6)), static_cast<float>(a.num(7)), static_cast<float>(a.num(8)),
                static_cast<float>(a.num(9)), static_cast<float>(a.num(10)), a.i64(11)};
  if (h.step < 1) a.fail("step must be >= 1");
  adamw(p, g, m, v, n, h);
}

Packed packed_arg(const Args& a, uint8_t* heap, size_t len, size_t first) {
  Packed w;
  int kind = static_cast<int>(a.i64(first));
  if (kind < 0 || kind >= kQuantKinds) a.fail("unknown packed kind " + std::to_string(kind));
  w.kind = static_cast<QuantKind>(kind);
  w.rows = a.i64(first + 1), w.cols = a.i64(first + 2), w.block_size = a.i64(first + 3);
  if (w.rows < 0 || w.cols < 0) a.fail("negative shape");
  const int64_t elems = w.rows * w.cols;
  const int bits = bits_of(w.kind);
  w.words = a.at<int32_t>(heap, len, first + 4, (elems * bits + 31) / 32);
  w.scales = nullptr;
  if (bits < 16) {
    if (w.block_size <= 0 || w.cols % w.block_size != 0)
      a.fail("cols " + std::to_string(w.cols) + " is not a multiple of the block size " + std::to_string(w.block_size));
    w.scales = a.at<float>(heap, len, first + 5, elems / w.block_size);
  }
  return w;
}

// dequantize(heap, kind, rows, cols, blockSize, words, scales, out)
void k_dequantize(napi_env, const Args& a) {
  if (a.count() < 8) a.fail("dequantize needs 8 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  Packed w = packed_arg(a, heap, len, 1);
  float* out = a.at<float>(heap, len, 7, w.rows * w.cols);
  dequantize(w, out);
}

// dequantizeRows(heap, kind, rows, cols, blockSize, words, scales, ids, n, out): an embedding lookup
void k_dequantize_rows(napi_env, const Args& a) {
  if (a.count() < 10) a.fail("dequantizeRows needs 10 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  Packed w = packed_arg(a, heap, len, 1);
  int64_t n = a.i64(8);
  const int32_t* ids = a.at<int32_t>(heap, len, 7, n);
  float* out = a.at<float>(heap, len, 9, n * w.cols);
  int64_t bad = dequantize_rows(w, ids, n, out);
  if (bad >= 0) a.fail("token id " + std::to_string(ids[bad]) + " at position " + std::to_string(bad) + " is not in [0, " + std::to_string(w.rows) + ")");
}

// dequantMatMul(heap, kind, rows, cols, blockSize, words, scales, x, out, t, transposeW, bf16)
void k_dequant_matmul(napi_env, const Args& a) {
  if (a.count() < 12) a.fail("dequantMatMul needs 12 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  Packed w = packed_arg(a, heap, len, 1);
  int64_t t = a.i64(9);
  bool tw = a.flag(10);
  int64_t in = tw ? w.rows : w.cols, outn = tw ? w.cols : w.rows;
  if (t <= 0 || w.rows <= 0 || w.cols <= 0) a.fail("sizes must be positive");
  const float* x = a.at<float>(heap, len, 7, t * in);
  float* out = a.at<float>(heap, len, 8, t * outn);
  dequant_matmul(x, w, out, t, tw, a.flag(11));
}

// quantize(heap, kind, rows, cols, blockSize, w, words (zeroed), scales)
void k_quantize(napi_env, const Args& a) {
  if (a.count() < 8) a.fail("quantize needs 8 arguments");
  size_t len;
  uint8_t* heap = a.buffer(0, &len);
  int kind = static_cast<int>(a.i64(1));
  if (kind < 0 || kind > 2) a.fail("quantize takes int8, int4 or nf4, got kind " + std::to_string(kind));
  int64_t rows = a.i64(2), cols = a.i64(3), bs = a.i64(4);
  if (rows < 0 || cols < 0 || bs <= 0 || cols % bs != 0 || (kind != 0 && bs % 2 != 0))
    a.fail("cols " + std::to_string(cols) + " must be a multiple of an (even, for 4-bit) block size, got " + std::to_string(bs));
  const QuantKind k = static_cast<QuantKind>(kind);
  const float* w = a.at<float>(heap, len, 5, rows * cols);
  int32_t* words = a.at<int32_t>(heap, len, 6, (rows * cols * bits_of(k) + 31) / 32);
  float* scales = a.at<float>(heap, len, 7, rows * cols / bs);
  quantize(w, k, rows, cols, bs, words, scales);
}

napi_value info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, matmul_library(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "library", v);
  napi_create_int32(env, pool_threads(), &v);
  napi_set_named_property(env, obj, "threads", v);
  napi_get_boolean(env, __builtin_cpu_supports("avx512bf16") != 0 || __builtin_cpu_supports("amx-bf16") != 0, &v);
  napi_set_named_property(env, obj, "bf16", v);
  return obj;
}

napi_value set_threads(napi_env env, napi_callback_info cb) {
  try {
    Args a(env, cb, 1, "setThreads");
    int n = static_cast<int>(a.i64(0));
    if (n < 1) a.fail("thread count must be >= 1");
    omp_set_num_threads(n);
    set_pool_threads(n);
  } catch (const KernelError& e) {
    napi_throw_error(env, "ERR_TSLM_NATIVE", e.message.c_str());
  }
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  std::vector<Export> entries = {
      {"info", info},
      {"setThreads", set_threads},
      {"matmul", wrap<k_matmul>},
      {"segmentSum", wrap<k_segment_sum>},
      {"scatterNd", wrap<k_scatter_nd>},
      {"gather", wrap<k_gather>},
      {"adamw", wrap<k_adamw>},
      {"dequantize", wrap<k_dequantize>},
      {"dequantMatMul", wrap<k_dequant_matmul>},
      {"dequantizeRows", wrap<k_dequantize_rows>},
      {"quantize", wrap<k_quantize>},
  };
  for (auto& e : elementwise_exports()) entries.push_back({e.name, e.fn});
  for (auto& e : layout_exports()) entries.push_back({e.name, e.fn});
  for (auto& e : fused_exports()) entries.push_back({e.name, e.fn});
  for (auto& e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace
}  // namespace tslm

NAPI_MODULE(NODE_GYP_MODULE_NAME, tslm::init)
