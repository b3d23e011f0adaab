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

const textHashes = new Map<string, string>();

/** sha256 (hex) of a string, memoised for the few thousand long texts a run hashes repeatedly. */
export function textHash(text: string): string {
  let h = textHashes.get(text);
  if (h === undefined) {
    h = createHash("sha256").update(text).digest("hex");
    if (textHashes.size > 100_000) textHashes.clear();
    textHashes.set(text, h);
  }
  return h;
}

/** sha256 (hex) of parts joined unambiguously (each part's length first). */
export function hashParts(...parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${p.length}:`).update(p);
  return h.digest("hex");
}
