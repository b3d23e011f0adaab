/**
 * Resumable training checkpoints, written so that a crash at any moment
 * leaves the last good checkpoint intact:
 *
 * 1. every file goes into a fresh `checkpoints/.tmp-step-N-<pid>-<n>/`
 *    folder and is fsynced;
 * 2. `trainer_state.json` is written last, with the size and SHA-256 of
 *    every other file;
 * 3. the folder is fsynced and renamed to `checkpoints/step-N` (atomic on
 *    POSIX), then `checkpoints/latest.json` is replaced atomically;
 * 4. only then are checkpoints beyond `keep` deleted, oldest first.
 *
 * A folder named `step-N` is therefore always complete; `.tmp-*` folders are
 * leftovers of interrupted writes and are removed on resume. Loading checks
 * the manifest, so a damaged checkpoint is skipped for an older good one.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { syncDir, writeJsonAtomic } from "../util/atomic.js";
import { readSafetensors, writeSafetensors, type HostTensor } from "../formats/safetensors.js";
import { FormatError } from "../util/errors.js";
import type { RandomState } from "../util/random.js";
import type { DataPosition } from "../data/batch.js";
import { makeDir, readJsonFile } from "../util/files.js";

export const CHECKPOINTS_DIR = "checkpoints";
export const STATE_FILE = "trainer_state.json";
export const WEIGHTS_FILE = "trainable.safetensors";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const CHECKPOINT_FORMAT = 1;

/** One logged optimizer step. */
export interface StepRecord {
  step: number;
  /** Epochs completed (fractional). */
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Target tokens in this step. */
  tokens: number;
}

/** Everything besides tensors that a resumed run needs. */
export interface TrainerState {
  format: number;
  /** Optimizer steps done. */
  step: number;
  /** The next batch to read. */
  position: DataPosition;
  /** Optimizer's own step counter. */
  optimizerStep: number;
  /** State of the run's random source (dropout seeds). */
  random: RandomState;
  /** Trajectory-relevant config (what a resume must match). */
  config: Record<string, unknown>;
  /** Hash of the training samples' token ids. */
  dataFingerprint: string;
  history: StepRecord[];
  evals: Record<string, unknown>[];
  /** Wall seconds of training so far (for throughput across resumes). */
  seconds: number;
  /** File -> {bytes, sha256} of the other files in the folder. */
  files?: Record<string, { bytes: number; sha256: string }>;
}

/** Fault-injection and observation points (used by crash tests). */
export interface CheckpointHooks {
  /** Called after each file of a checkpoint is written, before the folder is committed. */
  afterFile?: (file: string) => void;
}

export interface CheckpointData {
  state: TrainerState;
  /** Trainable tensors by stable name. */
  weights: Map<string, HostTensor>;
  /** Optimizer state tensors. */
  optimizer: Map<string, HostTensor>;
  /** Extra files to write into the folder (a PEFT adapter copy), by relative path -> writer. */
  extra?: (dir: string) => string[];
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** `step-000042`. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

let tmpCounter = 0;

/**
 * Writes a checkpoint for `data.state.step` under `outputDir/checkpoints`,
 * then prunes to the newest `keep`. Returns the committed folder.
 */
export function writeCheckpoint(outputDir: string, data: CheckpointData, keep: number, hooks: CheckpointHooks = {}): string {
  const root = join(outputDir, CHECKPOINTS_DIR);
  makeDir(root, "checkpoint folder");
  const name = checkpointName(data.state.step);
  const tmp = join(root, `.tmp-${name}-${process.pid}-${tmpCounter++}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const files: string[] = [];
  writeSafetensors(join(tmp, WEIGHTS_FILE), data.weights);
  files.push(WEIGHTS_FILE);
  hooks.afterFile?.(join(tmp, WEIGHTS_FILE));
  writeSafetensors(join(tmp, OPTIMIZER_FILE), data.optimizer);
  files.push(OPTIMIZER_FILE);
  hooks.afterFile?.(join(tmp, OPTIMIZER_FILE));
  for (const f of data.extra?.(tmp) ?? []) {
    files.push(f);
    hooks.afterFile?.(join(tmp, f));
  }
  const manifest: Record<string, { bytes: number; sha256: string }> = {};
  for (const f of files) manifest[f] = { bytes: statSync(join(tmp, f)).size, sha256: sha256(join(tmp, f)) };
  writeJsonAtomic(join(tmp, STATE_FILE), { ...data.state, files: manifest });
  hooks.afterFile?.(join(tmp, STATE_FILE));
  syncDir(tmp);
  const final = join(root, name);
  // A folder of the same step can only come from an earlier run that died before
  // updating latest.json; it is complete and equivalent, so it may be replaced.
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  syncDir(root);
  writeJsonAtomic(join(root, "latest.json"), { checkpoint: name, step: data.state.step });
  pruneCheckpoints(root, keep);
  return final;
}

/** Complete checkpoint folders (`step-N`), newest first. */
export function listCheckpoints(root: string): { name: string; step: number; dir: string }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], step: Number(m[1]), dir: join(root, m[0]) }))
    .sort((a, b) => b.step - a.step);
}

function pruneCheckpoints(root: string, keep: number): void {
  for (const c of listCheckpoints(root).slice(keep)) rmSync(c.dir, { recursive: true, force: true });
}

/** Reads and verifies one checkpoint folder. @throws FormatError when it is damaged. */
export function readCheckpointDir(dir: string): CheckpointData & { dir: string } {
  const stateFile = join(dir, STATE_FILE);
  if (!existsSync(stateFile)) throw new FormatError("checkpoint has no trainer_state.json", { file: dir });
  const state = readJsonFile(stateFile) as TrainerState;
  if (state.format !== CHECKPOINT_FORMAT) throw new FormatError(`checkpoint format ${state.format}, expected ${CHECKPOINT_FORMAT}`, { file: stateFile, key: "format" });
  for (const [f, want] of Object.entries(state.files ?? {})) {
    const p = join(dir, f);
    if (!existsSync(p)) throw new FormatError(`checkpoint file '${f}' is missing`, { file: dir });
    const bytes = statSync(p).size;
    if (bytes !== want.bytes || sha256(p) !== want.sha256) throw new FormatError(`checkpoint file '${f}' does not match its recorded size/hash`, { file: p });
  }
  const weights = readSafetensors(join(dir, WEIGHTS_FILE)).tensors;
  const optimizer = readSafetensors(join(dir, OPTIMIZER_FILE)).tensors;
  return { dir, state, weights, optimizer };
}

/**
 * The newest checkpoint that verifies, after removing leftovers of
 * interrupted writes. Damaged ones are reported through `warn` and skipped.
 */
export function latestCheckpoint(outputDir: string, warn: (msg: string) => void = () => {}): (CheckpointData & { dir: string }) | undefined {
  const root = join(outputDir, CHECKPOINTS_DIR);
  if (!existsSync(root)) return undefined;
  for (const n of readdirSync(root)) {
    if (n.startsWith(".tmp-")) {
      warn(`removing an incomplete checkpoint left by an interrupted write: ${join(root, n)}`);
      rmSync(join(root, n), { recursive: true, force: true });
    }
  }
  for (const c of listCheckpoints(root)) {
    try {
      return readCheckpointDir(c.dir);
    } catch (e) {
      warn(`skipping damaged checkpoint ${c.dir}: ${(e as Error).message}`);
    }
  }
  return undefined;
}
