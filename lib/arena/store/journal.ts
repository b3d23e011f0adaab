/**
 * The append-only JSONL journal that makes runs durable.
 *
 * One JSON object a line, each with a `type` field. Appends resolve only once
 * their bytes are on disk (per the fsync policy), so a record the caller saw
 * acknowledged survives kill -9 and power loss. A crash can leave at most a
 * torn last line (no trailing newline): readers ignore it and the writer cuts
 * it off before appending. Any other unparsable line is corruption and is
 * reported with the file and line, never skipped silently.
 *
 * Fsync policies:
 * - `batch` (default, group commit): appends made while a write is in flight
 *   are joined into the next single write + fdatasync; every append resolves
 *   after the fdatasync that covers it. Durable and fast (one fsync per batch).
 * - `always`: one write + fdatasync per record, in order. Durable, slow.
 * - `none`: write without fsync. Survives kill -9 (the page cache keeps the
 *   bytes) but not power loss; for scratch runs and tests only.
 */
import { existsSync, readFileSync, statSync, truncateSync, openSync, readSync, closeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { FormatError } from "../../util/errors.js";

export type FsyncPolicy = "batch" | "always" | "none";

/** A journal line: any JSON object with a `type`. */
export interface JournalEntry {
  type: string;
  [field: string]: unknown;
}

export interface JournalContents {
  entries: JournalEntry[];
  /** Bytes of a torn last line that was ignored (0 when the file ends cleanly). */
  tornBytes: number;
}

/** Reads every complete line of a journal; a missing file reads as empty. */
export function readJournal(file: string): JournalContents {
  if (!existsSync(file)) return { entries: [], tornBytes: 0 };
  const text = readFileSync(file, "utf8");
  const end = text.lastIndexOf("\n") + 1;
  const tornBytes = Buffer.byteLength(text.slice(end), "utf8");
  const entries: JournalEntry[] = [];
  let line = 0;
  let start = 0;
  while (start < end) {
    const nl = text.indexOf("\n", start);
    line++;
    const raw = text.slice(start, nl);
    start = nl + 1;
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new FormatError(`journal line is not valid JSON (${(e as Error).message}); the file was changed outside tslm`, { file, line });
    }
    if (value === null || typeof value !== "object" || Array.isArray(value) || typeof (value as JournalEntry).type !== "string") {
      throw new FormatError("journal line is not an object with a string 'type'", { file, line });
    }
    entries.push(value as JournalEntry);
  }
  return { entries, tornBytes };
}

/** Cuts a torn last line (left by a crash mid-write) so appends start on a clean line. */
function repairTail(file: string): number {
  if (!existsSync(file)) return 0;
  const size = statSync(file).size;
  if (size === 0) return 0;
  const fd = openSync(file, "r");
  try {
    // Scan backwards for the last newline, 64 KiB at a time.
    const chunk = Buffer.alloc(65536);
    let pos = size;
    while (pos > 0) {
      const n = Math.min(chunk.length, pos);
      pos -= n;
      readSync(fd, chunk, 0, n, pos);
      const i = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (i >= 0) {
        const keep = pos + i + 1;
        if (keep < size) truncateSync(file, keep);
        return size - keep;
      }
    }
  } finally {
    closeSync(fd);
  }
  truncateSync(file, 0);
  return size;
}

interface Waiter {
  /** Blocks pushed before this waiter: it resolves once that many are durable. */
  upTo: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Appends entries durably (see the module comment for the fsync policies).
 * Writers that need no acknowledgement per record `write` them (no promise
 * is made) and `sync` once for all; `append` is write + sync.
 */
export class JournalWriter {
  /** Text blocks waiting for the flusher, in append order. */
  private queue: string[] = [];
  private waiters: Waiter[] = [];
  /** Blocks pushed in all, and blocks durable (written and synced per the policy). */
  private pushed = 0;
  private durable = 0;
  private flushing = false;
  private scheduled = false;
  private failure: Error | undefined;
  private closed = false;
  /** Count of write+fsync rounds done (for benchmarks and tests). */
  syncs = 0;
  records = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    readonly policy: FsyncPolicy,
    /** Bytes of a torn tail cut off when opening. */
    readonly repairedBytes: number,
  ) {}

  static async open(file: string, policy: FsyncPolicy = "batch"): Promise<JournalWriter> {
    const repaired = repairTail(file);
    const fh = await open(file, "a");
    return new JournalWriter(fh, file, policy, repaired);
  }

  /** Appends one entry; resolves once it is durable. */
  append(entry: JournalEntry): Promise<void> {
    return this.appendMany([entry]);
  }

  /** Appends entries as one contiguous block (one write call); resolves once all are durable. */
  appendMany(entries: readonly JournalEntry[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.file} is closed`));
    if (entries.length === 0) return Promise.resolve();
    this.write(entries);
    return this.sync();
  }

  /**
   * Queues entries as one block without waiting for them: they are durable
   * once a later `sync` (or `append`) resolves. A write failure is sticky and
   * surfaces there.
   */
  write(entries: readonly JournalEntry[]): void {
    let block = "";
    for (const e of entries) block += JSON.stringify(e) + "\n";
    this.push(block, entries.length);
  }

  /** Queues a block of complete JSONL lines (`records` of them) without waiting. */
  push(block: string, records = 1): void {
    if (this.closed) throw new Error(`journal ${this.file} is closed`);
    if (this.failure) return;
    this.queue.push(block);
    this.pushed++;
    this.records += records;
    this.schedule();
  }

  /** Resolves once everything pushed so far is durable; rejects if a write failed. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.durable >= this.pushed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ upTo: this.pushed, resolve, reject }));
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // setImmediate lets every append made in this turn of the event loop join the batch.
    setImmediate(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const blocks = this.policy === "always" ? this.queue.splice(0, 1) : this.queue.splice(0);
        try {
          await writeAll(this.fh, Buffer.from(blocks.length === 1 ? blocks[0] : blocks.join(""), "utf8"));
          if (this.policy !== "none") await this.fh.datasync();
        } catch (e) {
          // A failed write leaves the file in an unknown state: fail this and every later append.
          this.failure = new Error(`cannot write journal ${this.file}: ${(e as Error).message}`, { cause: e });
          for (const w of this.waiters.splice(0)) w.reject(this.failure);
          this.queue = [];
          return;
        }
        this.syncs++;
        this.durable += blocks.length;
        let done = 0;
        while (done < this.waiters.length && this.waiters[done].upTo <= this.durable) this.waiters[done++].resolve();
        if (done > 0) this.waiters.splice(0, done);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Resolves once everything appended so far is durable (same as `sync`). */
  flush(): Promise<void> {
    return this.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync().catch(() => undefined);
    this.closed = true;
    await this.fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}
