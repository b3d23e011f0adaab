import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { finetune } from "../../lib/train/trainer.js";
import { windowGradients } from "../../lib/train/step.js";
import { latestCheckpoint } from "../../lib/train/checkpoint.js";
import { loadAdapter } from "../../lib/model/peft.js";
import { loadModel } from "../../lib/model/io.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { loadDataset } from "../../lib/data/dataset.js";
import { textTokenizer } from "../../lib/data/tokenizer-adapter.js";
import { collate } from "../../lib/data/batch.js";
import { NumericError, ConfigError } from "../../lib/util/errors.js";
import { setupBackend } from "../support/backend.js";
import { tempDir } from "../support/tmp.js";
import { tinyModel, tinyRecords, tinyTokenizer } from "../support/tiny-model.js";

const IDS = [[5, 40, 41, 42, 7, 9, 30]];

function logits(m: { forward(ids: number[][]): tf.Tensor }): Float32Array {
  return tf.tidy(() => m.forward(IDS).dataSync() as Float32Array);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const BASE_CONFIG = {
  lr: 5e-3,
  batchSize: 4,
  seed: 3,
  data: { maxLength: 64, validationSize: 0 },
  lora: { r: 4, alpha: 16, dropout: 0.05 },
  maxNewTokens: 8,
};

describe("train: trainer", () => {
  before(() => setupBackend());
  const records = tinyRecords();

  it("accumulates micro-batches into exactly the gradient of the whole batch (token-averaged)", async () => {
    const model = tinyModel(2);
    const lora = new LoraModel(model, { dropout: 0 }, { seed: 1 });
    for (const l of lora.layers.values()) {
      const w = l.adapters.get("default")!;
      w.B.assign(tf.randomNormal(w.B.shape, 0, 0.1, "float32", 4) as tf.Tensor2D);
    }
    const ds = await loadDataset({ validationSize: 0, maxLength: 64 }, textTokenizer(tinyTokenizer()), { records: records.train.slice(0, 2) });
    const params = lora.trainableVariables();
    const whole = windowGradients(model, params, [collate(ds.train, 0)], "token-averaged");
    const parts = windowGradients(model, params, [collate([ds.train[0]], 0), collate([ds.train[1]], 0)], "token-averaged");
    assert.ok(Math.abs(whole.loss - parts.loss) < 1e-5, `${whole.loss} vs ${parts.loss}`);
    assert.equal(whole.tokens, parts.tokens);
    for (const [k, g] of whole.grads) assert.ok(maxDiff(g.dataSync(), parts.grads.get(k)!.dataSync()) < 1e-5, k);
    const sample = windowGradients(model, params, [collate(ds.train, 0)], "sample-averaged");
    assert.ok(Number.isFinite(sample.loss) && Math.abs(sample.loss - whole.loss) > 1e-6, "sample-averaged differs when lengths differ");
    tf.dispose([...whole.grads.values(), ...parts.grads.values(), ...sample.grads.values()]);
    model.dispose();
  });

  it("fine-tunes with LoRA: evaluates before and during training, logs metrics, writes a PEFT adapter and merged exports", async () => {
    const out = tempDir();
    const tensorsBefore = tf.memory().numTensors;
    const model = tinyModel();
    const run = await finetune(
      {
        model,
        records: records.train,
        validationRecords: records.validation,
        config: { ...BASE_CONFIG, output: out, maxSteps: 8, evalSteps: 4, evaluateBeforeTraining: true, exportMerged: true, exportGguf: "f32" },
      },
      { progress: "off" },
    );
    assert.equal(run.steps, 8);
    assert.deepEqual(run.evals.map((e) => e.step), [0, 4, 8]);
    assert.ok(run.evals[2].loss < run.evals[0].loss, `validation loss ${run.evals[0].loss} -> ${run.evals[2].loss}`);
    for (const e of run.evals) {
      assert.ok(e.exactMatch !== null && e.exactMatch >= 0 && e.exactMatch <= 1);
      assert.ok(e.bleu !== null && e.bleu >= 0 && e.bleu <= 100);
      assert.ok(e.perplexity > 1);
    }
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.type === "train").length, 8);
    assert.equal(lines.filter((l) => l.type === "eval").length, 3);
    assert.ok(run.throughput.tokensPerSecond > 0);

    // The adapter reproduces the fine-tuned model on a fresh copy of the base.
    assert.ok(existsSync(join(out, "adapter", "adapter_config.json")));
    const tuned = logits(model);
    const fresh = tinyModel();
    loadAdapter(join(out, "adapter"), fresh);
    assert.ok(maxDiff(tuned, logits(fresh)) < 1e-5);
    // The merged folder holds the same function without adapters.
    const merged = await loadModel(run.exports.mergedDir!);
    assert.ok(maxDiff(tuned, logits(merged)) < 1e-4);
    assert.ok(existsSync(run.exports.ggufFile!));
    assert.equal(readFileSync(run.exports.ggufFile!).subarray(0, 4).toString("latin1"), "GGUF");
    [model, fresh, merged].forEach((m) => m.dispose());
    assert.equal(tf.memory().numTensors, tensorsBefore, "training, evaluation and export free every tensor they make");
  });

  it("fine-tunes on a 4-bit (nf4) base: the quantized layers take at most 1/6 of their float32 size", async () => {
    const model = tinyModel();
    const run = await finetune({ model, records: records.train, config: { ...BASE_CONFIG, quantization: "nf4", maxSteps: 6, evalGenerate: false, data: { maxLength: 64, validationSize: 0.2 } } }, { progress: "off" });
    assert.equal(run.prepared.quantizedLayers, 14);
    assert.ok(run.prepared.memory.quantized.ratio <= 1 / 6, `ratio ${run.prepared.memory.quantized.ratio}`);
    assert.ok(run.history[5].loss < run.history[0].loss, `loss ${run.history[0].loss} -> ${run.history[5].loss}`);
    model.dispose();
  });

  it("stops and resumes onto the same loss curve and the same adapter, bit for bit", async () => {
    const config = { ...BASE_CONFIG, maxSteps: 6, checkpointEvery: 2, evalGenerate: false, gradAccumulation: 2, batchSize: 2 };
    const a = tempDir();
    const full = await finetune({ model: tinyModel(), records: records.train, config: { ...config, output: a } }, { progress: "off" });
    const b = tempDir();
    const ctl = new AbortController();
    const first = await finetune(
      { model: tinyModel(), records: records.train, config: { ...config, output: b } },
      { progress: "off", hooks: { afterStep: (r) => r.step === 3 && ctl.abort() }, signal: ctl.signal },
    );
    assert.equal(first.status, "stopped");
    assert.equal(first.steps, 3);
    const second = await finetune({ model: tinyModel(), records: records.train, config: { ...config, output: b, resume: true } }, { progress: "off" });
    assert.equal(second.resumedFrom, 3);
    assert.deepEqual(second.history.map((h) => h.loss), full.history.map((h) => h.loss));
    assert.deepEqual(readFileSync(join(b, "adapter", "adapter_model.safetensors")), readFileSync(join(a, "adapter", "adapter_model.safetensors")));
    // A resume with a different trajectory is refused by key.
    await assert.rejects(
      finetune({ model: tinyModel(), records: records.train, config: { ...config, output: b, resume: true, lr: 1e-3 } }, { progress: "off" }),
      (e: Error) => e instanceof ConfigError && /lr \(checkpoint 0\.005, now 0\.001\)/.test(e.message),
    );
    [full, first, second].forEach((r) => r.model.dispose());
  });

  it("continues a finished run to a higher maxSteps on resume, keeping its history; a maxSteps below the checkpoint is refused", async () => {
    const config = { ...BASE_CONFIG, checkpointEvery: 2, evalGenerate: false };
    const out = tempDir();
    const done = await finetune({ model: tinyModel(), records: records.train, config: { ...config, maxSteps: 4, output: out } }, { progress: "off" });
    assert.equal(done.status, "completed");
    const log: string[] = [];
    const more = await finetune({ model: tinyModel(), records: records.train, config: { ...config, maxSteps: 6, output: out, resume: true } }, { progress: "off", log: (l) => log.push(l) });
    assert.deepEqual([more.status, more.resumedFrom, more.steps, more.totalSteps], ["completed", 4, 6, 6]);
    assert.deepEqual(more.history.slice(0, 4).map((h) => h.loss), done.history.map((h) => h.loss), "the first four steps are the finished run's");
    assert.ok(log.some((l) => /maxSteps 4 -> 6/.test(l)), log.join("\n"));
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; step: number });
    assert.deepEqual(lines.filter((l) => l.type === "train").map((l) => l.step), [1, 2, 3, 4, 5, 6], "the training log holds every step once");
    await assert.rejects(
      finetune({ model: tinyModel(), records: records.train, config: { ...config, maxSteps: 5, output: out, resume: true } }, { progress: "off" }),
      (e: Error) => e instanceof ConfigError && /the checkpoint is at step 6, past maxSteps 5/.test(e.message),
    );
    [done, more].forEach((r) => r.model.dispose());
  });

  it("stops on a non-finite loss with a clear message and keeps the last good checkpoint", async () => {
    const out = tempDir();
    const model = tinyModel();
    await assert.rejects(
      finetune({ model, records: records.train, config: { ...BASE_CONFIG, output: out, optimizer: "sgd", lr: 1e30, schedule: "constant", maxSteps: 6, checkpointEvery: 1, evalGenerate: false } }, { progress: "off" }),
      (e: Error) => e instanceof NumericError && /(loss|gradient norm|weight .*) is (NaN|Infinity|not finite)/.test(e.message) && /last good checkpoint is .*step-00000\d/.test(e.message),
    );
    const ck = latestCheckpoint(out);
    assert.ok(ck, "a checkpoint from before the failure remains");
    for (const t of ck.weights.values()) assert.ok(t.data.every(Number.isFinite));
    assert.ok(!readdirSync(join(out, "checkpoints")).some((n) => n.startsWith(".tmp-")));
    model.dispose();
  });

  it("trains every weight with method full and saves a loadable model folder", async () => {
    const out = tempDir();
    const model = tinyModel();
    const run = await finetune({ model, records: records.train, config: { ...BASE_CONFIG, method: "full", lr: 2e-3, output: out, maxSteps: 4, evalGenerate: false } }, { progress: "off" });
    assert.ok(run.history[3].loss < run.history[0].loss);
    const loaded = await loadModel(run.exports.modelDir!);
    assert.ok(maxDiff(logits(model), logits(loaded)) < 1e-5);
    await assert.rejects(finetune({ model: tinyModel(), records: records.train, config: { method: "full", quantization: "nf4" } }), /quantization 'nf4' freezes the base/);
    model.dispose();
    loaded.dispose();
  });
});
