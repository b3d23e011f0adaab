/**
 * Training the demo's adapters through lib/train's `finetune`, with a cache:
 * each adapter lives in `CACHE/adapters/<key>/`, where the key hashes the
 * base model's bytes, the training records and every setting that decides
 * the weights. A finished adapter has a `demo-adapter.json` beside it and is
 * reused as it is; an unfinished one (the demo was stopped) resumes from its
 * last checkpoint, which lib/train makes exact.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainConfigInput } from "../train/config.js";
import type { TrainerDeps } from "../train/trainer.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from "../model/peft.js";
import { TslmError } from "../util/errors.js";
import type { DemoTrain, DemoVariant } from "./config.js";
import { contentHash } from "./hash.js";

/** Bumped when the demo changes how it trains, so old cache entries are not reused. */
const ADAPTER_CACHE_VERSION = 2;
const MARKER = "demo-adapter.json";

/** What the demo knows about one trained adapter. */
export interface TrainedAdapter {
  variant: string;
  /** Cache key (sha256 hex). */
  key: string;
  /** The PEFT adapter folder in the cache. */
  adapterDir: string;
  /** True when a finished adapter was found in the cache (nothing was trained). */
  cached: boolean;
  /** Step the training resumed from when an earlier demo was stopped mid-way. */
  resumedFrom: number | null;
  steps: number;
  firstLoss: number | null;
  finalLoss: number | null;
  /** Seconds of training (of the run that made the adapter, cached or not). */
  trainSeconds: number;
  tokensPerSecond: number;
  /** Base-weight memory while training: bytes and the fraction of float32. */
  baseBytes: number;
  baseRatio: number;
  /** Loss per step, for the loss curve. */
  losses: { step: number; loss: number }[];
}

export interface TrainAdapterInput {
  modelDir: string;
  /** folderHash(modelDir). */
  modelHash: string;
  variant: DemoVariant;
  train: DemoTrain;
  seed: number;
  /** LLM Studio-style training records (`prompt`, `answer`, ...). */
  records: readonly Record<string, unknown>[];
  cacheDir: string;
}

/** The finetune config of a variant (the parts that decide the weights, plus where to write). */
export function trainConfigFor(input: Omit<TrainAdapterInput, "records" | "cacheDir" | "modelHash">, output: string | null): TrainConfigInput {
  const { variant: v, train: t } = input;
  return {
    model: input.modelDir,
    output,
    seed: input.seed,
    method: "lora",
    lora: { r: v.rank, alpha: v.alpha ?? 2 * v.rank, dropout: t.dropout },
    quantization: v.quantization,
    lr: t.lr,
    batchSize: t.batchSize,
    epochs: t.epochs,
    // The held-out questions are the tournament's; training needs no validation split.
    data: { validationSize: 0, maxLength: t.maxLength },
    evalGenerate: false,
    checkpointEvery: t.checkpointEvery,
    keepCheckpoints: 1,
    resume: true,
  };
}

/** The cache key of a variant's adapter: base bytes + records + the weight-deciding settings. */
export function adapterKey(input: Omit<TrainAdapterInput, "cacheDir">): string {
  const cfg = trainConfigFor(input, null);
  const { model: _m, output: _o, resume: _r, checkpointEvery: _c, keepCheckpoints: _k, ...decisive } = cfg;
  return contentHash({ v: ADAPTER_CACHE_VERSION, base: input.modelHash, data: contentHash(input.records), train: decisive });
}

function readMarker(dir: string): TrainedAdapter | undefined {
  const file = join(dir, MARKER);
  if (!existsSync(file) || !existsSync(join(dir, "adapter", ADAPTER_WEIGHTS_FILE))) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as TrainedAdapter;
  } catch {
    return undefined; // a torn marker: train (resume) again
  }
}

/**
 * Returns the variant's adapter, training it (or finishing an interrupted
 * training) when the cache does not hold it.
 * @throws TslmError when training was stopped by `deps.signal` (the checkpoint stays for the next demo).
 */
export async function trainAdapter(input: TrainAdapterInput, deps: TrainerDeps = {}): Promise<TrainedAdapter> {
  const key = adapterKey(input);
  const dir = join(input.cacheDir, "adapters", key.slice(0, 24));
  const found = readMarker(dir);
  if (found && found.key === key) return { ...found, variant: input.variant.name, adapterDir: join(dir, "adapter"), cached: true };

  mkdirSync(dir, { recursive: true });
  const { finetune } = await import("../train/trainer.js");
  const run = await finetune({ config: trainConfigFor(input, dir), records: input.records }, deps);
  try {
    if (run.status !== "completed") {
      throw new TslmError(`training of '${input.variant.name}' was stopped at step ${run.steps} of ${run.totalSteps}; run the demo again to continue from the last checkpoint`);
    }
    const adapterDir = run.exports.adapterDir;
    if (!adapterDir) throw new TslmError(`training of '${input.variant.name}' wrote no adapter`, { file: dir });
    const result: TrainedAdapter = {
      variant: input.variant.name,
      key,
      adapterDir,
      cached: false,
      resumedFrom: run.resumedFrom,
      steps: run.steps,
      firstLoss: run.history[0]?.loss ?? null,
      finalLoss: run.history.at(-1)?.loss ?? null,
      trainSeconds: run.throughput.seconds,
      tokensPerSecond: run.throughput.tokensPerSecond,
      baseBytes: run.prepared.memory.bytes,
      baseRatio: run.prepared.memory.ratio,
      losses: run.history.map((h) => ({ step: h.step, loss: h.loss })),
    };
    // Written last: its presence means the adapter beside it is complete.
    writeJsonAtomic(join(dir, MARKER), result);
    return result;
  } finally {
    run.model.dispose();
  }
}

/** Copies a PEFT adapter folder's two files into `dest` (atomically, file by file). */
export function copyAdapter(from: string, dest: string): string[] {
  mkdirSync(dest, { recursive: true });
  return [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE].map((name) => {
    const bytes = readFileSync(join(from, name));
    const file = join(dest, name);
    writeFileAtomic(file, (append) => append(bytes));
    return file;
  });
}
