/**
 * Atomic file writes: data goes to a temporary file in the same folder, is
 * fsynced, then renamed over the target, so a crash leaves either the old
 * file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

let counter = 0;

/** A temporary path beside `file` (same filesystem, so rename is atomic). */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}-${counter++}`);
}

/**
 * Streams chunks produced by `write` into `file` atomically.
 * `write` receives a function that appends bytes; it may be called many times.
 */
export function writeFileAtomic(file: string, write: (append: (bytes: Uint8Array) => void) => void): void {
  const tmp = tempPathFor(file);
  const fd = openSync(tmp, "w");
  let ok = false;
  try {
    write((bytes) => {
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    });
    fsyncSync(fd);
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) rmSync(tmp, { force: true });
  }
  renameSync(tmp, file);
  // Make the rename itself durable.
  try {
    const dfd = openSync(dirname(file), "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename has still happened.
  }
}

/** Writes text (UTF-8) atomically. */
export function writeTextAtomic(file: string, text: string): void {
  writeFileAtomic(file, (append) => append(new TextEncoder().encode(text)));
}

/** Writes a JSON value (2-space indent, trailing newline) atomically. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeTextAtomic(file, JSON.stringify(value, null, 2) + "\n");
}
