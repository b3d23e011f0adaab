/**
 * Dense symmetric positive definite solves for the rating solvers (the
 * Hessians are M x M with M = number of models, so plain Cholesky is
 * cheapest: 50 models factor in ~40 us).
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
