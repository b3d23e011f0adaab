/**
 * Fused decoder blocks for `fusedKernels()`: RMSNorm, SwiGLU, rotary
 * embedding, attention and the cross-entropy rows, each a custom TF.js kernel
 * pair (forward, backward) on the native backend wrapped in `tf.customGrad`.
 * Besides one pass over memory instead of 5-15 ops, they keep fewer tensors
 * for the backward pass (RMSNorm saves x and one scalar per row; attention
 * saves the probabilities, not the scores): training keeps less memory.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FusedKernels } from "../fused.js";
import { NATIVE_BACKEND } from "./backend.js";
import { native, nativeActive } from "./state.js";
import { BASE, ref, sizeOf, type NativeStorage } from "./storage.js";

type Info = tf.TensorInfo;
interface KArgs {
  inputs: Record<string, Info>;
  backend: NativeStorage;
  attrs: Record<string, unknown>;
}

const K = {
  rmsNorm: "TslmRmsNorm",
  rmsNormGrad: "TslmRmsNormGrad",
  swiglu: "TslmSwiglu",
  swigluGrad: "TslmSwigluGrad",
  rotary: "TslmRotary",
  attention: "TslmAttention",
  attentionGrad: "TslmAttentionGrad",
  nll: "TslmNllRows",
  nllGrad: "TslmNllRowsGrad",
} as const;

const off = (b: NativeStorage, t: Info) => ref(b, t);

const kernels: Record<string, (a: KArgs) => Info | Info[]> = {
  [K.rmsNorm]: ({ inputs: { x, weight }, backend: b, attrs }) => {
    const d = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape) / d;
    const y = b.alloc(x.shape, "float32");
    const rstd = b.alloc([rows], "float32");
    if (rows > 0) native().addon.rmsNorm(BASE, off(b, x), off(b, weight), off(b, y), off(b, rstd), rows, d, Number(attrs.eps));
    return [y, rstd];
  },
  [K.rmsNormGrad]: ({ inputs: { dy, x, weight, rstd }, backend: b }) => {
    const d = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape) / d;
    const dx = b.alloc(x.shape, "float32");
    const dw = b.alloc([d], "float32");
    native().addon.rmsNormGrad(BASE, off(b, dy), off(b, x), off(b, weight), off(b, rstd), off(b, dx), off(b, dw), rows, d);
    return [dx, dw];
  },
  [K.swiglu]: ({ inputs: { gate, up }, backend: b }) => {
    const y = b.alloc(gate.shape, "float32");
    const n = sizeOf(gate.shape);
    if (n > 0) native().addon.swiglu(BASE, off(b, gate), off(b, up), off(b, y), n);
    return y;
  },
  [K.swigluGrad]: ({ inputs: { dy, gate, up }, backend: b }) => {
    const dg = b.alloc(gate.shape, "float32");
    const du = b.alloc(gate.shape, "float32");
    const n = sizeOf(gate.shape);
    if (n > 0) native().addon.swigluGrad(BASE, off(b, dy), off(b, gate), off(b, up), off(b, dg), off(b, du), n);
    return [dg, du];
  },
  [K.rotary]: ({ inputs: { x, cos, sin }, backend: b, attrs }) => {
    const [B, H, T, hd] = x.shape;
    const y = b.alloc(x.shape, "float32");
    if (B * H * T * hd > 0) native().addon.rotary(BASE, off(b, x), off(b, cos), off(b, sin), off(b, y), B * H, T, hd, Boolean(attrs.inverse));
    return y;
  },
  [K.attention]: ({ inputs: { q, k, v, mask }, backend: b, attrs }) => {
    const r = q.shape.length;
    const [m, hd] = q.shape.slice(-2), n = k.shape[r - 2], hv = v.shape[r - 1];
    const lead = q.shape.slice(0, -2), bg = sizeOf(lead);
    const o = b.alloc([...lead, m, hv], "float32");
    const p = b.alloc([...lead, m, n], "float32");
    if (bg * m * n > 0) {
      native().addon.attention(BASE, off(b, q), off(b, k), off(b, v), mask ? off(b, mask) : null, off(b, o), off(b, p), bg, m, n, hd, hv, Number(attrs.scale));
    }
    return [o, p];
  },
  [K.attentionGrad]: ({ inputs: { dy, q, k, v, p }, backend: b, attrs }) => {
    const r = q.shape.length;
    const [m, hd] = q.shape.slice(-2), n = k.shape[r - 2], hv = v.shape[r - 1];
    const bg = sizeOf(q.shape.slice(0, -2));
    const dq = b.alloc(q.shape, "float32");
    const dk = b.alloc(k.shape, "float32");
    const dv = b.alloc(v.shape, "float32");
    native().addon.attentionGrad(BASE, off(b, dy), off(b, q), off(b, k), off(b, v), off(b, p), off(b, dq), off(b, dk), off(b, dv), bg, m, n, hd, hv, Number(attrs.scale));
    return [dq, dk, dv];
  },
  [K.nll]: ({ inputs: { logits, labels }, backend: b }) => {
    const [rows, v] = logits.shape;
    const nll = b.alloc([rows], "float32");
    const lse = b.alloc([rows], "float32");
    if (rows > 0) native().addon.nllRows(BASE, off(b, logits), off(b, labels), off(b, nll), off(b, lse), rows, v);
    return [nll, lse];
  },
  [K.nllGrad]: ({ inputs: { logits, labels, lse, dy }, backend: b }) => {
    const [rows, v] = logits.shape;
    const dx = b.alloc(logits.shape, "float32");
    if (rows > 0) native().addon.nllRowsGrad(BASE, off(b, logits), off(b, labels), off(b, lse), off(b, dy), off(b, dx), rows, v);
    return dx;
  },
};

/** Kernel configs of the fused blocks (registered while native is enabled). */
export function fusedOpKernels(): tf.KernelConfig[] {
  return Object.entries(kernels).map(([kernelName, f]) => ({ kernelName, backendName: "native", kernelFunc: f as unknown as tf.KernelFunc }));
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as never) as tf.Tensor | tf.Tensor[];

function onNative(...ts: Array<tf.Tensor | null>): boolean {
  return tf.getBackend() === NATIVE_BACKEND && nativeActive() && ts.every((t) => t === null || t.dtype === "float32" || t.dtype === "int32");
}

/** `tf.customGrad` with typed inputs (its declared type wants variadic `Tensor | GradSaveFunc`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const customGrad = (f: (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }) =>
  tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);

const allFloat = (...ts: tf.Tensor[]) => ts.every((t) => t.dtype === "float32");

function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor | undefined {
  if (!onNative(x, weight) || !allFloat(x, weight) || x.rank < 1 || weight.rank !== 1 || weight.shape[0] !== x.shape[x.rank - 1]) return undefined;
  const f = customGrad((xi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, rstd] = run(K.rmsNorm, { x: xi, weight: wi }, { eps }) as tf.Tensor[];
    save([xi, wi, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ws, rs]: tf.Tensor[]) => run(K.rmsNormGrad, { dy, x: xs, weight: ws, rstd: rs }) as tf.Tensor[],
    };
  });
  return f(x, weight);
}

function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor | undefined {
  if (!onNative(gate, up) || !allFloat(gate, up) || !tf.util.arraysEqual(gate.shape, up.shape)) return undefined;
  const f = customGrad((g: tf.Tensor, u: tf.Tensor, save: tf.GradSaveFunc) => {
    save([g, u]);
    return {
      value: run(K.swiglu, { gate: g, up: u }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [gs, us]: tf.Tensor[]) => run(K.swigluGrad, { dy, gate: gs, up: us }) as tf.Tensor[],
    };
  });
  return f(gate, up);
}

function rotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D | undefined {
  if (!onNative(x, cos, sin) || !allFloat(x, cos, sin) || x.rank !== 4 || x.shape[3] % 2 !== 0) return undefined;
  const [T, hd] = [x.shape[2], x.shape[3]];
  if (!tf.util.arraysEqual(cos.shape, [T, hd]) || !tf.util.arraysEqual(sin.shape, [T, hd])) return undefined;
  // The tables are saved (not just captured): a caller's tidy may dispose them before the backward pass.
  const f = customGrad((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([cos, sin]);
    return {
      value: run(K.rotary, { x: xi, cos, sin }, { inverse: false }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [c, s]: tf.Tensor[]) => run(K.rotary, { x: dy, cos: c, sin: s }, { inverse: true }) as tf.Tensor,
    };
  });
  return f(x) as tf.Tensor4D;
}

function attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor2D | null, scale: number): tf.Tensor | undefined {
  if (!onNative(q, k, v, mask) || !allFloat(q, k, v, ...(mask ? [mask] : []))) return undefined;
  const r = q.rank;
  if (r < 2 || k.rank !== r || v.rank !== r) return undefined;
  const lead = q.shape.slice(0, -2);
  if (!tf.util.arraysEqual(k.shape.slice(0, -2), lead) || !tf.util.arraysEqual(v.shape.slice(0, -2), lead)) return undefined;
  if (k.shape[r - 1] !== q.shape[r - 1] || v.shape[r - 2] !== k.shape[r - 2]) return undefined;
  if (mask && !tf.util.arraysEqual(mask.shape, [q.shape[r - 2], k.shape[r - 2]])) return undefined;
  const f = customGrad((qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const inputs: Record<string, tf.Tensor> = { q: qi, k: ki, v: vi };
    if (mask) inputs.mask = mask;
    const [o, p] = run(K.attention, inputs, { scale }) as tf.Tensor[];
    save([qi, ki, vi, p]);
    return {
      value: o,
      gradFunc: (dy: tf.Tensor, [qs, ks, vs, ps]: tf.Tensor[]) => run(K.attentionGrad, { dy, q: qs, k: ks, v: vs, p: ps }, { scale }) as tf.Tensor[],
    };
  });
  return f(q, k, v);
}

function nllRows(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D | undefined {
  if (!onNative(logits, labels) || logits.dtype !== "float32" || labels.dtype !== "int32" || logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) return undefined;
  const f = customGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [nll, lse] = run(K.nll, { logits: x, labels }) as tf.Tensor[];
    save([x, lse, labels]);
    return {
      value: nll,
      gradFunc: (dy: tf.Tensor, [xs, l, lab]: tf.Tensor[]) => run(K.nllGrad, { logits: xs, labels: lab, lse: l, dy }) as tf.Tensor,
    };
  });
  return f(logits) as tf.Tensor1D;
}

/** The fused decoder blocks this backend provides. */
export function fusedOps(): Pick<FusedKernels, "rmsNorm" | "swiglu" | "rotary" | "attention" | "nllRows"> {
  return { rmsNorm, swiglu, rotary, attention, nllRows };
}
