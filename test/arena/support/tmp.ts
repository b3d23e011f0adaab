/** Temporary folders for arena tests, removed after the run. */
import { tempDir as makeTempDir } from "../../support/tmp.js";

export { removeTempDirs } from "../../support/tmp.js";

export const tempDir = (prefix = "tslm-arena-"): string => makeTempDir(prefix);
