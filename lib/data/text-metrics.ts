/**
 * Text metrics: pure functions scoring a generated answer against a
 * reference, shared by fine-tuning evaluation (lib/train) and the arena's
 * reference judge (lib/arena). Variants that differ are named after their
 * definition, never after the same word:
 *
 * | function | normalisation | range |
 * | --- | --- | --- |
 * | `exactMatchTrimmed` | trim both ends | 0 or 1 |
 * | `exactMatchCollapsed` | trim, runs of whitespace as one space | 0 or 1 |
 * | `normalizedMatch` | SQuAD (`squadNormalize`) | 0 or 1 |
 * | `sacreBleu` | sacrebleu 13a tokens, exp smoothing, effective order | 0-100 |
 * | `bleuAddOne` | SQuAD tokens, add-one smoothing (Lin & Och 2004) | 0-1 |
 * | `rougeL` | SQuAD tokens, LCS F1 (Lin 2004) | 0-1 |
 */

/** Trims both ends and turns every run of whitespace into one space. */
export function collapseWhitespace(s: string): string {
  return s.trim().replace(/\s+/g, " ");
}

/** 1 when the answer equals the reference after `collapseWhitespace`, else 0 (tslm eval's exact match). */
export function exactMatchCollapsed(answer: string, reference: string): number {
  return collapseWhitespace(answer) === collapseWhitespace(reference) ? 1 : 0;
}

/** SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces. */
export function squadNormalize(s: string): string {
  return s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The words of `squadNormalize(s)`. */
export function squadTokens(s: string): string[] {
  const n = squadNormalize(s);
  return n ? n.split(" ") : [];
}

/** 1 when the answer equals the reference after trimming both ends, else 0 (case and inner spacing count). */
export function exactMatchTrimmed(answer: string, reference: string): number {
  return answer.trim() === reference.trim() ? 1 : 0;
}

/** 1 when the answer equals the reference after `squadNormalize`, else 0 (SQuAD's exact match). */
export function normalizedMatch(answer: string, reference: string): number {
  return squadNormalize(answer) === squadNormalize(reference) ? 1 : 0;
}

/** The normalised reference appears in the normalised answer (as whole words). */
export function containsMatch(answer: string, reference: string): number {
  const a = ` ${squadNormalize(answer)} `;
  const r = squadNormalize(reference);
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
  const a = squadTokens(answer);
  const r = squadTokens(reference);
  if (a.length === 0 || r.length === 0) return 0;
  const l = lcsLength(a, r);
  if (l === 0) return 0;
  const p = l / a.length;
  const rec = l / r.length;
  return (2 * p * rec) / (p + rec);
}

/** Counts of each n-gram of `tokens`. */
function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join("\u0001");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/**
 * Sentence BLEU-4 in [0, 1] over `squadTokens` (Papineni et al. 2002) with
 * uniform weights, brevity penalty, and add-one smoothing of the n > 1
 * precisions (Lin & Och 2004) so short answers do not score 0 for lacking a
 * 4-gram. Not sacrebleu's score (see `sacreBleu`).
 */
export function bleuAddOne(answer: string, reference: string, maxN = 4): number {
  const c = squadTokens(answer);
  const r = squadTokens(reference);
  if (c.length === 0 || r.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const ref = ngramCounts(r, n);
    let match = 0;
    for (const [g, k] of ngramCounts(c, n)) match += Math.min(k, ref.get(g) ?? 0);
    const total = Math.max(0, c.length - n + 1);
    if (n === 1 && match === 0) return 0;
    const p = n === 1 ? match / total : (match + 1) / (total + 1);
    logSum += Math.log(p) / maxN;
  }
  const bp = c.length > r.length ? 1 : Math.exp(1 - r.length / c.length);
  return bp * Math.exp(logSum);
}

/** sacrebleu's default "13a" tokenizer (mteval-v13a.pl). */
export function tokenize13a(line: string): string[] {
  let s = line.replace(/<skipped>/g, "").replace(/-\n/g, "").replace(/\n/g, " ");
  if (s.includes("&")) s = s.replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
  s = ` ${s} `;
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, " $1 ");
  s = s.replace(/([^0-9])([.,])/g, "$1 $2 ");
  s = s.replace(/([.,])([^0-9])/g, " $1 $2");
  s = s.replace(/([0-9])(-)/g, "$1 $2 ");
  return s.split(/\s+/).filter(Boolean);
}

/**
 * sacrebleu's sentence BLEU, 0-100: 13a tokens, 4-grams, effective order,
 * "exp" smoothing (`BLEU(effective_order=True).sentence_score`, the score H2O
 * LLM Studio reports).
 * @example sacreBleu("the cat sat", "the cat sat") === 100
 */
export function sacreBleu(prediction: string, reference: string, maxOrder = 4): number {
  const hyp = tokenize13a(prediction);
  const ref = tokenize13a(reference);
  const correct: number[] = [];
  const totals: number[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const h = ngramCounts(hyp, n);
    const r = ngramCounts(ref, n);
    let c = 0;
    for (const [k, v] of h) c += Math.min(v, r.get(k) ?? 0);
    correct.push(c);
    totals.push(Math.max(0, hyp.length - n + 1));
  }
  const precisions = new Array<number>(maxOrder).fill(0);
  let smooth = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (totals[n - 1] === 0) break;
    effOrder = n;
    if (correct[n - 1] === 0) {
      smooth *= 2;
      precisions[n - 1] = 100 / (smooth * totals[n - 1]);
    } else precisions[n - 1] = (100 * correct[n - 1]) / totals[n - 1];
  }
  const sys = hyp.length;
  const refLen = ref.length;
  const bp = sys < refLen ? (sys > 0 ? Math.exp(1 - refLen / sys) : 0) : 1;
  const logs = precisions.slice(0, effOrder).map((p) => (p === 0 ? -9999999999 : Math.log(p)));
  return bp * Math.exp(logs.reduce((a, b) => a + b, 0) / effOrder);
}

/** Mean of `sacreBleu` over pairs (LLM Studio scores an empty reference as 0). */
export function meanSacreBleu(predictions: readonly string[], references: readonly string[]): number {
  if (predictions.length === 0) return 0;
  let s = 0;
  predictions.forEach((p, i) => (s += references[i] === "" ? 0 : sacreBleu(p, references[i])));
  return s / predictions.length;
}
