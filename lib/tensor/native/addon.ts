/**
 * Loads the compiled addon (native/build/Release/tslm_native.node) and types
 * its exports. Every kernel is synchronous; its first argument is a base
 * buffer and each tensor argument is a typed array (worked on in place) or a
 * byte offset into the base buffer (native/src/napi_util.h).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageInfo } from "../../util/package.js";

type Heap = ArrayBuffer;
/** A tensor argument: its storage, or a byte offset into the base buffer. */
type T = ArrayBufferView | number;

/** The raw functions exported by the addon (see native/src/addon.cc). */
export interface NativeAddon {
  info(): { library: string; threads: number; bf16: boolean };
  setThreads(n: number): void;
  matmul(heap: Heap, a: T, b: T, c: T, batchDims: Int32Array, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean, bf16: boolean): void;
  segmentSum(heap: Heap, x: T, ids: T, out: T, n: number, inner: number, numSegments: number): void;
  scatterNd(heap: Heap, idx: T, updates: T, out: T, n: number, k: number, strides: Float64Array, slice: number, numSlices: number): void;
  gather(heap: Heap, x: T, idx: T, out: T, outer: number, axis: number, inner: number, n: number, elemBytes: number): void;
  adamw(heap: Heap, p: T, g: T, m: T, v: T, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number): void;
  dequantize(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, words: T, scales: T,
    out: T): void;
  dequantMatMul(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, words: T, scales: T,
    x: T, out: T, t: number, transposeW: boolean, bf16: boolean): void;
  quantize(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, w: T, words: T, scales: T): void;
  dequantizeRows(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, words: T, scales: T,
    ids: T, n: number, out: T): void;
  binary(heap: Heap, op: number, a: T, b: T, out: T, shapes: Int32Array): void;
  unary(heap: Heap, op: number, x: T, out: T, n: number, alpha: number): void;
  softmax(heap: Heap, x: T, out: T, rows: number, cols: number): void;
  /** desc: [rank, shape..., srcStrides..., dstStrides...] in elements. */
  copy(heap: Heap, src: T, dst: T, elemBytes: number, desc: Float64Array): void;
  cast(heap: Heap, src: T, dst: T, n: number, from: number, to: number): void;
  reduce(heap: Heap, op: number, x: T, out: T, outer: number, r: number, inner: number): void;
  rmsNorm(heap: Heap, x: T, w: T, y: T, rstd: T, rows: number, d: number, eps: number): void;
  rmsNormGrad(heap: Heap, dy: T, x: T, w: T, rstd: T, dx: T, dw: T, rows: number, d: number): void;
  swiglu(heap: Heap, g: T, u: T, y: T, n: number): void;
  swigluGrad(heap: Heap, dy: T, g: T, u: T, dg: T, du: T, n: number): void;
  rotary(heap: Heap, x: T, cos: T, sin: T, y: T, outer: number, t: number, hd: number, inverse: boolean): void;
  /** mask = null for none. */
  attention(heap: Heap, q: T, k: T, v: T, mask: T | null, o: T, p: T, bg: number, m: number, n: number,
    hd: number, hv: number, scale: number): void;
  attentionGrad(heap: Heap, dout: T, q: T, k: T, v: T, p: T, dq: T, dk: T, dv: T,
    bg: number, m: number, n: number, hd: number, hv: number, scale: number): void;
  nllRows(heap: Heap, x: T, labels: T, nll: T, lse: T, rows: number, v: number): void;
  nllRowsGrad(heap: Heap, x: T, labels: T, lse: T, dnll: T, dx: T, rows: number, v: number): void;
}

/** Every function the JavaScript side calls; an older build lacking one is refused. */
const REQUIRED: Array<keyof NativeAddon> = [
  "info", "setThreads", "matmul", "segmentSum", "scatterNd", "gather", "adamw", "dequantize", "dequantMatMul", "dequantizeRows", "quantize", "binary",
  "unary", "softmax", "copy", "cast", "reduce", "rmsNorm", "rmsNormGrad", "swiglu", "swigluGrad", "rotary", "attention",
  "attentionGrad", "nllRows", "nllRowsGrad",
];

export type LoadResult = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

let loaded: LoadResult | undefined;

/** Path of the addon binary inside the package. */
export function addonPath(): string {
  return join(packageInfo().root, "native", "build", "Release", "tslm_native.node");
}

/** Loads the addon once; later calls return the same result (success or the reason it failed). */
export function loadAddon(): LoadResult {
  if (loaded) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    const errFile = join(packageInfo().root, "native", "build", "build-error.txt");
    const why = existsSync(errFile) ? readFileSync(errFile, "utf8").split("\n")[0] : "run `npm run build:native`";
    loaded = { ok: false, reason: `the native addon is not built (${why})` };
    return loaded;
  }
  if (process.arch === "x64" && !cpuHasAvx2()) {
    loaded = { ok: false, reason: "this CPU lacks AVX2/FMA, which the native kernels are compiled for" };
    return loaded;
  }
  // The OpenMP runtime reads its settings when the addon is loaded: a passive
  // wait policy stops idle worker threads from spinning against the
  // JavaScript thread on small machines (measured: spinning halves speed).
  process.env.OMP_WAIT_POLICY ??= "PASSIVE";
  if (process.env.TSLM_THREADS) process.env.OMP_NUM_THREADS = process.env.TSLM_THREADS;
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    addon.info();
    const missing = REQUIRED.filter((name) => typeof addon[name] !== "function");
    if (missing.length > 0) {
      loaded = { ok: false, reason: `the native addon is out of date (no ${missing.join(", ")}); rebuild it with \`npm run build:native\`` };
      return loaded;
    }
    loaded = { ok: true, addon, path };
  } catch (e) {
    loaded = { ok: false, reason: `the native addon failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
  return loaded;
}

function cpuHasAvx2(): boolean {
  try {
    const flags = readFileSync("/proc/cpuinfo", "utf8");
    return /\bavx2\b/.test(flags) && /\bfma\b/.test(flags);
  } catch {
    return true; // no /proc (not Linux): let the load itself decide
  }
}
