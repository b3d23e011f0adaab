/**
 * Typed configs: one schema drives the library API, the CLI (YAML files and
 * flags) and notebooks.
 *
 * Each subsystem declares its config as a strict zod object whose fields
 * carry their defaults and a `.describe()` line saying why that default.
 * `resolveConfig` turns user input into the typed config and rejects unknown
 * keys and wrong types with a `ConfigError` naming the key (and, for YAML
 * files, the file and line).
 */
import * as z from "zod";
import { LineCounter, parseDocument, isMap, isSeq } from "yaml";
import { ConfigError, type Location } from "./errors.js";
import { readTextFile } from "./files.js";

export { z };

/** Where a config came from, for error messages. */
export interface ConfigSource {
  file?: string;
  /** Maps a dotted key to the 1-based line where it was written, if known. */
  lineOf?: (key: string) => number | undefined;
  /** Prefix added to every key in messages (for nested configs). */
  prefix?: string;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/**
 * Validates `input` against `schema`, filling defaults.
 * @throws ConfigError naming the first bad key, what it expected and what it got.
 * @example resolveConfig(TrainConfigSchema, { lr: 3e-4 }).lr === 3e-4
 */
export function resolveConfig<S extends z.ZodType>(schema: S, input: unknown, source: ConfigSource = {}): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const prefix = source.prefix ? `${source.prefix}.` : "";
  let key = prefix + issue.path.map(String).join(".");
  let message: string;
  if (issue.code === "unrecognized_keys") {
    const unknown = (issue as { keys: string[] }).keys;
    key = prefix + [...issue.path.map(String), unknown[0]].join(".");
    const known = knownKeys(schema, issue.path);
    message = `unknown config key '${key}'` + (known.length ? `; known keys here: ${known.join(", ")}` : "");
  } else {
    const got = describeValue(valueAt(input, issue.path));
    message = `config key '${key || "(root)"}': ${issue.message.replace(/^Invalid input: /, "")}; got ${got}`;
  }
  const more = result.error.issues.length - 1;
  if (more > 0) message += ` (and ${more} more problem${more > 1 ? "s" : ""})`;
  const loc: Location = { key: key || undefined };
  if (source.file) loc.file = source.file;
  const line = source.lineOf?.(key.slice(prefix.length));
  if (line !== undefined) loc.line = line;
  throw new ConfigError(message, loc);
}

/** Lists the keys a strict object schema accepts at `path` (best effort). */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let cur: z.ZodType | undefined = schema;
  for (const p of [...path, null]) {
    cur = unwrap(cur);
    if (!(cur instanceof z.ZodObject)) return [];
    if (p === null) return Object.keys(cur.shape);
    cur = cur.shape[String(p)] as z.ZodType | undefined;
  }
  return [];
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  for (let i = 0; i < 8 && cur; i++) {
    const def = (cur as unknown as { def?: { innerType?: z.ZodType; in?: z.ZodType } }).def;
    const inner = def?.innerType ?? def?.in;
    if (!inner) break;
    cur = inner;
  }
  return cur;
}

/**
 * Reads a YAML (or JSON) config file and resolves it with `schema`; errors name
 * the file and the line of the bad key.
 */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  const { value, lineOf } = readYaml(file);
  return resolveConfig(schema, value, { file, lineOf });
}

/** Parses a YAML file, keeping a map from dotted keys to their lines. */
export function readYaml(file: string): { value: unknown; lineOf: (key: string) => number | undefined } {
  return parseYamlText(readTextFile(file, "config file"), file);
}

/** Parses YAML text; syntax errors become ConfigErrors with file and line. */
export function parseYamlText(text: string, file?: string): { value: unknown; lineOf: (key: string) => number | undefined } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const line = err.pos ? lineCounter.linePos(err.pos[0]).line : undefined;
    throw new ConfigError(`invalid YAML: ${err.message.split("\n")[0]}`, { file, line });
  }
  const lineOfNode = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  const lineOf = (key: string): number | undefined => {
    let node: unknown = doc.contents;
    for (const part of key.split(".").filter(Boolean)) {
      if (isMap(node)) {
        const pair = node.items.find((it) => String((it.key as { value?: unknown } | null)?.value ?? it.key) === part);
        if (!pair) return lineOfNode(node);
        if (pair.value === null || pair.value === undefined) return lineOfNode(pair.key);
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(part)];
        if (item === undefined) return lineOfNode(node);
        node = item;
      } else break;
    }
    return lineOfNode(node);
  };
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    // The yaml library refuses alias expansions that would blow up (a "billion laughs" file).
    throw new ConfigError(`invalid YAML: ${(e as Error).message}`, { file }, { cause: e });
  }
  return { value, lineOf };
}
