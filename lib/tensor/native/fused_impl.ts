/**
 * The native implementations behind `fusedKernels()` (lib/tensor/fused.ts):
 * in-place AdamW, dequantization and the dequantize-matmul of quantized
 * linear layers (differentiable in x, for QLoRA). Each declines (returns
 * false / undefined) when it cannot run, so callers take their TF.js path.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AdamWStep, FusedKernels, PackedWeight } from "../fused.js";
import { NATIVE_BACKEND } from "./backend.js";
import { native, nativeActive } from "./state.js";
import { BASE, ref, sizeOf, type NativeStorage } from "./storage.js";

export const DEQUANTIZE = "TslmDequantize";
export const DEQUANT_MATMUL = "TslmDequantMatMul";
export const DEQUANT_ROWS = "TslmDequantizeRows";
/** Kind codes of native/src/quant.h (QuantKind). */
const KIND = { int8: 0, int4: 1, nf4: 2, bf16: 3, f16: 4 } as const;

interface DequantAttrs {
  kind: PackedWeight["kind"];
  rows: number;
  cols: number;
  blockSize: number;
  /** DequantMatMul only: x @ W instead of x @ W^T (the gradient's product). */
  transposeW?: boolean;
}

function nativeBackend(): NativeStorage | undefined {
  return tf.getBackend() === NATIVE_BACKEND && nativeActive() ? (tf.backend() as unknown as NativeStorage) : undefined;
}

/**
 * Gives a variable data of its own (refCount 1, an array not shared with
 * another tensor) so an in-place update cannot leak into tensors sharing it.
 */
function ownData(backend: NativeStorage, v: tf.Variable): void {
  const values = backend.values(v);
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  if (backend.refCount(v.dataId) <= 1 && whole) return;
  tf.tidy(() => {
    v.assign(tf.add(v, tf.scalar(0)));
  });
}

function adamw(param: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamWStep): boolean {
  const backend = nativeBackend();
  if (!backend) return false;
  const n = param.size;
  if ([param, grad, m, v].some((t) => t.dtype !== "float32" || t.size !== n || t.isDisposed)) return false;
  if (n === 0) return true;
  for (const x of [param, m, v]) ownData(backend, x);
  native().addon.adamw(BASE, ref(backend, param), ref(backend, grad), ref(backend, m), ref(backend, v),
    n, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.step);
  return true;
}

function packedArgs(backend: NativeStorage, inputs: { packed: tf.TensorInfo; scales: tf.TensorInfo }, a: DequantAttrs) {
  return [KIND[a.kind], a.rows, a.cols, a.blockSize, ref(backend, inputs.packed), ref(backend, inputs.scales)] as const;
}

interface KernelArgs {
  inputs: { x?: tf.TensorInfo; ids?: tf.TensorInfo; packed: tf.TensorInfo; scales: tf.TensorInfo };
  backend: NativeStorage;
  attrs: DequantAttrs;
}

function dequantizeKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const out = backend.alloc([attrs.rows, attrs.cols], "float32");
  if (attrs.rows * attrs.cols === 0) return out;
  const [kind, rows, cols, bs, w, s] = packedArgs(backend, inputs, attrs);
  native().addon.dequantize(BASE, kind, rows, cols, bs, w, s, ref(backend, out));
  return out;
}

function dequantMatMulKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  const t = x.shape[0];
  const outCols = attrs.transposeW ? attrs.cols : attrs.rows;
  const out = backend.alloc([t, outCols], "float32");
  if (t * outCols === 0) return out;
  const [kind, rows, cols, bs, w, s] = packedArgs(backend, inputs, attrs);
  const st = native();
  st.addon.dequantMatMul(BASE, kind, rows, cols, bs, w, s, ref(backend, x), ref(backend, out), t, !!attrs.transposeW, st.bf16);
  return out;
}

function dequantizeRowsKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const ids = inputs.ids!;
  const n = sizeOf(ids.shape);
  const out = backend.alloc([...ids.shape, attrs.cols], "float32");
  if (n * attrs.cols === 0) return out;
  const [kind, rows, cols, bs, w, s] = packedArgs(backend, inputs, attrs);
  native().addon.dequantizeRows(BASE, kind, rows, cols, bs, w, s, ref(backend, ids), n, ref(backend, out));
  return out;
}

/** Kernel and gradient configs for the custom ops; registered while native is enabled. */
export function fusedKernelConfigs(): { kernels: tf.KernelConfig[]; gradients: tf.GradConfig[] } {
  return {
    kernels: [
      { kernelName: DEQUANTIZE, backendName: "native", kernelFunc: dequantizeKernel as unknown as tf.KernelFunc },
      { kernelName: DEQUANT_MATMUL, backendName: "native", kernelFunc: dequantMatMulKernel as unknown as tf.KernelFunc },
      { kernelName: DEQUANT_ROWS, backendName: "native", kernelFunc: dequantizeRowsKernel as unknown as tf.KernelFunc },
    ],
    gradients: [
      {
        kernelName: DEQUANT_MATMUL,
        inputsToSave: ["packed", "scales"],
        gradFunc: (dy, saved, attrs) => {
          const [packed, scales] = saved;
          const a = attrs as unknown as DequantAttrs;
          return {
            x: () => tf.engine().runKernel(DEQUANT_MATMUL, { x: dy as tf.Tensor, packed, scales }, { ...a, transposeW: !a.transposeW } as never) as tf.Tensor,
          };
        },
      },
    ],
  };
}

/** Words a packed weight of this kind and size needs. */
export function packedWords(kind: PackedWeight["kind"], elems: number): number {
  const bits = kind === "int8" ? 8 : kind === "bf16" || kind === "f16" ? 16 : 4;
  return Math.ceil((elems * bits) / 32);
}

function checkPacked(w: PackedWeight): boolean {
  if (w.packed.dtype !== "int32" || w.scales.dtype !== "float32") return false;
  const elems = w.rows * w.cols;
  if (w.packed.size < packedWords(w.kind, elems)) return false;
  if (w.kind === "bf16" || w.kind === "f16") return true;
  if (w.blockSize <= 0 || w.cols % w.blockSize !== 0) return false;
  return w.scales.size >= elems / w.blockSize;
}

function attrsOf(w: PackedWeight): DequantAttrs {
  const sixteen = w.kind === "bf16" || w.kind === "f16";
  return { kind: w.kind, rows: w.rows, cols: w.cols, blockSize: sixteen ? w.cols : w.blockSize };
}

function dequantize(w: PackedWeight): tf.Tensor2D | undefined {
  if (!nativeBackend() || !checkPacked(w)) return undefined;
  return tf.engine().runKernel(DEQUANTIZE, { packed: w.packed, scales: w.scales }, attrsOf(w) as never) as tf.Tensor2D;
}

function dequantMatMul(x: tf.Tensor, w: PackedWeight): tf.Tensor | undefined {
  if (!nativeBackend() || !checkPacked(w) || x.dtype !== "float32" || x.rank < 1 || x.shape[x.rank - 1] !== w.cols) return undefined;
  const lead = x.shape.slice(0, -1);
  if (sizeOf(lead) === 0) return tf.zeros([...lead, w.rows]);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [-1, w.cols]); // [T, cols]
    const y = tf.engine().runKernel(DEQUANT_MATMUL, { x: x2, packed: w.packed, scales: w.scales }, attrsOf(w) as never) as tf.Tensor; // [T, rows]
    return tf.reshape(y, [...lead, w.rows]);
  });
}

function dequantizeRows(w: PackedWeight, ids: tf.Tensor): tf.Tensor | undefined {
  if (!nativeBackend() || !checkPacked(w) || ids.dtype !== "int32") return undefined;
  return tf.engine().runKernel(DEQUANT_ROWS, { ids, packed: w.packed, scales: w.scales }, attrsOf(w) as never) as tf.Tensor;
}

/** The fused kernels this backend provides. */
export function nativeFusedKernels(): FusedKernels {
  return { adamw, dequantize, dequantMatMul, dequantizeRows };
}
