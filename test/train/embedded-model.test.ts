import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { evaluateSkills, finetuneSkills, quantizationPerplexity } from "../../lib/train/skills.js";
import { embeddedModelDir, loadEmbeddedModel } from "../../lib/data/embedded/default-model.js";
import { parameterCount } from "../../lib/model/memory.js";
import { DataConfigSchema } from "../../lib/data/config.js";
import { encodeExample, type Sample } from "../../lib/data/encode.js";
import { textTokenizer } from "../../lib/data/tokenizer-adapter.js";
import { embeddedSkills } from "../../lib/data/embedded/skills.js";
import { setupBackend } from "../support/backend.js";

/** The 4-bit base's perplexity may exceed float32's by at most this fraction (measured: under 0.1%). */
const PERPLEXITY_MARGIN = 0.02;

describe("train: the embedded default model (models/tslm-tiny)", function () {
  this.timeout(240_000);
  before(() => setupBackend());

  it("is a small LLaMA model with a real BPE tokenizer whose chat template renders LLM Studio's format", async () => {
    const model = await loadEmbeddedModel();
    const n = parameterCount(model);
    assert.ok(n > 200_000 && n < 3_000_000, `${n} parameters`);
    assert.ok(statSync(join(embeddedModelDir(), "model.safetensors")).size < 5e6);
    assert.equal(model.config.modelType, "llama");
    const tok = model.tokenizer!;
    assert.equal(tok.tokenToId("<|prompt|>") !== undefined && tok.tokenToId("<|answer|>") !== undefined, true);
    // The same conversation tokenized through the chat template and in LLM Studio's marker format is identical.
    const task = embeddedSkills().heldOut[0];
    const ex = { kind: "chat" as const, system: "", turns: [{ prompt: task.prompt, answer: task.answer }], source: {} };
    const t = textTokenizer(tok);
    const a = encodeExample(ex, DataConfigSchema.parse({ format: "llm-studio" }), t) as Sample;
    const b = encodeExample(ex, DataConfigSchema.parse({ format: "chat-template" }), t) as Sample;
    assert.deepEqual(b.inputIds, a.inputIds);
    assert.deepEqual(b.labels, a.labels);
    model.dispose();
  });

  it(`keeps perplexity within ${PERPLEXITY_MARGIN * 100}% of float32 with a 4-bit (nf4) base in at most 1/6 of the memory`, async () => {
    const [f32, nf4] = await quantizationPerplexity(["none", "nf4"], 8);
    assert.ok(nf4.perplexity <= f32.perplexity * (1 + PERPLEXITY_MARGIN), `nf4 ${nf4.perplexity} vs float32 ${f32.perplexity}`);
    assert.ok(nf4.linearRatio <= 1 / 6, `4-bit linear layers take ${nf4.linearRatio} of float32`);
  });

  it("LoRA fine-tuning on the train split raises held-out exact match far above the base model's", async () => {
    const base = await loadEmbeddedModel();
    const before = await evaluateSkills(base, base.tokenizer!);
    base.dispose();
    const run = await finetuneSkills({ variant: "lora", config: { epochs: 3 } }, { progress: "off" });
    const after = run.evals[run.evals.length - 1];
    assert.ok(before.exactMatch! <= 0.1, `base exact match ${before.exactMatch}`);
    assert.ok(after.exactMatch! >= before.exactMatch! + 0.3, `LoRA exact match ${after.exactMatch} vs base ${before.exactMatch}`);
    run.model.dispose();
  });
});
