/**
 * tslm against Hugging Face transformers itself: test/fixtures/hf/ holds tiny
 * random Llama, Mistral and Qwen2 models written by transformers'
 * `save_pretrained`, with the logits transformers computed from those files
 * (scripts/device/hf-fixtures.py, run where PyTorch and transformers are
 * installed). tslm loads each folder as a user would and must give the same
 * logits within 1e-4.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../../lib/model/io.js";
import { generate } from "../../lib/model/generate.js";
import { generateBatch } from "../../lib/model/generate-batch.js";
import { readSafetensorsHeader } from "../../lib/formats/safetensors.js";
import { maxAbsDiff, setupBackend } from "./support.js";

const ROOT = fileURLToPath(new URL("../fixtures/hf/", import.meta.url));
const CASES = existsSync(ROOT) ? readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, "expected.json"))).sort() : [];
const DTYPES: Record<string, string> = { float32: "F32", bfloat16: "BF16", float16: "F16" };

interface Expected {
  transformers: string;
  class: string;
  stored_dtype: string;
  input_ids: number[][];
  logits: number[][][];
}

describe("Hugging Face reference (transformers' own models): logits and greedy generation", function () {
  this.timeout(60_000);
  before(() => setupBackend());

  it("has the Llama, Mistral and Qwen2 fixtures", () => {
    assert.deepEqual(CASES.map((c) => c.split("-")[0]), ["llama", "mistral", "qwen2"]);
  });

  for (const name of CASES) {
    it(`${name}: loadModel gives transformers' logits within 1e-4`, async () => {
      const dir = join(ROOT, name);
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Expected;
      // The weights are stored as transformers wrote them (bf16 and f16 cases go through conversion).
      const header = readSafetensorsHeader(join(dir, "model.safetensors"));
      const dtypes = new Set(header.entries.map((e) => e.dtype));
      assert.deepEqual([...dtypes], [DTYPES[expected.stored_dtype]]);
      const model = await loadModel(dir);
      try {
        const logits = model.forward(expected.input_ids);
        const got = logits.dataSync();
        logits.dispose();
        const want = expected.logits.flat(2);
        assert.equal(got.length, want.length);
        const diff = maxAbsDiff(got, want);
        assert.ok(diff < 1e-4, `${name} (${expected.class}, transformers ${expected.transformers}): max |tslm - transformers| = ${diff.toExponential(2)}`);
        // And the logits are not trivially small: the comparison means something.
        assert.ok(Math.max(...want.map(Math.abs)) > 0.05);
      } finally {
        model.dispose();
      }
    });
  }

  const GEN = JSON.parse(readFileSync(join(ROOT, "generate.json"), "utf8")) as {
    transformers: string;
    max_new_tokens: number;
    models: Record<string, { setting: { repetition_penalty?: number }; prompt: number[]; tokens: number[] }[]>;
  };

  it("has transformers' generations for every fixture", () => {
    assert.deepEqual(Object.keys(GEN.models).sort(), CASES);
  });

  /** tslm stops at the model's EOS (from generation_config.json); transformers was run without stopping. */
  function sameUntilEos(got: number[], want: number[], eosId: number, what: string): void {
    const eos = want.indexOf(eosId);
    const expected = eos >= 0 ? want.slice(0, eos) : want;
    assert.deepEqual(got, expected, what);
  }

  for (const name of Object.keys(GEN.models)) {
    it(`${name}: greedy generation equals transformers' generate, alone and batched, with and without repetition penalty`, async () => {
      const model = await loadModel(join(ROOT, name));
      const eosId = (JSON.parse(readFileSync(join(ROOT, name, "generation_config.json"), "utf8")) as { eos_token_id: number }).eos_token_id;
      try {
        const runs = GEN.models[name];
        for (const penalty of [1, 1.3]) {
          const mine = runs.filter((r) => (r.setting.repetition_penalty ?? 1) === penalty);
          assert.equal(mine.length, 3);
          const options = { maxNewTokens: GEN.max_new_tokens, repetitionPenalty: penalty };
          for (const r of mine) {
            const alone = await generate(model, null, { ids: r.prompt }, options);
            sameUntilEos(alone.tokenIds, r.tokens, eosId, `${name} penalty ${penalty} prompt ${r.prompt.length} tokens`);
          }
          // The three prompts (12, 12 and 3 tokens: padded) in one batch.
          const batch = await generateBatch(model, null, mine.map((r) => ({ ids: r.prompt })), options);
          assert.equal(batch.length, 3);
          batch.forEach((b, i) => sameUntilEos(b.tokenIds, mine[i].tokens, eosId, `${name} penalty ${penalty} batch row ${i}`));
        }
      } finally {
        model.dispose();
      }
    });
  }
});
