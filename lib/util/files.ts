/**
 * The one place tslm reads text files and creates folders, so every reader
 * behaves the same and every failure names the file:
 *
 * - text is UTF-8: a leading byte-order mark is accepted (spreadsheets and
 *   Windows editors write one), invalid UTF-8 is refused with its byte offset
 *   and line (never turned into U+FFFD), UTF-16 is refused by name;
 * - JSON is strict: a key that appears twice in one object is refused with
 *   its line (JSON.parse would silently keep the last value);
 * - folders are created one level at a time after checking the nearest
 *   existing ancestor is a folder (Node's recursive mkdir spins forever
 *   where mkdir answers ENOENT under an existing folder, as in /proc).
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { FileError, FormatError } from "./errors.js";

/** A one-line reason for a failed file-system call (without the path, which the error's location gives). */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ENOENT":
      return "no such file or folder";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder";
    case "EISDIR":
      return "it is a folder, not a file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    case "EEXIST":
      return "it already exists";
    default:
      return err instanceof Error ? err.message : String(e);
  }
}

/** Whether `e` comes from a Node system call (fs, net, dns): it carries `code` and `syscall`. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const err = e as NodeJS.ErrnoException;
  return e instanceof Error && typeof err.code === "string" && typeof err.syscall === "string";
}

/**
 * Offset of the first byte that does not start or continue a valid UTF-8
 * sequence (overlong forms, surrogates and code points above U+10FFFF
 * included, as the WHATWG decoder refuses them), or -1.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    // Continuation bytes after the lead byte, and the smallest code point that needs them.
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= bytes.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = bytes[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    const min = [0, 0x80, 0x800, 0x10000][n];
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes UTF-8 bytes, dropping a leading byte-order mark.
 * @throws FormatError with the file, line and byte offset of the first invalid byte.
 */
export function decodeText(bytes: Uint8Array, file?: string): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new FormatError("the text is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8", { file, offset: 0 });
  }
  try {
    return utf8.decode(bytes);
  } catch {
    const at = invalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const hex = `0x${bytes[at].toString(16).padStart(2, "0")}`;
    throw new FormatError(`not valid UTF-8 text (byte ${hex} starts no valid character); save the file as UTF-8`, { file, line, offset: at });
  }
}

/**
 * Reads a UTF-8 text file (see `decodeText`).
 * @param what what the file is, for the message ("battle log", "dataset file").
 * @throws FileError when it cannot be read, FormatError when it is not UTF-8.
 */
export function readTextFile(file: string, what = "file"): string {
  return decodeText(readFileBytes(file, what), file);
}

/** Reads a whole file. @throws FileError naming the file and why it cannot be read. */
export function readFileBytes(file: string, what = "file"): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new FileError(`cannot read ${what}: ${fsReason(e)}`, { file }, { cause: e });
  }
}

/**
 * The first key that appears twice in one object of valid JSON text, with
 * the position of its second appearance.
 */
export function duplicateJsonKey(text: string): { key: string; position: number } | undefined {
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
        const keys = open[open.length - 1]!;
        if (keys.has(key)) return { key, position: i };
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = open[open.length - 1] instanceof Set;
    }
  }
  return undefined;
}

/**
 * JSON.parse that also refuses a key repeated in one object. A drop-in
 * replacement: failures are SyntaxErrors whose message says `at position N`.
 */
export function parseJsonStrict(text: string): unknown {
  const value = JSON.parse(text);
  if (text.includes("{")) {
    const dup = duplicateJsonKey(text);
    if (dup) throw new SyntaxError(`duplicate key ${JSON.stringify(dup.key)} in JSON at position ${dup.position} (a key may appear once per object)`);
  }
  return value;
}

/** 1-based line of the position named in a JSON.parse message (`at position N`), counted from `firstLine`. */
export function lineOfJsonError(text: string, e: unknown, firstLine = 1): number | undefined {
  const pos = /position (\d+)/.exec(e instanceof Error ? e.message : String(e));
  if (!pos) return undefined;
  return firstLine + text.slice(0, Number(pos[1])).split("\n").length - 1;
}

/**
 * Parses JSON text strictly (see `parseJsonStrict`).
 * @param firstLine the text's first line in the file (for one line of a JSONL file).
 * @throws FormatError naming the file and line of a syntax error or repeated key.
 */
export function parseJsonText(text: string, file?: string, firstLine = 1): unknown {
  try {
    return parseJsonStrict(text);
  } catch (e) {
    throw new FormatError(`invalid JSON: ${(e as Error).message}`, { file, line: lineOfJsonError(text, e, firstLine) ?? (firstLine > 1 ? firstLine : undefined) }, { cause: e });
  }
}

/** Reads and parses a JSON file. @throws FileError, or FormatError naming the file and line. */
export function readJsonFile(file: string, what = "file"): unknown {
  return parseJsonText(readTextFile(file, what), file);
}

/**
 * Creates a folder and its missing parents. The nearest existing ancestor
 * must be a folder; then each missing level is made on its own, so a level
 * that cannot be made fails at once.
 * @param what what the folder is for, for the message ("output folder").
 * @throws FileError naming the folder that could not be made and why.
 */
export function makeDir(dir: string, what = "folder"): void {
  const missing: string[] = [];
  for (let cur = resolve(dir); ; cur = dirname(cur)) {
    let isDir: boolean;
    try {
      isDir = statSync(cur).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(cur) === cur) throw new FileError(`cannot create ${what}: ${fsReason(e)}`, { file: cur }, { cause: e });
      missing.push(cur);
      continue;
    }
    if (!isDir) throw new FileError(`cannot create ${what}: ${cur} is a file, not a folder`, { file: dir });
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && statSync(d).isDirectory()) continue; // made meanwhile by another process
      // ENOENT from mkdir under an existing folder: a file system that takes no new folders (/proc, /sys).
      const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? `${dirname(d)} does not take new folders` : fsReason(e);
      throw new FileError(`cannot create ${what}: ${why}`, { file: d }, { cause: e });
    }
  }
}

/** Creates the folder a file will be written into (see `makeDir`). */
export function makeParentDir(file: string, what = "folder"): void {
  makeDir(dirname(file), what);
}
