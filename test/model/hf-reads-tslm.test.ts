/**
 * Models tslm writes, read by Hugging Face transformers itself:
 * test/fixtures/tslm-to-hf/ holds tiny models saved by tslm's `saveModel`
 * (scripts/device/tslm-models.ts: llama with llama3 rope scaling in F32, a
 * mistral with a sliding window in BF16 over four shards, a tied qwen2 in
 * F16) and what transformers 5.17 made of them
 * (scripts/device/hf-reads-tslm.py): its class, rope type, window, tying,
 * loading report and logits. tslm's logits must equal transformers', and
 * tslm must still write the config.json that transformers read.
 */
import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel, saveModel } from "../../lib/model/io.js";
import { maxAbsDiff, setupBackend, tempDir } from "./support.js";

const ROOT = fileURLToPath(new URL("../fixtures/tslm-to-hf/", import.meta.url));

interface Expected {
  transformers: string;
  class: string;
  rope_type: string;
  sliding_window: number | null;
  tied: boolean;
  loading: Record<string, string[]>;
  input_ids: number[][];
  logits: number[][][];
}

const CASES: Record<string, { class: string; rope: string; window: number | null; tied: boolean; dtype: "F32" | "BF16" | "F16"; shards: number }> = {
  "llama-llama3rope-f32": { class: "LlamaForCausalLM", rope: "llama3", window: null, tied: false, dtype: "F32", shards: 1 },
  "mistral-window-bf16-sharded": { class: "MistralForCausalLM", rope: "default", window: 5, tied: false, dtype: "BF16", shards: 4 },
  "qwen2-tied-f16": { class: "Qwen2ForCausalLM", rope: "default", window: null, tied: true, dtype: "F16", shards: 1 },
};

describe("models tslm writes, as transformers reads them", function () {
  this.timeout(60_000);
  before(() => setupBackend());

  for (const [name, want] of Object.entries(CASES)) {
    it(`${name}: transformers builds ${want.class} with every weight, and computes tslm's logits`, async () => {
      const dir = join(ROOT, name);
      const e = JSON.parse(readFileSync(join(dir, "transformers-expected.json"), "utf8")) as Expected;
      // What transformers understood from tslm's config.json and weights.
      assert.equal(e.class, want.class);
      assert.equal(e.rope_type, want.rope);
      assert.equal(e.sliding_window ?? null, want.window);
      assert.equal(e.tied, want.tied);
      assert.deepEqual(Object.keys(e.loading).filter((k) => k.endsWith("_keys")).sort(), ["mismatched_keys", "missing_keys", "unexpected_keys"]);
      for (const [k, v] of Object.entries(e.loading)) assert.deepEqual(v, [], `transformers' ${k}`);
      const shards = readdirSync(dir).filter((f) => f.endsWith(".safetensors"));
      assert.equal(shards.length, want.shards);

      const model = await loadModel(dir);
      try {
        const logits = model.forward(e.input_ids);
        const diff = maxAbsDiff(logits.dataSync(), e.logits.flat(2));
        logits.dispose();
        assert.ok(diff < 1e-4, `${name} (transformers ${e.transformers}): max |tslm - transformers| = ${diff.toExponential(2)}`);
        // tslm still writes the config.json transformers read (so the check above stays true).
        const again = tempDir();
        await saveModel(model, again, { dtype: want.dtype });
        const cfg = (d: string) => JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
        assert.deepEqual(cfg(again), cfg(dir));
      } finally {
        model.dispose();
      }
    });
  }
});
