/**
 * From judgments to battles: pure functions. A battle is produced only from
 * verdicts; a judgment with an error makes the battle undecided (recorded as
 * a battle error), never a tie or a win.
 *
 * Orders `both`, rule `tie` (MT-Bench): the same winner in both orders wins;
 * anything else is a tie ("tie (bothbad)" when both orders say both bad).
 * Orders `both`, rule `two-games` (Arena-Hard): each order is its own battle
 * with the model shown first as model_a; a five-level "much better" verdict
 * counts `strongWeight` times. Orders `one`: one battle, model shown first as
 * model_a (Chatbot Arena's left/right convention).
 */
import type { JudgmentRecord, Winner } from "../types.js";
import type { Judge, JudgeEnsemble } from "../judges/types.js";

/** What deciding needs of a judgment (a `JudgmentRecord` is one). */
export type OrderJudgment = Pick<JudgmentRecord, "first" | "second" | "verdict" | "strength" | "error">;

export interface Game {
  model_a: string;
  model_b: string;
  winner: Winner;
  game: string;
}

export type Decision = { games: Game[] } | { error: string };

type Outcome = "a" | "b" | "tie" | "bothbad";

/** The outcome of one ordered judgment in the frame of `a`. */
function outcomeFor(j: OrderJudgment, a: string): Outcome {
  switch (j.verdict) {
    case "first":
      return j.first === a ? "a" : "b";
    case "second":
      return j.second === a ? "a" : "b";
    case "tie":
      return "tie";
    case "both_bad":
      return "bothbad";
    default:
      throw new Error("outcomeFor needs a verdict");
  }
}

function winnerOf(o: Outcome): Winner {
  return o === "a" ? "model_a" : o === "b" ? "model_b" : o === "tie" ? "tie" : "tie (bothbad)";
}

function failed(js: OrderJudgment[]): string | undefined {
  const bad = js.filter((j) => j.verdict === undefined);
  if (bad.length === 0) return undefined;
  return bad.map((j) => `judgment ${j.first} vs ${j.second}: ${j.error ?? "no verdict"}`).join("; ");
}

/**
 * Decides one judge's battles for the pair (a, b).
 * `judgments` holds the order (a first, b second) and, for orders `both`, (b, a);
 * for orders `one`, the single judgment in whatever order it was shown.
 */
export function decide(a: string, b: string, judge: Pick<Judge, "orders" | "disagreement" | "strongWeight">, judgments: OrderJudgment[]): Decision {
  const err = failed(judgments);
  if (err) return { error: err };
  if (judge.orders === "one") {
    const j = judgments[0];
    return { games: [{ model_a: j.first, model_b: j.second, winner: winnerOf(outcomeFor(j, j.first)), game: "one" }] };
  }
  const ab = judgments.find((j) => j.first === a && j.second === b);
  const ba = judgments.find((j) => j.first === b && j.second === a);
  if (!ab || !ba) return { error: "missing one of the two orders" };
  if (judge.disagreement === "tie") {
    const o1 = outcomeFor(ab, a);
    const o2 = outcomeFor(ba, a);
    const o: Outcome = o1 === o2 ? o1 : "tie";
    return { games: [{ model_a: a, model_b: b, winner: winnerOf(o), game: "both" }] };
  }
  const games: Game[] = [];
  for (const [j, tag] of [[ab, "ab"], [ba, "ba"]] as const) {
    const copies = j.strength === 2 ? judge.strongWeight : 1;
    const winner = winnerOf(outcomeFor(j, j.first));
    for (let k = 1; k <= copies; k++) games.push({ model_a: j.first, model_b: j.second, winner, game: k === 1 ? tag : `${tag}#${k}` });
  }
  return { games };
}

/** +1 when model_a wins, -1 when model_b wins, 0 for ties: the score schedules plan with. */
export function gameScore(g: Pick<Game, "winner">): number {
  return g.winner === "model_a" ? 1 : g.winner === "model_b" ? -1 : 0;
}

/**
 * An ensemble's single battle by majority: each member's decision becomes a
 * vote (+1 a, -1 b, 0 tie, in a's frame); the sign of the sum wins; all
 * members saying both bad gives "tie (bothbad)". Fewer than `quorum` deciding
 * members is an error.
 */
export function majority(a: string, b: string, ens: Pick<JudgeEnsemble, "quorum">, decisions: Decision[]): Decision {
  const quorum = ens.quorum ?? decisions.length;
  let sum = 0;
  let voters = 0;
  let allBothBad = true;
  const errors: string[] = [];
  for (const d of decisions) {
    if ("error" in d) {
      errors.push(d.error);
      continue;
    }
    voters++;
    let s = 0;
    for (const g of d.games) {
      const sc = gameScore(g);
      s += g.model_a === a ? sc : -sc;
      if (g.winner !== "tie (bothbad)") allBothBad = false;
    }
    sum += Math.sign(s);
  }
  if (voters === 0 || voters < quorum) return { error: `${voters} of the ${decisions.length} judges decided (quorum ${quorum}): ${errors.join("; ")}` };
  const winner: Winner = sum > 0 ? "model_a" : sum < 0 ? "model_b" : allBothBad ? "tie (bothbad)" : "tie";
  return { games: [{ model_a: a, model_b: b, winner, game: "majority" }] };
}
