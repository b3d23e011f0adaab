/**
 * Text generation with a KV cache: greedy or sampled decoding, repetition
 * penalty, stop strings and stop tokens, a token limit, seeded sampling, a
 * streaming callback, and chat messages rendered through the model's chat
 * template. Every tensor made per step is disposed, so the tensor count does
 * not grow with the number of generated tokens.
 *
 * `generate` runs the batch decoder (batch-decoder.ts) with one row, so a
 * prompt decoded alone and the same prompt in a `generateBatch` go through
 * the same code.
 */
import { TslmError } from "../util/errors.js";
import { Random } from "../util/random.js";
import type { ChatMessage, ChatTemplateOptions, Tokenizer } from "../tokenizer/tokenizer.js";
import type { CausalLM } from "./causal-lm.js";
import { BatchDecoder, type BatchJob } from "./batch-decoder.js";
import { selectToken, type SamplingOptions } from "./sampling.js";
import { Sequence, eosIds, type FinishReason } from "./sequence.js";
import { checkMaxNewTokens, contextLength, fitContext, type Truncate } from "./limits.js";

export type { FinishReason } from "./sequence.js";

export interface GenerateOptions extends SamplingOptions {
  /**
   * Most tokens to generate. Prompt + maxNewTokens must fit the model's
   * context (see `truncate`); unset = 128, or the room the prompt leaves
   * when that is less.
   */
  maxNewTokens?: number;
  /**
   * When prompt + maxNewTokens pass the context: "none" (default) refuses the
   * prompt with a ContextLengthError naming both counts and the context;
   * "left" drops the oldest prompt tokens (a leading BOS stays); "answer"
   * ends the answer when the context is full (see limits.ts).
   */
  truncate?: Truncate;
  /** Context to check against (default: the model's, `contextLength(model.config)`). */
  contextLength?: number;
  /** Stop when the text contains one of these; the stop string is not returned. */
  stop?: string[];
  /** Extra token ids that end generation (the model's EOS ids always do). */
  stopTokenIds?: number[];
  /** Seed for sampling (default 0); ignored when `random` is given. */
  seed?: number;
  /** Random source for sampling. */
  random?: Random;
  /** Called with each new piece of text as soon as it is final (never part of a stop string). */
  onText?: (delta: string) => void;
  /** Called with each generated token id. */
  onToken?: (id: number) => void;
  /** Use the KV cache (default true); false recomputes the whole sequence each step. */
  useCache?: boolean;
  /** Chat messages: template options (`addGenerationPrompt` defaults to true). */
  chat?: ChatTemplateOptions;
  /** Plain prompts: add the tokenizer's special tokens such as BOS (default true). */
  addSpecialTokens?: boolean;
  /** Stops generation early (finish reason "aborted"). */
  signal?: AbortSignal;
}

export interface GenerateResult {
  text: string;
  /** Generated ids (without the prompt; an EOS that ended generation is not included). */
  tokenIds: number[];
  /** The prompt ids decoded (after truncation). */
  promptTokenIds: number[];
  /** Prompt tokens dropped to fit the context (truncate "left"); 0 otherwise. */
  droppedPromptTokens: number;
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  /** Prompt processing time, decoding time, and the decode rate (generated tokens / decodeMs). */
  timings: { prefillMs: number; decodeMs: number; tokensPerSecond: number };
}

/** A prompt: text, chat messages, or token ids. */
export type Prompt = string | readonly ChatMessage[] | { ids: readonly number[] };

/** Token ids of a prompt: ids as given, text through the tokenizer, messages through its chat template. */
export function promptIds(tokenizer: Tokenizer | null, prompt: Prompt, options: Pick<GenerateOptions, "chat" | "addSpecialTokens"> = {}): number[] {
  if (typeof prompt === "object" && !Array.isArray(prompt) && "ids" in prompt) return [...prompt.ids];
  if (!tokenizer) throw new TslmError("a tokenizer is needed to encode a text prompt (pass { ids } to generate from token ids)");
  if (typeof prompt === "string") return tokenizer.encode(prompt, { addSpecialTokens: options.addSpecialTokens ?? true });
  return tokenizer.encodeChat(prompt as readonly ChatMessage[], { addGenerationPrompt: true, ...options.chat });
}

/** A decoder job as `prepareJob` makes it (typed as a plain BatchJob for callers). */
interface PreparedJob extends BatchJob {
  /** Prompt tokens dropped to fit the context. */
  droppedPromptTokens: number;
}

/**
 * Validates options and prompt and builds the decoder's job: prompt ids
 * (fitted to the context, see `truncate`), the sequence with its end rules,
 * sampling settings and the random source.
 * @throws ContextLengthError when prompt + maxNewTokens pass the context and
 *   nothing may be truncated; ConfigError for a maxNewTokens no prompt fits.
 */
export function prepareJob(model: CausalLM, tokenizer: Tokenizer | null, prompt: Prompt, options: GenerateOptions = {}): BatchJob {
  const context = options.contextLength ?? contextLength(model.config);
  // A budget no prompt fits is refused before a long prompt is encoded.
  if (options.maxNewTokens !== undefined) checkMaxNewTokens(options.maxNewTokens, options.truncate === "answer" ? Infinity : context);
  const encoded = promptIds(tokenizer, prompt, options);
  if (encoded.length === 0) throw new TslmError("the prompt encodes to no tokens; give a non-empty prompt or a tokenizer that adds BOS");
  const V = model.config.vocabSize;
  const bad = encoded.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
  if (bad !== undefined) throw new TslmError(`prompt token id ${bad} is outside the vocabulary (size ${V})`);
  const fit = fitContext(encoded, {
    maxNewTokens: options.maxNewTokens,
    context,
    truncate: options.truncate,
    bos: tokenizer?.bosTokenId ?? model.config.bosTokenId,
  });
  const ids = fit.ids;
  const sequence = new Sequence(ids, {
    eos: eosIds(model.config.eosTokenIds, tokenizer, options.stopTokenIds),
    stops: (options.stop ?? []).filter((s) => s.length > 0),
    maxNewTokens: fit.maxNewTokens,
    tokenizer,
    onText: options.onText,
    onToken: options.onToken,
  });
  const { temperature, topK, topP, repetitionPenalty } = options;
  const job: PreparedJob = {
    ids,
    sequence,
    sampling: { temperature, topK, topP, repetitionPenalty },
    random: options.random ?? new Random(options.seed ?? 0),
    signal: options.signal,
    droppedPromptTokens: fit.droppedTokens,
  };
  return job;
}

/** The result of a finished job. */
export function jobResult(job: BatchJob): GenerateResult {
  const seq = job.sequence;
  seq.flush();
  const prefillMs = job.prefillMs ?? 0;
  const decodeMs = Math.max(0, (job.finishedAt ?? 0) - (job.admittedAt ?? 0) - prefillMs);
  const n = seq.generated.length;
  return {
    text: seq.text,
    tokenIds: [...seq.generated],
    promptTokenIds: [...job.ids],
    droppedPromptTokens: (job as Partial<PreparedJob>).droppedPromptTokens ?? 0,
    finishReason: seq.finishReason ?? "length",
    usage: { promptTokens: job.ids.length, completionTokens: n },
    timings: { prefillMs, decodeMs, tokensPerSecond: decodeMs > 0 ? (n / decodeMs) * 1000 : 0 },
  };
}

/**
 * Generates a continuation of `prompt`.
 * @param tokenizer the model's tokenizer (`model.tokenizer`), or null with `{ ids }` prompts.
 * @example const r = await generate(model, model.tokenizer, "Once upon a time", { maxNewTokens: 20 }); r.text
 */
export async function generate(model: CausalLM, tokenizer: Tokenizer | null, prompt: Prompt, options: GenerateOptions = {}): Promise<GenerateResult> {
  const job = prepareJob(model, tokenizer, prompt, options);
  if (options.useCache === false) await decodeWithoutCache(model, job);
  else {
    const waiting = [job];
    await new BatchDecoder(model, { batchSize: 1 }).run(() => waiting.splice(0), () => undefined);
  }
  return jobResult(job);
}

/** Greedy/sampled decoding that recomputes the whole sequence at every step (the baseline the cache is measured against). */
async function decodeWithoutCache(model: CausalLM, job: BatchJob): Promise<void> {
  const t0 = performance.now();
  job.admittedAt = t0;
  const seq = job.sequence;
  for (let step = 0; !seq.done; step++) {
    if (job.signal?.aborted) {
      seq.finish("aborted");
      break;
    }
    const logits = model.forward([seq.context], { lastOnly: true }); // [1, 1, V]
    let host: Float32Array;
    try {
      host = logits.dataSync() as Float32Array;
    } finally {
      logits.dispose();
    }
    if (step === 0) job.prefillMs = performance.now() - t0;
    seq.push(selectToken(host, seq.context, job.sampling, job.random));
    // Let other work (timers, I/O, abort signals) run between tokens.
    if (step % 16 === 15) await new Promise((r) => setImmediate(r));
  }
  job.prefillMs ??= 0;
  job.finishedAt = performance.now();
}
