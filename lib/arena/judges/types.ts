/**
 * What a judge is: something that, shown a prompt and two anonymous answers
 * in a given order ("A" first, "B" second), says which is better. Judges see
 * answer texts only, never model names. A judge that cannot reach a verdict
 * throws (a `JudgeError`); the tournament records the error and never turns
 * it into a verdict.
 */
import type { OrderVerdict, SuitePrompt } from "../types.js";
import { TslmError } from "../../util/errors.js";

export interface JudgeInput {
  prompt: SuitePrompt;
  /** Answer shown first ("A") and second ("B"). */
  first: string;
  second: string;
  signal?: AbortSignal;
}

export interface JudgeResult {
  verdict: OrderVerdict;
  /** Five-level strength: 2 = much better, 1 = better, 0 = tie. */
  strength?: number;
  scores?: { first?: number; second?: number };
  reason?: string;
  attempts?: number;
  retry_errors?: string[];
  reference_guided?: boolean;
}

/** How the two orders of a battle become battles. */
export type DisagreementRule = "tie" | "two-games";

export interface Judge {
  readonly id: string;
  readonly type: string;
  /** What determines its verdicts (no secrets): part of the judgment cache key. */
  readonly identity: unknown;
  readonly cacheable: boolean;
  /**
   * `both`: judged in both orders (position-swap, MT-Bench); `one`: judged once,
   * in an order drawn from the run's seed (human judges, and judges whose
   * verdict cannot depend on order, like the reference judge).
   */
  readonly orders: "both" | "one";
  /** With orders `both`: MT-Bench's `tie` (inconsistent orders tie) or Arena-Hard's `two-games`. */
  readonly disagreement: DisagreementRule;
  /** Battles a strong (five-level "much better") verdict counts for in two-games mode (Arena-Hard: 3). */
  readonly strongWeight: number;
  /**
   * Whether this judge can judge a prompt at all (the reference judge needs a
   * reference). In an ensemble, members that do not apply sit the prompt out;
   * a battle no judge applies to is recorded as an error.
   */
  applies?(prompt: SuitePrompt): boolean;
  judge(input: JudgeInput): Promise<JudgeResult>;
  close?(): Promise<void>;
}

/** Several judges pooled: `pool` keeps every member's battles; `majority` makes one battle from their votes. */
export interface JudgeEnsemble {
  readonly id: string;
  readonly type: "ensemble";
  readonly members: Judge[];
  readonly combine: "pool" | "majority";
  /** With `majority`: members that must give a verdict (default: all that apply to the prompt); fewer = a recorded error. */
  readonly quorum?: number;
}

export type JudgePlan = Judge | JudgeEnsemble;

export function isEnsemble(j: JudgePlan): j is JudgeEnsemble {
  return j.type === "ensemble";
}

/** A judge gave no usable verdict (after its retries). */
export class JudgeError extends TslmError {
  constructor(
    message: string,
    readonly attempts: number = 1,
    readonly errors: string[] = [],
  ) {
    super(message);
  }
}
