/**
 * Reading small text and JSON files with errors that say which file and,
 * for bad JSON, which line: the one place tslm turns fs and JSON.parse
 * failures into `FormatError`s.
 */
import { readFileSync } from "node:fs";
import { FormatError } from "./errors.js";

/** Reads a UTF-8 file. @throws FormatError naming the file. */
export function readTextFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new FormatError(`cannot read: ${(e as Error).message}`, { file }, { cause: e });
  }
}

/** Parses JSON text; a syntax error names the file and line. */
export function parseJsonText(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const pos = /position (\d+)/.exec(message);
    const line = pos ? text.slice(0, Number(pos[1])).split("\n").length : undefined;
    throw new FormatError(`invalid JSON: ${message}`, { file, line }, { cause: e });
  }
}

/** Reads and parses a JSON file. @throws FormatError naming the file (and line of a syntax error). */
export function readJsonFile(file: string): unknown {
  return parseJsonText(readTextFile(file), file);
}
