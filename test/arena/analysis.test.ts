import { strict as assert } from "node:assert";
import {
  averageWinRate,
  battleCountMatrix,
  predictedWinRateMatrix,
  winFractionMatrix,
  outcomeCounts,
} from "../../lib/arena/analysis/matrices.js";
import { humanAgreement, judgeAgreement, orderConsistency, positionBias, wilsonInterval } from "../../lib/arena/analysis/judges.js";
import { rateBattles } from "../../lib/arena/ratings/rate.js";
import type { BattleRecord, JudgmentRecord } from "../../lib/arena/types.js";

const B = (model_a: string, model_b: string, winner: BattleRecord["winner"]): BattleRecord => ({ model_a, model_b, winner });

function cell(table: { objects(): object[] }, a: string, b: string): Record<string, unknown> {
  const row = (table.objects() as Record<string, unknown>[]).find((r) => r.model_a === a && r.model_b === b);
  assert.ok(row, `no cell ${a} x ${b}`);
  return row;
}

describe("arena/analysis: matrices", () => {
  const battles = [B("x", "y", "model_a"), B("y", "x", "model_a"), B("y", "x", "model_b"), B("x", "y", "tie"), B("x", "z", "model_b"), B("z", "y", "tie (bothbad)")];

  it("win fraction merges both orders and leaves ties out", () => {
    const m = winFractionMatrix(battles);
    // x beat y twice (as model_a, then as model_b), y beat x once; the tie is excluded.
    assert.deepEqual([cell(m, "x", "y").wins, cell(m, "x", "y").decided, cell(m, "x", "y").value], [2, 3, 2 / 3]);
    assert.equal(cell(m, "y", "x").value, 1 / 3);
    assert.equal(cell(m, "y", "z").value, null, "only a tie between y and z");
    assert.equal(m.numRows(), 6);
  });

  it("battle counts are symmetric and count ties", () => {
    const m = battleCountMatrix(battles, ["z", "y", "x"]);
    assert.equal(cell(m, "x", "y").value, 4);
    assert.equal(cell(m, "y", "x").value, 4);
    assert.equal(cell(m, "y", "z").value, 1);
    assert.deepEqual((m.array("model_a") as string[]).slice(0, 2), ["z", "z"], "the given order is kept");
  });

  it("predicted win rate follows the Elo-scale logistic and averages per model", () => {
    const r = rateBattles(battles, { bootstrap: 0, l2: 0.01 });
    const m = predictedWinRateMatrix(r);
    const rx = r.rating[r.models.indexOf("x")];
    const rz = r.rating[r.models.indexOf("z")];
    assert.ok(Math.abs((cell(m, "x", "z").value as number) - 1 / (1 + 10 ** ((rz - rx) / 400))) < 1e-12);
    assert.ok(Math.abs((cell(m, "x", "z").value as number) + (cell(m, "z", "x").value as number) - 1) < 1e-12);
    const avg = averageWinRate(m).objects() as { model: string; value: number; opponents: number }[];
    const x = avg.find((a) => a.model === "x")!;
    assert.ok(Math.abs(x.value - ((cell(m, "x", "y").value as number) + (cell(m, "x", "z").value as number)) / 2) < 1e-12);
    assert.ok(avg[0].value >= avg[1].value && avg[1].value >= avg[2].value, "best first");
  });

  it("counts outcomes", () => {
    assert.deepEqual(outcomeCounts(battles).objects(), [
      { winner: "model_a", count: 2 },
      { winner: "model_b", count: 2 },
      { winner: "tie", count: 1 },
      { winner: "tie (bothbad)", count: 1 },
    ]);
  });
});

describe("arena/analysis: judge diagnostics", () => {
  let n = 0;
  const J = (judge: string, prompt: string, first: string, second: string, verdict?: JudgmentRecord["verdict"], error?: string): JudgmentRecord => ({
    id: `j${n++}`,
    prompt_id: prompt,
    judge,
    first,
    second,
    ...(verdict ? { verdict } : {}),
    ...(error ? { error } : {}),
  });
  const judgments: JudgmentRecord[] = [
    // judge g: p1 consistent (x both times), p2 first-biased, p3 one order failed
    J("g", "p1", "x", "y", "first"),
    J("g", "p1", "y", "x", "second"),
    J("g", "p2", "x", "y", "first"),
    J("g", "p2", "y", "x", "first"),
    J("g", "p3", "x", "y", "tie"),
    J("g", "p3", "y", "x", undefined, "unparsable output"),
    // judge k: one order each
    J("k", "p1", "x", "y", "first"),
    J("k", "p2", "y", "x", "first"),
    J("k", "p3", "x", "y", "second"),
    // a human
    J("human:ann", "p1", "y", "x", "second"),
    J("human:ann", "p3", "x", "y", "both_bad"),
  ];

  it("measures first-position wins per judge with a Wilson interval, never counting errors", () => {
    const rows = positionBias(judgments).objects() as Record<string, number | string>[];
    const g = rows.find((r) => r.judge === "g")!;
    assert.deepEqual([g.first, g.second, g.ties, g.errors, g.judgments], [3, 1, 1, 1, 5]);
    assert.equal(g.first_rate, 0.75);
    const [lo, hi] = wilsonInterval(3, 4);
    assert.deepEqual([g.first_low, g.first_high], [lo, hi]);
    // Wilson 95% for 3/4, from the closed form.
    assert.ok(Math.abs(lo - 0.30064) < 1e-4 && Math.abs(hi - 0.95441) < 1e-4, `${lo} ${hi}`);
  });

  it("checks agreement between the two answer orders", () => {
    const g = (orderConsistency(judgments).objects() as Record<string, unknown>[]).find((r) => r.judge === "g")!;
    assert.deepEqual([g.pairs, g.consistent, g.first_biased, g.second_biased, g.consistency], [2, 1, 1, 0, 0.5]);
  });

  it("computes agreement between judges with and without ties, and with humans", () => {
    const rows = judgeAgreement(judgments).objects() as Record<string, unknown>[];
    const gk = rows.find((r) => r.judge_a === "g" && r.judge_b === "k")!;
    // pooled g: p1 x, p2 tie (orders disagree), p3 tie; k: p1 x, p2 y, p3 y
    assert.deepEqual([gk.shared, gk.agree, gk.shared_decided, gk.agree_decided], [3, 1, 1, 1]);
    const human = humanAgreement(judgments).objects() as Record<string, unknown>[];
    assert.ok(human.every((r) => r.judge_b === "human:ann"));
    const kh = human.find((r) => r.judge_a === "k")!;
    // human: p1 x (second shown = x), p3 tie; k: p1 x, p3 y
    assert.deepEqual([kh.shared, kh.agree, kh.agreement], [2, 1, 0.5]);
  });
});
