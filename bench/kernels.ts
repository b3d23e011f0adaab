/**
 * `npm run bench -- kernels [--json] [--reps N] [--only SUBSTRING]`
 *
 * Each replaced kernel (and each fused block) on training-sized shapes,
 * native against TF.js's original wasm kernel (or the TF.js-ops composition
 * the fused block replaces), timed alternately in one process so that load
 * from other processes hits both sides alike. Reports the median of N runs.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { fusedKernels } from "../lib/tensor/fused.js";
import { disableNative, enableNative } from "../lib/tensor/native/index.js";
import { ensureGradients } from "../lib/model/index.js";
import { dequantizeOps, packWeight } from "../lib/model/quant.js";

/** An nf4 weight [rows, cols] and activations x [t, cols] for the QLoRA cases. */
function qloraInputs(rows: number, cols: number, t: number) {
  const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * 0.05);
  return { packed: packWeight(w, rows, cols, "nf4"), x: rnd([t, cols]) };
}

interface Case {
  name: string;
  /** Builds inputs (outside timing); returns the op to time and a cleanup. */
  setup(): { run(): tf.Tensor | tf.Tensor[] | void; dispose(): void };
  /** The fused path on native vs this TF.js composition on plain wasm (instead of the same op twice). */
  reference?(): { run(): tf.Tensor | tf.Tensor[] | void; dispose(): void };
  /** Run the reference on the native backend too (compares two native paths). */
  referenceOnNative?: boolean;
}

const reps = Number(process.argv[process.argv.indexOf("--reps") + 1] || 7);
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : "";
const json = process.argv.includes("--json");

const rnd = (shape: number[]) => tf.randomNormal(shape, 0, 1, "float32", 1);

function simple(name: string, make: () => tf.Tensor[], op: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Case {
  return {
    name,
    setup() {
      const xs = make();
      return { run: () => op(...xs), dispose: () => tf.dispose(xs) };
    },
  };
}

/** `differentiable`: how many leading inputs get gradients (the rest are constants such as masks). */
function fusedCase(name: string, make: () => tf.Tensor[], fused: (...xs: tf.Tensor[]) => tf.Tensor | undefined, ops: (...xs: tf.Tensor[]) => tf.Tensor, differentiable: number): Case {
  const wrap = (f: (...xs: tf.Tensor[]) => tf.Tensor) => () => {
    const xs = make();
    const run = () =>
      tf.tidy(() => {
        const g = tf.grads((...ys: tf.Tensor[]) => tf.sum(f(...ys.concat(xs.slice(ys.length)))));
        return g(xs.slice(0, differentiable));
      });
    return { run, dispose: () => tf.dispose(xs) };
  };
  return {
    name,
    setup: wrap((...xs) => {
      const r = fused(...xs);
      if (!r) throw new Error(`${name}: fused kernel declined`);
      return r;
    }),
    reference: wrap(ops),
  };
}

const cases: Case[] = [
  simple("matmul 1024x768 @ (2048x768)^T", () => [rnd([1024, 768]), rnd([2048, 768])], (a, b) => tf.matMul(a, b, false, true)),
  simple("matmul grad dW 768x1024 @ 1024x2048", () => [rnd([1024, 768]), rnd([1024, 2048])], (a, b) => tf.matMul(a, b, true, false)),
  simple("batched 96x(128x64 @ 64x128)", () => [rnd([96, 128, 64]), rnd([96, 128, 64])], (a, b) => tf.matMul(a, b, false, true)),
  simple("add [1024,768] + [768]", () => [rnd([1024, 768]), rnd([768])], tf.add),
  simple("mul [1024,2048] * [1024,2048]", () => [rnd([1024, 2048]), rnd([1024, 2048])], tf.mul),
  simple("sigmoid [1024,2048]", () => [rnd([1024, 2048])], tf.sigmoid),
  simple("exp [1016,8192]", () => [rnd([1016, 8192])], tf.exp),
  simple("softmax [12288,128]", () => [rnd([12288, 128])], (x) => tf.softmax(x)),
  simple("transpose [8,128,12,64] -> [0,2,1,3]", () => [rnd([8, 128, 12, 64])], (x) => tf.transpose(x, [0, 2, 1, 3])),
  simple("sum [1024,768] axis 0", () => [rnd([1024, 768])], (x) => tf.sum(x, 0)),
  simple("slice half of [8,12,128,64] (last axis)", () => [rnd([8, 12, 128, 64])], (x) => tf.slice(x, [0, 0, 0, 32], [8, 12, 128, 32])),
  simple("gather 1024 rows of [8192,768]", () => [rnd([8192, 768]), tf.randomUniformInt([1024], 0, 8192, 2)], (t, i) => tf.gather(t, i)),
  simple("scatterND 1024 rows into [8192,768]", () => [tf.reshape(tf.randomUniformInt([1024], 0, 8192, 2), [1024, 1]), rnd([1024, 768])], (i, u) => tf.scatterND(i, u, [8192, 768])),
  fusedCase("rmsNorm fwd+bwd [1024,768]", () => [rnd([1024, 768]), rnd([768])], (x, w) => fusedKernels().rmsNorm?.(x, w as tf.Tensor1D, 1e-6), (x, w) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w), 2),
  fusedCase("swiglu fwd+bwd [1024,2048]", () => [rnd([1024, 2048]), rnd([1024, 2048])], (g, u) => fusedKernels().swiglu?.(g, u), (g, u) => tf.mul(tf.mul(g, tf.sigmoid(g)), u), 2),
  fusedCase(
    "attention fwd+bwd [8,12,128,64] causal",
    () => {
      const m = new Float32Array(128 * 128);
      for (let i = 0; i < 128; i++) for (let j = i + 1; j < 128; j++) m[i * 128 + j] = -1e9;
      return [rnd([8, 12, 128, 64]), rnd([8, 12, 128, 64]), rnd([8, 12, 128, 64]), tf.tensor2d(m, [128, 128])];
    },
    (q, k, v, m) => fusedKernels().attention?.(q, k, v, m as tf.Tensor2D, 0.125),
    (q, k, v, m) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 0.125), m)), v),
    3,
  ),
  {
    name: "nf4 x[1024,768] @ W[2048,768]^T: fused vs dequantize+matMul (both native)",
    referenceOnNative: true,
    setup() {
      const { packed, x } = qloraInputs(2048, 768, 1024);
      return { run: () => fusedKernels().dequantMatMul!(x, packed)!, dispose: () => tf.dispose([x, packed.packed, packed.scales]) };
    },
    reference() {
      const { packed, x } = qloraInputs(2048, 768, 1024);
      return { run: () => tf.tidy(() => tf.matMul(x, fusedKernels().dequantize!(packed)!, false, true)), dispose: () => tf.dispose([x, packed.packed, packed.scales]) };
    },
  },
  {
    name: "nf4 dequantize [2048,768]: native vs TF.js ops on wasm",
    setup() {
      const { packed, x } = qloraInputs(2048, 768, 1);
      return { run: () => fusedKernels().dequantize!(packed)!, dispose: () => tf.dispose([x, packed.packed, packed.scales]) };
    },
    reference() {
      const { packed, x } = qloraInputs(2048, 768, 1);
      return { run: () => dequantizeOps(packed), dispose: () => tf.dispose([x, packed.packed, packed.scales]) };
    },
  },
];

function time(c: Case, which: "native" | "wasm" | "native-reference"): number {
  const useRef = (which === "wasm" || which === "native-reference") && c.reference;
  const { run, dispose } = useRef ? c.reference!() : c.setup();
  const go = () => {
    const r = run();
    if (r) {
      const ts = Array.isArray(r) ? r : [r];
      ts[0].dataSync();
      tf.dispose(ts);
    }
  };
  go();
  const t0 = performance.now();
  go();
  const ms = performance.now() - t0;
  dispose();
  return ms;
}

async function main(): Promise<void> {
  await tf.setBackend("wasm");
  await ensureGradients();
  const rows: Array<{ kernel: string; nativeMs: number; wasmMs: number; speedup: number }> = [];
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const c of cases.filter((x) => x.name.includes(only))) {
    const n: number[] = [], w: number[] = [];
    for (let i = 0; i < reps; i++) {
      await enableNative();
      n.push(time(c, "native"));
      if (c.referenceOnNative) {
        w.push(time(c, "native-reference"));
        continue;
      }
      disableNative();
      w.push(time(c, "wasm"));
    }
    const row = { kernel: c.name, nativeMs: median(n), wasmMs: median(w), speedup: median(w) / median(n) };
    rows.push(row);
    if (!json) console.log(`${c.name.padEnd(44)} native ${row.nativeMs.toFixed(2).padStart(8)} ms  wasm ${row.wasmMs.toFixed(2).padStart(9)} ms  ${row.speedup.toFixed(1).padStart(6)}x`);
  }
  if (json) console.log(JSON.stringify({ bench: "kernels", reps, rows }));
}

await main();
