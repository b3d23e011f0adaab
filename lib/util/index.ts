/** Public API of lib/util (re-exported from the package root). */
export * from "./errors.js";
export { Random, type RandomState, hashString32 } from "./random.js";
export { resolveConfig, loadConfigFile, z } from "./config.js";
export { packageInfo } from "./package.js";
export { writeFileAtomic, writeTextAtomic, writeJsonAtomic, syncDir, tempPathFor, type AtomicData } from "./atomic.js";
export { readTextFile, readJsonFile, parseJsonText, parseJsonStrict, decodeText, readFileBytes, makeDir, makeParentDir } from "./files.js";
