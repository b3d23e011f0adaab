/**
 * Batching for callers that ask for one generation at a time, concurrently
 * (arena contestants answering many prompts in flight): requests wait in a
 * queue and a batch decoder takes them as rows free up, so concurrent
 * requests share forward passes. Each request's result is what `generate`
 * gives for it alone, and resolves as soon as its row ends.
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
  resolve: (r: GenerateResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A queue that decodes concurrent requests together.
 * @example const q = createGenerationQueue(model, model.tokenizer); const [a, b] = await Promise.all([q.generate("Hi"), q.generate("Hello")]);
 */
export function createGenerationQueue(model: CausalLM, tokenizer: Tokenizer | null, options: GenerationQueueOptions = {}): GenerationQueue {
  const schedule = options.schedule ?? (<T>(fn: () => Promise<T>) => fn());
  const decoder = new BatchDecoder(model, { batchSize: options.batchSize ?? 16 });
  const waiting: Waiting[] = [];
  const running = new Map<BatchJob, Waiting>();
  let session: Promise<void> | null = null;

  const start = () => {
    if (session || waiting.length === 0) return;
    session = schedule(() =>
      decoder.run(
        (free) => {
          const taken = waiting.splice(0, free);
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
        // The rows that were decoding fail with the error; waiting requests get the next session.
        for (const w of running.values()) w.reject(e);
        running.clear();
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
        waiting.push({ job, resolve, reject });
        // Requests made in the same turn of the event loop start together.
        setImmediate(start);
      });
    },
    get pending() {
      return waiting.length + running.size;
    },
    get stats() {
      return decoder.stats;
    },
  };
}
