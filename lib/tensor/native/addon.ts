/**
 * Loads the compiled addon (native/build/Release/tslm_native.node) and types
 * its exports. Every kernel is synchronous and addresses tensors by byte
 * offset into the wasm heap passed as the first argument.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageInfo } from "../../util/package.js";

type Heap = ArrayBuffer;

/** The raw functions exported by the addon (see native/src/addon.cc). */
export interface NativeAddon {
  info(): { library: string; threads: number; bf16: boolean };
  setThreads(n: number): void;
  matmul(heap: Heap, a: number, b: number, c: number, batchDims: Int32Array, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean, bf16: boolean): void;
  segmentSum(heap: Heap, x: number, ids: number, out: number, n: number, inner: number, numSegments: number): void;
  scatterNd(heap: Heap, idx: number, updates: number, out: number, n: number, k: number, strides: Float64Array, slice: number, numSlices: number): void;
  gather(heap: Heap, x: number, idx: number, out: number, outer: number, axis: number, inner: number, n: number, elemBytes: number): void;
  adamw(heap: Heap, p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number): void;
  dequantize(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, words: number, scales: number,
    out: number): void;
  dequantMatMul(heap: Heap, kind: number, rows: number, cols: number, blockSize: number, words: number, scales: number,
    x: number, out: number, t: number, transposeW: boolean, bf16: boolean): void;
  binary(heap: Heap, op: number, a: number, b: number, out: number, shapes: Int32Array): void;
  unary(heap: Heap, op: number, x: number, out: number, n: number, alpha: number): void;
  softmax(heap: Heap, x: number, out: number, rows: number, cols: number): void;
  /** desc: [rank, shape..., srcStrides..., dstStrides...] in elements. */
  copy(heap: Heap, src: number, dst: number, elemBytes: number, desc: Float64Array): void;
  cast(heap: Heap, src: number, dst: number, n: number, from: number, to: number): void;
  reduce(heap: Heap, op: number, x: number, out: number, outer: number, r: number, inner: number): void;
  rmsNorm(heap: Heap, x: number, w: number, y: number, rstd: number, rows: number, d: number, eps: number): void;
  rmsNormGrad(heap: Heap, dy: number, x: number, w: number, rstd: number, dx: number, dw: number, rows: number, d: number): void;
  swiglu(heap: Heap, g: number, u: number, y: number, n: number): void;
  swigluGrad(heap: Heap, dy: number, g: number, u: number, dg: number, du: number, n: number): void;
  rotary(heap: Heap, x: number, cos: number, sin: number, y: number, outer: number, t: number, hd: number, inverse: boolean): void;
  /** mask = -1 for none. */
  attention(heap: Heap, q: number, k: number, v: number, mask: number, o: number, p: number, bg: number, m: number, n: number,
    hd: number, hv: number, scale: number): void;
  attentionGrad(heap: Heap, dout: number, q: number, k: number, v: number, p: number, dq: number, dk: number, dv: number,
    bg: number, m: number, n: number, hd: number, hv: number, scale: number): void;
  nllRows(heap: Heap, x: number, labels: number, nll: number, lse: number, rows: number, v: number): void;
  nllRowsGrad(heap: Heap, x: number, labels: number, lse: number, dnll: number, dx: number, rows: number, v: number): void;
}

/** Every function the JavaScript side calls; an older build lacking one is refused. */
const REQUIRED: Array<keyof NativeAddon> = [
  "info", "setThreads", "matmul", "segmentSum", "scatterNd", "gather", "adamw", "dequantize", "dequantMatMul", "binary",
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
