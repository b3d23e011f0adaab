/** Public API of lib/arena/ratings: rating maths as pure functions over compact arrays. */
export {
  winnerScore,
  modelsOf,
  toBattleArrays,
  countOutcomes,
  preprocessBattles,
  pairLayout,
  type BattleArrays,
  type OutcomeCounts,
  type PairLayout,
  type PreprocessOptions,
  type TieRule,
} from "./compact.js";
export { chordBT, hessianFactor } from "./chord.js";
export { fitBradleyTerry, newtonBT, btLoss, btGradient, btLossAndGrad, pairStats, DEFAULT_BT_SOLVER, type BTSolverOptions, type BTFit, type PairStats } from "./bt.js";
export { onlineElo, eloHistory, DEFAULT_ELO, type EloOptions } from "./elo.js";
export { bootstrapBT, bootstrapElo, summarizeSamples, rankUpperBound, quantileSorted, type BootstrapSamples, type Interval } from "./bootstrap.js";
export { MultinomialSampler, multinomial } from "./sampling.js";
export { styleFeatures, fitStyleBT, type StyleOptions, type StyleFeatures, type StyleFit } from "./style.js";
export { RatingOptionsSchema, resolveRatingOptions, type RatingOptions, type RatingOptionsInput } from "./options.js";
export { rateBattles, ratingRows, orderByRating, applyVoteFloor, type RatingResult, type RatingRow } from "./rate.js";
export { Leaderboard, ratingsTable, bootstrapTable } from "./leaderboard.js";
export { simulateBattles, ladder, type SimulateOptions } from "./simulate.js";
export { ratingHistory, checkpoints, type HistoryOptions } from "./history.js";
export { readBattleLog, parseBattleLog, checkBattle, formatBad, type BattleLog, type BadRecord } from "./battle-log.js";
