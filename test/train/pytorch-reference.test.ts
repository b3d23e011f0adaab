/**
 * Full fine-tuning steps against PyTorch: from the tied Qwen2 model of
 * test/fixtures/hf/ (q/k/v biases, tied embedding), four AdamW steps in
 * PyTorch (scripts/device/full-training.py, float64, decay on matrices only)
 * and in tslm (its loss, TF.js gradients, lib/train's optimizer) must give
 * the same losses and the same trained weights, every tensor of them.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { loadModel } from "../../lib/model/io.js";
import { Optimizer } from "../../lib/train/optimizer.js";
import { maxAbsDiff, setupBackend } from "../support/backend.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

interface Reference {
  base: string;
  steps: number;
  input_ids: number[][];
  losses: number[];
  final_loss: number;
  parameters: number;
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
}

describe("full fine-tuning against PyTorch", function () {
  this.timeout(60_000);
  before(() => setupBackend());

  it("four AdamW steps give PyTorch's losses and trained weights (tied embedding, biases, norms)", async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, "full-training", "training.json"), "utf8")) as Reference;
    const model = await loadModel(join(FIXTURES, "hf", ref.base));
    const theirs = await loadModel(join(FIXTURES, "full-training", "qwen2-trained"));
    try {
      const vars = model.trainableVariables();
      assert.equal(vars.reduce((a, v) => a + v.size, 0), ref.parameters);
      const o = ref.optimizer;
      const opt = new Optimizer(vars.map((v) => ({ name: v.name, variable: v })), { name: "adamw", beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weight_decay, momentum: 0, nesterov: false });
      const ids = tf.tensor2d(ref.input_ids, undefined, "int32");
      const losses: number[] = [];
      for (let i = 0; i < ref.steps; i++) {
        const { value, grads } = tf.variableGrads(() => model.loss(ids, ids), vars);
        opt.apply(new Map(vars.map((v) => [v.name, grads[v.name]])), o.lr);
        losses.push(value.dataSync()[0]);
        tf.dispose([value, ...Object.values(grads)]);
      }
      assert.ok(ref.steps > 0);
      assert.equal(ref.losses.length, ref.steps);
      for (let i = 0; i < ref.steps; i++) assert.ok(Math.abs(losses[i] - ref.losses[i]) < 1e-5, `step ${i + 1}: tslm ${losses[i]}, PyTorch ${ref.losses[i]}`);
      assert.ok(ref.losses[0] - ref.final_loss > 0.5, "the steps moved the loss");
      const final = model.loss(ids, ids);
      assert.ok(Math.abs(final.dataSync()[0] - ref.final_loss) < 1e-5);
      tf.dispose([final, ids]);
      // Every trained tensor, by its Hugging Face name. Adam divides by the
      // gradient's running RMS, so where a gradient is near zero (the k_proj
      // biases: a key bias barely changes the softmax) float32 rounding is
      // magnified; the tolerance is 1% of the furthest Adam can move a weight
      // in these steps (steps x lr), and most tensors agree far closer.
      const ours = model.weightsToHost(), trained = theirs.weightsToHost();
      assert.deepEqual([...ours.keys()].sort(), [...trained.keys()].sort());
      const diffs = [...ours].map(([name, t]) => ({ name, d: maxAbsDiff(t.data, trained.get(name)!.data) }));
      const tol = 0.01 * ref.steps * o.lr;
      for (const { name, d } of diffs) assert.ok(d < tol, `${name}: max |tslm - PyTorch| = ${d.toExponential(2)} (tolerance ${tol})`);
      assert.ok(diffs.filter((x) => x.d < 1e-5).length >= 0.8 * diffs.length, "most tensors within 1e-5");
    } finally {
      model.dispose();
      theirs.dispose();
    }
  });
});
