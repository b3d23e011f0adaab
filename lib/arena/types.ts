/**
 * Records that cross the arena's internal boundaries: the tournament writes
 * them to the run's journal, ratings and reports read them. Field names are
 * snake_case where they follow Chatbot Arena's battle format
 * (`model_a`, `model_b`, `winner`), so users' existing battle logs load as-is.
 */

/** Outcome of one battle, in Chatbot Arena's vocabulary. */
export type Winner = "model_a" | "model_b" | "tie" | "tie (bothbad)";

/**
 * One rated comparison between two models on one prompt: the unit every
 * rating method consumes. A battle is produced from one or more judgments
 * (for example both answer orders of an LLM judge) and never from an error.
 */
export interface BattleRecord {
  model_a: string;
  model_b: string;
  winner: Winner;
  /** Stable id: hash of (prompt, model_a, model_b, judge, game). */
  id?: string;
  prompt_id?: string;
  category?: string;
  /** Id of the judge (or ensemble) that decided it. */
  judge?: string;
  /** Order of the battle in the run (used by online Elo and by "rating over battles"). */
  index?: number;
  /** Optional per-battle style features for style control: numbers for a and b. */
  style?: Record<string, [number, number]>;
}

/** What a judge said about one ordered presentation of two answers. */
export type OrderVerdict = "first" | "second" | "tie" | "both_bad";

/**
 * One judge call on one ordered pair of answers. `verdict` is absent and
 * `error` set when the judge failed or its output could not be parsed:
 * such judgments are recorded for diagnostics and never rated.
 */
export interface JudgmentRecord {
  id: string;
  prompt_id: string;
  judge: string;
  /** Model shown first (as "A") and second (as "B"). */
  first: string;
  second: string;
  verdict?: OrderVerdict;
  /** Five-level strength when the judge gives one (Arena-Hard's A>>B = 2, A>B = 1, A=B = 0). */
  strength?: number;
  /** Scores the judge gave each answer, when it gives scores. */
  scores?: { first?: number; second?: number };
  /** Judge's explanation or raw output (truncated). */
  reason?: string;
  error?: string;
  /** Attempts made (retries on parse failures and HTTP errors). */
  attempts?: number;
}

/** One contestant's answer to one prompt. */
export interface AnswerRecord {
  id: string;
  prompt_id: string;
  model: string;
  text?: string;
  error?: string;
  /** Wall time in ms, tokens when known. */
  latency_ms?: number;
  tokens?: number;
}
