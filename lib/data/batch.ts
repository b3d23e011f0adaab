/**
 * Batching: a seeded order per epoch, fixed-size batches, right padding.
 *
 * The order of epoch e depends only on (seed, e), so a resumed run that knows
 * its position (epoch, batch index) sees exactly the batches the interrupted
 * run would have seen.
 */
import { Random } from "../util/random.js";
import { IGNORE_INDEX, type Sample } from "./encode.js";

/** Where a run stands in its data: the next batch to read. */
export interface DataPosition {
  epoch: number;
  /** Index of the next batch within the epoch. */
  batch: number;
}

/** A padded batch as flat row-major arrays `[size, length]`. */
export interface Batch {
  inputIds: Int32Array;
  labels: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  size: number;
  length: number;
  /** Label tokens that count after the causal shift (the loss denominator). */
  targetTokens: number;
}

/** The permutation of sample indices used in epoch `epoch`. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  return new Random(seed).fork(`data-epoch-${epoch}`).shuffle(order);
}

/** Number of batches per epoch (the last partial batch is dropped when dropLast and at least one full batch exists). */
export function batchesPerEpoch(n: number, batchSize: number, dropLast = true): number {
  if (n === 0) return 0;
  const full = Math.floor(n / batchSize);
  return dropLast && full > 0 ? full : Math.ceil(n / batchSize);
}

/** Sample indices of batch `pos.batch` of epoch `pos.epoch`. */
export function batchIndices(n: number, batchSize: number, seed: number, pos: DataPosition, shuffle = true): number[] {
  const order = epochOrder(n, seed, pos.epoch, shuffle);
  return order.slice(pos.batch * batchSize, (pos.batch + 1) * batchSize);
}

/** Counts label tokens that are loss targets after the causal shift. */
export function targetCount(labels: ArrayLike<number>, start = 1, end = labels.length): number {
  let c = 0;
  for (let i = start; i < end; i++) if (labels[i] !== IGNORE_INDEX) c++;
  return c;
}

/**
 * Pads samples on the right to the longest one (or `length`).
 * Right padding keeps every real token's causal context intact, so a causal
 * model needs no attention mask for the loss; pads get label IGNORE_INDEX.
 */
export function collate(samples: readonly Sample[], padId: number, length?: number): Batch {
  const size = samples.length;
  const T = length ?? Math.max(...samples.map((s) => s.inputIds.length));
  const inputIds = new Int32Array(size * T).fill(padId);
  const labels = new Int32Array(size * T).fill(IGNORE_INDEX);
  const attentionMask = new Int32Array(size * T);
  let targetTokens = 0;
  samples.forEach((s, b) => {
    const n = Math.min(T, s.inputIds.length);
    for (let t = 0; t < n; t++) {
      inputIds[b * T + t] = s.inputIds[t];
      labels[b * T + t] = s.labels[t];
      attentionMask[b * T + t] = 1;
    }
    targetTokens += targetCount(s.labels, 1, n);
  });
  return { inputIds, labels, attentionMask, size, length: T, targetTokens };
}

/** Advances a position by one batch, rolling over to the next epoch. */
export function nextPosition(pos: DataPosition, perEpoch: number): DataPosition {
  return pos.batch + 1 >= perEpoch ? { epoch: pos.epoch + 1, batch: 0 } : { epoch: pos.epoch, batch: pos.batch + 1 };
}
