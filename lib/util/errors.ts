/**
 * Error types shared by every tslm subsystem.
 *
 * Every failure that reaches a user says what was wrong, what was expected
 * and where (file, line, byte offset, config key). Subsystems throw these
 * classes (or subclasses of them) rather than bare `Error`s so that the CLI
 * can print them cleanly and tests can assert on their fields.
 */

/** Where a problem was found: any subset of file, line, byte offset and key. */
export interface Location {
  file?: string;
  /** 1-based line number in a text file. */
  line?: number;
  /** Byte offset in a binary file. */
  offset?: number;
  /** Config key or field path, dotted (`train.lr`, `tensors.wte.shape`). */
  key?: string;
}

/** Formats a location as `file:line`, `file@byte 123`, `key 'a.b'`. */
export function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) {
    let p = loc.file;
    if (loc.line !== undefined) p += `:${loc.line}`;
    if (loc.offset !== undefined) p += ` at byte ${loc.offset}`;
    parts.push(p);
  } else {
    if (loc.line !== undefined) parts.push(`line ${loc.line}`);
    if (loc.offset !== undefined) parts.push(`byte ${loc.offset}`);
  }
  if (loc.key !== undefined) parts.push(`key '${loc.key}'`);
  return parts.join(", ");
}

/**
 * Base class of every error tslm throws on purpose. What went wrong (`what`)
 * and where (`location`) are kept apart, so code that re-reports an error
 * (under a flag name, in a list of bad records) never edits message text;
 * `message` joins them for display: `what (where)`.
 */
export class TslmError extends Error {
  /** What went wrong, without where. */
  readonly what: string;
  readonly location: Location;

  constructor(what: string, location: Location = {}, options?: { cause?: unknown }) {
    const where = formatLocation(location);
    super(where ? `${what} (${where})` : what, options);
    this.name = new.target.name;
    this.what = what;
    this.location = location;
  }
}

/** A config value is missing, unknown or of the wrong type. */
export class ConfigError extends TslmError {}

/**
 * A command-line option has a bad value or clashes with another option
 * (the CLI exits with status 2). `flag` names the option, e.g. `--bootstrap`.
 */
export class UsageError extends ConfigError {
  constructor(
    what: string,
    readonly flag?: string,
  ) {
    super(what);
  }
}

/** A file or folder cannot be read or created (missing, not a folder, no permission). */
export class FileError extends TslmError {}

/** A file on disk does not follow its format (safetensors, GGUF, JSON, ...). */
export class FormatError extends TslmError {}

/** A dataset row or record is unusable. */
export class DataError extends TslmError {}

/** A numeric failure: NaN/Inf loss, non-finite merged weights, diverged fit. */
export class NumericError extends TslmError {}

/** An external service (HTTP endpoint, judge) failed after retries. */
export class RemoteError extends TslmError {
  constructor(
    message: string,
    readonly status?: number,
    location: Location = {},
    options?: { cause?: unknown },
  ) {
    super(message, location, options);
  }
}

/** Wraps any thrown value into an Error (third-party code may throw strings). */
export function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === "string" ? e : JSON.stringify(e));
}

/**
 * Asserts a condition with a message that names the bad value.
 * @example check(dim % heads === 0, () => `dim ${dim} is not divisible by heads ${heads}`)
 */
export function check(cond: unknown, message: string | (() => string), location?: Location): asserts cond {
  if (!cond) throw new TslmError(typeof message === "string" ? message : message(), location);
}
