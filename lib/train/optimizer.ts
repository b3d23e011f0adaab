/**
 * Optimizers with PyTorch's update rules, so runs compare with LLM Studio's:
 *
 * - AdamW (default): decoupled weight decay, p -= lr * wd * p, then the Adam
 *   step with bias correction (Loshchilov & Hutter 2019; torch.optim.AdamW).
 * - Adam: L2 weight decay added to the gradient (torch.optim.Adam).
 * - SGD: momentum 0.9 with Nesterov, as LLM Studio configures it; L2 decay
 *   added to the gradient (torch.optim.SGD).
 *
 * AdamW (and Adam without decay) use the fused kernel from lib/tensor/fused
 * when the backend has one; otherwise plain TF.js ops. State (moments,
 * momentum buffers, step count) is exported for checkpoints and restored
 * bit for bit.
 */
import * as tf from "@tensorflow/tfjs-core";
import { fusedKernels } from "../tensor/fused.js";
import { TslmError } from "../util/errors.js";

export type OptimizerName = "adamw" | "adam" | "sgd";

export interface OptimizerOptions {
  name: OptimizerName;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  nesterov: boolean;
}

/** A trainable parameter: a stable name (used in checkpoints) and its variable. */
export interface Param {
  name: string;
  variable: tf.Variable;
}

interface Slot {
  param: Param;
  /** Adam: exp_avg; SGD: momentum_buffer. */
  m?: tf.Variable;
  /** Adam: exp_avg_sq. */
  v?: tf.Variable;
  decay: boolean;
}

/** Weight decay applies to matrices only (norm gains and biases are left alone, as in nanoGPT). */
function decays(v: tf.Variable): boolean {
  return v.shape.length >= 2;
}

export class Optimizer {
  /** Updates done so far (PyTorch's `state["step"]`). */
  step = 0;
  /** True when the last update ran the fused kernel for at least one parameter. */
  usedFused = false;
  private slots: Slot[];
  private byName = new Map<string, Slot>();

  constructor(params: readonly Param[], readonly options: OptimizerOptions) {
    this.slots = params.map((p) => {
      const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false));
      const slot: Slot = { param: p, decay: decays(p.variable) };
      if (options.name === "sgd") {
        if (options.momentum > 0) slot.m = zeros();
      } else {
        slot.m = zeros();
        slot.v = zeros();
      }
      if (this.byName.has(p.name)) throw new TslmError(`duplicate parameter name '${p.name}' given to the optimizer`);
      this.byName.set(p.name, slot);
      return slot;
    });
  }

  /** Names of the parameters this optimizer updates, in order. */
  paramNames(): string[] {
    return this.slots.map((s) => s.param.name);
  }

  /**
   * One update with learning rate `lr`. `grads` maps parameter names to
   * gradients (missing ones count as zero and skip the parameter, like
   * PyTorch's `grad is None`).
   */
  apply(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    this.usedFused = false;
    const o = this.options;
    const t = this.step;
    for (const s of this.slots) {
      const g = grads.get(s.param.name);
      if (!g) continue;
      const p = s.param.variable;
      const wd = s.decay ? o.weightDecay : 0;
      if (o.name === "sgd") {
        tf.tidy(() => this.sgd(s, g, lr, wd));
        continue;
      }
      const fused = fusedKernels().adamw;
      if (fused) {
        // AdamW maps directly; Adam's L2 decay is folded into the gradient first.
        const grad = o.name === "adam" && wd > 0 ? tf.tidy(() => tf.add(g, tf.mul(p, wd))) : g;
        const ok = fused(p, grad, s.m!, s.v!, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.name === "adamw" ? wd : 0, step: t });
        if (grad !== g) grad.dispose();
        if (ok) {
          this.usedFused = true;
          continue;
        }
      }
      tf.tidy(() => this.adam(s, g, lr, wd, t));
    }
  }

  private adam(s: Slot, g0: tf.Tensor, lr: number, wd: number, t: number): void {
    const o = this.options;
    const p = s.param.variable;
    let g = g0;
    let base: tf.Tensor = p;
    if (o.name === "adamw" && wd > 0) base = tf.mul(p, 1 - lr * wd);
    if (o.name === "adam" && wd > 0) g = tf.add(g, tf.mul(p, wd));
    const m = tf.add(tf.mul(s.m!, o.beta1), tf.mul(g, 1 - o.beta1));
    const v = tf.add(tf.mul(s.v!, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
    const bc1 = 1 - Math.pow(o.beta1, t);
    const bc2 = 1 - Math.pow(o.beta2, t);
    // torch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), o.eps);
    const next = tf.sub(base, tf.mul(tf.div(m, denom), lr / bc1));
    s.m!.assign(m);
    s.v!.assign(v);
    p.assign(next);
  }

  private sgd(s: Slot, g0: tf.Tensor, lr: number, wd: number): void {
    const o = this.options;
    const p = s.param.variable;
    let g = wd > 0 ? tf.add(g0, tf.mul(p, wd)) : g0;
    if (s.m) {
      // torch: first step buf = g; then buf = momentum * buf + g (dampening 0).
      const buf = this.step > 1 ? tf.add(tf.mul(s.m, o.momentum), g) : g;
      s.m.assign(buf);
      g = o.nesterov ? tf.add(g, tf.mul(buf, o.momentum)) : buf;
    }
    p.assign(tf.sub(p, tf.mul(g, lr)));
  }

  /** State tensors for a checkpoint, named `<param>.exp_avg`, `.exp_avg_sq`, `.momentum_buffer`. */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.slots) {
      if (this.options.name === "sgd") {
        if (s.m) out[`${s.param.name}.momentum_buffer`] = s.m;
      } else {
        out[`${s.param.name}.exp_avg`] = s.m!;
        out[`${s.param.name}.exp_avg_sq`] = s.v!;
      }
    }
    return out;
  }

  /** Restores state saved by `stateTensors` (and the step count). */
  loadState(tensors: ReadonlyMap<string, { data: Float32Array; shape: number[] }>, step: number): void {
    for (const [name, target] of Object.entries(this.stateTensors())) {
      const t = tensors.get(name);
      if (!t) throw new TslmError(`optimizer state has no tensor '${name}'`, { key: name });
      if (t.shape.join(",") !== target.shape.join(",")) {
        throw new TslmError(`optimizer state '${name}' has shape [${t.shape}], expected [${target.shape}]`, { key: name });
      }
      (target as tf.Variable).assign(tf.tensor(t.data, t.shape, "float32"));
    }
    this.step = step;
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m?.dispose();
      s.v?.dispose();
    }
  }
}

/**
 * Global L2 norm of all gradients; when `maxNorm` > 0 and the norm exceeds
 * it, the gradients are scaled by maxNorm / (norm + 1e-6) (PyTorch's
 * clip_grad_norm_). Returns the norm before clipping and the new map.
 */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { norm: number; grads: Map<string, tf.Tensor> } {
  const list = [...grads.values()];
  if (list.length === 0) return { norm: 0, grads };
  const normT = tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))));
  const norm = normT.dataSync()[0];
  normT.dispose();
  if (!(maxNorm > 0) || !(norm > maxNorm)) return { norm, grads };
  const coef = maxNorm / (norm + 1e-6);
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) {
    out.set(k, tf.mul(g, coef));
    g.dispose();
  }
  return { norm, grads: out };
}
