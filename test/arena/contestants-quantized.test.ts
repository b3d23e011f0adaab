/**
 * A QLoRA adapter evaluated on the base it was trained on: the `local`
 * contestant with `quantization: nf4` quantizes the base as the trainer does
 * before the adapter goes on, so its answers are the trainer's own
 * evaluation's and those of generating directly on the quantized model +
 * adapter; the quantization is part of the contestant's identity (answer
 * cache key, run config hash); bad settings name their YAML line and key.
 */
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { init } from "../../lib/tensor/index.js";
import { generate, loadAdapter, loadModel, quantizeModel } from "../../lib/model/index.js";
import { finetune } from "../../lib/train/trainer.js";
import { collapseWhitespace as normalizeAnswer } from "../../lib/data/text-metrics.js";
import { embeddedModelDir } from "../../lib/data/embedded/default-model.js";
import { embeddedSkills, taskRecords, writeSkillsSuite } from "../../lib/data/embedded/index.js";
import { createLocalContestant } from "../../lib/arena/contestants/local.js";
import { runTournament } from "../../lib/arena/run.js";
import { ConfigError } from "../../lib/util/errors.js";
import { tempDir, removeTempDirs } from "./support/tmp.js";

/** Held-out questions played (the first ones of the embedded-skills suite). */
const PROMPTS = 16;

describe("arena/contestants: a local model on a quantized base (QLoRA adapters)", function () {
  this.timeout(300_000);
  after(removeTempDirs);

  it("answers as the trainer's evaluation and as the quantized model + adapter generating directly", async () => {
    await init();
    const root = tempDir();
    const modelDir = embeddedModelDir();
    const { train, heldOut } = embeddedSkills();
    const played = heldOut.slice(0, PROMPTS);
    // A brief QLoRA training; its last evaluation generates greedy answers to the played questions.
    const run = await finetune(
      {
        config: {
          model: modelDir,
          output: join(root, "qlora"),
          method: "lora",
          lora: { r: 8, alpha: 16, dropout: 0 },
          quantization: "nf4",
          lr: 2e-3,
          batchSize: 8,
          maxSteps: 40,
          evalSteps: 40,
          maxNewTokens: 16,
          data: { validationSize: 0, maxLength: 128 },
        },
        records: taskRecords(train),
        validationRecords: taskRecords(played),
      },
      { progress: "off" },
    );
    const adapterDir = run.exports.adapterDir!;
    const trainerPredictions = run.predictions;
    run.model.dispose();
    assert.equal(trainerPredictions.length, PROMPTS);
    assert.deepEqual(trainerPredictions.map((p) => p.reference), played.map((t) => t.answer));
    const trainerExact = trainerPredictions.filter((p) => p.exact === 1).length;
    assert.ok(trainerExact >= 2, `the brief training answers ${trainerExact} of ${PROMPTS} exactly: too few to compare`);

    const suite = join(root, "suite");
    writeSkillsSuite(suite);
    const config = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      out: join(root, "runs"),
      cache: join(root, "cache"),
      suite,
      prompts: { limit: PROMPTS },
      generation: { max_tokens: 16, temperature: 0 },
      contestants: [
        { name: "qlora", type: "local" as const, model: modelDir, adapter: adapterDir, quantization: "nf4" as const, ...extra },
        { name: "qlora-on-float32", type: "local" as const, model: modelDir, adapter: adapterDir },
      ],
      judge: { type: "reference" as const, metric: "exact" as const },
    });
    const arena = await runTournament(config("quantized"), { progress: "off" });
    assert.equal(arena.errors.answers.length, 0, JSON.stringify(arena.errors.answers));
    const answer = (model: string, id: string): string => {
      const a = arena.answers.find((r) => r.model === model && r.prompt_id === id);
      assert.ok(a && typeof a.text === "string", `${model} answered ${id}`);
      return a.text;
    };
    const quantized = played.map((t) => answer("qlora", t.id));
    const float = played.map((t) => answer("qlora-on-float32", t.id));

    // The trainer's own evaluation (the same model object it trained, batched greedy decoding).
    assert.deepEqual(quantized.map(normalizeAnswer), trainerPredictions.map((p) => p.prediction));

    // Generating directly on the quantized model + adapter, one prompt at a time.
    const model = await loadModel(modelDir);
    try {
      assert.ok(quantizeModel(model, "nf4").quantized > 0);
      loadAdapter(adapterDir, model);
      for (const [i, t] of played.entries()) {
        const one = await generate(model, model.tokenizer, [{ role: "user", content: t.prompt }], { maxNewTokens: 16, temperature: 0, seed: 0 });
        assert.equal(quantized[i], one.text, `prompt ${t.id}`);
      }
    } finally {
      model.dispose();
    }

    // On the float32 base the same adapter answers otherwise (what evaluating a QLoRA adapter there would measure).
    const differ = played.filter((_, i) => float[i] !== quantized[i]).length;
    assert.ok(differ > 0, "the float32 base gives the quantized base's answers to every prompt");
    console.log(`      exact match ${trainerExact}/${PROMPTS} (trainer and contestant alike); on the float32 base ${differ}/${PROMPTS} answers differ`);

    // The quantization is part of the identity: its answers have their own cache keys, and the run's config hash changes with it.
    const ids = new Map(arena.contestants.map((c) => [c.name, c.identity as Record<string, unknown>]));
    assert.equal(ids.get("qlora")!.quantization, "nf4");
    assert.equal(ids.get("qlora")!.block_size, 64);
    assert.equal(ids.get("qlora-on-float32")!.quantization, undefined, "float32 contestants keep the identity they had");
    const again = await runTournament(config("again"), { progress: "off" });
    assert.equal(again.summary.answers.new, 0);
    assert.equal(again.summary.answers.cached, 2 * PROMPTS);
    assert.equal(again.meta.configHash, arena.meta.configHash);
    const int4 = await runTournament({ ...config("int4", { quantization: "int4" }), prompts: { limit: 2 } }, { progress: "off" });
    assert.equal(int4.summary.answers.new, 2, "int4 answers are not nf4's");
    assert.equal(int4.summary.answers.cached, 2);
    const block = createLocalContestant({ name: "b", type: "local", model: modelDir, adapter: adapterDir, quantization: "nf4", block_size: 32 });
    assert.notDeepEqual(block.identity, createLocalContestant({ name: "b", type: "local", model: modelDir, adapter: adapterDir, quantization: "nf4" }).identity);
  });

  it("names the YAML line and key of bad quantization settings", async () => {
    const dir = tempDir();
    const modelDir = embeddedModelDir();
    const at = async (contestant: string, line: number, key: string, message: RegExp) => {
      const file = join(dir, "arena.yaml");
      writeFileSync(file, `suite: embedded-skills\ncache: false\nout: runs\ncontestants:\n  - {name: a, type: local, model: ${modelDir}}\n  - ${contestant}\njudge: {type: reference, metric: exact}\n`);
      await assert.rejects(runTournament(file, { progress: "off" }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.deepEqual([e.location.file, e.location.line, e.location.key], [file, line, key], e.message);
        assert.match(e.message, message);
        return true;
      });
    };
    await at(`{name: b, type: local, model: ${modelDir}, quantization: nf5}`, 6, "contestants.1.quantization", /nf4/);
    await at(`{name: b, type: local, model: ${modelDir}, quantization: int8, block_size: 32}`, 6, "contestants.1.block_size", /block_size applies to int4 and nf4/);
    await at(`{name: b, type: local, model: ${modelDir}, quantization: nf4, block_size: 0}`, 6, "contestants.1.block_size", /./);
  });
});
