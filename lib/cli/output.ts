/**
 * Shared CLI output conventions: `--json` prints exactly one JSON object on
 * stdout; human output goes to stdout, progress and diagnostics to stderr;
 * failures print one clear line and exit non-zero.
 */
import { TslmError, asError } from "../util/errors.js";

/** Prints a result: one JSON object when `json`, else the human text. */
export function printResult(json: boolean | undefined, value: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(value) + "\n");
  else process.stdout.write(human().replace(/\n?$/, "\n"));
}

/** Prints a failure to stderr and returns the exit code to use. */
export function reportFailure(e: unknown): number {
  const err = asError(e);
  if (err instanceof TslmError) {
    process.stderr.write(`tslm: ${err.name}: ${err.message}\n`);
  } else {
    process.stderr.write(`tslm: ${err.stack ?? err.message}\n`);
  }
  return 1;
}
