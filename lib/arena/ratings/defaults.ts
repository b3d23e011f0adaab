/**
 * Rating defaults and bounds, in one place: the options schema (options.ts),
 * the solvers (bt.ts, style.ts), online Elo (elo.ts) and the simulators read
 * them from here.
 */

export const RATING_DEFAULTS = {
  /** Rating points per factor `base` in odds (the Elo convention). */
  scale: 400,
  /** Odds base of the rating scale. */
  base: 10,
  /** Rating of the average model (BT) or starting rating (Elo). */
  init: 1000,
  /** Online Elo update size; 4 as EvalGPT and Chatbot Arena (skills are assumed fixed). */
  k: 4,
  /** Bootstrap rounds; 1,000 as EvalGPT. */
  bootstrap: 1000,
  /** Central interval coverage. */
  confidence: 0.95,
  /** Newton stopping step, natural scale (1e-9 = 4e-7 rating points). */
  tol: 1e-9,
  /** Stopping step of bootstrap refits (1e-7 = 4e-5 rating points, far below the intervals' Monte Carlo error). */
  bootstrapTol: 1e-7,
  /** Newton iterations at most per fit (a fit from zero takes ~6-10). */
  maxIter: 100,
  /** L2 penalty of style control on every parameter, as FastChat's. */
  styleL2: 0.5,
} as const;

/**
 * Upper bounds on the work one rating call may ask for. A bootstrap round
 * costs about one refit, so 100,000 rounds of a 50-model log take tens of
 * seconds; more is a typo (1e9 rounds would run for days).
 */
export const RATING_LIMITS = {
  bootstrap: 100_000,
  maxIter: 10_000,
} as const;

/** Above this many models, Newton steps are solved on the sparse Hessian by conjugate gradients (a dense factor costs M^3 / 3). */
export const DENSE_MAX_MODELS = 200;
