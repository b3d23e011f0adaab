/** V8 code cache for the kernel's TypeScript: written once, used after, rejected when stale, off on request. */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeCacheFile, requireWithCodeCache } from "../../kernel/code-cache.js";

describe("kernel code cache", () => {
  let dir: string;
  let file: string;
  const forget = () => delete createRequire(file).cache[file];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tslm-codecache-"));
    file = join(dir, "big.js");
    writeFileSync(file, "exports.answer = function answer() { return 40 + 2; };\nexports.self = () => require.cache[__filename] === module;\n");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loads without a cache, writes one, then uses it", () => {
    const env = { XDG_CACHE_HOME: join(dir, "cache") };
    const first = requireWithCodeCache(file, env);
    assert.equal(first.cache, "none");
    const m = first.exports as { answer(): number; self(): boolean };
    assert.equal(m.answer(), 42);
    assert.equal(m.self(), true, "registered in the require cache as a module");
    assert.equal(createRequire(file)(file), first.exports, "later requires get the same instance");
    const where = first.save();
    assert.equal(where, codeCacheFile(file, readFileSync(file, "utf8"), env)[0]);
    assert.ok(where!.startsWith(join(dir, "cache", "tslm")));
    assert.ok(existsSync(where!));
    forget();
    const second = requireWithCodeCache(file, env);
    assert.equal(second.cache, "used");
    assert.equal((second.exports as { answer(): number }).answer(), 42);
    assert.equal(second.save(), undefined, "nothing to write");
    forget();
  });

  it("keys the cache by content, loads when V8 rejects a cache, and can be turned off", () => {
    const env = { XDG_CACHE_HOME: join(dir, "cache") };
    const other = join(dir, "other.js");
    writeFileSync(other, "exports.answer = () => 1;\n");
    const otherWhere = requireWithCodeCache(other, env).save()!;
    const mine = codeCacheFile(file, readFileSync(file, "utf8"), env)[0];
    assert.notEqual(mine, otherWhere, "another source has another cache file");
    // A cache made for other code in this file's place: V8 rejects it and the file still loads.
    copyFileSync(otherWhere, mine);
    const r = requireWithCodeCache(file, env);
    assert.equal(r.cache, "rejected");
    assert.equal((r.exports as { answer(): number }).answer(), 42);
    forget();
    assert.equal(requireWithCodeCache(file, { ...env, TSLM_KERNEL_CODE_CACHE: "0" }).cache, "off");
    forget();
  });
});
