/**
 * The human judge: the tournament puts each comparison up as a ballot with
 * the two answers anonymised (labelled A and B, no model names) in an order
 * drawn from the run's seed; a person votes A, B, tie or both bad through
 * `vote`. The tournament waits for votes and journals each as it arrives, so
 * a restarted run only asks for the votes still missing. `tslm arena run
 * --vote` serves the ballots on a voting page (voting.ts).
 *
 * @example
 * const human = createHumanJudge();
 * const run = runTournament(config, { judges: { human } });   // not awaited yet
 * const ballot = await human.next();
 * human.vote(ballot.id, "A");
 */
import type { HumanJudgeConfig } from "./config.js";
import { JudgeError, type Judge, type JudgeInput, type JudgeResult } from "./types.js";
import type { ArenaChatMessage, OrderVerdict } from "../types.js";
import { shortId } from "../store/hash.js";

export type HumanVote = "A" | "B" | "tie" | "both_bad";

export interface Ballot {
  id: string;
  prompt_id: string;
  category: string;
  messages: ArenaChatMessage[];
  /** Answer shown as A and as B. */
  a: string;
  b: string;
}

export interface HumanJudge extends Judge {
  /** Ballots waiting for a vote, oldest first. */
  pending(): Ballot[];
  /** Resolves with the next ballot waiting for a vote (at once if one is pending). */
  next(): Promise<Ballot>;
  /** Records a vote on a pending ballot. */
  vote(ballotId: string, vote: HumanVote): void;
  /** Calls `listener` whenever a new ballot is put up; returns the unsubscribe function. */
  subscribe(listener: (ballot: Ballot) => void): () => void;
}

const VERDICTS: Record<HumanVote, OrderVerdict> = { A: "first", B: "second", tie: "tie", both_bad: "both_bad" };

/** The votes a person can give. */
export const HUMAN_VOTES = Object.keys(VERDICTS) as readonly HumanVote[];

export function isHumanVote(v: unknown): v is HumanVote {
  return typeof v === "string" && Object.hasOwn(VERDICTS, v);
}

export function createHumanJudge(cfg: Partial<HumanJudgeConfig> = {}): HumanJudge {
  const open = new Map<string, { ballot: Ballot; resolve: (r: JudgeResult) => void; reject: (e: Error) => void }>();
  const waiters: ((b: Ballot) => void)[] = [];
  const listeners = new Set<(b: Ballot) => void>();
  const id = cfg.id ?? "human";
  return {
    id,
    type: "human",
    identity: { type: "human", id },
    cacheable: false,
    orders: "one",
    disagreement: "tie",
    strongWeight: 1,
    judge(input: JudgeInput): Promise<JudgeResult> {
      // Two pairings can show the same two texts on one prompt (models that answer alike): each still gets its own ballot.
      const base = shortId({ human: id, prompt: input.prompt.id, a: input.first, b: input.second });
      let ballotId = base;
      for (let k = 2; open.has(ballotId); k++) ballotId = `${base}.${k}`;
      const ballot: Ballot = {
        id: ballotId,
        prompt_id: input.prompt.id,
        category: input.prompt.category,
        messages: input.prompt.messages,
        a: input.first,
        b: input.second,
      };
      return new Promise<JudgeResult>((resolve, reject) => {
        open.set(ballot.id, { ballot, resolve, reject });
        input.signal?.addEventListener("abort", () => {
          open.delete(ballot.id);
          reject(new JudgeError("voting was cancelled"));
        }, { once: true });
        for (const w of waiters.splice(0)) w(ballot);
        for (const l of listeners) l(ballot);
      });
    },
    pending: () => [...open.values()].map((o) => o.ballot),
    next(): Promise<Ballot> {
      const first = open.values().next();
      if (!first.done) return Promise.resolve(first.value.ballot);
      return new Promise((resolve) => waiters.push(resolve));
    },
    subscribe(listener: (ballot: Ballot) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    vote(ballotId: string, vote: HumanVote): void {
      const o = open.get(ballotId);
      if (!o) throw new JudgeError(`no pending ballot '${ballotId}'`);
      if (!isHumanVote(vote)) throw new JudgeError(`vote must be A, B, tie or both_bad; got ${JSON.stringify(vote)}`);
      open.delete(ballotId);
      o.resolve({ verdict: VERDICTS[vote], attempts: 1 });
    },
  };
}
