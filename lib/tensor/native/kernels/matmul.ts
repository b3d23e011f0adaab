/**
 * `BatchMatMul` and `_FusedMatMul` on oneDNN: every transpose combination
 * and broadcast batch dimensions in one native call, no copies. Non-float32
 * inputs go to the original (tfjs-backend-cpu) kernel.
 */
import { backend_util, BatchMatMul, _FusedMatMul, util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";
import { native } from "../state.js";
import { f32View, BASE, ref, sizeOf, type NativeStorage } from "../storage.js";
import { applyActivationInPlace, binaryInto } from "./elementwise.js";

interface MatMulArgs {
  inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: NativeStorage;
  attrs: { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
}

/**
 * Batch dims of a and b, right-aligned and collapsed: dims where both are 1
 * are dropped and neighbours with the same broadcast pattern merge, so the
 * common cases become one 3-D (or 2-D) product.
 */
export function collapseBatch(aBatch: number[], bBatch: number[]): { a: number[]; b: number[] } {
  const r = Math.max(aBatch.length, bBatch.length);
  const pad = (d: number[]) => [...new Array(r - d.length).fill(1), ...d];
  const A = pad(aBatch), B = pad(bBatch);
  const a: number[] = [], b: number[] = [];
  let last = "";
  for (let i = 0; i < r; i++) {
    if (A[i] === 1 && B[i] === 1) continue;
    const kind = A[i] === B[i] ? "eq" : A[i] === 1 ? "a1" : "b1";
    if (kind === last) {
      a[a.length - 1] *= A[i];
      b[b.length - 1] *= B[i];
    } else {
      a.push(A[i]);
      b.push(B[i]);
    }
    last = kind;
  }
  return { a, b };
}

/** Runs out = op(a) @ op(b) into an already allocated output. */
export function matmulInto(backend: NativeStorage, a: TensorInfo, b: TensorInfo, out: TensorInfo, transposeA: boolean, transposeB: boolean): void {
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (sizeOf(out.shape) === 0) return;
  if (k === 0) {
    f32View(backend, out).fill(0);
    return;
  }
  let { a: ba, b: bb } = collapseBatch(a.shape.slice(0, -2), b.shape.slice(0, -2));
  let rows = m;
  // b shared by every batch of a and a not transposed: one tall [batch*M, K] product.
  if (ba.length === 1 && bb[0] === 1 && !transposeA) {
    rows = m * ba[0];
    ba = [];
    bb = [];
  }
  const dims = new Int32Array([...ba, ...bb]);
  const s = native();
  s.addon.matmul(BASE, ref(backend, a), ref(backend, b), ref(backend, out), dims, rows, n, k, transposeA, transposeB, s.bf16);
}

function outShapeOf(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, what: string): number[] {
  const ra = a.shape.length, rb = b.shape.length;
  const inner = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const innerB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  util.assert(inner === innerB, () => `Error in ${what}: inner shapes (${inner}) and (${innerB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const batch = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [...batch, transposeA ? a.shape[ra - 1] : a.shape[ra - 2], transposeB ? b.shape[rb - 2] : b.shape[rb - 1]];
}

export function makeBatchMatMul(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: MatMulArgs) => {
    const { a, b } = args.inputs;
    if (a.dtype !== "float32" || b.dtype !== "float32") return original(args as never);
    const { transposeA, transposeB } = args.attrs;
    const out = args.backend.alloc(outShapeOf(a, b, transposeA, transposeB, "matMul"), "float32");
    matmulInto(args.backend, a, b, out, transposeA, transposeB);
    return out;
  };
  return { kernelName: BatchMatMul, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Whether `small` (leading 1s ignored) broadcasts into `shape` without
 * changing it. The op hands this kernel 3-D operands, so a bias shaped for
 * the caller's original 4-D output may not fit; the original kernel decides.
 */
function broadcastsInto(small: number[], shape: number[]): boolean {
  let i = 0;
  while (small.length - i > shape.length && small[i] === 1) i++;
  const s = small.slice(i);
  if (s.length > shape.length) return false;
  return s.every((d, j) => d === 1 || d === shape[shape.length - s.length + j]);
}

export function makeFusedMatMul(original: KernelFunc): KernelConfig {
  const kernelFunc = (args: MatMulArgs) => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const { transposeA, transposeB, activation = "linear", leakyreluAlpha = 0.2 } = args.attrs;
    const dtypesOk = [a, b, bias, preluActivationWeights].every((t) => t === undefined || t === null || t.dtype === "float32");
    if (!dtypesOk) return original(args as never);
    const backend = args.backend;
    const shape = outShapeOf(a, b, transposeA, transposeB, "fused matMul");
    if (bias && !broadcastsInto(bias.shape, shape)) return original(args as never);
    if (preluActivationWeights && !broadcastsInto(preluActivationWeights.shape, shape)) return original(args as never);
    const out = backend.alloc(shape, "float32");
    matmulInto(backend, a, b, out, transposeA, transposeB);
    if (sizeOf(shape) === 0) return out;
    if (bias) binaryInto(backend, "add", out, bias, out);
    applyActivationInPlace(backend, out, activation, leakyreluAlpha, preluActivationWeights ?? undefined);
    return out;
  };
  return { kernelName: _FusedMatMul, backendName: "native", kernelFunc: kernelFunc as unknown as KernelFunc };
}
