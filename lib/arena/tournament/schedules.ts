/**
 * Static schedules: round-robin (every pair x every prompt, EvalGPT) and
 * sample (n distinct (pair, prompt) combinations drawn uniformly). Battle
 * order and which model is `model_a` are drawn from the seed so no model sits
 * in one slot and online Elo does not see battles grouped by prompt.
 */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import type { BattleSpec, Schedule } from "./spec.js";

/** All unordered pairs of `models`, in a fixed order. */
export function allPairs(models: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < models.length; i++) for (let j = i + 1; j < models.length; j++) out.push([models[i], models[j]]);
  return out;
}

function orient(pair: readonly [string, string], rng: Random): [string, string] {
  return rng.int(2) === 0 ? [pair[0], pair[1]] : [pair[1], pair[0]];
}

export function roundRobin(models: readonly string[], promptIds: readonly string[], rng: Random): Schedule {
  const pairs = allPairs(models);
  const specs: BattleSpec[] = [];
  for (const p of promptIds) for (const pair of pairs) {
    const [a, b] = orient(pair, rng);
    specs.push({ index: 0, prompt_id: p, model_a: a, model_b: b });
  }
  rng.shuffle(specs);
  specs.forEach((s, i) => (s.index = i));
  return oneRound("round-robin", specs);
}

export function sample(models: readonly string[], promptIds: readonly string[], battles: number, rng: Random): Schedule {
  const pairs = allPairs(models);
  const total = pairs.length * promptIds.length;
  if (battles > total) {
    throw new ConfigError(`schedule.battles ${battles} exceeds the ${total} distinct (pair, prompt) combinations; use round-robin to play them all`, { key: "schedule.battles" });
  }
  // Sparse Fisher-Yates over the virtual array 0..total-1: O(battles) time and memory.
  const swapped = new Map<number, number>();
  const specs: BattleSpec[] = [];
  for (let i = 0; i < battles; i++) {
    const j = i + rng.int(total - i);
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    const pair = pairs[vj % pairs.length];
    const [a, b] = orient(pair, rng);
    specs.push({ index: i, prompt_id: promptIds[Math.floor(vj / pairs.length)], model_a: a, model_b: b });
  }
  return oneRound("sample", specs);
}

export function oneRound(type: string, specs: BattleSpec[]): Schedule {
  let given = false;
  return {
    type,
    total: specs.length,
    static: true,
    nextRound() {
      if (given) return null;
      given = true;
      return specs;
    },
  };
}
