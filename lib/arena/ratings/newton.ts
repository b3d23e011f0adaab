/**
 * The one Newton solver behind every rating fit (Bradley-Terry on pairs,
 * style control on battles, the tournament's planning estimate): damped
 * Newton steps on a smooth convex loss with a backtracking (Armijo) line
 * search. The problem supplies the loss and the Newton direction; how the
 * direction is solved (dense Cholesky, conjugate gradients, a gauge fix) is
 * the problem's business.
 */

/** A convex minimisation problem as the solver sees it. */
export interface NewtonProblem {
  /** Loss at x. */
  loss(x: Float64Array): number;
  /**
   * Writes the gradient at x into `grad` and the Newton step (H step = -grad,
   * with whatever gauge fix the problem needs) into `step`.
   */
  direction(x: Float64Array, grad: Float64Array, step: Float64Array): void;
  /**
   * True when the full step is known to pass the Armijo test, so the loss
   * need not be evaluated (Bradley-Terry: a step that moves no logit by more
   * than 1, see bt.ts). Default: never.
   */
  fullStepSafe?(step: Float64Array): boolean;
}

export interface NewtonOptions {
  /** Stop when the largest step component is below this. */
  tol: number;
  /** Iterations at most. */
  maxIter: number;
}

/** Scratch buffers, reusable across fits of one size. */
export interface NewtonWorkspace {
  grad: Float64Array;
  step: Float64Array;
  trial: Float64Array;
}

export function newtonWorkspace(d: number): NewtonWorkspace {
  return { grad: new Float64Array(d), step: new Float64Array(d), trial: new Float64Array(d) };
}

export interface NewtonResult {
  iterations: number;
  converged: boolean;
}

/**
 * Minimises `problem` from `x` (updated in place).
 *
 * Stops when a step is below `tol`, or when a full step was below
 * sqrt(tol) / 10: Newton converges quadratically, so the next step would
 * be below tol. A line search that cannot decrease the loss (or a step that
 * is not finite) stops the solver without convergence, keeping the last
 * finite point.
 */
export function newtonMinimize(problem: NewtonProblem, x: Float64Array, options: NewtonOptions, ws: NewtonWorkspace = newtonWorkspace(x.length)): NewtonResult {
  const { tol, maxIter } = options;
  const { grad, step, trial } = ws;
  const d = x.length;
  const quadraticStop = Math.sqrt(tol) / 10;
  let loss = NaN; // evaluated lazily: only the line search needs it
  let it = 0;
  for (; it < maxIter; it++) {
    problem.direction(x, grad, step);
    let maxStep = 0;
    let slope = 0;
    for (let k = 0; k < d; k++) {
      maxStep = Math.max(maxStep, Math.abs(step[k]));
      slope += grad[k] * step[k];
    }
    if (!(maxStep < Infinity)) break; // singular beyond repair
    if (maxStep < tol) return { iterations: it, converged: true };
    let size = 1;
    if (problem.fullStepSafe?.(step)) {
      for (let k = 0; k < d; k++) x[k] += step[k];
      loss = NaN;
    } else {
      if (Number.isNaN(loss)) loss = problem.loss(x);
      let accepted = false;
      for (let h = 0; h < 40; h++) {
        for (let k = 0; k < d; k++) trial[k] = x[k] + size * step[k];
        const next = problem.loss(trial);
        if (next <= loss + 1e-4 * size * slope + 1e-13 * Math.abs(loss)) {
          loss = next;
          accepted = true;
          break;
        }
        size *= 0.5;
      }
      if (!accepted) break;
      x.set(trial);
    }
    if (size === 1 && maxStep < quadraticStop) return { iterations: it + 1, converged: true };
  }
  return { iterations: it, converged: false };
}
