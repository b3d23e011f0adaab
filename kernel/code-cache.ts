/**
 * Loads a large CommonJS file (tslab's TypeScript: 8 MB of JavaScript) with
 * V8's code cache, so a kernel start does not compile it from source again.
 * The cache is written after the first start that had none (or whose cache
 * V8 rejected, e.g. after a Node upgrade), once the kernel is idle, into
 * `$XDG_CACHE_HOME/tslm` (default `~/.cache/tslm`), falling back to the
 * system temp folder. `TSLM_KERNEL_CODE_CACHE=0` turns it off.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import vm from "node:vm";
import { writeFileAtomic } from "../lib/util/atomic.js";

export interface CodeCached {
  exports: unknown;
  /** "used", "rejected" (stale for this V8), "none" (no cache yet) or "off". */
  cache: "used" | "rejected" | "none" | "off";
  /** Writes the cache if it was missing or rejected; returns where, or undefined. Never throws. */
  save(): string | undefined;
}

/**
 * Where the cache of a source may live (first writable wins): one file per
 * source content (V8 itself checks little more than the source's length),
 * Node version and architecture.
 */
export function codeCacheFile(file: string, source: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const hash = createHash("sha1").update(source).digest("hex").slice(0, 16);
  const name = `${basename(file, ".js")}-${hash}-node${process.version}-${process.arch}.v8cache`;
  const dirs = [env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, "tslm") : join(homedir(), ".cache", "tslm"), join(tmpdir(), `tslm-cache-${process.getuid?.() ?? "user"}`)];
  return dirs.map((d) => join(d, name));
}

/**
 * Requires `file` through V8's code cache and registers it in the require
 * cache, so later `require`s of it (by any module) get this instance.
 */
export function requireWithCodeCache(file: string, env: NodeJS.ProcessEnv = process.env): CodeCached {
  const req = createRequire(file);
  if (env.TSLM_KERNEL_CODE_CACHE === "0" || req.cache[file]) return { exports: req(file), cache: "off", save: () => undefined };
  const source = readFileSync(file, "utf8");
  const candidates = codeCacheFile(file, source, env);
  let cachedData: Buffer | undefined;
  for (const c of candidates) {
    try {
      cachedData = readFileSync(c);
      break;
    } catch {
      // not there
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const mod = new Module(file) as Module & { paths: string[] };
  mod.filename = file;
  mod.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
  req.cache[file] = mod;
  try {
    (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  } catch (e) {
    delete req.cache[file];
    throw e;
  }
  mod.loaded = true;
  const cache = cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "used";
  let saved = false;
  return {
    exports: mod.exports,
    cache,
    save() {
      if (cache === "used" || saved) return undefined;
      saved = true;
      const data = script.createCachedData();
      for (const c of candidates) {
        try {
          writeFileAtomic(c, data);
          return c;
        } catch {
          // try the next folder
        }
      }
      return undefined;
    },
  };
}
