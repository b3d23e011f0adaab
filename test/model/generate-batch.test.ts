import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../../lib/model/create.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { BatchDecoder } from "../../lib/model/batch-decoder.js";
import { generate, jobResult, prepareJob, type GenerateOptions, type GenerateResult, type Prompt } from "../../lib/model/generate.js";
import { generateBatch } from "../../lib/model/generate-batch.js";
import { createGenerationQueue } from "../../lib/model/generation-queue.js";
import type { ConfigInput } from "../../lib/model/create.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { quantizeModel } from "../../lib/model/quantize-model.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import type { Tokenizer } from "../../lib/tokenizer/tokenizer.js";
import { Random } from "../../lib/util/random.js";
import { setupBackend } from "./support.js";
import { sampleCorpus } from "../tokenizer/corpus.js";

const BASE: ConfigInput = { vocabSize: 320, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 1200 };

/** Each prompt through `generate` alone. */
async function oneByOne(model: CausalLM, tok: Tokenizer | null, prompts: readonly Prompt[], rows: readonly GenerateOptions[]): Promise<GenerateResult[]> {
  const out: GenerateResult[] = [];
  for (const [i, p] of prompts.entries()) out.push(await generate(model, tok, p, rows[i]));
  return out;
}

function sameOutputs(batch: readonly GenerateResult[], alone: readonly GenerateResult[]): void {
  assert.equal(batch.length, alone.length);
  for (const [i, r] of batch.entries()) {
    assert.deepEqual(r.tokenIds, alone[i].tokenIds, `row ${i}: tokens`);
    assert.equal(r.text, alone[i].text, `row ${i}: text`);
    assert.equal(r.finishReason, alone[i].finishReason, `row ${i}: finish reason`);
    assert.deepEqual(r.promptTokenIds, alone[i].promptTokenIds, `row ${i}: prompt`);
  }
}

describe("model/generate-batch", function () {
  this.timeout(120_000);
  let model: CausalLM;
  let tok: Tokenizer;
  before(async () => {
    await setupBackend();
    tok = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 }).tokenizer;
    model = createModel(BASE, { seed: 5, initStd: 0.3 });
    model.tokenizer = tok;
  });
  after(() => model.dispose());

  // Lengths 1 to ~20 tokens, so rows are padded by different amounts.
  const PROMPTS: Prompt[] = ["The quick brown fox", "A", "def add(a, b):", "Prices rose 12.5% in 2024; the index hit", "Größe", "for i in range(10):\n    print(", "Hello", "LoRA trains small adapters instead of"];

  it("a padded batch computes each row's logits as that row alone, through prefill and decoding", () => {
    const rows = [[5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [9], [30, 31, 32, 33]];
    const alone = rows.map((r) => {
      const cache = model.createCache();
      const out: number[][] = [];
      for (const ids of [r, [17], [42], [99]]) out.push(Array.from(tf.tidy(() => model.forward([ids], { cache, lastOnly: true }).dataSync())));
      cache.dispose();
      return out;
    });
    const T = Math.max(...rows.map((r) => r.length));
    const padding = rows.map((r) => T - r.length);
    const cache = model.createCache();
    let worst = 0;
    for (const [s, step] of [rows.map((r, b) => [...new Array(padding[b]).fill(0), ...r]), rows.map(() => [17]), rows.map(() => [42]), rows.map(() => [99])].entries()) {
      const l = tf.tidy(() => model.forward(step, { cache, lastOnly: true, padding: s === 0 ? padding : undefined }).dataSync());
      for (let b = 0; b < rows.length; b++) for (let v = 0; v < 320; v++) worst = Math.max(worst, Math.abs(l[b * 320 + v] - alone[b][s][v]));
    }
    assert.deepEqual(cache.padding, padding, "the cache keeps the padding");
    cache.dispose();
    // Kernels may round a batched matmul differently from a one-row one; the values agree to float32 precision.
    assert.ok(worst < 1e-4, `max |batched - alone| = ${worst}`);
  });

  it("greedy rows equal generate alone, with per-row limits, stop strings and EOS ids, whatever the batch size", async () => {
    const free = await generate(model, tok, PROMPTS[0], { maxNewTokens: 12 });
    const rows: GenerateOptions[] = PROMPTS.map((_, i) => ({ maxNewTokens: 4 + 3 * i }));
    rows[0] = { maxNewTokens: 12, stop: [free.text.slice(5, 7)] };
    rows[2] = { maxNewTokens: 20, stopTokenIds: [free.tokenIds[3]] };
    rows[5] = { maxNewTokens: 0 };
    const alone = await oneByOne(model, tok, PROMPTS, rows);
    assert.equal(alone[0].finishReason, "stop");
    assert.equal(alone[5].tokenIds.length, 0);
    for (const batchSize of [8, 3, 1]) {
      const got = await generateBatch(model, tok, PROMPTS, { rows, batchSize });
      sameOutputs(got, alone);
    }
  });

  it("sampled rows equal generate alone given each row's seed, and repeat exactly", async () => {
    const rows: GenerateOptions[] = PROMPTS.map((_, i) => ({
      maxNewTokens: 24,
      temperature: 0.7 + 0.1 * i,
      topP: i % 2 ? 0.9 : 1,
      topK: i % 3 ? 0 : 20,
      repetitionPenalty: i % 4 ? 1 : 1.3,
      seed: 100 + i,
    }));
    const alone = await oneByOne(model, tok, PROMPTS, rows);
    const a = await generateBatch(model, tok, PROMPTS, { rows, batchSize: 4 });
    const b = await generateBatch(model, tok, PROMPTS, { rows, batchSize: 8 });
    sameOutputs(a, alone);
    sameOutputs(b, alone);
    // A shared seed: every row draws as generate would with that seed.
    const shared = await generateBatch(model, tok, PROMPTS.slice(0, 3), { maxNewTokens: 10, temperature: 1, seed: 7 });
    sameOutputs(shared, await oneByOne(model, tok, PROMPTS.slice(0, 3), PROMPTS.slice(0, 3).map(() => ({ maxNewTokens: 10, temperature: 1, seed: 7 }))));
  });

  it("ended rows leave the batch: they are never sampled or computed again", async () => {
    const rows: GenerateOptions[] = PROMPTS.map((_, i) => ({ maxNewTokens: 2 + 5 * i, temperature: 1, random: new Random(i) }));
    const jobs = PROMPTS.map((p, i) => prepareJob(model, tok, p, rows[i]));
    const decoder = new BatchDecoder(model, { batchSize: 8 });
    const order: number[] = [];
    const waiting = [...jobs];
    await decoder.run((free) => waiting.splice(0, free), (job) => order.push(jobs.indexOf(job)));
    // A row is sampled once per token (plus once for an EOS that ends it) and computed in one
    // decoding step fewer than it is sampled; its generator draws exactly as alone.
    const samples: number[] = [];
    for (const [i, j] of jobs.entries()) {
      const r = new Random(i);
      const alone = await generate(model, tok, PROMPTS[i], { ...rows[i], random: r });
      assert.deepEqual(j.sequence.generated, alone.tokenIds, `row ${i}'s tokens`);
      assert.deepEqual(j.random.state(), r.state(), `row ${i}'s random state`);
      samples.push(alone.tokenIds.length + (alone.finishReason === "eos" ? 1 : 0));
    }
    assert.equal(decoder.stats.rowSteps, samples.reduce((s, n) => s + n - 1, 0));
    assert.equal(decoder.stats.steps, Math.max(...samples) - 1);
    assert.deepEqual(order, PROMPTS.map((_, i) => i).sort((a, b) => samples[a] - samples[b] || a - b), "rows are reported as they end");
  });

  it("takes greedy tokens on the device for large vocabularies, with the same result", async () => {
    const rows: GenerateOptions[] = PROMPTS.map((_, i) => ({ maxNewTokens: 5 + i }));
    const jobs = PROMPTS.map((p, i) => prepareJob(model, tok, p, rows[i]));
    const waiting = [...jobs];
    await new BatchDecoder(model, { batchSize: 8, deviceArgmaxFrom: 0 }).run((free) => waiting.splice(0, free), () => undefined);
    sameOutputs(jobs.map(jobResult), await oneByOne(model, tok, PROMPTS, rows));
  });

  it("prompts join a running batch as rows end (continuous batching) and still equal generate alone", async () => {
    const prompts = Array.from({ length: 11 }, (_, i) => PROMPTS[i % PROMPTS.length] + " " + "x".repeat(i));
    const rows = prompts.map((_, i) => ({ maxNewTokens: 3 + ((i * 7) % 13) }));
    const jobs = prompts.map((p, i) => prepareJob(model, tok, p, rows[i]));
    const decoder = new BatchDecoder(model, { batchSize: 4, admitWhenFree: 1 });
    const waiting = [...jobs];
    await decoder.run((free) => waiting.splice(0, free), () => undefined);
    assert.ok(decoder.stats.prefills > 3, `${decoder.stats.prefills} prefills`);
    assert.equal(decoder.stats.maxRows, 4);
    sameOutputs(jobs.map(jobResult), await oneByOne(model, tok, prompts, rows));
  });

  it("keeps positions and masks right for sliding windows, dynamic rope scaling and chat prompts", async () => {
    const variants: ConfigInput[] = [
      { ...BASE, modelType: "mistral", slidingWindow: 5 },
      { ...BASE, modelType: "qwen2", numKeyValueHeads: 1, maxPositionEmbeddings: 12, ropeScaling: { type: "dynamic", factor: 2 } },
      { ...BASE, numKeyValueHeads: 4, ropeScaling: { type: "llama3", factor: 8, originalMaxPositionEmbeddings: 64, lowFreqFactor: 1, highFreqFactor: 4 } },
    ];
    const prompts: Prompt[] = [[{ role: "user", content: "Hi" }], "The quick brown fox jumps", "A", { ids: [1, 2, 3, 4, 5, 6, 7, 8, 9] }];
    for (const cfg of variants) {
      const m = createModel(cfg, { seed: 9, initStd: 0.3 });
      try {
        const rows = prompts.map((_, i) => ({ maxNewTokens: 10 + 4 * i }));
        sameOutputs(await generateBatch(m, tok, prompts, { rows, batchSize: 3 }), await oneByOne(m, tok, prompts, rows));
      } finally {
        m.dispose();
      }
    }
  });

  it("works with 4-bit weights under LoRA adapters (QLoRA variants)", async () => {
    const m = createModel({ ...BASE, hiddenSize: 64, intermediateSize: 128 }, { seed: 3, initStd: 0.3 });
    try {
      assert.ok(quantizeModel(m, "nf4").quantized > 0);
      new LoraModel(m, { r: 4, alpha: 8 }, { seed: 2 });
      // Adapters start as a no-op (B = 0): give them weights so they change the outputs.
      for (const [i, v] of m.trainableVariables().entries()) v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", i));
      const rows = PROMPTS.map((_, i) => ({ maxNewTokens: 6 + i, temperature: i % 2 ? 0.9 : 0, seed: i }));
      sameOutputs(await generateBatch(m, tok, PROMPTS, { rows, batchSize: 5 }), await oneByOne(m, tok, PROMPTS, rows));
    } finally {
      m.dispose();
    }
  });

  it("streams each row's text and tokens, reports results as rows end, and stops rows on their own signals", async () => {
    const texts = PROMPTS.map(() => "");
    const ids: number[][] = PROMPTS.map(() => []);
    const ended: number[] = [];
    const controller = new AbortController();
    const rows: GenerateOptions[] = PROMPTS.map(() => ({}));
    let seen = 0;
    rows[3] = { signal: controller.signal, onToken: () => ++seen === 5 && controller.abort() };
    const got = await generateBatch(model, tok, PROMPTS, {
      maxNewTokens: 15,
      stopTokenIds: [],
      rows,
      onText: (i, d) => (texts[i] += d),
      onToken: (i, id) => ids[i].push(id),
      onResult: (i) => ended.push(i),
    });
    assert.equal(got[3].finishReason, "aborted");
    assert.equal(got[3].tokenIds.length, 5);
    for (const [i, r] of got.entries()) {
      assert.equal(texts[i], r.text, `row ${i} streamed its text`);
      assert.deepEqual(ids[i], r.tokenIds);
      if (i !== 3) assert.equal(r.finishReason, "length");
    }
    assert.equal(ended[0], 3, "the stopped row ends first");
    assert.deepEqual([...ended].sort(), PROMPTS.map((_, i) => i).sort());
    const all = new AbortController();
    all.abort();
    const none = await generateBatch(model, tok, PROMPTS.slice(0, 2), { signal: all.signal });
    assert.deepEqual(none.map((r) => [r.finishReason, r.tokenIds.length]), [["aborted", 0], ["aborted", 0]]);
  });

  it("frees memory: a long batch leaves no tensor behind and holds a bounded count while running", async () => {
    const before = tf.memory().numTensors;
    let most = 0;
    const prompts = Array.from({ length: 12 }, (_, i) => PROMPTS[i % PROMPTS.length]);
    const got = await generateBatch(model, tok, prompts, {
      batchSize: 5,
      rows: prompts.map((_, i) => ({ maxNewTokens: 60 + 25 * i, temperature: 1, seed: i })),
      stopTokenIds: [],
      onToken: () => (most = Math.max(most, tf.memory().numTensors)),
    });
    assert.ok(got.reduce((s, r) => s + r.tokenIds.length, 0) > 1000);
    assert.equal(tf.memory().numTensors, before, "no tensor outlives generation");
    // The cache: 2 tensors per layer.
    assert.ok(most <= before + 2 * 2, `${most - before} tensors while running`);
  });

  it("rejects bad input by row", async () => {
    await assert.rejects(generateBatch(model, tok, ["a", "b"], { rows: [{}] }), /rows has 1 entries for 2 prompts/);
    await assert.rejects(generateBatch(model, tok, ["a", { ids: [1, 999] }]), /prompt 1: prompt token id 999 is outside the vocabulary/);
    await assert.rejects(generateBatch(model, tok, ["a"], { batchSize: 0 }), /batchSize must be a positive integer/);
    assert.deepEqual(await generateBatch(model, tok, []), []);
    assert.throws(() => model.forward([[1, 2], [3, 4]], { padding: [0] }), /padding has 1 entries for a batch of 2 rows/);
    assert.throws(() => model.forward([[1, 2]], { padding: [2] }), /padding\[0\] = 2 must be an integer in \[0, 2\)/);
  });

  describe("generation queue", () => {
    it("decodes concurrent requests together, each as generate alone", async () => {
      const q = createGenerationQueue(model, tok, { batchSize: 4 });
      const rows: GenerateOptions[] = PROMPTS.map((_, i) => ({ maxNewTokens: 5 + 2 * i, temperature: i % 2 ? 0.8 : 0, seed: i }));
      const got = await Promise.all(PROMPTS.map((p, i) => q.generate(p, rows[i])));
      sameOutputs(got, await oneByOne(model, tok, PROMPTS, rows));
      assert.ok(q.stats.maxRows > 1, "requests shared forward passes");
      assert.ok(q.stats.steps < got.reduce((s, r) => s + r.tokenIds.length, 0) / 2);
      assert.equal(q.pending, 0);
      // A later request starts a new session.
      const late = await q.generate("Hello", { maxNewTokens: 3 });
      assert.deepEqual(late.tokenIds, (await generate(model, tok, "Hello", { maxNewTokens: 3 })).tokenIds);
    });

    it("runs sessions through the schedule it is given and fails only the rows of a failed session", async () => {
      const sessions: number[] = [];
      let fail = true;
      const q = createGenerationQueue(model, tok, {
        batchSize: 2,
        schedule: async (fn) => {
          sessions.push(q.pending);
          if (fail) {
            fail = false;
            // A fault injected before the session decodes anything: its requests wait for the next one.
            throw new Error("scheduler refused");
          }
          return fn();
        },
      });
      const got = await Promise.all([q.generate("A", { maxNewTokens: 2 }), q.generate("B", { maxNewTokens: 2 })]);
      assert.equal(got.length, 2);
      assert.ok(sessions.length >= 2);
      await assert.rejects(q.generate({ ids: [999] }), /outside the vocabulary/);
      // A session that fails while decoding rejects the requests it held.
      const gone = createModel(BASE, { seed: 1 });
      const q2 = createGenerationQueue(gone, tok, {
        schedule: (fn) => {
          gone.dispose();
          return fn();
        },
      });
      const failed = await Promise.allSettled([q2.generate("A"), q2.generate("B")]);
      assert.deepEqual(failed.map((r) => r.status), ["rejected", "rejected"]);
      assert.match(String((failed[0] as PromiseRejectedResult).reason), /disposed/);
      assert.equal(q2.pending, 0);
    });
  });
});
