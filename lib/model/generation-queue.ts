/**
 * Batching for callers that ask for one generation at a time, concurrently
 * (arena contestants answering many prompts in flight): requests wait in a
 * queue and a batch decoder takes them as rows free up, so concurrent
 * requests share forward passes. Each request's result is what `generate`
 * gives for it alone, and resolves as soon as its row ends.
 *
 * A prompt that does not fit the model's context is refused on its own
 * (its promise rejects with a ContextLengthError; nothing is decoded). When
 * a decoding session fails (an allocation that runs out of memory on one
 * long prompt, for example), the rows it held are decoded again one at a
 * time, so only the prompt that fails alone is rejected and every other
 * request still gets its answer. A row is retried only when nobody saw its
 * partial output (no tokens yet, or no streaming callbacks and no caller-
 * owned random source, whose draws could not be replayed).
 */
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { CausalLM } from "./causal-lm.js";
import { BatchDecoder, type BatchJob, type BatchStats } from "./batch-decoder.js";
import { jobResult, prepareJob, type GenerateOptions, type GenerateResult, type Prompt } from "./generate.js";

export interface GenerationQueueOptions {
  /** Most rows decoded together (default 16). */
  batchSize?: number;
  /**
   * Runs each decoding session (a batch loop that lasts while requests keep
   * coming), for example through a concurrency-1 queue shared by everything
   * that uses the model. Default: run at once.
   */
  schedule?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface GenerationQueue {
  /** Queues one generation; options as `generate` (`useCache` is always on). */
  generate(prompt: Prompt, options?: Omit<GenerateOptions, "useCache">): Promise<GenerateResult>;
  /** Requests waiting and rows being decoded. */
  readonly pending: number;
  /** What the decoder computed (all sessions together). */
  readonly stats: BatchStats;
}

interface Waiting {
  job: BatchJob;
  prompt: Prompt;
  options: Omit<GenerateOptions, "useCache">;
  resolve: (r: GenerateResult) => void;
  reject: (e: unknown) => void;
}

/** True when a failed row can start again without anyone seeing the difference. */
function replayable(w: Waiting): boolean {
  if (w.job.sequence.generated.length === 0) return true;
  return !w.options.onText && !w.options.onToken && !w.options.random;
}

/**
 * A queue that decodes concurrent requests together.
 * @example const q = createGenerationQueue(model, model.tokenizer); const [a, b] = await Promise.all([q.generate("Hi"), q.generate("Hello")]);
 */
export function createGenerationQueue(model: CausalLM, tokenizer: Tokenizer | null, options: GenerationQueueOptions = {}): GenerationQueue {
  const schedule = options.schedule ?? (<T>(fn: () => Promise<T>) => fn());
  const decoder = new BatchDecoder(model, { batchSize: options.batchSize ?? 16 });
  // Rows of a failed session, decoded again one at a time.
  const solo = new BatchDecoder(model, { batchSize: 1 });
  const waiting: Waiting[] = [];
  const retrying: Waiting[] = [];
  const running = new Map<BatchJob, Waiting>();
  let session: Promise<void> | null = null;

  const start = () => {
    if (session || (waiting.length === 0 && retrying.length === 0)) return;
    const alone = retrying.length > 0;
    const from = alone ? retrying : waiting;
    session = schedule(() =>
      (alone ? solo : decoder).run(
        (free) => {
          const taken = from.splice(0, alone ? Math.min(free, 1) : free);
          for (const w of taken) running.set(w.job, w);
          return taken.map((w) => w.job);
        },
        (job) => {
          const w = running.get(job)!;
          running.delete(job);
          w.resolve(jobResult(job));
        },
      ),
    )
      .catch((e) => {
        const failed = [...running.values()];
        running.clear();
        // Alone, a row's failure is its own; among others, each row gets a session of its own.
        for (const w of failed) {
          if (alone || failed.length === 1 || !replayable(w)) {
            w.reject(e);
            continue;
          }
          try {
            retrying.push({ ...w, job: prepareJob(model, tokenizer, w.prompt, w.options) });
          } catch (again) {
            w.reject(again);
          }
        }
      })
      .finally(() => {
        session = null;
        start();
      });
  };

  return {
    generate(prompt, opts = {}) {
      return new Promise<GenerateResult>((resolve, reject) => {
        const job = prepareJob(model, tokenizer, prompt, opts);
        waiting.push({ job, prompt, options: opts, resolve, reject });
        // Requests made in the same turn of the event loop start together.
        setImmediate(start);
      });
    },
    get pending() {
      return waiting.length + retrying.length + running.size;
    },
    get stats() {
      const a = decoder.stats;
      const b = solo.stats;
      return { steps: a.steps + b.steps, rowSteps: a.rowSteps + b.rowSteps, prefills: a.prefills + b.prefills, prefillRows: a.prefillRows + b.prefillRows, maxRows: Math.max(a.maxRows, b.maxRows) };
    },
  };
}
