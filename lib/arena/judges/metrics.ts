/**
 * Reference metrics: pure functions scoring an answer against a reference in
 * [0, 1]. Used by the reference judge (winner by score, tie when equal).
 */

/** SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

export function tokenize(s: string): string[] {
  const n = normalizeText(s);
  return n ? n.split(" ") : [];
}

export function exactMatch(answer: string, reference: string): number {
  return answer.trim() === reference.trim() ? 1 : 0;
}

export function normalizedMatch(answer: string, reference: string): number {
  return normalizeText(answer) === normalizeText(reference) ? 1 : 0;
}

/** The normalised reference appears in the normalised answer (as whole words). */
export function containsMatch(answer: string, reference: string): number {
  const a = ` ${normalizeText(answer)} `;
  const r = normalizeText(reference);
  return r !== "" && a.includes(` ${r} `) ? 1 : 0;
}

const NUMBER = /[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?%?/g;

/** Parses "1,234.5", "3/4", "12%", "-2e3" to a number; undefined when it is not one. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim().replace(/^\$/, "");
  const m = t.match(/^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?%?$/);
  if (!m) return undefined;
  let body = t.replace(/,/g, "");
  const pct = body.endsWith("%");
  if (pct) body = body.slice(0, -1);
  let v: number;
  if (body.includes("/")) {
    const [n, d] = body.split("/").map((x) => Number(x.trim()));
    v = d === 0 ? NaN : n / d;
  } else v = Number(body);
  if (!Number.isFinite(v)) return undefined;
  return pct ? v / 100 : v;
}

/**
 * The answer's final number equals the reference within `tolerance`
 * (absolute, or relative to the reference when `relative`). The last number
 * is taken because answers state their result after the working.
 */
export function numericMatch(answer: string, reference: string, tolerance = 1e-6, relative = false): number {
  const want = parseNumber(reference);
  if (want === undefined) throw new RangeError(`numeric reference is not a number: ${JSON.stringify(reference)}`);
  const found = answer.match(NUMBER);
  if (!found) return 0;
  const got = parseNumber(found[found.length - 1]);
  if (got === undefined) return 0;
  const tol = relative ? tolerance * Math.abs(want) : tolerance;
  return Math.abs(got - want) <= tol ? 1 : 0;
}

/** The reference is a regular expression (JavaScript syntax); flags `i` by default. */
export function regexMatch(answer: string, pattern: string, flags = "i"): number {
  return new RegExp(pattern, flags).test(answer) ? 1 : 0;
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  // One-row dynamic programme: O(|a||b|) time, O(|b|) memory.
  const row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = a[i - 1] === b[j - 1] ? prev + 1 : Math.max(row[j], row[j - 1]);
      prev = tmp;
    }
  }
  return row[b.length];
}

/** ROUGE-L F1 over normalised word tokens (Lin 2004, beta = 1). */
export function rougeL(answer: string, reference: string): number {
  const a = tokenize(answer);
  const r = tokenize(reference);
  if (a.length === 0 || r.length === 0) return 0;
  const l = lcsLength(a, r);
  if (l === 0) return 0;
  const p = l / a.length;
  const rec = l / r.length;
  return (2 * p * rec) / (p + rec);
}

/**
 * Sentence BLEU-4 (Papineni et al. 2002) with uniform weights, brevity
 * penalty, and add-one smoothing of the n > 1 precisions (Lin & Och 2004) so
 * short answers do not score 0 for lacking a 4-gram.
 */
export function bleu(answer: string, reference: string, maxN = 4): number {
  const c = tokenize(answer);
  const r = tokenize(reference);
  if (c.length === 0 || r.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const refCounts = new Map<string, number>();
    for (let i = 0; i + n <= r.length; i++) {
      const g = r.slice(i, i + n).join(" ");
      refCounts.set(g, (refCounts.get(g) ?? 0) + 1);
    }
    let match = 0;
    let total = 0;
    const used = new Map<string, number>();
    for (let i = 0; i + n <= c.length; i++) {
      const g = c.slice(i, i + n).join(" ");
      total++;
      const u = used.get(g) ?? 0;
      if (u < (refCounts.get(g) ?? 0)) {
        match++;
        used.set(g, u + 1);
      }
    }
    if (n === 1 && match === 0) return 0;
    const p = n === 1 ? match / total : (match + 1) / (total + 1);
    logSum += Math.log(p) / maxN;
  }
  const bp = c.length > r.length ? 1 : Math.exp(1 - r.length / c.length);
  return bp * Math.exp(logSum);
}

export type MetricName = "exact" | "normalized" | "numeric" | "regex" | "contains" | "rouge-l" | "bleu";
export const METRICS: readonly MetricName[] = ["exact", "normalized", "numeric", "regex", "contains", "rouge-l", "bleu"];

export interface MetricOptions {
  tolerance?: number;
  relative?: boolean;
  regexFlags?: string;
}

export function scoreWith(metric: MetricName, answer: string, reference: string, o: MetricOptions = {}): number {
  switch (metric) {
    case "exact":
      return exactMatch(answer, reference);
    case "normalized":
      return normalizedMatch(answer, reference);
    case "numeric":
      return numericMatch(answer, reference, o.tolerance, o.relative);
    case "regex":
      return regexMatch(answer, reference, o.regexFlags);
    case "contains":
      return containsMatch(answer, reference);
    case "rouge-l":
      return rougeL(answer, reference);
    case "bleu":
      return bleu(answer, reference);
  }
}
