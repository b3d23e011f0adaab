/**
 * Backend selection. `init()` picks where TensorFlow.js runs and records why:
 *
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` or
 *   `@tensorflow/tfjs-node`, used only when the user has installed one (their
 *   install downloads libtensorflow, so tslm never depends on them);
 * - `native`: tensors in TypedArrays bounded only by RAM, hot kernels in
 *   tslm's N-API addon (lib/tensor/native), the rest from tfjs-backend-cpu;
 * - `wasm`: TF.js's WebAssembly backend (~5x the pure-JS backend here);
 * - `cpu`: TF.js's pure-JS backend, always available.
 *
 * `"auto"` takes the first of these that works. `init` is idempotent and
 * cheap after the first call, so every entry point (model loading, training,
 * the kernel) may call it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { TslmError } from "../util/errors.js";
import { disableNative, enableNative, nativeEnabled, type NativeStatus } from "./native/index.js";

export type BackendName = "tensorflow" | "native" | "wasm" | "cpu";
export type BackendRequest = "auto" | BackendName;

/** Every backend in the order `"auto"` tries them. */
export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow", "native", "wasm", "cpu"];

export interface InitOptions {
  /** Which backend; `"auto"` picks the first that works. Default: `TSLM_BACKEND` or "auto". */
  backend?: BackendRequest;
  /** Run the selection again even when a backend was chosen before. Default false: init is idempotent. */
  force?: boolean;
}

/** One backend's outcome during selection. */
export interface BackendAttempt {
  backend: BackendName;
  /** "chosen", "failed" (tried, did not work), "skipped" (not tried: an earlier one was chosen, or not requested). */
  outcome: "chosen" | "failed" | "skipped";
  /** Why: what was loaded, or the reason it was passed over. */
  reason: string;
}

export interface BackendReport {
  requested: BackendRequest;
  chosen: BackendName;
  /** The TF.js backend name in use (`tf.getBackend()`): "tensorflow", "native", "wasm" or "cpu". */
  tfBackend: string;
  attempts: BackendAttempt[];
  /** The native addon's status, when `native` was tried. */
  native?: NativeStatus;
  /** Milliseconds the selection took. */
  ms: number;
}

export class BackendError extends TslmError {}

let report: BackendReport | undefined;
let inflight: Promise<BackendReport> | undefined;

/** The report of the last `init`, or undefined before the first. */
export function backendReport(): BackendReport | undefined {
  return report;
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0];
}

function isMissingModule(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

// Imported by a name in a variable so TypeScript does not look for their types.
const importOptional = (name: string): Promise<unknown> => import(name);

async function tryTensorflow(): Promise<{ ok: boolean; reason: string }> {
  const tried: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await importOptional(pkg);
    } catch (e) {
      tried.push(isMissingModule(e) ? `${pkg} is not installed` : `${pkg} failed to load: ${message(e)}`);
      continue;
    }
    // The package registers "tensorflow" with the tfjs-core it depends on; a
    // different copy of tfjs-core than tslm's would leave ours without it.
    if (!tf.findBackendFactory("tensorflow")) {
      tried.push(`${pkg} loaded but registered its backend with another copy of @tensorflow/tfjs-core (tslm uses ${tf.version_core}); install a version built on tfjs-core ${tf.version_core}`);
      continue;
    }
    if (await tf.setBackend("tensorflow")) return { ok: true, reason: `libtensorflow through ${pkg}` };
    tried.push(`${pkg} loaded but its backend did not initialize`);
  }
  return { ok: false, reason: tried.join("; ") + " (optional: `npm install @tensorflow/tfjs-node` where libtensorflow can be downloaded)" };
}

async function tryWasm(): Promise<{ ok: boolean; reason: string }> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
    if (await tf.setBackend("wasm")) return { ok: true, reason: "TF.js WebAssembly backend" };
    return { ok: false, reason: "the wasm backend did not initialize" };
  } catch (e) {
    return { ok: false, reason: `the wasm backend failed to load: ${message(e)}` };
  }
}

async function tryCpu(): Promise<{ ok: boolean; reason: string }> {
  await import("@tensorflow/tfjs-backend-cpu");
  if (!(await tf.setBackend("cpu"))) return { ok: false, reason: "the cpu backend did not initialize" };
  // Chosen on purpose here: silence its one-time "install tfjs-node" banner.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return { ok: true, reason: "TF.js pure-JavaScript backend" };
}

async function select(requested: BackendRequest): Promise<BackendReport> {
  const t0 = performance.now();
  const candidates = requested === "auto" ? BACKEND_ORDER : [requested];
  const attempts: BackendAttempt[] = [];
  let native: NativeStatus | undefined;
  let chosen: BackendName | undefined;
  for (const b of candidates) {
    let r: { ok: boolean; reason: string };
    // Native kernels fill the fused registry: any other choice must not keep them.
    if (b !== "native" && nativeEnabled()) disableNative();
    if (b === "tensorflow") r = await tryTensorflow();
    else if (b === "native") {
      const w = await tryWasm();
      if (!w.ok) r = { ok: false, reason: `needs the wasm backend: ${w.reason}` };
      else {
        native = await enableNative();
        r = native.ok
          ? { ok: true, reason: `wasm + native kernels${native.library ? ` (${native.library})` : ""}: ${(native.kernels ?? []).join(", ") || "none"}` }
          : { ok: false, reason: native.reason ?? "the native addon did not load" };
      }
    } else if (b === "wasm") r = await tryWasm();
    else r = await tryCpu();
    attempts.push({ backend: b, outcome: r.ok ? "chosen" : "failed", reason: r.reason });
    if (r.ok) {
      chosen = b;
      break;
    }
  }
  for (const b of BACKEND_ORDER) {
    if (attempts.some((a) => a.backend === b)) continue;
    attempts.push({ backend: b, outcome: "skipped", reason: requested === "auto" ? `${chosen} was chosen first` : `not requested (backend: "${requested}")` });
  }
  if (!chosen) {
    const why = attempts.filter((a) => a.outcome === "failed").map((a) => `${a.backend}: ${a.reason}`).join("; ");
    throw new BackendError(`the requested backend "${requested}" is not available: ${why}`, { key: "backend" });
  }
  return { requested, chosen, tfBackend: tf.getBackend(), attempts, native, ms: Math.round(performance.now() - t0) };
}

function requestedBackend(options: InitOptions): BackendRequest {
  const r = options.backend ?? (process.env.TSLM_BACKEND as BackendRequest | undefined) ?? "auto";
  if (r !== "auto" && !BACKEND_ORDER.includes(r)) {
    throw new BackendError(`unknown backend ${JSON.stringify(r)}; expected "auto", ${BACKEND_ORDER.map((b) => `"${b}"`).join(", ")}`, {
      key: options.backend !== undefined ? "backend" : "TSLM_BACKEND",
    });
  }
  return r;
}

/**
 * Chooses the TF.js backend (once) and returns what was chosen and why the
 * others were passed over. Later calls with `"auto"` (or the same request)
 * return the same report; a different explicit backend switches to it.
 * @example const { chosen } = await init(); // "native", "wasm", ...
 */
export async function init(options: InitOptions = {}): Promise<BackendReport> {
  const requested = requestedBackend(options);
  const reuse = (r: BackendReport | undefined) => r !== undefined && !options.force && (requested === "auto" || requested === r.chosen);
  if (inflight) {
    const current = await inflight.catch(() => undefined);
    if (reuse(current)) return current!;
  }
  if (reuse(report)) return report!;
  const attempt = select(requested);
  inflight = attempt;
  try {
    report = await attempt;
    return report;
  } finally {
    if (inflight === attempt) inflight = undefined;
  }
}

/**
 * Makes sure a backend is active: runs `init()` (auto) unless one was already
 * chosen, through `init` or `tf.setBackend`. Loaders call it so that user code
 * may skip `init()`.
 */
export async function ensureBackend(): Promise<void> {
  if (report || inflight) {
    await (inflight ?? Promise.resolve());
    return;
  }
  if ((tf.engine() as unknown as { backendName?: string | null }).backendName) return;
  await init();
}

