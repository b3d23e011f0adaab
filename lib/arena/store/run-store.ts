/**
 * The live store of a run: its folder (see layout.ts) and journal, with
 * in-memory indexes so the tournament can ask "is this answer/verdict
 * already recorded?" without re-reading the file.
 */
import { existsSync, mkdirSync, readFileSync, openSync, writeSync, closeSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import { ConfigError, FormatError } from "../../util/errors.js";
import type { ContestantInfo, RunMeta, SuiteInfo } from "../types.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { parseJsonStrict, readTextFile } from "../../util/files.js";
import { JournalWriter, readJournal, type FsyncPolicy, type JournalEntry } from "./journal.js";
import { RUN_FILES, RUN_FORMAT_VERSION } from "./layout.js";
import { RecordIndex, type RecordType, type RunRecord } from "./records.js";

export interface RunInit {
  meta: RunMeta;
  config: unknown;
  configText?: string;
  suite: SuiteInfo;
  contestants: ContestantInfo[];
}

export function readJsonFile<T>(file: string): T {
  const text = readTextFile(file, "run file");
  try {
    return parseJsonStrict(text) as T;
  } catch (e) {
    throw new FormatError(`run file is not valid JSON: ${(e as Error).message}`, { file });
  }
}

export function readRunMeta(dir: string): RunMeta {
  const file = join(dir, RUN_FILES.meta);
  if (!existsSync(file)) throw new FormatError(`${dir} is not a tslm arena run folder (no ${RUN_FILES.meta})`, { file });
  const meta = readJsonFile<RunMeta>(file);
  if (meta.format !== "tslm-arena-run") throw new FormatError(`unexpected format '${meta.format}', expected 'tslm-arena-run'`, { file, key: "format" });
  if (meta.format_version > RUN_FORMAT_VERSION) {
    throw new FormatError(`run format version ${meta.format_version} is newer than this tslm reads (${RUN_FORMAT_VERSION})`, { file, key: "format_version" });
  }
  return meta;
}

/**
 * Takes the run's lock file (`lock`: pid and host), so two processes never
 * append to one journal. A lock left by a process that died (kill -9) on
 * this host is taken over; a live one is an error naming its pid.
 */
function takeLock(dir: string): string {
  const file = join(dir, RUN_FILES.lock);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname() }));
      closeSync(fd);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(readFileSync(file, "utf8"));
      } catch {
        // A lock torn by a crash while being written: nobody holds it.
      }
      if (holder.host === hostname() && typeof holder.pid === "number" && alive(holder.pid)) {
        const who = holder.pid === process.pid ? "this process (another runTournament call)" : `process ${holder.pid} on this machine`;
        throw new ConfigError(`run ${dir} is being played by ${who}; wait for it or stop it first`);
      }
      if (holder.host !== undefined && holder.host !== hostname()) {
        throw new ConfigError(`run ${dir} is locked by ${holder.host} (pid ${holder.pid}); if that run is no longer going, delete ${file}`);
      }
      unlinkSync(file);
    }
  }
  throw new ConfigError(`cannot take the lock ${file}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class RunStore {
  private lockFile: string | undefined;

  readonly index = new RecordIndex();

  private constructor(
    readonly dir: string,
    readonly meta: RunMeta,
    private readonly writer: JournalWriter,
  ) {}

  /** Creates a new run folder; refuses a folder that already holds a run. */
  static async create(dir: string, init: RunInit, policy: FsyncPolicy): Promise<RunStore> {
    if (existsSync(join(dir, RUN_FILES.meta)) || existsSync(join(dir, RUN_FILES.journal))) {
      throw new ConfigError(`run folder ${dir} already holds a run; resume it (--resume) or choose another run folder`);
    }
    mkdirSync(dir, { recursive: true });
    // Everything but the journal is written before the meta file, which marks the folder as a run.
    writeFileAtomic(join(dir, RUN_FILES.config), JSON.stringify(init.config, null, 2) + "\n");
    if (init.configText !== undefined) writeFileAtomic(join(dir, RUN_FILES.configText), init.configText);
    writeFileAtomic(join(dir, RUN_FILES.suite), JSON.stringify(init.suite) + "\n");
    writeFileAtomic(join(dir, RUN_FILES.contestants), JSON.stringify(init.contestants, null, 2) + "\n");
    writeFileAtomic(join(dir, RUN_FILES.meta), JSON.stringify(init.meta, null, 2) + "\n");
    const lock = takeLock(dir);
    const writer = await JournalWriter.open(join(dir, RUN_FILES.journal), policy);
    const store = new RunStore(dir, init.meta, writer);
    store.lockFile = lock;
    await store.append([{ type: "session", started: new Date().toISOString(), resume: false, pid: process.pid, host: hostname() }]);
    return store;
  }

  /** Opens an existing run to continue it (cutting a torn journal tail left by a crash). */
  static async resume(dir: string, policy: FsyncPolicy): Promise<RunStore> {
    const meta = readRunMeta(dir);
    const lock = takeLock(dir);
    const file = join(dir, RUN_FILES.journal);
    let entries: JournalEntry[];
    let writer: JournalWriter;
    try {
      entries = readJournal(file).entries;
      writer = await JournalWriter.open(file, policy);
    } catch (e) {
      unlinkSync(lock);
      throw e;
    }
    const store = new RunStore(dir, meta, writer);
    store.lockFile = lock;
    for (const e of entries) store.index.ingest(e);
    await store.append([{ type: "session", started: new Date().toISOString(), resume: true, pid: process.pid, host: hostname(), repaired_bytes: writer.repairedBytes }]);
    return store;
  }

  /** Indexes the entries at once (later lookups see them) and resolves when they are durable. */
  append(entries: JournalEntry[]): Promise<void> {
    for (const e of entries) this.index.ingest(e);
    return this.writer.appendMany(entries);
  }

  /**
   * Indexes a record at once and queues its journal line without waiting:
   * it is durable once a later `sync` resolves. The line is the record's
   * JSON with `type` first, written without building a new object per record.
   */
  record(type: RecordType, rec: RunRecord): void {
    this.index.add(type, rec);
    const body = JSON.stringify(rec);
    this.writer.push(body === "{}" ? `{"type":"${type}"}\n` : `{"type":"${type}",${body.slice(1)}\n`);
  }

  /** Resolves once every record so far is durable (a journal failure rejects here, and stays). */
  sync(): Promise<void> {
    return this.writer.sync();
  }

  get journalStats(): { records: number; syncs: number; policy: FsyncPolicy } {
    return { records: this.writer.records, syncs: this.writer.syncs, policy: this.writer.policy };
  }

  async close(): Promise<void> {
    try {
      await this.writer.close();
    } finally {
      if (this.lockFile) {
        try {
          unlinkSync(this.lockFile);
        } catch {
          // already gone
        }
        this.lockFile = undefined;
      }
    }
  }
}
