/**
 * Parsing judge output into a verdict. The judge must end with one verdict
 * label in double brackets. Output with no label, or with labels that
 * disagree, is unparsable: the caller retries and finally records an error;
 * it never guesses (MT-Bench counts such output as "error"; Arena-Hard keeps
 * only outputs whose labels agree).
 */
import type { OrderVerdict } from "../types.js";

export type VerdictScale = "three" | "five";

export interface ParsedVerdict {
  verdict: OrderVerdict;
  strength?: number;
}

const THREE: Record<string, ParsedVerdict> = {
  A: { verdict: "first" },
  B: { verdict: "second" },
  C: { verdict: "tie" },
};

const FIVE: Record<string, ParsedVerdict> = {
  "A>>B": { verdict: "first", strength: 2 },
  "A>B": { verdict: "first", strength: 1 },
  "A=B": { verdict: "tie", strength: 0 },
  "B>A": { verdict: "second", strength: 1 },
  "B>>A": { verdict: "second", strength: 2 },
};

/** Returns the verdict, or a string saying why the output cannot be parsed. */
export function parseVerdict(output: string, scale: VerdictScale): ParsedVerdict | string {
  const table = scale === "three" ? THREE : FIVE;
  const labels = new Set<string>();
  for (const m of output.matchAll(/\[\[\s*([^\]\n]{1,12}?)\s*\]\]/g)) {
    const label = m[1].replace(/\s+/g, "").toUpperCase();
    if (label in table) labels.add(label);
  }
  if (labels.size === 0) {
    return `no verdict label (${Object.keys(table).map((k) => `[[${k}]]`).join(", ")}) in judge output: ${JSON.stringify(output.slice(-160))}`;
  }
  if (labels.size > 1) {
    return `conflicting verdict labels ${[...labels].map((k) => `[[${k}]]`).join(", ")} in judge output`;
  }
  return table[[...labels][0]];
}
