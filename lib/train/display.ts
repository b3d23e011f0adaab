/**
 * What a training run shows while it runs: a progress display (a terminal
 * bar, or one updating display in a notebook) with the latest loss and
 * learning rate, and in a notebook a live Vega-Lite chart of training and
 * validation loss.
 */
import { progress, type Progress } from "../display/progress.js";
import { liveChart, type LiveChart } from "../display/live-chart.js";
import { inNotebook } from "../display/sink.js";
import type { VegaLiteSpec } from "../display/vega.js";
import type { StepRecord } from "./checkpoint.js";

export interface LossRow extends Record<string, unknown> {
  step: number;
  loss: number;
  split: "train" | "validation";
}

/** The loss chart: training loss per step and validation loss per evaluation. */
export function lossChartSpec(): VegaLiteSpec {
  return {
    title: "Fine-tuning loss",
    width: 420,
    height: 220,
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "step", type: "quantitative", title: "optimizer step" },
      y: { field: "loss", type: "quantitative", title: "cross-entropy", scale: { zero: false } },
      color: { field: "split", type: "nominal", title: null },
    },
  } as VegaLiteSpec;
}

export interface TrainingDisplay {
  step(rec: StepRecord): void;
  eval(rec: { step: number; loss: number }): void;
  status(text: string | undefined): void;
  /** Replays earlier history (after a resume). */
  restore(history: readonly StepRecord[], evals: readonly { step: number; loss: number }[]): void;
  fail(e: unknown): void;
  done(): Promise<void>;
  /** Rows of the loss chart so far. */
  readonly rows: readonly LossRow[];
}

export function trainingDisplay(totalSteps: number, mode: "auto" | "notebook" | "bar" | "lines" | "off"): TrainingDisplay {
  const bar: Progress = progress({ label: "finetune", total: totalSteps, unit: "step", mode });
  const chart: LiveChart<LossRow> | null = bar.mode === "notebook" || (mode === "auto" && inNotebook()) ? liveChart<LossRow>(lossChartSpec()) : null;
  const rows: LossRow[] = [];
  let done = 0;
  let metrics: Record<string, number | string> = {};
  let status: string | undefined;
  const push = (r: LossRow) => {
    rows.push(r);
    chart?.push(r);
  };
  return {
    rows,
    step(rec) {
      done = rec.step;
      metrics = { ...metrics, loss: rec.loss, lr: rec.lr };
      push({ step: rec.step, loss: rec.loss, split: "train" });
      bar.update(done, { status, metrics });
    },
    eval(rec) {
      metrics = { ...metrics, "val loss": rec.loss };
      push({ step: rec.step, loss: rec.loss, split: "validation" });
      bar.update(done, { status, metrics });
    },
    status(text) {
      // The progress display keeps the last status it was given, so "training" replaces a finished phase.
      status = text ?? "training";
      bar.update(done, { status, metrics });
    },
    restore(history, evals) {
      for (const h of history) push({ step: h.step, loss: h.loss, split: "train" });
      for (const e of evals) push({ step: e.step, loss: e.loss, split: "validation" });
      if (history.length === 0) return;
      done = history[history.length - 1].step;
      bar.update(done, { status: "resumed", metrics });
    },
    fail(e) {
      bar.fail(e);
    },
    async done() {
      bar.done({ status: "finished", metrics });
      await chart?.done();
    },
  };
}
