/**
 * Shared CLI output conventions: `--json` prints exactly one JSON object on
 * stdout; human output goes to stdout, progress and diagnostics to stderr;
 * failures print one line (no stack trace) and exit with
 *
 * | status | when |
 * | --- | --- |
 * | 0 | done |
 * | 1 | failure (bad file, bad config, unreadable input, a failed step) |
 * | 2 | usage error: unknown option, missing or bad option value |
 * | 3 | a check asked for failed (`--check`, `--fail-on-errors`) |
 * | 128 + n | stopped by signal n: 130 Ctrl-C (SIGINT), 143 SIGTERM |
 */
import { constants } from "node:os";
import { TslmError, UsageError, asError } from "../util/errors.js";
import { isSystemError } from "../util/files.js";

/** Prints a result: one JSON object when `json`, else the human text. */
export function printResult(json: boolean | undefined, value: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(value) + "\n");
  else process.stdout.write(human().replace(/\n?$/, "\n"));
}

/** The exit status of a failure. */
export function exitStatusOf(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}

/**
 * Prints a failure to stderr and returns the exit status: one line (a list
 * of bad records indented below it), never a stack trace unless TSLM_DEBUG=1.
 * Errors that are not tslm's (a bug, or a library's) print their first line.
 */
export function reportFailure(e: unknown): number {
  const err = asError(e);
  // tslm's own messages are written to be shown whole (a list of bad records spans lines); others' first line says what.
  let text: string;
  if (err instanceof TslmError) text = `${err.name}: ${err.message}`;
  else if (isSystemError(err)) text = err.message.split("\n")[0];
  else text = `unexpected ${err.name}: ${err.message.split("\n")[0]}` + (process.env.TSLM_DEBUG ? "" : " (TSLM_DEBUG=1 shows where)");
  process.stderr.write(`tslm: ${text}\n`);
  if (process.env.TSLM_DEBUG && err.stack) process.stderr.write(err.stack + "\n");
  return exitStatusOf(err);
}

/** 128 + the signal's number, the shell's status for a process stopped by it. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Runs `work` with Ctrl-C (SIGINT) and SIGTERM turned into an abort of the
 * signal it is given: the first signal prints `notice` and aborts, so the
 * work stops cleanly (keeping what it recorded). The exit status becomes
 * 130 (SIGINT) or 143 (SIGTERM); work that throws because it was stopped
 * prints one line and returns undefined.
 */
export async function interruptible<T>(notice: string, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const ctl = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stoppedBy = sig;
    process.stderr.write(`\ntslm: ${sig}: ${notice}\n`);
    ctl.abort(new TslmError(`stopped by ${sig}`));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const value = await work(ctl.signal);
    if (stoppedBy) process.exitCode = signalStatus(stoppedBy);
    return value;
  } catch (e) {
    if (!stoppedBy) throw e;
    process.stderr.write(`tslm: stopped: ${asError(e).message}\n`);
    process.exitCode = signalStatus(stoppedBy);
    return undefined;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
