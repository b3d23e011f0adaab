export { JournalWriter, readJournal, type FsyncPolicy, type JournalEntry, type JournalContents } from "./journal.js";
export { RunStore, readRunMeta, type RunInit } from "./run-store.js";
export { ContentCache } from "./cache.js";
export { loadRun, type LoadedRun } from "./load.js";
export { mergeRuns, type MergeResult } from "./merge.js";
export { RUN_FILES, RUN_FORMAT_VERSION } from "./layout.js";
export { canonicalJson, contentHash, shortId } from "./hash.js";
