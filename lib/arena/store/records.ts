/**
 * In-memory indexes over journal records, shared by the live run store and
 * by loadRun/merge: the same rules decide which record of an id stands.
 * A record with a verdict or text supersedes an error record of the same id
 * (a resumed run with retryErrors); otherwise the first record stands.
 */
import type { AnswerRecord, BattleErrorRecord, BattleRecord, JudgmentRecord } from "../types.js";
import type { JournalEntry } from "./journal.js";

export class RecordIndex {
  readonly answers = new Map<string, AnswerRecord>();
  readonly judgments = new Map<string, JudgmentRecord>();
  readonly battles = new Map<string, BattleRecord>();
  readonly battleErrors = new Map<string, BattleErrorRecord>();
  ended: JournalEntry | undefined;
  sessions = 0;

  /** Adds a journal entry; returns false when it was a duplicate that changes nothing. */
  ingest(e: JournalEntry): boolean {
    switch (e.type) {
      case "end":
        this.ended = e;
        return true;
      case "session":
        this.sessions++;
        return true;
      default: {
        const { type, ...rec } = e;
        return isRecordType(type) ? this.add(type, rec as unknown as RunRecord) : false;
      }
    }
  }

  /** Adds a record of a type (the same rules as `ingest`, without a `type` field to strip). */
  add(type: RecordType, rec: RunRecord): boolean {
    switch (type) {
      case "answer":
        return keep(this.answers, rec as AnswerRecord);
      case "judgment":
        return keep(this.judgments, rec as JudgmentRecord);
      case "battle":
        return keep(this.battles, rec as BattleRecord);
      case "battle_error":
        return keep(this.battleErrors, rec as BattleErrorRecord);
    }
  }
}

/** The journal's record types (its other lines are `session` and `end` markers). */
export type RecordType = "answer" | "judgment" | "battle" | "battle_error";
export type RunRecord = AnswerRecord | JudgmentRecord | BattleRecord | BattleErrorRecord;

function isRecordType(t: string): t is RecordType {
  return t === "answer" || t === "judgment" || t === "battle" || t === "battle_error";
}

function keep<R extends { id?: string; error?: string }>(map: Map<string, R>, rec: R): boolean {
  const id = rec.id!;
  const old = map.get(id);
  if (old === undefined || (old.error !== undefined && rec.error === undefined)) {
    map.set(id, rec);
    return true;
  }
  if (old.error !== undefined && rec.error !== undefined) {
    map.set(id, rec); // a retried error replaces the older error
    return true;
  }
  return false;
}

/** Key shared by the battles and battle errors of one (prompt, pair, judge). */
export function battleGroupKey(r: { prompt_id?: string; model_a: string; model_b: string; judge?: string }): string {
  const [x, y] = r.model_a < r.model_b ? [r.model_a, r.model_b] : [r.model_b, r.model_a];
  return `${r.prompt_id}\u0000${x}\u0000${y}\u0000${r.judge}`;
}
