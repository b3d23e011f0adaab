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
export {
  fitBradleyTerry,
  fitIdentified,
  newtonBT,
  btLoss,
  btGradient,
  btLossAndGrad,
  pairStats,
  DEFAULT_BT_SOLVER,
  type BTSolverOptions,
  type BTFit,
  type IdentifiedFit,
  type PairStats,
} from "./bt.js";
export { components, identify, strongComponents, Placement, type Identification } from "./graph.js";
export { newtonMinimize, type NewtonProblem, type NewtonOptions } from "./newton.js";
export { sigmoid, softplus, winProbability } from "./logistic.js";
export { RATING_DEFAULTS, RATING_LIMITS, DENSE_MAX_MODELS } from "./defaults.js";
export { onlineElo, eloHistory, DEFAULT_ELO, type EloOptions } from "./elo.js";
export { bootstrapBT, bootstrapElo, summarizeSamples, rankUpperBound, quantileSorted, type BootstrapSamples, type Interval, type RoundCallback } from "./bootstrap.js";
export { MultinomialSampler, multinomial } from "./sampling.js";
export { styleFeatures, fitStyleBT, type StyleOptions, type StyleFeatures, type StyleFit } from "./style.js";
export { RatingOptionsSchema, resolveRatingOptions, type RatingOptions, type RatingOptionsInput } from "./options.js";
export { rateBattles, ratingRows, orderByRating, applyVoteFloor, type RatingResult, type RatingRow, type RatingStatus, type RatingExtras, type RatingProgress } from "./rate.js";
export { simulateBattles, ladder, type SimulateOptions } from "./simulate.js";
export { ratingHistory, checkpoints, type HistoryOptions } from "./history.js";
