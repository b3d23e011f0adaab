/**
 * Reads dataset files (JSONL, JSON, CSV, Parquet) into arquero tables while
 * keeping where each row came from, so later checks can name `file:line`
 * (text formats) or `file, row N` (Parquet, JSON arrays).
 */
import { extname } from "node:path";
import * as aq from "arquero";
import { DataError, type Location } from "../util/errors.js";
import { lineOfJsonError, parseJsonStrict, readFileBytes, readTextFile } from "../util/files.js";
import { parseCsv } from "./csv.js";

export type DatasetFormat = "jsonl" | "json" | "csv" | "parquet";

type ColumnTable = ReturnType<typeof aq.from>;

/** A table read from a file plus the source position of every row. */
export interface SourceTable {
  table: ColumnTable;
  /** Row objects in table order (the same data as `table`, handy for record-wise checks). */
  rows: Record<string, unknown>[];
  file: string;
  format: DatasetFormat;
  /** Location of row i in the file (line for text formats, row number for others). */
  locate(i: number): Location & { row?: number };
}

/** Picks the format from the file extension (`.jsonl`, `.ndjson`, `.json`, `.csv`, `.parquet`). */
export function formatOf(file: string): DatasetFormat {
  const ext = extname(file).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".json") return "json";
  if (ext === ".csv") return "csv";
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  throw new DataError(`unknown dataset format '${ext || "(no extension)"}'; expected .jsonl, .json, .csv or .parquet`, { file });
}

/** Parses JSON Lines text: one JSON object per non-blank line (a key repeated in an object is refused). */
export function parseJsonl(text: string, file?: string): { rows: Record<string, unknown>[]; lines: number[] } {
  const rows: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const parts = text.split("\n");
  parts.forEach((raw, k) => {
    const l = raw.replace(/\r$/, "");
    if (l.trim() === "") return;
    let value: unknown;
    try {
      value = parseJsonStrict(l);
    } catch (e) {
      throw new DataError(`unparsable JSON line: ${(e as Error).message}`, { file, line: k + 1 }, { cause: e });
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new DataError(`each JSONL line must be a JSON object, got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`, { file, line: k + 1 });
    }
    rows.push(value as Record<string, unknown>);
    lines.push(k + 1);
  });
  return { rows, lines };
}

/** Converts Parquet values that plain JSON records cannot hold (bigint ids) to numbers or strings. */
function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const { parquetReadObjects } = await import("hyparquet");
  const buf = readFileBytes(file, "dataset file");
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
  } catch (e) {
    throw new DataError(`cannot read Parquet file: ${(e as Error).message}`, { file }, { cause: e });
  }
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plainValue(v)])));
}

/**
 * Reads a dataset file into an arquero table.
 * @throws DataError with the file and line of an unparsable line or record.
 */
export async function readDatasetFile(file: string, format: DatasetFormat = formatOf(file)): Promise<SourceTable> {
  let rows: Record<string, unknown>[];
  let locate: (i: number) => Location & { row?: number };
  if (format === "parquet") {
    rows = await readParquet(file);
    locate = (i) => ({ file, row: i + 1 });
  } else {
    const text = readTextFile(file, "dataset file");
    if (format === "jsonl") {
      const r = parseJsonl(text, file);
      rows = r.rows;
      locate = (i) => ({ file, line: r.lines[i] });
    } else if (format === "csv") {
      const r = parseCsv(text, file);
      rows = r.rows;
      locate = (i) => ({ file, line: r.lines[i] });
    } else {
      let value: unknown;
      try {
        value = parseJsonStrict(text);
      } catch (e) {
        throw new DataError(`unparsable JSON: ${(e as Error).message}`, { file, line: lineOfJsonError(text, e) }, { cause: e });
      }
      if (!Array.isArray(value)) throw new DataError("a .json dataset must be an array of records", { file });
      value.forEach((v, i) => {
        if (v === null || typeof v !== "object" || Array.isArray(v)) throw new DataError(`record ${i + 1} is not an object`, { file, key: `[${i}]` });
      });
      rows = value as Record<string, unknown>[];
      locate = (i) => ({ file, row: i + 1 });
    }
  }
  return { table: tableFromRows(rows), rows, file, format, locate };
}

/**
 * Reads a pretraining corpus: `.jsonl` with a string `text` field on every
 * line, or plain text whose documents are separated by blank lines.
 * @throws DataError naming the file and line of a bad record.
 */
export function readCorpusFile(file: string): string[] {
  const text = readTextFile(file, "corpus file");
  if (formatOfCorpus(file) === "text") return text.split(/\n\s*\n/).filter((d) => d.trim());
  const { rows, lines } = parseJsonl(text, file);
  return rows.map((r, i) => {
    if (typeof r.text !== "string") throw new DataError("each line needs a string 'text' field", { file, line: lines[i] });
    return r.text;
  });
}

function formatOfCorpus(file: string): "jsonl" | "text" {
  const ext = extname(file).toLowerCase();
  return ext === ".jsonl" || ext === ".ndjson" ? "jsonl" : "text";
}

/** Builds an arquero table from records whose keys may differ (missing cells become undefined). */
export function tableFromRows(rows: readonly Record<string, unknown>[]): ColumnTable {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), names.push(k));
  const columns: Record<string, unknown[]> = {};
  for (const n of names) columns[n] = rows.map((r) => r[n]);
  return aq.table(columns);
}

/** Builds a SourceTable from in-memory records (for the library API and notebooks). */
export function sourceFromRecords(rows: readonly Record<string, unknown>[], name = "(records)"): SourceTable {
  return { table: tableFromRows(rows), rows: [...rows], file: name, format: "json", locate: (i) => ({ file: name, row: i + 1 }) };
}

/** Formats a row location for messages: `file:12` or `file, row 3`. */
export function rowLabel(loc: Location & { row?: number }): string {
  if (loc.line !== undefined) return `${loc.file}:${loc.line}`;
  if (loc.row !== undefined) return `${loc.file}, row ${loc.row}`;
  return loc.file ?? "(unknown)";
}
