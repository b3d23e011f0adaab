/**
 * Command-line flags generated from zod schemas: every command declares its
 * options as a schema (a config schema such as TrainConfigSchema, or the
 * command's own), and this module makes the commander options, their help
 * (description, choices, default), parses and checks each given value, and
 * resolves the whole set. Flags and schema never drift apart, and one number
 * parser gives every numeric flag the same message.
 *
 * Names: `gradAccumulation` -> `--grad-accumulation`; nested groups take a
 * prefix (`lora.r` -> `--lora-r`, renamed `--lora-rank`); booleans are
 * `--key` (and `--no-key` where the default is on or a file may set it).
 * A bad value is a UsageError naming the flag (exit status 2).
 */
import type { Command } from "commander";
import { z, resolveConfig, readYaml } from "../util/config.js";
import { ConfigError, UsageError } from "../util/errors.js";

export type FlagKind = "number" | "boolean" | "string" | "enum" | "list" | "custom";

/** Bounds of a numeric flag, read from the schema's checks (plus any the CLI adds). */
export interface NumberRange {
  integer: boolean;
  min?: number;
  minInclusive?: boolean;
  max?: number;
  maxInclusive?: boolean;
}

/** A flag whose value is not a plain number, string or list (`--anchor MODEL=RATING`). */
export interface CustomFlag {
  /** Value placeholder, e.g. `<model=rating>`; `[x]` makes the value optional; none makes a switch. */
  hint?: string;
  /** Turns the value (true for a switch, or an optional value left out) into the config value. */
  parse(raw: string | true, flag: string): unknown;
  /** The flag is `--no-NAME` (a switch that turns something off). */
  negated?: boolean;
}

export interface FlagSpec {
  /** Long flag name without dashes, e.g. `grad-accumulation`. */
  name: string;
  /** Path of the config key, e.g. ["lora", "r"]. */
  path: string[];
  kind: FlagKind;
  nullable: boolean;
  /** No default and not optional: the flag (or a config file) must give it. */
  required: boolean;
  /** The value may also come from a config file (a boolean then gets both `--key` and `--no-key`). */
  configFile: boolean;
  description: string;
  choices?: string[];
  /** The schema's default, for the help text. */
  default?: unknown;
  range?: NumberRange;
  /** Value placeholder in the help (`<dir>`). */
  hint?: string;
  /** `--name <v...>`: the flag takes several values. */
  variadic?: boolean;
  custom?: CustomFlag;
  /** The field's own schema, which checks one value. */
  schema: z.ZodType;
}

export interface FlagOptions {
  /** Nested object keys -> flag prefix ("" keeps the key's own name). */
  groups?: Record<string, string>;
  /** Dotted path -> flag name overriding the generated one. */
  rename?: Record<string, string>;
  /** Dotted paths to leave out. */
  skip?: string[];
  /** Dotted path -> value placeholder (`<dir>`). */
  hints?: Record<string, string>;
  /** Dotted path -> help text replacing the schema's description. */
  describe?: Record<string, string>;
  /** Dotted path -> custom flag. */
  custom?: Record<string, CustomFlag>;
  /** Dotted path -> upper bound the CLI adds where the schema has none (a value that would exhaust memory). */
  max?: Record<string, number>;
  /** Dotted paths of list flags that take several values (`--stop a b`) rather than one comma-separated value. */
  variadic?: string[];
  /** Values may also come from a config file: no flag is required, booleans get `--key` and `--no-key`. */
  configFile?: boolean;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  shape?: Record<string, z.ZodType>;
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** commander's attribute name of a long flag: `lora-rank` -> `loraRank`. */
const attributeOf = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Unwraps default/prefault/nullable/optional wrappers, keeping what they say. */
function unwrap(s: z.ZodType): { schema: z.ZodType; nullable: boolean; optional: boolean; hasDefault: boolean; default?: unknown; description: string } {
  let cur = s;
  let nullable = false;
  let optional = false;
  let hasDefault = false;
  let dflt: unknown;
  let description = "";
  for (let i = 0; i < 8; i++) {
    const d = defOf(cur);
    description ||= (cur as { description?: string }).description ?? "";
    if (d.type === "nullable") nullable = true;
    if (d.type === "optional") optional = true;
    if ((d.type === "default" || d.type === "prefault") && !hasDefault) {
      hasDefault = true;
      dflt = d.defaultValue;
    }
    if (!["default", "prefault", "nullable", "optional"].includes(d.type) || !d.innerType) break;
    cur = d.innerType;
  }
  return { schema: cur, nullable, optional, hasDefault, default: dflt, description };
}

/** Integer-ness and bounds of a number schema (zod's greater_than / less_than / safeint checks). */
function rangeOf(s: z.ZodType, max: number | undefined): NumberRange {
  const r: NumberRange = { integer: false };
  for (const c of defOf(s).checks ?? []) {
    const d = c._zod.def;
    if (d.check === "number_format" && (d.format === "safeint" || d.format === "int32" || d.format === "uint32")) r.integer = true;
    if (d.check === "greater_than" && (r.min === undefined || d.value! >= r.min)) [r.min, r.minInclusive] = [d.value, d.inclusive];
    if (d.check === "less_than" && (r.max === undefined || d.value! <= r.max)) [r.max, r.maxInclusive] = [d.value, d.inclusive];
  }
  if (max !== undefined && (r.max === undefined || max < r.max)) [r.max, r.maxInclusive] = [max, true];
  return r;
}

function kindOf(s: z.ZodType): { kind: FlagKind; choices?: string[] } {
  const d = defOf(s);
  if (d.type === "number") return { kind: "number" };
  if (d.type === "boolean") return { kind: "boolean" };
  if (d.type === "enum") return { kind: "enum", choices: Object.values(d.entries ?? {}) };
  if (d.type === "array" || d.type === "union") return { kind: "list" };
  return { kind: "string" };
}

/**
 * Flags for every leaf key of a strict object schema.
 * @example flagsFromSchema(TrainConfigSchema, { groups: { lora: "lora-" } }) // --lr, --lora-r, ...
 */
export function flagsFromSchema(schema: z.ZodType, options: FlagOptions = {}): FlagSpec[] {
  const out: FlagSpec[] = [];
  const walk = (obj: z.ZodType, path: string[], prefix: string) => {
    for (const [key, field] of Object.entries(defOf(unwrap(obj).schema).shape ?? {})) {
      const p = [...path, key];
      const dotted = p.join(".");
      if (options.skip?.includes(dotted)) continue;
      const u = unwrap(field);
      if (defOf(u.schema).type === "object" && options.groups && key in options.groups && path.length === 0) {
        walk(field, p, options.groups[key]);
        continue;
      }
      const custom = options.custom?.[dotted];
      const { kind, choices } = custom ? { kind: "custom" as const, choices: undefined } : kindOf(u.schema);
      out.push({
        name: options.rename?.[dotted] ?? prefix + kebab(key),
        path: p,
        kind,
        nullable: u.nullable,
        required: !options.configFile && !u.hasDefault && !u.optional && !u.nullable,
        configFile: options.configFile ?? false,
        description: options.describe?.[dotted] ?? u.description,
        choices,
        default: u.default,
        range: kind === "number" ? rangeOf(u.schema, options.max?.[dotted]) : undefined,
        hint: custom?.hint ?? options.hints?.[dotted],
        variadic: options.variadic?.includes(dotted),
        custom,
        schema: u.schema,
      });
    }
  };
  walk(schema, [], "");
  return out;
}

function describeRange(r: NumberRange): string {
  const bounds: string[] = [];
  if (r.min !== undefined) bounds.push(`${r.minInclusive ? ">=" : ">"} ${r.min}`);
  if (r.max !== undefined && !(r.integer && r.max >= Number.MAX_SAFE_INTEGER)) bounds.push(`${r.maxInclusive ? "<=" : "<"} ${r.max}`);
  return (r.integer ? "an integer" : "a number") + (bounds.length ? ` ${bounds.join(" and ")}` : "");
}

/**
 * The one number parser of the CLI: a finite number (an integer where the
 * range says so) within the range, or a UsageError naming the flag.
 * @example parseNumber("--top-p", "0.9", { integer: false, min: 0, minInclusive: false, max: 1, maxInclusive: true }) === 0.9
 */
export function parseNumber(flag: string, raw: string, range: NumberRange = { integer: false }): number {
  const n = Number(raw);
  const ok =
    raw.trim() !== "" &&
    Number.isFinite(n) &&
    (!range.integer || Number.isSafeInteger(n)) &&
    (range.min === undefined || (range.minInclusive ? n >= range.min : n > range.min)) &&
    (range.max === undefined || (range.maxInclusive ? n <= range.max : n < range.max));
  if (!ok) throw new UsageError(`${flag} expects ${describeRange(range)}, got '${raw}'`, flag);
  return n;
}

/** "a, b or c". */
const orList = (items: readonly string[]): string => (items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}` : items.join(""));

/** Parses and checks one flag value against its key's type and schema. */
export function parseFlagValue(spec: FlagSpec, raw: string | string[] | boolean): unknown {
  const flag = `--${spec.name}`;
  if (spec.custom) return spec.custom.parse(raw === true || raw === false ? true : String(raw), flag);
  let value: unknown;
  if (typeof raw === "boolean") value = raw;
  else if (Array.isArray(raw)) value = raw;
  else if (spec.nullable && raw === "null") return null;
  else if (spec.kind === "number") value = parseNumber(flag, raw, spec.range);
  else if (spec.kind === "boolean") {
    if (raw !== "true" && raw !== "false") throw new UsageError(`${flag} expects true or false, got '${raw}'`, flag);
    value = raw === "true";
  } else if (spec.kind === "enum") {
    if (!spec.choices!.includes(raw)) throw new UsageError(`${flag} must be ${orList(spec.choices!)}, got '${raw}'`, flag);
    value = raw;
  } else if (spec.kind === "list") {
    // One comma-separated value; a union with a string keeps a single item as a string.
    const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
    value = defOf(spec.schema).type === "union" && !raw.includes(",") ? raw : items;
  } else value = raw;
  // The key's own schema has the last word (patterns, lengths, refinements).
  const checked = spec.schema.safeParse(value);
  if (!checked.success) throw new UsageError(`${flag}: ${checked.error.issues[0].message.replace(/^Invalid input: /, "")}, got '${raw}'`, flag);
  return checked.data;
}

function helpText(s: FlagSpec): string {
  const notes: string[] = [];
  if (s.choices) notes.push(s.choices.join(", "));
  const d = s.default;
  const shown = d === undefined || d === null || d === false || d === "" || (typeof d === "object" && !Array.isArray(d)) ? undefined : Array.isArray(d) ? d.join(",") : String(d);
  if (shown !== undefined && s.kind !== "boolean") notes.push(`default ${shown}`);
  if (s.required) notes.push("required");
  return s.description.replace(/\.$/, "") + (notes.length ? ` (${notes.join("; ")})` : "");
}

/** Adds one commander option per spec (values are parsed later, by `flagValues`). */
export function addFlags(cmd: Command, specs: readonly FlagSpec[]): Command {
  for (const s of specs) {
    const help = helpText(s);
    if (s.custom) {
      cmd.option(`--${s.custom.negated ? "no-" : ""}${s.name}${s.custom.hint ? ` ${s.custom.hint}` : ""}`, help);
    } else if (s.kind === "boolean") {
      const on = s.default === true;
      if (s.configFile || !on) cmd.option(`--${s.name}`, help);
      if (s.configFile) cmd.option(`--no-${s.name}`, `turn off --${s.name}`);
      else if (on) cmd.option(`--no-${s.name}`, help); // the description says what the --no- flag does
    } else {
      let hint = s.hint ?? (s.kind === "list" && !s.variadic ? "<a,b,...>" : s.kind === "number" ? "<n>" : "<value>");
      if (s.variadic && !hint.endsWith("...>")) hint = hint.replace(/>$/, "...>");
      if (s.required) cmd.requiredOption(`--${s.name} ${hint}`, help);
      else cmd.option(`--${s.name} ${hint}`, help);
    }
  }
  return cmd;
}

/** Sets `value` at `path` in a plain object, creating nested objects. */
export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = target;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== "object") cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

/** Deep-merges `over` onto `base` (objects merge, everything else replaces). */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b) ? mergeConfig(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** The values given on the command line (flags left out stay out), parsed and checked, nested by config path. */
export function flagValues(cmd: Command, specs: readonly FlagSpec[]): Record<string, unknown> {
  const opts = cmd.opts();
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const attr = attributeOf(s.name);
    if (cmd.getOptionValueSource(attr) !== "cli") continue;
    setPath(out, s.path, parseFlagValue(s, opts[attr] as string | string[] | boolean));
  }
  return out;
}

/**
 * Resolves a schema from the command line: the flags given, over an
 * optional YAML (or JSON) config file, over the schema's defaults. A bad
 * flag is a UsageError; a bad key in the file a ConfigError naming its line.
 */
export function resolveFlags<S extends z.ZodType>(schema: S, cmd: Command, specs: readonly FlagSpec[], file?: string): z.output<S> {
  const given = flagValues(cmd, specs);
  const yaml = file ? readYaml(file) : undefined;
  const base = yaml?.value && typeof yaml.value === "object" && !Array.isArray(yaml.value) ? (yaml.value as Record<string, unknown>) : {};
  const input = mergeConfig(base, given);
  try {
    return resolveConfig(schema, input, file ? { file, lineOf: yaml!.lineOf } : {});
  } catch (e) {
    // A key no flag and no file gave is a missing option, named by its flag.
    const key = e instanceof ConfigError ? e.location.key : undefined;
    const missing = specs.find((s) => s.path.join(".") === key && valueAt(input, s.path) === undefined);
    if (!missing) throw e;
    throw new UsageError(`--${missing.name} is required${file ? ` (or '${missing.path.join(".")}' in ${file})` : ""}`, `--${missing.name}`);
  }
}

function valueAt(obj: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}
