/**
 * Activation checkpointing (Chen et al. 2016, "Training Deep Nets with
 * Sublinear Memory Cost"; PyTorch's `torch.utils.checkpoint`): a computation
 * that keeps only its input for the backward pass and runs again, under a
 * tape of its own, when the backward pass reaches it.
 *
 * TF.js records every op of a differentiated function and keeps the tensors
 * each op's gradient needs until the whole backward pass ends, so a decoder
 * keeps every layer's intermediates at once. Here a computation runs as one
 * `tf.customGrad` op: its forward pass runs inside the op (TF.js records no
 * op inside another), which saves only the computation's input, and its
 * gradient function recomputes the computation under a fresh tape to get the
 * gradient of the input and of the trainable variables it reads.
 *
 * `tf.customGrad` returns gradients for its explicit inputs only, so the
 * trainable variables are passed as inputs; gradients are exact (the
 * recomputation runs the same kernels on the same values), first order only.
 * `chunkedRows` applies the same idea across rows instead of layers (the loss
 * over the vocabulary). The fresh tape uses tfjs-core 4.22's engine state
 * (`gradientDepth`, `kernelDepth`, `activeTape`; the version is pinned).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Linear } from "./linear.js";
import { LoraLinear } from "./lora.js";

/** tf.customGrad's parameter type (not exported by name from tfjs-core). */
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Runs `fn` in the state (dropout seeds, active adapters) a forward pass ran in. */
export type ReplayState = <T>(fn: () => T) => T;

const replayAsIs: ReplayState = (fn) => fn();

/**
 * Captures the state besides tensors that a forward pass through `linears`
 * reads (each LoRA layer's training flag, dropout seed, switch and active
 * adapters) and returns a function that runs a recomputation in it: a
 * checkpointed layer recomputed in the backward pass then draws the same
 * dropout masks and applies the same adapters as the forward pass did, even
 * if the caller changed them in between.
 */
export function captureLinearState(linears: Iterable<Linear>): ReplayState {
  const loras = [...linears].filter((l): l is LoraLinear => l instanceof LoraLinear);
  if (loras.length === 0) return replayAsIs;
  const take = () => ({ contexts: [...new Set(loras.map((l) => l.context))].map((c) => [c, { ...c }] as const), active: loras.map((l) => l.active) });
  const put = (state: ReturnType<typeof take>) => {
    for (const [c, v] of state.contexts) Object.assign(c, v);
    loras.forEach((l, i) => (l.active = state.active[i]));
  };
  const then = take();
  return (fn) => {
    const now = take();
    put(then);
    try {
      return fn();
    } finally {
      put(now);
    }
  };
}

/**
 * True when `linear` draws a LoRA dropout mask in a pass now. A mask is drawn
 * for the whole input of a call (lora.ts), so such a layer applied to row
 * chunks would draw other masks than on all rows at once (and repeat one mask
 * in every chunk).
 */
export function drawsDropout(linear: Linear): boolean {
  if (!(linear instanceof LoraLinear) || !linear.context.training || !linear.context.enabled) return false;
  return linear.active.some((n) => !linear.merged.has(n) && (linear.adapters.get(n)?.settings.dropout ?? 0) > 0);
}

/** True while TF.js records ops for a gradient (inside the function given to `tf.grads` or `tf.variableGrads`). */
export function recordingGradients(): boolean {
  const s = tf.engine().state;
  return s.gradientDepth > 0 && s.kernelDepth === 0;
}

/**
 * `f()` and the gradients of `sum(f() * dy)` with respect to `xs`, under a
 * tape of its own: usable from inside a gradient function or a custom op's
 * forward pass, where TF.js records nothing. Tensors `f` does not read get
 * zeros. The outer tape is left as it was: TF.js's `engine.gradients` would
 * replace it, and dispose its saved tensors, when called at gradient depth 0,
 * which is where a backward pass runs.
 */
export function vjp(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy: tf.Tensor): { value: tf.Tensor; grads: tf.Tensor[] } {
  const engine = tf.engine();
  const s = engine.state;
  const outer = { tape: s.activeTape, gradientDepth: s.gradientDepth, kernelDepth: s.kernelDepth };
  s.gradientDepth = 0;
  s.kernelDepth = 0;
  try {
    const { value, grads } = engine.gradients(f, [...xs], dy, true);
    return { value, grads: grads.map((g, i) => g ?? tf.zerosLike(xs[i])) };
  } finally {
    s.activeTape = outer.tape;
    s.gradientDepth = outer.gradientDepth;
    s.kernelDepth = outer.kernelDepth;
  }
}

/** `vjp`'s gradients only. */
function gradientsOf(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const { value, grads } = vjp(f, xs, dy);
  value.dispose();
  return grads;
}

/** Distinct trainable float32 variables, in first-seen order. */
function trainable(vars: Iterable<tf.Variable>): tf.Variable[] {
  const out = new Set<tf.Variable>();
  for (const v of vars) if (v.trainable && v.dtype === "float32") out.add(v);
  return [...out];
}

/** Adds `d` into slot `j` of `acc` (disposing what it replaces). */
function accumulate(acc: (tf.Tensor | null)[], j: number, d: tf.Tensor): void {
  const prev = acc[j];
  if (!prev) {
    acc[j] = d;
    return;
  }
  acc[j] = tf.add(prev, d);
  prev.dispose();
  d.dispose();
}

/** One computation of a checkpointed sequence. */
export interface Segment {
  /** x -> y; reads `constants` (rotary tables, masks) from its argument, never from a closure. */
  run(x: tf.Tensor, constants: readonly tf.Tensor[]): tf.Tensor;
  /** Variables `run` reads; the trainable float32 ones get gradients. */
  variables: readonly tf.Variable[];
}

export interface CheckpointOptions {
  /**
   * Tensors every segment reads that need no gradient (rotary tables,
   * masks). They are saved with the inputs, because the caller's `tf.tidy`
   * releases the originals before the backward pass recomputes.
   */
  constants?: readonly tf.Tensor[];
  /** Re-enters the forward pass's state around each recomputation (captured when the forward pass runs). */
  replay?: ReplayState;
}

/**
 * `segments[n-1](... segments[0](x))` keeping, for the backward pass, only
 * each segment's input: the backward pass recomputes one segment at a time,
 * from the last, and frees each saved input once its segment is done. When
 * no gradient is being recorded this is the plain composition.
 */
export function checkpointSequential(segments: readonly Segment[], x: tf.Tensor, options: CheckpointOptions = {}): tf.Tensor {
  const constants = options.constants ?? [];
  if (segments.length === 0) return x;
  if (!recordingGradients()) return segments.reduce((y, s) => s.run(y, constants), x);
  const replay = options.replay ?? replayAsIs;
  const params = trainable(segments.flatMap((s) => [...s.variables]));
  const slot = new Map(params.map((v, j) => [v, j]));
  const n = segments.length;
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const inputs: tf.Tensor[] = [args[0] as tf.Tensor];
    let y = inputs[0];
    for (let i = 0; i < n; i++) {
      // One tidy per segment: its intermediates go before the next segment runs.
      const xi = y;
      y = tf.tidy(() => segments[i].run(xi, constants));
      if (i < n - 1) inputs.push(y);
    }
    save([...inputs, ...constants]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const xs = saved.slice(0, n);
      const cs = saved.slice(n);
      const acc: (tf.Tensor | null)[] = params.map(() => null);
      let g = dy;
      for (let i = n - 1; i >= 0; i--) {
        const vars = trainable(segments[i].variables);
        const xi = xs[i];
        const out = tf.tidy(() => replay(() => gradientsOf(() => segments[i].run(xi, cs), [xi, ...vars], g)));
        if (g !== dy) g.dispose();
        g = out[0];
        vars.forEach((v, k) => accumulate(acc, slot.get(v)!, out[k + 1]));
        // Saved tensors are the engine's kept clones: releasing each input once its segment is
        // done lets the backward pass shrink as it goes (the engine's own release later is a no-op).
        xi.dispose();
      }
      return [g, ...params.map((p, j) => acc[j] ?? tf.zerosLike(p))];
    };
    return { value: y, gradFunc };
  }) as unknown as CustomGradFn);
  return f(x, ...params);
}

/** Options of `chunkedRows`. */
export interface ChunkedRowsOptions {
  /** Row-aligned tensors `[N, ...]` that `fn` reads a chunk of and that need no gradient (labels). */
  rowConstants?: readonly tf.Tensor[];
  /** Variables `fn` reads; the trainable float32 ones get gradients. */
  variables?: readonly tf.Variable[];
  replay?: ReplayState;
}

/**
 * `fn` applied to chunks of `rows` rows of x `[N, ...]` (and of each row
 * constant), the results concatenated along the first axis, for a `fn` whose
 * output row r depends only on input row r and is far wider than its input
 * (logits over a vocabulary): only one chunk's intermediates exist at a
 * time, forward and backward.
 *
 * Under a tape, when no trainable variable is read, each chunk's gradient
 * with respect to its input rows is computed in the forward pass (row r's
 * output depends on row r alone, so the vector-Jacobian product with ones
 * gives each row's own gradient) and the backward pass only scales it by the
 * incoming gradient: no recomputation. With trainable variables the backward
 * pass recomputes each chunk. `fn` must return one value per row (`[rows]`).
 */
export function chunkedRows(fn: (x: tf.Tensor, rowConstants: readonly tf.Tensor[]) => tf.Tensor, x: tf.Tensor, rows: number, options: ChunkedRowsOptions = {}): tf.Tensor {
  if (!(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`chunk rows must be a positive integer, got ${rows}`);
  const N = x.shape[0];
  const rc = options.rowConstants ?? [];
  const starts: number[] = [];
  for (let s = 0; s < Math.max(N, 1); s += rows) starts.push(s); // one (empty) chunk when N = 0
  const part = (t: tf.Tensor, s: number) => (starts.length === 1 ? t : tf.slice(t, s, Math.min(rows, N - s)));
  const chunk = (xs: tf.Tensor, cs: readonly tf.Tensor[], s: number) => fn(part(xs, s), cs.map((c) => part(c, s)));
  const concat = (ts: tf.Tensor[]) => (ts.length === 1 ? ts[0] : tf.concat(ts, 0));
  if (!recordingGradients()) return concat(starts.map((s) => tf.tidy(() => chunk(x, rc, s))));
  const replay = options.replay ?? replayAsIs;
  const params = trainable(options.variables ?? []);

  if (params.length === 0) {
    // Only x needs a gradient: per-row gradients now, the backward pass scales them.
    const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
      const values: tf.Tensor[] = [], rowGrads: tf.Tensor[] = [];
      for (const s of starts) {
        const [v, g] = tf.tidy(() => {
          const xc = part(xi, s), cs = rc.map((c) => part(c, s));
          const { value, grads } = vjp(() => fn(xc, cs), [xc], tf.ones([Math.min(rows, N - s)]));
          return [value, grads[0]];
        });
        values.push(v);
        rowGrads.push(g);
      }
      const value = concat(values);
      const G = concat(rowGrads); // [N, ...] d out[r] / d x[r]
      save([G]);
      const gradFunc = (dy: tf.Tensor, [Gs]: tf.Tensor[]) => tf.mul(Gs, tf.reshape(dy, [N, ...Array(Gs.rank - 1).fill(1)]));
      return { value, gradFunc };
    }) as unknown as CustomGradFn);
    return f(x);
  }

  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor;
    const value = concat(starts.map((s) => tf.tidy(() => chunk(xi, rc, s))));
    save([xi, ...rc]);
    const gradFunc = (dy: tf.Tensor, [xs, ...cs]: tf.Tensor[]): tf.Tensor[] => {
      const acc: (tf.Tensor | null)[] = params.map(() => null);
      const dxs: tf.Tensor[] = [];
      for (const s of starts) {
        const out = tf.tidy(() => {
          const xc = part(xs, s), ccs = cs.map((c) => part(c, s));
          return replay(() => gradientsOf(() => fn(xc, ccs), [xc, ...params], part(dy, s)));
        });
        dxs.push(out[0]);
        params.forEach((_, j) => accumulate(acc, j, out[j + 1]));
      }
      const dx = concat(dxs);
      if (dxs.length > 1) tf.dispose(dxs);
      return [dx, ...params.map((p, j) => acc[j] ?? tf.zerosLike(p))];
    };
    return { value, gradFunc };
  }) as unknown as CustomGradFn);
  return f(x, ...params);
}
