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
  /**
   * Which game of its prompt/pair/judge this is: "both" (both orders combined
   * into one battle), "ab"/"ba" (one game per order, Arena-Hard's two games;
   * "ab" shows model_a first), "one" (one order judged); `#k` suffixes mark
   * the extra copies a five-level strong verdict adds.
   */
  game?: string;
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
  /** Failures of earlier attempts (HTTP errors, unparsable output), oldest first. */
  retry_errors?: string[];
  /** Content hash (judge config, prompt, reference, both answers in order): the cache key. */
  key?: string;
  /** True when the verdict came from the cache rather than a judge call in this run. */
  cached?: boolean;
  /** Whether the judge was shown the prompt's reference answer. */
  reference_guided?: boolean;
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
  attempts?: number;
  retry_errors?: string[];
  /** Content hash (contestant config, prompt, parameters, seed): the cache key. */
  key?: string;
  cached?: boolean;
}

// ---------------------------------------------------------------------------
// Additions by the tournament core (all optional on the records above, new
// records below). Records above keep their fields; readers may ignore these.
// ---------------------------------------------------------------------------

/** One chat message, as in the OpenAI chat API (stricter than lib/tokenizer's template `ChatMessage`: three roles, no extra fields). */
export interface ArenaChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One prompt of a suite (a line of `prompts.jsonl`, resolved). */
export interface SuitePrompt {
  id: string;
  category: string;
  /** The conversation sent to contestants; a `prompt` string becomes one user message. */
  messages: ArenaChatMessage[];
  /** A checkable answer (reference judge, reference-guided LLM judging). */
  reference?: string;
  tags?: string[];
}

/** A loaded suite: `suite.yaml` plus its prompts, and a hash of both. */
export interface SuiteInfo {
  name: string;
  version: string;
  description: string;
  categories: string[];
  /** sha256 of the canonical suite metadata and prompts (hex). */
  hash: string;
  prompts: SuitePrompt[];
  /** Default judge and generation settings declared by the suite, if any. */
  judge?: Record<string, unknown>;
  generation?: Record<string, unknown>;
  /** Per-category generation defaults over `generation`. */
  category_generation?: Record<string, Record<string, unknown>>;
}

/** A battle that could not be decided (an answer or judge call failed); never rated. */
export interface BattleErrorRecord {
  id: string;
  index: number;
  prompt_id: string;
  model_a: string;
  model_b: string;
  judge: string;
  error: string;
}

/** A contestant as recorded in a run: its name, kind and what determines its answers (no secrets). */
export interface ContestantInfo {
  name: string;
  type: string;
  identity: unknown;
}

/** Facts about a run, written once when it starts (`run.json`). */
export interface RunMeta {
  id: string;
  format: "tslm-arena-run";
  format_version: number;
  created: string;
  seed: number;
  suite: string;
  suiteHash: string;
  /** sha256 of the config fields that decide results (not concurrency, cache or shard). */
  configHash: string;
  /** tslm, node and dependency versions that made the run. */
  versions: Record<string, string>;
  /** Set for one shard of a run split over machines: battles whose index % count == index. */
  shard?: { index: number; count: number };
  /** Set on a merged run: the shards' run ids. */
  mergedFrom?: string[];
  /** Derived when loading: true once the journal holds the run's end marker. */
  complete?: boolean;
}
