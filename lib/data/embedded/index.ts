/** The embedded skills dataset (a generated world, its tasks and its pretraining corpus) and the default model made from it. */
export { generateWorld, type World, type Person, type WorldOptions } from "./world.js";
export { embeddedTasks, splitTasks, taskRecords, pretrainingCorpus, type SkillTask, type SkillCategory, type TaskSplit, type CorpusOptions } from "./tasks.js";
export { embeddedSkills, EMBEDDED_WORLD_SEED, type EmbeddedSkills } from "./skills.js";
export { writeSkillsSuite, suitePromptLines, suiteYaml, SKILLS_SUITE_NAME } from "./suite.js";
export { EMBEDDED_MODEL_NAME, EMBEDDED_MODEL_DIR, EMBEDDED_SUITE, embeddedModelDir, loadEmbeddedModel, DefaultCorpusSchema, defaultModelCorpus, type DefaultCorpusOptions } from "./default-model.js";
