/**
 * LoRA adapters through PEFT itself (test/fixtures/peft/, made with
 * scripts/device/tslm-adapters.ts and scripts/device/peft-fixtures.py on
 * the transformers-written bases of test/fixtures/hf/):
 * - adapters tslm wrote, loaded by PEFT's `PeftModel.from_pretrained`: tslm's
 *   logits with the adapter, and after merging it, equal PEFT's;
 * - an adapter PEFT wrote (`get_peft_model` + `save_pretrained`, PEFT 0.21
 *   config keys and all) loads into tslm with PEFT's logits.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as tf from "@tensorflow/tfjs-core";
import { loadModel } from "../../lib/model/io.js";
import { loadAdapter } from "../../lib/model/peft.js";
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
        // PEFT found every tensor tslm wrote.
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
});
