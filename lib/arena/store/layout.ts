/**
 * Run folder layout (format version 1):
 *
 * | file | written | holds |
 * | --- | --- | --- |
 * | `run.json` | once, atomically, at creation | RunMeta: id, seed, suite hash, config hash, versions, shard |
 * | `config.json` | once, atomically | the resolved run config (every default filled in; no secrets) |
 * | `config.yaml` | once, when run from a file | the config as the user wrote it |
 * | `suite.json` | once, atomically | the suite as loaded (metadata, prompts, hash) |
 * | `contestants.json` | once, atomically | name, type and identity of each contestant |
 * | `journal.jsonl` | appended, fsync'd | answer, judgment, battle, battle_error, session and end records |
 * | `lock` | while a process plays the run | that process's pid and host |
 *
 * Journal lines are `{"type": "answer", ...AnswerRecord}`, `{"type":
 * "judgment", ...JudgmentRecord}`, `{"type": "battle", ...BattleRecord}`,
 * `{"type": "battle_error", ...BattleErrorRecord}`, `{"type": "session",
 * "started", "resume", "pid"}` at each start and `{"type": "end", "finished",
 * "counts"}` when a run completes.
 */
export const RUN_FORMAT_VERSION = 1;

export const RUN_FILES = {
  meta: "run.json",
  config: "config.json",
  configText: "config.yaml",
  suite: "suite.json",
  contestants: "contestants.json",
  journal: "journal.jsonl",
  lock: "lock",
} as const;
