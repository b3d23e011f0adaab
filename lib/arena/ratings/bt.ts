/**
 * Bradley-Terry maximum likelihood, as Chatbot Arena fits it
 * (FastChat `fastchat/serve/monitor/rating_systems.py`, `bt_loss_and_grad`):
 *
 *   P(a beats b) = s(alpha (t_a - t_b)),  s = logistic,  alpha = ln(base)
 *   loss(t) = -sum_k w_k [y_k ln s(x_k) + (1 - y_k) ln s(-x_k)] + l2/2 |t|^2
 *
 * with y_k in {1, 0.5, 0} (a tie is half a win and half a loss) and w_k the
 * count of unique (a, b, outcome) row k. Ratings are `scale * t + init`,
 * shifted so an optional anchor model has a fixed rating.
 *
 * FastChat minimises this with L-BFGS from zero. Here the rows are folded
 * onto unordered pairs first (the likelihood only depends on each pair's
 * total score S and count N) and the convex loss is minimised by Newton's
 * method with a backtracking line search: with 50 models the Hessian is
 * 50 x 50, so each step is cheap and 3-5 steps reach 1e-9 from a warm start,
 * which is what makes 1,000 bootstrap rounds fast.
 *
 * Gauge: without L2 the loss is unchanged by adding a constant to every t in
 * a connected component of the comparison graph; each component is kept at
 * mean zero (the point L-BFGS from zero reaches as well, since every
 * gradient sums to zero over a component).
 */
import { components, type OutcomeCounts, type PairLayout, pairLayout } from "./compact.js";
import { solveSPD } from "./linalg.js";

/** Solver settings; every field has a default (see `DEFAULT_BT_SOLVER`). */
export interface BTSolverOptions {
  /** Logit per natural-scale unit: ln(base). Default ln 10 (Elo's base 10). */
  alpha?: number;
  /** L2 penalty on t (natural scale). Default 0: the plain MLE, as Chatbot Arena. */
  l2?: number;
  /** Stop when the largest Newton step is below this (natural scale; 1e-9 = 4e-7 rating points). */
  tol?: number;
  /** Newton iterations at most. Default 100 (a fit from zero takes ~6-10). */
  maxIter?: number;
}

export const DEFAULT_BT_SOLVER: Required<BTSolverOptions> = {
  alpha: Math.LN10,
  l2: 0,
  tol: 1e-9,
  maxIter: 100,
};

/** Pair-level sufficient statistics: [P] score of the lower-index model and battle count. */
export interface PairStats {
  S: Float64Array;
  N: Float64Array;
}

/** Folds unique-row weights onto pairs. `weights` defaults to the observed counts. */
export function pairStats(counts: OutcomeCounts, layout: PairLayout, weights: Float64Array = counts.count, out?: PairStats): PairStats {
  const p = layout.i.length;
  const S = out?.S ?? new Float64Array(p);
  const N = out?.N ?? new Float64Array(p);
  S.fill(0);
  N.fill(0);
  const { pairOf, lowScore } = layout;
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k];
    const q = pairOf[k];
    S[q] += w * lowScore[k];
    N[q] += w;
  }
  return { S, N };
}

/** ln(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** The BT loss at t (natural scale). */
export function btLoss(t: Float64Array, layout: PairLayout, stats: PairStats, alpha: number, l2: number): number {
  let loss = 0;
  for (let q = 0; q < layout.i.length; q++) {
    const n = stats.N[q];
    if (n === 0) continue;
    const x = alpha * (t[layout.i[q]] - t[layout.j[q]]);
    const s = stats.S[q];
    loss += s * softplus(-x) + (n - s) * softplus(x);
  }
  if (l2 > 0) for (let k = 0; k < t.length; k++) loss += 0.5 * l2 * t[k] * t[k];
  return loss;
}

/**
 * The gradient of the BT loss at t, and with `hess` its Hessian (a weighted
 * graph Laplacian plus l2 I, [M, M] row-major), in one pass over the pairs
 * with one exp per pair.
 */
export function btGradient(t: Float64Array, layout: PairLayout, stats: PairStats, alpha: number, l2: number, grad: Float64Array, hess?: Float64Array): void {
  const m = t.length;
  grad.fill(0);
  hess?.fill(0);
  const a2 = alpha * alpha;
  const { i: pi, j: pj } = layout;
  const { S, N } = stats;
  for (let q = 0; q < pi.length; q++) {
    const n = N[q];
    if (n === 0) continue;
    const i = pi[q];
    const j = pj[q];
    const x = alpha * (t[i] - t[j]);
    const e = Math.exp(-Math.abs(x));
    const p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    const d = alpha * (n * p - S[q]);
    grad[i] += d;
    grad[j] -= d;
    if (hess) {
      const w = a2 * n * p * (1 - p);
      hess[i * m + i] += w;
      hess[j * m + j] += w;
      hess[i * m + j] -= w;
      hess[j * m + i] -= w;
    }
  }
  if (l2 > 0) {
    for (let k = 0; k < m; k++) {
      grad[k] += l2 * t[k];
      if (hess) hess[k * m + k] += l2;
    }
  }
}

/**
 * The BT loss and its gradient at t (natural scale), FastChat's `bt_loss_and_grad`.
 * @returns loss; writes d loss / d t into `grad` ([M]).
 */
export function btLossAndGrad(t: Float64Array, layout: PairLayout, stats: PairStats, alpha: number, l2: number, grad: Float64Array): number {
  btGradient(t, layout, stats, alpha, l2, grad);
  return btLoss(t, layout, stats, alpha, l2);
}

/** Scratch buffers reused across bootstrap rounds. */
export interface BTWorkspace {
  grad: Float64Array;
  /** [M, M] Hessian, row-major, factorised in place. */
  hess: Float64Array;
  step: Float64Array;
  trial: Float64Array;
}

export function btWorkspace(m: number): BTWorkspace {
  return { grad: new Float64Array(m), hess: new Float64Array(m * m), step: new Float64Array(m), trial: new Float64Array(m) };
}

export interface BTFit {
  /** [M] natural-scale strengths, mean zero in each component when l2 = 0. */
  t: Float64Array;
  iterations: number;
  converged: boolean;
  /** Number of connected components among models that played (1 = all comparable). */
  components: number;
}

/**
 * Minimises the BT loss by damped Newton steps from `t0` (default zeros).
 * `t0` should already satisfy the gauge (mean zero per component), as a
 * previous fit does.
 *
 * Each iteration makes one pass over the pairs (gradient and Hessian share
 * one exp per pair) and one Cholesky solve. Far from the optimum a
 * backtracking line search keeps the loss decreasing; close to it (steps
 * that change rating differences by less than 1/alpha) the full step is
 * provably a descent step and is taken without evaluating the loss; once a full step is below sqrt(tol) / 10 the next one would be
 * below tol (quadratic convergence), so the solver stops there.
 */
export function newtonBT(
  m: number,
  layout: PairLayout,
  stats: PairStats,
  options: BTSolverOptions = {},
  t0?: Float64Array,
  ws: BTWorkspace = btWorkspace(m),
): BTFit {
  const { alpha, l2, tol, maxIter } = { ...DEFAULT_BT_SOLVER, ...options };
  const t = t0 ? Float64Array.from(t0) : new Float64Array(m);
  const comp = components(m, layout, stats.N);
  const played = playedMask(m, layout, stats);
  const seen = new Set<number>();
  for (let k = 0; k < m; k++) if (played[k]) seen.add(comp[k]);

  const { grad, hess, step, trial } = ws;
  const quadraticStop = Math.sqrt(tol) / 10;
  let loss = NaN; // evaluated lazily: only the line search needs it
  let converged = false;
  let it = 0;
  for (; it < maxIter; it++) {
    btGradient(t, layout, stats, alpha, l2, grad, hess);
    addGauge(hess, m, l2, comp, played);
    for (let k = 0; k < m; k++) step[k] = played[k] || l2 > 0 ? -grad[k] : 0;
    solveSPD(hess, step, m);
    let maxStep = 0;
    let slope = 0;
    let hi = -Infinity;
    let lo = Infinity;
    for (let k = 0; k < m; k++) {
      maxStep = Math.max(maxStep, Math.abs(step[k]));
      slope += grad[k] * step[k];
      if (played[k]) {
        hi = Math.max(hi, step[k]);
        lo = Math.min(lo, step[k]);
      }
    }
    if (!(maxStep < Infinity)) break; // singular beyond repair: keep the last finite point
    if (maxStep < tol) {
      converged = true;
      break;
    }
    let size = 1;
    if (alpha * (hi - lo) <= 1) {
      // The logistic loss is generalized self-concordant (Bach 2010, "Self-concordant
      // analysis for logistic regression", Lemma 1): along a Newton step d with
      // R = alpha * max|d_i - d_j| <= 1 the loss drops by at least
      // (1 - (e^R - R - 1) / R^2) * lambda^2 >= 0.28 lambda^2 (lambda^2 = -g.d),
      // so the full step passes the Armijo test without evaluating the loss.
      for (let k = 0; k < m; k++) t[k] += step[k];
      loss = NaN;
    } else {
      // Backtracking (Armijo) line search.
      if (Number.isNaN(loss)) loss = btLoss(t, layout, stats, alpha, l2);
      let accepted = false;
      for (let h = 0; h < 40; h++) {
        for (let k = 0; k < m; k++) trial[k] = t[k] + size * step[k];
        const next = btLoss(trial, layout, stats, alpha, l2);
        if (next <= loss + 1e-4 * size * slope + 1e-13 * Math.abs(loss)) {
          loss = next;
          accepted = true;
          break;
        }
        size *= 0.5;
      }
      if (!accepted) break;
      t.set(trial);
    }
    if (size === 1 && maxStep < quadraticStop) {
      converged = true;
      it++;
      break;
    }
  }
  return { t, iterations: it, converged, components: seen.size };
}

/**
 * When l2 = 0, adds c * 1_C 1_C^T for each component C (fixes the gauge:
 * the solution of (H + c 1 1^T) d = -g then has sum(d) = 0 on C, because g
 * sums to zero on C). Models that did not play get an identity row (their
 * step is zero).
 */
export function addGauge(hess: Float64Array, m: number, l2: number, comp: Int32Array, played: Uint8Array): void {
  if (l2 > 0) return;
  let diag = 0;
  let count = 0;
  for (let k = 0; k < m; k++) {
    if (played[k]) {
      diag += hess[k * m + k];
      count++;
    }
  }
  const c = count > 0 ? diag / count / count + 1e-12 : 1;
  for (let x = 0; x < m; x++) {
    const row = x * m;
    if (!played[x]) {
      hess[row + x] = 1;
      continue;
    }
    const cx = comp[x];
    for (let y = 0; y < m; y++) if (played[y] && comp[y] === cx) hess[row + y] += c;
  }
}

/**
 * Fits BT on unique outcome counts.
 * @example fitBradleyTerry(preprocessBattles(battles)).t
 */
export function fitBradleyTerry(counts: OutcomeCounts, options: BTSolverOptions = {}): BTFit & { layout: PairLayout } {
  const layout = pairLayout(counts);
  const fit = newtonBT(counts.models.length, layout, pairStats(counts, layout), options);
  return { ...fit, layout };
}

/** [M] 1 for models with at least one battle of weight > 0. */
export function playedMask(m: number, layout: PairLayout, stats: PairStats): Uint8Array {
  const played = new Uint8Array(m);
  for (let q = 0; q < layout.i.length; q++) {
    if (stats.N[q] > 0) {
      played[layout.i[q]] = 1;
      played[layout.j[q]] = 1;
    }
  }
  return played;
}
