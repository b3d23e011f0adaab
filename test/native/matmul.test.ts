/**
 * BatchMatMul and _FusedMatMul on oneDNN against TF.js's own kernels: every
 * transpose combination, broadcast batches, odd and zero sizes, gradients,
 * and the opt-in bfloat16 mode. Tolerance (float32): |d| <= 1e-4 + 1e-4 |ref|.
 */
import * as tf from "@tensorflow/tfjs-core";
import { enableNative } from "../../lib/tensor/native/index.js";
import { Random } from "../../lib/util/random.js";
import { assertClose, assertSameOutputs, noLeaks, randn, runOn, size, useNativeSuite } from "./support.js";

const ATOL = 1e-4, RTOL = 1e-4;

function matmulCase(aShape: number[], bShape: number[], ta: boolean, tb: boolean, seed = 1) {
  const rng = new Random(seed);
  const a = randn(rng, size(aShape)), b = randn(rng, size(bShape));
  return () => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb);
}

/**
 * The same product with both batches broadcast explicitly first: TF.js's cpu
 * kernel mis-handles batches that broadcast on both sides ([2,1] x [1,3]), so
 * the reference never asks it to.
 */
function explicitCase(aShape: number[], bShape: number[], ta: boolean, tb: boolean, seed = 1) {
  const rng = new Random(seed);
  const a = randn(rng, size(aShape)), b = randn(rng, size(bShape));
  const ra = aShape.length - 2, rb = bShape.length - 2, r = Math.max(ra, rb);
  const pad = (s: number[], k: number) => [...new Array(r - k).fill(1), ...s];
  const batchA = pad(aShape.slice(0, -2), ra), batchB = pad(bShape.slice(0, -2), rb);
  const batch = batchA.map((d, i) => Math.max(d, batchB[i]));
  return () => {
    const A = tf.broadcastTo(tf.reshape(tf.tensor(a, aShape), [...batchA, ...aShape.slice(-2)]), [...batch, ...aShape.slice(-2)]);
    const B = tf.broadcastTo(tf.reshape(tf.tensor(b, bShape), [...batchB, ...bShape.slice(-2)]), [...batch, ...bShape.slice(-2)]);
    return tf.matMul(A, B, ta, tb);
  };
}

/** [a shape, b shape] before transposes are applied (M=5, K=7, N=3 unless odd). */
function shapesFor(batchA: number[], batchB: number[], m: number, k: number, n: number, ta: boolean, tb: boolean): [number[], number[]] {
  return [[...batchA, ...(ta ? [k, m] : [m, k])], [...batchB, ...(tb ? [n, k] : [k, n])]];
}

describe("native BatchMatMul", () => {
  useNativeSuite();
  const batches: Array<[number[], number[]]> = [
    [[], []],
    [[3], [3]],
    [[4], []],
    [[], [4]],
    [[4], [1]],
    [[1], [4]],
    [[2, 3], [2, 3]],
    [[2, 1], [1, 3]],
    [[2, 3], [3]],
    [[6, 2, 1], [2, 5]],
  ];
  for (const [ba, bb] of batches) {
    it(`matches the cpu and wasm kernels for batches ${JSON.stringify(ba)} x ${JSON.stringify(bb)}, all transposes`, async () => {
      await noLeaks(async () => {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const [as, bs] = shapesFor(ba, bb, 5, 7, 3, ta, tb);
            const f = matmulCase(as, bs, ta, tb);
            const got = await runOn("native", f);
            const ref = await runOn("cpu", explicitCase(as, bs, ta, tb));
            if (ba.length !== bb.length) ref[0].shape = got[0].shape; // a rank-2 side adds no batch axes
            assertSameOutputs(got, ref, ATOL, RTOL, `a ${as} b ${bs} ta ${ta} tb ${tb} vs cpu`);
            // The wasm kernel itself only broadcasts a batch of one, so compare with it where it can.
            const wasmCan = ba.length <= 1 && bb.length <= 1;
            if (wasmCan) assertSameOutputs(got, await runOn("wasm", f), ATOL, RTOL, `vs wasm`);
          }
        }
      });
    });
  }

  it("handles odd and large sizes (1x1x1, 7x13x5, 127x65x33, 300x257x129)", async () => {
    for (const [m, k, n] of [[1, 1, 1], [7, 13, 5], [127, 65, 33], [300, 257, 129]]) {
      for (const [ta, tb] of [[false, false], [true, true], [false, true]] as const) {
        const [as, bs] = shapesFor([2], [2], m, k, n, ta, tb);
        const f = matmulCase(as, bs, ta, tb, m);
        assertSameOutputs(await runOn("native", f), await runOn("cpu", f), 1e-3, 1e-4, `${m}x${k}x${n} ta ${ta} tb ${tb}`);
      }
    }
  });

  it("handles zero-size operands (M, N, K or batch of 0)", async () => {
    const cases: Array<[number[], number[], number[], number]> = [
      [[0, 4], [4, 3], [0, 3], 0],
      [[5, 0], [0, 3], [5, 3], 0],
      [[5, 4], [4, 0], [5, 0], 0],
      [[0, 5, 4], [4, 3], [0, 5, 3], 0],
      [[2, 5, 0], [2, 0, 3], [2, 5, 3], 0],
    ];
    for (const [as, bs, shape, fill] of cases) {
      const [out] = await runOn("native", () => tf.matMul(tf.ones(as), tf.ones(bs)));
      if (JSON.stringify(out.shape) !== JSON.stringify(shape)) throw new Error(`${as} x ${bs}: shape ${out.shape}, expected ${shape}`);
      if (!out.values.every((v) => v === fill)) throw new Error(`${as} x ${bs}: expected all ${fill}`);
    }
  });

  it("gives the same gradients as the cpu backend (batched, transposed)", async () => {
    const rng = new Random(7);
    // TF.js 4.22's BatchMatMul gradient does not reduce broadcast batch axes on
    // any backend, so gradients are checked on equal batches.
    const a = randn(rng, 2 * 3 * 5 * 4), b = randn(rng, 2 * 3 * 6 * 4), c = randn(rng, 2 * 3 * 5 * 6);
    const f = () => {
      const A = tf.tensor(a, [2, 3, 5, 4]), B = tf.tensor(b, [2, 3, 6, 4]), C = tf.tensor(c, [2, 3, 5, 6]);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, false, true), C)));
      return g([A, B]);
    };
    assertSameOutputs(await runOn("native", f), await runOn("cpu", f), ATOL, RTOL, "grads");
  });

  it("falls back to the original kernel for int32 inputs", async () => {
    const f = () => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"), tf.tensor2d([5, 6, 7, 8], [2, 2], "int32"));
    // The original is tfjs-backend-cpu's kernel, which multiplies int32 exactly.
    const native = await runOn("native", f);
    assertSameOutputs(native, await runOn("cpu", f), 0, 0, "int32 matmul");
    if (native[0].values[0] !== 19 || !(native[0].values instanceof Int32Array)) throw new Error(`int32 matmul gave ${native[0].values}`);
  });

  it("in bf16 mode stays within bfloat16 rounding of float32 (|d| <= 2e-2 |ref| + 2e-2)", async () => {
    const [as, bs] = [[4, 64, 96], [4, 80, 96]];
    const f = matmulCase(as, bs, false, true, 3);
    const ref = await runOn("cpu", f);
    try {
      await enableNative({ bf16: true });
      const got = await runOn("native", f);
      assertSameOutputs(got, ref, 2e-2 * Math.sqrt(96), 2e-2, "bf16 matmul");
      const exact = got[0].values.every((v, i) => v === ref[0].values[i]);
      if (exact) throw new Error("bf16 results equal float32 exactly: bf16 rounding is not applied");
    } finally {
      await enableNative({ bf16: false });
    }
  });
});

describe("native _FusedMatMul", () => {
  useNativeSuite();
  const acts = ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu", "prelu"] as const;
  for (const activation of acts) {
    it(`matches the cpu kernel with bias and ${activation}`, async () => {
      await noLeaks(async () => {
        const rng = new Random(11);
        const a = randn(rng, 3 * 6 * 8), b = randn(rng, 8 * 5), bias = randn(rng, 5), bias2 = randn(rng, 6 * 5), pw = randn(rng, 5);
        for (const [biasVals, biasShape] of [[bias, [5]], [bias2, [6, 5]]] as const) {
          for (const tb of [false, true]) {
            const f = () =>
              tf.fused.matMul({
                a: tf.tensor(a, [3, 6, 8]),
                b: tb ? tf.transpose(tf.tensor(b, [8, 5])) : tf.tensor(b, [8, 5]),
                transposeB: tb,
                bias: tf.tensor(biasVals, [...biasShape]),
                activation,
                preluActivationWeights: activation === "prelu" ? tf.tensor1d(pw) : undefined,
                leakyreluAlpha: 0.1,
              });
            assertSameOutputs(await runOn("native", f), await runOn("cpu", f), ATOL, RTOL, `${activation} bias ${biasShape} tb ${tb}`);
          }
        }
      });
    });
  }

  it("gives the same gradients as the cpu backend (bias + relu)", async () => {
    const rng = new Random(5);
    const a = randn(rng, 6 * 8), b = randn(rng, 8 * 5), bias = randn(rng, 5);
    const f = () => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: "relu" }))));
      return g([tf.tensor(a, [6, 8]), tf.tensor(b, [8, 5]), tf.tensor(bias, [5])]);
    };
    assertSameOutputs(await runOn("native", f), await runOn("cpu", f), ATOL, RTOL, "fused grads");
  });
});

describe("native kernels vs direct host reference", () => {
  useNativeSuite();
  it("computes a 2x2 product exactly", async () => {
    const out = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync().slice());
    assertClose(out, [19, 22, 43, 50], 0, 0, "2x2");
  });
});
