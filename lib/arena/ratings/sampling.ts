/**
 * Exact multinomial draws for the bootstrap, from tslm's seeded `Random`.
 *
 * FastChat resamples the unique-outcome counts with numpy's
 * `multinomial(n, p)`. A chain of conditional binomials (numpy's method)
 * costs 50-80 ns per category here; this sampler is ~4x faster and exact:
 *
 * 1. Poissonization: draw X_k ~ Poisson(n p_k) independently. Given their
 *    total T, (X_k) is Multinomial(T, p).
 * 2. Fix the total: if T < n, add n - T categorical draws (alias table);
 *    if T > n, remove T - n items chosen uniformly without replacement
 *    (a Fenwick tree finds the category of the r-th item). Either way the
 *    result is Multinomial(n, p) exactly, whatever the Poisson means' scale;
 *    they are set to total n - 3 sqrt(n), so the cheap top-up is the rule
 *    (about 3 sqrt(n) draws) and removals happen in ~0.1% of samples.
 *
 * Each Poisson draw is an inversion that starts at the mode with P(X <= mode)
 * precomputed per category, so it walks about 0.8 standard deviations
 * (3 steps for a mean of 14) of multiply-adds.
 */
import type { Random } from "../../util/random.js";

/** 1/x for small x: a multiply is several times cheaper than a divide. */
const RECIPROCAL = Float64Array.from({ length: 256 }, (_, x) => (x === 0 ? 0 : 1 / x));

/** Precomputed tables for repeated Multinomial(n, probs) draws. */
export class MultinomialSampler {
  readonly n: number;
  readonly k: number;
  private readonly lambda: Float64Array;
  private readonly invLambda: Float64Array;
  private readonly mode: Int32Array;
  /** P(X = mode) and P(X <= mode) of each category's Poisson. */
  private readonly pmfMode: Float64Array;
  private readonly cdfMode: Float64Array;
  /** Vose alias table over the categories. */
  private readonly aliasProb: Float64Array;
  private readonly alias: Int32Array;
  private readonly tree: Float64Array;

  /**
   * @param n draws per sample (integer >= 0)
   * @param probs [K] category probabilities (normalised here)
   */
  constructor(n: number, probs: ArrayLike<number>) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`multinomial n must be a non-negative integer, got ${n}`);
    const k = probs.length;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      if (!(probs[i] >= 0) || !Number.isFinite(probs[i])) throw new RangeError(`multinomial probability ${i} must be finite and >= 0, got ${probs[i]}`);
      sum += probs[i];
    }
    if (k === 0 || !(sum > 0)) throw new RangeError("multinomial needs at least one positive probability");
    this.n = n;
    this.k = k;
    this.lambda = new Float64Array(k);
    this.invLambda = new Float64Array(k);
    this.mode = new Int32Array(k);
    this.pmfMode = new Float64Array(k);
    this.cdfMode = new Float64Array(k);
    // Poisson means total n - 3 sqrt(n) (see the file comment); any scale is exact.
    const total = Math.max(0, n - 3 * Math.sqrt(n));
    for (let i = 0; i < k; i++) {
      const lam = (total * probs[i]) / sum;
      this.lambda[i] = lam;
      this.invLambda[i] = lam > 0 ? 1 / lam : 0;
      const { mode, pmf, cdf } = poissonAtMode(lam);
      this.mode[i] = mode;
      this.pmfMode[i] = pmf;
      this.cdfMode[i] = cdf;
    }
    const table = aliasTable(probs, sum);
    this.aliasProb = table.prob;
    this.alias = table.alias;
    this.tree = new Float64Array(k + 1);
  }

  /** Fills `out` ([K]) with one Multinomial(n, probs) draw and returns it. */
  sample(rng: Random, out: Float64Array = new Float64Array(this.k)): Float64Array {
    const { k, lambda, invLambda, mode, pmfMode, cdfMode } = this;
    let total = 0;
    for (let i = 0; i < k; i++) {
      const lam = lambda[i];
      if (lam === 0) {
        out[i] = 0;
        continue;
      }
      // One 32-bit draw: the cdf is resolved to 2^-32 (a bias below 2.4e-10 per draw), half the cost of float().
      const u = rng.nextUint32() * 2.3283064365386963e-10;
      let x = mode[i];
      let f = pmfMode[i];
      let cdf = cdfMode[i];
      if (u < cdf) {
        // X <= mode: step down while u < P(X <= x - 1) = cdf - f.
        while (x > 0 && u < cdf - f) {
          cdf -= f;
          f *= x * invLambda[i];
          x--;
        }
      } else {
        // X > mode: step up until u < P(X <= x).
        do {
          x++;
          f *= x < 256 ? lam * RECIPROCAL[x] : lam / x;
          cdf += f;
        } while (u >= cdf && f > 0);
      }
      out[i] = x;
      total += x;
    }
    if (total < this.n) {
      for (let d = total; d < this.n; d++) {
        const j = uniformIndex(rng, k);
        out[rng.nextUint32() * 2.3283064365386963e-10 < this.aliasProb[j] ? j : this.alias[j]]++;
      }
    } else if (total > this.n) {
      this.removeUniform(rng, out, total, total - this.n);
    }
    return out;
  }

  /** Removes `count` of the `total` items in `out`, chosen uniformly without replacement. */
  private removeUniform(rng: Random, out: Float64Array, total: number, count: number): void {
    const k = this.k;
    const tree = this.tree;
    // Fenwick tree (1-based) over the counts: O(K) build, O(log K) per removal.
    tree.fill(0);
    for (let i = 0; i < k; i++) {
      tree[i + 1] += out[i];
      const parent = i + 1 + ((i + 1) & -(i + 1));
      if (parent <= k) tree[parent] += tree[i + 1];
    }
    let top = 1;
    while (top * 2 <= k) top *= 2;
    for (let d = 0; d < count; d++) {
      let r = rng.int(total - d); // the r-th remaining item (0-based)
      let pos = 0;
      for (let step = top; step > 0; step >>= 1) {
        const next = pos + step;
        if (next <= k && tree[next] <= r) {
          pos = next;
          r -= tree[next];
        }
      }
      // pos is the number of categories wholly before the item: it lies in category `pos`.
      out[pos]--;
      for (let i = pos + 1; i <= k; i += i & -i) tree[i]--;
    }
  }
}

/**
 * Uniform integer in [0, k) without bias (Lemire's multiply-shift with
 * rejection, "Fast random integer generation in an interval", 2019): one
 * 32-bit draw and no division in the common case. u * k is exact in a
 * double for k < 2^21.
 */
function uniformIndex(rng: Random, k: number): number {
  if (k >= 2 ** 21) return rng.int(k);
  for (;;) {
    const prod = rng.nextUint32() * k;
    const index = Math.floor(prod / 4294967296);
    const low = prod - index * 4294967296;
    if (low >= k || low >= (4294967296 - k) % k) return index;
  }
}

/**
 * Poisson(lambda) mode, P(X = mode) and P(X <= mode), by summing the pmf
 * ratios outward from the mode and normalising (no log-gamma needed).
 */
function poissonAtMode(lam: number): { mode: number; pmf: number; cdf: number } {
  if (lam === 0) return { mode: 0, pmf: 1, cdf: 1 };
  const mode = Math.floor(lam);
  // g(x) = pmf(x) / pmf(mode)
  let below = 1; // sum of g(x) for x <= mode
  let g = 1;
  for (let x = mode; x > 0; x--) {
    g *= x / lam;
    below += g;
    if (g < 1e-18 * below) break;
  }
  let above = 0;
  g = 1;
  for (let x = mode + 1; ; x++) {
    g *= lam / x;
    above += g;
    if (g < 1e-18 * (below + above)) break;
  }
  const z = below + above;
  return { mode, pmf: 1 / z, cdf: below / z };
}

/** Vose's alias method: one uniform index and one coin per categorical draw. */
function aliasTable(probs: ArrayLike<number>, sum: number): { prob: Float64Array; alias: Int32Array } {
  const k = probs.length;
  const prob = new Float64Array(k);
  const alias = new Int32Array(k);
  const scaled = Float64Array.from({ length: k }, (_, i) => (probs[i] * k) / sum);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of large) (prob[i] = 1), (alias[i] = i);
  for (const i of small) (prob[i] = 1), (alias[i] = i); // rounding leftovers
  return { prob, alias };
}

/**
 * One Multinomial(n, probs) draw (builds the tables each call; keep a
 * `MultinomialSampler` for repeated draws).
 * @example multinomial(new Random(1), 100, [0.2, 0.3, 0.5]) // e.g. [19, 33, 48]
 */
export function multinomial(rng: Random, n: number, probs: ArrayLike<number>): Float64Array {
  return new MultinomialSampler(n, probs).sample(rng);
}
