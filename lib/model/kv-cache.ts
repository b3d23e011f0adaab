/**
 * Key/value cache for incremental decoding: per layer, the rotated keys and
 * the values of every position seen so far, `[B, KV, T, headDim]`. The model
 * replaces the tensors on each step (concatenating the new positions) and
 * disposes the old ones, so the cache holds exactly two tensors per layer.
 */
import * as tf from "@tensorflow/tfjs-core";

export class KVCache {
  /** Positions already in the cache. */
  length = 0;
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
    if (this.disposed) throw new Error("KVCache used after dispose()");
    const oldK = this.keys[layer], oldV = this.values[layer];
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

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.length = 0;
    this.disposed = true;
  }
}
