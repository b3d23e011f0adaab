/**
 * The logistic function and its relatives, written once for every rating
 * method (Bradley-Terry, style control, online Elo, predicted win rates).
 */

/** 1 / (1 + e^-x), without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** ln(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * P(a beats b) on a rating scale, ties aside: 1 / (1 + base^((R_b - R_a) / scale)).
 * Infinite ratings give 0 or 1; two infinities of one sign (or NaN) give NaN.
 * @example winProbability(1100, 1000) // 0.640...
 */
export function winProbability(ra: number, rb: number, scale = 400, base = 10): number {
  return sigmoid((Math.log(base) * (ra - rb)) / scale);
}
