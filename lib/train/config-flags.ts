/**
 * Command-line flags generated from a config schema, so every config key is
 * also a flag and the two never drift apart: `lr` -> `--lr <value>`,
 * `gradAccumulation` -> `--grad-accumulation <value>`, booleans ->
 * `--key` / `--no-key`, nested groups with a prefix (`lora.r` ->
 * `--lora-r`). Values are parsed by type here and validated by the schema
 * afterwards (so errors name the config key).
 */
import { z } from "../util/config.js";
import { ConfigError } from "../util/errors.js";

export type FlagKind = "number" | "boolean" | "string" | "enum" | "list" | "string-or-list";

export interface FlagSpec {
  /** Long flag name without dashes, e.g. `grad-accumulation`. */
  name: string;
  /** Path of the config key, e.g. ["lora", "r"]. */
  path: string[];
  kind: FlagKind;
  nullable: boolean;
  description: string;
  choices?: string[];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  shape?: Record<string, z.ZodType>;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Unwraps default/prefault/nullable/optional wrappers. */
function core(s: z.ZodType): { schema: z.ZodType; nullable: boolean } {
  let cur = s;
  let nullable = false;
  for (let i = 0; i < 8; i++) {
    const d = defOf(cur);
    if (d.type === "nullable") nullable = true;
    if (!["default", "prefault", "nullable", "optional"].includes(d.type) || !d.innerType) break;
    cur = d.innerType;
  }
  return { schema: cur, nullable };
}

function kindOf(s: z.ZodType): { kind: FlagKind; choices?: string[] } {
  const d = defOf(s);
  if (d.type === "number") return { kind: "number" };
  if (d.type === "boolean") return { kind: "boolean" };
  if (d.type === "string") return { kind: "string" };
  if (d.type === "enum") return { kind: "enum", choices: Object.values(d.entries ?? {}) };
  if (d.type === "array") return { kind: "list" };
  if (d.type === "union") return { kind: "string-or-list" };
  return { kind: "string" };
}

export interface FlagOptions {
  /** Nested object keys -> flag prefix ("" keeps the key's own name). */
  groups?: Record<string, string>;
  /** Dotted path -> flag name overriding the generated one. */
  rename?: Record<string, string>;
  /** Dotted paths to leave out. */
  skip?: string[];
}

/** Flags for every leaf key of a strict object schema. */
export function configFlags(schema: z.ZodType, options: FlagOptions = {}): FlagSpec[] {
  const out: FlagSpec[] = [];
  const walk = (obj: z.ZodType, path: string[], prefix: string) => {
    const shape = defOf(core(obj).schema).shape ?? {};
    for (const [key, field] of Object.entries(shape)) {
      const p = [...path, key];
      const dotted = p.join(".");
      if (options.skip?.includes(dotted)) continue;
      const { schema, nullable } = core(field);
      if (defOf(schema).type === "object" && options.groups && key in options.groups && path.length === 0) {
        walk(field, p, options.groups[key]);
        continue;
      }
      const { kind, choices } = kindOf(schema);
      const name = options.rename?.[dotted] ?? prefix + kebab(key);
      out.push({ name, path: p, kind, nullable, description: (field as { description?: string }).description ?? "", choices });
    }
  };
  walk(schema, [], "");
  return out;
}

/** Parses one flag value by the key's type (the schema validates it afterwards). */
export function parseFlagValue(spec: FlagSpec, raw: string | boolean): unknown {
  if (typeof raw === "boolean") return raw;
  if (spec.nullable && raw === "null") return null;
  switch (spec.kind) {
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new ConfigError(`--${spec.name} expects a number, got '${raw}'`, { key: spec.path.join(".") });
      return n;
    }
    case "boolean":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw new ConfigError(`--${spec.name} expects true or false, got '${raw}'`, { key: spec.path.join(".") });
    case "list":
      return raw.split(",").map((s) => s.trim()).filter(Boolean);
    case "string-or-list":
      return raw.includes(",") ? raw.split(",").map((s) => s.trim()).filter(Boolean) : raw;
    default:
      return raw;
  }
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
