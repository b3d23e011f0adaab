/** Public API of lib/train (re-exported from the package root). */
export { TrainConfigSchema, LoraConfigSchema, DEFAULT_TRAIN, TRAJECTORY_KEYS, type TrainConfig, type TrainConfigInput, type LoraTrainConfig } from "./config.js";
export { learningRate, lrMultiplier, type ScheduleName, type ScheduleOptions } from "./schedule.js";
export { Optimizer, clipByGlobalNorm, type OptimizerName, type OptimizerOptions, type Param } from "./optimizer.js";
export { windowGradients, type LossKind, type WindowResult } from "./step.js";
export { meanPerplexity } from "./metrics.js";
export { evaluate, sampleLosses, type EvaluateOptions, type EvalResult, type EvalPrediction } from "./evaluate.js";
export { writeCheckpoint as writeTrainingCheckpoint, latestCheckpoint as latestTrainingCheckpoint, listCheckpoints as listTrainingCheckpoints, readCheckpointDir as readTrainingCheckpoint, checkpointName, type StepRecord, type TrainerState, type CheckpointHooks } from "./checkpoint.js";
export { prepareModel, stableName, type PreparedModel } from "./setup.js";
export { exportRun, type ExportResult } from "./export.js";
export { lossChartSpec, trainingDisplay, type TrainingDisplay, type LossRow } from "./display.js";
export { finetune, planSteps, type FinetuneOptions, type FinetuneRun, type TrainerDeps } from "./trainer.js";
export { resumeFrom, checkResumable, dataFingerprint, type EvalRecord, type TrainingProgress } from "./resume.js";
export { openTrainingLog, METRICS_FILE, type TrainingLog } from "./training-log.js";
export { pretrain, PretrainConfigSchema, PRETRAIN_SPECIAL_TOKENS, LLM_STUDIO_CHAT_TEMPLATE, type PretrainConfig, type PretrainConfigInput, type PretrainCorpus, type PretrainResult } from "./pretrain.js";
export { SKILLS_DATA, SKILLS_FINETUNE, skillsDataset, finetuneSkills, evaluateSkills, writeSkillsFiles, quantizationPerplexity, type SkillsRunOptions, type QuantizedPerplexity } from "./skills.js";
