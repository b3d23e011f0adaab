import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { Random } from "../../lib/util/random.js";
import { quantizeHost, dequantizeHost, dequantizeOps, packWeight, packedBytes, QuantizedLinear, NF4_TABLE, type QuantKind } from "../../lib/model/quant.js";
import { setupBackend } from "./support.js";

function randomWeight(rows: number, cols: number, seed: number, spread = 0.05): Float32Array {
  const r = new Random(seed);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = r.normal(0, spread);
  // Outliers and a zero block make the edge cases visible.
  w[3] = 0.9;
  w[cols + 5] = -1.3;
  for (let i = 0; i < 64 && 2 * cols + i < w.length; i++) w[2 * cols + i] = 0;
  return w;
}

const KINDS: QuantKind[] = ["int8", "int4", "nf4"];

// The fused native kernels are compared with these TF.js paths in test/train/fused.test.ts
// (in a process of their own, since the native backend replaces kernels globally).
describe("model: quantized weights", () => {
  before(() => setupBackend());

  it("quantizes within each kind's error bound (half a step of its scale)", () => {
    const rows = 12, cols = 128;
    const w = randomWeight(rows, cols, 1);
    for (const kind of KINDS) {
      const q = quantizeHost(w, rows, cols, kind);
      const d = dequantizeHost(q, rows, cols, kind);
      for (let j = 0; j < w.length; j++) {
        const s = kind === "int8" ? q.scales[Math.floor(j / cols)] : q.scales[Math.floor(j / 64)];
        // NF4's widest gap between neighbouring levels bounds its error.
        const gap = Math.max(...NF4_TABLE.slice(1).map((v, c) => v - NF4_TABLE[c]));
        const bound = kind === "nf4" ? (s * gap) / 2 : s / 2;
        assert.ok(Math.abs(d[j] - w[j]) <= bound + 1e-7, `${kind} element ${j}: ${d[j]} vs ${w[j]} (bound ${bound})`);
      }
      // Exact zeros stay zero; the absmax element is exact.
      assert.equal(d[2 * cols], 0);
      assert.ok(Math.abs(d[cols + 5] - w[cols + 5]) < 1e-6);
    }
  });

  it("dequantizes with TF.js ops exactly as the host reference (signed bytes, high nibbles)", () => {
    for (const [rows, cols] of [[5, 64], [3, 7 * 64], [2, 6]] as const) {
      for (const kind of KINDS) {
        if (kind !== "int8" && cols % 64 !== 0) continue;
        const w = randomWeight(rows, cols, rows * cols);
        const q = quantizeHost(w, rows, cols, kind);
        const expect = dequantizeHost(q, rows, cols, kind);
        const p = packWeight(w, rows, cols, kind);
        const got = dequantizeOps(p);
        assert.deepEqual(got.shape, [rows, cols]);
        assert.deepEqual(Array.from(got.dataSync()), Array.from(expect), `${kind} [${rows}, ${cols}]`);
        got.dispose();
        p.packed.dispose();
        p.scales.dispose();
      }
    }
  });

  it("stores 4-bit weights in at most 1/6 of float32 and int8 in about 1/4", () => {
    for (const kind of KINDS) {
      const p = packWeight(randomWeight(256, 512, 2), 256, 512, kind);
      const ratio = packedBytes(p) / (256 * 512 * 4);
      if (kind === "int8") assert.ok(ratio < 0.26, `int8 ratio ${ratio}`);
      else assert.ok(ratio <= 1 / 6, `${kind} ratio ${ratio}`);
      tf.dispose([p.packed, p.scales]);
    }
  });

  it("QuantizedLinear computes x @ deq(W)^T + b with gradients for x only, re-dequantizing in the backward pass", () => {
    const rows = 48, cols = 128;
    const w = randomWeight(rows, cols, 3);
    const bias = tf.tensor1d(Array.from({ length: rows }, (_, i) => i / 100));
    const weight = tf.tensor2d(w, [rows, cols]);
    dequantizeOps(packWeight(w, rows, cols, "nf4")).dispose(); // builds the cached lookup table
    const before = tf.memory().numTensors;
    const ql = QuantizedLinear.fromDense("model.layers.0.mlp.up_proj", weight, bias, "nf4");
    const x = tf.randomNormal([2, 3, cols], 0, 1, "float32", 5);
    const deq = tf.tensor2d(dequantizeHost(quantizeHost(w, rows, cols, "nf4"), rows, cols, "nf4"), [rows, cols]);
    // Reference with plain ops (wasm's fused matmul mishandles bias with transposeB in tfjs 4.22).
    const reference = (xi: tf.Tensor) => tf.add(tf.reshape(tf.matMul(tf.reshape(xi, [-1, cols]), deq, false, true), [...xi.shape.slice(0, -1), rows]), bias);
    const expected = tf.tidy(() => reference(x));
    const y = ql.apply(x);
    assert.deepEqual(y.shape, [2, 3, rows]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]);
    assert.ok(diff < 1e-4, `forward differs by ${diff}`);
    const gq = tf.grad((xi: tf.Tensor) => tf.sum(tf.square(ql.apply(xi))))(x);
    const gd = tf.grad((xi: tf.Tensor) => tf.sum(tf.square(reference(xi))))(x);
    const gdiff = tf.tidy(() => tf.max(tf.abs(tf.sub(gq, gd))).dataSync()[0]);
    assert.ok(gdiff < 1e-3, `gradient differs by ${gdiff}`);
    assert.deepEqual(ql.variables().map((v) => v.trainable), [false]);
    tf.dispose([x, deq, expected, y, gq, gd]);
    ql.dispose();
    assert.equal(tf.memory().numTensors, before, "QuantizedLinear leaks tensors");
    tf.dispose([bias, weight]);
  });

  it("refuses 4-bit widths that are not a multiple of the block", () => {
    assert.throws(() => quantizeHost(new Float32Array(2 * 96), 2, 96, "nf4"), /multiple of the block size 64/);
  });
});
