export * from "./types.js";
export * from "./config.js";
export * from "./metrics.js";
export { parseVerdict, type VerdictScale, type ParsedVerdict } from "./verdict.js";
export { judgeMessages, judgeSystemPrompt, renderQuestion } from "./prompts.js";
export { createLLMJudge, usesReference } from "./llm.js";
export { createReferenceJudge, metricFor } from "./reference.js";
export { createHumanJudge, type HumanJudge, type HumanVote, type Ballot } from "./human.js";
export { createJudgePlan, type JudgeFactoryOptions } from "./create.js";
