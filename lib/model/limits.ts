/**
 * Limits checked before any work starts: the model's context window (prompt
 * + new tokens) and values too large to mean anything (a token budget past
 * the context, a LoRA rank larger than the layer it adapts). Each check
 * throws an error naming the value, the limit and what to do instead, so a
 * user learns in one line what would otherwise surface minutes later as an
 * allocation failure (`memory access out of bounds`, a byte range outside
 * the heap) or as text generated past the positions the model was trained on.
 */
import type { LlamaConfig } from "../formats/hf-config.js";
import { ConfigError, TslmError } from "../util/errors.js";
import { isTargetModule, type LoraConfig } from "./lora-model.js";
import { linearSpecs } from "./weights.js";

/**
 * What to cut when prompt + new tokens would pass the context:
 * - `"none"` (default): nothing; the prompt is refused with a `ContextLengthError`.
 * - `"left"`: the oldest prompt tokens (a leading BOS stays), so that the
 *   prompt and `maxNewTokens` fit; Hugging Face tokenizers' `truncation_side="left"`.
 * - `"answer"`: the answer stops when the context is full (finish reason
 *   "length"), so `maxNewTokens` is a cap rather than a request; the prompt
 *   must still leave room for one token. For evaluation loops whose answer
 *   budget is a cap.
 */
export type Truncate = "none" | "left" | "answer";
export const TRUNCATE_MODES: readonly Truncate[] = ["none", "left", "answer"];

/** New tokens when the caller gives no `maxNewTokens` (capped by the room the prompt leaves). */
export const DEFAULT_MAX_NEW_TOKENS = 128;

/**
 * Positions the model attends over, prompt and answer together:
 * `max_position_embeddings` (Llama 3.1's 131072 already includes its llama3
 * rope scaling; linear-scaled checkpoints store the extended length too).
 * Dynamic NTK rope scaling rescales the rotary base for any length
 * (transformers' `_compute_dynamic_ntk_parameters`), so its config sets no
 * limit: Infinity.
 */
export function contextLength(cfg: Pick<LlamaConfig, "maxPositionEmbeddings" | "ropeScaling">): number {
  return cfg.ropeScaling?.type === "dynamic" ? Infinity : cfg.maxPositionEmbeddings;
}

/** Prompt + new tokens do not fit the model's context. */
export class ContextLengthError extends TslmError {
  constructor(
    /** Tokens of the prompt as encoded (before any truncation). */
    readonly promptTokens: number,
    /** New tokens asked for. */
    readonly maxNewTokens: number,
    /** The context the request was checked against. */
    readonly contextLength: number,
    /** Index of the prompt in a batch, named in the message. */
    readonly promptIndex?: number,
  ) {
    const room = contextLength - promptTokens;
    const fix = room > 0
      ? `ask for at most ${room} new tokens, shorten the prompt, or truncate it from the left (truncate: "left")`
      : `shorten the prompt or truncate it from the left (truncate: "left")`;
    super(
      `${promptIndex === undefined ? "the prompt" : `prompt ${promptIndex}`} has ${promptTokens} tokens and ${maxNewTokens} new tokens were asked for: ${promptTokens + maxNewTokens} tokens, ` +
        `more than the model's context of ${contextLength} tokens (max_position_embeddings); ${fix}`,
    );
  }
}

/**
 * Refuses a token budget that no prompt could fit (at least one prompt token
 * takes a position), such as `--max-tokens 1e12`, and one that is not a
 * non-negative integer.
 * @param key the option's name in messages (`maxNewTokens`, `--max-tokens`).
 */
export function checkMaxNewTokens(maxNewTokens: number, context: number, key = "maxNewTokens"): void {
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new ConfigError(`${key} must be a non-negative integer, got ${maxNewTokens}`, { key });
  }
  if (maxNewTokens > context - 1) {
    throw new ConfigError(`${key} ${maxNewTokens} is more than the model's context of ${context} tokens allows (prompt and answer share it: at most ${context - 1} new tokens)`, { key });
  }
}

export interface FitOptions {
  /** New tokens asked for; undefined = DEFAULT_MAX_NEW_TOKENS or what room the prompt leaves, whichever is less. */
  maxNewTokens?: number;
  /** The context to fit (see `contextLength`). */
  context: number;
  /** What to cut when they do not fit (default "none": refuse). */
  truncate?: Truncate;
  /** Token id that `"left"` keeps in front (the tokenizer's BOS) when the prompt starts with it. */
  bos?: number | null;
}

export interface FittedPrompt {
  /** The prompt ids to decode (the last ones of the prompt when truncated). */
  ids: number[];
  /** New tokens to generate at most. */
  maxNewTokens: number;
  /** Prompt tokens dropped by `"left"` (0 when it fitted). */
  droppedTokens: number;
}

/**
 * Fits one prompt and its answer budget into the context: returns them as
 * they are, truncated as `truncate` says, or throws a `ContextLengthError`
 * naming the prompt's tokens, the new tokens and the context.
 * @example fitContext([1, 5, 6, 7], { maxNewTokens: 2, context: 5, truncate: "left", bos: 1 }).ids // [1, 6, 7]
 */
export function fitContext(ids: readonly number[], options: FitOptions): FittedPrompt {
  const { context } = options;
  const truncate = options.truncate ?? "none";
  if (!TRUNCATE_MODES.includes(truncate)) {
    throw new ConfigError(`truncate must be one of ${TRUNCATE_MODES.map((t) => `"${t}"`).join(", ")}, got ${JSON.stringify(truncate)}`, { key: "truncate" });
  }
  const explicit = options.maxNewTokens !== undefined;
  // "answer" caps whatever was asked; no other mode takes a budget past the context.
  if (explicit && truncate !== "answer") checkMaxNewTokens(options.maxNewTokens!, context);
  else if (explicit && (!Number.isSafeInteger(options.maxNewTokens) || options.maxNewTokens! < 0)) checkMaxNewTokens(options.maxNewTokens!, Infinity);
  const asked = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  const room = context - ids.length;
  if (ids.length + asked <= context) return { ids: [...ids], maxNewTokens: asked, droppedTokens: 0 };
  if (truncate === "left") {
    // A default budget gives way to the prompt only as far as the context allows.
    const budget = explicit ? asked : Math.min(asked, context - 1);
    const keep = context - budget; // >= 1: checkMaxNewTokens refused larger budgets
    const keepBos = options.bos !== undefined && options.bos !== null && ids[0] === options.bos && keep >= 2;
    const kept = keepBos ? [ids[0], ...ids.slice(ids.length - (keep - 1))] : ids.slice(ids.length - keep);
    return { ids: kept, maxNewTokens: budget, droppedTokens: ids.length - kept.length };
  }
  // Without an explicit budget the default shrinks to the room left, as a cap would.
  if ((truncate === "answer" || !explicit) && room >= 1) return { ids: [...ids], maxNewTokens: Math.min(asked, room), droppedTokens: 0 };
  throw new ContextLengthError(ids.length, asked, context);
}

/**
 * Refuses LoRA ranks larger than a targeted layer: the update `B A` of a
 * `[out, in]` layer has rank at most min(in, out), so a larger r only adds
 * parameters and memory (`--lora-rank 100000` on a 0.5B model asks for
 * hundreds of GB of adapters and crashed inside the allocator).
 * @param moduleSettings per-module overrides of r (PEFT's rank_pattern), as `LoraModel.addAdapter` takes them.
 * @throws ConfigError naming the first layer, its shape and the largest rank it takes.
 */
export function checkLoraRank(
  cfg: LlamaConfig,
  lora: Pick<LoraConfig, "r" | "targetModules">,
  moduleSettings?: (module: string) => { r?: number },
): void {
  for (const spec of linearSpecs(cfg)) {
    if (!isTargetModule(spec.name, lora.targetModules)) continue;
    const r = moduleSettings?.(spec.name).r ?? lora.r;
    const max = Math.min(spec.inFeatures, spec.outFeatures);
    if (!Number.isInteger(r) || r < 1) throw new ConfigError(`LoRA rank must be a positive integer, got ${r}`, { key: "lora.r" });
    if (r > max) {
      throw new ConfigError(
        `LoRA rank ${r} is larger than layer ${spec.name} [${spec.outFeatures}, ${spec.inFeatures}] (the update of a layer has rank at most ${max}); use r <= ${max}`,
        { key: "lora.r" },
      );
    }
  }
}
