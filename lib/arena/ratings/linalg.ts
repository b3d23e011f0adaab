/**
 * Linear solves for the rating solvers. The Bradley-Terry Hessian is a
 * weighted graph Laplacian (M x M, M = number of models): for tens of
 * models a dense Cholesky factor is cheapest (50 models factor in ~40 us);
 * for hundreds or thousands it is sparse (one entry per pair of models that
 * met), and conjugate gradients solve it in O(pairs) per iteration without
 * ever forming the M x M matrix.
 */

/**
 * Cholesky factorisation in place: the lower triangle of `a` ([m, m],
 * row-major) becomes L with a = L L^T. Pivots that are not clearly positive
 * (semi-definite directions) are replaced by a tiny jitter.
 */
export function choleskyInPlace(a: Float64Array, m: number): void {
  let maxDiag = 0;
  for (let k = 0; k < m; k++) maxDiag = Math.max(maxDiag, a[k * m + k]);
  const jitter = 1e-12 * (maxDiag || 1);
  for (let j = 0; j < m; j++) {
    const rj = j * m;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > jitter)) d = jitter;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < m; i++) {
      const ri = i * m;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
  }
}

/** Solves L L^T x = b in place (b becomes x), L from `choleskyInPlace`. */
export function solveCholesky(l: Float64Array, b: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= l[k * m + i] * b[k];
    b[i] = s / l[i * m + i];
  }
}

/** Solves a x = b in place for symmetric positive definite a (a is overwritten by its factor). */
export function solveSPD(a: Float64Array, b: Float64Array, m: number): void {
  choleskyInPlace(a, m);
  solveCholesky(a, b, m);
}

/** A weighted graph Laplacian plus a ridge: sum_q w_q (e_i - e_j)(e_i - e_j)^T + l2 I, over pairs (i_q, j_q). */
export interface SparseLaplacian {
  m: number;
  i: Int32Array;
  j: Int32Array;
  /** [P] pair weights (>= 0). */
  w: Float64Array;
  l2: number;
}

/** out = A x for a sparse Laplacian A. */
export function laplacianTimes(a: SparseLaplacian, x: Float64Array, out: Float64Array): void {
  for (let k = 0; k < a.m; k++) out[k] = a.l2 * x[k];
  for (let q = 0; q < a.i.length; q++) {
    const w = a.w[q];
    if (w === 0) continue;
    const i = a.i[q];
    const j = a.j[q];
    const d = w * (x[i] - x[j]);
    out[i] += d;
    out[j] -= d;
  }
}

/**
 * Solves A x = b for symmetric positive (semi-)definite A given as a product
 * `apply(v, out)` (out = A v), by conjugate gradients with a Jacobi
 * preconditioner (`diag`: A's diagonal) (Saad, "Iterative Methods for Sparse
 * Linear Systems", alg. 9.1), x from zero. A may be singular when b is
 * orthogonal to its null space (a Laplacian without ridge and b summing to
 * zero on each connected component); rows with an empty diagonal get x = 0.
 * @returns iterations used.
 */
export function solveCG(
  apply: (v: Float64Array, out: Float64Array) => void,
  diag: Float64Array,
  b: Float64Array,
  x: Float64Array,
  rtol = 1e-10,
  maxIter = Math.max(100, 2 * b.length),
): number {
  const m = b.length;
  const inv = Float64Array.from(diag, (d) => (d > 0 ? 1 / d : 0));
  const r = new Float64Array(m);
  const z = new Float64Array(m);
  const p = new Float64Array(m);
  const ap = new Float64Array(m);
  let bnorm = 0;
  let rz = 0;
  for (let k = 0; k < m; k++) {
    x[k] = 0;
    r[k] = inv[k] > 0 ? b[k] : 0;
    z[k] = inv[k] * r[k];
    p[k] = z[k];
    bnorm += r[k] * r[k];
    rz += r[k] * z[k];
  }
  const stop = rtol * rtol * bnorm;
  if (bnorm === 0) return 0;
  let it = 0;
  while (it < maxIter) {
    it++;
    apply(p, ap);
    let pap = 0;
    for (let k = 0; k < m; k++) pap += p[k] * ap[k];
    if (!(pap > 0)) break;
    const alpha = rz / pap;
    let rr = 0;
    for (let k = 0; k < m; k++) {
      x[k] += alpha * p[k];
      r[k] -= alpha * ap[k];
      rr += r[k] * r[k];
    }
    if (rr <= stop) break;
    let next = 0;
    for (let k = 0; k < m; k++) {
      z[k] = inv[k] * r[k];
      next += r[k] * z[k];
    }
    const beta = next / rz;
    rz = next;
    for (let k = 0; k < m; k++) p[k] = z[k] + beta * p[k];
  }
  return it;
}

/** Solves (L + l2 I) x = b for a sparse Laplacian by `solveCG`, never forming the M x M matrix. */
export function solveLaplacianCG(a: SparseLaplacian, b: Float64Array, x: Float64Array, rtol?: number, maxIter?: number): number {
  const diag = new Float64Array(a.m).fill(a.l2);
  for (let q = 0; q < a.i.length; q++) {
    diag[a.i[q]] += a.w[q];
    diag[a.j[q]] += a.w[q];
  }
  return solveCG((v, out) => laplacianTimes(a, v, out), diag, b, x, rtol, maxIter);
}
