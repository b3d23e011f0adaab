/**
 * Elementwise, softmax and layout kernels against the wasm backend's own
 * kernels (and the cpu backend): broadcasting patterns, special values,
 * zero-size tensors, gradients. Tolerance: |d| <= 1e-6 + 2e-6 |ref| except
 * exp-based ops (vectorized exp, ~2 ulp: 1e-6 + 1e-5 |ref|).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Random } from "../../lib/util/random.js";
import { assertSameOutputs, noLeaks, randn, runOn, size, useNativeSuite } from "./support.js";

const SPECIAL = [0, -0, 1, -1, 0.5, -2.5, 3e-8, -7e-6, 20, -20, 88, -88, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN];

describe("native elementwise kernels", () => {
  useNativeSuite();

  const binaries: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ["add", tf.add],
    ["sub", tf.sub],
    ["mul", tf.mul],
    ["div", tf.div],
    ["maximum", tf.maximum],
    ["minimum", tf.minimum],
    ["squaredDifference", tf.squaredDifference],
    ["prelu", (a, b) => tf.prelu(a, b)],
  ];
  const patterns: Array<[number[], number[]]> = [
    [[7, 5], [7, 5]],
    [[7, 5], [5]],
    [[7, 5], [7, 1]],
    [[7, 1], [1, 5]],
    [[2, 3, 4, 5], [3, 1, 5]],
    [[2, 1, 4, 1], [1, 3, 1, 5]],
    [[3, 4], []],
    [[], [3, 4]],
    [[0, 4], [4]],
    [[40000], [40000]],
    [[64, 1031], [1031]],
  ];
  for (const [name, op] of binaries) {
    it(`${name} matches the wasm kernel on broadcast patterns and special values`, async () => {
      await noLeaks(async () => {
        const rng = new Random(3);
        for (const [as, bs] of patterns) {
          if (name === "prelu" && size(bs) > size(as)) continue; // prelu broadcasts alpha into x's shape
          const a = randn(rng, size(as), 3), b = randn(rng, size(bs), 3);
          const f = () => op(tf.tensor(a, as), tf.tensor(b, bs));
          // wasm's Prelu reads alpha per last-axis channel only; the cpu kernel broadcasts fully.
          const ref = name === "prelu" ? "cpu" : "wasm";
          assertSameOutputs(await runOn("native", f), await runOn(ref, f), 1e-6, 2e-6, `${name} ${as} ${bs}`);
        }
        const sa = Float32Array.from(SPECIAL), sb = Float32Array.from(SPECIAL).reverse();
        const f = () => op(tf.tensor1d(sa), tf.tensor1d(sb));
        assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-6, 2e-6, `${name} special values`);
      });
    });
  }

  const unaries: Array<[string, (x: tf.Tensor) => tf.Tensor, number]> = [
    ["neg", tf.neg, 2e-6],
    ["exp", tf.exp, 1e-5],
    ["log", tf.log, 2e-6],
    ["sqrt", tf.sqrt, 2e-6],
    ["rsqrt", tf.rsqrt, 2e-6],
    ["square", tf.square, 2e-6],
    ["abs", tf.abs, 2e-6],
    ["relu", tf.relu, 2e-6],
    ["relu6", tf.relu6, 2e-6],
    ["elu", tf.elu, 1e-5],
    ["sigmoid", tf.sigmoid, 1e-5],
    ["tanh", tf.tanh, 1e-5],
    ["leakyRelu", (x) => tf.leakyRelu(x, 0.3), 2e-6],
    ["reciprocal", tf.reciprocal, 2e-6],
  ];
  for (const [name, op, rtol] of unaries) {
    it(`${name} matches the reference on random and special values`, async () => {
      await noLeaks(async () => {
        const rng = new Random(4);
        const vals = new Float32Array([...randn(rng, 1000, 4), ...SPECIAL]);
        const f = () => op(tf.tensor1d(vals));
        // The cpu backend computes in float64 then rounds: the stricter reference.
        assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-6, rtol, name);
        const empty = () => op(tf.zeros([0, 3]));
        assertSameOutputs(await runOn("native", empty), await runOn("wasm", empty), 0, 0, `${name} empty`);
      });
    });
  }

  it("softmax matches the wasm kernel, with -1e9 masks, -inf and large rows", async () => {
    const rng = new Random(5);
    for (const shape of [[3, 7], [2, 4, 128], [5, 4096], [1, 1]]) {
      const x = randn(rng, size(shape), 5);
      for (let i = 0; i < x.length; i += 3) x[i] = -1e9;
      const f = () => tf.softmax(tf.tensor(x, shape));
      assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 1e-7, 1e-5, `softmax ${shape}`);
    }
    const g = () => tf.softmax(tf.tensor2d([[-Infinity, 0, 1], [2, 2, 2]]));
    assertSameOutputs(await runOn("native", g), await runOn("cpu", g), 1e-7, 1e-5, "softmax -inf");
  });

  it("gives the same gradients as wasm through a chain of replaced ops", async () => {
    const rng = new Random(6);
    const x = randn(rng, 4 * 6 * 8), w = randn(rng, 8);
    const f = () => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const h = tf.mul(tf.sigmoid(a), tf.add(a, b));
        const s = tf.softmax(tf.div(h, tf.sqrt(tf.add(tf.square(b), 1))));
        return tf.sum(tf.mul(tf.exp(tf.neg(s)), tf.tanh(h)));
      });
      return g([tf.tensor(x, [4, 6, 8]), tf.tensor(w, [8])]);
    };
    assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 1e-5, 1e-4, "chain grads");
  });
});

describe("native layout kernels", () => {
  useNativeSuite();
  const rng = new Random(9);
  const x = randn(rng, 2 * 3 * 4 * 5);
  const X = () => tf.tensor(x, [2, 3, 4, 5]);

  it("identity shares data without copying and keeps values", async () => {
    await noLeaks(async () => {
      const f = () => tf.clone(X());
      assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 0, 0, "clone");
      const t = tf.tensor1d([1, 2, 3]);
      const c = tf.clone(t);
      t.dispose();
      const v = c.dataSync();
      if (v[2] !== 3) throw new Error("a clone lost its data when the original was disposed");
      c.dispose();
    });
  });

  it("slice, split and concat match the wasm kernels (contiguous and strided, float32/int32/bool)", async () => {
    await noLeaks(async () => {
      const cases: Array<[string, () => tf.Tensor | tf.Tensor[]]> = [
        ["slice rows", () => tf.slice(X(), [1, 0, 0, 0], [1, 3, 4, 5])],
        ["slice strided", () => tf.slice(X(), [0, 1, 1, 2], [2, 2, 3, 2])],
        ["slice empty", () => tf.slice(X(), [0, 0, 0, 0], [2, 0, 4, 5])],
        ["split last", () => tf.split(X(), [2, 3], 3)],
        ["split middle", () => tf.split(X(), 2, 2)],
        ["concat last", () => tf.concat([X(), tf.neg(X())], 3)],
        ["concat first", () => tf.concat([X(), X(), X()], 0)],
        ["concat with empty", () => tf.concat([tf.zeros([2, 3, 4, 0]), X()], 3)],
        ["int32 slice", () => tf.slice(tf.reshape(tf.range(0, 60, 1, "int32"), [3, 4, 5]), [1, 1, 1], [2, 2, 3])],
        ["bool concat", () => tf.concat([tf.greater(X(), 0), tf.less(X(), 0)], 1)],
      ];
      for (const [name, f] of cases) assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 0, 0, name);
    });
  });

  it("pad matches the wasm kernel (every axis, constants, int32, empty input) and is the gradient of slice", async () => {
    await noLeaks(async () => {
      const cases: Array<[string, () => tf.Tensor | tf.Tensor[]]> = [
        ["pad every axis", () => tf.pad(X(), [[1, 0], [0, 2], [1, 1], [3, 0]])],
        ["pad with a constant", () => tf.pad(X(), [[0, 0], [0, 0], [0, 0], [2, 2]], -1.5)],
        ["pad int32", () => tf.pad(tf.reshape(tf.range(0, 12, 1, "int32"), [3, 4]), [[1, 1], [0, 3]], 7)],
        ["pad empty", () => tf.pad(tf.zeros([2, 0]), [[1, 0], [1, 1]], 2)],
        ["slice gradient", () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.slice(x, [0, 1, 0, 2], [2, 2, 4, 3]), 3)))(X())],
      ];
      for (const [name, f] of cases) assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 0, 0, name);
    });
  });

  it("transpose matches for every permutation of a rank-4 tensor", async () => {
    const perms: number[][] = [];
    const permute = (p: number[], rest: number[]) => {
      if (rest.length === 0) perms.push(p);
      rest.forEach((r, i) => permute([...p, r], [...rest.slice(0, i), ...rest.slice(i + 1)]));
    };
    permute([], [0, 1, 2, 3]);
    for (const perm of perms) {
      const f = () => tf.transpose(X(), perm);
      assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 0, 0, `perm ${perm}`);
    }
  });

  it("cast converts between float32, int32 and bool like the wasm kernel", async () => {
    const vals = Float32Array.from([0, -0, 1.7, -1.7, 2.5, -2.5, 1e9, -3, 0.2]);
    for (const [from, to] of [["float32", "int32"], ["float32", "bool"], ["int32", "float32"], ["int32", "bool"], ["bool", "float32"], ["bool", "int32"], ["float32", "float32"]] as const) {
      const f = () => tf.cast(tf.cast(tf.tensor1d(vals), from), to);
      // wasm truncates floats into a byte for bool (-1.7 -> 255, 0.2 -> 0); TF.js's cpu kernel gives x != 0.
      const ref = to === "bool" || from === "bool" ? "cpu" : "wasm";
      assertSameOutputs(await runOn("native", f), await runOn(ref, f), 0, 0, `${from} -> ${to}`);
    }
  });

  it("sum, mean, max and min over contiguous axes match; other axes fall back", async () => {
    await noLeaks(async () => {
      const axes: Array<number | number[]> = [0, 1, 3, -1, [1, 2], [0, 1, 2], [2, 3], [0, 1, 2, 3], [0, 2]];
      for (const [name, op] of [["sum", tf.sum], ["mean", tf.mean], ["max", tf.max], ["min", tf.min]] as const) {
        for (const axis of axes) {
          for (const keep of [false, true]) {
            const f = () => op(X(), axis, keep);
            assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 1e-6, 1e-5, `${name} axis ${axis} keep ${keep}`);
          }
        }
      }
      const big = randn(rng, 3 * 5000);
      const f = () => [tf.sum(tf.tensor(big, [3, 5000]), 1), tf.max(tf.tensor(big, [3, 5000]), 1), tf.mean(tf.tensor(big, [3, 5000]), 0)];
      assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-4, 1e-5, "large rows");
    });
  });
});
