/**
 * Context and argument limits: prompt + new tokens checked against the
 * model's context (refused with the counts, or truncated when asked),
 * absurd token budgets and LoRA ranks refused up front, and a prompt that
 * fails in a shared decoding session failing alone.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { generate } from "../../lib/model/generate.js";
import { generateBatch } from "../../lib/model/generate-batch.js";
import { createGenerationQueue } from "../../lib/model/generation-queue.js";
import { createModel } from "../../lib/model/create.js";
import { loadModel, readModelConfig } from "../../lib/model/io.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { checkLoraRank, checkMaxNewTokens, contextLength, ContextLengthError, fitContext } from "../../lib/model/limits.js";
import { ConfigError, TslmError } from "../../lib/util/errors.js";
import { evaluate } from "../../lib/train/evaluate.js";
import { IGNORE_INDEX } from "../../lib/model/causal-lm.js";
import { setupBackend } from "./support.js";
import { tslm, ROOT } from "../support/cli.js";

const EMBEDDED = join(ROOT, "models/tslm-tiny");

/** Words enough to pass the embedded model's 256-token context several times over. */
const LONG_TEXT = Array.from({ length: 400 }, (_, i) => ["river", "stone", "violet", "seven", "market"][i % 5]).join(" ");

describe("model/limits: context and argument limits", function () {
  this.timeout(120_000);

  describe("fitContext", () => {
    it("passes a prompt that fits and refuses one that does not, naming its tokens, the new tokens and the context", () => {
      assert.deepEqual(fitContext([1, 2, 3], { maxNewTokens: 5, context: 8 }), { ids: [1, 2, 3], maxNewTokens: 5, droppedTokens: 0 });
      assert.throws(
        () => fitContext([1, 2, 3, 4], { maxNewTokens: 5, context: 8 }),
        (e: unknown) =>
          e instanceof ContextLengthError && e.promptTokens === 4 && e.maxNewTokens === 5 && e.contextLength === 8 &&
          /the prompt has 4 tokens and 5 new tokens were asked for: 9 tokens, more than the model's context of 8 tokens/.test(e.message) &&
          /ask for at most 4 new tokens/.test(e.message) && /truncate: "left"/.test(e.message),
      );
      // A prompt that fills the context alone cannot be helped by fewer new tokens.
      assert.throws(() => fitContext([1, 2, 3, 4, 5, 6, 7, 8], { maxNewTokens: 1, context: 8 }), (e: unknown) => e instanceof ContextLengthError && !/at most/.test(e.message));
    });

    it("truncates from the left on request, keeping a leading BOS", () => {
      assert.deepEqual(fitContext([9, 1, 2, 3, 4, 5, 6], { maxNewTokens: 3, context: 6, truncate: "left" }), { ids: [4, 5, 6], maxNewTokens: 3, droppedTokens: 4 });
      assert.deepEqual(fitContext([9, 1, 2, 3, 4, 5, 6], { maxNewTokens: 3, context: 6, truncate: "left", bos: 9 }), { ids: [9, 5, 6], maxNewTokens: 3, droppedTokens: 4 });
      // Only as much as needed.
      assert.deepEqual(fitContext([9, 1, 2], { maxNewTokens: 3, context: 6, truncate: "left", bos: 9 }).ids, [9, 1, 2]);
    });

    it("caps the answer with truncate 'answer' and when no budget was given", () => {
      assert.equal(fitContext([1, 2, 3], { maxNewTokens: 100, context: 8, truncate: "answer" }).maxNewTokens, 5);
      assert.equal(fitContext([1, 2, 3], { maxNewTokens: 1e12, context: 8, truncate: "answer" }).maxNewTokens, 5);
      assert.equal(fitContext([1, 2, 3], { context: 8 }).maxNewTokens, 5);
      assert.equal(fitContext([1, 2, 3], { context: 1000 }).maxNewTokens, 128);
      assert.throws(() => fitContext([1, 2, 3], { maxNewTokens: 4, context: 3, truncate: "answer" }), ContextLengthError);
    });

    it("refuses token budgets no prompt fits and unknown truncation modes", () => {
      assert.throws(() => checkMaxNewTokens(1e12, 256, "--max-tokens"), (e: unknown) => e instanceof ConfigError && /--max-tokens 1000000000000 is more than the model's context of 256 tokens allows/.test(e.message));
      assert.throws(() => checkMaxNewTokens(256, 256), /at most 255 new tokens/);
      checkMaxNewTokens(255, 256);
      assert.throws(() => checkMaxNewTokens(-1, 256), /non-negative integer, got -1/);
      assert.throws(() => checkMaxNewTokens(2.5, Infinity), /non-negative integer, got 2.5/);
      assert.throws(() => fitContext([1], { context: 8, truncate: "right" as never }), /truncate must be one of "none", "left", "answer", got "right"/);
    });

    it("takes the context from max_position_embeddings; dynamic NTK rope sets none", () => {
      const cfg = readModelConfig(EMBEDDED);
      assert.equal(contextLength(cfg), cfg.maxPositionEmbeddings);
      assert.equal(contextLength({ maxPositionEmbeddings: 64, ropeScaling: { type: "dynamic", factor: 2 } }), Infinity);
    });
  });

  describe("generation on the embedded default model", () => {
    let model: CausalLM;
    let context: number;
    before(async () => {
      await setupBackend();
      model = await loadModel(EMBEDDED);
      context = contextLength(model.config);
    });
    after(() => model?.dispose());

    it("refuses a prompt longer than the context with its token count, the new tokens and the limit", async () => {
      const n = model.tokenizer!.encode(LONG_TEXT).length;
      assert.ok(n > context, `${n} prompt tokens`);
      await assert.rejects(
        generate(model, model.tokenizer, LONG_TEXT, { maxNewTokens: 8 }),
        (e: unknown) => e instanceof ContextLengthError && e.promptTokens === n && e.maxNewTokens === 8 && e.contextLength === context && e.message.includes(`${n} tokens`) && e.message.includes(`context of ${context} tokens`),
      );
      // Prompt and answer together past the context: refused, naming the room left.
      const ids = model.tokenizer!.encode(LONG_TEXT).slice(0, 200);
      await assert.rejects(generate(model, null, { ids }, { maxNewTokens: 100 }), new RegExp(`ask for at most ${context - 200} new tokens`));
      // Without a budget the default answer length gives way to the prompt.
      const r = await generate(model, null, { ids }, { temperature: 0 });
      assert.ok(r.tokenIds.length <= context - 200, `${r.tokenIds.length} tokens`);
    });

    it("truncates the prompt from the left when asked, and decodes what the kept tokens give", async () => {
      const all = model.tokenizer!.encode(LONG_TEXT);
      const r = await generate(model, model.tokenizer, LONG_TEXT, { maxNewTokens: 8, truncate: "left" });
      assert.equal(r.promptTokenIds.length, context - 8);
      assert.equal(r.droppedPromptTokens, all.length - (context - 8));
      assert.deepEqual(r.promptTokenIds, all.slice(all.length - (context - 8)));
      const same = await generate(model, null, { ids: all.slice(all.length - (context - 8)) }, { maxNewTokens: 8 });
      assert.deepEqual(r.tokenIds, same.tokenIds);
      assert.equal(same.droppedPromptTokens, 0);
    });

    it("refuses --max-tokens 1e12 and a budget past the context before encoding the prompt", async () => {
      await assert.rejects(generate(model, model.tokenizer, "Hello", { maxNewTokens: 1e12 }), (e: unknown) => e instanceof ConfigError && /maxNewTokens 1000000000000 is more than the model's context of 256 tokens/.test(e.message));
      // The tokenizer is never reached: a null tokenizer with a text prompt would fail there otherwise.
      await assert.rejects(generate(model, null, "Hello", { maxNewTokens: context }), /at most 255 new tokens/);
    });

    it("generateBatch refuses the batch up front, naming the prompt that does not fit", async () => {
      await assert.rejects(
        generateBatch(model, model.tokenizer, ["Hello", LONG_TEXT, "Hi"], { maxNewTokens: 4 }),
        (e: unknown) => e instanceof ContextLengthError && /^prompt 1 has \d+ tokens/.test(e.message),
      );
      const rs = await generateBatch(model, model.tokenizer, ["Hello", LONG_TEXT], { maxNewTokens: 4, truncate: "left" });
      assert.equal(rs[1].promptTokenIds.length, context - 4);
    });

    it("exact-match evaluation treats its answer budget as a cap: the trainer's default 256 on a 256-token context still evaluates", async () => {
      const promptIds = model.tokenizer!.encodeChat([{ role: "user", content: "What is 2 + 2?" }]);
      const answer = model.tokenizer!.encode("4", { addSpecialTokens: false });
      const sample = { inputIds: [...promptIds, ...answer], labels: [...promptIds.map(() => IGNORE_INDEX), ...answer], promptIds, reference: "4", source: {} };
      const r = await evaluate(model, model.tokenizer, [sample], { maxNewTokens: 256 });
      assert.equal(r.predictions.length, 1);
    });

    it("tslm generate refuses a --max-tokens past the context in one line naming it", () => {
      const r = tslm("generate", "--model", EMBEDDED, "--prompt", "Hello", "--max-tokens", "100000", "--backend", "wasm");
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /100000 is more than the model's context of 256 tokens/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    });
  });

  describe("the generation queue", () => {
    let model: CausalLM;
    const CONFIG = { vocabSize: 64, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 96 };
    before(async () => {
      await setupBackend();
      model = createModel(CONFIG, { seed: 7, initStd: 0.3 });
    });
    after(() => model?.dispose());

    it("refuses a prompt past the context on its own; the other requests are answered", async () => {
      const q = createGenerationQueue(model, null);
      const long = { ids: Array.from({ length: 120 }, (_, i) => 1 + (i % 60)) };
      const results = await Promise.allSettled([q.generate({ ids: [1, 2, 3] }, { maxNewTokens: 5 }), q.generate(long, { maxNewTokens: 5 }), q.generate({ ids: [4, 5] }, { maxNewTokens: 5 })]);
      assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof ContextLengthError);
    });

    it("when a shared session fails on one prompt, only that prompt fails and the others get what generate alone gives", async () => {
      // A forward pass over more than 40 positions fails, as an allocation for a long prompt can.
      const m = createModel(CONFIG, { seed: 7, initStd: 0.3 });
      const forward = m.forward.bind(m);
      let failures = 0;
      m.forward = ((ids: number[][] | tf.Tensor2D, options?: Parameters<CausalLM["forward"]>[1]) => {
        const T = Array.isArray(ids) ? ids[0].length : ids.shape[1];
        if (T > 40) {
          failures++;
          throw new TslmError(`cannot allocate ${T * T} floats of attention scores`);
        }
        return forward(ids, options);
      }) as CausalLM["forward"];
      try {
        const prompts = [{ ids: [1, 2, 3] }, { ids: Array.from({ length: 50 }, (_, i) => 1 + (i % 60)) }, { ids: [7, 8, 9, 10] }, { ids: [11] }];
        const opts = [{ maxNewTokens: 6 }, { maxNewTokens: 6 }, { maxNewTokens: 6, temperature: 0.9, seed: 3 }, { maxNewTokens: 6 }];
        const q = createGenerationQueue(m, null, { batchSize: 8 });
        const results = await Promise.allSettled(prompts.map((p, i) => q.generate(p, opts[i])));
        assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled", "fulfilled"]);
        assert.match(String((results[1] as PromiseRejectedResult).reason), /cannot allocate 2500 floats/);
        assert.equal(failures, 2, "the shared session failed once, the long prompt once alone");
        for (const i of [0, 2, 3]) {
          const alone = await generate(model, null, prompts[i], opts[i]);
          assert.deepEqual((results[i] as PromiseFulfilledResult<Awaited<ReturnType<typeof generate>>>).value.tokenIds, alone.tokenIds, `prompt ${i}`);
        }
        assert.equal(q.pending, 0);
      } finally {
        m.dispose();
      }
    });
  });

  describe("LoRA rank", () => {
    it("refuses a rank larger than a targeted layer, naming the layer, its shape and the largest rank", () => {
      const cfg = readModelConfig(EMBEDDED);
      const kv = cfg.numKeyValueHeads * cfg.headDim;
      checkLoraRank(cfg, { r: kv, targetModules: null });
      assert.throws(
        () => checkLoraRank(cfg, { r: 100000, targetModules: null }),
        (e: unknown) => e instanceof ConfigError && new RegExp(`LoRA rank 100000 is larger than layer model\\.layers\\.0\\.self_attn\\.q_proj \\[${cfg.numAttentionHeads * cfg.headDim}, ${cfg.hiddenSize}\\]`).test(e.message),
      );
      assert.throws(() => checkLoraRank(cfg, { r: kv + 1, targetModules: null }), new RegExp(`k_proj \\[${kv}, ${cfg.hiddenSize}\\].*use r <= ${kv}`));
      // Only targeted layers count.
      checkLoraRank(cfg, { r: kv + 1, targetModules: ["q_proj"] });
      assert.throws(() => checkLoraRank(cfg, { r: 4, targetModules: null }, (m) => (m.endsWith("v_proj") ? { r: kv + 1 } : {})), /v_proj/);
    });
  });
});
