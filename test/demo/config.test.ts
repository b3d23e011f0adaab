/**
 * The demo's pure parts: config resolution (defaults, `fast`, errors), the
 * judge chosen from the environment, adapter cache keys, the separation
 * verdict and the serial queue.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveDemoConfig } from "../../lib/demo/run.js";
import { DEFAULT_VARIANTS } from "../../lib/demo/config.js";
import { chooseJudge, llmJudgeFromEnv } from "../../lib/demo/judge.js";
import { adapterKey, trainConfigFor } from "../../lib/demo/adapters.js";
import { separation } from "../../lib/demo/summary.js";
import { serialQueue } from "../../lib/demo/contestant.js";
import { folderHash } from "../../lib/demo/hash.js";
import { TrainConfigSchema } from "../../lib/train/config.js";
import { resolveConfig } from "../../lib/util/config.js";
import { ConfigError } from "../../lib/util/errors.js";
import { removeTempDirs, tempDir } from "./support/helpers.js";

describe("demo: configuration, judges, cache keys", () => {
  after(removeTempDirs);

  it("fills every default: base, LoRA r8, QLoRA r8 on nf4, LoRA r1; 6 epochs; 1000 bootstrap rounds", () => {
    const cfg = resolveDemoConfig();
    assert.deepEqual(cfg.variants.map((v) => [v.name, v.method, v.rank, v.quantization]), [
      ["base", "base", 8, "none"],
      ["lora-r8", "lora", 8, "none"],
      ["qlora-r8-nf4", "lora", 8, "nf4"],
      ["lora-r1", "lora", 1, "none"],
    ]);
    assert.equal(cfg.variants.length, DEFAULT_VARIANTS.length);
    assert.equal(cfg.train.epochs, 6);
    assert.equal(cfg.bootstrap, 1000);
    assert.equal(cfg.out, "runs");
    assert.equal(cfg.model, null);
    assert.equal(cfg.fast, false);
  });

  it("`fast` trims what the input leaves unset and keeps what it sets", () => {
    const fast = resolveDemoConfig({ fast: true });
    assert.deepEqual(fast.variants.map((v) => v.name), ["base", "lora-r8", "qlora-r8-nf4"]);
    assert.equal(fast.prompts, 24);
    assert.equal(fast.bootstrap, 200);
    assert.equal(fast.train.epochs, 2);
    const mixed = resolveDemoConfig({ fast: true, bootstrap: 50, train: { epochs: 3 } });
    assert.equal(mixed.bootstrap, 50);
    assert.equal(mixed.train.epochs, 3);
    assert.equal(mixed.train.lr, 2e-3);
  });

  it("refuses bad configs with the key named", () => {
    const bad = (input: unknown, re: RegExp) => assert.throws(() => resolveDemoConfig(input as never), (e: Error) => e instanceof ConfigError && re.test(e.message));
    bad({ bootstrap: -1 }, /bootstrap/);
    bad({ epochs: 3 }, /unknown config key 'epochs'/);
    bad({ variants: [{ name: "a", method: "lora" }, { name: "a", method: "base" }] }, /two variants are named 'a'.*variants\.1\.name/);
    bad({ variants: [{ name: "a", method: "lora" }, { name: "b", method: "lora", rank: 2 }] }, /add a variant with method 'base'/);
    bad({ variants: [{ name: "b", method: "base", quantization: "nf4" }, { name: "l" }] }, /variants\.0\.quantization/);
    bad({ variants: [{ name: "has space", method: "base" }, { name: "l" }] }, /variants\.0\.name/);
    bad({ id: "../escape" }, /'id'/);
  });

  it("adds an LLM judge only when OPENAI_BASE_URL and a model are set, and never records the key's value", () => {
    assert.deepEqual(chooseJudge(null, {}), { config: { type: "reference", metric: "auto" }, llm: null, note: undefined });
    const noModel = chooseJudge(null, { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
    assert.equal(noModel.llm, null);
    assert.match(noModel.note!, /TSLM_JUDGE_MODEL/);
    const withKey = chooseJudge(null, { OPENAI_BASE_URL: "http://127.0.0.1:9/v1", TSLM_JUDGE_MODEL: "judge", OPENAI_API_KEY: "sk-secret" });
    assert.deepEqual(withKey.llm, { baseUrl: "http://127.0.0.1:9/v1", model: "judge", apiKeyEnv: "OPENAI_API_KEY" });
    assert.equal(withKey.config.type, "ensemble");
    assert.ok(!JSON.stringify(withKey.config).includes("sk-secret"));
    assert.equal(llmJudgeFromEnv(null, { OPENAI_BASE_URL: "http://h/v1", OPENAI_MODEL: "m" }).llm?.model, "m");
    assert.equal(llmJudgeFromEnv(false, { OPENAI_BASE_URL: "http://h/v1", TSLM_JUDGE_MODEL: "m" }).llm, null, "llmJudge: false wins over the environment");
  });

  it("keys adapters by the base model's bytes, the data and every weight-deciding setting", () => {
    const dir = tempDir();
    const model = join(dir, "m");
    mkdirSync(model);
    writeFileSync(join(model, "config.json"), "{}");
    writeFileSync(join(model, "model.safetensors"), "abc");
    const h1 = folderHash(model);
    const cfg = resolveDemoConfig();
    const v = cfg.variants[1];
    const input = { modelDir: model, modelHash: h1, variant: v, train: cfg.train, seed: 0, records: [{ prompt: "p", answer: "a" }] };
    const k = adapterKey(input);
    assert.equal(adapterKey({ ...input, modelDir: "/elsewhere" }), k, "the folder's place does not matter, its bytes do");
    assert.equal(adapterKey({ ...input, train: { ...cfg.train, checkpointEvery: 5 } }), k, "checkpointing does not change the weights");
    writeFileSync(join(model, "README.md"), "# notes");
    mkdirSync(join(model, "data"));
    assert.equal(folderHash(model), h1, "a README or a data folder beside the weights changes nothing");
    writeFileSync(join(model, "model.safetensors"), "abd");
    assert.notEqual(adapterKey({ ...input, modelHash: folderHash(model) }), k);
    assert.notEqual(adapterKey({ ...input, records: [{ prompt: "p", answer: "b" }] }), k);
    assert.notEqual(adapterKey({ ...input, seed: 1 }), k);
    assert.notEqual(adapterKey({ ...input, variant: { ...v, rank: 4 } }), k);
    assert.notEqual(adapterKey({ ...input, variant: { ...v, quantization: "nf4" } }), k);
    assert.notEqual(adapterKey({ ...input, train: { ...cfg.train, lr: 1e-3 } }), k);
    assert.throws(() => folderHash(join(dir, "missing")), /cannot be read/);
  });

  it("trains through lib/train's config: every key it writes is one the trainer accepts", () => {
    const cfg = resolveDemoConfig();
    const t = resolveConfig(TrainConfigSchema, trainConfigFor({ modelDir: "m", variant: cfg.variants[2], train: cfg.train, seed: 3 }, "out"));
    assert.equal(t.method, "lora");
    assert.equal(t.quantization, "nf4");
    assert.deepEqual([t.lora.r, t.lora.alpha], [8, 16]);
    assert.equal(t.seed, 3);
    assert.equal(t.resume, true);
    assert.equal(t.data.validationSize, 0);
  });

  it("says a fine-tuned model is above the base only when the intervals do not overlap", () => {
    const row = (model: string, lower: number, upper: number) => ({ model, rating: (lower + upper) / 2, lower, upper, rank: 1, battles: 10 });
    const rows = [row("base", 900, 950), row("a", 960, 1100), row("b", 940, 1000)];
    assert.deepEqual(
      separation(rows, "base", ["a", "b"]).map((s) => [s.model, s.above, s.gap]),
      [["a", true, 10], ["b", false, -10]],
    );
    assert.deepEqual(separation(rows, "nobody", ["a"]), []);
  });

  it("runs queued generations one at a time, in order, past failures", async () => {
    const q = serialQueue();
    const events: string[] = [];
    const job = (name: string, ms: number, fail = false) =>
      q(async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job("a", 20), job("b", 1, true), job("c", 5)]);
    assert.deepEqual(events, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  });
});
