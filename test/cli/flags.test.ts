import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { z } from "../../lib/util/config.js";
import { ConfigError, UsageError } from "../../lib/util/errors.js";
import { addFlags, flagsFromSchema, parseNumber, resolveFlags, type FlagOptions } from "../../lib/cli/flags.js";
import { createProgram } from "../../lib/cli/main.js";
import { TrainConfigSchema } from "../../lib/train/config.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

const Schema = z.strictObject({
  model: z.string().describe("model folder"),
  lr: z.number().positive().default(1e-4).describe("learning rate"),
  steps: z.number().int().min(1).max(1000).default(10).describe("steps"),
  schedule: z.enum(["cosine", "linear"]).default("cosine").describe("schedule"),
  cache: z.boolean().default(true).describe("keep the cache"),
  verbose: z.boolean().default(false).describe("say more"),
  lora: z.strictObject({ r: z.number().int().min(1).default(4).describe("rank") }).prefault({}),
});

/** Parses `args` with the schema's flags and returns the resolved values (or throws). */
function parse(args: string[], options: FlagOptions = {}, file?: string) {
  const specs = flagsFromSchema(Schema, { groups: { lora: "lora-" }, ...options });
  const cmd = addFlags(new Command("t").exitOverride(), specs);
  cmd.parse(args, { from: "user" });
  return resolveFlags(Schema, cmd, specs, file);
}

describe("cli/flags: every flag from its schema", () => {
  after(removeTempDirs);

  it("names, parses and defaults flags from the schema", () => {
    assert.deepEqual(parse(["--model", "m", "--lr", "0.5", "--lora-r", "8", "--no-cache", "--verbose"]), {
      model: "m", lr: 0.5, steps: 10, schedule: "cosine", cache: false, verbose: true, lora: { r: 8 },
    });
  });

  it("shows each default and the choices in the help, from the schema", () => {
    const help = addFlags(new Command("t"), flagsFromSchema(Schema, { groups: { lora: "lora-" } })).helpInformation();
    assert.match(help, /--steps <n>\s+steps \(default 10\)/);
    assert.match(help, /--schedule <value>\s+schedule \(cosine, linear; default cosine\)/);
    assert.match(help, /--no-cache\s+keep the cache/);
    assert.match(help, /--model <value>\s+model folder \(required\)/);
    assert.match(help, /--lora-r <n>\s+rank \(default 4\)/);
  });

  it("refuses a bad value naming the flag and the expected range (exit status 2)", () => {
    const cases: [string[], RegExp][] = [
      [["--lr", "0"], /^--lr expects a number > 0, got '0'$/],
      [["--lr", "fast"], /^--lr expects a number > 0, got 'fast'$/],
      [["--steps", "2.5"], /^--steps expects an integer >= 1 and <= 1000, got '2.5'$/],
      [["--steps", "1e12"], /^--steps expects an integer >= 1 and <= 1000, got '1e12'$/],
      [["--schedule", "step"], /^--schedule must be cosine or linear, got 'step'$/],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => parse(["--model", "m", ...args]), (e: unknown) => e instanceof UsageError && message.test(e.message) && e.flag === args[0], args.join(" "));
    }
  });

  it("lets flags override a YAML file, which overrides the defaults; a bad file key names its line", () => {
    const dir = tempDir();
    const file = join(dir, "c.yaml");
    writeFileSync(file, "model: from-file\nlr: 0.25\nlora:\n  r: 2\n");
    assert.deepEqual(parse(["--lr", "0.5"], { configFile: true }, file), { model: "from-file", lr: 0.5, steps: 10, schedule: "cosine", cache: true, verbose: false, lora: { r: 2 } });
    writeFileSync(file, "model: m\nsteps: 0\n");
    assert.throws(() => parse([], { configFile: true }, file), (e: unknown) => e instanceof ConfigError && !(e instanceof UsageError) && e.location.line === 2);
    assert.throws(() => parse([], { configFile: true }), (e: unknown) => e instanceof UsageError && e.message === "--model is required");
  });

  it("uses one number parser with one message shape", () => {
    assert.equal(parseNumber("--k", "3.5"), 3.5);
    assert.throws(() => parseNumber("--k", ""), /--k expects a number, got ''/);
    assert.throws(() => parseNumber("--n", "9007199254740993", { integer: true }), /--n expects an integer/);
    assert.throws(() => parseNumber("--p", "1.5", { integer: false, min: 0, minInclusive: false, max: 1, maxInclusive: true }), /--p expects a number > 0 and <= 1, got '1.5'/);
  });

  it("gives finetune one flag per training-config key, with the schema's defaults", () => {
    const finetune = createProgram().commands.find((c) => c.name() === "finetune")!;
    const flags = finetune.options.map((o) => o.long);
    for (const flag of ["--lr", "--batch-size", "--grad-accumulation", "--lora-rank", "--lora-alpha", "--data", "--max-length", "--eval-generate", "--no-eval-generate", "--json"]) {
      assert.ok(flags.includes(flag), flag);
    }
    const lr = finetune.options.find((o) => o.long === "--lr")!;
    assert.match(lr.description, new RegExp(`default ${TrainConfigSchema.parse({}).lr}`));
  });

  it("documents every option of every command", () => {
    const walk = (c: Command): Command[] => [c, ...c.commands.flatMap(walk)];
    for (const c of walk(createProgram())) {
      for (const o of c.options) assert.ok(o.description.trim().length > 0, `${c.name()} ${o.flags}`);
    }
  });
});
