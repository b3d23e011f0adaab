/**
 * Content hashes for the arena's caches and record ids: sha256 over a
 * canonical JSON rendering (object keys sorted, `undefined` dropped), so the
 * same content always gives the same key whatever order its fields were
 * written in.
 */
import { createHash } from "node:crypto";

/** Canonical JSON: keys sorted at every level, undefined fields dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return "[" + value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(obj[k])).join(",") + "}";
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** A short stable id (first 16 hex digits of the content hash): 64 bits, enough for a run's records. */
export function shortId(value: unknown): string {
  return contentHash(value).slice(0, 16);
}
