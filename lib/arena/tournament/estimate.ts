/**
 * A quick Bradley-Terry estimate for planning (adaptive pairing): MAP ratings
 * on the natural-log scale with a ridge prior, by Newton's method on counts
 * aggregated per pair, plus the posterior covariance (inverse Hessian). Ties
 * count as half a win for each side, as in Chatbot Arena. The ratings engine
 * (lib/arena/ratings) is the reference fit for reports; this one only has to
 * be fast, deterministic and finite from the first battle on.
 */
import { choleskyInPlace, solveCholesky, solveSPD } from "../ratings/linalg.js";

/** Wins of i over j (ties as 0.5 each): `wins[i][j]`, `games[i][j] = games[j][i]`. */
export interface PairCounts {
  n: number;
  wins: Float64Array; // [n * n], row i column j
  games: Float64Array; // [n * n], symmetric
}

export function emptyCounts(n: number): PairCounts {
  return { n, wins: new Float64Array(n * n), games: new Float64Array(n * n) };
}

/** Adds one battle: score +1 (i won), 0 (tie), -1 (j won). */
export function addBattle(c: PairCounts, i: number, j: number, score: number): void {
  const s = (score + 1) / 2;
  c.wins[i * c.n + j] += s;
  c.wins[j * c.n + i] += 1 - s;
  c.games[i * c.n + j] += 1;
  c.games[j * c.n + i] += 1;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Precision matrix: prior * I + sum over pairs of games * p(1-p) * (e_i - e_j)(e_i - e_j)^T. */
export function precision(c: PairCounts, theta: Float64Array, prior: number): Float64Array {
  const n = c.n;
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) h[i * n + i] = prior;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const g = c.games[i * n + j];
      if (g === 0) continue;
      const p = sigmoid(theta[i] - theta[j]);
      const w = g * p * (1 - p);
      h[i * n + i] += w;
      h[j * n + j] += w;
      h[i * n + j] -= w;
      h[j * n + i] -= w;
    }
  }
  return h;
}

/** MAP ratings (natural-log scale, mean pulled to 0 by the prior). */
export function fitRatings(c: PairCounts, prior: number, iters = 50): Float64Array {
  const n = c.n;
  const theta = new Float64Array(n);
  for (let it = 0; it < iters; it++) {
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      g[i] = -prior * theta[i];
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const games = c.games[i * n + j];
        if (games > 0) g[i] += c.wins[i * n + j] - games * sigmoid(theta[i] - theta[j]);
      }
    }
    const step = g; // the Newton step: solved in place
    solveSPD(precision(c, theta, prior), step, n);
    let maxStep = 0;
    for (let i = 0; i < n; i++) {
      theta[i] += step[i];
      maxStep = Math.max(maxStep, Math.abs(step[i]));
    }
    if (maxStep < 1e-10) break;
  }
  return theta;
}

/** Inverse of a symmetric positive definite matrix: one Cholesky factor, then a solve per column. */
export function inverseSpd(a: Float64Array, n: number): Float64Array {
  const l = Float64Array.from(a);
  choleskyInPlace(l, n);
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let col = 0; col < n; col++) {
    e.fill(0);
    e[col] = 1;
    solveCholesky(l, e, n);
    for (let r = 0; r < n; r++) inv[r * n + col] = e[r];
  }
  return inv;
}
