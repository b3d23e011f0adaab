import assert from "node:assert/strict";
import { join } from "node:path";
import { pretrain } from "../../lib/train/pretrain.js";
import { defaultModelCorpus } from "../../lib/data/embedded/default-model.js";
import { loadModel } from "../../lib/model/io.js";
import { setupBackend } from "../support/backend.js";
import { tempDir } from "../support/tmp.js";

describe("train: pretraining from scratch", function () {
  this.timeout(120_000);
  before(() => setupBackend());

  it("trains a BPE tokenizer and a model on the embedded corpus and saves a loadable Hugging Face folder", async () => {
    const dir = tempDir();
    const out = join(dir, "model");
    const r = await pretrain(
      defaultModelCorpus({ corpusRepeats: 1 }),
      { out, workDir: join(dir, "work"), backend: "wasm", steps: 4, warmupSteps: 1, hiddenSize: 32, numHiddenLayers: 1, intermediateSize: 64, vocabSize: 300, seqLength: 32, batchSize: 2, checkpointEvery: 0 },
      { progress: "off" },
    );
    assert.equal(r.run.steps, 4);
    assert.ok(r.run.history[3].loss < r.run.history[0].loss);
    const model = await loadModel(out);
    assert.equal(model.config.vocabSize, r.tokenizer.vocabSize);
    assert.equal(model.config.maxPositionEmbeddings, 32);
    const rendered = model.tokenizer!.applyChatTemplate([{ role: "user", content: "What is 2 + 3?" }], { addGenerationPrompt: true });
    assert.equal(rendered, "<|prompt|>What is 2 + 3?<|endoftext|><|answer|>");
    assert.deepEqual(model.tokenizer!.encode("<|answer|>", { addSpecialTokens: false }).length, 1);
    model.dispose();
    r.run.model.dispose();
  });
});
