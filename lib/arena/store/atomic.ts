/**
 * Atomic file writes: write a temporary file in the same folder, fsync it,
 * rename it over the target, fsync the folder. A crash leaves either the old
 * file or the new one, never a mix.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDir(dir);
}

/** fsyncs a folder so a rename or a new file in it survives a crash. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on folders; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
