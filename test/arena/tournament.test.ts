import { strict as assert } from "node:assert";
import { Random } from "../../lib/util/random.js";
import { allPairs, roundRobin, sample } from "../../lib/arena/tournament/schedules.js";
import { adaptive, pickPairs } from "../../lib/arena/tournament/adaptive.js";
import { swiss } from "../../lib/arena/tournament/swiss.js";
import { addBattle, emptyCounts, fitRatings, inverseSpd, precision } from "../../lib/arena/tournament/estimate.js";
import { pairKey, type BattleSpec, type PlayedBattle } from "../../lib/arena/tournament/spec.js";
import { ConfigError } from "../../lib/util/errors.js";
import { EndpointQueues } from "../../lib/arena/tournament/queues.js";

const models = ["a", "b", "c", "d", "e"];
const prompts = Array.from({ length: 12 }, (_, i) => `p${i}`);

/** Plays a schedule to the end with outcomes from fixed strengths (higher index wins more). */
function playOut(s: ReturnType<typeof adaptive>, strength: (m: string) => number, rng: Random): BattleSpec[] {
  const played: PlayedBattle[] = [];
  const all: BattleSpec[] = [];
  for (let round = s.nextRound(played); round; round = s.nextRound(played)) {
    for (const spec of round) {
      const p = 1 / (1 + Math.exp(strength(spec.model_b) - strength(spec.model_a)));
      played.push({ spec, scores: [rng.float() < p ? 1 : -1] });
      all.push(spec);
    }
  }
  return all;
}

describe("arena/tournament schedules", () => {
  it("round robin plays every pair on every prompt once, in a seeded order with seeded sides", () => {
    const s = roundRobin(models, prompts, new Random(1).fork("schedule"));
    const specs = s.nextRound([])!;
    assert.equal(s.nextRound([]), null);
    assert.equal(specs.length, allPairs(models).length * prompts.length);
    assert.deepEqual(specs.map((x) => x.index), specs.map((_, i) => i));
    const seen = new Set(specs.map((x) => `${x.prompt_id}|${pairKey(x.model_a, x.model_b)}`));
    assert.equal(seen.size, specs.length);
    const again = roundRobin(models, prompts, new Random(1).fork("schedule")).nextRound([])!;
    assert.deepEqual(again, specs);
    const other = roundRobin(models, prompts, new Random(2).fork("schedule")).nextRound([])!;
    assert.notDeepEqual(other, specs);
    // Sides are drawn: "a" (first in the list) is model_a about half the time.
    const aFirst = specs.filter((x) => x.model_a === "a").length / specs.filter((x) => x.model_a === "a" || x.model_b === "a").length;
    assert.ok(aFirst > 0.35 && aFirst < 0.65, `a is model_a in ${aFirst}`);
  });

  it("sample draws distinct (pair, prompt) combinations and refuses more than exist", () => {
    const specs = sample(models, prompts, 50, new Random(3)).nextRound([])!;
    assert.equal(specs.length, 50);
    assert.equal(new Set(specs.map((x) => `${x.prompt_id}|${pairKey(x.model_a, x.model_b)}`)).size, 50);
    assert.equal(sample(models, prompts, 120, new Random(3)).nextRound([])!.length, 120);
    assert.throws(() => sample(models, prompts, 121, new Random(3)), (e: unknown) => e instanceof ConfigError && e.location.key === "schedule.battles");
  });

  describe("adaptive", () => {
    it("the quick BT estimate orders models by strength and its precision matrix is symmetric", () => {
      const c = emptyCounts(3);
      const rng = new Random(5);
      for (let k = 0; k < 600; k++) {
        const i = rng.int(3);
        const j = (i + 1 + rng.int(2)) % 3;
        const p = 1 / (1 + Math.exp(j - i));
        addBattle(c, i, j, rng.float() < p ? 1 : -1);
      }
      const theta = fitRatings(c, 0.01);
      assert.ok(theta[2] > theta[1] && theta[1] > theta[0], `theta ${Array.from(theta)}`);
      // Strengths 0, 1, 2 on the natural-log scale.
      assert.ok(Math.abs(theta[2] - theta[0] - 2) < 0.5);
      const h = precision(c, theta, 0.01);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) assert.ok(Math.abs(h[i * 3 + j] - h[j * 3 + i]) < 1e-12);
      const inv = inverseSpd(h, 3);
      let e = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += h[i * 3 + k] * inv[k * 3 + j];
        e = Math.max(e, Math.abs(s - (i === j ? 1 : 0)));
      }
      assert.ok(e < 1e-9);
    });

    it("picks the pairs whose next battle shrinks uncertainty most", () => {
      // Pair 0 (a-b) already has 200 battles; the others none: new picks avoid it.
      const n = 3;
      const pairs: [number, number][] = [[0, 1], [0, 2], [1, 2]];
      const c = emptyCounts(n);
      for (let k = 0; k < 200; k++) addBattle(c, 0, 1, k % 2 ? 1 : -1);
      const theta = fitRatings(c, 0.1);
      const cov = inverseSpd(precision(c, theta, 0.1), n);
      const picks = pickPairs(n, pairs, theta, cov, [10, 10, 10], 4, new Random(1));
      assert.ok(!picks.includes(0), `picked the saturated pair: ${picks}`);
      // Availability caps picks.
      assert.deepEqual(pickPairs(n, pairs, theta, cov, [0, 1, 0], 3, new Random(1)), [1]);
    });

    it("starts by covering every pair, then spends battles on close pairs rather than lopsided ones", () => {
      const strong = ["w0", "w1", "s8", "s9"];
      const str = (m: string) => Number(m[1]) * (m[0] === "s" ? 1 : 1);
      const s = adaptive(strong, Array.from({ length: 60 }, (_, i) => `p${i}`), { battles: 120, batch: 6, prior: 0.1 }, new Random(9));
      const specs = playOut(s, str, new Random(10));
      assert.equal(specs.length, 120);
      assert.deepEqual(new Set(specs.slice(0, 6).map((x) => pairKey(x.model_a, x.model_b))).size, 6, "first batch covers all 6 pairs");
      const count = (a: string, b: string) => specs.filter((x) => pairKey(x.model_a, x.model_b) === pairKey(a, b)).length;
      // w0 vs s9 (strength gap 9) is nearly certain; w0 vs w1 and s8 vs s9 are close calls.
      assert.ok(count("w0", "w1") > count("w0", "s9") && count("s8", "s9") > count("w0", "s9"), `close ${count("w0", "w1")}/${count("s8", "s9")} vs lopsided ${count("w0", "s9")}`);
      assert.equal(new Set(specs.map((x) => `${x.prompt_id}|${pairKey(x.model_a, x.model_b)}`)).size, 120, "never replays a (pair, prompt)");
      // Same seed and same results: same schedule.
      assert.deepEqual(playOut(adaptive(strong, Array.from({ length: 60 }, (_, i) => `p${i}`), { battles: 120, batch: 6, prior: 0.1 }, new Random(9)), str, new Random(10)), specs);
    });
  });

  describe("swiss", () => {
    it("pairs by score without rematches while possible and rotates byes", () => {
      const seven = ["m0", "m1", "m2", "m3", "m4", "m5", "m6"];
      const s = swiss(seven, prompts, { rounds: 4, prompts_per_pairing: 2 }, new Random(4));
      const played: PlayedBattle[] = [];
      const rounds: BattleSpec[][] = [];
      for (let r = s.nextRound(played); r; r = s.nextRound(played)) {
        rounds.push(r);
        for (const spec of r) played.push({ spec, scores: [Number(spec.model_a[1]) > Number(spec.model_b[1]) ? 1 : -1] });
      }
      assert.equal(rounds.length, 4);
      const byes: string[] = [];
      const met = new Set<string>();
      for (const r of rounds) {
        const inRound = new Set(r.flatMap((x) => [x.model_a, x.model_b]));
        assert.equal(inRound.size, 6, "three pairings a round");
        byes.push(seven.find((m) => !inRound.has(m))!);
        const pairs = new Set(r.map((x) => pairKey(x.model_a, x.model_b)));
        for (const p of pairs) {
          assert.ok(!met.has(p), `rematch ${p}`);
          met.add(p);
        }
        assert.equal(r.length, 6, "two prompts per pairing");
      }
      assert.equal(new Set(byes).size, 4, `byes ${byes}`);
      // Later rounds pair neighbours in the standings: the top two meet by round 4.
      assert.ok(met.has(pairKey("m6", "m5")) || met.has(pairKey("m6", "m4")));
    });

    it("defaults to ceil(log2 n) + 2 rounds", () => {
      const s = swiss(["a", "b", "c", "d", "e", "f", "g", "h"], prompts, { prompts_per_pairing: 1 }, new Random(1));
      let n = 0;
      const played: PlayedBattle[] = [];
      for (let r = s.nextRound(played); r; r = s.nextRound(played)) {
        n++;
        for (const spec of r) played.push({ spec, scores: [0] });
      }
      assert.equal(n, 5);
    });
  });

  describe("endpoint queues", () => {
    it("limit concurrency without a rate limit: arrival order, and a failed task frees its slot", async () => {
      const q = new EndpointQueues();
      const run = q.scheduler({ key: "http://h/v1", concurrency: 2 });
      let inFlight = 0;
      let most = 0;
      const started: number[] = [];
      const task = (i: number) => async () => {
        started.push(i);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (i === 1) throw new Error("task 1 failed");
        return i;
      };
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => run(task(i))));
      assert.equal(most, 2);
      assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message)), [0, "task 1 failed", 2, 3, 4, 5, 6, 7]);
      assert.equal(await run(async () => "after"), "after");
      // A long queue (compacted as it is consumed) keeps its order.
      const order: number[] = [];
      await Promise.all(Array.from({ length: 3000 }, (_, i) => run(async () => void order.push(i))));
      assert.deepEqual(order, Array.from({ length: 3000 }, (_, i) => i));
    });

    it("share one queue per endpoint with the strictest limits, and space requests by the rate limit", async () => {
      const q = new EndpointQueues();
      const a = q.scheduler({ key: "http://h/v1", concurrency: 4, requestsPerMinute: 1200 });
      const b = q.scheduler({ key: "http://h/v1", concurrency: 2 });
      assert.deepEqual(q.describe(), [{ key: "http://h/v1", concurrency: 2, requestsPerMinute: 1200 }]);
      let inFlight = 0;
      let most = 0;
      const starts: number[] = [];
      const task = async () => {
        starts.push(performance.now());
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      };
      const t0 = performance.now();
      await Promise.all([a(task), b(task), a(task), b(task), a(task)]);
      assert.ok(most <= 2, `${most} in flight`);
      // 1200 a minute = one every 50 ms: five requests span at least 4 intervals.
      assert.ok(starts[4] - t0 >= 190, `five requests started within ${starts[4] - t0} ms`);
    });
  });
});
