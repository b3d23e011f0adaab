import { strict as assert } from "node:assert";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeText, duplicateJsonKey, makeDir, parseJsonStrict, parseJsonText, readJsonFile, readTextFile } from "../../lib/util/files.js";
import { FileError, FormatError } from "../../lib/util/errors.js";
import { writeTextAtomic } from "../../lib/util/atomic.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe("util/files: one reader for every text file", () => {
  after(removeTempDirs);

  it("drops a UTF-8 byte-order mark", () => {
    const file = join(tempDir(), "bom.json");
    writeFileSync(file, Buffer.concat([BOM, Buffer.from('{"a": "é"}\n')]));
    assert.equal(readTextFile(file), '{"a": "é"}\n');
    assert.deepEqual(readJsonFile(file), { a: "é" });
  });

  it("refuses invalid UTF-8 with the byte offset and line, never as U+FFFD", () => {
    const file = join(tempDir(), "latin1.txt");
    writeFileSync(file, Buffer.concat([Buffer.from("ok\ncaf"), Buffer.from([0xe9]), Buffer.from(" au lait\n")]));
    assert.throws(() => readTextFile(file), (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.deepEqual(e.location, { file, line: 2, offset: 6 });
      assert.match(e.message, /not valid UTF-8 text \(byte 0xe9/);
      return true;
    });
    // Overlong forms, surrogates and truncated sequences are refused too.
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xe2, 0x82]]) {
      assert.throws(() => decodeText(Uint8Array.from(bytes)), FormatError, JSON.stringify(bytes));
    }
    assert.throws(() => decodeText(Buffer.from([0xff, 0xfe, 0x61, 0x00])), /UTF-16/);
  });

  it("refuses a key repeated in one JSON object, naming the line", () => {
    assert.throws(() => parseJsonText('{\n  "lr": 1,\n  "lr": 2\n}', "c.json"), (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.equal(e.location.line, 3);
      assert.match(e.message, /duplicate key "lr"/);
      return true;
    });
    // The same key in different objects, in strings and escaped spellings.
    assert.deepEqual(parseJsonStrict('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "\\"a\\": 1"}'), { a: { a: 1 }, b: [{ a: 1 }, { a: 2 }], c: '"a": 1' });
    assert.deepEqual(duplicateJsonKey('{"a": 1, "\\u0061": 2}'), { key: "a", position: 9 });
    assert.throws(() => parseJsonStrict('{"a": 1, "a": 1}'), SyntaxError);
  });

  it("names a file that cannot be read", () => {
    const dir = tempDir();
    assert.throws(() => readTextFile(join(dir, "nope.txt"), "battle log"), (e: unknown) => e instanceof FileError && /cannot read battle log: no such file/.test(e.message));
    assert.throws(() => readTextFile(dir), /it is a folder, not a file/);
  });
});

describe("util/files: creating folders", () => {
  after(removeTempDirs);

  it("makes missing parents one level at a time", () => {
    const dir = join(tempDir(), "a", "b", "c");
    makeDir(dir);
    assert.ok(statSync(dir).isDirectory());
    makeDir(dir); // already there
  });

  it("refuses a path under a regular file, naming the file", () => {
    const file = join(tempDir(), "plain");
    writeFileSync(file, "x");
    assert.throws(() => makeDir(join(file, "x", "y"), "output folder"), (e: unknown) => e instanceof FileError && e.message.includes(`cannot create output folder: ${file} is a file, not a folder`));
    assert.throws(() => writeTextAtomic(join(file, "out.txt"), "x"), FileError);
  });

  it("fails at once under /proc instead of spinning (Node's recursive mkdir loops there)", () => {
    assert.ok(existsSync("/proc/self"), "a Linux /proc");
    const t0 = performance.now();
    assert.throws(() => makeDir("/proc/nope/x"), (e: unknown) => e instanceof FileError && /\/proc does not take new folders/.test(e.message));
    assert.ok(performance.now() - t0 < 1000);
  });
});
