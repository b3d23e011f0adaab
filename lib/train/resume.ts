/**
 * Resuming a fine-tuning run from its newest good checkpoint: the settings
 * that decide the trajectory must match the checkpoint's, the training data
 * must have the same token fingerprint, and then weights, optimizer moments,
 * the dropout generator, the data position and the history come back
 * exactly. One change is allowed: `maxSteps` may rise, so a finished run can
 * be continued for more steps (the schedule is then laid over the new
 * length from the resumed step on).
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs-core";
import type { LoadedDataset } from "../data/dataset.js";
import type { DataPosition } from "../data/batch.js";
import { ConfigError, DataError, TslmError } from "../util/errors.js";
import type { Random } from "../util/random.js";
import { latestCheckpoint, type CheckpointData, type StepRecord } from "./checkpoint.js";
import { TRAJECTORY_KEYS, type TrainConfig } from "./config.js";
import type { Optimizer, Param } from "./optimizer.js";
import type { EvalResult } from "./evaluate.js";

/** An evaluation during training. */
export interface EvalRecord extends Omit<EvalResult, "predictions"> {
  step: number;
  epoch: number;
}

/** Where a run stands (what a checkpoint keeps besides tensors). */
export interface TrainingProgress {
  /** Optimizer steps done. */
  step: number;
  /** The next batch to read. */
  position: DataPosition;
  history: StepRecord[];
  evals: EvalRecord[];
  /** Wall seconds of training so far. */
  seconds: number;
  /** The step the run resumed at, or null for a fresh run. */
  resumedFrom: number | null;
  /** The newest checkpoint written or resumed from. */
  lastCheckpoint: string | null;
}

/** The progress of a run that has not started. */
export function freshProgress(): TrainingProgress {
  return { step: 0, position: { epoch: 0, batch: 0 }, history: [], evals: [], seconds: 0, resumedFrom: null, lastCheckpoint: null };
}

/** Hash of the training samples, so a resume can refuse different data. */
export function dataFingerprint(ds: LoadedDataset): string {
  const h = createHash("sha256");
  for (const s of ds.train) h.update(Int32Array.from(s.inputIds)).update(Int32Array.from(s.labels)).update("|");
  return h.digest("hex").slice(0, 16);
}

/** The settings a resumed run must share with its checkpoint (as JSON). */
export function trajectory(cfg: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TRAJECTORY_KEYS) out[k] = cfg[k];
  // The data files may move; their content is checked by the fingerprint.
  out.data = { ...cfg.data, trainFile: null, validationFile: null };
  return JSON.parse(JSON.stringify(out));
}

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k], y = b[k];
    if (x && y && typeof x === "object" && typeof y === "object" && !Array.isArray(x)) out.push(...diffKeys(x as Record<string, unknown>, y as Record<string, unknown>, `${prefix}${k}.`));
    else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${prefix}${k} (checkpoint ${JSON.stringify(y)}, now ${JSON.stringify(x)})`);
  }
  return out;
}

/**
 * Checks that `cfg` may continue the checkpoint: the trajectory keys match,
 * except that maxSteps may be set to any count not below the checkpoint's step.
 * @returns a note for the log when maxSteps changed, else undefined.
 * @throws ConfigError naming every key that differs.
 */
export function checkResumable(cfg: TrainConfig, saved: Record<string, unknown>, savedStep: number, dir: string): string | undefined {
  const now = trajectory(cfg);
  const diff = diffKeys({ ...now, maxSteps: null }, { ...saved, maxSteps: null });
  if (diff.length) throw new ConfigError(`cannot resume: the config differs from the checkpoint's in ${diff.join("; ")}`, { file: dir });
  if (now.maxSteps === saved.maxSteps) return undefined;
  if (cfg.maxSteps !== null && cfg.maxSteps < savedStep) {
    throw new ConfigError(`cannot resume: the checkpoint is at step ${savedStep}, past maxSteps ${cfg.maxSteps} (raise maxSteps to continue)`, { file: dir, key: "maxSteps" });
  }
  return `maxSteps ${JSON.stringify(saved.maxSteps)} -> ${JSON.stringify(now.maxSteps)}: the learning-rate schedule now runs to the new length from step ${savedStep} on`;
}

/** Copies a checkpoint's tensors and generator state into the run's parameters, optimizer and dropout source. */
function restoreTensors(ck: CheckpointData & { dir: string }, params: readonly Param[], optimizer: Optimizer, rng: Random): void {
  for (const p of params) {
    const t = ck.weights.get(p.name);
    if (!t || t.shape.join() !== p.variable.shape.join()) throw new TslmError(`checkpoint lacks '${p.name}' with shape [${p.variable.shape}]`, { file: ck.dir, key: p.name });
    tf.tidy(() => p.variable.assign(tf.tensor(t.data, t.shape, "float32")));
  }
  optimizer.loadState(ck.optimizer as Map<string, { data: Float32Array; shape: number[] }>, ck.state.optimizerStep);
  rng.setState(ck.state.random);
}

export interface ResumeInput {
  cfg: TrainConfig;
  outputDir: string;
  params: readonly Param[];
  optimizer: Optimizer;
  /** The run's dropout generator (restored in place). */
  rng: Random;
  fingerprint: string;
  log: (line: string) => void;
}

/**
 * Restores the newest good checkpoint under `outputDir` into the run
 * (parameters, optimizer, dropout generator) and returns where it stood;
 * a fresh start when there is no checkpoint.
 * @throws ConfigError / DataError when the config or data differ from the checkpoint's.
 */
export function resumeFrom(input: ResumeInput): TrainingProgress {
  const { cfg, outputDir, log } = input;
  const ck = latestCheckpoint(outputDir, log);
  if (!ck) {
    log("resume: no checkpoint found; starting from step 0");
    return freshProgress();
  }
  const note = checkResumable(cfg, ck.state.config, ck.state.step, ck.dir);
  if (ck.state.dataFingerprint !== input.fingerprint) throw new DataError("cannot resume: the training data differs from the checkpoint's (token fingerprint mismatch)", { file: ck.dir });
  restoreTensors(ck, input.params, input.optimizer, input.rng);
  log(`resumed from ${ck.dir} (step ${ck.state.step})`);
  if (note) log(`resume: ${note}`);
  return {
    step: ck.state.step,
    position: ck.state.position,
    history: ck.state.history,
    evals: ck.state.evals as unknown as EvalRecord[],
    seconds: ck.state.seconds,
    resumedFrom: ck.state.step,
    lastCheckpoint: ck.dir,
  };
}
