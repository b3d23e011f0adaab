/**
 * Learning-rate schedules as pure functions of the step, with the formulas
 * H2O LLM Studio uses (adapted from transformers' get_*_schedule_with_warmup):
 * linear warmup from 0, then cosine (half a cycle) or linear decay to a
 * floor of `minLrRatio`, or constant.
 *
 * `step` counts optimizer updates already done (0 for the first update), as
 * in PyTorch's LambdaLR, so with warmup the first update uses lr 0.
 */

export type ScheduleName = "cosine" | "linear" | "constant";

export interface ScheduleOptions {
  schedule: ScheduleName;
  /** Peak learning rate. */
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the decay as a fraction of lr (LLM Studio's min_learning_rate_ratio). */
  minLrRatio: number;
}

/** Multiplier of the peak learning rate at `step`. */
export function lrMultiplier(step: number, o: Omit<ScheduleOptions, "lr">): number {
  if (step < o.warmupSteps) return step / Math.max(1, o.warmupSteps);
  if (o.schedule === "constant") return 1;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  if (o.schedule === "linear") return Math.max(o.minLrRatio, (o.totalSteps - step) / span);
  const progress = (step - o.warmupSteps) / span;
  return Math.max(o.minLrRatio, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * Learning rate at `step`.
 * @example learningRate(0, { schedule: "cosine", lr: 1e-4, warmupSteps: 0, totalSteps: 10, minLrRatio: 0 }) === 1e-4
 */
export function learningRate(step: number, o: ScheduleOptions): number {
  return o.lr * lrMultiplier(step, o);
}
