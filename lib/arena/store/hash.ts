/**
 * Content hashes for the arena's caches and record ids: sha256 over a
 * canonical JSON rendering (object keys sorted, `undefined` dropped), so the
 * same content always gives the same key whatever order its fields were
 * written in.
 */
import { hash } from "node:crypto";

/**
 * Canonical JSON: keys sorted at every level, undefined fields dropped.
 * (Plain loops and string appends: a tournament renders several of these per battle.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += value[i] === undefined ? "null" : canonicalJson(value[i]);
    }
    return out + "]";
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = "{";
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    out += JSON.stringify(k) + ":" + canonicalJson(v);
  }
  return out + "}";
}

/** sha256 (hex) of a string, one shot (`crypto.hash`: about twice as fast as createHash for short inputs). */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
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
    h = sha256Hex(text);
    if (textHashes.size > 100_000) textHashes.clear();
    textHashes.set(text, h);
  }
  return h;
}

/** sha256 (hex) of parts joined unambiguously (each part's length first). */
export function hashParts(...parts: string[]): string {
  let joined = "";
  for (const p of parts) joined += `${p.length}:${p}`;
  return sha256Hex(joined);
}
