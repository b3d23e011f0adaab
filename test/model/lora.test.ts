import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { createModel, defineConfig } from "../../lib/model/create.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { LoraModel, DEFAULT_LORA, isTargetModule } from "../../lib/model/lora-model.js";
import { LoraLinear } from "../../lib/model/lora.js";
import { NumericError } from "../../lib/util/errors.js";
import { setupBackend } from "./support.js";

const CONFIG = defineConfig({ vocabSize: 64, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64 });
const IDS = [[1, 5, 9, 13, 2, 7]];

function logits(m: CausalLM): Float32Array {
  return tf.tidy(() => m.forward(IDS).dataSync() as Float32Array);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Gives every B matrix of an adapter random values (a fresh adapter is a no-op). */
function randomizeB(lora: LoraModel, name: string, seed: number): void {
  let k = 0;
  for (const l of lora.layers.values()) {
    const w = l.adapters.get(name);
    if (w) w.B.assign(tf.randomNormal(w.B.shape, 0, 0.2, "float32", seed + k++) as tf.Tensor2D);
  }
}

describe("model: LoRA", () => {
  before(() => setupBackend());

  it("defaults to LLM Studio's r 4, alpha 16, dropout 0.05 on every linear layer but the head", () => {
    assert.deepEqual({ r: DEFAULT_LORA.r, alpha: DEFAULT_LORA.alpha, dropout: DEFAULT_LORA.dropout }, { r: 4, alpha: 16, dropout: 0.05 });
    const model = createModel(CONFIG, { seed: 1 });
    const lora = new LoraModel(model);
    assert.equal(lora.layers.size, 14);
    assert.ok(!lora.layers.has("lm_head"));
    assert.ok(model.getLinear("model.layers.1.mlp.down_proj") instanceof LoraLinear);
    model.dispose();
  });

  it("matches target modules by suffix or by a whole-name regular expression", () => {
    assert.ok(isTargetModule("model.layers.0.self_attn.q_proj", ["q_proj"]));
    assert.ok(!isTargetModule("model.layers.0.self_attn.k_proj", ["q_proj"]));
    assert.ok(isTargetModule("model.layers.3.mlp.up_proj", ".*layers\\.3\\..*"));
    assert.ok(!isTargetModule("model.layers.13.mlp.up_proj", ".*layers\\.3\\..*"));
    const model = createModel(CONFIG, { seed: 1 });
    const lora = new LoraModel(model, { targetModules: ["q_proj", "v_proj"] });
    assert.equal(lora.layers.size, 4);
    assert.throws(() => lora.addAdapter("x", { targetModules: ["nope"] }), /match no linear layer/);
    model.dispose();
  });

  it("starts as a no-op (B zero, A uniform within 1/sqrt(in)) and freezes the base", () => {
    const model = createModel(CONFIG, { seed: 1 });
    const base = logits(model);
    const lora = new LoraModel(model, { r: 8 }, { seed: 3 });
    assert.equal(maxDiff(base, logits(model)), 0);
    const w = lora.layers.get("model.layers.0.mlp.down_proj")!.adapters.get("default")!;
    assert.deepEqual(w.A.shape, [8, 64]);
    assert.deepEqual(w.B.shape, [32, 8]);
    const a = w.A.dataSync();
    assert.ok(a.every((v) => Math.abs(v) <= 1 / Math.sqrt(64)));
    assert.ok(new Set(a).size > a.length / 2);
    assert.ok(w.B.dataSync().every((v) => v === 0));
    assert.equal(w.scaling, 16 / 8);
    const trainable = model.trainableVariables();
    assert.equal(trainable.length, 28, "only the adapter matrices are trainable");
    assert.ok(trainable.every((v) => v.name.includes(".lora_")));
    assert.equal(lora.parameterCount(), lora.trainableVariables().reduce((n, p) => n + p.variable.size, 0));
    model.dispose();
  });

  it("computes base(x) + alpha/r * B A x, and alpha/sqrt(r) with rsLoRA", () => {
    for (const useRslora of [false, true]) {
      const model = createModel(CONFIG, { seed: 2 });
      const lora = new LoraModel(model, { r: 4, alpha: 8, useRslora, targetModules: ["o_proj"] }, { seed: 4 });
      randomizeB(lora, "default", 10);
      const layer = lora.layers.get("model.layers.0.self_attn.o_proj")!;
      const w = layer.adapters.get("default")!;
      const x = tf.randomNormal([3, 32], 0, 1, "float32", 7);
      const expected = tf.tidy(() => {
        const base = layer.base.apply(x);
        const s = useRslora ? 8 / Math.sqrt(4) : 8 / 4;
        return tf.add(base, tf.mul(tf.matMul(tf.matMul(x, w.A, false, true), w.B, false, true), s));
      });
      const got = layer.apply(x);
      assert.ok(maxDiff(got.dataSync() as Float32Array, expected.dataSync() as Float32Array) < 1e-5);
      tf.dispose([x, expected, got]);
      model.dispose();
    }
  });

  it("switches, disables and stacks named adapters", () => {
    const model = createModel(CONFIG, { seed: 5 });
    const base = logits(model);
    const lora = new LoraModel(model, {}, { seed: 1 });
    randomizeB(lora, "default", 20);
    const first = logits(model);
    lora.addAdapter("second", { r: 2, targetModules: ["q_proj", "v_proj"] }, { seed: 2 });
    assert.deepEqual(lora.active, ["second"]);
    randomizeB(lora, "second", 40);
    const second = logits(model);
    assert.ok(maxDiff(first, second) > 1e-4);
    lora.setActive("default");
    assert.equal(maxDiff(first, logits(model)), 0);
    assert.equal(maxDiff(base, lora.withAdaptersDisabled(() => logits(model))), 0);
    assert.equal(maxDiff(first, logits(model)), 0, "re-enabled after withAdaptersDisabled");
    lora.setActive(["default", "second"]);
    const both = logits(model);
    assert.ok(maxDiff(both, first) > 1e-4 && maxDiff(both, second) > 1e-4);
    assert.throws(() => lora.setActive("third"), /no adapter 'third'/);
    lora.deleteAdapter("second");
    assert.deepEqual(lora.adapterNames(), ["default"]);
    model.dispose();
  });

  it("merges into the base weights (same outputs), unmerges back, and refuses non-finite merges", () => {
    const model = createModel(CONFIG, { seed: 6 });
    const lora = new LoraModel(model, {}, { seed: 1 });
    randomizeB(lora, "default", 60);
    const q = model.getLinear("model.layers.0.self_attn.q_proj") as LoraLinear;
    const w0 = Float32Array.from((q.base as unknown as { weight: tf.Variable }).weight.dataSync());
    const unmerged = logits(model);
    lora.merge();
    assert.ok(maxDiff(unmerged, logits(model)) < 1e-4);
    lora.unmerge();
    const w1 = (q.base as unknown as { weight: tf.Variable }).weight.dataSync() as Float32Array;
    assert.ok(maxDiff(w0, w1) < 1e-6);
    const B = q.adapters.get("default")!.B;
    B.assign(tf.fill(B.shape, Infinity) as tf.Tensor2D);
    assert.throws(() => q.merge("default"), (e: Error) => e instanceof NumericError && /non-finite/.test(e.message));
    assert.equal(maxDiff(w0, (q.base as unknown as { weight: tf.Variable }).weight.dataSync() as Float32Array) < 1e-6, true, "a refused merge changes nothing");
    assert.equal(q.merged.size, 0);
    model.dispose();
  });

  it("trains A and B through tf.variableGrads; dropout is seeded and off in evaluation", () => {
    const model = createModel(CONFIG, { seed: 7 });
    const lora = new LoraModel(model, { dropout: 0.5 }, { seed: 1 });
    const labels = IDS;
    const vars = lora.trainableVariables().map((p) => p.variable);
    const { grads, value } = tf.variableGrads(() => model.loss(IDS, labels), vars);
    const gB = grads[vars[1].name];
    const gA = grads[vars[0].name];
    assert.ok(tf.tidy(() => tf.sum(tf.abs(gB)).dataSync()[0]) > 0, "B gets a gradient");
    assert.equal(tf.tidy(() => tf.sum(tf.abs(gA)).dataSync()[0]), 0, "A's gradient is zero while B is zero");
    tf.dispose([value, ...Object.values(grads)]);
    randomizeB(lora, "default", 80);
    lora.context.training = true;
    lora.context.dropoutSeed = 11;
    const a = logits(model);
    const b = logits(model);
    lora.context.dropoutSeed = 12;
    const c = logits(model);
    assert.equal(maxDiff(a, b), 0, "same dropout seed, same masks");
    assert.ok(maxDiff(a, c) > 1e-5, "another seed, other masks");
    lora.context.training = false;
    assert.equal(maxDiff(logits(model), logits(model)), 0);
    model.dispose();
  });

  it("frees every tensor it made when the model is disposed", () => {
    const before = tf.memory().numTensors;
    const model = createModel(CONFIG, { seed: 8 });
    const lora = new LoraModel(model, {}, { seed: 1 });
    lora.addAdapter("b", {}, { seed: 2 });
    logits(model);
    lora.detach();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
