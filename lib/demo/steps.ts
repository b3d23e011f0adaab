/**
 * The demo's steps, each announced and timed: a `[2/7] train lora-r8` line
 * when it starts and its time when it ends, on the log (stderr for the CLI),
 * and a lib/display progress for steps that draw none of their own
 * (training and the tournament draw theirs).
 */
import { progress, type ProgressMode } from "../display/progress.js";
import { asError } from "../util/errors.js";

export interface StepTiming {
  /** Short name: "setup", "train lora-r8", "tournament", "report". */
  step: string;
  seconds: number;
  /** A short outcome: "cached", "resumed at step 40", "324 battles". */
  note?: string;
}

export interface StepRunner {
  /** Runs one step, announced by `what`; `draw: true` gives it a progress display of its own. */
  run<T>(name: string, what: string, fn: (note: (text: string) => void) => Promise<T>, opts?: { draw?: boolean }): Promise<T>;
  readonly timings: StepTiming[];
}

export function stepRunner(total: number, log: (line: string) => void, mode: ProgressMode | "auto", now: () => number = () => performance.now()): StepRunner {
  const timings: StepTiming[] = [];
  return {
    timings,
    async run(name, what, fn, opts = {}) {
      const index = timings.length + 1;
      log(`[${index}/${total}] ${what}`);
      const bar = opts.draw ? progress({ label: name, total: 1, unit: "step", mode }) : undefined;
      const t0 = now();
      let note: string | undefined;
      try {
        const out = await fn((text) => (note = text));
        const seconds = (now() - t0) / 1000;
        timings.push({ step: name, seconds, ...(note ? { note } : {}) });
        bar?.update(1);
        bar?.done(note ? { status: note } : undefined);
        log(`      ${name}: ${note ? note + ", " : ""}${seconds.toFixed(1)} s`);
        return out;
      } catch (e) {
        bar?.fail(e);
        log(`      ${name} failed: ${asError(e).message}`);
        throw e;
      }
    },
  };
}
