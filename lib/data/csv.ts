/**
 * A small RFC 4180 CSV parser that remembers the line each record starts on,
 * so a bad row can be reported as `file:line`. Quoted fields may hold commas,
 * doubled quotes and newlines. The first record is the header.
 */
import { DataError } from "../util/errors.js";

export interface CsvRecords {
  header: string[];
  /** One object per data record, keyed by header names; every value is a string. */
  rows: Record<string, string>[];
  /** 1-based line on which each data record starts. */
  lines: number[];
}

/**
 * Parses CSV text.
 * @throws DataError naming the line of an unterminated quote, a stray quote or
 *   a record whose field count differs from the header's.
 * @example parseCsv("a,b\n1,\"x,y\"\n").rows[0].b === "x,y"
 */
export function parseCsv(text: string, file?: string, delimiter = ","): CsvRecords {
  const records: { fields: string[]; line: number }[] = [];
  let i = 0;
  let line = 1;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    // One record.
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new DataError("unterminated quoted CSV field", { file, line: quoteLine });
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
          throw new DataError(`unexpected character ${JSON.stringify(text[i])} after a closing quote`, { file, line });
        }
      } else {
        const start = i;
        while (i < n && text[i] !== delimiter && text[i] !== "\n" && text[i] !== "\r") {
          if (text[i] === '"') throw new DataError("quote inside an unquoted CSV field (quote the whole field)", { file, line });
          i++;
        }
        field = text.slice(start, i);
      }
      fields.push(field);
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    // End of record: \r\n, \n, \r or end of text.
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    line++;
    // Skip blank lines (a lone empty field), which spreadsheets often leave at the end.
    if (fields.length === 1 && fields[0] === "") continue;
    records.push({ fields, line: startLine });
  }
  if (records.length === 0) throw new DataError("CSV file is empty (no header)", { file });
  const header = records[0].fields.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new DataError(`duplicate CSV column '${h}'`, { file, line: records[0].line });
    seen.add(h);
  }
  const rows: Record<string, string>[] = [];
  const lines: number[] = [];
  for (const rec of records.slice(1)) {
    if (rec.fields.length !== header.length) {
      throw new DataError(`CSV record has ${rec.fields.length} fields, the header has ${header.length}`, { file, line: rec.line });
    }
    const row: Record<string, string> = {};
    header.forEach((h, k) => (row[h] = rec.fields[k]));
    rows.push(row);
    lines.push(rec.line);
  }
  return { header, rows, lines };
}
