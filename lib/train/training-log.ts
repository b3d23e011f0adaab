/**
 * The training log, `OUTPUT/metrics.jsonl`: one JSON line per optimizer step
 * (`{"type":"train",...}`) and per evaluation (`{"type":"eval",...}`),
 * appended as the run goes. A resumed run first rewrites it from the
 * checkpoint's history, so it never holds steps the run is about to repeat.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { writeTextAtomic } from "../util/atomic.js";
import type { StepRecord } from "./checkpoint.js";
import type { EvalRecord } from "./resume.js";

export const METRICS_FILE = "metrics.jsonl";

export interface TrainingLog {
  /** The log file, or null when the run has no output folder. */
  readonly file: string | null;
  step(rec: StepRecord): void;
  eval(rec: EvalRecord): void;
}

/** Opens the log of a run writing into `outputDir` (none: a log that keeps nothing), starting from the history so far. */
export function openTrainingLog(outputDir: string | null, history: readonly StepRecord[], evals: readonly EvalRecord[]): TrainingLog {
  const file = outputDir ? join(outputDir, METRICS_FILE) : null;
  const line = (obj: Record<string, unknown>) => JSON.stringify(obj) + "\n";
  if (file) writeTextAtomic(file, [...history.map((r) => line({ type: "train", ...r })), ...evals.map((e) => line({ type: "eval", ...e }))].join(""));
  const append = (obj: Record<string, unknown>) => {
    if (file) appendFileSync(file, line(obj));
  };
  return {
    file,
    step: (rec) => append({ type: "train", ...rec }),
    eval: (rec) => append({ type: "eval", ...rec }),
  };
}
