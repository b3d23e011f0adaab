/**
 * The cross-run content cache: answers and verdicts keyed by content hash
 * (contestant identity + prompt + parameters + seed; judge identity + prompt
 * + reference + both answers in order), so rerunning a tournament, or adding
 * a contestant to one, only pays for what is new. Errors are never cached.
 * Stored as an append-only JSONL file (`cache.jsonl`) read once at open;
 * losing its tail in a crash only costs recomputation, so it is written
 * without fsync and unreadable lines are skipped.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { JournalWriter } from "./journal.js";

export interface CachedAnswer {
  text: string;
  tokens?: number;
}

export interface CachedVerdict {
  verdict: string;
  strength?: number;
  scores?: { first?: number; second?: number };
  reason?: string;
  reference_guided?: boolean;
}

export class ContentCache {
  private readonly answers = new Map<string, CachedAnswer>();
  private readonly verdicts = new Map<string, CachedVerdict>();
  hits = 0;
  misses = 0;

  private constructor(
    readonly dir: string,
    private readonly writer: JournalWriter,
  ) {}

  static async open(dir: string): Promise<ContentCache> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "cache.jsonl");
    const writer = await JournalWriter.open(file, "none");
    const cache = new ContentCache(dir, writer);
    if (existsSync(file)) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (!line) continue;
        try {
          const e = JSON.parse(line);
          if (e.type === "answer" && typeof e.key === "string" && typeof e.value?.text === "string") cache.answers.set(e.key, e.value);
          else if (e.type === "verdict" && typeof e.key === "string" && typeof e.value?.verdict === "string") cache.verdicts.set(e.key, e.value);
        } catch {
          // A line torn by a concurrent writer's crash: the entry is simply recomputed.
        }
      }
    }
    return cache;
  }

  getAnswer(key: string): CachedAnswer | undefined {
    const v = this.answers.get(key);
    v ? this.hits++ : this.misses++;
    return v;
  }

  getVerdict(key: string): CachedVerdict | undefined {
    const v = this.verdicts.get(key);
    v ? this.hits++ : this.misses++;
    return v;
  }

  putAnswer(key: string, value: CachedAnswer): void {
    if (this.answers.has(key)) return;
    this.answers.set(key, value);
    this.writer.write([{ type: "answer", key, value }]);
  }

  putVerdict(key: string, value: CachedVerdict): void {
    if (this.verdicts.has(key)) return;
    this.verdicts.set(key, value);
    this.writer.write([{ type: "verdict", key, value }]);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
