/**
 * The `native` backend: tensors in TypedArrays bounded only by RAM
 * (lib/tensor/native/backend.ts), hot kernels in tslm's N-API addon
 * (native/, oneDNN with an OpenMP pool), every other kernel from
 * tfjs-backend-cpu.
 *
 * `enableNative()` loads the addon, registers the backend and its kernels
 * once (each native kernel keeps tfjs-backend-cpu's as the fallback for
 * dtypes and shapes the native code does not handle), fills the fused-kernel
 * registry (lib/tensor/fused.ts) and makes `native` the active backend. When
 * the addon is missing or fails to load it reports why (once on stderr) and
 * changes nothing. `disableNative()` clears the fused registry; kernels on the
 * native backend then run their tfjs-backend-cpu fallbacks.
 */
import * as tf from "@tensorflow/tfjs-core";
import { setFusedKernels } from "../fused.js";
import { loadAddon } from "./addon.js";
import { guardKernel, NATIVE_BACKEND, NativeBackend } from "./backend.js";
import { fusedKernelConfigs, nativeFusedKernels } from "./fused_impl.js";
import { fusedOpKernels, fusedOps } from "./fused_ops.js";
import { elementwiseKernels } from "./kernels/elementwise.js";
import { layoutKernels } from "./kernels/layout.js";
import { makeBatchMatMul, makeFusedMatMul } from "./kernels/matmul.js";
import { makeGather, makeScatterNd } from "./kernels/gather.js";
import { makeUnsortedSegmentSum } from "./kernels/segment_sum.js";
import { nativeActive, setState } from "./state.js";

export { adoptTensor, NATIVE_BACKEND, OutOfMemoryError } from "./backend.js";

export interface NativeStatus {
  ok: boolean;
  /** Why the addon is unavailable, when `ok` is false. */
  reason?: string;
  /** Kernels this backend replaced or added, when `ok` is true. */
  kernels?: string[];
  /** Library the addon links (e.g. "onednn 2.6.3"). */
  library?: string;
  /** Threads the kernels use. */
  threads?: number;
  /** Whether matmuls round their inputs to bfloat16 (opt-in). */
  bf16?: boolean;
}

export interface NativeOptions {
  /**
   * Run matmuls with bfloat16 inputs and float32 accumulation (weights,
   * activations and gradients stay float32 tensors). ~2x the float32 matmul
   * speed on CPUs with AVX512-BF16 or AMX; results differ from float32 at the
   * ~3 significant digits bfloat16 keeps. Default: `TSLM_BF16=1`, else false.
   */
  bf16?: boolean;
  /** Threads for the kernels. Default: `TSLM_THREADS`, else every core. */
  threads?: number;
}

let registered: string[] | undefined;
let enabled: NativeStatus | undefined;
let warned = false;

function failure(reason: string): NativeStatus {
  if (!warned && !process.env.TSLM_QUIET) {
    warned = true;
    process.stderr.write(`tslm: native kernels unavailable: ${reason}\n`);
  }
  return { ok: false, reason };
}

function kernelList(configs: tf.KernelConfig[]): string[] {
  return configs.map((c) => c.kernelName);
}

/**
 * Every kernel config the addon provides, over the tfjs-backend-cpu kernels
 * they fall back to (`original` returns undefined for kernels cpu lacks).
 */
function buildConfigs(original: (name: string) => tf.KernelFunc | undefined): { configs: tf.KernelConfig[]; gradients: tf.GradConfig[] } {
  const configs: tf.KernelConfig[] = [];
  const mm = original("BatchMatMul");
  if (mm) configs.push(makeBatchMatMul(mm));
  const fmm = original("_FusedMatMul");
  if (fmm) configs.push(makeFusedMatMul(fmm));
  configs.push(makeUnsortedSegmentSum(original("UnsortedSegmentSum")));
  const gather = original("GatherV2");
  if (gather) configs.push(makeGather(gather));
  const scatter = original("ScatterNd");
  if (scatter) configs.push(makeScatterNd(scatter));
  configs.push(...elementwiseKernels(original), ...layoutKernels(original));
  const fused = fusedKernelConfigs();
  configs.push(...fused.kernels, ...fusedOpKernels());
  return { configs: configs.map((c) => ({ ...c, backendName: NATIVE_BACKEND })), gradients: fused.gradients };
}

/** Probes the addon without registering anything; `kernels` lists what enabling would register. */
export async function nativeStatus(): Promise<NativeStatus> {
  if (enabled) return { ...enabled };
  const r = loadAddon();
  if (!r.ok) return { ok: false, reason: r.reason };
  const info = r.addon.info();
  const placeholder: tf.KernelFunc = () => {
    throw new Error("not registered");
  };
  return { ok: true, library: info.library, threads: info.threads, bf16: false, kernels: kernelList(buildConfigs(() => placeholder).configs) };
}

/**
 * Registers the native backend: tfjs-backend-cpu's kernels under its name,
 * then the addon's over them. A native kernel runs its cpu original while the
 * addon's state is unset (after `disableNative`), so the backend always computes.
 */
async function registerBackend(): Promise<string[]> {
  if (registered) return registered;
  await import("@tensorflow/tfjs-backend-cpu"); // registers the kernels that become fallbacks
  const cpu = new Map(tf.getKernelsForBackend("cpu").map((k) => [k.kernelName, k]));
  const original = (name: string) => cpu.get(name)?.kernelFunc;
  const { configs, gradients } = buildConfigs(original);
  const mine = new Set(configs.map((c) => c.kernelName));
  for (const k of cpu.values()) {
    if (!mine.has(k.kernelName)) tf.registerKernel(guardKernel({ ...k, backendName: NATIVE_BACKEND }));
  }
  for (const c of configs) {
    const fallback = cpu.get(c.kernelName)?.kernelFunc;
    const fast = c.kernelFunc;
    const kernelFunc: tf.KernelFunc = fallback ? (args) => (nativeActive() ? fast(args) : fallback(args)) : fast;
    tf.registerKernel(guardKernel({ ...c, kernelFunc }));
  }
  for (const g of gradients) {
    if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
  }
  // Priority 0: TF.js never picks it on its own; tslm's init() chooses it.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  registered = kernelList(configs);
  return registered;
}

/**
 * Loads the addon, registers the native backend (once) and makes it the
 * active TF.js backend.
 */
export async function enableNative(options: NativeOptions = {}): Promise<NativeStatus> {
  const r = loadAddon();
  if (!r.ok) return failure(r.reason);
  const threads = options.threads ?? (process.env.TSLM_THREADS ? Number(process.env.TSLM_THREADS) : undefined);
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) {
      // A caller's mistake, not an unavailable backend: no warning, nothing changed.
      return { ok: false, reason: `thread count must be a positive integer, got ${options.threads !== undefined ? threads : `TSLM_THREADS=${process.env.TSLM_THREADS}`}` };
    }
    r.addon.setThreads(threads);
  }
  const kernels = await registerBackend();
  if (!(await tf.setBackend(NATIVE_BACKEND))) return failure("the native backend did not initialize");
  const info = r.addon.info();
  const bf16 = options.bf16 ?? process.env.TSLM_BF16 === "1";
  setState({ addon: r.addon, bf16 });
  enabled = { ok: true, library: info.library, threads: info.threads, bf16, kernels };
  setFusedKernels({ ...nativeFusedKernels(), ...fusedOps() });
  return { ...enabled };
}

/** Clears the fused registry and the addon's state: native-backend kernels fall back to tfjs-backend-cpu's. */
export function disableNative(): void {
  if (!enabled) return;
  enabled = undefined;
  setFusedKernels({});
  setState(undefined);
}

/**
 * Quantizes a float32 `[rows, cols]` host weight with the addon (the same bits
 * as lib/model/quant.ts's JavaScript, ~50x faster), whatever the backend;
 * undefined when the addon is not available.
 */
export function quantizeWithAddon(w: Float32Array, rows: number, cols: number, kind: "int8" | "int4" | "nf4", blockSize: number): { packed: Int32Array; scales: Float32Array } | undefined {
  const r = loadAddon();
  if (!r.ok) return undefined;
  const n = rows * cols;
  const packed = new Int32Array(Math.ceil((n * (kind === "int8" ? 8 : 4)) / 32));
  const scales = new Float32Array(n / blockSize);
  r.addon.quantize(new ArrayBuffer(0), { int8: 0, int4: 1, nf4: 2 }[kind], rows, cols, blockSize, w, packed, scales);
  return { packed, scales };
}

/** Whether the native kernels are enabled now. */
export function nativeEnabled(): boolean {
  return enabled !== undefined;
}
