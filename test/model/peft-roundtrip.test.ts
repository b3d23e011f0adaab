/**
 * LoRA adapters through PEFT itself (test/fixtures/peft/, made with
 * scripts/device/tslm-adapters.ts and scripts/device/peft-fixtures.py on
 * the transformers-written bases of test/fixtures/hf/):
 * - adapters tslm wrote, loaded by PEFT's `PeftModel.from_pretrained`: tslm's
 *   logits with the adapter, and after merging it, equal PEFT's;
 * - an adapter PEFT wrote (`get_peft_model` + `save_pretrained`, PEFT 0.21
 *   config keys and all) loads into tslm with PEFT's logits;
 * - LoRA training steps: tslm's loss and AdamW (lib/train) from the same
 *   start give PyTorch + PEFT's losses and trained adapter
 *   (scripts/device/peft-training.py).
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as tf from "@tensorflow/tfjs-core";
import { loadModel } from "../../lib/model/io.js";
import * as tfc from "@tensorflow/tfjs-core";
import { loadAdapter } from "../../lib/model/peft.js";
import { Optimizer } from "../../lib/train/optimizer.js";
import { maxAbsDiff, setupBackend } from "./support.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

interface Expected {
  peft: string;
  base: string;
  input_ids: number[][];
  logits: number[][][];
  merged_logits?: number[][][];
  lora_tensors?: number;
}

function read(file: string): Expected {
  return JSON.parse(readFileSync(file, "utf8")) as Expected;
}

function values(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

describe("PEFT round trip (adapters read and written by PEFT itself)", function () {
  this.timeout(60_000);
  before(() => setupBackend());

  for (const name of ["tslm-lora-all-qwen2", "tslm-rslora-qv-llama"]) {
    it(`${name}: PEFT computes tslm's logits with tslm's adapter, merged and not`, async () => {
      const dir = join(FIXTURES, "peft", name);
      const want = read(join(dir, "peft-expected.json"));
      const model = await loadModel(join(FIXTURES, "hf", want.base));
      try {
        const base = values(model.forward(want.input_ids));
        const lora = loadAdapter(dir, model);
        // PEFT made a LoRA pair for every module tslm adapted (the logits below show it loaded their values).
        assert.equal(want.lora_tensors, 2 * lora.layers.size);
        const got = values(model.forward(want.input_ids));
        const diff = maxAbsDiff(got, want.logits.flat(2));
        assert.ok(diff < 1e-4, `${name} with adapter (PEFT ${want.peft}): max |tslm - PEFT| = ${diff.toExponential(2)}`);
        // The adapter matters: without it the logits are far from PEFT's.
        assert.ok(maxAbsDiff(base, want.logits.flat(2)) > 0.05);
        lora.merge();
        const merged = maxAbsDiff(values(model.forward(want.input_ids)), want.merged_logits!.flat(2));
        assert.ok(merged < 1e-4, `${name} merged: max |tslm - PEFT merge_and_unload| = ${merged.toExponential(2)}`);
      } finally {
        model.dispose();
      }
    });
  }

  it("peft-lora-llama: an adapter PEFT wrote loads into tslm with PEFT's logits", async () => {
    const dir = join(FIXTURES, "peft", "peft-lora-llama");
    const want = read(join(dir, "expected.json"));
    const model = await loadModel(join(FIXTURES, "hf", want.base));
    try {
      const base = values(model.forward(want.input_ids));
      const lora = loadAdapter(dir, model);
      assert.equal(lora.layers.size, 2 * 7);
      const got = values(model.forward(want.input_ids));
      const diff = maxAbsDiff(got, want.logits.flat(2));
      assert.ok(diff < 1e-4, `PEFT ${want.peft} adapter: max |tslm - PEFT| = ${diff.toExponential(2)}`);
      assert.ok(maxAbsDiff(base, want.logits.flat(2)) > 0.05);
    } finally {
      model.dispose();
    }
  });

  it("trained-by-peft: six LoRA AdamW steps in tslm give PyTorch + PEFT's losses and adapter", async () => {
    const dir = join(FIXTURES, "peft", "trained-by-peft");
    const ref = JSON.parse(readFileSync(join(dir, "training.json"), "utf8")) as {
      base: string; start: string; steps: number; input_ids: number[][]; losses: number[]; final_loss: number;
      optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number }; trainable_parameters: number;
    };
    const model = await loadModel(join(FIXTURES, "hf", ref.base));
    const trained = await loadModel(join(FIXTURES, "hf", ref.base));
    try {
      const lora = loadAdapter(join(FIXTURES, ref.start), model);
      const vars = lora.trainableVariables();
      assert.equal(vars.reduce((a, v) => a + v.variable.size, 0), ref.trainable_parameters);
      const o = ref.optimizer;
      const opt = new Optimizer(vars, { name: "adamw", beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weight_decay, momentum: 0, nesterov: false });
      const ids = tfc.tensor2d(ref.input_ids, undefined, "int32");
      const losses: number[] = [];
      for (let i = 0; i < ref.steps; i++) {
        const { value, grads } = tfc.variableGrads(() => model.loss(ids, ids), vars.map((v) => v.variable));
        opt.apply(new Map(vars.map((v) => [v.name, grads[v.variable.name]])), o.lr);
        losses.push(value.dataSync()[0]);
        tfc.dispose([value, ...Object.values(grads)]);
      }
      assert.ok(ref.steps > 0);
      assert.equal(ref.losses.length, ref.steps);
      for (let i = 0; i < ref.steps; i++) assert.ok(Math.abs(losses[i] - ref.losses[i]) < 1e-5, `step ${i + 1}: tslm ${losses[i]}, PyTorch ${ref.losses[i]}`);
      // The steps moved the loss, so agreeing means the same updates.
      assert.ok(ref.losses[0] - ref.final_loss > 0.1);
      const final = values(model.loss(ids, ids));
      assert.ok(Math.abs(final[0] - ref.final_loss) < 1e-5, `after training: tslm ${final[0]}, PyTorch ${ref.final_loss}`);
      // And the adapter PyTorch trained, loaded into tslm, holds the same weights.
      const theirs = loadAdapter(dir, trained);
      const ours = lora.adapterWeights("default");
      assert.equal(ours.size, 4);
      assert.deepEqual([...theirs.adapterWeights("default").keys()].sort(), [...ours.keys()].sort());
      for (const [module, w] of ours) {
        const t = theirs.adapterWeights("default").get(module)!;
        assert.ok(maxAbsDiff(w.A.data, t.A.data) < 1e-5, `${module} lora_A`);
        assert.ok(maxAbsDiff(w.B.data, t.B.data) < 1e-5, `${module} lora_B`);
      }
      ids.dispose();
    } finally {
      model.dispose();
      trained.dispose();
    }
  });
});
