/**
 * The `native` backend: TF.js's wasm backend with hot kernels replaced by
 * native CPU code (native/, an N-API addon on oneDNN with an OpenMP pool).
 *
 * `enableNative()` loads the addon and re-registers the wasm backend's
 * kernels through TF.js's public kernel registry (`getKernel` /
 * `unregisterKernel` / `registerKernel`), keeping each original as the
 * fallback for dtypes the native code does not handle; it also fills the
 * fused-kernel registry (lib/tensor/fused.ts). When the addon is missing or
 * fails to load it reports why (once on stderr), and the caller stays on
 * plain wasm. `disableNative()` restores the original kernels.
 */
import * as tf from "@tensorflow/tfjs-core";
import { setFusedKernels } from "../fused.js";
import { loadAddon } from "./addon.js";
import { fusedKernelConfigs, nativeFusedKernels } from "./fused_impl.js";
import { fusedOpKernels, fusedOps } from "./fused_ops.js";
import { elementwiseKernels } from "./kernels/elementwise.js";
import { layoutKernels } from "./kernels/layout.js";
import { makeBatchMatMul, makeFusedMatMul } from "./kernels/matmul.js";
import { makeGather, makeScatterNd } from "./kernels/gather.js";
import { makeUnsortedSegmentSum } from "./kernels/segment_sum.js";
import { setState } from "./state.js";

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

const BACKEND = "wasm";
const originals = new Map<string, tf.KernelConfig>();
let enabled: NativeStatus | undefined;
let warned = false;

function failure(reason: string): NativeStatus {
  if (!warned && !process.env.TSLM_QUIET) {
    warned = true;
    process.stderr.write(`tslm: native kernels unavailable, using plain wasm: ${reason}\n`);
  }
  return { ok: false, reason };
}

function kernelList(configs: tf.KernelConfig[]): string[] {
  return configs.map((c) => c.kernelName);
}

/**
 * Every kernel config the backend registers, over the originals they fall back
 * to (`original` returns undefined for kernels the wasm backend lacks).
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
  return { configs, gradients: fused.gradients };
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

/** Loads the addon and registers its kernels on the (already active) wasm backend. */
export async function enableNative(options: NativeOptions = {}): Promise<NativeStatus> {
  const r = loadAddon();
  if (!r.ok) return failure(r.reason);
  await import("@tensorflow/tfjs-backend-wasm"); // registers the wasm kernels that become fallbacks
  if (!tf.findBackend(BACKEND)) {
    // The originals get their wasm bindings when the backend initializes: do that
    // before replacing them, then return to whatever backend was active.
    const previous = tf.getBackend();
    if (!(await tf.setBackend(BACKEND))) return failure("the wasm backend did not initialize");
    if (previous && previous !== BACKEND) await tf.setBackend(previous);
  }
  const threads = options.threads ?? (process.env.TSLM_THREADS ? Number(process.env.TSLM_THREADS) : undefined);
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) {
      // A caller's mistake, not an unavailable backend: no "using plain wasm" warning, nothing changed.
      return { ok: false, reason: `thread count must be a positive integer, got ${options.threads !== undefined ? threads : `TSLM_THREADS=${process.env.TSLM_THREADS}`}` };
    }
    r.addon.setThreads(threads);
  }
  const info = r.addon.info();
  const bf16 = options.bf16 ?? process.env.TSLM_BF16 === "1";
  setState({ addon: r.addon, bf16 });
  if (!enabled) {
    const original = (name: string) => originals.get(name)?.kernelFunc ?? tf.getKernel(name, BACKEND)?.kernelFunc;
    const { configs, gradients } = buildConfigs(original);
    for (const c of configs) {
      const prev = tf.getKernel(c.kernelName, BACKEND);
      if (prev) {
        if (!originals.has(c.kernelName)) originals.set(c.kernelName, prev);
        tf.unregisterKernel(c.kernelName, BACKEND);
      }
      tf.registerKernel(c);
    }
    for (const g of gradients) {
      if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
    }
    enabled = { ok: true, library: info.library, threads: info.threads, bf16, kernels: kernelList(configs) };
  }
  enabled = { ...enabled, threads: info.threads, bf16 };
  setFusedKernels({ ...nativeFusedKernels(), ...fusedOps() });
  return { ...enabled };
}

/** Restores the wasm backend's original kernels and clears the fused registry. */
export function disableNative(): void {
  if (!enabled) return;
  for (const name of enabled.kernels ?? []) {
    tf.unregisterKernel(name, BACKEND);
    const o = originals.get(name);
    if (o) tf.registerKernel(o);
  }
  originals.clear();
  enabled = undefined;
  setFusedKernels({});
  setState(undefined);
}

/** Whether native kernels are registered now. */
export function nativeEnabled(): boolean {
  return enabled !== undefined;
}
