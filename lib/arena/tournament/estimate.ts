/**
 * A quick Bradley-Terry estimate for planning (adaptive pairing): MAP ratings
 * on the natural-log scale with a ridge prior, plus the posterior covariance
 * (inverse Hessian). Ties count as half a win for each side, as in Chatbot
 * Arena. The fit is the ratings engine's own (ratings/bt.ts: the BT loss
 * with alpha = 1 and l2 = prior, which keeps every rating finite from the
 * first battle on); this module only keeps the counts a schedule grows
 * battle by battle.
 */
import { btGradient, newtonBT, type PairStats } from "../ratings/bt.js";
import type { PairIndex } from "../ratings/compact.js";
import { choleskyInPlace, solveCholesky } from "../ratings/linalg.js";

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

/** The counts as the rating solver's pairs (i < j, played) and pair statistics (score of i, games). */
function pairsOf(c: PairCounts): { layout: PairIndex; stats: PairStats } {
  const i: number[] = [];
  const j: number[] = [];
  const S: number[] = [];
  const N: number[] = [];
  for (let a = 0; a < c.n; a++) {
    for (let b = a + 1; b < c.n; b++) {
      const g = c.games[a * c.n + b];
      if (g === 0) continue;
      i.push(a);
      j.push(b);
      S.push(c.wins[a * c.n + b]);
      N.push(g);
    }
  }
  return { layout: { i: Int32Array.from(i), j: Int32Array.from(j) }, stats: { S: Float64Array.from(S), N: Float64Array.from(N) } };
}

/** Precision matrix: prior * I + sum over pairs of games * p(1-p) * (e_i - e_j)(e_i - e_j)^T. */
export function precision(c: PairCounts, theta: Float64Array, prior: number): Float64Array {
  const { layout, stats } = pairsOf(c);
  const h = new Float64Array(c.n * c.n);
  btGradient(theta, layout, stats, 1, prior, new Float64Array(c.n), h);
  return h;
}

/** MAP ratings (natural-log scale, mean pulled to 0 by the prior). */
export function fitRatings(c: PairCounts, prior: number, iters = 50): Float64Array {
  const { layout, stats } = pairsOf(c);
  return newtonBT(c.n, layout, stats, { alpha: 1, l2: prior, tol: 1e-10, maxIter: iters, solver: "dense" }).t;
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
