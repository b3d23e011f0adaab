/**
 * Batched generation: many prompts decoded together, sharing one KV cache
 * and one forward pass per step (see batch-decoder.ts). Each row keeps its
 * own options (token limit, stop strings, EOS ids, sampling, seed), ends on
 * its own, and gives what `generate` gives for that prompt alone.
 */
import { ConfigError, TslmError } from "../util/errors.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { CausalLM } from "./causal-lm.js";
import { BatchDecoder, type BatchJob } from "./batch-decoder.js";
import { ContextLengthError } from "./limits.js";
import { jobResult, prepareJob, type GenerateOptions, type GenerateResult, type Prompt } from "./generate.js";

/** Options of one row: everything `generate` takes except the cache switch. */
export type RowOptions = Omit<GenerateOptions, "useCache">;

export interface GenerateBatchOptions extends Omit<RowOptions, "random" | "onText" | "onToken" | "signal"> {
  /** Most rows decoded together (default 32); more prompts join as rows end. */
  batchSize?: number;
  /** Per-row options over the shared ones (same length as the prompts); a row's `random` or `seed` makes its sampling its own. */
  rows?: readonly RowOptions[];
  /** Streaming: text of row `index` as it becomes final. */
  onText?: (index: number, delta: string) => void;
  /** Each generated id of row `index`. */
  onToken?: (index: number, id: number) => void;
  /** Called as soon as row `index` has ended, with its result. */
  onResult?: (index: number, result: GenerateResult) => void;
  /** Stops every row (finish reason "aborted"). */
  signal?: AbortSignal;
}

/**
 * Generates a continuation for each prompt, in batches; results are in the
 * prompts' order. Greedy rows equal `generate` on the prompt alone; sampled
 * rows do too given the same seed (each row draws from its own generator).
 * @example const rs = await generateBatch(model, model.tokenizer, ["Once upon", "The cat"], { maxNewTokens: 20 }); rs.map((r) => r.text)
 */
export async function generateBatch(model: CausalLM, tokenizer: Tokenizer | null, prompts: readonly Prompt[], options: GenerateBatchOptions = {}): Promise<GenerateResult[]> {
  const { batchSize, rows, onText, onToken, onResult, signal, ...shared } = options;
  if (rows && rows.length !== prompts.length) throw new TslmError(`rows has ${rows.length} entries for ${prompts.length} prompts`);
  const jobs = prompts.map((prompt, i) => {
    const row: GenerateOptions = { ...shared, ...rows?.[i] };
    if (onText) row.onText = combine(rows?.[i]?.onText, (d: string) => onText(i, d));
    if (onToken) row.onToken = combine(rows?.[i]?.onToken, (id: number) => onToken(i, id));
    try {
      return prepareJob(model, tokenizer, prompt, row);
    } catch (e) {
      // Refused before anything is decoded; the error keeps its class and names the prompt.
      if (e instanceof ContextLengthError) throw new ContextLengthError(e.promptTokens, e.maxNewTokens, e.contextLength, i);
      if (e instanceof ConfigError) throw new ConfigError(`prompt ${i}: ${e.message}`, {}, { cause: e });
      if (e instanceof TslmError) throw new TslmError(`prompt ${i}: ${e.message}`, {}, { cause: e });
      throw e;
    }
  });
  const index = new Map<BatchJob, number>(jobs.map((j, i) => [j, i]));
  const results: GenerateResult[] = new Array(prompts.length);
  // Shorter prompts first: prompts admitted together then have similar lengths (less padding).
  const waiting = jobs.map((_, i) => i).sort((a, b) => jobs[a].ids.length - jobs[b].ids.length || a - b).map((i) => jobs[i]);
  const decoder = new BatchDecoder(model, { batchSize: batchSize ?? 32, signal });
  await decoder.run(
    (free) => waiting.splice(0, free),
    (job) => {
      const i = index.get(job)!;
      results[i] = jobResult(job);
      onResult?.(i, results[i]);
    },
  );
  return results;
}

function combine<A>(first: ((a: A) => void) | undefined, second: (a: A) => void): (a: A) => void {
  return first ? (a) => (first(a), second(a)) : second;
}
