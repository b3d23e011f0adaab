/**
 * Swiss schedule: each round pairs contestants with similar scores who have
 * not met yet (a contestant left over gets a bye, lowest-ranked first), and
 * each pairing plays a few prompts. Strong and weak contestants separate in
 * about log2(n) rounds with far fewer battles than a round robin.
 */
import { Random } from "../../util/random.js";
import { pairKey, type BattleSpec, type PlayedBattle, type Schedule } from "./spec.js";

export function swiss(
  models: readonly string[],
  promptIds: readonly string[],
  opts: { rounds?: number; prompts_per_pairing: number },
  seedRng: Random,
): Schedule {
  const rounds = opts.rounds ?? Math.ceil(Math.log2(Math.max(2, models.length))) + 2;
  let round = 0;
  let given = 0;
  const byes = new Set<string>();
  return {
    type: "swiss",
    static: false,
    nextRound(played: readonly PlayedBattle[]): BattleSpec[] | null {
      if (round >= rounds) return null;
      const rng = seedRng.fork(`swiss:${round++}`);
      const score = new Map(models.map((m) => [m, 0]));
      const met = new Set<string>();
      const used = new Map<string, Set<string>>();
      for (const pb of played) {
        const k = pairKey(pb.spec.model_a, pb.spec.model_b);
        met.add(k);
        if (!used.has(k)) used.set(k, new Set());
        used.get(k)!.add(pb.spec.prompt_id);
        for (const s of pb.scores) {
          score.set(pb.spec.model_a, score.get(pb.spec.model_a)! + (s + 1) / 2);
          score.set(pb.spec.model_b, score.get(pb.spec.model_b)! + (1 - s) / 2);
        }
      }
      // Random order first, then a stable sort by score: equal scores are ordered by the seed.
      const standing = rng.shuffle([...models]).sort((a, b) => score.get(b)! - score.get(a)!);
      if (standing.length % 2 === 1) {
        const bye = [...standing].reverse().find((m) => !byes.has(m)) ?? standing[standing.length - 1];
        byes.add(bye);
        standing.splice(standing.indexOf(bye), 1);
      }
      const free = (a: string, b: string) => promptIds.length - (used.get(pairKey(a, b))?.size ?? 0);
      const specs: BattleSpec[] = [];
      while (standing.length >= 2) {
        const top = standing.shift()!;
        let k = standing.findIndex((m) => !met.has(pairKey(top, m)) && free(top, m) > 0);
        if (k < 0) k = standing.findIndex((m) => free(top, m) > 0);
        if (k < 0) continue;
        const opp = standing.splice(k, 1)[0];
        const done = used.get(pairKey(top, opp)) ?? new Set<string>();
        const choices = rng.shuffle(promptIds.filter((p) => !done.has(p))).slice(0, opts.prompts_per_pairing);
        for (const p of choices) {
          const [a, b] = rng.int(2) === 0 ? [top, opp] : [opp, top];
          specs.push({ index: given++, prompt_id: p, model_a: a, model_b: b });
        }
      }
      return specs.length ? specs : null;
    },
  };
}
