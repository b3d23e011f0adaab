/** Public API of lib/arena (re-exported from the package root). */
export {};
// Tournament core: suites, contestants, judges, schedules, run store.
export * from "./types.js";
export { runTournament, type RunOptions, type RunResult, type RunSummary, type RunProgress } from "./run.js";
export { loadRun, mergeRuns, readJournal, RUN_FILES, RUN_FORMAT_VERSION, type LoadedRun, type MergeResult } from "./store/index.js";
export { loadSuite, findSuite, selectPrompts } from "./suites/index.js";
export { ArenaConfigSchema, type ArenaConfig, type ArenaConfigInput } from "./tournament/config.js";
export { createOpenAIContestant, createAnswersFileContestant, createLocalContestant, readAnswersFile, type Contestant, type GenerateRequest, type GenerateResult, type GenerationParams } from "./contestants/index.js";
export { createLLMJudge, createReferenceJudge, createHumanJudge, parseVerdict, type Judge, type JudgeInput, type JudgeResult, type HumanJudge, type HumanVote, type Ballot, JudgeError } from "./judges/index.js";
export { exactMatch, normalizedMatch, numericMatch, regexMatch, containsMatch, rougeL, bleu } from "./judges/metrics.js";
