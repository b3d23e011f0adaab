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

export type { FinishReason } from "./sequence.js";

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default 128). */
  maxNewTokens?: number;
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
  promptTokenIds: number[];
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

/**
 * Validates options and prompt and builds the decoder's job: prompt ids, the
 * sequence with its end rules, sampling settings and the random source.
 */
export function prepareJob(model: CausalLM, tokenizer: Tokenizer | null, prompt: Prompt, options: GenerateOptions = {}): BatchJob {
  const maxNew = options.maxNewTokens ?? 128;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new TslmError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const ids = promptIds(tokenizer, prompt, options);
  if (ids.length === 0) throw new TslmError("the prompt encodes to no tokens; give a non-empty prompt or a tokenizer that adds BOS");
  const V = model.config.vocabSize;
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
  if (bad !== undefined) throw new TslmError(`prompt token id ${bad} is outside the vocabulary (size ${V})`);
  const sequence = new Sequence(ids, {
    eos: eosIds(model.config.eosTokenIds, tokenizer, options.stopTokenIds),
    stops: (options.stop ?? []).filter((s) => s.length > 0),
    maxNewTokens: maxNew,
    tokenizer,
    onText: options.onText,
    onToken: options.onToken,
  });
  const { temperature, topK, topP, repetitionPenalty } = options;
  return { ids, sequence, sampling: { temperature, topK, topP, repetitionPenalty }, random: options.random ?? new Random(options.seed ?? 0), signal: options.signal };
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
