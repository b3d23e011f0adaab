/**
 * Bootstrap refits by the simplified Newton ("chord") method: every round
 * starts from the full-data fit and reuses the Cholesky factor of the
 * full-data Hessian instead of factorising its own.
 */
import { addGauge, btGradient, type BTSolverOptions, type BTWorkspace, btWorkspace, DEFAULT_BT_SOLVER, fitIdentified, type IdentifiedFit, type PairStats } from "./bt.js";
import type { PairLayout } from "./compact.js";
import { components, identify, Placement, playedMask } from "./graph.js";
import { choleskyInPlace, solveCholesky } from "./linalg.js";

/**
 * Simplified Newton ("chord") refit for bootstrap rounds: reuses the
 * Cholesky factor of the full-data Hessian (`factor`, from `hessianFactor`)
 * instead of factorising each round's Hessian. A round's Hessian differs
 * from the full-data one by the resampling noise only, so each step cuts the
 * error by a factor of ~10 for the cost of one gradient pass and two
 * triangular solves. Falls back to `fitIdentified` (full Newton) when
 * convergence is slow or the round's win graph may differ (a pair that lost
 * its battles, or that won or lost all of them).
 */
export function chordBT(
  m: number,
  layout: PairLayout,
  stats: PairStats,
  factor: Float64Array,
  t0: Float64Array,
  options: BTSolverOptions = {},
  ws: BTWorkspace = btWorkspace(m),
): IdentifiedFit {
  const { alpha, l2, tol, maxIter } = { ...DEFAULT_BT_SOLVER, ...options };
  if (!ratedEverywhere(m, layout, stats, l2)) return fitIdentified(m, layout, stats, options, t0, ws);
  const t = Float64Array.from(t0);
  const { grad, step } = ws;
  const placement = new Uint8Array(m).fill(Placement.Rated);
  let previous = Infinity;
  for (let it = 0; it < maxIter; it++) {
    btGradient(t, layout, stats, alpha, l2, grad);
    for (let k = 0; k < m; k++) step[k] = -grad[k];
    solveCholesky(factor, step, m);
    let maxStep = 0;
    for (let k = 0; k < m; k++) maxStep = Math.max(maxStep, Math.abs(step[k]));
    if (!(maxStep < 1 / alpha) || (it >= 2 && maxStep > 0.5 * previous)) {
      // Far from the warm start or contracting slowly: full Newton from here.
      const fit = fitIdentified(m, layout, stats, options, t, ws);
      return { ...fit, iterations: fit.iterations + it };
    }
    for (let k = 0; k < m; k++) t[k] += step[k];
    // Linear convergence with ratio r < 1/2: the remaining error is below the last step.
    if (maxStep < tol) return { t, iterations: it + 1, converged: true, coreConverged: true, components: 1, placement };
    previous = maxStep;
  }
  return { t, iterations: maxIter, converged: false, coreConverged: false, components: 1, placement };
}

/** Cholesky factor of the gauge-fixed Hessian at t (for `chordBT`). */
export function hessianFactor(m: number, layout: PairLayout, stats: PairStats, t: Float64Array, options: BTSolverOptions = {}): Float64Array {
  const { alpha, l2 } = { ...DEFAULT_BT_SOLVER, ...options };
  const hess = new Float64Array(m * m);
  const grad = new Float64Array(m);
  btGradient(t, layout, stats, alpha, l2, grad, hess);
  addGauge(hess, m, l2, components(m, layout, stats.N), playedMask(m, layout, stats));
  choleskyInPlace(hess, m);
  return hess;
}

/** Whether each layout's full pair graph is connected (computed once per layout). */
const layoutConnected = new WeakMap<PairLayout, boolean>();

/**
 * True when every model has a finite rating in this round and the models
 * form one component, so the full-data factor fits the round. Fast path:
 * every pair kept battles scored by both sides and the full layout is
 * connected; otherwise the win graph is checked (graph.ts, O(models + pairs)).
 */
function ratedEverywhere(m: number, layout: PairLayout, stats: PairStats, l2: number): boolean {
  let allPairs = true;
  let twoWay = true;
  for (let q = 0; q < stats.N.length; q++) {
    if (!(stats.N[q] > 0)) allPairs = false;
    else if (!(stats.S[q] > 0 && stats.S[q] < stats.N[q])) twoWay = false;
  }
  if (allPairs) {
    let connected = layoutConnected.get(layout);
    if (connected === undefined) {
      connected = components(m, layout).every((c) => c === 0);
      layoutConnected.set(layout, connected);
    }
    if (!connected) return false;
    if (twoWay || l2 > 0) return true;
  } else {
    const played = playedMask(m, layout, stats);
    const comp = components(m, layout, stats.N);
    for (let k = 0; k < m; k++) if (!played[k] || comp[k] !== 0) return false;
    if (l2 > 0) return true;
  }
  return identify(m, layout, stats).identifiable;
}
