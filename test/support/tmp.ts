/**
 * Temporary folders for tests. A folder made while tests run is removed by
 * `removeTempDirs()` (call it in an `after` hook to free space early); one
 * made while the spec files load (in a `describe` body) may still be needed
 * by a suite that runs after another suite's `after` hook, so it stays until
 * the test process exits. Every folder is gone when the process exits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
const madeWhileLoading: string[] = [];
let running = false;

// A root-level hook: it runs once, after every spec file has loaded and before the first test.
if (typeof before === "function") {
  before(() => {
    running = true;
  });
}

export function tempDir(prefix = "tslm-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  (running ? made : madeWhileLoading).push(d);
  return d;
}

/** Removes the folders made while tests ran (so far). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

process.on("exit", () => {
  for (const d of [...made, ...madeWhileLoading]) rmSync(d, { recursive: true, force: true });
});
