import { strict as assert } from "node:assert";
import { MultinomialSampler } from "../../lib/arena/ratings/sampling.js";
import { rateBattles } from "../../lib/arena/ratings/rate.js";
import { simulateBattles } from "../../lib/arena/ratings/simulate.js";
import { Random } from "../../lib/util/random.js";

describe("arena/ratings: multinomial sampler", () => {
  it("draws exactly n with the multinomial's means, variances and covariances", () => {
    const probs = [0.5, 0.3, 0.15, 0.05];
    const n = 200;
    const sampler = new MultinomialSampler(n, probs);
    const rng = new Random(1);
    const draws = 20000;
    const sum = [0, 0, 0, 0];
    const sq = [0, 0, 0, 0];
    let cross01 = 0;
    const out = new Float64Array(4);
    for (let d = 0; d < draws; d++) {
      sampler.sample(rng, out);
      assert.equal(out[0] + out[1] + out[2] + out[3], n);
      for (let k = 0; k < 4; k++) (sum[k] += out[k]), (sq[k] += out[k] * out[k]);
      cross01 += out[0] * out[1];
    }
    for (let k = 0; k < 4; k++) {
      const mean = sum[k] / draws;
      const variance = sq[k] / draws - mean * mean;
      const expVar = n * probs[k] * (1 - probs[k]);
      assert.ok(Math.abs(mean - n * probs[k]) < 5 * Math.sqrt(expVar / draws), `mean ${k}: ${mean}`);
      assert.ok(Math.abs(variance / expVar - 1) < 0.06, `variance ${k}: ${variance} vs ${expVar}`);
    }
    const cov = cross01 / draws - (sum[0] / draws) * (sum[1] / draws);
    assert.ok(Math.abs(cov / (-n * probs[0] * probs[1]) - 1) < 0.08, `covariance ${cov}`);
  });

  it("matches the exact pmf of a small multinomial (chi-square, p > 0.001)", () => {
    const probs = [0.2, 0.3, 0.5];
    const n = 3;
    const sampler = new MultinomialSampler(n, probs);
    const rng = new Random(2);
    const seen = new Map<string, number>();
    const draws = 30000;
    for (let d = 0; d < draws; d++) {
      const key = [...sampler.sample(rng)].join(",");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
    let chi2 = 0;
    let cells = 0;
    for (let x = 0; x <= n; x++) {
      for (let y = 0; x + y <= n; y++) {
        const z = n - x - y;
        const p = (fact(n) / (fact(x) * fact(y) * fact(z))) * probs[0] ** x * probs[1] ** y * probs[2] ** z;
        const o = seen.get(`${x},${y},${z}`) ?? 0;
        chi2 += (o - draws * p) ** 2 / (draws * p);
        cells++;
      }
    }
    assert.equal(cells, 10);
    assert.ok(chi2 < 27.88, `chi-square ${chi2} with 9 degrees of freedom`);
  });

  it("handles large means and empty categories", () => {
    const sampler = new MultinomialSampler(100000, [0.6, 0, 0.4]);
    const rng = new Random(3);
    const out = sampler.sample(rng);
    assert.equal(out[1], 0);
    assert.equal(out[0] + out[2], 100000);
    assert.ok(Math.abs(out[0] - 60000) < 5 * Math.sqrt(100000 * 0.24));
  });
});

describe("arena/ratings: bootstrap intervals cover the truth", function () {
  this.timeout(120_000);

  it("95% BT intervals cover the true ratings in >= 90% of simulated tournaments", () => {
    // 40 tournaments x 8 models; truth centred at 1000, the gauge of the fit (mean strength zero).
    const truth: Record<string, number> = {};
    const spread = [-210, -150, -90, -30, 30, 90, 150, 210];
    spread.forEach((d, i) => (truth[`m${i}`] = 1000 + d));
    const rng = new Random(2024);
    let covered = 0;
    let intervals = 0;
    let widthSum = 0;
    for (let t = 0; t < 40; t++) {
      const battles = simulateBattles({ battles: 1500, ratings: truth, tieRate: 0.15, rng });
      const r = rateBattles(battles, { bootstrap: 300, seed: t });
      r.models.forEach((m, k) => {
        intervals++;
        widthSum += r.upper[k] - r.lower[k];
        if (r.lower[k] <= truth[m] && truth[m] <= r.upper[k]) covered++;
      });
    }
    const rate = covered / intervals;
    console.log(`      coverage ${rate.toFixed(3)} (${covered}/${intervals}), mean width ${(widthSum / intervals).toFixed(1)}`);
    assert.ok(rate >= 0.9, `coverage ${rate} (${covered}/${intervals}), mean width ${widthSum / intervals}`);
    assert.ok(rate <= 0.995, `coverage ${rate} is suspiciously high: intervals too wide?`);
  });
});
