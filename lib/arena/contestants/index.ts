export * from "./types.js";
export * from "./config.js";
export { GenerationParamsSchema, mergeParams, type GenerationParams } from "./params.js";
export { undiciTransport, fetchTransport, type Transport, type PostResponse } from "./transport.js";
export { chatCompletion, ChatError, EndpointSchema, defaultHttpDeps, type EndpointConfig, type HttpDeps, type ChatResult } from "./http.js";
export { createOpenAIContestant } from "./openai.js";
export { createAnswersFileContestant, readAnswersFile } from "./answers-file.js";
export { createLocalContestant, quantizationIdentity, DEFAULT_BLOCK_SIZE, type LocalContestantOptions } from "./local.js";
export { createContestant, type ContestantFactoryOptions } from "./create.js";
