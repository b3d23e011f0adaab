import { strict as assert } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../../lib/model/create.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { generate } from "../../lib/model/generate.js";
import { applyRepetitionPenalty, candidateDistribution, selectToken } from "../../lib/model/sampling.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { Random } from "../../lib/util/random.js";
import { setupBackend } from "./support.js";
import { sampleCorpus } from "../tokenizer/corpus.js";

describe("model/generate", function () {
  this.timeout(120_000);
  let model: CausalLM;
  before(async () => {
    await setupBackend();
    const { tokenizer } = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 });
    model = createModel({ vocabSize: 320, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 1200 }, { seed: 5, initStd: 0.3 });
    model.tokenizer = tokenizer;
  });
  after(() => model.dispose());

  it("greedy decoding follows the argmax of a full forward pass, with and without the cache", async () => {
    const r = await generate(model, model.tokenizer, "The quick brown", { maxNewTokens: 12 });
    assert.equal(r.tokenIds.length, 12);
    assert.equal(r.finishReason, "length");
    const seq = [...r.promptTokenIds];
    for (const id of r.tokenIds) {
      const logits = model.forward([seq], { lastOnly: true });
      const next = tf.tidy(() => tf.argMax(tf.reshape(logits, [-1])).dataSync()[0]);
      logits.dispose();
      assert.equal(id, next);
      seq.push(id);
    }
    const noCache = await generate(model, model.tokenizer, "The quick brown", { maxNewTokens: 12, useCache: false });
    assert.deepEqual(noCache.tokenIds, r.tokenIds);
    assert.equal(r.text, model.tokenizer!.decode(r.tokenIds));
    assert.ok(r.timings.tokensPerSecond > 0);
  });

  it("samples reproducibly from a seed; top-k 1 is greedy", async () => {
    const opts = { maxNewTokens: 16, temperature: 1.2, topP: 0.95 };
    const a = await generate(model, model.tokenizer, "Hello", { ...opts, seed: 1 });
    const b = await generate(model, model.tokenizer, "Hello", { ...opts, seed: 1 });
    const c = await generate(model, model.tokenizer, "Hello", { ...opts, seed: 2 });
    assert.deepEqual(a.tokenIds, b.tokenIds);
    assert.notDeepEqual(a.tokenIds, c.tokenIds);
    const greedy = await generate(model, model.tokenizer, "Hello", { maxNewTokens: 16 });
    const top1 = await generate(model, model.tokenizer, "Hello", { maxNewTokens: 16, temperature: 2, topK: 1, seed: 9 });
    assert.deepEqual(top1.tokenIds, greedy.tokenIds);
    const rnd = new Random(1);
    const d = await generate(model, model.tokenizer, "Hello", { ...opts, random: rnd });
    assert.deepEqual(d.tokenIds, a.tokenIds, "an explicit Random with the same seed gives the same draw");
  });

  it("stops on stop strings and streams exactly the returned text, never part of a stop string", async () => {
    const free = await generate(model, model.tokenizer, "def add", { maxNewTokens: 40 });
    assert.ok(free.text.length > 6);
    const stop = free.text.slice(4, 6);
    const pieces: string[] = [];
    const r = await generate(model, model.tokenizer, "def add", { maxNewTokens: 40, stop: [stop, "never-there"], onText: (t) => pieces.push(t) });
    assert.equal(r.finishReason, "stop");
    assert.equal(r.text, free.text.slice(0, free.text.indexOf(stop)));
    assert.equal(pieces.join(""), r.text);
    const streamed: string[] = [];
    const full = await generate(model, model.tokenizer, "def add", { maxNewTokens: 40, onText: (t) => streamed.push(t) });
    assert.equal(streamed.join(""), full.text);
  });

  it("stops at EOS ids (config and options), and renders chat messages through the template", async () => {
    const free = await generate(model, model.tokenizer, "Hi", { maxNewTokens: 6 });
    const third = free.tokenIds[2];
    const r = await generate(model, model.tokenizer, "Hi", { maxNewTokens: 6, stopTokenIds: [third] });
    assert.equal(r.finishReason, "eos");
    assert.deepEqual(r.tokenIds, free.tokenIds.slice(0, free.tokenIds.indexOf(third)));
    const chat = await generate(model, model.tokenizer, [{ role: "user", content: "Hi" }], { maxNewTokens: 4 });
    assert.deepEqual(chat.promptTokenIds, model.tokenizer!.encode("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", { addSpecialTokens: false }));
    const ids = await generate(model, null, { ids: chat.promptTokenIds }, { maxNewTokens: 4 });
    assert.deepEqual(ids.tokenIds, chat.tokenIds);
    await assert.rejects(generate(model, null, "text"), /a tokenizer is needed/);
    await assert.rejects(generate(model, null, { ids: [1, 999] }), /prompt token id 999 is outside the vocabulary/);
  });

  it("frees memory: 1,000 generated tokens do not grow the tensor count", async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await generate(model, model.tokenizer, "Once", {
      maxNewTokens: 1000, temperature: 1, seed: 3, stopTokenIds: [],
      onToken: () => counts.push(tf.memory().numTensors),
    });
    // EOS may not end it early: the random model's EOS is id 2 and sampling can draw it.
    assert.ok(r.tokenIds.length >= 100, `generated ${r.tokenIds.length} tokens`);
    assert.equal(tf.memory().numTensors, before, "no tensor outlives generation");
    assert.equal(counts[counts.length - 1], counts[1], "the count is flat while generating (only the KV cache)");
  });

  describe("sampling", () => {
    it("applies the repetition penalty as CTRL does", () => {
      const l = Float32Array.from([2, -2, 1, 0.5]);
      applyRepetitionPenalty(l, [0, 1, 1], 2);
      assert.deepEqual([...l], [1, -4, 1, 0.5]);
    });

    it("keeps top-k (with ties) and the top-p nucleus", () => {
      const logits = Float32Array.from([Math.log(0.5), Math.log(0.25), Math.log(0.125), Math.log(0.125)]);
      const k2 = candidateDistribution(logits, { temperature: 1, topK: 2 });
      assert.deepEqual(k2.ids, [0, 1]);
      assert.ok(Math.abs(k2.probs[0] - 2 / 3) < 1e-6);
      const k3 = candidateDistribution(logits, { temperature: 1, topK: 3 });
      assert.deepEqual(k3.ids, [0, 1, 2, 3], "ties with the k-th value are kept");
      const p = candidateDistribution(logits, { temperature: 1, topP: 0.7 });
      assert.deepEqual(p.ids, [0, 1]);
      const p1 = candidateDistribution(logits, { temperature: 1, topP: 0.4 });
      assert.deepEqual(p1.ids, [0]);
    });

    it("finds the top-k and nucleus candidates of a large vocabulary as a full sort does", () => {
      // The definition: sort every id by logit (ties by id), keep k (and ties), then the nucleus.
      const reference = (logits: Float32Array, o: { temperature: number; topK?: number; topP?: number }) => {
        let ids = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
        if (o.topK && o.topK < logits.length) ids = ids.filter((i) => logits[i] >= logits[ids[o.topK! - 1]]);
        let probs = ids.map((i) => Math.exp((logits[i] - logits[ids[0]]) / o.temperature));
        let sum = probs.reduce((a, b) => a + b, 0);
        probs = probs.map((p) => p / sum);
        if ((o.topP ?? 1) < 1) {
          let cum = 0, keep = 0;
          while (keep < probs.length && (cum += probs[keep++]) < o.topP!);
          ids = ids.slice(0, keep);
          sum = probs.slice(0, keep).reduce((a, b) => a + b, 0);
          probs = probs.slice(0, keep).map((p) => p / sum);
        }
        return { ids, probs };
      };
      const rng = new Random(5);
      for (const [V, scale] of [[50_000, 3], [50_000, 0.2], [3000, 8], [40, 1]] as const) {
        // Rounded logits make ties, which must be kept and ordered by id.
        const logits = Float32Array.from({ length: V }, () => Math.round(rng.normal() * scale * 8) / 8);
        for (const o of [{ temperature: 0.8, topP: 0.9 }, { temperature: 1.3, topK: 50 }, { temperature: 0.7, topK: 500, topP: 0.6 }, { temperature: 1, topP: 0.999 }, { temperature: 1, topK: V + 5 }]) {
          const got = candidateDistribution(logits, o);
          const want = reference(logits, o);
          assert.deepEqual(got.ids, want.ids, `V=${V} ${JSON.stringify(o)}`);
          got.probs.forEach((p, i) => assert.ok(Math.abs(p - want.probs[i]) < 1e-12, `V=${V} ${JSON.stringify(o)} p[${i}]`));
        }
      }
    });

    it("draws in proportion to the probabilities", () => {
      const logits = Float32Array.from([Math.log(0.7), Math.log(0.2), Math.log(0.1)]);
      const rng = new Random(42);
      const counts = [0, 0, 0];
      for (let i = 0; i < 20000; i++) counts[selectToken(Float32Array.from(logits), [], { temperature: 1 }, rng)]++;
      assert.ok(Math.abs(counts[0] / 20000 - 0.7) < 0.015 && Math.abs(counts[2] / 20000 - 0.1) < 0.01, JSON.stringify(counts));
      const nucleus = [0, 0, 0];
      for (let i = 0; i < 5000; i++) nucleus[selectToken(Float32Array.from(logits), [], { temperature: 1, topP: 0.8 }, rng)]++;
      assert.equal(nucleus[2], 0);
    });
  });
});
