/**
 * Training memory: activation checkpointing per decoder layer and the loss
 * over the vocabulary in row chunks give the loss and every gradient of the
 * plain path (native and cpu backends; full fine-tuning and LoRA with
 * dropout; GQA, tied embeddings, qwen2 biases), replay the forward pass's
 * LoRA state in the recomputation, leak nothing, and lower the peak of live
 * tensor bytes of a training step.
 */
import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { checkpointSequential, chunkedRows } from "../../lib/model/checkpoint.js";
import { createModel, type CausalLM } from "../../lib/model/index.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { TrainConfigSchema } from "../../lib/train/config.js";
import { prepareModel } from "../../lib/train/setup.js";
import { TslmError } from "../../lib/util/errors.js";
import { Random } from "../../lib/util/random.js";
import { assertClose, runOn, useNativeSuite, type Impl } from "../native/support.js";

/** GQA (4 query heads, 2 KV heads), tied embeddings, q/k/v biases. */
const CFG = { vocabSize: 96, hiddenSize: 64, numHiddenLayers: 3, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 80, tieWordEmbeddings: true, modelType: "qwen2" as const };
const B = 2, T = 20;

function batch(seed: number, vocab = CFG.vocabSize, b = B, t = T): number[][] {
  const rng = new Random(seed);
  return Array.from({ length: b }, () => Array.from({ length: t }, () => rng.int(vocab)));
}

/** Labels with some positions ignored. */
function labelsOf(ids: number[][]): number[][] {
  return ids.map((row, b) => row.map((x, t) => ((t + b) % 5 === 3 ? -100 : x)));
}

/**
 * "full": every weight trains. "lora": adapters on every layer but the head. "lora+head": on q,
 * down and the (trainable, so recomputed) head, the head without dropout. "lora+head-dropout":
 * the same with dropout on the head too.
 */
type Method = "full" | "lora" | "lora+head" | "lora+head-dropout";

/** A fresh model prepared for `method`: LoRA with dropout in training mode and non-zero B, so every adapter weight gets a gradient. */
function build(method: Method): { model: CausalLM; lora: LoraModel | null } {
  const model = createModel(CFG, { seed: 3, initStd: 0.2 });
  if (method === "full") return { model, lora: null };
  const targets = method === "lora" ? null : ["q_proj", "down_proj", "lm_head"];
  const headSettings = (m: string) => (m === "lm_head" && method === "lora+head" ? { dropout: 0 } : {});
  const lora = new LoraModel(model, { r: 4, alpha: 8, dropout: 0.2, targetModules: targets }, { seed: 1, moduleSettings: headSettings });
  lora.context.training = true;
  lora.context.dropoutSeed = 12345;
  for (const [i, p] of lora.trainableVariables().entries()) {
    if (p.name.includes("lora_B")) p.variable.assign(tf.tidy(() => tf.randomNormal(p.variable.shape, 0, 0.2, "float32", 40 + i)));
  }
  return { model, lora };
}

interface Setting {
  gradientCheckpointing: boolean;
  lossChunkTokens: number | null;
}
const PLAIN: Setting = { gradientCheckpointing: false, lossChunkTokens: null };

/** Loss and the gradient of every trainable variable (in the model's variable order), as kept tensors. */
function lossAndGrads(method: Method, setting: Setting, during?: (lora: LoraModel | null) => void) {
  return () => {
    const { model, lora } = build(method);
    const ids = batch(4);
    const vars = model.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const loss = model.loss(ids, labelsOf(ids), setting);
      during?.(lora);
      return loss;
    }, vars);
    const missing = vars.filter((v) => !grads[v.name]);
    if (missing.length > 0) throw new Error(`no gradient for ${missing.map((v) => v.name).join(", ")}`);
    const out = [value, ...vars.map((v) => grads[v.name])].map((t) => tf.keep(t.clone()));
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
    return out;
  };
}

/** Asserts two runs' losses and gradients agree within float32 rounding (relative to each tensor's largest value). */
function assertSameLossAndGrads(got: Awaited<ReturnType<typeof runOn>>, want: Awaited<ReturnType<typeof runOn>>, what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} outputs, expected ${want.length}`);
  got.forEach((g, i) => {
    const scale = Math.max(...Array.from(want[i].values, Math.abs));
    assertClose(g.values, want[i].values, 1e-5 * scale, 1e-5, `${what}: ${i === 0 ? "loss" : `gradient ${i}`}`);
  });
}

/** Peak of live tensor bytes while `fn` runs, above what was live before (TF.js's profile samples after every kernel). */
async function peakBytes(fn: () => void): Promise<number> {
  const before = tf.memory().numBytes;
  const info = await tf.profile(fn);
  return info.peakBytes - before;
}

/** One differentiated loss evaluation, its results disposed. */
function gradStep(model: CausalLM, ids: number[][], setting: Setting): void {
  const { value, grads } = tf.variableGrads(() => model.loss(ids, ids, setting), model.trainableVariables());
  tf.dispose([value, ...Object.values(grads)]);
}

describe("training memory: checkpointed layers and the chunked vocabulary loss", function () {
  this.timeout(120_000);
  useNativeSuite();

  const settings: [string, Setting][] = [
    ["checkpointing", { gradientCheckpointing: true, lossChunkTokens: null }],
    ["loss chunks of 7 rows", { gradientCheckpointing: false, lossChunkTokens: 7 }],
    ["both", { gradientCheckpointing: true, lossChunkTokens: 7 }],
    ["both, one chunk", { gradientCheckpointing: true, lossChunkTokens: 256 }],
  ];
  for (const impl of ["native", "cpu"] as Impl[]) {
    for (const method of ["full", "lora", "lora+head", "lora+head-dropout"] as Method[]) {
      it(`gives the plain path's loss and gradients on ${impl}: ${method}`, async () => {
        const want = await runOn(impl, lossAndGrads(method, PLAIN));
        assert.ok(want.length >= (method === "full" ? 30 : 12), `only ${want.length - 1} gradients`);
        for (const [name, s] of settings) assertSameLossAndGrads(await runOn(impl, lossAndGrads(method, s)), want, `${impl} ${method} ${name}`);
      });
    }
  }

  it("recomputes under the forward pass's LoRA state (dropout seed, adapters on) even when it changes before the backward pass", async () => {
    // Changed inside the differentiated function, after the loss: the plain path's backward pass
    // never reads this state, a recomputation would if it did not restore the forward pass's.
    const change = (lora: LoraModel | null) => {
      lora!.context.dropoutSeed = 999;
      lora!.disable();
    };
    const want = await runOn("native", lossAndGrads("lora", PLAIN, change));
    assert.ok(want.slice(1).every((g) => g.values.some((x) => x !== 0)), "every adapter gradient is non-zero");
    const got = await runOn("native", lossAndGrads("lora", { gradientCheckpointing: true, lossChunkTokens: 7 }, change));
    assertSameLossAndGrads(got, want, "state changed after the forward pass");
  });

  it("gives the plain token log-probabilities with and without a gradient, and leaves forward() and the KV cache alone", async () => {
    const run = (on: boolean) => () => {
      const { model } = build("full");
      model.setGradientCheckpointing(on);
      if (!on) model.setLossChunkTokens(null);
      const ids = batch(6);
      const lp = model.tokenLogProbs(ids, labelsOf(ids));
      const vars = model.trainableVariables();
      const { value, grads } = tf.variableGrads(() => tf.neg(tf.sum(model.tokenLogProbs(ids, labelsOf(ids)))) as tf.Scalar, vars);
      const logits = model.forward(ids);
      const cache = model.createCache();
      const step = tf.tidy(() => {
        model.forward([ids[0].slice(0, 5)], { cache }).dispose();
        return model.forward([ids[0].slice(5, 6)], { cache });
      });
      const all = [lp, value, logits, step, ...vars.map((v) => grads[v.name])];
      const out = all.map((t) => tf.keep(t.clone()));
      tf.dispose([lp, value, logits, step, ...Object.values(grads)]);
      cache.dispose();
      model.dispose();
      return out;
    };
    assertSameLossAndGrads(await runOn("native", run(true)), await runOn("native", run(false)), "token log-probs");
  });

  it("leaks no tensors and leaves the engine's tape usable afterwards", async () => {
    await runOn("native", () => {
      const { model } = build("lora+head");
      model.setGradientCheckpointing(true);
      model.setLossChunkTokens(7);
      const ids = batch(5);
      gradStep(model, ids, { gradientCheckpointing: true, lossChunkTokens: 7 });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) gradStep(model, ids, { gradientCheckpointing: true, lossChunkTokens: 7 });
      tf.tidy(() => model.loss(ids, ids).dataSync());
      assert.equal(tf.memory().numTensors, before, "tensors left behind by checkpointed steps");
      // A plain gradient afterwards still works (the outer tape was restored).
      const x = tf.scalar(3);
      const g = tf.grad((v: tf.Tensor) => tf.mul(v, v))(x);
      assert.equal(g.dataSync()[0], 6);
      tf.dispose([x, g]);
      model.dispose();
      return tf.scalar(0);
    });
  });

  it("differentiates hidden states directly, and its building blocks compose", async () => {
    const hidden = (on: boolean) => () => {
      const { model } = build("full");
      const ids = batch(7);
      const vars = model.trainableVariables();
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.hidden(ids, { gradientCheckpointing: on }))) as tf.Scalar, vars);
      const out = [value, ...vars.map((v) => grads[v.name])].map((t) => tf.keep(t.clone()));
      tf.dispose([value, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    assertSameLossAndGrads(await runOn("native", hidden(true)), await runOn("native", hidden(false)), "hidden states");

    // checkpointSequential and chunkedRows alone: x -> tanh(x W1) -> (.) W2 * c, then per-row
    // sums over 2-row chunks, one reading a trainable W3 (recomputed) and one reading none.
    const blocks = (ckpt: boolean) => () => {
      const rng = new Random(9);
      const v = (shape: [number, number]) => tf.variable(tf.tensor2d(Array.from({ length: shape[0] * shape[1] }, () => rng.normal(0, 0.7)), shape));
      const [x, w1, w2, w3] = [v([5, 3]), v([3, 4]), v([4, 2]), v([2, 6])];
      const c = tf.scalar(0.5);
      const run1 = (h: tf.Tensor) => tf.tanh(tf.matMul(h as tf.Tensor2D, w1));
      const run2 = (h: tf.Tensor, k: readonly tf.Tensor[]) => tf.mul(tf.matMul(h as tf.Tensor2D, w2), k[0]);
      const rowsA = (h: tf.Tensor) => tf.sum(tf.exp(tf.matMul(h as tf.Tensor2D, w3)), 1); // [rows]
      const rowsB = (h: tf.Tensor) => tf.sum(tf.square(h), 1); // [rows]
      const { value, grads } = tf.variableGrads(() => {
        const y = ckpt ? checkpointSequential([{ run: run1, variables: [w1] }, { run: run2, variables: [w2] }], x, { constants: [c] }) : run2(run1(x), [c]);
        const a = ckpt ? chunkedRows(rowsA, y, 2, { variables: [w3] }) : rowsA(y);
        const b = ckpt ? chunkedRows(rowsB, y, 2) : rowsB(y);
        return tf.sum(tf.mul(tf.add(a, b), tf.range(1, 6))) as tf.Scalar;
      }, [x, w1, w2, w3]);
      const out = [value, ...[x, w1, w2, w3].map((w) => grads[w.name])].map((t) => tf.keep(t.clone()));
      tf.dispose([value, ...Object.values(grads), x, w1, w2, w3, c]);
      return out;
    };
    const got = await runOn("native", blocks(true));
    assert.equal(got.length, 5);
    assertSameLossAndGrads(got, await runOn("native", blocks(false)), "building blocks");
  });

  it("keeps fewer live tensor bytes during a training step: per-layer checkpoints and loss chunks", async () => {
    await runOn("native", () => tf.scalar(0)); // the native backend, whatever ran before
    const DEEP = { vocabSize: 2048, hiddenSize: 64, numHiddenLayers: 6, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 172 };
    const model = createModel(DEEP, { seed: 2 });
    const ids = batch(8, DEEP.vocabSize, 2, 64);
    const peak = async (s: Setting) => {
      gradStep(model, ids, s); // warm-up: first-use allocations are not part of a step
      return peakBytes(() => gradStep(model, ids, s));
    };
    try {
      const plain = await peak(PLAIN);
      const layers = await peak({ gradientCheckpointing: true, lossChunkTokens: null });
      const chunks = await peak({ gradientCheckpointing: false, lossChunkTokens: 16 });
      const both = await peak({ gradientCheckpointing: true, lossChunkTokens: 16 });
      const mb = (x: number) => `${(x / 1e6).toFixed(2)} MB`;
      const report = `plain ${mb(plain)}, checkpointing ${mb(layers)}, chunks ${mb(chunks)}, both ${mb(both)}`;
      assert.ok(layers < 0.6 * plain, `checkpointing should lower the peak: ${report}`);
      assert.ok(chunks < 0.8 * plain, `loss chunks should lower the peak: ${report}`);
      assert.ok(both < 0.3 * plain && both < layers && both < chunks, `both together lower it most: ${report}`);
    } finally {
      model.dispose();
    }
  });

  it("is off by default on a model, set by the trainer (auto: off for a small model; on; off), and refuses bad chunk sizes", () => {
    const model = createModel(CFG, { seed: 1 });
    try {
      assert.equal(model.gradientCheckpointing, false);
      assert.equal(model.lossChunkTokens, 256);
      prepareModel(model, TrainConfigSchema.parse({ method: "full" }));
      assert.equal(model.gradientCheckpointing, false, "auto leaves a small model's activations in memory");
      prepareModel(model, TrainConfigSchema.parse({ method: "full", gradientCheckpointing: "on" }));
      assert.equal(model.gradientCheckpointing, true);
      prepareModel(model, TrainConfigSchema.parse({ method: "full", gradientCheckpointing: "off" }));
      assert.equal(model.gradientCheckpointing, false);
      for (const bad of [0, -3, 2.5, Number.NaN]) {
        assert.throws(() => model.setLossChunkTokens(bad), (e: unknown) => e instanceof TslmError && /lossChunkTokens must be a positive integer or null, got/.test((e as Error).message));
        assert.throws(() => model.loss([[1, 2]], [[1, 2]], { lossChunkTokens: bad }), TslmError);
      }
      model.setLossChunkTokens(null);
      assert.equal(model.lossChunkTokens, null);
    } finally {
      model.dispose();
    }
  });
});
