/**
 * Supervised fine-tuning: the training loop that reads top to bottom.
 *
 * load model and data -> quantize / attach LoRA -> (resume) -> for each
 * optimizer step: gather micro-batches, accumulate gradients, guard against
 * NaN/Inf, clip, update with the scheduled learning rate -> evaluate and
 * checkpoint on schedule -> save the PEFT adapter and exports.
 *
 * Exact resume (lib/train/resume.ts): the data order is a function of
 * (seed, epoch), the dropout seeds come from a Random whose state is
 * checkpointed, and weights and optimizer moments are stored in float32
 * exactly, so a resumed run repeats the uninterrupted run's steps bit for
 * bit on the same backend.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { loadModel, readModelConfig } from "../model/io.js";
import { ensureGradients } from "../model/gradients.js";
import type { CausalLM } from "../model/causal-lm.js";
import type { LoraModel } from "../model/lora-model.js";
import { saveAdapter } from "../model/peft.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { init } from "../tensor/init.js";
import { loadDataset, type LoadedDataset } from "../data/dataset.js";
import { textTokenizer } from "../data/tokenizer-adapter.js";
import { batchIndices, batchesPerEpoch, collate, nextPosition, type Batch, type DataPosition } from "../data/batch.js";
import { resolveConfig } from "../util/config.js";
import { ConfigError, NumericError } from "../util/errors.js";
import { makeDir } from "../util/files.js";
import { Random } from "../util/random.js";
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from "./config.js";
import { Optimizer, clipByGlobalNorm } from "./optimizer.js";
import { learningRate } from "./schedule.js";
import { baseStorage, prepareModel, type PreparedModel } from "./setup.js";
import { windowGradients } from "./step.js";
import { evaluate, type EvalResult } from "./evaluate.js";
import { CHECKPOINT_FORMAT, writeCheckpoint, type CheckpointHooks, type StepRecord, type TrainerState } from "./checkpoint.js";
import { trainingDisplay, type TrainingDisplay } from "./display.js";
import { exportRun, type ExportResult } from "./export.js";
import { dataFingerprint, freshProgress, resumeFrom, trajectory, type EvalRecord, type TrainingProgress } from "./resume.js";
import { openTrainingLog, type TrainingLog } from "./training-log.js";
import { checkLoraRank } from "../model/limits.js";

export { dataFingerprint, type EvalRecord };

export interface FinetuneOptions {
  /** The configuration (validated; unknown keys are refused). */
  config?: TrainConfigInput | TrainConfig;
  /** A loaded model; otherwise `config.model` is loaded. It is modified in place (quantized, LoRA attached). */
  model?: CausalLM;
  /** Defaults to the model's tokenizer. */
  tokenizer?: Tokenizer;
  /** Training records instead of `config.data.trainFile`. */
  records?: readonly Record<string, unknown>[];
  /** Validation records instead of `config.data.validationFile`. */
  validationRecords?: readonly Record<string, unknown>[];
  /** An already loaded dataset (skips loading). */
  dataset?: LoadedDataset;
}

export interface TrainerDeps {
  /** Human-readable log lines (default: none). */
  log?: (line: string) => void;
  /** Progress display mode (default "auto": notebook, terminal bar or silent). */
  progress?: "auto" | "notebook" | "bar" | "lines" | "off";
  /** Checkpoint fault-injection points, and a per-step observer. */
  hooks?: CheckpointHooks & { afterStep?: (rec: StepRecord) => void };
  /** Aborting stops after the current step with a checkpoint. */
  signal?: AbortSignal;
}

export interface FinetuneRun {
  config: TrainConfig;
  model: CausalLM;
  lora?: LoraModel;
  tokenizer: Tokenizer | null;
  dataset: LoadedDataset;
  history: StepRecord[];
  evals: EvalRecord[];
  /** Predictions of the last evaluation. */
  predictions: EvalResult["predictions"];
  steps: number;
  totalSteps: number;
  resumedFrom: number | null;
  status: "completed" | "stopped";
  outputDir: string | null;
  exports: ExportResult;
  prepared: Omit<PreparedModel, "model" | "lora" | "params">;
  /** Input tokens (padding excluded) processed per second of training. */
  throughput: { tokens: number; seconds: number; tokensPerSecond: number };
}

/** Steps per epoch and in total, and the warmup length. */
export function planSteps(cfg: TrainConfig, trainSamples: number): { microPerEpoch: number; stepsPerEpoch: number; totalSteps: number; warmupSteps: number } {
  const microPerEpoch = batchesPerEpoch(trainSamples, cfg.batchSize);
  const stepsPerEpoch = Math.max(1, microPerEpoch / cfg.gradAccumulation);
  const totalSteps = cfg.maxSteps ?? Math.max(1, Math.ceil(cfg.epochs * stepsPerEpoch));
  const warmupSteps = cfg.warmupSteps > 0 ? cfg.warmupSteps : Math.round(cfg.warmupEpochs * stepsPerEpoch);
  return { microPerEpoch, stepsPerEpoch, totalSteps, warmupSteps };
}

/** What one run works with, set up once before its first step. */
interface Run {
  cfg: TrainConfig;
  deps: TrainerDeps;
  log: (line: string) => void;
  model: CausalLM;
  tokenizer: Tokenizer | null;
  dataset: LoadedDataset;
  padId: number;
  outputDir: string | null;
  prepared: PreparedModel;
  optimizer: Optimizer;
  plan: ReturnType<typeof planSteps>;
  /** Dropout seeds (checkpointed). */
  rng: Random;
  fingerprint: string;
  display: TrainingDisplay;
  trainingLog: TrainingLog;
  evalEvery: number;
  checkpointEvery: number;
  /** Predictions of the latest evaluation. */
  predictions: EvalResult["predictions"];
}

/** Loads the model and data, quantizes / attaches LoRA, and makes the optimizer (everything but the progress). */
async function setUp(options: FinetuneOptions, deps: TrainerDeps): Promise<Omit<Run, "display" | "trainingLog" | "evalEvery" | "checkpointEvery" | "predictions">> {
  const cfg = resolveConfig(TrainConfigSchema, options.config ?? {});
  const log = deps.log ?? (() => {});
  await init({ backend: cfg.backend });
  await ensureGradients();
  if (!options.model && !cfg.model) throw new ConfigError("no model: set 'model' to a model folder or pass a loaded model", { key: "model" });
  // The output folder first: a path that cannot hold it fails before minutes of loading.
  if (cfg.output) makeDir(cfg.output, "output folder");
  if (!options.model && cfg.method === "lora") checkLoraRank(readModelConfig(cfg.model!), cfg.lora); // before minutes of loading
  const model = options.model ?? (await loadModel(cfg.model!, baseStorage(cfg)));
  const tokenizer = options.tokenizer ?? model.tokenizer;
  if (!tokenizer && !options.dataset) throw new ConfigError("the model has no tokenizer; pass one", { key: "model" });
  const dataset =
    options.dataset ??
    (await loadDataset(cfg.data, textTokenizer(tokenizer!), { seed: cfg.seed, records: options.records, validationRecords: options.validationRecords }));
  for (const s of dataset.report.skipped) log(`skipped bad row: ${s.reason}`);
  const prepared = prepareModel(model, cfg);
  if (prepared.unquantizedLayers.length) log(`left in float32 (input width not a multiple of 64): ${prepared.unquantizedLayers.join(", ")}`);
  const optimizer = new Optimizer(prepared.params, { name: cfg.optimizer, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, momentum: cfg.momentum, nesterov: cfg.nesterov });
  return {
    cfg, deps, log, model, tokenizer: tokenizer ?? null, dataset, padId: tokenizer?.padTokenId ?? 0, outputDir: cfg.output, prepared, optimizer,
    plan: planSteps(cfg, dataset.train.length), rng: new Random(cfg.seed).fork("dropout"), fingerprint: dataFingerprint(dataset),
  };
}

/** Fractional epochs done at a data position. */
function epochAt(run: Run, pos: DataPosition): number {
  return pos.epoch + pos.batch / Math.max(1, run.plan.microPerEpoch);
}

/** Evaluates on the validation samples (if any) and records the result. */
async function evaluateNow(run: Run, p: TrainingProgress): Promise<void> {
  if (run.dataset.validation.length === 0) return;
  const { cfg, prepared, display } = run;
  if (prepared.lora) prepared.lora.context.training = false;
  display.status("evaluating");
  const r = await evaluate(run.model, run.tokenizer, run.dataset.validation, {
    batchSize: cfg.evalBatchSize ?? cfg.batchSize,
    maxSamples: cfg.evalMaxSamples,
    generate: cfg.evalGenerate && run.tokenizer !== null,
    maxNewTokens: cfg.maxNewTokens,
    padId: run.padId,
  });
  const { predictions, ...rest } = r;
  run.predictions = predictions;
  const rec: EvalRecord = { step: p.step, epoch: epochAt(run, p.position), ...rest };
  p.evals.push(rec);
  run.trainingLog.eval(rec);
  display.eval(rec);
  run.log(`eval @ step ${p.step}: loss ${rest.loss.toFixed(4)}, perplexity ${rest.perplexity.toFixed(3)}` + (rest.exactMatch !== null ? `, exact match ${(100 * rest.exactMatch).toFixed(1)}%, BLEU ${rest.bleu!.toFixed(1)}` : ""));
}

/** The advice a numeric failure ends with. */
function numericAdvice(p: TrainingProgress): string {
  return (p.lastCheckpoint ? `The last good checkpoint is ${p.lastCheckpoint}.` : "No checkpoint was written yet.") + " Try a lower learning rate or gradient clipping (gradClip).";
}

/** Writes a checkpoint of the run as it stands (refusing non-finite weights when nanGuard is on). */
function saveCheckpoint(run: Run, p: TrainingProgress): void {
  if (!run.outputDir) return;
  const { cfg, prepared, optimizer } = run;
  run.display.status("saving checkpoint");
  const state: TrainerState = {
    format: CHECKPOINT_FORMAT, step: p.step, position: p.position, optimizerStep: optimizer.step, random: run.rng.state(), config: trajectory(cfg),
    dataFingerprint: run.fingerprint, history: p.history, evals: p.evals as unknown as Record<string, unknown>[], seconds: p.seconds,
  };
  const host = (t: tf.Tensor) => ({ shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) });
  const weights = new Map(prepared.params.map((x) => [x.name, host(x.variable)]));
  if (cfg.nanGuard) {
    const bad = [...weights].find(([, t]) => !t.data.every(Number.isFinite));
    if (bad) throw new NumericError(`weight '${bad[0]}' is not finite after step ${p.step}; no checkpoint was written for it. ${numericAdvice(p)}`, { key: bad[0] });
  }
  const opt = new Map(Object.entries(optimizer.stateTensors()).map(([k, t]) => [k, host(t)]));
  const lora = prepared.lora;
  const extra = lora ? (dir: string) => saveAdapter(join(dir, "adapter"), lora, { baseModelNameOrPath: cfg.model }).map((f) => f.slice(dir.length + 1)) : undefined;
  p.lastCheckpoint = writeCheckpoint(run.outputDir, { state, weights, optimizer: opt, extra }, cfg.keepCheckpoints, run.deps.hooks);
}

/**
 * One optimizer step: this step's micro-batches, their accumulated
 * gradient, the NaN guard, clipping and the update.
 * @returns the step's record and the input tokens it read (padding excluded).
 */
function optimizerStep(run: Run, p: TrainingProgress): { rec: StepRecord; inputTokens: number } {
  const { cfg, dataset, prepared, plan } = run;
  const batches: Batch[] = [];
  for (let k = 0; k < cfg.gradAccumulation; k++) {
    const idx = batchIndices(dataset.train.length, cfg.batchSize, cfg.seed, p.position);
    batches.push(collate(idx.map((i) => dataset.train[i]), run.padId));
    p.position = nextPosition(p.position, plan.microPerEpoch);
  }
  const lora = prepared.lora;
  if (lora) lora.context.training = true;
  const win = windowGradients(run.model, prepared.params, batches, cfg.loss, () => {
    if (lora) lora.context.dropoutSeed = run.rng.nextUint32();
  });
  const clipped = clipByGlobalNorm(win.grads, cfg.gradClip);
  if (cfg.nanGuard && (!Number.isFinite(win.loss) || !Number.isFinite(clipped.norm))) {
    tf.dispose([...clipped.grads.values()]);
    const what = !Number.isFinite(win.loss) ? `the loss is ${win.loss}` : `the gradient norm is ${clipped.norm}`;
    throw new NumericError(`${what} at step ${p.step + 1} (epoch ${epochAt(run, p.position).toFixed(2)}); training stopped before applying this update. ${numericAdvice(p)}`);
  }
  const lr = learningRate(p.step, { schedule: cfg.schedule, lr: cfg.lr, warmupSteps: plan.warmupSteps, totalSteps: plan.totalSteps, minLrRatio: cfg.minLrRatio });
  run.optimizer.apply(clipped.grads, lr);
  tf.dispose([...clipped.grads.values()]);
  p.step++;
  let inputTokens = 0;
  for (const b of batches) for (let i = 0; i < b.attentionMask.length; i++) inputTokens += b.attentionMask[i];
  return { rec: { step: p.step, epoch: epochAt(run, p.position), loss: win.loss, lr, gradNorm: clipped.norm, tokens: win.tokens }, inputTokens };
}

/** Steps until the planned total or an abort, evaluating and checkpointing on schedule. */
async function trainLoop(run: Run, p: TrainingProgress): Promise<{ status: FinetuneRun["status"]; tokens: number; seconds: number }> {
  const { deps, plan } = run;
  let tokens = 0;
  const secondsBefore = p.seconds;
  const t0 = performance.now();
  while (p.step < plan.totalSteps) {
    // Let signal handlers and abort listeners run between steps (Ctrl-C).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (deps.signal?.aborted) return { status: "stopped", tokens, seconds: (performance.now() - t0) / 1000 };
    const { rec, inputTokens } = optimizerStep(run, p);
    tokens += inputTokens;
    p.history.push(rec);
    run.trainingLog.step(rec);
    run.display.step(rec);
    deps.hooks?.afterStep?.(rec);
    const last = p.step === plan.totalSteps;
    if (p.step % run.evalEvery === 0 || last) await evaluateNow(run, p);
    if (p.step % run.checkpointEvery === 0 || last || deps.signal?.aborted) {
      p.seconds = secondsBefore + (performance.now() - t0) / 1000;
      saveCheckpoint(run, p);
    }
    run.display.status(undefined);
  }
  return { status: "completed", tokens, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Fine-tunes a model (LoRA, QLoRA or full) and returns the run.
 * @example const run = await finetune({ config: { model: "models/tslm-tiny", output: "runs/a", data: { trainFile: "train.jsonl" } } });
 */
export async function finetune(options: FinetuneOptions = {}, deps: TrainerDeps = {}): Promise<FinetuneRun> {
  const base = await setUp(options, deps);
  const { cfg, outputDir, prepared, optimizer } = base;
  if (cfg.resume && !outputDir) throw new ConfigError("resume needs 'output' (where the checkpoints are)", { key: "resume" });
  const p = cfg.resume ? resumeFrom({ cfg, outputDir: outputDir!, params: prepared.params, optimizer, rng: base.rng, fingerprint: base.fingerprint, log: base.log }) : freshProgress();
  const evalEvery = cfg.evalSteps ?? Math.max(1, Math.round(cfg.evalEpochs * base.plan.stepsPerEpoch));
  const run: Run = {
    ...base,
    display: trainingDisplay(base.plan.totalSteps, deps.progress ?? "auto"),
    trainingLog: openTrainingLog(outputDir, p.history, p.evals),
    evalEvery,
    checkpointEvery: cfg.checkpointEvery > 0 ? cfg.checkpointEvery : evalEvery,
    predictions: [],
  };
  run.display.restore(p.history, p.evals);
  let result: Awaited<ReturnType<typeof trainLoop>>;
  try {
    if (cfg.evaluateBeforeTraining && p.step === 0 && p.evals.length === 0) await evaluateNow(run, p);
    result = await trainLoop(run, p);
  } catch (e) {
    run.display.fail(e);
    throw e;
  } finally {
    optimizer.dispose();
  }
  const lora = prepared.lora;
  if (lora) lora.context.training = false;
  const exports = outputDir ? await exportRun({ outputDir, cfg, model: run.model, lora, tokenizer: run.tokenizer }, base.log) : {};
  await run.display.done();
  return {
    config: cfg, model: run.model, lora, tokenizer: run.tokenizer, dataset: run.dataset, history: p.history, evals: p.evals, predictions: run.predictions,
    steps: p.step, totalSteps: base.plan.totalSteps, resumedFrom: p.resumedFrom, status: result.status, outputDir, exports,
    prepared: { quantizedLayers: prepared.quantizedLayers, unquantizedLayers: prepared.unquantizedLayers, memory: prepared.memory },
    throughput: { tokens: result.tokens, seconds: result.seconds, tokensPerSecond: result.seconds > 0 ? result.tokens / result.seconds : 0 },
  };
}
