/**
 * Turns table rows into examples: conversations (LLM Studio's system /
 * prompt / answer columns with parent_id chains, or chat `messages` records)
 * or plain text for pretraining. Every check names the row's file and line.
 */
import { DataError, type Location } from "../util/errors.js";
import type { DataConfig } from "./config.js";
import { rowLabel, type SourceTable } from "./read.js";

export type RowLocation = Location & { row?: number };

export interface Turn {
  prompt: string;
  answer: string;
}

/** A conversation: optional system prompt, then prompt/answer turns. */
export interface ChatExample {
  kind: "chat";
  system: string;
  turns: Turn[];
  /** Where the conversation's last row came from. */
  source: RowLocation;
}

/** Plain text: every token is a training target (pretraining). */
export interface TextExample {
  kind: "text";
  text: string;
  source: RowLocation;
}

export type Example = ChatExample | TextExample;

/** A row that could not be used, with the reason. */
export interface SkippedRow {
  source: RowLocation;
  reason: string;
}

export interface ExtractResult {
  examples: Example[];
  skipped: SkippedRow[];
  /** Which record layout was recognised. */
  layout: "messages" | "columns" | "text";
}

/** Creates the error for a bad row: `file:line` for text files, `row N` otherwise. */
export function rowError(loc: RowLocation, message: string, column?: string): DataError {
  const where: Location = { file: loc.file };
  if (loc.line !== undefined) where.line = loc.line;
  const prefix = loc.line === undefined && loc.row !== undefined ? `row ${loc.row}: ` : "";
  if (column !== undefined) where.key = column;
  return new DataError(prefix + message, where);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

/** Reads a text cell: strings as-is, finite numbers as decimal text (pandas' astype(str)). */
function textCell(row: Record<string, unknown>, column: string, loc: RowLocation, required: boolean): string | undefined {
  const v = row[column];
  if (v === undefined || v === null || (typeof v === "number" && Number.isNaN(v))) {
    if (required) throw rowError(loc, `missing value in column '${column}'`, column);
    return undefined;
  }
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return String(v);
  throw rowError(loc, `column '${column}' must be text, got ${describe(v)}`, column);
}

/** Reads an id cell (string or number); empty means "no parent". */
function idCell(row: Record<string, unknown>, column: string, loc: RowLocation): string | undefined {
  const v = row[column];
  if (v === undefined || v === null || v === "" || (typeof v === "number" && !Number.isFinite(v))) return undefined;
  if (typeof v === "string" || typeof v === "number") return String(v);
  throw rowError(loc, `column '${column}' must be a string or number id, got ${describe(v)}`, column);
}

function hasColumn(src: SourceTable, name: string): boolean {
  return src.rows.some((r) => Object.prototype.hasOwnProperty.call(r, name));
}

/** Picks the record layout from the columns present. */
export function detectLayout(src: SourceTable, cfg: DataConfig): ExtractResult["layout"] {
  const prompts = Array.isArray(cfg.promptColumn) ? cfg.promptColumn : [cfg.promptColumn];
  if (hasColumn(src, cfg.messagesColumn)) return "messages";
  if (hasColumn(src, cfg.answerColumn) && prompts.some((p) => hasColumn(src, p))) return "columns";
  if (hasColumn(src, cfg.textColumn)) return "text";
  const cols = src.table.columnNames();
  throw new DataError(
    `no usable columns: expected '${cfg.messagesColumn}', or '${prompts.join("', '")}' with '${cfg.answerColumn}', or '${cfg.textColumn}'; the file has ${cols.length ? cols.map((c) => `'${c}'`).join(", ") : "no columns"}`,
    { file: src.file },
  );
}

/** Parses one chat `messages` record into a conversation. */
export function messagesToConversation(value: unknown, loc: RowLocation, column: string): ChatExample {
  if (!Array.isArray(value)) throw rowError(loc, `column '${column}' must be an array of {role, content}, got ${describe(value)}`, column);
  let system = "";
  const turns: Turn[] = [];
  let pending: string | undefined;
  value.forEach((m, k) => {
    const key = `${column}[${k}]`;
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw rowError(loc, `${key} must be an object {role, content}, got ${describe(m)}`, key);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof content !== "string") throw rowError(loc, `${key}.content must be a string, got ${describe(content)}`, `${key}.content`);
    if (role === "system") {
      if (k !== 0) throw rowError(loc, `${key}: a system message may only come first`, `${key}.role`);
      system = content;
    } else if (role === "user") {
      if (pending !== undefined) throw rowError(loc, `${key}: two user messages in a row (expected user and assistant to alternate)`, `${key}.role`);
      pending = content;
    } else if (role === "assistant") {
      if (pending === undefined) throw rowError(loc, `${key}: an assistant message must follow a user message`, `${key}.role`);
      turns.push({ prompt: pending, answer: content });
      pending = undefined;
    } else {
      throw rowError(loc, `${key}.role must be "system", "user" or "assistant", got ${JSON.stringify(role)}`, `${key}.role`);
    }
  });
  if (pending !== undefined) throw rowError(loc, `column '${column}' ends with a user message that has no assistant answer`, column);
  if (turns.length === 0) throw rowError(loc, `column '${column}' has no assistant answer to learn`, column);
  return { kind: "chat", system, turns, source: loc };
}

/**
 * Extracts examples from a table. Bad rows throw (onBadRow "error") or are
 * collected in `skipped` (onBadRow "skip").
 */
export function extractExamples(src: SourceTable, cfg: DataConfig): ExtractResult {
  const layout = detectLayout(src, cfg);
  const skipped: SkippedRow[] = [];
  const guard = <T>(loc: RowLocation, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (cfg.onBadRow === "skip" && e instanceof DataError) {
        skipped.push({ source: loc, reason: e.message });
        return undefined;
      }
      throw e;
    }
  };
  const examples: Example[] = [];
  if (layout === "messages") {
    src.rows.forEach((row, i) => {
      const loc = src.locate(i);
      const ex = guard(loc, () => messagesToConversation(row[cfg.messagesColumn], loc, cfg.messagesColumn));
      if (ex) examples.push(ex);
    });
  } else if (layout === "text") {
    src.rows.forEach((row, i) => {
      const loc = src.locate(i);
      const text = guard(loc, () => textCell(row, cfg.textColumn, loc, true)!);
      if (text !== undefined) examples.push({ kind: "text", text, source: loc });
    });
  } else {
    examples.push(...columnConversations(src, cfg, guard));
  }
  return { examples, skipped, layout };
}

type Guard = <T>(loc: RowLocation, f: () => T) => T | undefined;

/** LLM Studio's column layout with optional parent_id chains (see its ConversationChainHandler). */
function columnConversations(src: SourceTable, cfg: DataConfig, guard: Guard): ChatExample[] {
  const prompts = Array.isArray(cfg.promptColumn) ? cfg.promptColumn : [cfg.promptColumn];
  interface Row {
    index: number;
    system: string;
    turn: Turn;
    id?: string;
    parent?: string;
  }
  const chained = cfg.parentIdColumn !== null && hasColumn(src, cfg.parentIdColumn);
  if (chained && !hasColumn(src, cfg.idColumn)) {
    throw new DataError(`column '${cfg.parentIdColumn}' chains rows by id, but the file has no '${cfg.idColumn}' column`, { file: src.file, key: cfg.idColumn });
  }
  const rows: Row[] = [];
  src.rows.forEach((row, index) => {
    const loc = src.locate(index);
    const r = guard(loc, (): Row => {
      const parts = prompts.map((p) => textCell(row, p, loc, prompts.length === 1)).filter((p): p is string => p !== undefined);
      if (parts.length === 0) throw rowError(loc, `all prompt columns (${prompts.join(", ")}) are missing`, prompts[0]);
      const answer = textCell(row, cfg.answerColumn, loc, true)!;
      if (answer.trim() === "") throw rowError(loc, `empty answer in column '${cfg.answerColumn}'`, cfg.answerColumn);
      const system = cfg.systemColumn ? (textCell(row, cfg.systemColumn, loc, false) ?? "") : "";
      const out: Row = { index, system, turn: { prompt: parts.join(cfg.promptJoin), answer } };
      if (chained) {
        out.id = idCell(row, cfg.idColumn, loc);
        if (out.id === undefined) throw rowError(loc, `missing id in column '${cfg.idColumn}' (needed by '${cfg.parentIdColumn}' chains)`, cfg.idColumn);
        out.parent = idCell(row, cfg.parentIdColumn!, loc);
      }
      return out;
    });
    if (r) rows.push(r);
  });
  if (!chained) return rows.map((r) => ({ kind: "chat", system: r.system, turns: [r.turn], source: src.locate(r.index) }));

  const byId = new Map<string, Row>();
  for (const r of rows) {
    if (byId.has(r.id!)) {
      const loc = src.locate(r.index);
      const first = src.locate(byId.get(r.id!)!.index);
      const e = rowError(loc, `duplicate id ${JSON.stringify(r.id)} (first at ${rowLabel(first)})`, cfg.idColumn);
      if (cfg.onBadRow === "error") throw e;
      continue;
    }
    byId.set(r.id!, r);
  }
  // Parents that are not in the file start a chain (as in LLM Studio).
  const parentOf = (r: Row) => (r.parent !== undefined && byId.has(r.parent) ? byId.get(r.parent)! : undefined);
  const isParent = new Set<string>();
  for (const r of byId.values()) {
    const p = parentOf(r);
    if (p) isParent.add(p.id!);
  }
  const ends = [...byId.values()].filter((r) => !cfg.limitChainedSamples || !isParent.has(r.id!));
  const out: ChatExample[] = [];
  for (const end of ends) {
    const loc = src.locate(end.index);
    const ex = guard(loc, (): ChatExample => {
      const chain: Row[] = [end];
      const seen = new Set<string>([end.id!]);
      for (let p = parentOf(end); p; p = parentOf(p)) {
        if (seen.has(p.id!)) throw rowError(loc, `circular '${cfg.parentIdColumn}' chain through id ${JSON.stringify(p.id)}`, cfg.parentIdColumn!);
        seen.add(p.id!);
        chain.unshift(p);
      }
      return { kind: "chat", system: chain[0].system, turns: chain.map((r) => r.turn), source: loc };
    });
    if (ex) out.push(ex);
  }
  return out;
}
