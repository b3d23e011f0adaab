/** Command-line flags and number formatting shared by the benchmarks. */

/** The value after `--name`, or undefined. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A whole number >= min from a flag's value, or an error naming the flag. */
export function wholeNumber(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} expects whole numbers >= ${min}, got '${value}'`);
  return n;
}

/** `x` with `digits` decimals right-aligned in `width`, or "-" when not finite. */
export function fmt(x: number, width: number, digits: number): string {
  return (Number.isFinite(x) ? x.toFixed(digits) : "-").padStart(width);
}
