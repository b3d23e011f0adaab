/**
 * The decoding loop behind `generate`, `generateBatch` and the generation
 * queue: many sequences share one KV cache and one forward pass per step.
 *
 * Prompts of different lengths are left-padded; the model masks each row's
 * padding and gives each row its own rotary positions (ForwardOptions.padding),
 * so a row computes what it would alone. Rows leave the batch as soon as they
 * end (EOS, stop string, token limit, abort): their cache rows are dropped and
 * they are never sampled again. Waiting prompts join a running batch when
 * enough rows are free ("continuous batching", as in vLLM and llama.cpp's
 * server): their prompts are prefilled together and their cache rows appended.
 *
 * Decoding a small model is bound by per-operation overhead (TF.js dispatch,
 * kernel launches), not arithmetic, so B rows cost little more than one: the
 * batch multiplies throughput.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Random } from "../util/random.js";
import type { CausalLM } from "./causal-lm.js";
import type { KVCache } from "./kv-cache.js";
import { selectToken, type SamplingOptions } from "./sampling.js";
import type { Sequence } from "./sequence.js";

/** One prompt to decode, with everything its row needs. */
export interface BatchJob {
  /** Prompt ids (non-empty, inside the vocabulary). */
  ids: readonly number[];
  sequence: Sequence;
  sampling: SamplingOptions;
  random: Random;
  /** Ends this row early (finish reason "aborted"). */
  signal?: AbortSignal;
  /** Filled by the decoder: milliseconds of the prefill that admitted the job, and when it was admitted and ended. */
  prefillMs?: number;
  admittedAt?: number;
  finishedAt?: number;
}

export interface BatchDecoderOptions {
  /** Most rows decoded together (default 32). */
  batchSize?: number;
  /**
   * While rows are running, waiting prompts join only when at least this
   * many rows are free (default batchSize / 4): each admission costs a
   * prefill pass and a cache merge, so they are grouped.
   */
  admitWhenFree?: number;
  /** Stops every row (finish reason "aborted"). */
  signal?: AbortSignal;
  /**
   * Greedy batches with at least this many logits (rows x vocabulary) take
   * the argmax on the device and download only the ids (default 65,536: a
   * 150k vocabulary is 600 KB of logits per row and step); smaller ones
   * download the logits, which costs less than one more operation.
   */
  deviceArgmaxFrom?: number;
}

/** What a decoder has computed so far (every `run`). */
export interface BatchStats {
  /** Decoding steps (forward passes of one token per row). */
  steps: number;
  /** Rows summed over decoding steps: the row-tokens computed. */
  rowSteps: number;
  /** Prefill passes (one per group of admitted prompts) and the prompts they held. */
  prefills: number;
  prefillRows: number;
  /** Most rows decoded at once. */
  maxRows: number;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Other work (timers, I/O, abort signals) gets the event loop at least this often while decoding. */
const YIELD_EVERY_MS = 10;

export class BatchDecoder {
  readonly batchSize: number;
  readonly stats: BatchStats = { steps: 0, rowSteps: 0, prefills: 0, prefillRows: 0, maxRows: 0 };
  private readonly admitWhenFree: number;

  constructor(
    private readonly model: CausalLM,
    private readonly options: BatchDecoderOptions = {},
  ) {
    const b = options.batchSize ?? 32;
    if (!Number.isInteger(b) || b < 1) throw new RangeError(`batchSize must be a positive integer, got ${b}`);
    this.batchSize = b;
    const a = options.admitWhenFree ?? Math.max(1, Math.floor(b / 4));
    this.admitWhenFree = Math.min(b, Math.max(1, a));
  }

  /**
   * Decodes until `next` gives no more jobs and every row has ended.
   * @param next returns up to `free` waiting jobs (none when there are none).
   * @param done called once per job, as soon as it ends.
   */
  async run(next: (free: number) => BatchJob[], done: (job: BatchJob) => void): Promise<void> {
    let active: BatchJob[] = [];
    let cache: KVCache | null = null;
    let logits: tf.Tensor3D | null = null; // [active.length, 1, V]
    let yielded = performance.now();
    try {
      for (;;) {
        // Admit waiting jobs while rows are free (jobs that need no token end at once and free theirs).
        for (let free = this.batchSize - active.length; free > 0 && (active.length === 0 || free >= this.admitWhenFree); free = this.batchSize - active.length) {
          const offered = next(free);
          if (offered.length === 0) break;
          const admitted = this.admit(offered, done);
          if (admitted) {
            const { jobs, cache: c, logits: l } = admitted;
            active = [...active, ...jobs];
            if (cache) cache.appendRows(c);
            else cache = c;
            if (logits) {
              const old = logits;
              logits = tf.concat([old, l], 0);
              old.dispose();
              l.dispose();
            } else logits = l;
            cache.trimPadding();
            this.stats.maxRows = Math.max(this.stats.maxRows, active.length);
          }
        }
        if (active.length === 0 || !cache || !logits) break;

        const ids = this.pick(active, logits);
        logits.dispose();
        logits = null;
        const keep: number[] = [];
        for (const [b, job] of active.entries()) {
          if (ids[b] < 0) job.sequence.finish("aborted");
          else job.sequence.push(ids[b]);
          if (job.sequence.done) {
            job.finishedAt = performance.now();
            done(job);
          } else keep.push(b);
        }
        active = keep.map((b) => active[b]);
        if (active.length === 0) {
          cache.dispose();
          cache = null;
          continue;
        }
        cache.keepRows(keep);
        cache.trimPadding();
        const step = active.map((j) => [j.sequence.generated[j.sequence.generated.length - 1]]); // [B, 1]
        logits = this.lastLogits(step, cache);
        this.stats.steps++;
        this.stats.rowSteps += step.length;
        if (performance.now() - yielded >= YIELD_EVERY_MS) {
          await yieldToEventLoop();
          yielded = performance.now();
        }
      }
    } finally {
      logits?.dispose();
      cache?.dispose();
    }
  }

  /** Prefills new jobs together (left-padded); jobs that already ended (no tokens to make) are reported at once. */
  private admit(jobs: BatchJob[], done: (job: BatchJob) => void): { jobs: BatchJob[]; cache: KVCache; logits: tf.Tensor3D } | null {
    const live: BatchJob[] = [];
    for (const job of jobs) {
      if (this.aborted(job)) job.sequence.finish("aborted");
      if (job.sequence.done) {
        job.prefillMs = 0;
        job.admittedAt = job.finishedAt = performance.now();
        done(job);
      } else live.push(job);
    }
    if (live.length === 0) return null;
    const t0 = performance.now();
    const T = Math.max(...live.map((j) => j.ids.length));
    const padding = live.map((j) => T - j.ids.length);
    const ids = live.map((j, b) => [...new Array<number>(padding[b]).fill(0), ...j.ids]); // [n, T], left-padded
    const cache = this.model.createCache();
    try {
      const logits = this.lastLogits(ids, cache, padding.some((p) => p > 0) ? padding : undefined);
      const ms = performance.now() - t0;
      this.stats.prefills++;
      this.stats.prefillRows += live.length;
      for (const job of live) {
        job.prefillMs = ms;
        job.admittedAt = t0;
      }
      return { jobs: live, cache, logits };
    } catch (e) {
      cache.dispose();
      throw e;
    }
  }

  /** Logits `[B, 1, V]` of each row's last position. */
  private lastLogits(ids: number[][], cache: KVCache, padding?: number[]): tf.Tensor3D {
    return this.model.forward(ids, { cache, lastOnly: true, padding });
  }

  private aborted(job: BatchJob): boolean {
    return (this.options.signal?.aborted ?? false) || (job.signal?.aborted ?? false);
  }

  /** The next id of every row (-1 for rows that were stopped, which are not sampled). */
  private pick(active: BatchJob[], logits: tf.Tensor3D): number[] {
    const V = logits.shape[2];
    const stopped = active.map((j) => this.aborted(j));
    const greedy = (j: BatchJob) => !((j.sampling.temperature ?? 0) > 0) && (j.sampling.repetitionPenalty ?? 1) === 1;
    if (active.length * V >= (this.options.deviceArgmaxFrom ?? 1 << 16) && active.every(greedy)) {
      const best = tf.argMax(logits, 2); // [B, 1]
      try {
        return Array.from(best.dataSync(), (id, b) => (stopped[b] ? -1 : id));
      } finally {
        best.dispose();
      }
    }
    const host = logits.dataSync() as Float32Array; // [B * V]
    return active.map((j, b) => (stopped[b] ? -1 : selectToken(host.subarray(b * V, (b + 1) * V), j.sequence.context, j.sampling, j.random)));
  }
}
