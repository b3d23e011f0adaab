/**
 * Cell failures as Jupyter `error` content (ename, evalue, traceback):
 * TypeScript diagnostics and thrown values alike, so frontends and nbconvert
 * show them as errors (tslab printed them as stderr text).
 */
import { inspect } from "node:util";
import type { Diagnostic } from "tslab/dist/converter.js";

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** ename of TypeScript compile errors. */
export const TS_ERROR = "TSError";

/** Diagnostics of a cell (zero-based positions) as one error, each with its source line and a caret. */
export function diagnosticsError(diagnostics: readonly Diagnostic[], src: string): ErrorContent {
  const lines = src.split("\n");
  const where = (d: Diagnostic) => `${d.fileName ?? "cell"}:${d.start.line + 1}:${d.start.character + 1}`;
  const traceback: string[] = [];
  for (const d of diagnostics) {
    traceback.push(`${where(d)} - error TS${d.code}: ${d.messageText}`);
    if (!d.fileName && lines[d.start.line] !== undefined) {
      const width = d.end.line === d.start.line ? Math.max(1, d.end.character - d.start.character) : 1;
      traceback.push(`    ${lines[d.start.line]}`, `    ${" ".repeat(d.start.character)}${"~".repeat(width)}`);
    }
  }
  const first = diagnostics[0];
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : "";
  return { ename: TS_ERROR, evalue: `${where(first)} TS${first.code}: ${first.messageText}${more}`, traceback };
}

/** Frames that belong to the kernel rather than to the user's code. */
function isInternalFrame(line: string): boolean {
  return /\(node:internal|node:internal\/|\/kernel\/executor\.js|\/tslab\/dist\/|at new Promise \(<anonymous>\)/.test(line);
}

/** A thrown value as error content; stack frames of the kernel itself are left out. */
export function thrownError(e: unknown): ErrorContent {
  if (e instanceof Error) {
    const ename = e.name || e.constructor?.name || "Error";
    const evalue = e.message;
    const frames = (e.stack ?? "")
      .split("\n")
      .filter((l) => /^\s+at /.test(l))
      .filter((l) => !isInternalFrame(l));
    const cause = e.cause !== undefined ? [`Caused by: ${e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : inspect(e.cause)}`] : [];
    return { ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames, ...cause] };
  }
  const evalue = inspect(e, { depth: 2 });
  return { ename: "Thrown", evalue, traceback: [`Thrown (not an Error): ${evalue}`] };
}
