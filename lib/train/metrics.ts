/**
 * Evaluation metrics as pure functions over strings and numbers.
 *
 * - exact match: the generated answer equals the reference after trimming
 *   and collapsing whitespace;
 * - BLEU: sacrebleu's sentence BLEU (4-grams, effective order, "exp"
 *   smoothing, 13a tokenization) averaged over samples, 0-100, as H2O LLM
 *   Studio reports it (`BLEU(effective_order=True).sentence_score`);
 * - perplexity: LLM Studio's definition, the mean over samples of
 *   exp(mean token cross-entropy of the sample).
 */

/** Normalization used by exact match. */
export function normalizeAnswer(s: string): string {
  return s.trim().replace(/\s+/g, " ");
}

/** 1 when the prediction equals the reference after normalization, else 0. */
export function exactMatch(prediction: string, reference: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(reference) ? 1 : 0;
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

function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const k = tokens.slice(i, i + n).join("\u0001");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/**
 * Sentence BLEU of one prediction against one reference (0-100).
 * @example sentenceBleu("the cat sat", "the cat sat") === 100
 */
export function sentenceBleu(prediction: string, reference: string, maxOrder = 4): number {
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

/** Mean sentence BLEU (LLM Studio scores an empty reference as 0). */
export function meanBleu(predictions: readonly string[], references: readonly string[]): number {
  if (predictions.length === 0) return 0;
  let s = 0;
  predictions.forEach((p, i) => (s += references[i] === "" ? 0 : sentenceBleu(p, references[i])));
  return s / predictions.length;
}

/** Mean of exp(per-sample mean cross-entropy), LLM Studio's perplexity. */
export function meanPerplexity(sampleLosses: readonly number[]): number {
  if (sampleLosses.length === 0) return NaN;
  return sampleLosses.reduce((a, l) => a + Math.exp(l), 0) / sampleLosses.length;
}
