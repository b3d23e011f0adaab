import { strict as assert } from "node:assert";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createModel } from "../../lib/model/create.js";
import { generate } from "../../lib/model/generate.js";
import { saveModel } from "../../lib/model/io.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { sampleCorpus } from "../tokenizer/corpus.js";
import { setupBackend, tempDir } from "./support.js";
import { oneJson, tslm } from "../support/cli.js";


describe("CLI: generate, export gguf, inspect", function () {
  this.timeout(120_000);
  const dir = tempDir();
  const modelDir = join(dir, "model");
  let expected = "";

  before(async () => {
    await setupBackend();
    const model = createModel({ vocabSize: 320, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64 }, { seed: 12, initStd: 0.3 });
    model.tokenizer = trainBpeTokenizer(sampleCorpus(), { vocabSize: 320 }).tokenizer;
    await saveModel(model, modelDir);
    expected = (await generate(model, model.tokenizer, "The quick", { maxNewTokens: 8 })).text;
    model.dispose();
  });

  it("tslm generate --json prints one object with the greedy text", () => {
    const r = tslm("generate", "--model", modelDir, "--prompt", "The quick", "--max-tokens", "8", "--backend", "wasm", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = oneJson(r.stdout);
    assert.equal(j.text, expected);
    assert.equal((j.usage as { completion_tokens: number }).completion_tokens <= 8, true);
    assert.ok(["length", "eos"].includes(j.finish_reason as string));
  });

  it("tslm generate --chat streams a reply through the chat template", () => {
    const r = tslm("generate", "--model", modelDir, "--prompt", "Hi", "--chat", "--system", "Be brief.", "--max-tokens", "5", "--temperature", "0.7", "--seed", "3");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[\d+ tokens, .* tok\/s, finish: (length|eos)/);
  });

  it("tslm export gguf writes a file that tslm inspect reads", () => {
    const out = join(dir, "m.gguf");
    const e = tslm("export", "gguf", "--model", modelDir, "--out", out, "--type", "q8_0", "--json");
    assert.equal(e.status, 0, e.stderr);
    const j = oneJson(e.stdout);
    assert.equal(j.architecture, "llama");
    assert.ok(existsSync(out));
    const i = tslm("inspect", out, "--json");
    assert.equal(i.status, 0, i.stderr);
    const info = oneJson(i.stdout);
    assert.equal(info.kind, "gguf");
    assert.equal((info.metadata as Record<string, unknown>)["general.file_type"], 7);
    const human = tslm("inspect", modelDir);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /model folder: .*model\.safetensors/);
    assert.match(human.stdout, /config: llama, vocab 320, hidden 32, layers 2, heads 4\/2/);
  });

  it("fails with a clear message and a non-zero exit", () => {
    const missing = tslm("generate", "--model", join(dir, "nope"), "--prompt", "x");
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /FormatError: no config.json in the model folder/);
    const badType = tslm("export", "gguf", "--model", modelDir, "--out", join(dir, "x.gguf"), "--type", "q4_k");
    assert.equal(badType.status, 2, "a bad option value");
    assert.match(badType.stderr, /--type must be f32, f16 or q8_0, got 'q4_k'/);
    const corrupt = join(dir, "corrupt.gguf");
    writeFileSync(corrupt, Buffer.from("GGUF\x07\x00\x00\x00", "latin1"));
    const c = tslm("inspect", corrupt);
    assert.equal(c.status, 1);
    assert.match(c.stderr, /unknown GGUF version 7.*at byte 4/);
    const pickle = join(dir, "pytorch_model.bin");
    writeFileSync(pickle, "x");
    assert.match(tslm("inspect", pickle).stderr, /refusing to load a pickled PyTorch checkpoint/);
  });
});
