/**
 * Judge diagnostics from per-order judgments (`JudgmentRecord`):
 *
 * - position bias: how often the answer shown first wins (EvalGPT, which
 *   never swapped orders, measured 55.4% first-position wins);
 * - order consistency: whether a judge picks the same model when the two
 *   answers are swapped (MT-Bench: GPT-4 was consistent 65% of the time);
 * - agreement between judges, and with human votes, with and without ties
 *   (MT-Bench: GPT-4 vs humans 66% / 85%).
 *
 * Failed judgments (`error` set, no verdict) are counted as errors and never
 * as verdicts.
 */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { compareNames } from "../ratings/compact.js";
import type { JudgmentRecord } from "../types.js";

/** Wilson score interval for a binomial proportion (z = 1.96 for 95%). */
export function wilsonInterval(successes: number, trials: number, z = 1.959963984540054): [number, number] {
  if (trials === 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function byJudge(judgments: readonly JudgmentRecord[]): Map<string, JudgmentRecord[]> {
  const out = new Map<string, JudgmentRecord[]>();
  for (const j of judgments) {
    const list = out.get(j.judge) ?? [];
    list.push(j);
    out.set(j.judge, list);
  }
  return new Map([...out.entries()].sort((x, y) => compareNames(x[0], y[0])));
}

/**
 * First-position bias per judge. Rows: judge, judgments (with a verdict),
 * errors, first, second, ties (incl. both bad), first_rate = first / (first +
 * second) with a 95% Wilson interval (first_low, first_high), tie_rate.
 */
export function positionBias(judgments: readonly JudgmentRecord[]): ColumnTable {
  const rows = [...byJudge(judgments)].map(([judge, list]) => {
    let first = 0;
    let second = 0;
    let ties = 0;
    let errors = 0;
    for (const j of list) {
      if (j.verdict === undefined || j.error !== undefined) errors++;
      else if (j.verdict === "first") first++;
      else if (j.verdict === "second") second++;
      else ties++;
    }
    const decided = first + second;
    const [lo, hi] = wilsonInterval(first, decided);
    const judged = decided + ties;
    return {
      judge,
      judgments: judged,
      errors,
      first,
      second,
      ties,
      first_rate: decided > 0 ? first / decided : null,
      first_low: decided > 0 ? lo : null,
      first_high: decided > 0 ? hi : null,
      tie_rate: judged > 0 ? ties / judged : null,
    };
  });
  return aq.from(rows);
}

/** Winner of one judgment in model terms: a model name, "tie", or undefined for errors. */
function modelVerdict(j: JudgmentRecord): string | undefined {
  if (j.verdict === undefined || j.error !== undefined) return undefined;
  if (j.verdict === "first") return j.first;
  if (j.verdict === "second") return j.second;
  return "tie";
}

function pairKey(prompt: string, x: string, y: string): string {
  return JSON.stringify([prompt, ...[x, y].sort(compareNames)]);
}

/**
 * Agreement between the two presentation orders, per judge. Rows: judge,
 * pairs (prompt + model pair judged in both orders without error),
 * consistent (same model, or tie both times), first_biased (the first-shown
 * answer won both times), second_biased, other (a tie in one order only),
 * consistency = consistent / pairs.
 */
export function orderConsistency(judgments: readonly JudgmentRecord[]): ColumnTable {
  const rows = [...byJudge(judgments)].map(([judge, list]) => {
    const orders = new Map<string, Map<string, JudgmentRecord>>();
    for (const j of list) {
      if (modelVerdict(j) === undefined) continue;
      const key = pairKey(j.prompt_id, j.first, j.second);
      const seen = orders.get(key) ?? new Map<string, JudgmentRecord>();
      if (!seen.has(j.first)) seen.set(j.first, j); // one judgment per order (the first recorded)
      orders.set(key, seen);
    }
    let pairs = 0;
    let consistent = 0;
    let firstBiased = 0;
    let secondBiased = 0;
    for (const seen of orders.values()) {
      if (seen.size < 2) continue;
      const [x, y] = [...seen.values()];
      pairs++;
      const vx = modelVerdict(x);
      const vy = modelVerdict(y);
      if (vx === vy) consistent++;
      else if (x.verdict === "first" && y.verdict === "first") firstBiased++;
      else if (x.verdict === "second" && y.verdict === "second") secondBiased++;
    }
    return {
      judge,
      pairs,
      consistent,
      first_biased: firstBiased,
      second_biased: secondBiased,
      other: pairs - consistent - firstBiased - secondBiased,
      consistency: pairs > 0 ? consistent / pairs : null,
    };
  });
  return aq.from(rows);
}

/**
 * Each judge's pooled outcome per (prompt, unordered model pair): the
 * winning model, or "tie" (also when the two orders disagree, MT-Bench's
 * rule). Keys are JSON [prompt, model, model] with models sorted.
 */
export function pooledVerdicts(judgments: readonly JudgmentRecord[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [judge, list] of byJudge(judgments)) {
    const votes = new Map<string, string[]>();
    for (const j of list) {
      const v = modelVerdict(j);
      if (v === undefined) continue;
      const key = pairKey(j.prompt_id, j.first, j.second);
      votes.set(key, [...(votes.get(key) ?? []), v]);
    }
    const pooled = new Map<string, string>();
    for (const [key, vs] of votes) pooled.set(key, vs.every((v) => v === vs[0]) ? vs[0] : "tie");
    out.set(judge, pooled);
  }
  return out;
}

/**
 * Agreement between every pair of judges on the (prompt, model pair) items
 * both judged. Rows: judge_a, judge_b, shared, agree, agreement (with ties),
 * shared_decided (neither said tie), agree_decided, agreement_without_ties.
 */
export function judgeAgreement(judgments: readonly JudgmentRecord[]): ColumnTable {
  const pooled = pooledVerdicts(judgments);
  const judges = [...pooled.keys()];
  const rows: Record<string, unknown>[] = [];
  for (let x = 0; x < judges.length; x++) {
    for (let y = x + 1; y < judges.length; y++) {
      const va = pooled.get(judges[x])!;
      const vb = pooled.get(judges[y])!;
      let shared = 0;
      let agree = 0;
      let sharedDecided = 0;
      let agreeDecided = 0;
      for (const [key, a] of va) {
        const b = vb.get(key);
        if (b === undefined) continue;
        shared++;
        if (a === b) agree++;
        if (a !== "tie" && b !== "tie") {
          sharedDecided++;
          if (a === b) agreeDecided++;
        }
      }
      rows.push({
        judge_a: judges[x],
        judge_b: judges[y],
        shared,
        agree,
        agreement: shared > 0 ? agree / shared : null,
        shared_decided: sharedDecided,
        agree_decided: agreeDecided,
        agreement_without_ties: sharedDecided > 0 ? agreeDecided / sharedDecided : null,
      });
    }
  }
  return rows.length > 0
    ? aq.from(rows)
    : aq.table({ judge_a: [], judge_b: [], shared: [], agree: [], agreement: [], shared_decided: [], agree_decided: [], agreement_without_ties: [] });
}

/** Default test for a human judge id: "human" or "human:<name>" / "human-...". */
export function isHumanJudge(judge: string): boolean {
  return /^human(\b|[:_-])/i.test(judge);
}

/**
 * Agreement of each automatic judge with human votes (the rows of
 * `judgeAgreement` that pair a human with a non-human judge, oriented so
 * `judge_b` is the human).
 */
export function humanAgreement(judgments: readonly JudgmentRecord[], isHuman: (judge: string) => boolean = isHumanJudge): ColumnTable {
  const all = judgeAgreement(judgments).objects() as Record<string, unknown>[];
  const rows = all
    .filter((r) => isHuman(r.judge_a as string) !== isHuman(r.judge_b as string))
    .map((r) => (isHuman(r.judge_a as string) ? { ...r, judge_a: r.judge_b, judge_b: r.judge_a } : r));
  return rows.length > 0 ? aq.from(rows) : judgeAgreement([]);
}
