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
 * method (newton.ts). The Hessian is a weighted graph Laplacian: up to
 * `DENSE_MAX_MODELS` models it is solved by a dense Cholesky factor (3-5
 * steps reach 1e-9 from a warm start, which makes 1,000 bootstrap rounds
 * fast); above, by conjugate gradients on the sparse Laplacian, so 1,000
 * models cost O(pairs) per step instead of a 1,000 x 1,000 factorisation.
 *
 * Gauge: without L2 the loss is unchanged by adding a constant to every t in
 * a connected component of the comparison graph; each component keeps the
 * mean of its starting point (zero from a cold start: the point L-BFGS from
 * zero reaches as well, since every gradient sums to zero over a component).
 *
 * Without L2 the maximum-likelihood ratings exist only where the win graph
 * is strongly connected (graph.ts); `fitBradleyTerry` fits that part and
 * reports the other models as +/-infinity or unplaced, never as a number.
 */
import { type OutcomeCounts, type PairIndex, type PairLayout, pairLayout } from "./compact.js";
import { DENSE_MAX_MODELS, RATING_DEFAULTS } from "./defaults.js";
import { centreComponents, components, identify, type Identification, Placement, playedMask } from "./graph.js";
import { solveLaplacianCG, solveSPD } from "./linalg.js";
import { sigmoid, softplus } from "./logistic.js";
import { newtonMinimize, type NewtonProblem } from "./newton.js";

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
  /** How Newton steps are solved: dense Cholesky, sparse conjugate gradients, or by model count ("auto"). */
  solver?: "auto" | "dense" | "sparse";
}

export const DEFAULT_BT_SOLVER: Required<BTSolverOptions> = {
  alpha: Math.log(RATING_DEFAULTS.base),
  l2: 0,
  tol: RATING_DEFAULTS.tol,
  maxIter: RATING_DEFAULTS.maxIter,
  solver: "auto",
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

/** The BT loss at t (natural scale). */
export function btLoss(t: Float64Array, layout: PairIndex, stats: PairStats, alpha: number, l2: number): number {
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
 * The gradient of the BT loss at t; with `hess` its Hessian (a weighted
 * graph Laplacian plus l2 I, [M, M] row-major), with `weights` the
 * Laplacian's pair weights ([P]); one pass over the pairs, one exp per pair.
 */
export function btGradient(
  t: Float64Array,
  layout: PairIndex,
  stats: PairStats,
  alpha: number,
  l2: number,
  grad: Float64Array,
  hess?: Float64Array,
  weights?: Float64Array,
): void {
  const m = t.length;
  grad.fill(0);
  hess?.fill(0);
  const a2 = alpha * alpha;
  const { i: pi, j: pj } = layout;
  const { S, N } = stats;
  for (let q = 0; q < pi.length; q++) {
    const n = N[q];
    if (n === 0) {
      if (weights) weights[q] = 0;
      continue;
    }
    const i = pi[q];
    const j = pj[q];
    const p = sigmoid(alpha * (t[i] - t[j]));
    const d = alpha * (n * p - S[q]);
    grad[i] += d;
    grad[j] -= d;
    const w = a2 * n * p * (1 - p);
    if (weights) weights[q] = w;
    if (hess) {
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
export function btLossAndGrad(t: Float64Array, layout: PairIndex, stats: PairStats, alpha: number, l2: number, grad: Float64Array): number {
  btGradient(t, layout, stats, alpha, l2, grad);
  return btLoss(t, layout, stats, alpha, l2);
}

/** Scratch buffers reused across bootstrap rounds (the dense Hessian only when the dense solver runs). */
export interface BTWorkspace {
  grad: Float64Array;
  step: Float64Array;
  trial: Float64Array;
  /** [M, M] Hessian, row-major, factorised in place (dense solver). */
  hess: Float64Array | null;
}

export function btWorkspace(m: number): BTWorkspace {
  return { grad: new Float64Array(m), step: new Float64Array(m), trial: new Float64Array(m), hess: null };
}

export interface BTFit {
  /** [M] natural-scale strengths, mean zero in each component when l2 = 0 (from a cold start); +/-Infinity or NaN where no finite rating exists. */
  t: Float64Array;
  iterations: number;
  /** The fit reached the tolerance and every model that played has a finite maximum-likelihood rating. */
  converged: boolean;
  /** Number of connected components among models that played (1 = all comparable). */
  components: number;
}

/** Whether to solve Newton steps densely for `m` models. */
export function useDense(m: number, solver: BTSolverOptions["solver"] = "auto"): boolean {
  return solver === "dense" || (solver !== "sparse" && m <= DENSE_MAX_MODELS);
}

/** The BT loss as a Newton problem (newton.ts) on fixed pair statistics. */
function btProblem(m: number, layout: PairIndex, stats: PairStats, alpha: number, l2: number, dense: boolean, ws: BTWorkspace): NewtonProblem {
  const comp = components(m, layout, stats.N);
  const played = playedMask(m, layout, stats);
  const weights = dense ? undefined : new Float64Array(layout.i.length);
  if (dense && !ws.hess) ws.hess = new Float64Array(m * m);
  return {
    loss: (t) => btLoss(t, layout, stats, alpha, l2),
    direction(t, grad, step) {
      if (dense) {
        const hess = ws.hess!;
        btGradient(t, layout, stats, alpha, l2, grad, hess);
        addGauge(hess, m, l2, comp, played);
        for (let k = 0; k < m; k++) step[k] = played[k] || l2 > 0 ? -grad[k] : 0;
        solveSPD(hess, step, m);
        return;
      }
      btGradient(t, layout, stats, alpha, l2, grad, undefined, weights);
      const rhs = Float64Array.from(grad, (g, k) => (played[k] || l2 > 0 ? -g : 0));
      if (l2 === 0) centreComponents(rhs, comp, played); // consistent right-hand side for the singular Laplacian
      solveLaplacianCG({ m, i: layout.i, j: layout.j, w: weights!, l2 }, rhs, step);
      if (l2 === 0) centreComponents(step, comp, played); // the gauge: steps sum to zero on each component
    },
    fullStepSafe(step) {
      // The logistic loss is generalized self-concordant (Bach 2010, "Self-concordant
      // analysis for logistic regression", Lemma 1): along a Newton step d with
      // R = alpha * max|d_i - d_j| <= 1 the loss drops by at least
      // (1 - (e^R - R - 1) / R^2) * lambda^2 >= 0.28 lambda^2 (lambda^2 = -g.d),
      // so the full step passes the Armijo test without evaluating the loss.
      let hi = -Infinity;
      let lo = Infinity;
      for (let k = 0; k < m; k++) {
        if (!played[k]) continue;
        hi = Math.max(hi, step[k]);
        lo = Math.min(lo, step[k]);
      }
      return alpha * (hi - lo) <= 1;
    },
  };
}

/**
 * Minimises the BT loss by damped Newton steps (newton.ts) from `t0`
 * (default zeros; non-finite entries start at zero). `t0` should already
 * satisfy the gauge (mean zero per component), as a previous fit does.
 * Reports `converged: false` when the data have no finite maximum-likelihood
 * ratings (l2 = 0 and a win graph that is not strongly connected), whatever
 * the iterations did; `fitBradleyTerry` fits such data properly.
 */
export function newtonBT(
  m: number,
  layout: PairIndex,
  stats: PairStats,
  options: BTSolverOptions = {},
  t0?: Float64Array,
  ws: BTWorkspace = btWorkspace(m),
): BTFit {
  const { alpha, l2, tol, maxIter, solver } = { ...DEFAULT_BT_SOLVER, ...options };
  const t = t0 ? Float64Array.from(t0, (v) => (Number.isFinite(v) ? v : 0)) : new Float64Array(m);
  const comp = components(m, layout, stats.N);
  const played = playedMask(m, layout, stats);
  const seen = new Set<number>();
  for (let k = 0; k < m; k++) if (played[k]) seen.add(comp[k]);
  const identifiable = l2 > 0 || identify(m, layout, stats).identifiable;
  const problem = btProblem(m, layout, stats, alpha, l2, useDense(m, solver), ws);
  const r = newtonMinimize(problem, t, { tol, maxIter }, ws);
  return { t, iterations: r.iterations, converged: r.converged && identifiable, components: seen.size };
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

/** A fit of the identifiable part of the data, with where every model stands. */
export interface IdentifiedFit extends BTFit {
  /** [M] `Placement` of each model (graph.ts); t is +Infinity / -Infinity / NaN outside `Rated`. */
  placement: Uint8Array;
  /** The fit of the rated models reached the tolerance (`converged` also needs every model rated). */
  coreConverged: boolean;
}

/**
 * Fits BT where the maximum-likelihood ratings exist (graph.ts): with l2 > 0
 * everywhere; with l2 = 0 on the strongly connected core of each component,
 * the other models' battles left out (their fitted win probabilities are 0
 * or 1, so they add nothing to the likelihood of the core). Models above the
 * core get +Infinity, below -Infinity, unplaced and unplayed ones NaN.
 */
export function fitIdentified(m: number, layout: PairIndex, stats: PairStats, options: BTSolverOptions = {}, t0?: Float64Array, ws?: BTWorkspace): IdentifiedFit {
  const l2 = options.l2 ?? DEFAULT_BT_SOLVER.l2;
  const id: Identification = l2 > 0 ? everyPlayedRated(m, layout, stats) : identify(m, layout, stats);
  const core = id.identifiable ? stats : coreStats(layout, stats, id.placement);
  const fit = newtonBT(m, layout, core, options, t0, ws);
  const t = fit.t;
  for (let k = 0; k < m; k++) {
    const p = id.placement[k];
    if (p === Placement.Above) t[k] = Infinity;
    else if (p === Placement.Below) t[k] = -Infinity;
    else if (p !== Placement.Rated) t[k] = NaN;
  }
  return { ...fit, t, converged: fit.converged && id.identifiable, coreConverged: fit.converged, placement: id.placement };
}

function everyPlayedRated(m: number, layout: PairIndex, stats: PairStats): Identification {
  const played = playedMask(m, layout, stats);
  return { placement: Uint8Array.from(played, (p) => (p ? Placement.Rated : Placement.Unplayed)), identifiable: true };
}

/** Pair statistics with every pair that involves a model outside the rated core emptied. */
function coreStats(layout: PairIndex, stats: PairStats, placement: Uint8Array): PairStats {
  const keep = (q: number) => placement[layout.i[q]] === Placement.Rated && placement[layout.j[q]] === Placement.Rated;
  return { S: stats.S.map((s, q) => (keep(q) ? s : 0)), N: stats.N.map((n, q) => (keep(q) ? n : 0)) };
}

/**
 * Fits BT on unique outcome counts (see `fitIdentified`).
 * @example fitBradleyTerry(preprocessBattles(battles)).t
 */
export function fitBradleyTerry(counts: OutcomeCounts, options: BTSolverOptions = {}): IdentifiedFit & { layout: PairLayout } {
  const layout = pairLayout(counts);
  return { ...fitIdentified(counts.models.length, layout, pairStats(counts, layout), options), layout };
}
