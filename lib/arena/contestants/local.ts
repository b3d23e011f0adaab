/**
 * A local tslm model (a Hugging Face model folder + an optional PEFT LoRA
 * adapter) as a contestant. lib/model and lib/tensor are imported lazily, on
 * the first answer, so runs with only remote contestants never load
 * TensorFlow.js; the arena never imports lib/train. The base can be
 * quantized (int8, int4, nf4) before the adapter goes on, with lib/model's
 * `quantizeModel` as the trainer does, so a QLoRA adapter answers on the
 * 4-bit base it was trained on. Prompts in flight are decoded together in
 * batches (lib/model's generation queue), each answer being what the model
 * gives for that prompt alone; one batch runs at a time per model folder
 * (the factory's queue of concurrency 1).
 */
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../util/errors.js";
import { contentHash } from "../store/hash.js";
import type { LocalContestantInput } from "./config.js";
import type { GenerationParams } from "./params.js";
import type { Contestant, ContestantRequest, ContestantAnswer, Scheduler } from "./types.js";
import { runNow, withSystem } from "./types.js";

/** Identity of a folder for the answer cache: file names, sizes and modification times (weights are not re-read). */
export function folderFingerprint(dir: string, key = "model"): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`folder ${dir} does not exist`, { key });
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return [f, s.size, Math.floor(s.mtimeMs)];
    });
  return contentHash(files);
}

type ModelApi = typeof import("../../model/index.js");
type LoadedModel = Awaited<ReturnType<ModelApi["loadModel"]>>;
type ModelGenerateOptions = NonNullable<Parameters<ModelApi["generate"]>[3]>;
type ModelGenerateResult = Awaited<ReturnType<ModelApi["generate"]>>;

/** Prompts decoded together: enough to share per-step overhead, few enough to keep the KV cache small. */
export const LOCAL_BATCH_SIZE = 16;

/**
 * Generation parameters (OpenAI names; `extra.top_k`, `extra.repetition_penalty` too) as lib/model's generate options.
 * `extra.truncate` ("none", "left" or "answer") says what to cut when a prompt and max_tokens pass the model's
 * context; by default such a prompt is refused, which records an error for that prompt alone.
 */
export function modelGenerateOptions(p: GenerationParams, signal?: AbortSignal): ModelGenerateOptions {
  const extra = (p.extra ?? {}) as Record<string, unknown>;
  return {
    maxNewTokens: p.max_tokens,
    temperature: p.temperature,
    topP: p.top_p,
    topK: typeof extra.top_k === "number" ? extra.top_k : undefined,
    repetitionPenalty: typeof extra.repetition_penalty === "number" ? extra.repetition_penalty : undefined,
    // Checked by lib/model (an unknown value is refused there, by name).
    truncate: extra.truncate as ModelGenerateOptions["truncate"],
    stop: p.stop,
    seed: p.seed,
    signal,
  };
}

/** A lib/model generation as a contestant's answer; a stopped generation throws (it is no answer). */
export function modelAnswer(r: ModelGenerateResult, signal?: AbortSignal): ContestantAnswer {
  if (r.finishReason === "aborted") throw signal?.reason ?? new Error("generation was stopped");
  return { text: r.text, tokens: r.usage.completionTokens, latency_ms: Math.round(r.timings.prefillMs + r.timings.decodeMs), attempts: 1 };
}

/** Block size of the 4-bit kinds when the config names none: lib/model's QUANT_BLOCK, which tslm's trainer uses (not imported: lib/model loads lazily). */
export const DEFAULT_BLOCK_SIZE = 64;

/** The base's storage as it enters the contestant's identity: nothing for float32 (so float contestants keep their cache keys), the block size for the 4-bit kinds. */
export function quantizationIdentity(cfg: Pick<LocalContestantInput, "quantization" | "block_size">): { quantization?: string; block_size?: number } {
  const q = cfg.quantization ?? "none";
  if (q === "none") return {};
  return q === "int8" ? { quantization: q } : { quantization: q, block_size: cfg.block_size ?? DEFAULT_BLOCK_SIZE };
}

export interface LocalContestantOptions {
  /** Runs each decoding session (a batch lasting while prompts keep coming); default at once. */
  schedule?: Scheduler;
  /** Where the config sits in the run config, for messages (e.g. `contestants.2`). */
  configKey?: string;
  /**
   * What decides the answers, when the caller knows it better than the
   * folders' fingerprints (file names, sizes, modification times): content
   * hashes, for example. Part of the answer cache key and the run's config hash.
   */
  identity?: unknown;
}

/**
 * @example createLocalContestant({ name: "q", type: "local", model: "models/tslm-tiny", adapter: "out/adapter", quantization: "nf4" })
 */
export function createLocalContestant(cfg: LocalContestantInput, opts: LocalContestantOptions = {}): Contestant {
  const schedule = opts.schedule ?? runNow;
  const at = opts.configKey ? `${opts.configKey}.` : "";
  const quantization = cfg.quantization ?? "none";
  if (cfg.block_size !== undefined && quantization !== "int4" && quantization !== "nf4") {
    throw new ConfigError(`block_size applies to int4 and nf4 quantization, and quantization is '${quantization}'`, { key: `${at}block_size` });
  }
  const blockSize = cfg.block_size ?? DEFAULT_BLOCK_SIZE;
  const identity = opts.identity ?? {
    type: "local",
    model: folderFingerprint(cfg.model, `${at}model`),
    adapter: cfg.adapter ? folderFingerprint(cfg.adapter, `${at}adapter`) : undefined,
    ...quantizationIdentity(cfg),
    system: cfg.system,
  };
  let loaded: Promise<{ model: LoadedModel; queue: ReturnType<ModelApi["createGenerationQueue"]> }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const tensor = await import("../../tensor/index.js");
      await tensor.init();
      const api = await import("../../model/index.js");
      // The frozen base stays as stored (a BF16 checkpoint 16-bit) or is quantized while loading.
      const model = await api.loadModel(cfg.model, quantization === "none" ? { base: "stored" } : { base: quantization, wideEmbeddings: true, blockSize });
      if (!model.tokenizer) {
        model.dispose();
        throw new ConfigError(`model folder ${cfg.model} has no tokenizer.json; a local contestant needs one to read prompts`, { key: `${at}model` });
      }
      if (quantization !== "none") {
        // As the trainer prepares a QLoRA base: every linear layer but the head, before any adapter.
        const q = api.quantizeModel(model, quantization, { blockSize });
        if (q.quantized === 0) {
          model.dispose();
          throw new ConfigError(`quantization '${quantization}'${quantization === "int8" ? "" : ` with block size ${blockSize}`} left every layer of ${cfg.model} in float32${q.skipped.length ? ` (input widths are not multiples of ${blockSize})` : ""}`, { key: `${at}${q.skipped.length ? "block_size" : "quantization"}` });
        }
      }
      // The adapter wraps the model's projections in place; generation goes through the model.
      if (cfg.adapter) api.loadAdapter(cfg.adapter, model);
      // Each decoding session (a batch that lasts while prompts keep coming) takes the model's queue slot.
      return { model, queue: api.createGenerationQueue(model, model.tokenizer, { batchSize: LOCAL_BATCH_SIZE, schedule }) };
    })());
  return {
    name: cfg.name,
    type: "local",
    identity,
    cacheable: true,
    params: cfg.params,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      const { queue } = await load();
      const messages = withSystem(req.messages, cfg.system);
      const chat = messages.map((m) => ({ role: m.role, content: m.content }));
      return modelAnswer(await queue.generate(chat, modelGenerateOptions(req.params, req.signal)), req.signal);
    },
    async close() {
      if (loaded) (await loaded.catch(() => undefined))?.model.dispose();
    },
  };
}
