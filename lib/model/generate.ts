/**
 * Text generation with a KV cache: greedy or sampled decoding, repetition
 * penalty, stop strings and stop tokens, a token limit, seeded sampling, a
 * streaming callback, and chat messages rendered through the model's chat
 * template. Every tensor made per step is disposed, so the tensor count does
 * not grow with the number of generated tokens.
 */
import { TslmError } from "../util/errors.js";
import { Random } from "../util/random.js";
import type { ChatMessage, ChatTemplateOptions, Tokenizer } from "../tokenizer/tokenizer.js";
import type { CausalLM } from "./causal-lm.js";
import { selectToken, type SamplingOptions } from "./sampling.js";

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

export type FinishReason = "eos" | "stop" | "length" | "aborted";

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

function promptIds(tokenizer: Tokenizer | null, prompt: Prompt, options: GenerateOptions): number[] {
  if (typeof prompt === "object" && !Array.isArray(prompt) && "ids" in prompt) return [...prompt.ids];
  if (!tokenizer) throw new TslmError("a tokenizer is needed to encode a text prompt (pass { ids } to generate from token ids)");
  if (typeof prompt === "string") return tokenizer.encode(prompt, { addSpecialTokens: options.addSpecialTokens ?? true });
  return tokenizer.encodeChat(prompt as readonly ChatMessage[], { addGenerationPrompt: true, ...options.chat });
}

/** Length of the longest suffix of `text` that begins some stop string. */
function partialStopSuffix(text: string, stops: readonly string[]): number {
  let best = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

/** Next-token logits `[V]` on the host for the last position. */
function lastLogits(model: CausalLM, ids: number[][], cache: ReturnType<CausalLM["createCache"]> | null): Float32Array {
  const logits = model.forward(ids, { cache: cache ?? undefined, lastOnly: true }); // [1, 1, V]
  try {
    return logits.dataSync() as Float32Array;
  } finally {
    logits.dispose();
  }
}

/**
 * Generates a continuation of `prompt`.
 * @param tokenizer the model's tokenizer (`model.tokenizer`), or null with `{ ids }` prompts.
 * @example const r = await generate(model, model.tokenizer, "Once upon a time", { maxNewTokens: 20 }); r.text
 */
export async function generate(model: CausalLM, tokenizer: Tokenizer | null, prompt: Prompt, options: GenerateOptions = {}): Promise<GenerateResult> {
  const maxNew = options.maxNewTokens ?? 128;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new TslmError(`maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const input = promptIds(tokenizer, prompt, options);
  if (input.length === 0) throw new TslmError("the prompt encodes to no tokens; give a non-empty prompt or a tokenizer that adds BOS");
  const V = model.config.vocabSize;
  const bad = input.find((id) => !Number.isInteger(id) || id < 0 || id >= V);
  if (bad !== undefined) throw new TslmError(`prompt token id ${bad} is outside the vocabulary (size ${V})`);
  const random = options.random ?? new Random(options.seed ?? 0);
  const eos = new Set<number>([...model.config.eosTokenIds, ...(options.stopTokenIds ?? [])]);
  const tokEos = tokenizer?.eosTokenId;
  if (tokEos !== null && tokEos !== undefined) eos.add(tokEos);
  const stops = (options.stop ?? []).filter((s) => s.length > 0);
  const useCache = options.useCache ?? true;

  const context = [...input];
  const generated: number[] = [];
  let text = "";
  let emitted = 0;
  let finishReason: FinishReason = "length";
  const cache = useCache ? model.createCache() : null;
  const t0 = performance.now();
  let prefillMs = 0;
  try {
    let logits = maxNew > 0 ? lastLogits(model, [input], cache) : null;
    prefillMs = performance.now() - t0;
    for (let step = 0; step < maxNew && logits; step++) {
      if (options.signal?.aborted) {
        finishReason = "aborted";
        break;
      }
      const id = selectToken(logits, context, options, random);
      if (eos.has(id)) {
        finishReason = "eos";
        break;
      }
      generated.push(id);
      context.push(id);
      options.onToken?.(id);
      if (tokenizer) {
        text = tokenizer.decode(generated, { skipSpecialTokens: false });
        let stopAt = -1;
        for (const s of stops) {
          const at = text.indexOf(s, Math.max(0, emitted - s.length));
          if (at >= 0 && (stopAt < 0 || at < stopAt)) stopAt = at;
        }
        if (stopAt >= 0) {
          text = text.slice(0, stopAt);
          finishReason = "stop";
          break;
        }
        // Hold back an incomplete UTF-8 sequence and anything that may start a stop string.
        let safe = text.length - partialStopSuffix(text, stops);
        while (safe > emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--;
        if (safe > emitted) {
          options.onText?.(text.slice(emitted, safe));
          emitted = safe;
        }
      }
      if (step + 1 < maxNew) logits = useCache ? lastLogits(model, [[id]], cache) : lastLogits(model, [context], null);
      // Let other work (timers, I/O, abort signals) run between tokens.
      if (step % 16 === 15) await new Promise((r) => setImmediate(r));
    }
  } finally {
    cache?.dispose();
  }
  if (options.onText && text.length > emitted) options.onText(text.slice(emitted));
  const decodeMs = performance.now() - t0 - prefillMs;
  return {
    text,
    tokenIds: generated,
    promptTokenIds: input,
    finishReason,
    usage: { promptTokens: input.length, completionTokens: generated.length },
    timings: { prefillMs, decodeMs, tokensPerSecond: decodeMs > 0 ? (generated.length / decodeMs) * 1000 : 0 },
  };
}
