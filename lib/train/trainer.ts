/**
 * Supervised fine-tuning: the training loop that reads top to bottom.
 *
 * load model and data -> quantize / attach LoRA -> (resume) -> for each
 * optimizer step: gather micro-batches, accumulate gradients, guard against
 * NaN/Inf, clip, update with the scheduled learning rate -> evaluate and
 * checkpoint on schedule -> save the PEFT adapter and exports.
 *
 * Exact resume: the data order is a function of (seed, epoch), the dropout
 * seeds come from a Random whose state is checkpointed, and weights and
 * optimizer moments are stored in float32 exactly, so a resumed run repeats
 * the uninterrupted run's steps bit for bit on the same backend.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs-core";
import { writeTextAtomic } from "../util/atomic.js";
import { loadModel } from "../model/io.js";
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
import { ConfigError, DataError, NumericError, TslmError } from "../util/errors.js";
import { Random } from "../util/random.js";
import { TrainConfigSchema, TRAJECTORY_KEYS, type TrainConfig, type TrainConfigInput } from "./config.js";
import { Optimizer } from "./optimizer.js";
import { clipByGlobalNorm } from "./optimizer.js";
import { learningRate } from "./schedule.js";
import { prepareModel, type PreparedModel } from "./setup.js";
import { windowGradients } from "./step.js";
import { evaluate, type EvalResult } from "./evaluate.js";
import { CHECKPOINT_FORMAT, latestCheckpoint, writeCheckpoint, type CheckpointHooks, type StepRecord, type TrainerState } from "./checkpoint.js";
import { trainingDisplay, type TrainingDisplay } from "./display.js";
import { exportRun, type ExportResult } from "./export.js";

/** An evaluation during training. */
export interface EvalRecord extends Omit<EvalResult, "predictions"> {
  step: number;
  epoch: number;
}

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

/** Hash of the training samples, so a resume can refuse different data. */
export function dataFingerprint(ds: LoadedDataset): string {
  const h = createHash("sha256");
  for (const s of ds.train) h.update(Int32Array.from(s.inputIds)).update(Int32Array.from(s.labels)).update("|");
  return h.digest("hex").slice(0, 16);
}

function trajectory(cfg: TrainConfig): Record<string, unknown> {
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

/** Steps per epoch and in total, and the warmup length. */
export function planSteps(cfg: TrainConfig, trainSamples: number): { microPerEpoch: number; stepsPerEpoch: number; totalSteps: number; warmupSteps: number } {
  const microPerEpoch = batchesPerEpoch(trainSamples, cfg.batchSize);
  const stepsPerEpoch = Math.max(1, microPerEpoch / cfg.gradAccumulation);
  const totalSteps = cfg.maxSteps ?? Math.max(1, Math.ceil(cfg.epochs * stepsPerEpoch));
  const warmupSteps = cfg.warmupSteps > 0 ? cfg.warmupSteps : Math.round(cfg.warmupEpochs * stepsPerEpoch);
  return { microPerEpoch, stepsPerEpoch, totalSteps, warmupSteps };
}

/**
 * Fine-tunes a model (LoRA, QLoRA or full) and returns the run.
 * @example const run = await finetune({ config: { model: "models/tslm-tiny", output: "runs/a", data: { trainFile: "train.jsonl" } } });
 */
export async function finetune(options: FinetuneOptions = {}, deps: TrainerDeps = {}): Promise<FinetuneRun> {
  const cfg = resolveConfig(TrainConfigSchema, options.config ?? {});
  const log = deps.log ?? (() => {});
  await init({ backend: cfg.backend });
  await ensureGradients();
  if (!options.model && !cfg.model) throw new ConfigError("no model: set 'model' to a model folder or pass a loaded model", { key: "model" });
  const model = options.model ?? (await loadModel(cfg.model!));
  const tokenizer = options.tokenizer ?? model.tokenizer;
  if (!tokenizer && !options.dataset) throw new ConfigError("the model has no tokenizer; pass one", { key: "model" });
  const dataset =
    options.dataset ??
    (await loadDataset(cfg.data, textTokenizer(tokenizer!), { seed: cfg.seed, records: options.records, validationRecords: options.validationRecords }));
  for (const s of dataset.report.skipped) log(`skipped bad row: ${s.reason}`);
  const padId = tokenizer?.padTokenId ?? 0;
  const outputDir = cfg.output;
  if (outputDir) mkdirSync(outputDir, { recursive: true });

  const prepared = prepareModel(model, cfg);
  const { lora, params } = prepared;
  if (prepared.unquantizedLayers.length) log(`left in float32 (input width not a multiple of 64): ${prepared.unquantizedLayers.join(", ")}`);
  const optimizer = new Optimizer(params, { name: cfg.optimizer, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, momentum: cfg.momentum, nesterov: cfg.nesterov });
  const plan = planSteps(cfg, dataset.train.length);
  const rng = new Random(cfg.seed).fork("dropout");
  const fingerprint = dataFingerprint(dataset);
  let step = 0;
  let position: DataPosition = { epoch: 0, batch: 0 };
  let history: StepRecord[] = [];
  let evals: EvalRecord[] = [];
  let seconds = 0;
  let resumedFrom: number | null = null;
  let lastCheckpoint: string | null = null;

  if (cfg.resume) {
    if (!outputDir) throw new ConfigError("resume needs 'output' (where the checkpoints are)", { key: "resume" });
    const ck = latestCheckpoint(outputDir, log);
    if (!ck) log("resume: no checkpoint found; starting from step 0");
    else {
      const diff = diffKeys(trajectory(cfg), ck.state.config);
      if (diff.length) throw new ConfigError(`cannot resume: the config differs from the checkpoint's in ${diff.join("; ")}`, { file: ck.dir });
      if (ck.state.dataFingerprint !== fingerprint) throw new DataError("cannot resume: the training data differs from the checkpoint's (token fingerprint mismatch)", { file: ck.dir });
      for (const p of params) {
        const t = ck.weights.get(p.name);
        if (!t || t.shape.join() !== p.variable.shape.join()) throw new TslmError(`checkpoint lacks '${p.name}' with shape [${p.variable.shape}]`, { file: ck.dir, key: p.name });
        tf.tidy(() => p.variable.assign(tf.tensor(t.data, t.shape, "float32")));
      }
      optimizer.loadState(ck.optimizer as Map<string, { data: Float32Array; shape: number[] }>, ck.state.optimizerStep);
      rng.setState(ck.state.random);
      step = ck.state.step;
      position = ck.state.position;
      history = ck.state.history;
      evals = ck.state.evals as unknown as EvalRecord[];
      seconds = ck.state.seconds;
      resumedFrom = step;
      lastCheckpoint = ck.dir;
      log(`resumed from ${ck.dir} (step ${step})`);
    }
  }

  const metricsFile = outputDir ? join(outputDir, "metrics.jsonl") : null;
  if (metricsFile) {
    const lines = [...history.map((r) => ({ type: "train", ...r })), ...evals.map((e) => ({ type: "eval", ...e }))];
    writeTextAtomic(metricsFile, lines.map((l) => JSON.stringify(l) + "\n").join(""));
  }
  const record = (obj: Record<string, unknown>) => metricsFile && appendFileSync(metricsFile, JSON.stringify(obj) + "\n");

  const display: TrainingDisplay = trainingDisplay(plan.totalSteps, deps.progress ?? "auto");
  display.restore(history, evals);
  const evalEvery = cfg.evalSteps ?? Math.max(1, Math.round(cfg.evalEpochs * plan.stepsPerEpoch));
  const checkpointEvery = cfg.checkpointEvery > 0 ? cfg.checkpointEvery : evalEvery;
  let predictions: EvalResult["predictions"] = [];
  const epochAt = (pos: DataPosition) => pos.epoch + pos.batch / Math.max(1, plan.microPerEpoch);

  const runEval = async (): Promise<void> => {
    if (dataset.validation.length === 0) return;
    if (lora) lora.context.training = false;
    display.status("evaluating");
    const r = await evaluate(model, tokenizer, dataset.validation, {
      batchSize: cfg.evalBatchSize ?? cfg.batchSize,
      maxSamples: cfg.evalMaxSamples,
      generate: cfg.evalGenerate && tokenizer !== null,
      maxNewTokens: cfg.maxNewTokens,
      padId,
    });
    predictions = r.predictions;
    const { predictions: _p, ...rest } = r;
    const rec: EvalRecord = { step, epoch: epochAt(position), ...rest };
    evals.push(rec);
    record({ type: "eval", ...rec });
    display.eval(rec);
    log(`eval @ step ${step}: loss ${rest.loss.toFixed(4)}, perplexity ${rest.perplexity.toFixed(3)}` + (rest.exactMatch !== null ? `, exact match ${(100 * rest.exactMatch).toFixed(1)}%, BLEU ${rest.bleu!.toFixed(1)}` : ""));
  };

  const saveCheckpoint = (): void => {
    if (!outputDir) return;
    display.status("saving checkpoint");
    const state: TrainerState = {
      format: CHECKPOINT_FORMAT, step, position, optimizerStep: optimizer.step, random: rng.state(), config: trajectory(cfg),
      dataFingerprint: fingerprint, history, evals: evals as unknown as Record<string, unknown>[], seconds,
    };
    const host = (t: tf.Tensor) => ({ shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) });
    const weights = new Map(params.map((p) => [p.name, host(p.variable)]));
    if (cfg.nanGuard) {
      const bad = [...weights].find(([, t]) => !t.data.every(Number.isFinite));
      if (bad) {
        throw new NumericError(
          `weight '${bad[0]}' is not finite after step ${step}; no checkpoint was written for it. ` +
            (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}.` : "No checkpoint was written yet.") +
            " Try a lower learning rate or gradient clipping (gradClip).",
          { key: bad[0] },
        );
      }
    }
    const opt = new Map(Object.entries(optimizer.stateTensors()).map(([k, t]) => [k, host(t)]));
    const extra = lora ? (dir: string) => saveAdapter(join(dir, "adapter"), lora, { baseModelNameOrPath: cfg.model }).map((f) => f.slice(dir.length + 1)) : undefined;
    lastCheckpoint = writeCheckpoint(outputDir, { state, weights, optimizer: opt, extra }, cfg.keepCheckpoints, deps.hooks);
  };

  if (cfg.evaluateBeforeTraining && step === 0 && evals.length === 0) await runEval();

  let status: FinetuneRun["status"] = "completed";
  let runTokens = 0;
  const secondsBefore = seconds;
  const t0 = performance.now();
  try {
    while (step < plan.totalSteps) {
      // Let signal handlers and abort listeners run between steps (Ctrl-C).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (deps.signal?.aborted) {
        status = "stopped";
        break;
      }
      // Gather this step's micro-batches.
      const batches: Batch[] = [];
      for (let k = 0; k < cfg.gradAccumulation; k++) {
        const idx = batchIndices(dataset.train.length, cfg.batchSize, cfg.seed, position);
        batches.push(collate(idx.map((i) => dataset.train[i]), padId));
        position = nextPosition(position, plan.microPerEpoch);
      }
      if (lora) lora.context.training = true;
      const win = windowGradients(model, params, batches, cfg.loss, () => {
        if (lora) lora.context.dropoutSeed = rng.nextUint32();
      });
      let grads = win.grads;
      const clipped = clipByGlobalNorm(grads, cfg.gradClip);
      grads = clipped.grads;
      if (cfg.nanGuard && (!Number.isFinite(win.loss) || !Number.isFinite(clipped.norm))) {
        tf.dispose([...grads.values()]);
        const what = !Number.isFinite(win.loss) ? `the loss is ${win.loss}` : `the gradient norm is ${clipped.norm}`;
        throw new NumericError(
          `${what} at step ${step + 1} (epoch ${epochAt(position).toFixed(2)}); training stopped before applying this update. ` +
            (lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}.` : "No checkpoint was written yet.") +
            " Try a lower learning rate or gradient clipping (gradClip).",
        );
      }
      const lr = learningRate(step, { schedule: cfg.schedule, lr: cfg.lr, warmupSteps: plan.warmupSteps, totalSteps: plan.totalSteps, minLrRatio: cfg.minLrRatio });
      optimizer.apply(grads, lr);
      tf.dispose([...grads.values()]);
      step++;
      for (const b of batches) for (let i = 0; i < b.attentionMask.length; i++) runTokens += b.attentionMask[i];
      const rec: StepRecord = { step, epoch: epochAt(position), loss: win.loss, lr, gradNorm: clipped.norm, tokens: win.tokens };
      history.push(rec);
      record({ type: "train", ...rec });
      display.step(rec);
      deps.hooks?.afterStep?.(rec);
      const last = step === plan.totalSteps;
      if (step % evalEvery === 0 || last) await runEval();
      if (step % checkpointEvery === 0 || last || deps.signal?.aborted) {
        seconds = secondsBefore + (performance.now() - t0) / 1000;
        saveCheckpoint();
      }
      display.status(undefined);
    }
  } catch (e) {
    display.fail(e);
    optimizer.dispose();
    throw e;
  }
  optimizer.dispose();
  const runSeconds = (performance.now() - t0) / 1000;
  if (lora) lora.context.training = false;
  const exports = outputDir ? await exportRun({ outputDir, cfg, model, lora, tokenizer }, log) : {};
  await display.done();
  return {
    config: cfg,
    model,
    lora,
    tokenizer,
    dataset,
    history,
    evals,
    predictions,
    steps: step,
    totalSteps: plan.totalSteps,
    resumedFrom,
    status,
    outputDir,
    exports,
    prepared: { quantizedLayers: prepared.quantizedLayers, unquantizedLayers: prepared.unquantizedLayers, memory: prepared.memory },
    throughput: { tokens: runTokens, seconds: runSeconds, tokensPerSecond: runSeconds > 0 ? runTokens / runSeconds : 0 },
  };
}
