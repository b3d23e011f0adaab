/**
 * Rotary position embedding (Su et al. 2021, RoFormer) in Hugging Face's
 * "rotate_half" convention: dimension i pairs with i + headDim/2, and
 * `cos`/`sin` tables are `[T, headDim]` (the half-width frequencies
 * repeated twice). Inverse frequencies follow transformers'
 * modeling_rope_utils.py for the default, linear, dynamic-NTK and llama3
 * types. Tables are computed in double precision and rounded to float32.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels } from "../tensor/fused.js";
import type { LlamaConfig, RopeScaling } from "../formats/hf-config.js";
import { FormatError } from "../util/errors.js";

/** Inverse frequencies `[headDim / 2]` for a config, before any sequence-length dependence. */
export function inverseFrequencies(cfg: LlamaConfig, base = cfg.ropeTheta): Float64Array {
  const dim = cfg.headDim;
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / base ** ((2 * i) / dim);
  const s = cfg.ropeScaling;
  if (!s) return inv;
  if (s.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= s.factor;
  } else if (s.type === "llama3") {
    // Llama 3.1: long wavelengths are interpolated by `factor`, short ones kept,
    // the band between blended linearly in 1/wavelength.
    const old = s.originalMaxPositionEmbeddings!;
    const low = s.lowFreqFactor ?? 1;
    const high = s.highFreqFactor ?? 4;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) {
        inv[i] /= s.factor;
      } else {
        const smooth = (old / wavelen - low) / (high - low);
        inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** The llama3 per-frequency divisors (what GGUF stores as `rope_freqs.weight`). */
export function ropeFrequencyFactors(cfg: LlamaConfig): Float32Array {
  const plain = inverseFrequencies({ ...cfg, ropeScaling: null });
  const scaled = inverseFrequencies(cfg);
  return Float32Array.from(plain, (p, i) => p / scaled[i]);
}

/**
 * Caches cos/sin tables for positions and hands out `[T, headDim]` slices.
 * Dynamic NTK recomputes the base when a sequence passes
 * `maxPositionEmbeddings`, for the positions of that call (as transformers
 * does: earlier cached keys keep their rotation).
 */
export class RotaryTables {
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private length = 0;
  private readonly inv: Float64Array;

  constructor(private readonly cfg: LlamaConfig) {
    this.inv = inverseFrequencies(cfg);
  }

  private fill(inv: Float64Array, from: number, to: number, cos: Float32Array, sin: Float32Array, rowOffset: number): void {
    const dim = this.cfg.headDim;
    const half = dim / 2;
    for (let p = from; p < to; p++) {
      const row = (p - rowOffset) * dim;
      for (let i = 0; i < half; i++) {
        const a = p * inv[i];
        const c = Math.cos(a), s = Math.sin(a);
        cos[row + i] = c; cos[row + i + half] = c;
        sin[row + i] = s; sin[row + i + half] = s;
      }
    }
  }

  private ensure(length: number): void {
    if (length <= this.length) return;
    const n = Math.max(length, Math.min(2 * this.length, this.cfg.maxPositionEmbeddings), 64);
    const dim = this.cfg.headDim;
    const cos = new Float32Array(n * dim), sin = new Float32Array(n * dim);
    cos.set(this.cos); sin.set(this.sin);
    this.fill(this.inv, this.length, n, cos, sin, 0);
    this.cos = cos; this.sin = sin; this.length = n;
  }

  /**
   * cos and sin `[B, 1, T, headDim]` for rows whose positions differ (a
   * left-padded batch): row b covers positions `starts[b] .. starts[b] + T - 1`.
   * Negative positions (padding, never attended) get position 0's values.
   * Each row's values are the ones `tables` gives for that row alone.
   */
  rowTables(starts: readonly number[], T: number): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
    const dim = this.cfg.headDim;
    const { cos, sin } = this.rowTablesHost(starts, T);
    return { cos: tf.tensor4d(cos, [starts.length, 1, T, dim]), sin: tf.tensor4d(sin, [starts.length, 1, T, dim]) };
  }

  /**
   * One decoding step's per-row tables repeated for each of `heads` heads,
   * `[B * heads, headDim]`: rotating x `[B, heads, 1, hd]` viewed as
   * `[1, 1, B * heads, hd]` with these is the `[T, hd]` form a fused rotary
   * kernel takes.
   */
  stepTables(starts: readonly number[], heads: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const dim = this.cfg.headDim;
    const B = starts.length;
    const row = this.rowTablesHost(starts, 1); // [B, hd]
    const cos = new Float32Array(B * heads * dim), sin = new Float32Array(B * heads * dim);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < heads; h++) {
        cos.set(row.cos.subarray(b * dim, (b + 1) * dim), (b * heads + h) * dim);
        sin.set(row.sin.subarray(b * dim, (b + 1) * dim), (b * heads + h) * dim);
      }
    }
    return { cos: tf.tensor2d(cos, [B * heads, dim]), sin: tf.tensor2d(sin, [B * heads, dim]) };
  }

  /** Host cos/sin `[B, T, headDim]` for per-row start positions (see rowTables). */
  private rowTablesHost(starts: readonly number[], T: number): { cos: Float32Array; sin: Float32Array } {
    const dim = this.cfg.headDim;
    const B = starts.length;
    const cos = new Float32Array(B * T * dim), sin = new Float32Array(B * T * dim);
    const dynamic = this.cfg.ropeScaling?.type === "dynamic";
    this.ensure(Math.max(1, ...starts.map((s) => s + T)));
    for (let b = 0; b < B; b++) {
      const total = starts[b] + T;
      if (dynamic && total > this.cfg.maxPositionEmbeddings) {
        // The row's own length decides the base, as it would alone.
        const first = Math.max(0, starts[b]);
        this.fill(this.dynamicFrequencies(total), first, total, cos, sin, starts[b] - b * T);
        for (let t = 0; t < first - starts[b]; t++) {
          cos.set(this.cos.subarray(0, dim), (b * T + t) * dim);
          sin.set(this.sin.subarray(0, dim), (b * T + t) * dim);
        }
        continue;
      }
      for (let t = 0; t < T; t++) {
        const p = Math.max(0, starts[b] + t);
        cos.set(this.cos.subarray(p * dim, (p + 1) * dim), (b * T + t) * dim);
        sin.set(this.sin.subarray(p * dim, (p + 1) * dim), (b * T + t) * dim);
      }
    }
    return { cos, sin };
  }

  /** Dynamic NTK: inverse frequencies for a sequence of `total` positions (past maxPositionEmbeddings). */
  private dynamicFrequencies(total: number): Float64Array {
    const dim = this.cfg.headDim;
    const factor = this.cfg.ropeScaling!.factor;
    const base = this.cfg.ropeTheta * ((factor * total) / this.cfg.maxPositionEmbeddings - (factor - 1)) ** (dim / (dim - 2));
    return inverseFrequencies({ ...this.cfg, ropeScaling: null }, base);
  }

  /** cos and sin `[T, headDim]` for positions offset .. offset + T - 1 (new tensors). */
  tables(offset: number, T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const dim = this.cfg.headDim;
    const s = this.cfg.ropeScaling;
    const total = offset + T;
    if (s?.type === "dynamic" && total > this.cfg.maxPositionEmbeddings) {
      const inv = this.dynamicFrequencies(total);
      const cos = new Float32Array(T * dim), sin = new Float32Array(T * dim);
      this.fill(inv, offset, total, cos, sin, offset);
      return { cos: tf.tensor2d(cos, [T, dim]), sin: tf.tensor2d(sin, [T, dim]) };
    }
    this.ensure(total);
    return {
      cos: tf.tensor2d(this.cos.subarray(offset * dim, total * dim), [T, dim]),
      sin: tf.tensor2d(this.sin.subarray(offset * dim, total * dim), [T, dim]),
    };
  }
}

/**
 * Applies the rotation to x `[B, H, T, headDim]` with cos/sin `[T, headDim]`
 * (or `[B, 1, T, headDim]`, per row, from `rowTables`):
 * `x * cos + rotate_half(x) * sin`, rotate_half(x) = concat(-x2, x1).
 */
export function applyRotary(x: tf.Tensor4D, cos: tf.Tensor2D | tf.Tensor4D, sin: tf.Tensor2D | tf.Tensor4D): tf.Tensor4D {
  // The fused kernel takes shared [T, hd] tables only.
  const fused = cos.rank === 2 ? fusedKernels().rotary?.(x, cos as tf.Tensor2D, sin as tf.Tensor2D) : undefined; // one native pass when the backend has it
  if (fused) return fused;
  return tf.tidy(() => {
    const half = x.shape[3] / 2;
    const [x1, x2] = tf.split(x, [half, half], 3); // [B, H, T, hd/2] each
    const rotated = tf.concat([tf.neg(x2), x1], 3); // [B, H, T, hd]
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  });
}

/**
 * The llama3 rope scaling that yields `factors` (GGUF's `rope_freqs`
 * divisors) for `cfg`'s head size and base, or null when every factor is 1.
 * Only the two wavelength thresholds and the blend matter to the rotation,
 * so the parameters are normalised to low_freq_factor 1 (Llama 3.1's own
 * 1 / 4 / 8192 come back exactly when the blend band holds two frequencies
 * or more). The result is checked by recomputing the factors.
 * @throws FormatError when no llama3 scaling reproduces them.
 */
export function llama3ScalingFromFactors(cfg: LlamaConfig, factors: ArrayLike<number>, file?: string): RopeScaling | null {
  const plain = inverseFrequencies({ ...cfg, ropeScaling: null });
  if (factors.length !== plain.length) throw new FormatError(`rope_freqs has ${factors.length} factors; head size ${cfg.headDim} needs ${plain.length}`, { file, key: "rope_freqs.weight" });
  const wave = Array.from(plain, (f) => (2 * Math.PI) / f);
  const factor = Math.max(...Array.from(factors));
  if (factor <= 1 + 1e-6) return null;
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
  const ones: number[] = [], full: number[] = [], blend: { w: number; s: number }[] = [];
  for (let i = 0; i < wave.length; i++) {
    const f = factors[i];
    if (near(f, 1)) ones.push(wave[i]);
    else if (near(f, factor)) full.push(wave[i]);
    else blend.push({ w: wave[i], s: (1 / f - 1 / factor) / (1 - 1 / factor) });
  }
  // smooth = A / wavelength - B; low threshold A / B, high threshold A / (B + 1).
  let A: number, B: number;
  if (blend.length >= 2) {
    const xs = blend.map((b) => 1 / b.w), ys = blend.map((b) => b.s);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0, sxx = 0;
    xs.forEach((x, i) => ((sxy += (x - mx) * (ys[i] - my)), (sxx += (x - mx) ** 2)));
    A = sxy / sxx;
    B = A * mx - my;
  } else {
    // Under-determined: put the thresholds between the neighbouring wavelengths.
    const lowWave = full.length ? Math.min(...full) * (1 - 1e-6) : Math.max(...wave) * 2;
    const highWave = ones.length ? Math.max(...ones) * (1 + 1e-6) : Math.min(...wave) / 2;
    if (blend.length === 1) {
      B = blend[0].s / (lowWave / blend[0].w - 1);
      A = B * lowWave;
    } else {
      B = highWave / (lowWave - highWave);
      A = B * lowWave;
    }
  }
  const round = (x: number) => (Math.abs(x - Math.round(x)) <= 1e-4 * Math.max(1, Math.abs(x)) ? Math.round(x) : x);
  const scaling: RopeScaling = { type: "llama3", factor: round(factor), lowFreqFactor: 1, highFreqFactor: round(1 + 1 / B), originalMaxPositionEmbeddings: round(A / B) };
  const again = ropeFrequencyFactors({ ...cfg, ropeScaling: scaling });
  for (let i = 0; i < again.length; i++) {
    if (!(Math.abs(again[i] - factors[i]) <= 1e-4 * factors[i])) {
      throw new FormatError(`rope_freqs factor ${i} (${factors[i]}) is not what any llama3 rope scaling gives (closest: ${again[i]})`, { file, key: "rope_freqs.weight" });
    }
  }
  return scaling;
}
