/** A scheduled battle: one prompt, two contestants, a position in the run. */
export interface BattleSpec {
  /** Position in the schedule; battles are reported in this order. */
  index: number;
  prompt_id: string;
  model_a: string;
  model_b: string;
}

/** The outcome a schedule needs to plan the next round: +1 model_a won, 0 tie, -1 model_b won. */
export interface PlayedBattle {
  spec: BattleSpec;
  /** One score per rated battle produced (several for two-games and pooled judges); empty when undecided. */
  scores: number[];
}

/**
 * A schedule hands out battles in rounds. Static schedules have one round;
 * adaptive and swiss look at the results of earlier rounds. `nextRound` must
 * be a pure function of the seed and the results so far, so a resumed run
 * plans exactly the rounds an uninterrupted one would.
 */
export interface Schedule {
  readonly type: string;
  /** Total battles when known in advance. */
  readonly total?: number;
  readonly static: boolean;
  nextRound(played: readonly PlayedBattle[]): BattleSpec[] | null;
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}
