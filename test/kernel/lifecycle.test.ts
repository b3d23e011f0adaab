/**
 * The kernel ends when its parent process dies (no orphaned kernels), and the
 * parent-watch helper reads the live parent pid.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionInfo, KERNEL_MAIN } from "./support/client.js";
import { currentParentPid } from "../../kernel/lifecycle.js";

/** False once the process is gone or a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("kernel lifecycle", function () {
  this.timeout(120000);

  it("reads the live parent pid", () => {
    assert.equal(currentParentPid(), process.ppid);
  });

  it("exits within a couple of seconds when its parent is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tslm-parent-"));
    try {
      const file = join(dir, "connection.json");
      writeFileSync(file, JSON.stringify(await connectionInfo()));
      // The parent is a shell that starts the kernel and waits; SIGKILL gives it no chance to clean up.
      const parent = spawn("/bin/sh", ["-c", `"${process.execPath}" "${KERNEL_MAIN}" --connection-file "${file}" & echo $!; wait`], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TSLM_KERNEL_DEBUG: "1", JPY_PARENT_PID: "" },
      });
      let out = "";
      let err = "";
      parent.stdout.on("data", (b) => (out += b));
      parent.stderr.on("data", (b) => (err += b));
      const t0 = Date.now();
      while (!/sockets bound/.test(err)) {
        if (Date.now() - t0 > 60000) throw new Error(`kernel did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const kernelPid = Number(out.trim());
      assert.ok(running(kernelPid), "kernel is running");
      parent.kill("SIGKILL");
      const killedAt = Date.now();
      while (running(kernelPid) && Date.now() - killedAt < 10000) await new Promise((r) => setTimeout(r, 50));
      const took = Date.now() - killedAt;
      if (running(kernelPid)) process.kill(kernelPid, "SIGKILL");
      assert.ok(took < 3000, `kernel still ran ${took} ms after its parent died`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
