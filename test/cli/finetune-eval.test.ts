import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "../../lib/model/io.js";
import { setupBackend } from "../support/backend.js";
import { tempDir } from "../support/tmp.js";
import { tinyModel, tinyRecords } from "../support/tiny-model.js";
import { oneErrorLine, oneJson, tslm } from "../support/cli.js";


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

  it("tslm finetune --resume extends a finished run to a higher --max-steps, and refuses one below the checkpoint", () => {
    // The first run's settings (its YAML file and flags), resumed.
    const args = [join(dir, "ft.yaml"), "--model", modelDir, "--data", trainFile, "--output", out, "--seed", "1", "--checkpoint-every", "2", "--lora-rank", "2",
      "--quantization", "nf4", "--no-eval-generate", "--backend", "wasm", "--resume"];
    const more = tslm("finetune", ...args, "--max-steps", "6", "--json");
    assert.equal(more.status, 0, more.stderr);
    const j = oneJson(more.stdout);
    assert.deepEqual([j.status, j.resumedFrom, j.steps, j.totalSteps], ["completed", 4, 6, 6]);
    assert.match(more.stderr, /maxSteps 4 -> 6/);
    assert.deepEqual(j.evals.map((e: { step: number }) => e.step), [4, 6], "the earlier evaluation is kept");
    const fewer = tslm("finetune", ...args, "--max-steps", "3");
    assert.equal(fewer.status, 1);
    assert.match(oneErrorLine(fewer), /the checkpoint is at step 6, past maxSteps 3/);
  });

  it("tslm finetune names a bad config key with file and line, and exits non-zero", () => {
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, ["lr: 0.001", "lora:", "  rank: 8", ""].join("\n"));
    const r = tslm("finetune", cfg, "--model", modelDir, "--data", trainFile);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown config key 'lora\.rank'/);
    assert.match(r.stderr, /bad\.yaml:3/);
    const f = tslm("finetune", "--model", modelDir, "--data", trainFile, "--batch-size", "two");
    assert.equal(f.status, 2);
    assert.match(oneErrorLine(f), /--batch-size expects an integer >= 1 and <= 65536, got 'two'/);
  });

  it("tslm eval reports loss, perplexity, exact match and BLEU for a base model and with an adapter", () => {
    const base = tslm("eval", "--model", modelDir, "--data", valFile, "--max-length", "64", "--max-new-tokens", "6", "--backend", "wasm", "--json");
    assert.equal(base.status, 0, base.stderr);
    const b = oneJson(base.stdout);
    for (const k of ["loss", "perplexity", "exactMatch", "bleu"]) assert.equal(typeof b[k], "number", k);
    assert.equal(b.samples, 6);
    assert.equal(b.predictions, undefined, "predictions are opt-in");
    const tuned = tslm("eval", "--model", modelDir, "--adapter", join(out, "adapter"), "--quantization", "nf4", "--data", valFile, "--max-length", "64", "--max-new-tokens", "6", "--backend", "wasm", "--json");
    assert.equal(tuned.status, 0, tuned.stderr);
    assert.notEqual(oneJson(tuned.stdout).loss, b.loss);
  });

  it("tslm eval --predictions lists every generated answer beside its reference", () => {
    const json = tslm("eval", "--model", modelDir, "--data", valFile, "--max-length", "64", "--max-new-tokens", "4", "--max-samples", "2", "--backend", "wasm", "--json", "--predictions");
    assert.equal(json.status, 0, json.stderr);
    const p = oneJson(json.stdout).predictions as { reference: string; prediction: string; exact: number }[];
    assert.equal(p.length, 2);
    assert.deepEqual(p.map((x) => x.reference), tinyRecords().validation.slice(0, 2).map((r) => r.answer));
  });

  it("tslm eval reads a JSONL file with a UTF-8 byte-order mark, and refuses invalid UTF-8 and repeated keys with where", () => {
    const bom = join(dir, "bom.jsonl");
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(valFile)]));
    const r = tslm("eval", "--model", modelDir, "--data", bom, "--max-length", "64", "--no-generate", "--backend", "wasm", "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(oneJson(r.stdout).samples, 6);
    const latin1 = join(dir, "latin1.jsonl");
    const bytes = Buffer.from('{"prompt": "caf\u00e9?", "answer": "oui"}\n', "latin1");
    writeFileSync(latin1, bytes);
    const at = bytes.indexOf(0xe9);
    assert.match(oneErrorLine(tslm("eval", "--model", modelDir, "--data", latin1, "--backend", "wasm")), new RegExp(`not valid UTF-8 text .*latin1\\.jsonl:1 at byte ${at}\\)`));
    const dup = join(dir, "dup.jsonl");
    writeFileSync(dup, '{"prompt": "a", "answer": "b"}\n{"prompt": "c", "answer": "d", "answer": "e"}\n');
    assert.match(oneErrorLine(tslm("eval", "--model", modelDir, "--data", dup, "--backend", "wasm")), /duplicate key "answer".*dup\.jsonl:2/);
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
