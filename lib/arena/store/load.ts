/**
 * `loadRun(dir)`: everything a report or a rating needs from a run folder,
 * as plain records in a deterministic order (battles by schedule index, so a
 * resumed run and an uninterrupted one load identically).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AnswerRecord, BattleErrorRecord, BattleRecord, ContestantInfo, JudgmentRecord, RunMeta, SuiteInfo } from "../types.js";
import type { ArenaConfig } from "../tournament/config.js";
import type { JudgeConfig } from "../judges/config.js";
import { readJournal } from "./journal.js";
import { RUN_FILES } from "./layout.js";
import { RecordIndex, battleGroupKey } from "./records.js";
import { readJsonFile, readRunMeta } from "./run-store.js";

/** A run's recorded config: as written, every default filled in, the judge merged with the suite's defaults. */
export type RecordedConfig = Omit<ArenaConfig, "judge"> & { judge: JudgeConfig };

export interface LoadedRun {
  dir: string;
  /** The resolved config the run was made with (no secrets). */
  config: RecordedConfig;
  suite: SuiteInfo;
  contestants: ContestantInfo[];
  /** Every answer, including failed ones (`error` set, no `text`). */
  answers: AnswerRecord[];
  /** Every judgment (one per judge and answer order), including failed ones (`error` set, no `verdict`). */
  judgments: JudgmentRecord[];
  /** Rated battles, in schedule order; never produced from an error. */
  battles: BattleRecord[];
  /** The failures, for diagnostics: they are not in `battles`. */
  errors: { answers: AnswerRecord[]; judgments: JudgmentRecord[]; battles: BattleErrorRecord[] };
  meta: RunMeta & { complete: boolean; sessions: number; torn_bytes: number };
}

/** Sorts a run's records deterministically. */
export function orderedRecords(index: RecordIndex, suite: SuiteInfo, contestants: ContestantInfo[]) {
  const promptPos = new Map(suite.prompts.map((p, i) => [p.id, i]));
  const modelPos = new Map(contestants.map((c, i) => [c.name, i]));
  const pp = (id: string) => promptPos.get(id) ?? Number.MAX_SAFE_INTEGER;
  const mp = (m: string) => modelPos.get(m) ?? Number.MAX_SAFE_INTEGER;
  const cmp = (a: string | undefined, b: string | undefined) => ((a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0);
  const answers = [...index.answers.values()].sort((a, b) => pp(a.prompt_id) - pp(b.prompt_id) || mp(a.model) - mp(b.model) || cmp(a.id, b.id));
  const judgments = [...index.judgments.values()].sort(
    (a, b) => pp(a.prompt_id) - pp(b.prompt_id) || cmp(a.judge, b.judge) || mp(a.first) - mp(b.first) || mp(a.second) - mp(b.second) || cmp(a.id, b.id),
  );
  const battles = [...index.battles.values()].sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || cmp(a.judge, b.judge) || cmp(a.game, b.game) || cmp(a.id, b.id));
  const decided = new Set(battles.map(battleGroupKey));
  // A battle error that a later retry decided is history, not a failure.
  const battleErrors = [...index.battleErrors.values()]
    .filter((e) => !decided.has(battleGroupKey(e)))
    .sort((a, b) => a.index - b.index || cmp(a.judge, b.judge) || cmp(a.id, b.id));
  return { answers, judgments, battles, battleErrors };
}

/**
 * Loads a run folder (complete, interrupted or merged).
 * @example const run = loadRun("runs/general-demo"); run.battles.filter(b => b.winner === "model_a").length
 */
export function loadRun(dir: string): LoadedRun {
  const meta = readRunMeta(dir);
  const config = readJsonFile<RecordedConfig>(join(dir, RUN_FILES.config));
  const suite = readJsonFile<SuiteInfo>(join(dir, RUN_FILES.suite));
  const contestants = readJsonFile<ContestantInfo[]>(join(dir, RUN_FILES.contestants));
  const journalFile = join(dir, RUN_FILES.journal);
  const { entries, tornBytes } = existsSync(journalFile) ? readJournal(journalFile) : { entries: [], tornBytes: 0 };
  const index = new RecordIndex();
  for (const e of entries) index.ingest(e);
  const r = orderedRecords(index, suite, contestants);
  return {
    dir,
    config,
    suite,
    contestants,
    answers: r.answers,
    judgments: r.judgments,
    battles: r.battles,
    errors: {
      answers: r.answers.filter((a) => a.error !== undefined),
      judgments: r.judgments.filter((j) => j.error !== undefined),
      battles: r.battleErrors,
    },
    meta: { ...meta, complete: index.ended !== undefined, sessions: index.sessions, torn_bytes: tornBytes },
  };
}
