/**
 * The TF.js backend for specs that build or run models: chosen once per
 * process through lib/tensor's `init` (wasm by default, the backend every
 * machine has), with gradients registered.
 */
import { init } from "../../lib/tensor/init.js";
import { ensureGradients } from "../../lib/model/gradients.js";

let ready: Promise<void> | null = null;

/** Picks the backend once per process (later calls share the first choice). */
export function setupBackend(name: "wasm" | "cpu" = "wasm"): Promise<void> {
  ready ??= (async () => {
    await init({ backend: name });
    await ensureGradients();
  })();
  return ready;
}

/** Max |a - b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
