import { strict as assert } from "node:assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig, loadConfigFile, z } from "../../lib/util/config.js";
import { ConfigError } from "../../lib/util/errors.js";

const Schema = z.strictObject({
  lr: z.number().positive().default(1e-4),
  schedule: z.enum(["cosine", "linear", "constant"]).default("cosine"),
  lora: z.strictObject({ rank: z.number().int().positive().default(4) }).prefault({}),
});

describe("util/config", () => {
  it("fills defaults", () => {
    assert.deepEqual(resolveConfig(Schema, {}), { lr: 1e-4, schedule: "cosine", lora: { rank: 4 } });
  });

  it("names an unknown key and lists the known ones", () => {
    assert.throws(
      () => resolveConfig(Schema, { lora: { rnak: 8 } }),
      (e: unknown) => e instanceof ConfigError && /unknown config key 'lora.rnak'/.test(e.message) && /rank/.test(e.message),
    );
  });

  it("names a wrong type with what it got", () => {
    assert.throws(() => resolveConfig(Schema, { lr: "fast" }), /config key 'lr'.*expected number.*string "fast"/);
  });

  it("reports the file and line of a bad key in YAML", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-config-"));
    const file = join(dir, "train.yaml");
    writeFileSync(file, "lr: 0.001\nlora:\n  rank: 2.5\n");
    assert.throws(() => loadConfigFile(file, Schema), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.location.file, file);
      assert.equal(e.location.line, 3);
      assert.equal(e.location.key, "lora.rank");
      return true;
    });
  });

  it("reports YAML syntax errors with a line", () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-config-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "lr: 0.001\nlora: [1, 2\n");
    assert.throws(() => loadConfigFile(file, Schema), (e: unknown) => e instanceof ConfigError && e.location.line !== undefined);
  });
});
