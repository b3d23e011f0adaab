import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { btWorkspace, fitBradleyTerry, newtonBT, pairStats } from "../../lib/arena/ratings/bt.js";
import { chordBT, hessianFactor } from "../../lib/arena/ratings/chord.js";
import { countOutcomes, pairLayout, preprocessBattles, toBattleArrays } from "../../lib/arena/ratings/compact.js";
import { onlineElo } from "../../lib/arena/ratings/elo.js";
import { fitStyleBT, styleFeatures } from "../../lib/arena/ratings/style.js";
import { ratingHistory } from "../../lib/arena/ratings/history.js";
import { Leaderboard, ratingsTable } from "../../lib/arena/leaderboard.js";
import { rankUpperBound } from "../../lib/arena/ratings/bootstrap.js";
import { rateBattles } from "../../lib/arena/ratings/rate.js";
import { ladder, simulateBattles } from "../../lib/arena/ratings/simulate.js";
import type { BattleRecord } from "../../lib/arena/types.js";
import { ConfigError, DataError } from "../../lib/util/errors.js";
import { Random } from "../../lib/util/random.js";

const REFERENCE = fileURLToPath(new URL("./bt_reference.py", import.meta.url));

/** Runs the SciPy reference solver (Debian python3-scipy) on battles written to JSONL. */
function scipyRatings(battles: BattleRecord[], extra: string[] = []): { converged: boolean; ratings: Record<string, number>; beta: number[] } {
  const dir = mkdtempSync(join(tmpdir(), "tslm-bt-"));
  const file = join(dir, "battles.jsonl");
  writeFileSync(file, battles.map((b) => JSON.stringify(b)).join("\n") + "\n");
  const r = spawnSync("/usr/bin/python3", [REFERENCE, file, ...extra], { encoding: "utf8" });
  assert.equal(r.status, 0, `SciPy reference failed (needs Debian python3-scipy, see scripts/system-deps.sh): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ratingOf(result: ReturnType<typeof rateBattles>, model: string): number {
  return result.rating[result.models.indexOf(model)];
}

describe("arena/ratings: Bradley-Terry", function () {
  this.timeout(60_000);

  it("equals an independent SciPy L-BFGS-B fit within 0.01 rating points (ties as half wins)", () => {
    const battles = simulateBattles({ battles: 6000, ratings: { ...ladder(12, 700, 1300) }, tieRate: 0.15, rng: 11 });
    const ours = rateBattles(battles, { bootstrap: 0 });
    const ref = scipyRatings(battles);
    assert.ok(ref.converged && ours.converged);
    let worst = 0;
    for (const m of ours.models) worst = Math.max(worst, Math.abs(ratingOf(ours, m) - ref.ratings[m]));
    assert.ok(worst < 0.01, `largest difference ${worst} rating points`);
  });

  it("equals SciPy with an anchor model", () => {
    const battles = simulateBattles({ battles: 3000, ratings: { alpha: 1200, beta: 1100, gamma: 1000, delta: 950 }, rng: 3 });
    const ours = rateBattles(battles, { bootstrap: 0, anchor: { model: "gamma", rating: 1114 } });
    const ref = scipyRatings(battles, ["--anchor", "gamma", "1114"]);
    assert.equal(ratingOf(ours, "gamma"), 1114);
    for (const m of ours.models) assert.ok(Math.abs(ratingOf(ours, m) - ref.ratings[m]) < 0.01, m);
  });

  it("style control equals SciPy's contextual BT and removes a length bias", () => {
    // Model "verbose" is no stronger but writes longer answers, and longer answers win more often.
    const rng = new Random(5);
    const truth: Record<string, number> = { verbose: 1000, plain: 1000, strong: 1100, weak: 900 };
    const meanLen: Record<string, number> = { verbose: 900, plain: 300, strong: 300, weak: 300 };
    const names = Object.keys(truth);
    const battles: BattleRecord[] = [];
    for (let i = 0; i < 4000; i++) {
      const x = rng.int(4);
      const y = (x + 1 + rng.int(3)) % 4;
      const [a, b] = [names[x], names[y]];
      const la = Math.round(meanLen[a] * (0.5 + rng.float()));
      const lb = Math.round(meanLen[b] * (0.5 + rng.float()));
      const logit = (Math.LN10 * (truth[a] - truth[b])) / 400 + 1.5 * ((la - lb) / (la + lb + 1));
      const winner = rng.float() < 1 / (1 + Math.exp(-logit)) ? "model_a" : "model_b";
      battles.push({ model_a: a, model_b: b, winner, style: { length: [la, lb] } });
    }
    const plain = rateBattles(battles, { bootstrap: 0 });
    const styled = rateBattles(battles, { bootstrap: 0, style: {} });
    assert.equal(styled.method, "bt-style");
    assert.deepEqual(styled.style?.features, ["length"]);
    const ref = scipyRatings(battles, ["--style", "length", "--l2", "0.5"]);
    for (const m of names) assert.ok(Math.abs(ratingOf(styled, m) - ref.ratings[m]) < 0.01, `${m}: ${ratingOf(styled, m)} vs ${ref.ratings[m]}`);
    assert.ok(Math.abs(styled.style!.coefficients[0] - ref.beta[0]) < 1e-4);
    const gap = (r: typeof plain) => ratingOf(r, "verbose") - ratingOf(r, "plain");
    assert.ok(gap(plain) > 60, `uncontrolled gap ${gap(plain)}`);
    assert.ok(Math.abs(gap(styled)) < 30, `controlled gap ${gap(styled)}`);
  });

  it("counts ties as half a win: a tie-only pair rates equal; dropping ties changes that", () => {
    const battles: BattleRecord[] = [
      ...Array.from({ length: 10 }, () => ({ model_a: "x", model_b: "y", winner: "tie" as const })),
      ...Array.from({ length: 6 }, () => ({ model_a: "y", model_b: "z", winner: "model_a" as const })),
      ...Array.from({ length: 4 }, () => ({ model_a: "z", model_b: "y", winner: "model_a" as const })),
      ...Array.from({ length: 2 }, () => ({ model_a: "x", model_b: "z", winner: "tie (bothbad)" as const })),
    ];
    const r = rateBattles(battles, { bootstrap: 0 });
    assert.ok(Math.abs(ratingOf(r, "x") - ratingOf(r, "y")) < 20);
    assert.ok(Math.abs((r.rating[0] + r.rating[1] + r.rating[2]) / 3 - 1000) < 1e-9, "mean rating is init");
    const dropped = rateBattles(battles, { bootstrap: 0, ties: "drop" });
    assert.equal(dropped.battles[dropped.models.indexOf("x")], 0);
  });

  it("refits bootstrap rounds with the full-data Hessian (chord) to the same point as Newton", () => {
    const battles = simulateBattles({ battles: 20000, ratings: ladder(20), rng: 2 });
    const counts = preprocessBattles(battles);
    const layout = pairLayout(counts);
    const full = newtonBT(20, layout, pairStats(counts, layout));
    const factor = hessianFactor(20, layout, pairStats(counts, layout), full.t);
    const rng = new Random(9);
    for (let trial = 0; trial < 5; trial++) {
      const w = Float64Array.from(counts.count, (c) => c * (0.7 + 0.6 * rng.float()));
      const stats = pairStats(counts, layout, w);
      const a = chordBT(20, layout, stats, factor, full.t, {}, btWorkspace(20));
      const b = newtonBT(20, layout, stats, {}, full.t);
      assert.ok(a.converged && b.converged);
      for (let k = 0; k < 20; k++) assert.ok(Math.abs(a.t[k] - b.t[k]) * 400 < 1e-6, `model ${k}`);
    }
  });

  it("flags a model that wins everything (no finite MLE) and gives finite ratings with l2", () => {
    const battles: BattleRecord[] = [];
    for (let i = 0; i < 20; i++) battles.push({ model_a: "champ", model_b: i % 2 ? "p" : "q", winner: "model_a" });
    for (let i = 0; i < 20; i++) battles.push({ model_a: "p", model_b: "q", winner: i % 3 ? "model_a" : "model_b" });
    const r = rateBattles(battles, { bootstrap: 0 });
    assert.equal(r.converged, false);
    assert.ok(r.warnings.some((w) => /infinite/.test(w)));
    const reg = rateBattles(battles, { bootstrap: 0, l2: 0.1 });
    assert.ok(reg.converged);
    assert.ok(ratingOf(reg, "champ") > ratingOf(reg, "p") && Number.isFinite(ratingOf(reg, "champ")));
  });

  it("warns when the models form disconnected groups", () => {
    const battles: BattleRecord[] = [
      { model_a: "a", model_b: "b", winner: "model_a" },
      { model_a: "b", model_b: "a", winner: "model_a" },
      { model_a: "a", model_b: "b", winner: "model_a" },
      { model_a: "c", model_b: "d", winner: "model_a" },
      { model_a: "d", model_b: "c", winner: "model_a" },
    ];
    const r = rateBattles(battles, { bootstrap: 0 });
    assert.ok(r.warnings.some((w) => /2 disconnected groups/.test(w)));
    assert.ok(r.rating.every(Number.isFinite));
  });
});

describe("arena/ratings: online Elo", () => {
  it("follows p_a = 1/(1+base^((Rb-Ra)/scale)), R += K (S - p) with its arguments", () => {
    const battles: BattleRecord[] = [
      { model_a: "a", model_b: "b", winner: "model_a" },
      { model_a: "b", model_b: "a", winner: "tie" },
    ];
    const r = onlineElo(toBattleArrays(battles), { k: 32, init: 1500, scale: 400, base: 10 });
    // battle 1: equal ratings, p = 0.5, a gains 16
    let ra = 1516;
    let rb = 1484;
    // battle 2: b is model_a, S = 0.5
    const p = 1 / (1 + Math.pow(10, (ra - rb) / 400));
    rb += 32 * (0.5 - p);
    ra -= 32 * (0.5 - p);
    assert.ok(Math.abs(r[0] - ra) < 1e-9 && Math.abs(r[1] - rb) < 1e-9);
  });

  it("uses K=4, init 1000 by default and depends on battle order", () => {
    const battles = simulateBattles({ battles: 400, ratings: { a: 1100, b: 1000, c: 900 }, rng: 4 });
    const r1 = rateBattles(battles, { method: "elo", bootstrap: 0 });
    const r2 = rateBattles([...battles].reverse(), { method: "elo", bootstrap: 0 });
    assert.ok(Math.abs(r1.rating.reduce((s, v) => s + v, 0) / 3 - 1000) < 1e-9, "Elo conserves the mean");
    assert.notEqual(ratingOf(r1, "a"), ratingOf(r2, "a"));
    const first = onlineElo(toBattleArrays(battles.slice(0, 1)));
    assert.equal(Math.abs(first[0] - 1000), 2, "first update is K/2 = 2");
  });

  it("bootstraps Elo reproducibly and gives the same result shape as BT", () => {
    const battles = simulateBattles({ battles: 600, ratings: { a: 1100, b: 1000, c: 900 }, rng: 4 });
    const x = rateBattles(battles, { method: "elo", bootstrap: 50, seed: 3 });
    const y = rateBattles(battles, { method: "elo", bootstrap: 50, seed: 3 });
    const bt = rateBattles(battles, { method: "bt", bootstrap: 50, seed: 3 });
    assert.deepEqual([...x.lower], [...y.lower]);
    assert.deepEqual(Object.keys(x).sort(), Object.keys(bt).sort());
    assert.equal(x.samples!.length, 50 * 3);
  });
});

describe("arena/ratings: bootstrap, rank and tables", () => {
  it("is reproducible with a seed and changes with another seed", () => {
    const battles = simulateBattles({ battles: 3000, ratings: ladder(6), rng: 1 });
    const a = rateBattles(battles, { bootstrap: 200, seed: 42 });
    const b = rateBattles(battles, { bootstrap: 200, seed: 42 });
    const c = rateBattles(battles, { bootstrap: 200, seed: 43 });
    assert.deepEqual([...a.lower], [...b.lower]);
    assert.notDeepEqual([...a.lower], [...c.lower]);
    for (let k = 0; k < 6; k++) assert.ok(a.lower[k] < a.rating[k] && a.rating[k] < a.upper[k]);
  });

  it("ranks by upper bound: 1 + models whose lower bound beats this upper bound", () => {
    const lower = Float64Array.from([1100, 1050, 990, 900]);
    const upper = Float64Array.from([1200, 1120, 1060, 980]);
    assert.deepEqual([...rankUpperBound(lower, upper)], [1, 1, 2, 4]);
  });

  it("anchors every bootstrap round (zero-width interval on the anchor)", () => {
    const battles = simulateBattles({ battles: 2000, ratings: ladder(4), rng: 8 });
    const r = rateBattles(battles, { bootstrap: 100, anchor: { model: "model-02", rating: 1200 } });
    const i = r.models.indexOf("model-02");
    assert.equal(r.lower[i], 1200);
    assert.equal(r.upper[i], 1200);
  });

  it("applies the vote floor before fitting", () => {
    const battles = simulateBattles({ battles: 500, ratings: ladder(3), rng: 8 });
    battles.push({ model_a: "rare", model_b: "model-01", winner: "model_a" });
    assert.ok(rateBattles(battles, { bootstrap: 0 }).models.includes("rare"));
    assert.ok(!rateBattles(battles, { bootstrap: 0, minBattles: 5 }).models.includes("rare"));
  });

  it("returns arquero tables and a leaderboard that displays itself", () => {
    const battles = simulateBattles({ battles: 1500, ratings: ladder(5), rng: 2 });
    const board = Leaderboard.fromBattles(battles, { bootstrap: 100 });
    const t = ratingsTable(board.result);
    assert.deepEqual(t.columnNames(), ["model", "rating", "lower", "upper", "median", "rank", "battles", "status"]);
    assert.equal(t.get("model", 0), board.rows()[0].model);
    const bundle = (board as unknown as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]();
    assert.match(bundle["text/plain"], /model-05/);
    assert.match(bundle["text/html"], /<table/);
    assert.equal(JSON.parse(JSON.stringify(board)).ratings.length, 5);
  });

  it("tracks rating over battles for BT and Elo", () => {
    const battles = simulateBattles({ battles: 2000, ratings: ladder(4), rng: 6 });
    const bt = ratingHistory(battles, { method: "bt" }, { points: 5 });
    assert.deepEqual([...new Set(bt.array("battles") as number[])], [400, 800, 1200, 1600, 2000]);
    const last = bt.filter((d: { battles: number }) => d.battles === 2000).objects() as { model: string; rating: number }[];
    const full = rateBattles(battles, { bootstrap: 0 });
    for (const row of last) assert.ok(Math.abs(row.rating - ratingOf(full, row.model)) < 1e-6);
    const elo = ratingHistory(battles, { method: "elo" }, { points: 4 });
    assert.equal(elo.numRows(), 16);
  });
});

describe("arena/ratings: bad input", () => {
  it("names the battle with an unknown winner", () => {
    const battles = [
      { model_a: "a", model_b: "b", winner: "model_a" },
      { model_a: "a", model_b: "b", winner: "draw" },
    ] as unknown as BattleRecord[];
    assert.throws(() => rateBattles(battles), (e: unknown) => e instanceof DataError && /battle 1/.test(e.message) && /draw/.test(e.message));
  });

  it("rejects a self-battle, an unknown anchor and unknown options", () => {
    assert.throws(() => rateBattles([{ model_a: "a", model_b: "a", winner: "tie" }]), /cannot battle itself/);
    assert.throws(() => rateBattles([{ model_a: "a", model_b: "b", winner: "tie" }], { anchor: { model: "zz", rating: 1 } }), ConfigError);
    assert.throws(() => rateBattles([], { boostrap: 3 } as never), /unknown config key 'boostrap'/);
  });

  it("rates an empty log to an empty leaderboard with a warning", () => {
    for (const method of ["bt", "elo"] as const) {
      const r = rateBattles([], { method, bootstrap: 10 });
      assert.deepEqual(r.models, []);
      assert.deepEqual(r.warnings, ["there are no battles to rate"]);
    }
  });

  it("folds battles into unique outcome rows", () => {
    const counts = countOutcomes(
      toBattleArrays([
        { model_a: "b", model_b: "a", winner: "model_a" },
        { model_a: "b", model_b: "a", winner: "model_a" },
        { model_a: "a", model_b: "b", winner: "tie" },
      ]),
    );
    assert.deepEqual(counts.models, ["a", "b"]);
    assert.deepEqual([...counts.count], [1, 2]);
    assert.deepEqual([...counts.score], [0.5, 1]);
  });
});

describe("arena/ratings: one-sided and many-model logs", function () {
  this.timeout(120_000);
  const wins = (n: number, a = "x", b = "y"): BattleRecord[] => Array.from({ length: n }, () => ({ model_a: a, model_b: b, winner: "model_a" as const }));

  for (const n of [1, 20]) {
    it(`reports ${n} one-sided win${n > 1 ? "s" : ""} as unbounded ratings with a warning, never as finite numbers`, () => {
      const r = rateBattles(wins(n));
      assert.equal(r.converged, false);
      assert.deepEqual(r.status, ["above", "below"]);
      assert.equal(ratingOf(r, "x"), Infinity);
      assert.equal(ratingOf(r, "y"), -Infinity);
      // Only the direction is known: no finite interval end pretends to bound them.
      assert.deepEqual([r.lower[0], r.upper[0]], [NaN, Infinity]);
      assert.deepEqual([r.lower[1], r.upper[1]], [-Infinity, NaN]);
      assert.ok(r.warnings.some((w) => /x never lost/.test(w) && /y never won/.test(w) && /infinite/.test(w)), r.warnings.join("\n"));
      assert.ok(!r.warnings.some((w) => /bootstrap rounds/.test(w)), "the bootstrap repeats what the fit already said");
      const json = JSON.parse(JSON.stringify(new Leaderboard(r)));
      assert.deepEqual(
        json.ratings.map((row: { model: string; rating: unknown; status: string }) => [row.model, row.rating, row.status]),
        [
          ["x", null, "above"],
          ["y", null, "below"],
        ],
      );
      assert.match(new Leaderboard(r).toString(), /x\s+\+inf/);
    });
  }

  it("fits the models that do have ratings as if the unbounded ones' battles were not there", () => {
    const core = simulateBattles({ battles: 1500, ratings: ladder(4), rng: 12 });
    const battles = [...core, ...wins(5, "champ", "model-01"), ...wins(3, "model-04", "dud"), { model_a: "champ", model_b: "dud", winner: "model_a" as const }];
    const r = rateBattles(battles, { bootstrap: 50 });
    const alone = rateBattles(core, { bootstrap: 0 });
    assert.equal(r.converged, false);
    assert.equal(r.status[r.models.indexOf("champ")], "above");
    assert.equal(r.status[r.models.indexOf("dud")], "below");
    for (const m of alone.models) {
      assert.equal(r.status[r.models.indexOf(m)], "rated");
      assert.ok(Math.abs(ratingOf(r, m) - ratingOf(alone, m)) < 1e-6, m);
      const k = r.models.indexOf(m);
      assert.ok(Number.isFinite(r.lower[k]) && Number.isFinite(r.upper[k]) && r.lower[k] < r.upper[k], m);
    }
    assert.ok(r.warnings.some((w) => /champ never lost/.test(w) && /dud never won/.test(w)), r.warnings.join("\n"));
  });

  it("does not report convergence from the solver on data without a finite maximum", () => {
    const counts = preprocessBattles(wins(20));
    const layout = pairLayout(counts);
    assert.equal(newtonBT(2, layout, pairStats(counts, layout)).converged, false);
  });

  it("lists models without battles as unrated instead of dropping them", () => {
    const battles = simulateBattles({ battles: 300, ratings: ladder(3), rng: 3 });
    const r = rateBattles(battles, { bootstrap: 20 }, { models: ["silent"] });
    const k = r.models.indexOf("silent");
    assert.equal(r.status[k], "unrated");
    assert.equal(r.battles[k], 0);
    assert.ok(Number.isNaN(r.rating[k]));
    assert.ok(r.warnings.some((w) => /no rated battles for silent/.test(w)));
    assert.equal(new Leaderboard(r).rows().at(-1)!.model, "silent");
  });

  it("solves Newton steps on the sparse Hessian to the dense solver's ratings (1e-6 points)", () => {
    const battles = simulateBattles({ battles: 6000, ratings: ladder(60), tieRate: 0.1, rng: 21 });
    const counts = preprocessBattles(battles);
    const dense = fitBradleyTerry(counts, { solver: "dense" });
    const sparse = fitBradleyTerry(counts, { solver: "sparse" });
    assert.ok(dense.converged && sparse.converged);
    for (let k = 0; k < 60; k++) assert.ok(Math.abs(dense.t[k] - sparse.t[k]) * 400 < 1e-6, `model ${k}`);
  });

  it("fits style control on many models by conjugate gradients to the dense solver's result", () => {
    const battles = simulateBattles({ battles: 3000, ratings: ladder(40), rng: 4 }).map((b, i) => ({ ...b, style: { length: [100 + (i % 7) * 40, 120 + (i % 5) * 50] as [number, number] } }));
    const arrays = toBattleArrays(battles);
    const feats = styleFeatures(battles, arrays);
    const dense = fitStyleBT(arrays, feats, { solver: "dense" });
    const sparse = fitStyleBT(arrays, feats, { solver: "sparse" });
    assert.ok(dense.converged && sparse.converged);
    for (let k = 0; k < 40; k++) assert.ok(Math.abs(dense.t[k] - sparse.t[k]) * 400 < 1e-6, `model ${k}`);
    assert.ok(Math.abs(dense.beta[0] - sparse.beta[0]) < 1e-8);
  });

  it("rates 1,000 models from 2,000 battles with 10 bootstrap rounds in seconds, reporting progress", () => {
    const battles = simulateBattles({ battles: 2000, ratings: ladder(1000), rng: 1 });
    const seen: number[] = [];
    const t0 = performance.now();
    const r = rateBattles(battles, { bootstrap: 10 }, { onProgress: (p) => seen.push(p.done) });
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 30, `${seconds.toFixed(1)} s`);
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(r.models.length, new Set(battles.flatMap((b) => [b.model_a, b.model_b])).size);
    assert.ok(r.status.filter((s) => s === "rated").length > 100);
  });

  it("refuses bootstrap and iteration counts that would run for hours, naming the key and the bound", () => {
    assert.throws(() => rateBattles(wins(2), { bootstrap: 1_000_000_000 }), (e: unknown) => e instanceof ConfigError && e.location.key === "bootstrap" && /100000/.test(e.message));
    assert.throws(() => rateBattles(wins(2), { maxIter: 1e7 }), (e: unknown) => e instanceof ConfigError && e.location.key === "maxIter");
  });
});
