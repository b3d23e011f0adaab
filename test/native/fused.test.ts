/**
 * The fused-kernel registry on the native backend against plain TF.js
 * compositions run on the original wasm kernels: AdamW (several steps,
 * weight decay, shared tensor data), int8/int4/nf4 dequantization and the
 * dequantize-matmul (values and gradient), and the decoder blocks (RMSNorm,
 * SwiGLU, rotary, attention, cross-entropy rows) with their gradients.
 * Tolerance: |d| <= 1e-5 + 1e-4 |ref| unless stated.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels, type PackedWeight } from "../../lib/tensor/fused.js";
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from "../../lib/formats/dtype.js";
import { Random } from "../../lib/util/random.js";
import { assertClose, assertSameOutputs, noLeaks, randn, runOn, size, useNativeSuite } from "./support.js";

const NF4 = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

/** Packs random codes in the layout documented in lib/tensor/fused.ts and returns the dense values too. */
function packRandom(kind: PackedWeight["kind"], rows: number, cols: number, block: number, rng: Random) {
  const n = rows * cols;
  const dense = new Float32Array(n);
  if (kind === "bf16" || kind === "f16") {
    // Random 16-bit patterns of finite values in roughly [-4, 4], decoded by the reference converters.
    const halves = new Uint16Array(2 * Math.ceil(n / 2));
    for (let e = 0; e < n; e++) {
      const v = rng.normal(0, 1);
      halves[e] = kind === "bf16" ? floatToBf16(v) : floatToHalf(v);
      dense[e] = kind === "bf16" ? bf16ToFloat(halves[e]) : halfToFloat(halves[e]);
    }
    return { packed: new Int32Array(halves.buffer), scales: new Float32Array(0), dense, block: cols };
  }
  if (kind === "int8") {
    const bytes = new Int8Array(Math.ceil(n / 4) * 4);
    const scales = Float32Array.from({ length: rows }, () => rng.float() + 0.01);
    for (let e = 0; e < n; e++) {
      const q = rng.int(255) - 127;
      bytes[e] = q;
      dense[e] = q * scales[Math.floor(e / cols)];
    }
    return { packed: new Int32Array(bytes.buffer), scales, dense, block: cols };
  }
  const words = new Int32Array(Math.ceil(n / 8));
  const scales = Float32Array.from({ length: n / block }, () => rng.float() + 0.01);
  for (let e = 0; e < n; e++) {
    const code = kind === "int4" ? 1 + rng.int(15) : rng.int(16);
    words[e >> 3] |= code << (4 * (e & 7));
    const s = scales[Math.floor(e / block)];
    dense[e] = kind === "int4" ? (code - 8) * s : NF4[code] * s;
  }
  return { packed: words, scales, dense, block };
}

describe("native fused kernels: optimizer and quantization", () => {
  useNativeSuite();

  it("adamw matches the PyTorch update rule computed with TF.js ops over 5 steps", async () => {
    await noLeaks(async () => {
      const rng = new Random(1);
      const n = 1000;
      const p0 = randn(rng, n), grads = Array.from({ length: 5 }, () => randn(rng, n));
      const h = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
      const [p, m, v] = tf.tidy(() => [tf.variable(tf.tensor1d(p0)), tf.variable(tf.zeros([n])), tf.variable(tf.zeros([n]))]);
      const shared = tf.clone(p); // shares p's data: the in-place update must not change it
      let P: tf.Tensor = tf.tensor1d(p0), M: tf.Tensor = tf.zeros([n]), V: tf.Tensor = tf.zeros([n]);
      for (let t = 1; t <= 5; t++) {
        const g = tf.tensor1d(grads[t - 1]);
        if (!fusedKernels().adamw!(p, g, m, v, { ...h, step: t })) throw new Error("fused adamw declined");
        const [P2, M2, V2] = tf.tidy(() => {
          const m2 = tf.add(tf.mul(M, h.beta1), tf.mul(g, 1 - h.beta1));
          const v2 = tf.add(tf.mul(V, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
          const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(1 - h.beta2 ** t)), h.eps);
          const p2 = tf.sub(tf.mul(P, 1 - h.lr * h.weightDecay), tf.mul(tf.div(m2, denom), h.lr / (1 - h.beta1 ** t)));
          return [p2, m2, v2];
        });
        tf.dispose([P, M, V, g]);
        [P, M, V] = [P2, M2, V2];
      }
      assertClose(p.dataSync(), P.dataSync(), 1e-6, 1e-5, "param");
      assertClose(m.dataSync(), M.dataSync(), 1e-7, 1e-5, "m");
      assertClose(v.dataSync(), V.dataSync(), 1e-9, 1e-5, "v");
      assertClose(shared.dataSync(), p0, 0, 0, "tensor sharing the initial data");
      tf.dispose([p, m, v, shared, P, M, V]);
    });
  });

  it("adamw declines mismatched sizes and dtypes", () => {
    const [p, m, v] = tf.tidy(() => [tf.variable(tf.zeros([4])), tf.variable(tf.zeros([4])), tf.variable(tf.zeros([4]))]);
    const g = tf.zeros([5]), gi = tf.zeros([4], "int32");
    const h = { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, step: 1 };
    const ok = fusedKernels().adamw!(p, g, m, v, h) || fusedKernels().adamw!(p, gi, m, v, h);
    tf.dispose([p, m, v, g, gi]);
    if (ok) throw new Error("adamw accepted a bad gradient");
  });

  // Shapes: [lead, rows, cols]. One or a few rows of x take the streaming (decoding) path, more rows the tiled
  // GEMM path; 70,000 rows of 64 span two dequantization tiles (4M floats each).
  const cases: Array<{ lead: number[]; rows: number; cols: number }> = [
    { lead: [3, 5], rows: 48, cols: 128 },
    { lead: [1], rows: 48, cols: 128 },
    { lead: [2, 3], rows: 40, cols: 192 },
    { lead: [12], rows: 70_000, cols: 64 },
  ];
  for (const kind of ["int8", "int4", "nf4", "bf16", "f16"] as const) {
    it(`dequantizes ${kind} exactly and its fused matmul (and gradient) matches x @ W^T, streamed and tiled`, async () => {
      await noLeaks(async () => {
        const rng = new Random(kind.length);
        for (const { lead, rows, cols } of cases) {
          if (rows > 1000 && kind !== "bf16" && kind !== "nf4") continue; // the tiling does not depend on the kind
          const t = size(lead);
          const { packed, scales, dense, block } = packRandom(kind, rows, cols, 64, rng);
          const w: PackedWeight = { kind, rows, cols, blockSize: block, packed: tf.tensor1d(packed, "int32"), scales: tf.tensor1d(scales) };
          const deq = fusedKernels().dequantize!(w)!;
          assertClose(deq.dataSync(), dense, 0, 1e-7, `${kind} dequantize`);
          const ids = [0, rows - 1, 7 % rows, 3];
          const idT = tf.tensor2d(ids, [2, 2], "int32");
          const looked = fusedKernels().dequantizeRows!(w, idT)!;
          const wantRows = new Float32Array(ids.length * cols);
          ids.forEach((r, i) => wantRows.set(dense.subarray(r * cols, (r + 1) * cols), i * cols));
          if (JSON.stringify(looked.shape) !== JSON.stringify([2, 2, cols])) throw new Error(`${kind} rows: shape ${looked.shape}`);
          assertClose(looked.dataSync(), wantRows, 0, 1e-7, `${kind} dequantizeRows`);
          const x = randn(rng, t * cols), dy = randn(rng, t * rows);
          const [y, dx, loss] = tf.tidy(() => {
            const xt = tf.tensor(x, [...lead, cols]);
            const g = tf.valueAndGrad((xi: tf.Tensor) => tf.sum(tf.mul(fusedKernels().dequantMatMul!(xi, w)!, tf.tensor(dy, [...lead, rows]))));
            const { value, grad } = g(xt);
            return [fusedKernels().dequantMatMul!(xt, w)!, grad, value];
          });
          const want = await runOn("cpu", () => {
            const W = tf.tensor(dense, [rows, cols]);
            const xt = tf.tensor(x, [...lead, cols]);
            const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.matMul(tf.reshape(xi, [t, cols]), W, false, true), [...lead, rows]), tf.tensor(dy, [...lead, rows]))));
            return [tf.reshape(tf.matMul(tf.reshape(xt, [t, cols]), W, false, true), [...lead, rows]), g(xt)];
          });
          const what = `${kind} dequantMatMul [${lead}] x [${rows}, ${cols}]`;
          assertSameOutputs([{ shape: y.shape, values: y.dataSync() as Float32Array }, { shape: dx.shape, values: dx.dataSync() as Float32Array }], want, 1e-4, 1e-4, what);
          tf.dispose([deq, idT, looked, y, dx, loss, w.packed, w.scales]);
        }
      });
    });
  }

  it("16-bit conversions round to nearest even like torch (bf16) and IEEE (f16)", () => {
    // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0); 1 + 3*2^-8 rounds up.
    if (bf16ToFloat(floatToBf16(1 + 2 ** -8)) !== 1 || bf16ToFloat(floatToBf16(1 + 3 * 2 ** -8)) !== 1 + 2 ** -6) throw new Error("bf16 rounding");
    if (halfToFloat(floatToHalf(65504)) !== 65504 || halfToFloat(floatToHalf(70000)) !== Infinity || halfToFloat(floatToHalf(2 ** -24)) !== 2 ** -24) throw new Error("f16 range");
    if (halfToFloat(floatToHalf(1 + 2 ** -11)) !== 1 || !Number.isNaN(halfToFloat(floatToHalf(NaN)))) throw new Error("f16 rounding or NaN");
  });
});

describe("native fused kernels: decoder blocks", () => {
  useNativeSuite();
  const rng = new Random(33);

  /** Runs fused(...) on native and reference(...) on the original wasm kernels, values and gradients. */
  async function check(name: string, shapes: number[][], fused: (...xs: tf.Tensor[]) => tf.Tensor | undefined, reference: (...xs: tf.Tensor[]) => tf.Tensor, atol = 1e-5, rtol = 1e-4) {
    const data = shapes.map((s) => randn(rng, size(s)));
    const make = () => data.map((d, i) => tf.tensor(d, shapes[i]));
    const outShape = tf.tidy(() => reference(...make()).shape);
    const dy = randn(rng, size(outShape));
    const run = (f: (...xs: tf.Tensor[]) => tf.Tensor) => () => {
      const xs = make();
      const y = f(...xs);
      const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), tf.tensor(dy, outShape))))(xs);
      return [y, ...grads];
    };
    await noLeaks(async () => {
      const got = await runOn("native", run((...xs) => {
        const r = fused(...xs);
        if (!r) throw new Error(`${name}: the fused kernel declined`);
        return r;
      }));
      assertSameOutputs(got, await runOn("wasm", run(reference)), atol, rtol, name);
    });
  }

  it("rmsNorm matches weight * x / sqrt(mean(x^2) + eps), gradients for x and weight", async () => {
    const ref = (x: tf.Tensor, w: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w);
    for (const shape of [[2, 5, 64], [7, 33], [1, 1]]) {
      await check(`rmsNorm ${shape}`, [shape, [shape[shape.length - 1]]], (x, w) => fusedKernels().rmsNorm!(x, w as tf.Tensor1D, 1e-6), ref);
    }
  });

  it("swiglu matches gate * sigmoid(gate) * up", async () => {
    await check("swiglu", [[3, 7, 40], [3, 7, 40]], (g, u) => fusedKernels().swiglu!(g, u), (g, u) => tf.mul(tf.mul(g, tf.sigmoid(g)), u));
  });

  it("rotary matches x * cos + rotate_half(x) * sin, gradient through the inverse rotation", async () => {
    const T = 6, hd = 8;
    const cos = randn(rng, T * hd), sin = randn(rng, T * hd);
    const ref = (x: tf.Tensor) => {
      const [x1, x2] = tf.split(x, 2, 3);
      return tf.add(tf.mul(x, tf.tensor(cos, [T, hd])), tf.mul(tf.concat([tf.neg(x2), x1], 3), tf.tensor(sin, [T, hd])));
    };
    await check("rotary", [[2, 3, T, hd]], (x) => fusedKernels().rotary!(x as tf.Tensor4D, tf.tensor(cos, [T, hd]) as tf.Tensor2D, tf.tensor(sin, [T, hd]) as tf.Tensor2D), ref);
  });

  it("attention matches softmax(q k^T * scale + mask) v, with and without a causal mask", async () => {
    const M = 10, N = 10, hd = 16;
    const maskVals = new Float32Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) if (j > i) maskVals[i * N + j] = -1e9;
    for (const withMask of [true, false]) {
      const mask = () => (withMask ? (tf.tensor(maskVals, [M, N]) as tf.Tensor2D) : null);
      const ref = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
        let s = tf.mul(tf.matMul(q, k, false, true), 0.25);
        const m = mask();
        if (m) s = tf.add(s, m);
        return tf.matMul(tf.softmax(s), v);
      };
      await check(`attention mask ${withMask}`, [[2, 3, M, hd], [2, 3, N, hd], [2, 3, N, 12]], (q, k, v) => fusedKernels().attention!(q, k, v, mask(), 0.25), ref);
    }
    // Grouped-query layout: more query rows than keys.
    await check("attention rectangular", [[2, 24, 8], [2, 6, 8], [2, 6, 8]], (q, k, v) => fusedKernels().attention!(q, k, v, null, 1), (q, k, v) => tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), v));
  });

  it("nllRows matches logsumexp(logits) - logits[label], gradient softmax - onehot", async () => {
    const N = 9, V = 50;
    const labels = Array.from({ length: N }, (_, i) => (i * 7) % V);
    const lab = () => tf.tensor1d(labels, "int32");
    const ref = (x: tf.Tensor) => {
      const picked = tf.sum(tf.mul(x, tf.oneHot(lab(), V)), 1);
      return tf.sub(tf.logSumExp(x, 1), picked);
    };
    await check("nllRows", [[N, V]], (x) => fusedKernels().nllRows!(x as tf.Tensor2D, lab() as tf.Tensor1D), ref);
  });

  it("declines inputs it does not handle (wrong dtype or shape)", () => {
    tf.tidy(() => {
      const f = fusedKernels();
      const bad = [
        f.rmsNorm!(tf.ones([2, 4]), tf.ones([3]) as tf.Tensor1D, 1e-6),
        f.swiglu!(tf.ones([2, 4]), tf.ones([4, 2])),
        f.rotary!(tf.ones([1, 1, 2, 3]) as tf.Tensor4D, tf.ones([2, 3]) as tf.Tensor2D, tf.ones([2, 3]) as tf.Tensor2D),
        f.attention!(tf.ones([2, 4, 8]), tf.ones([3, 4, 8]), tf.ones([3, 4, 8]), null, 1),
        f.nllRows!(tf.ones([3, 5]) as tf.Tensor2D, tf.ones([3]) as tf.Tensor1D),
      ];
      if (bad.some((r) => r !== undefined)) throw new Error(`a fused kernel accepted bad input: ${bad.map((r) => r !== undefined)}`);
    });
  });
});
