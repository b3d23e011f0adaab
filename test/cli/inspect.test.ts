/** `tslm inspect` picks the format by magic and extension and says what it expected. */
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { oneErrorLine, tslmInProcess } from "../support/cli.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

describe("cli: inspect names the format it expected", () => {
  const dir = tempDir();
  after(removeTempDirs);

  async function failure(name: string, bytes: Buffer): Promise<string> {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const r = await tslmInProcess(["inspect", file]);
    assert.equal(r.code, 1, r.stderr);
    return oneErrorLine(r);
  }

  it("a .gguf file with another magic: bad magic, as tslm import gguf says", async () => {
    assert.match(await failure("bad.gguf", Buffer.from("GGUX\x03\x00\x00\x00", "latin1")), /bad magic "GGUX".*a GGUF file starts with "GGUF".*at byte 0/);
  });

  it("an empty file: empty, and what was expected", async () => {
    assert.match(await failure("empty.gguf", Buffer.alloc(0)), /the file is empty; expected a GGUF file/);
    assert.match(await failure("empty", Buffer.alloc(0)), /the file is empty; expected a GGUF file .* or a safetensors file/);
  });

  it("random bytes: neither format, showing the first bytes", async () => {
    const line = await failure("random", Buffer.from([0x46, 0xc1, 0xf1, 0xa6, 0x9b, 0x91, 0x49, 0x3a, 0x00, 0x01]));
    assert.match(line, /not a GGUF file .* or a safetensors file .*: it starts with bytes 46 c1 f1 a6 9b 91 49 3a/);
    assert.doesNotMatch(line, /header length \d+ exceeds/);
  });

  it("a GGUF file named .safetensors: said so", async () => {
    assert.match(await failure("model.safetensors", Buffer.from("GGUF\x03\x00\x00\x00\x00\x00\x00\x00", "latin1")), /not a safetensors file .*: it starts with the GGUF magic/);
  });
});
