/**
 * Local tslm models as contestants: a tiny model folder (saved by lib/model)
 * and the same model with a PEFT LoRA adapter play a tournament.
 */
import { strict as assert } from "node:assert";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { init } from "../../lib/tensor/index.js";
import { createModel, saveModel, LoraModel, saveAdapter } from "../../lib/model/index.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/index.js";
import { runTournament } from "../../lib/arena/run.js";
import { MINI_SUITE } from "./support/arena-config.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

const CORPUS = Array.from({ length: 30 }, (_, i) =>
  [`<|im_start|>user\nWhat is ${i} + ${i}?<|im_end|>\n<|im_start|>assistant\n${2 * i}<|im_end|>`, "Which planet is closest to the Sun? Mercury is.", "def add(a, b): return a + b"][i % 3],
);

describe("arena/contestants: local models", function () {
  this.timeout(120_000);
  after(removeTempDirs);

  it("answers with a model folder and with an adapter on it; answers are cached by folder content", async () => {
    await init();
    const root = tempDir();
    const modelDir = join(root, "tiny");
    const adapterDir = join(root, "adapter");
    const model = createModel({ vocabSize: 300, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 512 }, { seed: 3, initStd: 0.3 });
    model.tokenizer = trainBpeTokenizer(CORPUS, { vocabSize: 300 }).tokenizer;
    await saveModel(model, modelDir);
    const lora = new LoraModel(model, { r: 2, alpha: 8 }, { seed: 4 });
    for (const l of lora.layers.values()) {
      const w = l.adapters.get("default")!;
      w.B.assign(tf.randomNormal(w.B.shape, 0, 0.5, "float32", 5) as tf.Tensor2D);
    }
    saveAdapter(adapterDir, lora);
    model.dispose();

    const cfg = (name: string) => ({
      name,
      out: root,
      cache: join(root, "cache"),
      suite: MINI_SUITE,
      prompts: { limit: 3 },
      generation: { max_tokens: 6, temperature: 0 },
      contestants: [
        { name: "base", type: "local" as const, model: modelDir },
        { name: "tuned", type: "local" as const, model: modelDir, adapter: adapterDir },
      ],
      judge: { type: "reference" as const, metric: "rouge-l" as const },
    });
    const run = await runTournament(cfg("local"), { progress: "off" });
    assert.equal(run.answers.length, 6);
    assert.equal(run.errors.answers.length, 0, JSON.stringify(run.errors.answers));
    assert.ok(run.answers.every((a) => typeof a.text === "string" && (a.tokens ?? 0) > 0));
    const text = (m: string) => run.answers.filter((a) => a.model === m).map((a) => a.text).join("|");
    assert.notEqual(text("base"), text("tuned"), "the adapter changes the answers");
    const ids = run.contestants.map((c) => c.identity as { model: string; adapter?: string });
    assert.equal(ids[0].model, ids[1].model);
    assert.ok(ids[1].adapter && !ids[0].adapter);
    // Same folders, same seed: a second run takes every answer from the cache (no model load).
    const again = await runTournament(cfg("again"), { progress: "off" });
    assert.equal(again.summary.answers.new, 0);
    assert.equal(again.summary.answers.cached, 6);
  });
});
