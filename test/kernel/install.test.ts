/**
 * `tslm kernel install --prefix DIR` writes a kernelspec that real Jupyter
 * lists through JUPYTER_PATH, with absolute paths in argv; the repository's
 * kernelspec folder is listed the same way.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { findJupyter, repoJupyterPath } from "../../kernel/jupyter-env.js";
import { packageInfo } from "../../lib/util/package.js";

const jupyter = findJupyter();
const tslm = join(packageInfo().root, "bin", "tslm.js");

function kernelspecs(jupyterPath: string): Record<string, { resource_dir: string; spec: { argv: string[]; display_name: string } }> {
  const out = execFileSync(jupyter!, ["kernelspec", "list", "--json"], { encoding: "utf8", env: { ...process.env, JUPYTER_PATH: jupyterPath }, stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out).kernelspecs;
}

describe("kernel install", function () {
  this.timeout(60000);

  before(function () {
    assert.ok(jupyter, "jupyter must be installed (scripts/system-deps.sh)");
  });

  it("installs with --prefix and Jupyter lists it through JUPYTER_PATH", () => {
    const prefix = mkdtempSync(join(tmpdir(), "tslm-prefix-"));
    try {
      const r = JSON.parse(execFileSync(process.execPath, [tslm, "kernel", "install", "--prefix", prefix, "--json"], { encoding: "utf8" }));
      assert.equal(r.dir, join(prefix, "share", "jupyter", "kernels", "tslm"));
      const spec = kernelspecs(join(prefix, "share", "jupyter")).tslm;
      assert.ok(spec, "tslm is listed");
      assert.equal(spec.resource_dir, r.dir);
      assert.equal(spec.spec.display_name, "TypeScript (tslm)");
      // No PATH lookup: node and the kernel are absolute paths that exist.
      assert.ok(isAbsolute(spec.spec.argv[0]) && existsSync(spec.spec.argv[0]));
      assert.ok(existsSync(spec.spec.argv[1]));
      assert.deepEqual(spec.spec.argv.slice(2), ["--connection-file", "{connection_file}"]);
      assert.deepEqual(JSON.parse(readFileSync(join(r.dir, "kernel.json"), "utf8")).argv, spec.spec.argv);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it("refuses two destinations at once", () => {
    assert.throws(() => execFileSync(process.execPath, [tslm, "kernel", "install", "--user", "--prefix", "/tmp/x"], { stdio: "pipe" }), /choose one of/);
  });

  it("ships a kernelspec folder usable through JUPYTER_PATH", () => {
    const spec = kernelspecs(repoJupyterPath()).tslm;
    assert.ok(spec, "the repository kernelspec is listed");
    assert.equal(spec.spec.argv[0], "/bin/sh");
    assert.equal(spec.spec.argv[1], "{resource_dir}/launch.sh");
    assert.ok(existsSync(join(spec.resource_dir, "launch.sh")));
  });
});
