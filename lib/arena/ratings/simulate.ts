/**
 * Battles simulated from known ratings, for tests, benchmarks and notebooks:
 * pairs drawn uniformly, outcome from the BT model on the Elo scale,
 * P(a beats b) = p = 1 / (1 + base^((R_b - R_a) / scale)). Ties occur with
 * probability tieRate * 2 min(p, 1 - p) (tieRate for an even match, rarer
 * for a mismatch) and take half their mass from each side, so the expected
 * score of model_a stays p.
 */
import { Random } from "../../util/random.js";
import type { BattleRecord } from "../types.js";

export interface SimulateOptions {
  /** Number of battles. */
  battles: number;
  /** True ratings by model (Elo scale). */
  ratings: Record<string, number>;
  /** Tie probability of an even match. Default 0.1. */
  tieRate?: number;
  /** Probability that a tie is "tie (bothbad)". Default 0.3. */
  bothBadRate?: number;
  /** Rating scale and base (default 400 and 10). */
  scale?: number;
  base?: number;
  /** Random source, or a seed. Default seed 0. */
  rng?: Random | number;
}

/**
 * @example simulateBattles({ battles: 1000, ratings: { a: 1100, b: 1000, c: 900 }, rng: 1 })
 */
export function simulateBattles(options: SimulateOptions): BattleRecord[] {
  const rng = options.rng instanceof Random ? options.rng : new Random(options.rng ?? 0);
  const names = Object.keys(options.ratings);
  if (names.length < 2) throw new RangeError(`simulateBattles needs at least 2 models, got ${names.length}`);
  const tieRate = options.tieRate ?? 0.1;
  const bothBad = options.bothBadRate ?? 0.3;
  const scale = options.scale ?? 400;
  const base = options.base ?? 10;
  const out: BattleRecord[] = new Array(options.battles);
  for (let i = 0; i < options.battles; i++) {
    const x = rng.int(names.length);
    let y = rng.int(names.length - 1);
    if (y >= x) y++;
    const a = names[x];
    const b = names[y];
    const p = 1 / (1 + Math.pow(base, (options.ratings[b] - options.ratings[a]) / scale));
    // Ties keep the expected score of model_a at p (a tie is half a win), so
    // BT with ties as half wins is the right model for these battles.
    const tie = tieRate * 2 * Math.min(p, 1 - p);
    const u = rng.float();
    let winner: BattleRecord["winner"];
    if (u < tie) winner = rng.float() < bothBad ? "tie (bothbad)" : "tie";
    else winner = u < tie + p - tie / 2 ? "model_a" : "model_b";
    out[i] = { model_a: a, model_b: b, winner, index: i };
  }
  return out;
}

/** `n` evenly spread ratings from `low` to `high`, named `model-01` ... */
export function ladder(n: number, low = 800, high = 1200): Record<string, number> {
  const out: Record<string, number> = {};
  const width = String(n).length;
  for (let i = 0; i < n; i++) out[`model-${String(i + 1).padStart(Math.max(2, width), "0")}`] = n === 1 ? low : low + ((high - low) * i) / (n - 1);
  return out;
}
