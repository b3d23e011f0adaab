/**
 * UnsortedSegmentSum (missing on wasm: checked against the cpu backend),
 * GatherV2 and ScatterNd, including the embedding gradient through gather.
 * Tolerance |d| <= 1e-5 + 1e-5 |ref| (sums of a few floats in another order).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Random } from "../../lib/util/random.js";
import { assertSameOutputs, noLeaks, randn, runOn, useNativeSuite } from "./support.js";

describe("native scatter and gather kernels", () => {
  useNativeSuite();
  const rng = new Random(21);

  it("UnsortedSegmentSum matches the cpu backend (repeats, out-of-range ids, rank-2 ids, empty)", async () => {
    await noLeaks(async () => {
      const x = randn(rng, 6 * 4 * 3);
      const cases: Array<[string, () => tf.Tensor]> = [
        ["1-D ids", () => tf.unsortedSegmentSum(tf.tensor(x, [6, 12]), tf.tensor1d([0, 2, 2, 5, 0, 1], "int32"), 6)],
        ["out-of-range ids dropped", () => tf.unsortedSegmentSum(tf.tensor(x, [6, 12]), tf.tensor1d([0, -1, 9, 3, 3, 1], "int32"), 4)],
        ["rank-2 ids", () => tf.unsortedSegmentSum(tf.tensor(x, [6, 4, 3]), tf.tensor2d([[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0], [2, 2, 3, 3], [4, 4, 4, 4]], [6, 4], "int32") as unknown as tf.Tensor1D, 5)],
        ["vector x", () => tf.unsortedSegmentSum(tf.tensor1d(x.slice(0, 6)), tf.tensor1d([1, 1, 0, 2, 2, 2], "int32"), 3)],
        ["no rows", () => tf.unsortedSegmentSum(tf.zeros([0, 5]), tf.zeros([0], "int32"), 3)],
      ];
      for (const [name, f] of cases) {
        if (name === "rank-2 ids") {
          // The cpu kernel mis-broadcasts ids of rank > 1; its flattened equivalent is the reference.
          const ids = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0], [2, 2, 3, 3], [4, 4, 4, 4]].flat();
          const flat = () => tf.unsortedSegmentSum(tf.tensor(x, [24, 3]), tf.tensor1d(ids, "int32"), 5);
          assertSameOutputs(await runOn("native", f), await runOn("cpu", flat), 1e-5, 1e-5, name);
          continue;
        }
        assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-5, 1e-5, name);
      }
    });
  });

  it("gather matches the wasm kernel on every axis and dtype, and rejects bad indices", async () => {
    const x = randn(rng, 5 * 6 * 7);
    const idx = [4, 0, 0, 3];
    for (const axis of [0, 1, 2]) {
      const n = [5, 6, 7][axis];
      const ids = idx.map((i) => i % n);
      for (const dtype of ["float32", "int32", "bool"] as const) {
        const f = () => tf.gather(tf.cast(tf.tensor(x, [5, 6, 7]), dtype), tf.tensor2d(ids, [2, 2], "int32"), axis);
        assertSameOutputs(await runOn("native", f), await runOn(dtype === "bool" ? "cpu" : "wasm", f), 0, 0, `axis ${axis} ${dtype}`);
      }
    }
    let err: unknown;
    try {
      tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], "int32")).dataSync());
    } catch (e) {
      err = e;
    }
    if (!(err instanceof Error) || !/index 3 .*not in \[0, 3\)/.test(err.message)) throw new Error(`expected an index error, got ${String(err)}`);
  });

  it("gives the embedding gradient through gather (UnsortedSegmentSum) like the cpu backend", async () => {
    const table = randn(rng, 10 * 8), dy = randn(rng, 2 * 5 * 8);
    const ids = [[1, 3, 3, 9, 0], [0, 1, 1, 1, 7]];
    const f = () => {
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d(ids, [2, 5], "int32")), tf.tensor(dy, [2, 5, 8]))));
      return g(tf.tensor(table, [10, 8]));
    };
    assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-5, 1e-5, "embedding grad");
  });

  it("scatterND matches the wasm kernel for row and element indices", async () => {
    const upd = randn(rng, 6 * 4);
    const cases: Array<[string, () => tf.Tensor]> = [
      ["rows with repeats", () => tf.scatterND(tf.tensor2d([[1], [3], [1], [0], [5], [3]], [6, 1], "int32"), tf.tensor(upd, [6, 4]), [7, 4])],
      ["elements", () => tf.scatterND(tf.tensor2d([[0, 1], [2, 3], [0, 1]], [3, 2], "int32"), tf.tensor1d(upd.slice(0, 3)), [3, 4])],
    ];
    for (const [name, f] of cases) assertSameOutputs(await runOn("native", f), await runOn("wasm", f), 1e-6, 1e-6, name);
  });
});

