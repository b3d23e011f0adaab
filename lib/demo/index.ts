/**
 * Public API of lib/demo (re-exported from the package root): the whole
 * workbench end to end on the embedded default, as `npm start` runs it.
 */
export { DemoConfigSchema, DemoVariantSchema, DemoTrainSchema, DEFAULT_VARIANTS, FAST_OVERRIDES, type DemoConfig, type DemoConfigInput, type DemoVariant, type DemoVariantInput, type DemoTrain } from "./config.js";
export { runDemo, resolveDemoConfig, demoJson, DEMO_FORMAT, type DemoDeps, type DemoResult, type DemoVariantResult } from "./run.js";
export { trainAdapter, adapterKey, trainConfigFor, copyAdapter, type TrainedAdapter, type TrainAdapterInput } from "./adapters.js";
export { demoContestant, demoIdentity, serialQueue, type DemoContestantInput } from "./contestant.js";
export { chooseJudge, llmJudgeFromEnv, type JudgeChoice, type LlmJudgeSettings } from "./judge.js";
export { separation, variantAccuracy, type Separation } from "./summary.js";
export { formatDemo } from "./format.js";
export { folderHash } from "./hash.js";
export type { StepTiming } from "./steps.js";
