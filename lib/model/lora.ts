/**
 * LoRA (Hu et al. 2021): a frozen linear layer plus a trainable low-rank
 * update, `y = base(x) + scaling * B(A(dropout(x)))`, A `[r, in]`, B `[out, r]`,
 * scaling = alpha / r (alpha / sqrt(r) with rsLoRA, Kalajdzievski 2023).
 *
 * As in PEFT's `tuners/lora/layer.py`: adapter state is keyed by adapter
 * name, A starts random (kaiming-uniform, bound 1/sqrt(in)) and B zero, so a
 * fresh adapter leaves the model unchanged; several adapters can live on one
 * layer, be switched, disabled, merged into the base weight and unmerged;
 * merging refuses results that are not finite.
 */
import * as tf from "@tensorflow/tfjs-core";
import { NumericError, TslmError } from "../util/errors.js";
import { Random, hashString32 } from "../util/random.js";
import { linearForward, type Linear } from "./linear.js";

/** Hyper-parameters of one adapter (PEFT's LoraConfig names in comments). */
export interface LoraSettings {
  /** Rank r (`r`). */
  r: number;
  /** Scale numerator (`lora_alpha`). */
  alpha: number;
  /** Dropout on the adapter's input during training (`lora_dropout`). */
  dropout: number;
  /** scaling = alpha / sqrt(r) instead of alpha / r (`use_rslora`). */
  useRslora: boolean;
}

/** Shared switches read by every LoRA layer of a model. */
export interface LoraContext {
  /** Dropout is active only while training. */
  training: boolean;
  /** Seed of the current forward pass's dropout masks (set by the trainer per micro-batch). */
  dropoutSeed: number;
  /** When false every adapter is bypassed (PEFT's `disable_adapter()`). */
  enabled: boolean;
}

/** One adapter's weights on one layer. */
export interface LoraWeights {
  settings: LoraSettings;
  scaling: number;
  /** `[r, in]` */
  A: tf.Variable<tf.Rank.R2>;
  /** `[out, r]` */
  B: tf.Variable<tf.Rank.R2>;
}

let lid = 0;

/** PEFT's scaling factor. */
export function loraScaling(s: LoraSettings): number {
  return s.useRslora ? s.alpha / Math.sqrt(s.r) : s.alpha / s.r;
}

/** A linear layer with LoRA adapters around a base layer (dense, quantized or any Linear). */
export class LoraLinear implements Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly adapters = new Map<string, LoraWeights>();
  /** Adapters applied in the forward pass, in order. */
  active: string[] = [];
  /** Adapters currently merged into the base weight (skipped in the forward pass). */
  readonly merged = new Set<string>();
  private readonly id = lid++;

  constructor(
    readonly base: Linear,
    readonly context: LoraContext,
  ) {
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  get name(): string {
    return this.base.name;
  }

  /**
   * Adds an adapter: A kaiming-uniform from `rng`, B zero (or the given weights).
   * @throws when the name exists or given weights have the wrong shapes.
   */
  addAdapter(name: string, settings: LoraSettings, rng: Random, weights?: { A: Float32Array; B: Float32Array }): void {
    if (this.adapters.has(name)) throw new TslmError(`${this.name}: adapter '${name}' already exists`, { key: name });
    const { r } = settings;
    if (!Number.isInteger(r) || r < 1) throw new TslmError(`LoRA rank must be a positive integer, got ${r}`, { key: "r" });
    let a: Float32Array;
    let b: Float32Array;
    if (weights) {
      if (weights.A.length !== r * this.inFeatures || weights.B.length !== this.outFeatures * r) {
        throw new TslmError(`${this.name}: adapter '${name}' weights have ${weights.A.length}/${weights.B.length} values, expected A [${r}, ${this.inFeatures}] and B [${this.outFeatures}, ${r}]`);
      }
      a = weights.A;
      b = weights.B;
    } else {
      // kaiming_uniform_(a=sqrt(5)) as in nn.Linear and PEFT: bound = 1 / sqrt(fan_in).
      const bound = 1 / Math.sqrt(this.inFeatures);
      a = new Float32Array(r * this.inFeatures);
      for (let i = 0; i < a.length; i++) a[i] = (rng.float() * 2 - 1) * bound;
      b = new Float32Array(this.outFeatures * r);
    }
    // Inside tidy so the initial-value tensors are released (the variables keep the data).
    const A = tf.tidy(() => tf.variable(tf.tensor2d(a, [r, this.inFeatures]), true, `lora${this.id}/${this.name}.lora_A.${name}`)) as tf.Variable<tf.Rank.R2>;
    const B = tf.tidy(() => tf.variable(tf.tensor2d(b, [this.outFeatures, r]), true, `lora${this.id}/${this.name}.lora_B.${name}`)) as tf.Variable<tf.Rank.R2>;
    this.adapters.set(name, { settings: { ...settings }, scaling: loraScaling(settings), A, B });
  }

  /** Removes an adapter (unmerging it first if merged). */
  deleteAdapter(name: string): void {
    const w = this.adapters.get(name);
    if (!w) return;
    if (this.merged.has(name)) this.unmerge(name);
    w.A.dispose();
    w.B.dispose();
    this.adapters.delete(name);
    this.active = this.active.filter((n) => n !== name);
  }

  /**
   * Inverted dropout on the adapter's input. The mask is drawn from a seed
   * (the step's dropout seed and this layer's name) and drawn again in the
   * backward pass instead of being kept, so dropout costs no activation
   * memory; 16-bit draws put p on a 1/65536 grid and the kept values are
   * scaled by exactly 1 / (1 - p_effective).
   */
  private dropout(x: tf.Tensor, adapter: string, p: number): tf.Tensor {
    const seed = (this.context.dropoutSeed ^ hashString32(`${this.name}/${adapter}`)) >>> 0;
    const shape = x.shape;
    const mask = (): tf.Tensor => {
      const t = Math.round(p * 65536);
      const keep = 65536 / (65536 - t);
      const rng = new Random(seed);
      const n = x.size;
      const m = new Float32Array(n);
      for (let i = 0; i < n; i += 2) {
        const u = rng.nextUint32();
        m[i] = (u & 0xffff) < t ? 0 : keep;
        if (i + 1 < n) m[i + 1] = u >>> 16 < t ? 0 : keep;
      }
      return tf.tensor(m, shape, "float32");
    };
    const body = (xi: tf.Tensor) => ({
      value: tf.tidy(() => tf.mul(xi, mask())),
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.mul(dy, mask())),
    });
    // customGrad's type wants every argument typed as Tensor | GradSaveFunc.
    return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0])(x);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = this.base.apply(x);
      if (!this.context.enabled) return y;
      for (const name of this.active) {
        if (this.merged.has(name)) continue;
        const w = this.adapters.get(name)!;
        const p = w.settings.dropout;
        const xin = this.context.training && p > 0 ? this.dropout(x, name, p) : x;
        // Scale the rank-r activation rather than the [..., out] one: the multiply keeps its
        // inputs for the backward pass, and [..., r] is out/r times smaller.
        const low = tf.mul(linearForward(xin, w.A), w.scaling); // [..., r]
        y = tf.add(y, linearForward(low, w.B)); // [..., out]
      }
      return y;
    });
  }

  /** `scaling * B @ A`, `[out, in]`. */
  delta(name: string): tf.Tensor2D {
    const w = this.adapters.get(name);
    if (!w) throw new TslmError(`${this.name}: no adapter '${name}'`, { key: name });
    return tf.tidy(() => tf.mul(tf.matMul(w.B, w.A), w.scaling) as tf.Tensor2D);
  }

  private baseWeightVariable(): tf.Variable<tf.Rank.R2> {
    const d = (this.base as { weight?: unknown }).weight;
    if (!(d instanceof tf.Variable) || d.shape.length !== 2) {
      throw new TslmError(`${this.name}: cannot merge into a base layer without a float weight variable (a quantized base); dequantize it first`);
    }
    return d as tf.Variable<tf.Rank.R2>;
  }

  /**
   * Adds the adapter's update into the base weight. Refuses (and changes
   * nothing) when the result has NaN or Infinity, as PEFT's safe_merge does.
   */
  merge(name: string): void {
    if (this.merged.has(name)) return;
    const W = this.baseWeightVariable();
    const next = tf.tidy(() => tf.add(W, this.delta(name)));
    const finite = tf.tidy(() => tf.all(tf.isFinite(next)).dataSync()[0] === 1);
    if (!finite) {
      next.dispose();
      throw new NumericError(`${this.name}: merging adapter '${name}' gives non-finite weights; nothing was merged`, { key: name });
    }
    W.assign(next as tf.Tensor2D);
    next.dispose();
    this.merged.add(name);
  }

  /** Subtracts a merged adapter's update from the base weight. */
  unmerge(name: string): void {
    if (!this.merged.has(name)) return;
    const W = this.baseWeightVariable();
    tf.tidy(() => W.assign(tf.sub(W, this.delta(name)) as tf.Tensor2D));
    this.merged.delete(name);
  }

  variables(): tf.Variable[] {
    const vs = [...(this.base.variables?.() ?? [])];
    for (const w of this.adapters.values()) vs.push(w.A, w.B);
    return vs;
  }

  /** The base's dense weight plus every active, unmerged adapter's update. */
  dense(): { weight: tf.Tensor2D; bias?: tf.Tensor1D } {
    if (!this.base.dense) throw new TslmError(`${this.name}: the base layer has no dense form`);
    const d = this.base.dense();
    const pending = this.context.enabled ? this.active.filter((n) => !this.merged.has(n)) : [];
    if (pending.length === 0) return d;
    let weight: tf.Tensor2D = d.weight;
    for (const n of pending) weight = tf.add(weight, this.delta(n)) as tf.Tensor2D;
    return d.bias ? { weight, bias: d.bias } : { weight };
  }

  dispose(): void {
    for (const name of [...this.adapters.keys()]) {
      const w = this.adapters.get(name)!;
      w.A.dispose();
      w.B.dispose();
    }
    this.adapters.clear();
    this.base.dispose?.();
  }
}
