/**
 * Atomic file writes, the one way tslm writes a file that must never be
 * seen half-written (models, adapters, checkpoints, run metadata, reports,
 * kernelspecs): the data goes to a temporary file in the same folder, is
 * fsynced, then renamed over the target and the folder fsynced, so a crash
 * leaves either the old file or the new one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { makeParentDir } from "./files.js";

let counter = 0;

/** A temporary path beside `file` (same filesystem, so rename is atomic). */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}-${counter++}`);
}

/** fsyncs a folder so a rename or a new file in it survives a crash (best effort: some filesystems refuse). */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // The rename has still happened atomically.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Bytes, text (UTF-8), or a writer that appends chunks (for large files). */
export type AtomicData = string | Uint8Array | ((append: (bytes: Uint8Array) => void) => void);

/** Writes `file` atomically, creating its folder if needed. */
export function writeFileAtomic(file: string, data: AtomicData): void {
  makeParentDir(file);
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, "w");
  let ok = false;
  try {
    const append = (bytes: Uint8Array) => {
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    };
    if (typeof data === "function") data(append);
    else append(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) rmSync(tmp, { force: true });
  }
  renameSync(tmp, file);
  syncDir(dirname(file));
}

/** Writes text (UTF-8) atomically. */
export function writeTextAtomic(file: string, text: string): void {
  writeFileAtomic(file, text);
}

/** Writes a JSON value (2-space indent, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}
