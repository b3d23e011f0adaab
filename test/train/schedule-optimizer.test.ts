import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { learningRate } from "../../lib/train/schedule.js";
import { Optimizer, clipByGlobalNorm, type OptimizerOptions } from "../../lib/train/optimizer.js";
import { DEFAULT_TRAIN, TrainConfigSchema } from "../../lib/train/config.js";
import { resolveConfig } from "../../lib/util/config.js";
import { checkpointingPays } from "../../lib/train/setup.js";
import { defineConfig } from "../../lib/model/create.js";
import { ConfigError } from "../../lib/util/errors.js";
import { setupBackend } from "../support/backend.js";

const BASE: OptimizerOptions = { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, momentum: 0.9, nesterov: true };

/** PyTorch's update rules in float64, written out independently of lib/train. */
function reference(name: "adamw" | "adam" | "sgd", p0: number[], grads: number[][], lr: number, o = BASE): number[] {
  const p = [...p0];
  const m = p.map(() => 0), v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let gi = g[i];
      if (name === "sgd") {
        gi += o.weightDecay * p[i];
        m[i] = t === 1 ? gi : o.momentum * m[i] + gi;
        const d = o.nesterov ? gi + o.momentum * m[i] : m[i];
        p[i] -= lr * d;
        continue;
      }
      if (name === "adamw") p[i] *= 1 - lr * o.weightDecay;
      else gi += o.weightDecay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
      const mh = m[i] / (1 - o.beta1 ** t), vh = v[i] / (1 - o.beta2 ** t);
      p[i] -= (lr * mh) / (Math.sqrt(vh) + o.eps);
    }
  });
  return p;
}

describe("train: schedules", () => {
  const o = { lr: 1, warmupSteps: 10, totalSteps: 110, minLrRatio: 0 };
  it("warms up linearly from 0 (the first update uses lr 0, as with PyTorch's LambdaLR)", () => {
    assert.equal(learningRate(0, { ...o, schedule: "cosine" }), 0);
    assert.equal(learningRate(5, { ...o, schedule: "cosine" }), 0.5);
    assert.equal(learningRate(5, { ...o, schedule: "constant" }), 0.5);
  });
  it("decays as LLM Studio's cosine, linear and constant schedules, with a floor", () => {
    assert.equal(learningRate(10, { ...o, schedule: "cosine" }), 1);
    assert.ok(Math.abs(learningRate(60, { ...o, schedule: "cosine" }) - 0.5) < 1e-12);
    assert.ok(Math.abs(learningRate(110, { ...o, schedule: "cosine" })) < 1e-12);
    assert.equal(learningRate(60, { ...o, schedule: "linear" }), 0.5);
    assert.equal(learningRate(100, { ...o, schedule: "constant" }), 1);
    assert.equal(learningRate(105, { ...o, schedule: "cosine", minLrRatio: 0.1 }), 0.1);
    assert.equal(learningRate(105, { ...o, schedule: "linear", minLrRatio: 0.1 }), 0.1);
  });
});

describe("train: config", () => {
  it("turns activation checkpointing on where it pays: real model sizes, not the embedded model", () => {
    const qwen05 = defineConfig({ vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numHiddenLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2 });
    const tiny = defineConfig({ vocabSize: 512, hiddenSize: 128, numHiddenLayers: 4, numAttentionHeads: 4 });
    assert.equal(DEFAULT_TRAIN.gradientCheckpointing, "auto");
    assert.equal(checkpointingPays(qwen05, DEFAULT_TRAIN), true);
    assert.equal(checkpointingPays(qwen05, { ...DEFAULT_TRAIN, batchSize: 1, data: { ...DEFAULT_TRAIN.data, maxLength: 64 } }), false);
    assert.equal(checkpointingPays(tiny, DEFAULT_TRAIN), false);
  });

  it("defaults to LLM Studio's settings and rejects unknown keys by name", () => {
    assert.equal(DEFAULT_TRAIN.lr, 1e-4);
    assert.equal(DEFAULT_TRAIN.batchSize, 2);
    assert.equal(DEFAULT_TRAIN.epochs, 1);
    assert.equal(DEFAULT_TRAIN.optimizer, "adamw");
    assert.equal(DEFAULT_TRAIN.schedule, "cosine");
    assert.deepEqual(DEFAULT_TRAIN.lora, { r: 4, alpha: 16, dropout: 0.05, targetModules: null, useRslora: false });
    assert.equal(DEFAULT_TRAIN.data.maskPromptLabels, true);
    assert.equal(DEFAULT_TRAIN.data.maxLength, 512);
    assert.equal(DEFAULT_TRAIN.loss, "token-averaged");
    assert.throws(() => resolveConfig(TrainConfigSchema, { learningRate: 1 }), (e: Error) => e instanceof ConfigError && /unknown config key 'learningRate'/.test(e.message));
    assert.throws(() => resolveConfig(TrainConfigSchema, { lora: { rank: 8 } }), (e: Error) => e instanceof ConfigError && /'lora\.rank'/.test(e.message));
    assert.throws(() => resolveConfig(TrainConfigSchema, { batchSize: "two" }), (e: Error) => e instanceof ConfigError && /'batchSize'/.test(e.message));
  });
});

describe("train: optimizers", () => {
  before(() => setupBackend());

  const p0 = [0.5, -1.25, 2, 0.03, -0.7, 1.1];
  const grads = [
    [0.1, -0.2, 0.3, 0.05, -0.4, 0.2],
    [-0.3, 0.1, 0.25, -0.05, 0.2, 0.1],
    [0.2, 0.2, -0.1, 0.5, -0.05, -0.3],
  ];

  for (const name of ["adamw", "adam", "sgd"] as const) {
    it(`${name} follows PyTorch's update rule`, () => {
      const v = tf.variable(tf.tensor2d(p0, [2, 3]));
      const opt = new Optimizer([{ name: "w", variable: v }], { ...BASE, name });
      for (const g of grads) {
        const gt = tf.tensor2d(g, [2, 3]);
        opt.apply(new Map([["w", gt]]), 0.01);
        gt.dispose();
      }
      const want = reference(name, p0, grads, 0.01);
      const got = Array.from(v.dataSync());
      got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-6, `${name}[${i}]: ${x} vs ${want[i]}`));
      assert.equal(opt.step, 3);
      opt.dispose();
      v.dispose();
    });
  }

  it("continues identically after its state is saved and restored", () => {
    const run = (restoreAfter: number | null): Float32Array => {
      const v = tf.variable(tf.tensor2d(p0, [2, 3]));
      let opt = new Optimizer([{ name: "w", variable: v }], BASE);
      grads.forEach((g, k) => {
        if (k === restoreAfter) {
          const saved = new Map(Object.entries(opt.stateTensors()).map(([n, t]) => [n, { data: Float32Array.from(t.dataSync()), shape: t.shape }]));
          const step = opt.step;
          opt.dispose();
          opt = new Optimizer([{ name: "w", variable: v }], BASE);
          opt.loadState(saved, step);
        }
        const gt = tf.tensor2d(g, [2, 3]);
        opt.apply(new Map([["w", gt]]), 0.01);
        gt.dispose();
      });
      const out = Float32Array.from(v.dataSync());
      opt.dispose();
      v.dispose();
      return out;
    };
    assert.deepEqual(run(2), run(null));
  });

  it("clips the global gradient norm like clip_grad_norm_", () => {
    const a = tf.tensor1d([3, 0]), b = tf.tensor1d([0, 4]);
    const { norm, grads: g } = clipByGlobalNorm(new Map([["a", a], ["b", b]]), 1);
    assert.ok(Math.abs(norm - 5) < 1e-6);
    const ga = g.get("a")!.dataSync();
    assert.ok(Math.abs(ga[0] - 3 / (5 + 1e-6)) < 1e-6);
    const kept = clipByGlobalNorm(new Map([["a", g.get("a")!]]), 10);
    assert.equal(kept.grads.get("a"), g.get("a"), "below the limit the gradients pass through");
    tf.dispose([...g.values()]);
  });
});
