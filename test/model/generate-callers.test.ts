/**
 * The callers that generate many answers use batched generation and get
 * what one-at-a-time generation gives: the arena's local contestant (prompts
 * in flight share forward passes) and the trainer's exact-match evaluation.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import { createLocalContestant, modelGenerateOptions } from "../../lib/arena/contestants/local.js";
import type { ContestantRequest } from "../../lib/arena/contestants/types.js";
import type { ArenaChatMessage } from "../../lib/arena/types.js";
import { createModel } from "../../lib/model/create.js";
import { generate } from "../../lib/model/generate.js";
import { loadModel, saveModel } from "../../lib/model/io.js";
import { evaluate } from "../../lib/train/evaluate.js";
import { collapseWhitespace as normalizeAnswer } from "../../lib/data/text-metrics.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { setupBackend, tempDir } from "./support.js";
import { sampleCorpus } from "../tokenizer/corpus.js";

const CONFIG = { vocabSize: 320, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 1200 };

describe("model/generate: batched callers", function () {
  this.timeout(120_000);
  before(() => setupBackend());

  it("the arena's local contestant decodes prompts in flight together and answers each as generate alone", async () => {
    const dir = join(tempDir(), "tiny");
    const model = createModel(CONFIG, { seed: 5, initStd: 0.3 });
    model.tokenizer = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 }).tokenizer;
    await saveModel(model, dir);
    // The contestant loads its own copy of the folder (variable names must not clash with this one's).
    model.dispose();
    let sessions = 0;
    const contestant = createLocalContestant(
      { name: "tiny", type: "local", model: dir, system: "Be brief." },
      {
        schedule: (fn) => {
          sessions++;
          return fn();
        },
      },
    );
    const questions = ["What is 2 + 2?", "Name a planet.", "def add(a, b):", "Größe?", "Hello", "Why?", "The quick brown fox", "Prices rose"];
    const requests: ContestantRequest[] = questions.map((q, i) => {
      const messages: ArenaChatMessage[] = [{ role: "user", content: q }];
      const params = { max_tokens: 4 + 3 * i, temperature: i % 2 ? 0.8 : 0, seed: 10 + i, stop: i === 2 ? ["\n"] : undefined, extra: i === 3 ? { top_k: 5 } : undefined };
      return { prompt: { id: `p${i}`, category: "test", messages }, messages, params };
    });
    let answers;
    try {
      answers = await Promise.all(requests.map((r) => contestant.generate(r)));
    } finally {
      await contestant.close?.();
    }
    assert.ok(sessions < requests.length, `${sessions} decoding sessions for ${requests.length} prompts in flight`);
    const alone = await loadModel(dir);
    try {
      for (const [i, r] of requests.entries()) {
        const chat = [{ role: "system", content: "Be brief." }, ...r.messages].map((m) => ({ role: m.role, content: m.content }));
        const one = await generate(alone, alone.tokenizer, chat, modelGenerateOptions(r.params));
        assert.equal(answers[i].text, one.text, `answer ${i}`);
        assert.equal(answers[i].tokens, one.usage.completionTokens);
      }
    } finally {
      alone.dispose();
    }
  });

  it("the trainer's exact-match evaluation generates in batches and predicts as generate alone", async () => {
    const model = createModel(CONFIG, { seed: 7, initStd: 0.3 });
    const tok = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 }).tokenizer;
    try {
      const samples = Array.from({ length: 21 }, (_, i) => {
        const promptIds = tok.encode(`Question ${i}: ${"why ".repeat(i % 5)}?`);
        const answer = tok.encode(" because", { addSpecialTokens: false });
        const inputIds = [...promptIds, ...answer];
        return { inputIds, labels: inputIds.map((id, t) => (t < promptIds.length ? -100 : id)), promptIds, reference: "because", source: { file: "mem", row: i } };
      });
      let progress = 0;
      const r = await evaluate(model, tok, samples, { maxNewTokens: 8, onSample: (done, total) => (assert.equal(total, 21), (progress = done)) });
      assert.equal(progress, 21);
      for (const [i, s] of samples.entries()) {
        const alone = await generate(model, tok, { ids: s.promptIds }, { maxNewTokens: 8, temperature: 0 });
        assert.equal(r.predictions[i].prediction, normalizeAnswer(alone.text), `sample ${i}`);
      }
    } finally {
      model.dispose();
    }
  });
});
