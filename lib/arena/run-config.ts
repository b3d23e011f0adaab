/**
 * From a run config (a YAML file or an object) to what `runTournament` plays:
 * the resolved config, the folder relative paths resolve from, the judge laid
 * over the suite's defaults, and errors that name the config file and line.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, RemoteError, TslmError } from "../util/errors.js";
import { parseYamlText, resolveConfig } from "../util/config.js";
import { readTextFile } from "../util/files.js";
import type { SuiteInfo } from "./types.js";
import { ArenaConfigSchema, type ArenaConfig, type ArenaConfigInput } from "./tournament/config.js";
import { JudgeConfigSchema, type JudgeConfig } from "./judges/config.js";

export interface Prepared {
  config: ArenaConfig;
  baseDir: string;
  configText?: string;
  /** The judge as written: suite judge defaults go under it. */
  rawJudge?: Record<string, unknown>;
  file?: string;
  lineOf?: (key: string) => number | undefined;
}

/**
 * The run's judge laid over the suite's judge defaults (when of the same
 * type; a run judge without `type` takes the suite's, else "llm"), or the
 * suite's alone. Errors name the run config's file, line and `judge.` key.
 */
export function judgeWithSuiteDefaults(
  raw: Record<string, unknown> | undefined,
  suite: SuiteInfo,
  where: { file?: string; lineOf?: (key: string) => number | undefined },
): JudgeConfig | undefined {
  const base = suite.judge;
  if (!raw && !base) return undefined;
  const run = raw && raw.type === undefined ? { ...raw, type: base?.type ?? "llm" } : raw;
  const merged = run && base && run.type === base.type ? { ...base, ...run } : (run ?? base);
  try {
    return resolveConfig(JudgeConfigSchema, merged, { prefix: "judge", file: where.file, lineOf: (k) => where.lineOf?.(`judge.${k}`) });
  } catch (e) {
    if (raw) throw e;
    throw new ConfigError(
      `the config has no 'judge' and suite '${suite.name}' only declares judge defaults (${e instanceof TslmError ? e.what : (e as Error).message}); add a judge, e.g. judge: {base_url: http://127.0.0.1:8000/v1, model: NAME}`,
      { key: "judge" },
    );
  }
}

export function prepare(config: ArenaConfigInput | string, opts: { baseDir?: string; shard?: ArenaConfig["shard"] } = {}): Prepared {
  if (typeof config === "string") {
    const text = readTextFile(config, "run config");
    const { value, lineOf } = parseYamlText(text, config);
    const resolved = withShard(resolveConfig(ArenaConfigSchema, value, { file: config, lineOf }), opts.shard);
    return { config: resolved, baseDir: opts.baseDir ?? dirname(resolve(config)), configText: text, rawJudge: resolved.judge, file: config, lineOf };
  }
  const resolved = withShard(resolveConfig(ArenaConfigSchema, config), opts.shard);
  return { config: resolved, baseDir: opts.baseDir ?? process.cwd(), rawJudge: resolved.judge };
}

/** Resolves the run folder and cache paths from `base` (contestants resolve their own). */
export function withPaths(c: ArenaConfig, base: string): ArenaConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return { ...c, out: abs(c.out), cache: c.cache === false ? false : abs(c.cache) };
}

/** `shard` (e.g. from `--shard i/n`) over the config's; checked like the config's own. */
function withShard(c: ArenaConfig, shard: ArenaConfig["shard"]): ArenaConfig {
  if (!shard) return c;
  if (!(Number.isInteger(shard.index) && Number.isInteger(shard.count) && shard.index >= 0 && shard.index < shard.count)) {
    throw new ConfigError(`shard must have 0 <= index < count, got ${JSON.stringify(shard)}`, { key: "shard" });
  }
  return { ...c, shard };
}

/**
 * Names the config file and the line of the key in an error raised while
 * setting up a run from a YAML file (contestant, judge, prompt selection and
 * schedule errors name only the key where they are raised). The message
 * (`what`) is kept as raised; only the location grows.
 */
export function locate(e: unknown, prep: Pick<Prepared, "file" | "lineOf">): unknown {
  if (!prep.file || !(e instanceof ConfigError || e instanceof RemoteError) || e.location.file !== undefined || e.location.key === undefined) return e;
  const line = prep.lineOf?.(e.location.key);
  if (line === undefined) return e;
  const where = { ...e.location, file: prep.file, line };
  return e instanceof RemoteError ? new RemoteError(e.what, e.status, where, { cause: e }) : new ConfigError(e.what, where, { cause: e });
}
