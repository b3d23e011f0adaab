/** Public API of lib/data (re-exported from the package root). */
export { DataConfigSchema, DEFAULT_DATA, type DataConfig, type DataConfigInput } from "./config.js";
export { parseCsv, type CsvRecords } from "./csv.js";
export { readDatasetFile, readCorpusFile, formatOf, parseJsonl, tableFromRows, sourceFromRecords, rowLabel, type SourceTable, type DatasetFormat } from "./read.js";
export { extractExamples, detectLayout, messagesToConversation, type Example, type ChatExample, type TextExample, type Turn, type SkippedRow, type RowLocation } from "./conversations.js";
export { encodeExample, llmStudioSegments, chatTemplateSegments, toMessages, packTokens, type TextTokenizer, type Segment, type Sample } from "./encode.js";
export { splitTrainValidation, type Split } from "./split.js";
export { collate, epochOrder, batchIndices, batchesPerEpoch, nextPosition, targetCount, type Batch, type DataPosition } from "./batch.js";
export { textTokenizer } from "./tokenizer-adapter.js";
export * from "./text-metrics.js";
export { loadDataset, type LoadedDataset, type LoadDatasetOptions, type DatasetReport } from "./dataset.js";
export * from "./embedded/index.js";
