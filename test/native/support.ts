/**
 * Helpers for the native kernel tests: switch between the native backend and
 * the references (TF.js's wasm backend, or the pure-JS cpu backend for
 * kernels wasm lacks), seeded random inputs, and tolerance checks that name
 * the worst element.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { ensureGradients } from "../../lib/model/gradients.js";
import { disableNative, enableNative, nativeEnabled } from "../../lib/tensor/native/index.js";
import { Random } from "../../lib/util/random.js";

export type Impl = "native" | "wasm" | "cpu";

let previousBackend: string | undefined;
let nativeWasOn = false;

/** Mocha hooks: run the suite on the native backend, then restore what was there before. */
export function useNativeSuite(): void {
  before(async function () {
    this.timeout(60_000);
    previousBackend = tf.getBackend();
    nativeWasOn = nativeEnabled();
    await ensureGradients();
    const s = await enableNative();
    if (!s.ok) throw new Error(`native addon unavailable: ${s.reason}`);
  });
  after(async () => {
    // Leave the process as the suite found it (other specs may rely on init()'s choice).
    if (nativeWasOn) await enableNative({ bf16: false });
    else disableNative();
    if (previousBackend && previousBackend !== tf.getBackend()) await tf.setBackend(previousBackend);
  });
}

/** Runs `fn` on one implementation and returns its outputs as host arrays; leaves native enabled afterwards. */
export async function runOn(impl: Impl, fn: () => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; values: Float32Array | Int32Array | Uint8Array }[]> {
  if (impl === "native") {
    if (!nativeEnabled() || tf.getBackend() !== "native") await enableNative();
  } else {
    disableNative();
    await tf.setBackend(impl);
    if (impl === "cpu") (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false; // no tfjs-node banner
  }
  try {
    const out = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    const res = out.map((t) => ({ shape: t.shape.slice(), values: t.dataSync() as Float32Array | Int32Array | Uint8Array }));
    tf.dispose(out);
    return res.map((r) => ({ shape: r.shape, values: r.values.slice() }));
  } finally {
    if (impl !== "native") await enableNative();
  }
}

/** Seeded normal values. */
export function randn(rng: Random, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal(0, scale);
  return a;
}

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Asserts |got - want| <= atol + rtol * |want| elementwise (NaN matches NaN,
 * infinities must match exactly), with a message naming the worst element.
 */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) throw new Error(`${what}: element ${i} is ${g}, expected ${w}`);
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== w) throw new Error(`${what}: element ${i} is ${g}, expected ${w}`);
      continue;
    }
    const excess = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) throw new Error(`${what}: element ${worst} is ${got[worst]}, expected ${want[worst]} (atol ${atol}, rtol ${rtol})`);
}

/** Compares every output of two runs (shapes equal, values close). */
export function assertSameOutputs(got: Awaited<ReturnType<typeof runOn>>, want: Awaited<ReturnType<typeof runOn>>, atol: number, rtol: number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} outputs, expected ${want.length}`);
  got.forEach((g, i) => {
    if (JSON.stringify(g.shape) !== JSON.stringify(want[i].shape)) throw new Error(`${what}: output ${i} has shape ${JSON.stringify(g.shape)}, expected ${JSON.stringify(want[i].shape)}`);
    assertClose(g.values, want[i].values, atol, rtol, `${what} (output ${i})`);
  });
}

/** Asserts the live tensor count is back where it started after `fn`. */
export async function noLeaks(fn: () => Promise<void> | void): Promise<void> {
  const before = tf.memory().numTensors;
  await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${after - before} tensors left (${before} -> ${after})`);
}
