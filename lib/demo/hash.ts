/**
 * Content keys of the demo's caches: a model folder's bytes, a record
 * list, a config. Keys are sha256 over canonical JSON (lib/arena's
 * `contentHash`), so field order never changes a key.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "../arena/store/hash.js";
import { ConfigError } from "../util/errors.js";

export { contentHash };

/** Files that decide a model's answers: config, weights, tokenizer (not READMEs, YAML examples or data folders). */
const MODEL_FILE = /\.(json|safetensors|txt|model)$/;

/**
 * sha256 of the files of a model folder that decide its answers (config,
 * weights, tokenizer: names and bytes, sorted by name). The embedded model is
 * a few MB, so reading it costs milliseconds; a key on the bytes (not
 * modification times) survives copies and fresh clones, and editing the
 * folder's README does not invalidate trained adapters.
 */
export function folderHash(dir: string): string {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a folder");
    names = readdirSync(dir).filter((f) => !f.startsWith(".") && MODEL_FILE.test(f)).sort();
  } catch (e) {
    throw new ConfigError(`model folder ${dir} cannot be read: ${(e as Error).message}`, { file: dir, key: "model" });
  }
  const h = createHash("sha256");
  for (const name of names) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    h.update(name).update("\0").update(readFileSync(file)).update("\0");
  }
  return h.digest("hex");
}
