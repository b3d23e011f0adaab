/**
 * `runDemo()`: the whole workbench on the embedded default, as `npm start`
 * runs it. Reads top to bottom:
 *
 * base model -> train each LoRA / QLoRA variant on the embedded instruction
 * set (cached by content) -> tournament of every variant on the held-out
 * skills suite, reference judge (+ LLM judge when configured) -> Bradley-Terry
 * ratings with bootstrap intervals -> HTML / Markdown / JSON report and the
 * adapters in OUT/<id>/.
 *
 * Everything is resumable: a finished adapter is reused, an interrupted one
 * continues from its checkpoint, the tournament resumes its journal and
 * takes answers it has seen before from the arena's cache.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { resolveConfig } from "../util/config.js";
import { ConfigError, TslmError } from "../util/errors.js";
import { packageInfo } from "../util/package.js";
import { writeJsonAtomic } from "../util/atomic.js";
import type { ProgressMode } from "../display/progress.js";
import type { RatingRow } from "../arena/ratings/rate.js";
import type { Leaderboard } from "../arena/leaderboard.js";
import { DemoConfigSchema, FAST_OVERRIDES, type DemoConfig, type DemoConfigInput, type DemoVariant } from "./config.js";
import { copyAdapter, trainAdapter, type TrainedAdapter } from "./adapters.js";
import { demoContestant, serialQueue } from "./contestant.js";
import { contentHash, folderHash } from "./hash.js";
import { chooseJudge, type LlmJudgeSettings } from "./judge.js";
import { stepRunner, type StepRunner, type StepTiming } from "./steps.js";
import { separation, variantAccuracy, type Separation } from "./summary.js";
import { EMBEDDED_MODEL_DIR, EMBEDDED_SUITE, embeddedModelDir } from "../data/embedded/default-model.js";
import type { SuiteInfo, SuitePrompt } from "../arena/types.js";
import type { RunResult } from "../arena/run.js";

/** Format of `demo.json`. */
export const DEMO_FORMAT = "tslm-demo";

export interface DemoDeps {
  /** Step lines and notes (default: stderr). */
  log?: (line: string) => void;
  /** Progress displays (default auto: notebook, terminal bar, or silent). */
  progress?: ProgressMode | "auto";
  /** Stops the demo cleanly: training checkpoints, the journal keeps what was played. */
  signal?: AbortSignal;
  /** Environment for the LLM judge settings (default process.env). */
  env?: Record<string, string | undefined>;
  /** Folder relative paths resolve from (default process.cwd()). */
  cwd?: string;
}

export interface DemoVariantResult extends DemoVariant {
  /** The adapter in the run folder (LoRA variants). */
  adapter: string | null;
  training: Omit<TrainedAdapter, "variant" | "adapterDir" | "losses"> | null;
  /** Share of the played prompts answered exactly right. */
  accuracy: number | null;
}

export interface DemoResult {
  format: typeof DEMO_FORMAT;
  id: string;
  dir: string;
  complete: boolean;
  config: DemoConfig;
  model: { dir: string; hash: string };
  suite: { name: string; dir: string; hash: string; prompts: number };
  judge: { reference: true; llm: LlmJudgeSettings | null; note?: string };
  variants: DemoVariantResult[];
  leaderboard: Leaderboard;
  ratings: RatingRow[];
  /** Each fine-tuned variant against the base: does its interval lie above the base's? */
  separation: Separation[];
  battles: { played: number; errors: number };
  report: { dir: string; html: string; markdown: string; json: string };
  timings: { steps: StepTiming[]; total: number };
  warnings: string[];
}

/** Resolves a demo config; `fast` fills the fields the input leaves unset with FAST_OVERRIDES. */
export function resolveDemoConfig(input: DemoConfigInput = {}): DemoConfig {
  const raw: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  if (raw.fast === true) {
    raw.variants ??= FAST_OVERRIDES.variants;
    raw.prompts ??= FAST_OVERRIDES.prompts;
    raw.bootstrap ??= FAST_OVERRIDES.bootstrap;
    raw.train = { ...FAST_OVERRIDES.train, ...((raw.train as object | undefined) ?? {}) };
  }
  const cfg = resolveConfig(DemoConfigSchema, raw);
  const names = new Set<string>();
  cfg.variants.forEach((v, i) => {
    if (names.has(v.name)) throw new ConfigError(`two variants are named '${v.name}'`, { key: `variants.${i}.name` });
    names.add(v.name);
    if (v.method === "base" && v.quantization !== "none") throw new ConfigError(`variant '${v.name}': a base variant answers with the model as it is; quantization '${v.quantization}' needs method lora`, { key: `variants.${i}.quantization` });
  });
  if (!cfg.variants.some((v) => v.method === "base")) throw new ConfigError("the demo compares fine-tuned variants with the base model: add a variant with method 'base'", { key: "variants" });
  return cfg;
}

function locateModel(cfg: DemoConfig, cwd: string): string {
  if (cfg.model) {
    const dir = resolve(cwd, cfg.model);
    if (!existsSync(join(dir, "config.json"))) throw new ConfigError(`no model in ${dir} (config.json is missing)`, { file: dir, key: "model" });
    return dir;
  }
  const dir = embeddedModelDir();
  if (!existsSync(join(dir, "config.json"))) {
    throw new ConfigError(`the embedded default model is missing from ${dir}; make it with \`tslm pretrain --out ${EMBEDDED_MODEL_DIR}\` or pass a model folder (--model DIR)`, { file: dir, key: "model" });
  }
  return dir;
}

async function locateSuite(cfg: DemoConfig, cwd: string, cacheDir: string): Promise<string> {
  if (cfg.suite) return isAbsolute(cfg.suite) || cfg.suite.includes("/") ? resolve(cwd, cfg.suite) : cfg.suite;
  const inTree = join(packageInfo().root, "eval-suites", EMBEDDED_SUITE);
  if (existsSync(join(inTree, "suite.yaml"))) return inTree;
  // Not shipped (yet): generate it from the embedded dataset, the same held-out split.
  const { writeSkillsSuite } = await import("../data/embedded/suite.js");
  const dir = join(cacheDir, "suites", EMBEDDED_SUITE);
  writeSkillsSuite(dir);
  return dir;
}

/** Everything step 1 gathers: the base model, the training records, the suite and the prompts played. */
interface DemoSetup {
  modelDir: string;
  modelHash: string;
  records: Record<string, string>[];
  suitePath: string;
  suite: SuiteInfo;
  prompts: SuitePrompt[];
}

/** What every step shares: the resolved config, folders, log, progress mode and the step runner. */
interface DemoContext {
  cfg: DemoConfig;
  deps: DemoDeps;
  cwd: string;
  cacheDir: string;
  outDir: string;
  log: (line: string) => void;
  mode: ProgressMode | "auto";
  env: Record<string, string | undefined>;
  steps: StepRunner;
  warnings: string[];
}

/**
 * Runs the demo and returns its leaderboard, paths and timings.
 * @example const r = await runDemo({ fast: true }); console.log(r.leaderboard.toString(), r.report.html)
 */
export async function runDemo(input: DemoConfigInput = {}, deps: DemoDeps = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const cfg = resolveDemoConfig(input);
  const cwd = deps.cwd ?? process.cwd();
  const log = deps.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const mode = deps.progress ?? "auto";
  const loraVariants = cfg.variants.filter((v) => v.method === "lora");
  const ctx: DemoContext = {
    cfg, deps, cwd, log, mode,
    cacheDir: resolve(cwd, cfg.cache),
    outDir: resolve(cwd, cfg.out),
    env: deps.env ?? process.env,
    steps: stepRunner(3 + loraVariants.length, log, mode),
    warnings: [],
  };
  // 1. The base model, the instruction set and the suite.
  const setup = await ctx.steps.run("setup", "load the base model, the instruction set and the suite", (note) => prepareSetup(ctx, note), { draw: true });
  // 2. One adapter per LoRA variant (cached by content; resumed when interrupted).
  const trained = new Map<string, TrainedAdapter>();
  for (const v of loraVariants) trained.set(v.name, await trainVariant(ctx, setup, v));
  // 3. The tournament.
  const { id, dir, run, ratingOptions, judge } = await playTournament(ctx, setup, trained);
  for (const [name, a] of trained) copyAdapter(a.adapterDir, join(dir, "adapters", name));
  // 4. Ratings and the report.
  const { writeReport } = await import("../arena/report/write.js");
  const rep = await ctx.steps.run("report", "rate (Bradley-Terry, bootstrap) and write the report", async (note) => {
    const w = await writeReport(dir, { rating: ratingOptions });
    note(`${w.files.length} files`);
    return w;
  }, { draw: true });
  const leaderboard = rep.analysis.leaderboard;
  ctx.warnings.push(...leaderboard.result.warnings);
  const ratings = leaderboard.rows();
  const base = cfg.variants.find((v) => v.method === "base")!.name;
  const result: DemoResult = {
    format: DEMO_FORMAT,
    id,
    dir,
    complete: run.meta.complete,
    config: cfg,
    model: { dir: setup.modelDir, hash: setup.modelHash },
    suite: { name: setup.suite.name, dir: setup.suitePath, hash: setup.suite.hash, prompts: setup.prompts.length },
    judge: { reference: true, llm: judge.llm, ...(judge.note ? { note: judge.note } : {}) },
    variants: variantResults(cfg, dir, trained, run),
    leaderboard,
    ratings,
    separation: separation(ratings, base, loraVariants.map((v) => v.name)),
    battles: { played: run.battles.length, errors: run.errors.battles.length },
    report: { dir: rep.dir, html: join(rep.dir, "report.html"), markdown: join(rep.dir, "report.md"), json: join(rep.dir, "report.json") },
    timings: { steps: ctx.steps.timings, total: (performance.now() - t0) / 1000 },
    warnings: ctx.warnings,
  };
  writeJsonAtomic(join(dir, "demo.json"), demoJson(result, [...trained.values()]));
  if (!result.complete) throw new TslmError(`the tournament in ${dir} did not finish; run the demo again to continue it`);
  return result;
}

/** Step 1: the base model, the training records, the suite and the prompts to play. */
async function prepareSetup(ctx: DemoContext, note: (text: string) => void): Promise<DemoSetup> {
  const { cfg, cwd } = ctx;
  const modelDir = locateModel(cfg, cwd);
  const modelHash = folderHash(modelDir);
  const { embeddedSkills, taskRecords } = await import("../data/embedded/index.js");
  const records = taskRecords(embeddedSkills().train);
  const suitePath = await locateSuite(cfg, cwd, ctx.cacheDir);
  const { loadSuite, selectPrompts } = await import("../arena/suites/index.js");
  const suite: SuiteInfo = loadSuite(suitePath, [join(cwd, "eval-suites"), join(packageInfo().root, "eval-suites")]);
  const prompts = selectPrompts(suite.prompts, cfg.prompts ? { limit: cfg.prompts } : undefined);
  // The tournament measures generalisation only if no played prompt was a training example.
  const trained = new Set(records.map((r) => r.prompt));
  const seen = prompts.filter((p) => p.messages.some((m) => m.role === "user" && trained.has(m.content))).length;
  if (seen > 0) ctx.warnings.push(`${seen} of the ${prompts.length} played prompts are also training examples: their answers measure memory, not generalisation`);
  note(`${records.length} training examples, ${prompts.length} prompts`);
  return { modelDir, modelHash, records, suitePath, suite, prompts };
}

/** Step 2, once per LoRA variant: its adapter, from the cache, resumed, or trained. */
function trainVariant(ctx: DemoContext, setup: DemoSetup, v: DemoVariant): Promise<TrainedAdapter> {
  const { cfg, log } = ctx;
  const what = `fine-tune ${v.name} (LoRA r=${v.rank}${v.quantization !== "none" ? `, ${v.quantization} base` : ""})`;
  return ctx.steps.run(`train ${v.name}`, what, async (note) => {
    const r = await trainAdapter(
      { modelDir: setup.modelDir, modelHash: setup.modelHash, variant: v, train: cfg.train, seed: cfg.seed, records: setup.records, cacheDir: ctx.cacheDir },
      { progress: ctx.mode, signal: ctx.deps.signal, log: (l) => log(`      ${l}`) },
    );
    note(r.cached ? "reused from the cache" : `${r.steps} steps${r.resumedFrom !== null ? ` (resumed at step ${r.resumedFrom})` : ""}, loss ${r.firstLoss?.toFixed(3)} -> ${r.finalLoss?.toFixed(3)}`);
    return r;
  });
}

/** Step 3: every variant against every other on the suite, in a run folder named by content (so a rerun resumes it). */
async function playTournament(ctx: DemoContext, setup: DemoSetup, trained: Map<string, TrainedAdapter>) {
  const { cfg, log } = ctx;
  const judge = chooseJudge(cfg.llmJudge, ctx.env);
  if (judge.note) {
    ctx.warnings.push(judge.note);
    log(`note: ${judge.note}`);
  }
  const ratingOptions = { method: "bt" as const, bootstrap: cfg.bootstrap, confidence: cfg.confidence, seed: cfg.seed };
  const id =
    cfg.id ??
    `demo-${contentHash({
      model: setup.modelHash,
      variants: cfg.variants.map((v) => ({ ...v, adapter: trained.get(v.name)?.key ?? null })),
      suite: setup.suite.hash,
      prompts: setup.prompts.map((p) => p.id),
      seed: cfg.seed,
      judge: judge.config,
      maxNewTokens: cfg.maxNewTokens,
      rating: ratingOptions,
    }).slice(0, 12)}`;
  const { runTournament } = await import("../arena/run.js");
  const what = `tournament: ${cfg.variants.length} models on ${setup.prompts.length} prompts (${judge.llm ? `reference + LLM judge ${judge.llm.model}` : "reference judge"})`;
  const run = await ctx.steps.run("tournament", what, async (note) => {
    const queue = serialQueue();
    const contestants = Object.fromEntries(
      cfg.variants.map((v) => {
        const a = trained.get(v.name);
        return [v.name, demoContestant({ variant: v, modelDir: setup.modelDir, modelHash: setup.modelHash, adapter: a ? { dir: a.adapterDir, key: a.key } : undefined, queue })];
      }),
    );
    const r = await runTournament(
      {
        name: id,
        out: ctx.outDir,
        seed: cfg.seed,
        suite: setup.suitePath,
        ...(cfg.prompts ? { prompts: { limit: cfg.prompts } } : {}),
        ...(cfg.maxNewTokens ? { generation: { max_tokens: cfg.maxNewTokens } } : {}),
        contestants: cfg.variants.map((v) => ({ name: v.name, type: "custom" as const })),
        judge: judge.config,
        cache: join(ctx.cacheDir, "arena"),
        // Recorded in the run, so `tslm arena report|leaderboard` on it rate it as the demo does.
        rating: ratingOptions,
      },
      { baseDir: ctx.cwd, resume: true, retryErrors: true, contestants, progress: ctx.mode, signal: ctx.deps.signal, deps: { env: ctx.env } },
    );
    const s = r.summary;
    note(`${r.battles.length} battles, ${s.answers.new} new answers, ${s.answers.cached + s.answers.recorded} reused`);
    return r;
  });
  if (run.errors.battles.length > 0) {
    const first = run.errors.battles[0] as unknown as { error?: string };
    ctx.warnings.push(`${run.errors.battles.length} battles could not be decided (first: ${first.error ?? "unknown"}); they are not rated`);
  }
  return { id, dir: join(ctx.outDir, id), run, ratingOptions, judge };
}

/** Each variant with its adapter's place in the run folder, its training outcome and its accuracy. */
function variantResults(cfg: DemoConfig, dir: string, trained: Map<string, TrainedAdapter>, run: RunResult): DemoVariantResult[] {
  const accuracy = variantAccuracy(run);
  return cfg.variants.map((v) => {
    const a = trained.get(v.name);
    const { variant: _v, adapterDir: _d, losses: _l, ...training } = a ?? ({} as TrainedAdapter);
    return { ...v, adapter: a ? join(dir, "adapters", v.name) : null, training: a ? training : null, accuracy: accuracy.get(v.name) ?? null };
  });
}

/** The JSON form of a result (`demo.json`, `tslm demo --json`): plain data, the leaderboard as rows. */
export function demoJson(r: DemoResult, adapters: TrainedAdapter[] = []): Record<string, unknown> {
  const { leaderboard, ...rest } = r;
  return {
    ...rest,
    leaderboard: leaderboard.toJSON(),
    losses: Object.fromEntries(adapters.map((a) => [a.variant, a.losses])),
  };
}
