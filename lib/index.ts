/**
 * tslm: a TypeScript workbench for large language models.
 *
 * The package root re-exports every subsystem's public API. Data flows down
 * this list; lower layers never import higher ones.
 */
export * from "./util/index.js";
export * from "./tensor/index.js";
export * from "./formats/index.js";
export * from "./tokenizer/index.js";
export * from "./model/index.js";
export * from "./data/index.js";
export * from "./train/index.js";
export * from "./arena/index.js";
export * from "./display/index.js";
export * from "./demo/index.js";
