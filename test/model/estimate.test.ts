/**
 * The memory estimator: weight terms against exact parameter counts of real
 * shapes (Qwen2.5-0.5B, Llama-3.1-8B, from config.json alone) and against
 * what the embedded model actually holds once loaded, quantized or given
 * adapters; the other terms against their documented formulas; the CLI.
 */
import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { estimateMemory, MEMORY_CONSTANTS, MEMORY_TERMS, type MemoryEstimate } from "../../lib/model/estimate.js";
import { loadModel, saveModel } from "../../lib/model/io.js";
import { memoryReport, parameterCount } from "../../lib/model/memory.js";
import { quantizeModel, baseMemory } from "../../lib/model/quantize-model.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { ConfigError } from "../../lib/util/errors.js";
import { setupBackend, tempDir } from "./support.js";
import { oneJson, tslm, ROOT } from "../support/cli.js";

const EMBEDDED = join(ROOT, "models/tslm-tiny");

/** config.json of Qwen2.5-0.5B (the fields tslm reads, values as published). */
const QWEN_05B = {
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000,
  rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: "bfloat16", hidden_act: "silu", use_sliding_window: false,
};
/** config.json of Llama-3.1-8B. */
const LLAMA_8B = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, rope_theta: 500000,
  rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  rms_norm_eps: 1e-5, tie_word_embeddings: false, torch_dtype: "bfloat16", hidden_act: "silu", attention_bias: false, mlp_bias: false,
};

/** Matrices (with their output rows) and vector parameters of a LLaMA-family shape, counted here independently of lib/model. */
function shapeCounts(c: { D: number; I: number; L: number; H: number; KV: number; hd: number; V: number; tied: boolean; qkvBias: boolean }) {
  const q = c.H * c.hd;
  const kv = c.KV * c.hd;
  const layerMatrices = [[q, c.D], [kv, c.D], [kv, c.D], [c.D, q], [c.I, c.D], [c.I, c.D], [c.D, c.I]];
  const matrices = [...Array.from({ length: c.L }, () => layerMatrices).flat(), [c.V, c.D], ...(c.tied ? [] : [[c.V, c.D]])];
  const vectors = c.L * (2 * c.D + (c.qkvBias ? q + 2 * kv : 0)) + c.D;
  const matrixParams = matrices.reduce((n, [r, k]) => n + r * k, 0);
  return { matrices, matrixParams, vectors, rows: matrices.reduce((n, [r]) => n + r, 0), embedding: c.V * c.D };
}

function configDir(json: object): string {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify(json));
  return dir;
}

function sumOfTerms(e: MemoryEstimate["train"]): number {
  return MEMORY_TERMS.reduce((n, t) => n + e.terms[t], 0);
}

describe("model/estimate: memory predicted from config.json and safetensors headers", function () {
  this.timeout(120_000);

  describe("real shapes from config.json alone", () => {
    const qwen = shapeCounts({ D: 896, I: 4864, L: 24, H: 14, KV: 2, hd: 64, V: 151936, tied: true, qkvBias: true });
    const llama = shapeCounts({ D: 4096, I: 14336, L: 32, H: 32, KV: 8, hd: 128, V: 128256, tied: false, qkvBias: false });

    it("counts Qwen2.5-0.5B's 494,032,768 and Llama-3.1-8B's 8,030,261,248 parameters, resident in BF16 at 2 bytes each", () => {
      assert.equal(qwen.matrixParams + qwen.vectors, 494_032_768);
      assert.equal(llama.matrixParams + llama.vectors, 8_030_261_248);
      const q = estimateMemory(configDir(QWEN_05B));
      const l = estimateMemory(configDir(LLAMA_8B));
      assert.equal(q.model.parameters, 494_032_768);
      assert.equal(l.model.parameters, 8_030_261_248);
      assert.deepEqual(q.model.storage, { BF16: 494_032_768 });
      assert.equal(q.load.terms.weights, 494_032_768 * 2);
      assert.equal(l.load.terms.weights, 8_030_261_248 * 2);
      assert.equal(q.decode.terms.weights, q.load.terms.weights);
      assert.equal(q.model.fileBytes, null);
      assert.ok(q.notes.some((n) => /torch_dtype \(bfloat16\)/.test(n)));
    });

    it("packs every matrix of a quantized base, embedding and untied head included: nf4/int4 0.5 byte + a float32 scale per 64, q8_0 1.0625, int8 1 + a scale per row", () => {
      for (const [json, c] of [[QWEN_05B, qwen], [LLAMA_8B, llama]] as const) {
        const dir = configDir(json);
        const w = (o: Parameters<typeof estimateMemory>[1]) => estimateMemory(dir, o).load.terms.weights;
        const small = c.vectors * 2; // norms and biases stay BF16
        assert.equal(w({ method: "qlora" }), c.matrixParams * 0.5 + (c.matrixParams / 64) * 4 + small);
        assert.equal(w({ quantization: "int4" }), w({ quantization: "nf4" }));
        assert.equal(w({ quantization: "q8_0" }), c.matrixParams * 1.0625 + small);
        assert.equal(w({ quantization: "int8" }), c.matrixParams + c.rows * 4 + small);
        // Kept wide, the embedding (and an untied head) stay BF16.
        const wide = json === LLAMA_8B ? 2 * c.embedding : c.embedding;
        assert.equal(w({ method: "qlora", keepEmbeddingsWide: true }), (c.matrixParams - wide) * 0.5625 + wide * 2 + small);
      }
      // The goal for the 0.5B shape: an nf4 base at most 30% of its BF16 size.
      const q = configDir(QWEN_05B);
      assert.ok(estimateMemory(q, { method: "qlora" }).load.terms.weights <= 0.3 * estimateMemory(q).load.terms.weights);
    });

    it("counts LoRA r=8 on every linear layer as PEFT does (4,399,104 on Qwen2.5-0.5B), with float32 gradients and two AdamW moments", () => {
      const e = estimateMemory(configDir(QWEN_05B), { method: "qlora", lora: { r: 8 }, batch: 4, seq: 512 });
      assert.equal(e.trainableParameters, 4_399_104);
      assert.equal(e.train.terms.adapters, 4_399_104 * 4);
      assert.equal(e.train.terms.gradients, 4_399_104 * 4);
      assert.equal(e.train.terms.optimizer, 4_399_104 * 8);
      assert.equal(e.train.terms.weights, e.load.terms.weights, "the frozen base stays packed while training");
    });

    it("full fine-tuning keeps float32 master weights, gradients and two moments of every parameter", () => {
      const e = estimateMemory(configDir(LLAMA_8B), { method: "full", batch: 1, seq: 256 });
      const P = 8_030_261_248;
      assert.equal(e.trainableParameters, P);
      assert.deepEqual([e.train.terms.weights, e.train.terms.gradients, e.train.terms.optimizer, e.train.terms.adapters], [P * 4, P * 4, P * 8, 0]);
      assert.throws(() => estimateMemory(configDir(LLAMA_8B), { method: "full", quantization: "nf4" }), ConfigError);
    });

    it("sizes the KV cache as 2 x layers x KV heads x head_dim x positions x 4 bytes per sequence, and the loss by its chunk", () => {
      const dir = configDir(LLAMA_8B);
      const e = estimateMemory(dir, { batch: 3, seq: 8192 });
      assert.equal(e.decode.terms.kvCache, 2 * 32 * 8 * 128 * 8192 * 4 * 3);
      assert.equal(e.train.terms.kvCache, 0);
      assert.equal(e.train.terms.logits, 256 * 128256 * 4 * MEMORY_CONSTANTS.lossChunkCopies, "default chunk: 256 tokens");
      assert.equal(estimateMemory(dir, { batch: 3, seq: 8192, lossChunkTokens: 512 }).train.terms.logits, 2 * e.train.terms.logits);
      // Fewer tokens than a chunk: the chunk shrinks to them.
      assert.equal(estimateMemory(dir, { batch: 1, seq: 100 }).train.terms.logits, 100 * 128256 * 4 * MEMORY_CONSTANTS.lossChunkCopies);
    });

    it("activations grow with the tokens, and checkpointing keeps far fewer of them", () => {
      const dir = configDir(QWEN_05B);
      const one = estimateMemory(dir, { method: "qlora", batch: 1, seq: 256 }).train.terms.activations;
      const four = estimateMemory(dir, { method: "qlora", batch: 4, seq: 256 }).train.terms.activations;
      const off = estimateMemory(dir, { method: "qlora", batch: 4, seq: 256, activationCheckpointing: false }).train.terms.activations;
      assert.equal(four, 4 * one);
      assert.ok(off > 4 * four, `${off} without checkpointing vs ${four}`);
      // Checkpoints alone: one [B, T, hidden] float32 per layer.
      assert.ok(four > 4 * 256 * 896 * 4 * 24);
    });

    it("adds runtime, tokenizer and allocator slack, and every total is the sum of its terms", () => {
      const e = estimateMemory(configDir(QWEN_05B), { method: "qlora", batch: 4, seq: 512 });
      for (const p of [e.load, e.train, e.decode]) {
        assert.equal(p.total, sumOfTerms(p));
        const rest = p.total - p.terms.overhead;
        assert.equal(p.terms.overhead, Math.round(MEMORY_CONSTANTS.runtimeBaseBytes + 151936 * MEMORY_CONSTANTS.tokenizerBytesPerToken + rest * MEMORY_CONSTANTS.allocatorSlack));
      }
      assert.equal(e.peak, Math.max(e.load.total, e.train.total, e.decode.total));
      // Constants can be overridden for calibration.
      const k = estimateMemory(configDir(QWEN_05B), { method: "qlora", batch: 4, seq: 512, constants: { runtimeBaseBytes: 0, allocatorSlack: 0, tokenizerBytesPerToken: 0 } });
      assert.equal(k.train.terms.overhead, 0);
    });

    it("refuses impossible settings with the key named", () => {
      const dir = configDir(QWEN_05B);
      assert.throws(() => estimateMemory(dir, { method: "qlora", quantization: "none" }), /qlora.*quantized base/);
      assert.throws(() => estimateMemory(dir, { seq: 40000 }), /seq 40000 is more than the model's context of 32768 tokens/);
      assert.throws(() => estimateMemory(dir, { batch: 0 }), /batch must be a positive integer, got 0/);
      assert.throws(() => estimateMemory(dir, { lora: { r: 100000 } }), /LoRA rank 100000 is larger than layer model\.layers\.0\.self_attn\.q_proj \[896, 896\]/);
      assert.throws(() => estimateMemory(dir, { lora: { r: 129 } }), /k_proj \[128, 896\].*use r <= 128/);
      assert.throws(() => estimateMemory(dir, { method: "adapter" as never }), /method must be one of lora, qlora, full/);
    });
  });

  describe("the embedded default model, against what it holds once loaded", () => {
    before(() => setupBackend());

    it("weights as stored, packed (nf4, int8) and LoRA adapters match the loaded model's bytes; the KV cache its bytes per token", async () => {
      const model = await loadModel(EMBEDDED);
      try {
        const e = estimateMemory(EMBEDDED, { lora: { r: 8 }, batch: 2, seq: 128 });
        assert.equal(e.model.parameters, parameterCount(model));
        assert.deepEqual(e.model.storage, { F32: parameterCount(model) });
        assert.equal(e.model.fileBytes, statSync(join(EMBEDDED, "model.safetensors")).size);
        assert.equal(e.load.terms.weights, baseMemory(model).bytes);
        assert.equal(e.decode.terms.kvCache, memoryReport(model).kvCacheBytesPerToken * 128 * 2);
        assert.ok(e.load.terms.staging >= model.config.vocabSize * model.config.hiddenSize * 4, "the largest tensor (the embedding) is staged");
        const lora = new LoraModel(model, { r: 8 });
        assert.equal(e.train.terms.adapters, lora.trainableVariables().reduce((n, p) => n + p.variable.size, 0) * 4);
      } finally {
        model.dispose();
      }
      // Today's quantizeModel keeps the tied embedding float32, as keepEmbeddingsWide does.
      for (const kind of ["nf4", "int8"] as const) {
        const m = await loadModel(EMBEDDED);
        try {
          quantizeModel(m, kind);
          assert.equal(estimateMemory(EMBEDDED, { quantization: kind, keepEmbeddingsWide: true }).load.terms.weights, baseMemory(m).bytes, kind);
        } finally {
          m.dispose();
        }
      }
    });

    it("reads BF16 and sharded folders from their headers, and a folder with config.json alone from torch_dtype", async () => {
      const model = await loadModel(EMBEDDED);
      const bf16 = join(tempDir(), "bf16");
      const sharded = join(tempDir(), "sharded");
      try {
        await saveModel(model, bf16, { dtype: "BF16" });
        await saveModel(model, sharded, { maxShardBytes: 400_000 });
      } finally {
        model.dispose();
      }
      const f32 = estimateMemory(EMBEDDED);
      const b = estimateMemory(bf16);
      assert.deepEqual(b.model.storage, { BF16: f32.model.parameters });
      assert.equal(b.load.terms.weights, f32.load.terms.weights / 2);
      const s = estimateMemory(sharded);
      assert.deepEqual(s.load, f32.load);
      assert.ok(s.model.fileBytes! > f32.load.terms.weights, "every shard is counted");
      const bare = tempDir();
      copyFileSync(join(EMBEDDED, "config.json"), join(bare, "config.json"));
      assert.deepEqual(estimateMemory(bare).train, f32.train);
      assert.deepEqual(estimateMemory(join(bare, "config.json")).decode, f32.decode);
    });
  });

  describe("tslm estimate", () => {
    it("prints the phases by term, or one JSON object equal to estimateMemory's", () => {
      const json = tslm("estimate", EMBEDDED, "--method", "qlora", "--batch", "2", "--seq", "128", "--lora-rank", "8", "--json");
      assert.equal(json.status, 0, json.stderr);
      const expected = JSON.parse(JSON.stringify(estimateMemory(EMBEDDED, { method: "qlora", batch: 2, seq: 128, lora: { r: 8 } })));
      assert.deepEqual(oneJson(json.stdout), expected);
      const human = tslm("estimate", EMBEDDED, "--method", "full");
      assert.equal(human.status, 0, human.stderr);
      for (const word of ["load", "train", "decode", "weights", "optimizer", "gradients", "activations", "logits", "kvCache", "overhead", "total"]) assert.match(human.stdout, new RegExp(word));
    });

    it("exits with status 2 on bad option values, and refuses a LoRA rank larger than a layer in one line", () => {
      const dir = tempDir();
      mkdirSync(join(dir, "m"));
      writeFileSync(join(dir, "m", "config.json"), JSON.stringify(QWEN_05B));
      for (const args of [["--method", "adapter"], ["--batch", "0"], ["--seq", "1.5"], ["--quantization", "fp8"]]) {
        const r = tslm("estimate", join(dir, "m"), ...args);
        assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      }
      const rank = tslm("estimate", join(dir, "m"), "--lora-rank", "100000");
      assert.notEqual(rank.status, 0);
      assert.match(rank.stderr, /LoRA rank 100000 is larger than layer model\.layers\.0\.self_attn\.q_proj \[896, 896\]/);
      assert.equal(rank.stderr.trim().split("\n").length, 1, rank.stderr);
    });
  });
});
