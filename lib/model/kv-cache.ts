/**
 * Key/value cache for incremental decoding: per layer, the rotated keys and
 * the values of every position seen so far, `[B, KV, T, headDim]`. The model
 * replaces the tensors on each step (concatenating the new positions) and
 * disposes the old ones, so the cache holds exactly two tensors per layer.
 *
 * A batch of prompts of different lengths is left-padded: row b's first
 * `padding[b]` columns are filler that attention never sees, and its
 * positions count from its first real token. The cache keeps that padding
 * for every later step, and `keepRows` drops finished rows from the batch.
 */
import * as tf from "@tensorflow/tfjs-core";

export class KVCache {
  /** Positions (columns) already in the cache, padding included. */
  length = 0;
  /**
   * Left padding per row (columns before the row's first real token), or
   * null when every row starts at column 0. Set by the first forward call
   * that passes `padding`; kept across steps.
   */
  padding: number[] | null = null;
  private keys: (tf.Tensor4D | null)[];
  private values: (tf.Tensor4D | null)[];
  private disposed = false;

  constructor(readonly numLayers: number) {
    this.keys = new Array(numLayers).fill(null);
    this.values = new Array(numLayers).fill(null);
  }

  /**
   * Appends this step's k, v `[B, KV, T, hd]` for `layer` and returns the full
   * k, v `[B, KV, length + T, hd]`. Call inside the forward pass's tidy: the
   * returned tensors are kept alive by the cache.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    this.checkAlive();
    const oldK = this.keys[layer], oldV = this.values[layer];
    if (oldK && oldK.shape[0] !== k.shape[0]) {
      throw new Error(`KVCache holds ${oldK.shape[0]} rows, the step brings ${k.shape[0]} (call keepRows after dropping rows)`);
    }
    const fullK = oldK ? tf.concat([oldK, k], 2) : tf.clone(k);
    const fullV = oldV ? tf.concat([oldV, v], 2) : tf.clone(v);
    tf.keep(fullK);
    tf.keep(fullV);
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = fullK;
    this.values[layer] = fullV;
    return { k: fullK, v: fullV };
  }

  /** Rows in the cache (0 before the first step). */
  rows(): number {
    return this.keys[0]?.shape[0] ?? 0;
  }

  /**
   * Keeps only `rows` (indices into the current batch, in the new order):
   * finished sequences leave the batch so later steps do not compute them.
   * Every kept row's keys, values and padding are copied unchanged.
   */
  keepRows(rows: readonly number[]): void {
    this.checkAlive();
    const n = this.rows();
    const bad = rows.find((r) => !Number.isInteger(r) || r < 0 || r >= n);
    if (bad !== undefined) throw new Error(`KVCache.keepRows: row ${bad} is outside the batch of ${n}`);
    if (rows.length === n && rows.every((r, i) => r === i)) return;
    const pick = (t: tf.Tensor4D | null): tf.Tensor4D | null => {
      if (!t) return null;
      const kept = tf.tidy(() => tf.gather(t, tf.tensor1d(rows as number[], "int32"), 0) as tf.Tensor4D); // [rows, KV, T, hd]
      t.dispose();
      return kept;
    };
    this.keys = this.keys.map(pick);
    this.values = this.values.map(pick);
    if (this.padding) this.padding = rows.map((r) => this.padding![r]);
    this.normalizePadding();
  }

  /**
   * Adds the rows of `other` (a cache of the same model, for example the
   * prefill of prompts joining a running batch) after this cache's rows and
   * disposes `other`. The shorter of the two is left-padded with masked zero
   * columns so both have the same length.
   */
  appendRows(other: KVCache): void {
    this.checkAlive();
    other.checkAlive();
    if (other.numLayers !== this.numLayers) throw new Error(`KVCache.appendRows: ${other.numLayers} layers, this cache has ${this.numLayers}`);
    if (this.rows() === 0) {
      [this.keys, other.keys] = [other.keys, this.keys];
      [this.values, other.values] = [other.values, this.values];
      this.length = other.length;
      this.padding = other.padding ? [...other.padding] : null;
      other.dispose();
      return;
    }
    const rowsA = this.rows(), rowsB = other.rows();
    const T = Math.max(this.length, other.length);
    const grow = (t: tf.Tensor4D, by: number): tf.Tensor4D =>
      by === 0 ? t : (tf.concat([tf.zeros([t.shape[0], t.shape[1], by, t.shape[3]]), t], 2) as tf.Tensor4D); // [rows, KV, T, hd]
    const dA = T - this.length, dB = T - other.length;
    const join = (a: tf.Tensor4D | null, b: tf.Tensor4D | null): tf.Tensor4D | null => {
      if (!a || !b) throw new Error("KVCache.appendRows: both caches must have run the same layers");
      const joined = tf.tidy(() => tf.concat([grow(a, dA), grow(b, dB)], 0) as tf.Tensor4D); // [rowsA + rowsB, KV, T, hd]
      a.dispose();
      return joined;
    };
    this.keys = this.keys.map((k, l) => join(k, other.keys[l]));
    this.values = this.values.map((v, l) => join(v, other.values[l]));
    const padA = this.padding ?? new Array<number>(rowsA).fill(0);
    const padB = other.padding ?? new Array<number>(rowsB).fill(0);
    this.padding = [...padA.map((p) => p + dA), ...padB.map((p) => p + dB)];
    this.length = T;
    other.dispose();
    this.normalizePadding();
  }

  /**
   * Drops the leading columns that every row masks (after the rows that
   * needed them left), so attention stops computing them. Positions are
   * unchanged: they count from each row's first real token.
   */
  trimPadding(): void {
    this.checkAlive();
    if (!this.padding) return;
    const m = Math.min(...this.padding);
    if (m > 0) {
      const cut = (t: tf.Tensor4D | null): tf.Tensor4D | null => {
        if (!t) return null;
        const [B, KV, T, hd] = t.shape;
        const kept = tf.slice(t, [0, 0, m, 0], [B, KV, T - m, hd]);
        t.dispose();
        return kept;
      };
      this.keys = this.keys.map(cut);
      this.values = this.values.map(cut);
      this.length -= m;
      this.padding = this.padding.map((p) => p - m);
    }
    this.normalizePadding();
  }

  /** No padding is stored as null, so the model takes its unpadded path. */
  private normalizePadding(): void {
    if (this.padding && this.padding.every((p) => p === 0)) this.padding = null;
  }

  /** Number of tensors the cache holds (2 per filled layer). */
  tensorCount(): number {
    return this.keys.filter(Boolean).length + this.values.filter(Boolean).length;
  }

  /** Bytes held (float32). */
  bytes(): number {
    let n = 0;
    for (const t of [...this.keys, ...this.values]) if (t) n += t.size * 4;
    return n;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error("KVCache used after dispose()");
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.length = 0;
    this.padding = null;
    this.disposed = true;
  }
}
