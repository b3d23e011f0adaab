/**
 * The flags of `npm run bench -- scale` (documented at the top of
 * bench/scale.ts), parsed and checked: a bad value is a UsageError naming the
 * flag, which the benchmark turns into a one-line message and exit status 2.
 */
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SCALE_MODELS, scaleModel, type ScaleModel } from "./_scale_models.js";
import type { DecodePair, Phase, Settings } from "./_scale_report.js";

export class UsageError extends Error {}

const DEFAULT_MODELS = SCALE_MODELS.filter((m) => !m.testOnly).map((m) => m.name);

/** Everything the flags decide. */
export interface Options {
  models: ScaleModel[];
  only: Phase[];
  peers: string[];
  quick: boolean;
  plan: boolean;
  json: boolean;
  settings: Settings;
  /** Flags given explicitly (the 8B shape keeps its goal's sizes otherwise). */
  explicit: Set<string>;
  timeoutMs: number;
  /** Resident limit per process; undefined: 85% of what is available when it starts. */
  maxRssBytes: number | undefined;
  reserveBytes: number;
  cache: string;
  seed: number;
  loadOptions: Record<string, unknown>;
  /** Rounds of the train and decode comparisons (each row keeps its best). */
  repeat: number;
  /** --load-bases, --train-bases, --decode-bases: replace BASES (and BASES_8B) when given. */
  bases: { load?: string[]; train?: string[]; decode?: DecodePair[] };
}

/** `stored:f16,int8:q8_0` as decode pairs; tslm "float32" or "none" is a reference pair, not a goal. */
function decodePairs(v: string): DecodePair[] {
  return v.split(",").map((item) => {
    const [tslm, gguf] = item.split(":").map((x) => x.trim());
    if (!tslm || (gguf !== "f16" && gguf !== "q8_0")) throw new UsageError(`--decode-bases expects TSLM:GGUF pairs with GGUF f16 or q8_0 (e.g. stored:f16,int8:q8_0), got '${item}'`);
    return { tslm, gguf, goal: tslm !== "none" && tslm !== "float32" };
  });
}

/** llama.cpp's thread counts to try (default 1 and every core): each is measured and the best kept. */
function threadList(v: string | undefined): number[] {
  if (v === undefined) return [...new Set([1, availableParallelism()])];
  const items = v.split(",").map((x) => Number(x.trim()));
  if (items.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--threads expects whole numbers >= 1, separated by commas, got '${v}'`);
  return items;
}

/** The flags, checked; a bad value is a UsageError naming the flag. */
export function parseOptions(args: string[], root: string): Options {
  const { values: a } = parseArgs({
    args,
    options: {
      models: { type: "string" }, only: { type: "string" }, peers: { type: "string" },
      quick: { type: "boolean", default: false }, plan: { type: "boolean", default: false }, json: { type: "boolean", default: false },
      batch: { type: "string" }, seq: { type: "string" }, warmup: { type: "string" }, steps: { type: "string" }, rank: { type: "string" },
      "prompt-tokens": { type: "string" }, "new-tokens": { type: "string" }, "decode-batch": { type: "string" }, threads: { type: "string" },
      timeout: { type: "string" }, "max-rss-gb": { type: "string" }, "reserve-gb": { type: "string" }, cache: { type: "string" }, seed: { type: "string" }, repeat: { type: "string" },
      "load-options": { type: "string" }, "load-bases": { type: "string" }, "train-bases": { type: "string" }, "decode-bases": { type: "string" },
    },
  });
  const get = (name: string) => a[name as keyof typeof a] as string | undefined;
  const whole = (name: string, min: number, fallback: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} expects a whole number >= ${min}, got '${v}'`);
    return n;
  };
  const positive = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} expects a positive number, got '${v}'`);
    return n;
  };
  const list = <T extends string>(name: string, known: readonly T[], fallback: readonly T[]): T[] => {
    const v = get(name);
    if (v === undefined) return [...fallback];
    const items = v.split(",").map((x) => x.trim()).filter(Boolean);
    for (const i of items) if (!known.includes(i as T)) throw new UsageError(`--${name}: unknown '${i}' (known: ${known.join(", ")})`);
    return items as T[];
  };
  const quick = a.quick!;
  let loadOptions: Record<string, unknown> = {};
  try {
    loadOptions = a["load-options"] ? (JSON.parse(a["load-options"]) as Record<string, unknown>) : {};
    if (loadOptions === null || typeof loadOptions !== "object" || Array.isArray(loadOptions)) throw new Error("not an object");
  } catch (e) {
    throw new UsageError(`--load-options expects a JSON object, got '${a["load-options"]}' (${(e as Error).message})`);
  }
  const maxRss = positive("max-rss-gb");
  return {
    models: list("models", SCALE_MODELS.map((m) => m.name), DEFAULT_MODELS).map(scaleModel),
    only: list<Phase>("only", ["load", "train", "decode"], ["load", "train", "decode"]),
    peers: list("peers", ["pytorch", "llama.cpp", "none"], ["pytorch", "llama.cpp"]),
    quick, plan: a.plan!, json: a.json!,
    settings: {
      batch: whole("batch", 1, quick ? 2 : 4), seq: whole("seq", 8, quick ? 64 : 512), warmup: whole("warmup", 1, 1), steps: whole("steps", 1, 2), rank: whole("rank", 1, 8),
      promptTokens: whole("prompt-tokens", 1, quick ? 16 : 32), newTokens: whole("new-tokens", 2, quick ? 16 : 64), decodeBatch: whole("decode-batch", 1, 8),
      llamaThreads: threadList(get("threads")),
    },
    explicit: new Set(Object.keys(a).filter((k) => get(k) !== undefined)),
    timeoutMs: whole("timeout", 1, quick ? 600 : 1800) * 1000,
    maxRssBytes: maxRss === undefined ? undefined : maxRss * 1e9,
    reserveBytes: (positive("reserve-gb") ?? 2) * 1e9,
    cache: resolve(root, get("cache") ?? join(".cache", "scale")),
    seed: whole("seed", 0, 0),
    repeat: whole("repeat", 1, 1),
    loadOptions,
    bases: {
      ...(get("load-bases") !== undefined ? { load: get("load-bases")!.split(",").map((x) => x.trim()) } : {}),
      ...(get("train-bases") !== undefined ? { train: get("train-bases")!.split(",").map((x) => x.trim()) } : {}),
      ...(get("decode-bases") !== undefined ? { decode: decodePairs(get("decode-bases")!) } : {}),
    },
  };
}

