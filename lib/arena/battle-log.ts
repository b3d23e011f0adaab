/**
 * Battle logs in Chatbot Arena's format, so users can rate battles they
 * already have: JSON Lines (one battle per line) or a JSON array (as
 * FastChat's `clean_battle_*.json`). Each battle needs `model_a`, `model_b`
 * and `winner` in model_a | model_b | tie | "tie (bothbad)"; `style` (or
 * Chatbot Arena's `conv_metadata`) feeds style control; other fields
 * (tstamp, language, turn, ...) are ignored. Bad records are reported with
 * the file and line (or array element), never silently dropped.
 */
import { parseJsonStrict, readTextFile } from "../util/files.js";
import { DataError } from "../util/errors.js";
import type { BattleRecord, Winner } from "./types.js";

const WINNERS: readonly Winner[] = ["model_a", "model_b", "tie", "tie (bothbad)"];

export interface BadRecord {
  /** 1-based line of the record (JSONL, and JSON arrays when it can be told). */
  line?: number;
  /** 0-based element of a JSON array. */
  element?: number;
  message: string;
}

export interface BattleLog {
  battles: BattleRecord[];
  bad: BadRecord[];
  /** Records read (good and bad). */
  records: number;
}

/** Checks one parsed record; returns the battle or a reason. */
export function checkBattle(value: unknown): BattleRecord | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return `expected a JSON object, got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`;
  const r = value as Record<string, unknown>;
  for (const key of ["model_a", "model_b"]) {
    if (typeof r[key] !== "string" || (r[key] as string).length === 0) return `'${key}' must be a non-empty string, got ${JSON.stringify(r[key]) ?? "nothing"}`;
  }
  if (!WINNERS.includes(r.winner as Winner)) return `'winner' must be one of ${WINNERS.map((w) => JSON.stringify(w)).join(", ")}, got ${JSON.stringify(r.winner) ?? "nothing"}`;
  if (r.model_a === r.model_b) return `model_a and model_b are the same model (${JSON.stringify(r.model_a)})`;
  const battle: BattleRecord = { model_a: r.model_a as string, model_b: r.model_b as string, winner: r.winner as Winner };
  for (const key of ["id", "prompt_id", "category", "judge"] as const) if (typeof r[key] === "string") battle[key] = r[key] as string;
  if (typeof r.index === "number") battle.index = r.index;
  if (r.style && typeof r.style === "object") battle.style = r.style as BattleRecord["style"];
  else if (r.conv_metadata && typeof r.conv_metadata === "object") battle.style = styleFromConvMetadata(r.conv_metadata as Record<string, unknown>);
  return battle;
}

/**
 * Style features from Chatbot Arena's `conv_metadata` (FastChat's style
 * control inputs): answer tokens, markdown headers, list items and bold
 * spans of each side. Count objects ({h1: 2, h2: 1}) are summed.
 */
export function styleFromConvMetadata(meta: Record<string, unknown>): BattleRecord["style"] | undefined {
  const total = (v: unknown): number | undefined => {
    if (typeof v === "number") return v;
    if (v && typeof v === "object") return Object.values(v as Record<string, unknown>).reduce<number>((s, x) => s + (typeof x === "number" ? x : 0), 0);
    return undefined;
  };
  const pairs: [string, string, string][] = [
    ["length", "sum_assistant_a_tokens", "sum_assistant_b_tokens"],
    ["headers", "header_count_a", "header_count_b"],
    ["lists", "list_count_a", "list_count_b"],
    ["bold", "bold_count_a", "bold_count_b"],
  ];
  const style: Record<string, [number, number]> = {};
  for (const [name, ka, kb] of pairs) {
    const a = total(meta[ka]);
    const b = total(meta[kb]);
    if (a !== undefined && b !== undefined) style[name] = [a, b];
  }
  return Object.keys(style).length > 0 ? style : undefined;
}

/**
 * Parses a battle log's text (JSONL, or a JSON array when the first
 * non-blank character is `[`).
 */
export function parseBattleLog(text: string): BattleLog {
  const battles: BattleRecord[] = [];
  const bad: BadRecord[] = [];
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith("[")) {
    let list: unknown;
    try {
      list = parseJsonStrict(trimmed);
    } catch (e) {
      return { battles, bad: [{ line: lineOfPosition(text, e), message: `invalid JSON array: ${(e as Error).message}` }], records: 0 };
    }
    (list as unknown[]).forEach((value, element) => {
      const r = checkBattle(value);
      if (typeof r === "string") bad.push({ element, message: r });
      else battles.push(r);
    });
    return { battles, bad, records: (list as unknown[]).length };
  }
  const lines = text.split("\n");
  let records = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    records++;
    let value: unknown;
    try {
      value = parseJsonStrict(line);
    } catch (e) {
      bad.push({ line: i + 1, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const r = checkBattle(value);
    if (typeof r === "string") bad.push({ line: i + 1, message: r });
    else battles.push(r);
  });
  return { battles, bad, records };
}

function lineOfPosition(text: string, e: unknown): number | undefined {
  const m = /position (\d+)/.exec(String((e as Error).message));
  if (!m) return undefined;
  return text.slice(0, Number(m[1])).split("\n").length;
}

/** Where a bad record is, as `file:line` or `file element N`. */
export function formatBad(file: string, b: BadRecord): string {
  return `${file}${b.line !== undefined ? `:${b.line}` : ""}${b.element !== undefined ? ` element ${b.element}` : ""}: ${b.message}`;
}

/**
 * Reads a battle log file. With `skipBad` false (default) any bad record is
 * an error listing the first ones with file and line.
 * @example readBattleLog("battles.jsonl").battles.length
 */
export function readBattleLog(file: string, options: { skipBad?: boolean } = {}): BattleLog {
  const log = parseBattleLog(readTextFile(file, "battle log"));
  if (log.bad.length > 0 && !options.skipBad) {
    const first = log.bad[0];
    const shown = log.bad.slice(0, 5).map((b) => "\n  " + formatBad(file, b));
    const more = log.bad.length > 5 ? `\n  ... and ${log.bad.length - 5} more` : "";
    throw new DataError(`${log.bad.length} bad record${log.bad.length > 1 ? "s" : ""} in the battle log (fix them, or pass --skip-bad to rate the rest):${shown.join("")}${more}`, {
      file,
      line: first.line,
    });
  }
  if (log.battles.length === 0) throw new DataError("the battle log has no battles", { file });
  return log;
}
