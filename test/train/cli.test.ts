import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "../../lib/model/io.js";
import { setupBackend } from "../support/backend.js";
import { tempDir } from "../support/tmp.js";
import { tinyModel, tinyRecords } from "../support/tiny-model.js";
import { oneJson, tslm } from "../support/cli.js";


describe("CLI: finetune and eval", function () {
  this.timeout(180_000);
  const dir = tempDir();
  const modelDir = join(dir, "model");
  const trainFile = join(dir, "train.jsonl");
  const valFile = join(dir, "val.jsonl");
  const out = join(dir, "run");

  before(async () => {
    await setupBackend();
    const model = tinyModel();
    await saveModel(model, modelDir);
    model.dispose();
    const r = tinyRecords();
    writeFileSync(trainFile, r.train.map((x) => JSON.stringify(x)).join("\n") + "\n");
    writeFileSync(valFile, r.validation.map((x) => JSON.stringify(x)).join("\n") + "\n");
  });

  it("tslm finetune takes a YAML file plus flags (flags win) and writes a PEFT adapter", () => {
    const cfg = join(dir, "ft.yaml");
    writeFileSync(cfg, ["lr: 0.004", "batchSize: 4", "lora:", "  r: 8", "  alpha: 16", "data:", "  maxLength: 64", "  validationSize: 0.2", ""].join("\n"));
    const r = tslm("finetune", cfg, "--model", modelDir, "--data", trainFile, "--output", out, "--max-steps", "4", "--seed", "1",
      "--checkpoint-every", "2", "--lora-rank", "2", "--quantization", "nf4", "--no-eval-generate", "--backend", "wasm", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = oneJson(r.stdout);
    assert.equal(j.status, "completed");
    assert.equal(j.steps, 4);
    assert.equal(j.quantizedLayers, 14);
    assert.ok(j.baseMemory.quantized.ratio <= 1 / 6);
    assert.equal(j.adapterDir, join(out, "adapter"));
    const ac = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
    assert.equal(ac.r, 2, "--lora-rank overrides the YAML's lora.r");
    assert.equal(ac.lora_alpha, 16, "the YAML's other lora keys stay");
    assert.ok(existsSync(join(out, "checkpoints", "step-000004", "trainer_state.json")));
    assert.ok(Number.isFinite(j.eval.loss));

    const again = tslm("finetune", cfg, "--model", modelDir, "--data", trainFile, "--output", out, "--max-steps", "4", "--seed", "1",
      "--checkpoint-every", "2", "--lora-rank", "2", "--quantization", "nf4", "--no-eval-generate", "--backend", "wasm", "--resume", "--json");
    assert.equal(again.status, 0, again.stderr);
    assert.equal(oneJson(again.stdout).resumedFrom, 4);
  });

  it("tslm finetune names a bad config key with file and line, and exits non-zero", () => {
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, ["lr: 0.001", "lora:", "  rank: 8", ""].join("\n"));
    const r = tslm("finetune", cfg, "--model", modelDir, "--data", trainFile);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown config key 'lora\.rank'/);
    assert.match(r.stderr, /bad\.yaml:3/);
    const f = tslm("finetune", "--model", modelDir, "--data", trainFile, "--batch-size", "two");
    assert.notEqual(f.status, 0);
    assert.match(f.stderr, /--batch-size expects a number, got 'two'/);
  });

  it("tslm eval reports loss, perplexity, exact match and BLEU for a base model and with an adapter", () => {
    const base = tslm("eval", "--model", modelDir, "--data", valFile, "--max-length", "64", "--max-new-tokens", "6", "--backend", "wasm", "--json");
    assert.equal(base.status, 0, base.stderr);
    const b = oneJson(base.stdout);
    for (const k of ["loss", "perplexity", "exactMatch", "bleu"]) assert.equal(typeof b[k], "number", k);
    assert.equal(b.samples, 6);
    const tuned = tslm("eval", "--model", modelDir, "--adapter", join(out, "adapter"), "--quantization", "nf4", "--data", valFile, "--max-length", "64", "--max-new-tokens", "6", "--backend", "wasm", "--json");
    assert.equal(tuned.status, 0, tuned.stderr);
    assert.notEqual(oneJson(tuned.stdout).loss, b.loss);
  });

  it("tslm eval reports a bad row with its file and line", () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"prompt": "a", "answer": "b"}\n{"prompt": "c", "answer": 3.5}\n{"prompt": "d"}\n');
    const r = tslm("eval", "--model", modelDir, "--data", bad, "--backend", "wasm");
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.includes(`${bad}:3`), r.stderr);
    assert.match(r.stderr, /missing value in column 'answer'/);
  });
});
