/** Seeded train/validation split (LLM Studio: ceil(n * validationSize) held out, like sklearn's train_test_split). */
import { Random } from "../util/random.js";

export interface Split<T> {
  train: T[];
  validation: T[];
}

/**
 * Splits items with a seeded shuffle; order within each part follows the input.
 * At least one item stays in train; with size > 0 and two or more items at
 * least one goes to validation.
 */
export function splitTrainValidation<T>(items: readonly T[], size: number, seed: number): Split<T> {
  const n = items.length;
  if (size <= 0 || n < 2) return { train: [...items], validation: [] };
  const nVal = Math.min(n - 1, Math.max(1, Math.ceil(n * size)));
  const order = new Random(seed).fork("validation-split").shuffle(Array.from({ length: n }, (_, i) => i));
  const held = new Set(order.slice(0, nVal));
  const train: T[] = [];
  const validation: T[] = [];
  items.forEach((it, i) => (held.has(i) ? validation : train).push(it));
  return { train, validation };
}
