export { loadSuite, findSuite, parsePrompts, selectPrompts, suiteSearchPath } from "./load.js";
export { SuiteFileSchema, PromptLineSchema, type SuiteFile } from "./schema.js";
