/**
 * Style control (Chatbot Arena's "contextual" Bradley-Terry, FastChat
 * `fit_contextual_bt`): per-battle style features enter the BT logit, so
 * the model strengths are measured with answer length, headers, lists and
 * the like held equal.
 *
 *   feature_f = (a_f - b_f) / (a_f + b_f + 1)      (or a_f - b_f when ratio = false)
 *   z-scored over battles (population std)
 *   x_n = alpha (t_a - t_b) + sum_f beta_f z_nf
 *   loss = -sum_n w_n [y_n ln s(x_n) + (1 - y_n) ln s(-x_n)] + reg/2 |(t, beta)|^2
 *
 * reg defaults to 0.5 as FastChat's. Fitted by the shared Newton solver
 * (newton.ts): steps solve the (M + F) x (M + F) Hessian densely up to
 * `DENSE_MAX_MODELS` models, above it by conjugate gradients on
 * Hessian-vector products over the battles (never forming the matrix).
 */
import { DataError } from "../../util/errors.js";
import type { BattleRecord } from "../types.js";
import type { BattleArrays } from "./compact.js";
import { DENSE_MAX_MODELS, RATING_DEFAULTS } from "./defaults.js";
import { solveCG, solveSPD } from "./linalg.js";
import { sigmoid, softplus } from "./logistic.js";
import { newtonMinimize, type NewtonProblem } from "./newton.js";

export interface StyleOptions {
  /** Style features to use (keys of `BattleRecord.style`). Default: every key present in all battles. */
  features?: string[];
  /** Divide each difference by (a + b + 1), as Chatbot Arena does for length etc. Default true. */
  ratio?: boolean;
  /** L2 penalty on every parameter. Default 0.5 (FastChat). */
  l2?: number;
}

export interface StyleFeatures {
  names: string[];
  /** [N, F] z-scored features, row-major, aligned with the battle arrays. */
  z: Float64Array;
  mean: Float64Array;
  std: Float64Array;
}

/** Builds the z-scored style features of the kept battles (`arrays.source` maps them back). */
export function styleFeatures(battles: readonly BattleRecord[], arrays: BattleArrays, options: StyleOptions = {}): StyleFeatures {
  const ratio = options.ratio ?? true;
  const n = arrays.source.length;
  let names = options.features;
  if (!names) {
    const first = n > 0 ? battles[arrays.source[0]].style : undefined;
    names = Object.keys(first ?? {})
      .filter((f) => arrays.source.every((i) => battles[i].style?.[f] !== undefined))
      .sort();
  }
  if (names.length === 0) throw new DataError("style control needs style features on the battles (BattleRecord.style), and none are present in every battle");
  const f = names.length;
  const z = new Float64Array(n * f);
  for (let r = 0; r < n; r++) {
    const rec = battles[arrays.source[r]];
    for (let c = 0; c < f; c++) {
      const pair = rec.style?.[names[c]];
      if (!Array.isArray(pair) || !Number.isFinite(pair[0]) || !Number.isFinite(pair[1])) {
        throw new DataError(`battle ${arrays.source[r]}: style feature '${names[c]}' must be a pair of numbers [a, b]`, {
          key: `battles[${arrays.source[r]}].style.${names[c]}`,
        });
      }
      const d = pair[0] - pair[1];
      z[r * f + c] = ratio ? d / (pair[0] + pair[1] + 1) : d;
    }
  }
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (let c = 0; c < f; c++) {
    let s = 0;
    for (let r = 0; r < n; r++) s += z[r * f + c];
    mean[c] = s / n;
    let v = 0;
    for (let r = 0; r < n; r++) v += (z[r * f + c] - mean[c]) ** 2;
    std[c] = Math.sqrt(v / n);
    // A constant feature carries no information: leave it at zero.
    const inv = std[c] > 0 ? 1 / std[c] : 0;
    for (let r = 0; r < n; r++) z[r * f + c] = (z[r * f + c] - mean[c]) * inv;
  }
  return { names, z, mean, std };
}

export interface StyleFit {
  /** [M] natural-scale strengths. */
  t: Float64Array;
  /** [F] coefficients on the z-scored features (logit units). */
  beta: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * Fits the contextual BT model. `weights` ([N], default all ones) lets the
 * bootstrap reweight battles; `start` ([M + F]) warm-starts.
 */
export function fitStyleBT(
  arrays: BattleArrays,
  feats: StyleFeatures,
  options: { alpha?: number; l2?: number; tol?: number; maxIter?: number; solver?: "auto" | "dense" | "sparse" } = {},
  weights?: Float64Array,
  start?: Float64Array,
): StyleFit {
  const m = arrays.models.length;
  const theta = start ? Float64Array.from(start) : new Float64Array(m + feats.names.length);
  const alpha = options.alpha ?? Math.log(RATING_DEFAULTS.base);
  const reg = options.l2 ?? RATING_DEFAULTS.styleL2;
  const sparse = options.solver === "sparse" || (options.solver !== "dense" && m > DENSE_MAX_MODELS);
  const problem = sparse ? sparseStyleProblem(arrays, feats, alpha, reg, weights) : styleProblem(arrays, feats, alpha, reg, weights);
  const r = newtonMinimize(problem, theta, { tol: options.tol ?? RATING_DEFAULTS.tol, maxIter: options.maxIter ?? RATING_DEFAULTS.maxIter });
  return { t: theta.slice(0, m), beta: theta.slice(m), iterations: r.iterations, converged: r.converged };
}

/** Models m, features f, parameters d = m + f, battles n, and the battles' features z [n, f]. */
function sizes(arrays: BattleArrays, feats: StyleFeatures): { m: number; f: number; d: number; n: number; z: Float64Array } {
  const m = arrays.models.length, f = feats.names.length;
  return { m, f, d: m + f, n: arrays.a.length, z: feats.z };
}

/** The contextual BT loss over battles as a Newton problem: parameters (t [M], beta [F]). */
function styleProblem(arrays: BattleArrays, feats: StyleFeatures, alpha: number, reg: number, weights?: Float64Array): NewtonProblem {
  const { m, f, d, n, z } = sizes(arrays, feats);
  const hess = new Float64Array(d * d);
  const logit = battleDot(arrays, feats, alpha);
  return {
    loss: (th) => styleLoss(arrays, feats, alpha, reg, weights, th),
    direction(th, grad, step) {
      grad.fill(0);
      hess.fill(0);
      for (let r = 0; r < n; r++) {
        const w = weights ? weights[r] : 1;
        if (w === 0) continue;
        const p = sigmoid(logit(th, r));
        const e = w * (p - arrays.score[r]);
        const h = w * p * (1 - p);
        const ia = arrays.a[r];
        const ib = arrays.b[r];
        grad[ia] += alpha * e;
        grad[ib] -= alpha * e;
        // H += h v v^T with v = alpha (e_a - e_b) + (0, z_r)
        const a2h = alpha * alpha * h;
        hess[ia * d + ia] += a2h;
        hess[ib * d + ib] += a2h;
        hess[ia * d + ib] -= a2h;
        hess[ib * d + ia] -= a2h;
        for (let c = 0; c < f; c++) {
          const zc = z[r * f + c];
          grad[m + c] += e * zc;
          const cross = alpha * h * zc;
          hess[ia * d + m + c] += cross;
          hess[(m + c) * d + ia] += cross;
          hess[ib * d + m + c] -= cross;
          hess[(m + c) * d + ib] -= cross;
          for (let c2 = 0; c2 < f; c2++) hess[(m + c) * d + m + c2] += h * zc * z[r * f + c2];
        }
      }
      for (let k = 0; k < d; k++) {
        grad[k] += reg * th[k];
        hess[k * d + k] += reg;
        step[k] = -grad[k];
      }
      solveSPD(hess, step, d);
    },
  };
}

/** u_r . v for battle r, u_r = alpha (e_a - e_b) + (0, z_r): battle r's logit when v is the parameters. */
function battleDot(arrays: BattleArrays, feats: StyleFeatures, alpha: number): (v: Float64Array, r: number) => number {
  const m = arrays.models.length;
  const f = feats.names.length;
  const z = feats.z;
  return (v, r) => {
    let x = alpha * (v[arrays.a[r]] - v[arrays.b[r]]);
    for (let c = 0; c < f; c++) x += v[m + c] * z[r * f + c];
    return x;
  };
}

/** The contextual BT loss at th, over the battles' logits. */
function styleLoss(arrays: BattleArrays, feats: StyleFeatures, alpha: number, reg: number, weights: Float64Array | undefined, th: Float64Array): number {
  const logit = battleDot(arrays, feats, alpha);
  let loss = 0;
  for (let r = 0; r < arrays.a.length; r++) {
    const w = weights ? weights[r] : 1;
    if (w === 0) continue;
    const x = logit(th, r);
    const y = arrays.score[r];
    loss += w * (y * softplus(-x) + (1 - y) * softplus(x));
  }
  for (let k = 0; k < th.length; k++) loss += 0.5 * reg * th[k] * th[k];
  return loss;
}

/**
 * The same problem for many models: Newton steps by conjugate gradients on
 * H v = sum_n h_n (u_n . v) u_n + reg v, u_n = alpha (e_a - e_b) + (0, z_n),
 * O(battles * features) per product instead of an (M + F)^2 matrix.
 */
function sparseStyleProblem(arrays: BattleArrays, feats: StyleFeatures, alpha: number, reg: number, weights?: Float64Array): NewtonProblem {
  const { m, f, d, n, z } = sizes(arrays, feats);
  const h = new Float64Array(n);
  const diag = new Float64Array(d);
  const dot = battleDot(arrays, feats, alpha);
  const apply = (v: Float64Array, out: Float64Array): void => {
    for (let k = 0; k < d; k++) out[k] = reg * v[k];
    for (let r = 0; r < n; r++) {
      if (h[r] === 0) continue;
      const s = h[r] * dot(v, r);
      out[arrays.a[r]] += alpha * s;
      out[arrays.b[r]] -= alpha * s;
      for (let c = 0; c < f; c++) out[m + c] += s * z[r * f + c];
    }
  };
  return {
    loss: (th) => styleLoss(arrays, feats, alpha, reg, weights, th),
    direction(th, grad, step) {
      grad.fill(0);
      diag.fill(reg);
      for (let r = 0; r < n; r++) {
        const w = weights ? weights[r] : 1;
        const p = sigmoid(dot(th, r));
        const e = w * (p - arrays.score[r]);
        h[r] = w * p * (1 - p);
        grad[arrays.a[r]] += alpha * e;
        grad[arrays.b[r]] -= alpha * e;
        diag[arrays.a[r]] += alpha * alpha * h[r];
        diag[arrays.b[r]] += alpha * alpha * h[r];
        for (let c = 0; c < f; c++) {
          grad[m + c] += e * z[r * f + c];
          diag[m + c] += h[r] * z[r * f + c] ** 2;
        }
      }
      for (let k = 0; k < d; k++) grad[k] += reg * th[k];
      solveCG(apply, diag, Float64Array.from(grad, (g) => -g), step);
    },
  };
}
