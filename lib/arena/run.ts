/**
 * `runTournament`: config in, a durable run folder out.
 *
 * @example
 * const run = await runTournament("arena.yaml");            // or a config object
 * const again = await runTournament("arena.yaml", { resume: true });  // after a crash: continues, repeats nothing
 * run.battles[0]  // { model_a, model_b, winner, prompt_id, judge, index, ... }
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { setMaxListeners } from "node:events";
import { ConfigError } from "../util/errors.js";
import { packageInfo, dependencyVersion } from "../util/package.js";
import type { ContestantInfo, RunMeta, SuiteInfo, SuitePrompt } from "./types.js";
import type { ArenaConfig, ArenaConfigInput } from "./tournament/config.js";
import { judgeWithSuiteDefaults, locate, prepare, withPaths, type Prepared } from "./run-config.js";
import { buildSchedule } from "./tournament/build.js";
import { Engine, type StageCounts } from "./tournament/engine.js";
import type { JudgeConfig } from "./judges/config.js";
import { EndpointQueues } from "./tournament/queues.js";
import type { PlayedBattle, Schedule } from "./tournament/spec.js";
import { loadSuite, selectPrompts, suiteSearchPath } from "./suites/load.js";
import { createContestant } from "./contestants/create.js";
import type { Contestant } from "./contestants/types.js";
import { mergeParams, type GenerationParams } from "./contestants/params.js";
import { defaultHttpDeps, type HttpDeps } from "./contestants/http.js";
import { createJudgePlan } from "./judges/create.js";
import { isEnsemble, type Judge, type JudgePlan } from "./judges/types.js";
import type { HumanJudge } from "./judges/human.js";
import { RunStore, readJsonFile, readRunMeta } from "./store/run-store.js";
import { writeFileAtomic } from "../util/atomic.js";
import { ContentCache } from "./store/cache.js";
import { canonicalJson, contentHash } from "./store/hash.js";
import { loadRun, type LoadedRun } from "./store/load.js";
import { RUN_FILES, RUN_FORMAT_VERSION } from "./store/layout.js";
import { progress as showProgress, type Progress, type ProgressMode } from "../display/progress.js";

export interface RunOptions {
  /** Folder relative paths in the config resolve from (default: the config file's folder, else the working folder). */
  baseDir?: string;
  /** Play one shard of a static schedule (over the config's `shard`; the CLI's `--shard i/n`). */
  shard?: { index: number; count: number };
  /** The run folder; default `OUT/NAME` from the config. */
  dir?: string;
  /** Continue the run in the folder if it holds one (refused when its config differs); start it if not. Without it, an existing run folder is an error. */
  resume?: boolean;
  /** With resume: call again for answers and verdicts that failed before. */
  retryErrors?: boolean;
  /** In-process contestants for `type: custom` entries, by name. */
  contestants?: Record<string, Contestant>;
  /** In-process judges for `type: custom` (and `human`) judges, by id. */
  judges?: Record<string, Judge>;
  /** Called with each human judge the run makes for a `type: human` judge not in `judges` (see startVotingServer). */
  onHumanJudge?: (judge: HumanJudge) => void;
  /** HTTP, clock and environment (tests pass their own). */
  deps?: Partial<HttpDeps>;
  /** Called at most every `progressEveryMs` and once at the end. */
  onProgress?: (p: RunProgress) => void;
  progressEveryMs?: number;
  /** Progress display (notebook, terminal bar, lines); default "auto": notebook or TTY, silent elsewhere. */
  progress?: ProgressMode | "auto";
  /** Stops the run: in-flight calls are cancelled, nothing half-done is recorded. */
  signal?: AbortSignal;
}

export interface RunProgress {
  done: boolean;
  /** Battles (scheduled pairings) played so far in this session, and in total when known. */
  played: number;
  total?: number;
  answers: StageCounts;
  judgments: StageCounts;
  battles: StageCounts;
  elapsed_ms: number;
}

export interface RunSummary extends RunProgress {
  dir: string;
  resumed: boolean;
  /** Battle specs per second over this session. */
  specs_per_s: number;
  journal: { records: number; syncs: number; policy: string };
  cache: { hits: number; misses: number } | null;
  endpoints: { key: string; concurrency: number; requestsPerMinute?: number }[];
}

export type RunResult = LoadedRun & { summary: RunSummary };

function planIdentity(p: JudgePlan): unknown {
  return isEnsemble(p)
    ? { ensemble: p.combine, quorum: p.quorum, members: p.members.map(planIdentity) }
    : { id: p.id, identity: p.identity, orders: p.orders, disagreement: p.disagreement, strongWeight: p.strongWeight };
}

/** A resumed run takes the `rating:` section given now: it decides no battle, only how reports rate them. */
function recordRating(dir: string, rating: ArenaConfig["rating"]): void {
  const file = join(dir, RUN_FILES.config);
  const recorded = readJsonFile<Record<string, unknown>>(file);
  if (canonicalJson(recorded.rating ?? null) === canonicalJson(rating ?? null)) return;
  writeFileAtomic(file, JSON.stringify({ ...recorded, rating }, null, 2) + "\n");
}

function versions(): Record<string, string> {
  const v: Record<string, string> = { tslm: packageInfo().version, node: process.versions.node };
  for (const d of ["undici", "zod", "yaml"]) {
    const x = dependencyVersion(d);
    if (x) v[d] = x;
  }
  return v;
}

/**
 * Plays `specs` with at most `limit` at once, results in spec order. At the
 * first failure (a journal write, a stop) `stop` is called, nothing more is
 * started, and the failure is thrown once the battles in flight have settled,
 * so nothing is left writing to a closed store.
 */
async function playAll<T, R>(specs: readonly T[], limit: number, play: (s: T) => Promise<R>, stop: (e: unknown) => void): Promise<R[]> {
  const results = new Array<R>(specs.length);
  let next = 0;
  let failed = false;
  let failure: unknown;
  const worker = async () => {
    while (!failed && next < specs.length) {
      const i = next++;
      try {
        results[i] = await play(specs[i]);
      } catch (e) {
        if (!failed) {
          failed = true;
          failure = e;
          stop(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, specs.length) }, worker));
  if (failed) throw failure;
  return results;
}

/**
 * Runs (or resumes) a tournament and returns the loaded run with a summary.
 * Every answer, verdict and battle is journaled as it arrives. Three steps:
 * `planRun` resolves everything once (no file written, no request made),
 * `openStore` takes (or continues) the run folder, `play` plays the schedule.
 */
export async function runTournament(configOrFile: ArenaConfigInput | string, opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const prep = prepare(configOrFile, opts);
  try {
    const plan = planRun(prep, opts);
    const opened = await openStore(plan, opts);
    const summary = await play(plan, opened, opts, t0);
    return { ...loadRun(plan.dir), summary };
  } catch (e) {
    throw locate(e, prep);
  }
}

/** What a run plays, resolved from its config once: suite, prompts, contestants, judges, schedule and identity. */
export interface RunPlan {
  prep: Prepared;
  /** The config with its run folder and cache paths resolved. */
  config: ArenaConfig;
  suite: SuiteInfo;
  prompts: SuitePrompt[];
  /** The judge as recorded: the run's over the suite's defaults. */
  judge: JudgeConfig;
  contestants: Contestant[];
  judges: JudgePlan;
  /** Endpoint queues shared by the contestants and judges (concurrency and rate limits). */
  queues: EndpointQueues;
  generation: (category: string) => GenerationParams;
  schedule: Schedule;
  /** Battles this process plays (its shard's share), when the schedule knows. */
  total?: number;
  /** Run id, folder and the hashes of what decides its results. */
  id: string;
  dir: string;
  configHash: string;
  configParts: Record<string, string>;
}

/**
 * Resolves a prepared config into a plan. Contestants and judges are made
 * (and their API keys read) here, so a bad config fails before a run folder
 * exists.
 */
export function planRun(prep: Prepared, opts: Pick<RunOptions, "contestants" | "judges" | "onHumanJudge" | "deps" | "dir"> = {}): RunPlan {
  const config = withPaths(prep.config, prep.baseDir);
  const deps: HttpDeps = { ...defaultHttpDeps, ...opts.deps };
  const suitePath = isAbsolute(config.suite) || config.suite.includes("/") ? resolve(prep.baseDir, config.suite) : config.suite;
  const suite: SuiteInfo = loadSuite(suitePath, [join(prep.baseDir, "eval-suites"), ...suiteSearchPath()]);
  const prompts = selectPrompts(suite.prompts, config.prompts);
  const names = new Set<string>();
  config.contestants.forEach((c, i) => {
    if (names.has(c.name)) throw new ConfigError(`two contestants are named '${c.name}'`, { key: `contestants.${i}.name` });
    names.add(c.name);
  });
  const judge = judgeWithSuiteDefaults(prep.rawJudge, suite, prep);
  if (!judge) throw new ConfigError(`no judge: the config has no 'judge' and suite '${suite.name}' declares no default judge`, { key: "judge" });
  const queues = new EndpointQueues();
  const scheduler = queues.scheduler.bind(queues);
  const contestants = config.contestants.map((c, i) => createContestant(c, i, { contestants: opts.contestants, deps, scheduler, baseDir: prep.baseDir }));
  const judges = createJudgePlan(judge, { judges: opts.judges, onHumanJudge: opts.onHumanJudge, deps, scheduler });
  const generation = (category: string) =>
    mergeParams(suite.generation as GenerationParams, suite.category_generation?.[category] as GenerationParams | undefined, config.generation);
  const schedule = buildSchedule(config.schedule, contestants.map((c) => c.name), prompts.map((p) => p.id), config.seed);
  if (config.shard && !schedule.static) {
    throw new ConfigError(`a ${schedule.type} schedule plans each round from all earlier results, so it cannot be split into shards; use round-robin or sample`, { key: "shard" });
  }
  const total = schedule.total === undefined ? undefined : config.shard ? Math.ceil((schedule.total - config.shard.index) / config.shard.count) : schedule.total;
  const identity = runIdentity(config, suite, prompts, contestants, judges, generation);
  const dir = opts.dir ? resolve(opts.dir) : join(config.out, identity.id);
  return { prep, config, suite, prompts, judge, contestants, judges, queues, generation, schedule, total, dir, ...identity };
}

/** The run's id and the hashes of what decides its results: changing any of it makes a different run. */
function runIdentity(
  config: ArenaConfig,
  suite: SuiteInfo,
  prompts: SuitePrompt[],
  contestants: Contestant[],
  judges: JudgePlan,
  generation: (category: string) => GenerationParams,
): { id: string; configHash: string; configParts: Record<string, string> } {
  const parts = {
    seed: config.seed,
    suite: suite.hash,
    prompts: prompts.map((p) => p.id),
    generation: Object.fromEntries([...new Set(prompts.map((p) => p.category))].sort().map((c) => [c, generation(c)])),
    contestants: contestants.map((c) => ({ name: c.name, identity: c.identity, params: c.params })),
    judge: planIdentity(judges),
    schedule: config.schedule,
  };
  const configParts = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, contentHash(v).slice(0, 16)]));
  const configHash = contentHash(parts);
  return { id: config.name ?? `${suite.name}-${configHash.slice(0, 8)}`, configHash, configParts };
}

/** A run folder taken for playing, with the cross-run cache. */
interface OpenedRun {
  store: RunStore;
  cache?: ContentCache;
  resumed: boolean;
}

/**
 * Creates the run folder, or continues it with `resume`. Refuses a folder
 * that holds a run when not resuming, and a resume whose config or shard
 * differs, before touching the journal.
 */
async function openStore(plan: RunPlan, opts: Pick<RunOptions, "resume">): Promise<OpenedRun> {
  const { config, dir } = plan;
  const holdsRun = existsSync(join(dir, RUN_FILES.meta));
  if (holdsRun && !opts.resume) {
    const again = config.name ? { how: "change the config's name for a new run", where: { key: "name" } } : { how: "set a name in the config (or pass another run folder) for a new run", where: {} };
    throw new ConfigError(`run folder ${dir} already holds a run; continue it with --resume (nothing recorded is made again), or ${again.how}`, again.where);
  }
  if (holdsRun) checkResume(plan);
  // Opened before the run folder is taken, so a bad cache path leaves no lock behind.
  const cache = config.cache === false ? undefined : await ContentCache.open(config.cache);
  try {
    if (holdsRun) {
      const store = await RunStore.resume(dir, config.fsync);
      recordRating(dir, plan.prep.config.rating);
      return { store, cache, resumed: true };
    }
    return { store: await createRun(plan), cache, resumed: false };
  } catch (e) {
    await cache?.close();
    throw e;
  }
}

/** A resume must replay the same config and shard: names what differs. */
function checkResume(plan: RunPlan): void {
  const m = readRunMeta(plan.dir) as RunMeta & { configParts?: Record<string, string> };
  if (m.configHash !== plan.configHash) {
    const differ = Object.keys(plan.configParts).filter((k) => m.configParts?.[k] !== plan.configParts[k]);
    throw new ConfigError(`run ${plan.dir} was made with a different config (differs in: ${differ.join(", ") || "unknown"}); start a new run instead of resuming`);
  }
  const shard = plan.config.shard;
  if (JSON.stringify(m.shard ?? null) !== JSON.stringify(shard ?? null)) {
    throw new ConfigError(`run ${plan.dir} is shard ${JSON.stringify(m.shard ?? null)}, the config asks for ${JSON.stringify(shard ?? null)}`, { key: "shard" });
  }
}

/** Writes a new run folder: meta, the config as written with every default filled in, suite and contestants. */
function createRun(plan: RunPlan): Promise<RunStore> {
  const { config, suite } = plan;
  const meta: RunMeta & { configParts: Record<string, string> } = {
    id: plan.id,
    format: "tslm-arena-run",
    format_version: RUN_FORMAT_VERSION,
    created: new Date().toISOString(),
    seed: config.seed,
    suite: suite.name,
    suiteHash: suite.hash,
    configHash: plan.configHash,
    configParts: plan.configParts,
    versions: versions(),
    shard: config.shard,
  };
  const contestants: ContestantInfo[] = plan.contestants.map((c) => ({ name: c.name, type: c.type, identity: c.identity }));
  return RunStore.create(plan.dir, { meta, config: { ...plan.prep.config, judge: plan.judge }, configText: plan.prep.configText, suite, contestants }, config.fsync);
}

/** Progress of a session: counts for `onProgress`, the display bar, throttled. */
function progressReporter(plan: RunPlan, engine: Engine, opts: RunOptions, t0: number) {
  const snapshot = (done: boolean): RunProgress => ({
    done,
    played: engine.counts.specs,
    total: plan.total,
    answers: { ...engine.counts.answers },
    judgments: { ...engine.counts.judgments },
    battles: { ...engine.counts.battles },
    elapsed_ms: Math.round(performance.now() - t0),
  });
  const bar: Progress = showProgress({ label: `arena ${plan.id}`, total: plan.total, unit: "battles", mode: opts.progress ?? "auto" });
  const metrics = () => ({
    errors: engine.counts.battles.errors,
    answers: engine.counts.answers.new,
    verdicts: engine.counts.judgments.new,
    cached: engine.counts.answers.cached + engine.counts.judgments.cached,
  });
  const every = opts.progressEveryMs ?? 250;
  let lastReport = 0;
  let lastDraw = 0;
  return {
    snapshot,
    /** Called per battle (thousands a second): the displays need far fewer updates. */
    tick(): void {
      const now = performance.now();
      if (now - lastDraw >= 50) {
        lastDraw = now;
        bar.update(engine.counts.specs, { metrics: metrics() });
      }
      if (opts.onProgress && now - lastReport >= every) {
        lastReport = now;
        opts.onProgress(snapshot(false));
      }
    },
    fail: (e: unknown) => bar.fail(e),
    finish(): RunProgress {
      const final = snapshot(true);
      bar.done({ metrics: metrics() });
      opts.onProgress?.(final);
      return final;
    },
  };
}

/** Plays the schedule round by round into the opened run; closes the store, cache and contestants whatever happens. */
async function play(plan: RunPlan, opened: OpenedRun, opts: RunOptions, t0: number): Promise<RunSummary> {
  const { store, cache } = opened;
  const { config } = plan;
  const inner = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, inner.signal]) : inner.signal;
  // Every request in flight listens for a stop; hundreds at once are expected.
  setMaxListeners(0, signal);
  const engine = new Engine({
    store,
    cache,
    contestants: new Map(plan.contestants.map((c) => [c.name, c])),
    plan: plan.judges,
    prompts: new Map(plan.prompts.map((p) => [p.id, p])),
    generation: plan.generation,
    seed: config.seed,
    retryErrors: opts.retryErrors ?? false,
    signal,
  });
  const progress = progressReporter(plan, engine, opts, t0);
  const played: PlayedBattle[] = [];
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const round = plan.schedule.nextRound(played);
      if (!round) break;
      const specs = config.shard ? round.filter((s) => s.index % config.shard!.count === config.shard!.index) : round;
      const results = await playAll(specs, config.max_in_flight, async (s) => {
        const r = await engine.play(s);
        progress.tick();
        return r;
      }, (e) => inner.abort(e));
      for (const r of results) played.push(r); // push(...results) overflows the stack past ~100k battles
    }
    const p = progress.snapshot(true);
    await store.append([{ type: "end", finished: new Date().toISOString(), counts: { answers: p.answers, judgments: p.judgments, battles: p.battles } }]);
  } catch (e) {
    progress.fail(e);
    await store.close().catch(() => undefined);
    await cache?.close().catch(() => undefined);
    throw e;
  } finally {
    for (const c of plan.contestants) await c.close?.().catch(() => undefined);
  }
  const journal = store.journalStats;
  await store.close();
  await cache?.close();
  const final = progress.finish();
  const seconds = final.elapsed_ms / 1000;
  return {
    ...final,
    dir: plan.dir,
    resumed: opened.resumed,
    specs_per_s: seconds > 0 ? final.played / seconds : 0,
    journal,
    cache: cache ? { hits: cache.hits, misses: cache.misses } : null,
    endpoints: plan.queues.describe(),
  };
}
