/**
 * Test setup shared by the model, format and tokenizer specs: a TF.js
 * backend (through lib/tensor's `init` once it exists, else wasm) with
 * gradients registered, and temporary folders removed after the run.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tensor from "../../lib/tensor/index.js";
import { ensureGradients } from "../../lib/model/gradients.js";

let ready: Promise<void> | null = null;

/** Picks the backend once per process: lib/tensor's init when available, else `name`. */
export function setupBackend(name: "wasm" | "cpu" = "wasm"): Promise<void> {
  ready ??= (async () => {
    const init = (tensor as Record<string, unknown>).init as ((o?: unknown) => Promise<unknown>) | undefined;
    if (typeof init === "function") await init({ backend: name });
    else {
      await tf.setBackend(name);
      await tf.ready();
    }
    await ensureGradients();
  })();
  return ready;
}

const dirs: string[] = [];

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = "tslm-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Max |a - b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
