/** Public API of lib/arena (re-exported from the package root). */
export {};
// Tournament core: suites, contestants, judges, schedules, run store.
export * from "./types.js";
export { runTournament, type RunOptions, type RunResult, type RunSummary, type RunProgress } from "./run.js";
export { loadRun, mergeRuns, readJournal, RUN_FILES, RUN_FORMAT_VERSION, type LoadedRun, type MergeResult } from "./store/index.js";
export { loadSuite, findSuite, selectPrompts } from "./suites/index.js";
export { ArenaConfigSchema, type ArenaConfig, type ArenaConfigInput } from "./tournament/config.js";
export { createOpenAIContestant, createAnswersFileContestant, createLocalContestant, readAnswersFile, type Contestant, type ContestantRequest, type ContestantAnswer, type GenerationParams } from "./contestants/index.js";
export { createLLMJudge, createReferenceJudge, createHumanJudge, parseVerdict, type Judge, type JudgeInput, type JudgeResult, type HumanJudge, type HumanVote, type Ballot, JudgeError } from "./judges/index.js";
export { startVotingServer, type VotingServer, type VotingServerOptions } from "./judges/voting.js";
// Ratings, analysis, plots and reports.
export { Leaderboard, ratingsTable, bootstrapTable } from "./leaderboard.js";
export { readBattleLog, parseBattleLog } from "./battle-log.js";
export {
  rateBattles,
  ratingRows,
  ratingHistory,
  simulateBattles,
  ladder,
  preprocessBattles,
  toBattleArrays,
  fitBradleyTerry,
  onlineElo,
  bootstrapBT,
  bootstrapElo,
  summarizeSamples,
  rankUpperBound,
  MultinomialSampler,
  RatingOptionsSchema,
  resolveRatingOptions,
  type RatingResult,
  type RatingRow,
  type RatingStatus,
  type RatingOptions,
  type RatingOptionsInput,
  type OutcomeCounts,
  type BattleArrays,
} from "./ratings/index.js";
export { winFractionMatrix, battleCountMatrix, predictedWinRateMatrix, averageWinRate, outcomeCounts, positionBias, orderConsistency, judgeAgreement, humanAgreement, wilsonInterval } from "./analysis/index.js";
export {
  leaderboardChart,
  averageWinRateChart,
  battlesPerModelChart,
  outcomeCountsChart,
  winFractionHeatmap,
  battleCountHeatmap,
  predictedWinRateHeatmap,
  ratingHistoryChart,
  bootstrapChart,
  positionBiasChart,
} from "./plots/index.js";
export { analyzeRun, buildReport, writeReport, type RunAnalysis, type ReportOptions } from "./report/index.js";
