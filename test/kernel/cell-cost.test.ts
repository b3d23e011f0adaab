/**
 * What a trivial cell costs the tslm kernel, next to plain tslab 1.0.22:
 * both kernels run the same trivial cells and the CPU time each process
 * spends on them is compared (CPU time, unlike wall time, barely depends on
 * the other load of a shared machine). tslab's default builder program
 * walked the imports of every declaration file on each compile, which made a
 * trivial cell cost about 3x tslab's with tslm's ~1,000 declaration files in
 * the program; the kernel's plain program (kernel/plain-builder.ts) brings
 * that to about 1.5x.
 */
import assert from "node:assert/strict";
import { KernelClient, TSLAB_KERNEL, processCpuMs } from "./support/client.js";

/** CPU milliseconds per cell over `cells` trivial cells, after a few to warm up. */
async function cpuPerCell(k: KernelClient, cells: number): Promise<number> {
  const run = async (code: string) => assert.equal(((await k.execute(code)).reply.content as { status: string }).status, "ok", code);
  for (let i = 0; i < 3; i++) await run(`${i} * 2`);
  const t0 = processCpuMs(k.proc.pid!);
  for (let i = 0; i < cells; i++) await run(`${i} + 1`);
  return (processCpuMs(k.proc.pid!) - t0) / cells;
}

describe("kernel cell cost", function () {
  this.timeout(180000);
  const kernels: KernelClient[] = [];
  after(async () => {
    await Promise.all(kernels.map((k) => k.close()));
  });

  it("spends under 2x plain tslab's CPU time on a trivial cell", async () => {
    const tslm = await KernelClient.start();
    kernels.push(tslm);
    const tslab = await KernelClient.start([], TSLAB_KERNEL);
    kernels.push(tslab);
    const cells = 30;
    const ours = await cpuPerCell(tslm, cells);
    const theirs = await cpuPerCell(tslab, cells);
    assert.ok(ours < 2 * theirs, `a trivial cell costs the tslm kernel ${ours.toFixed(1)} ms of CPU, plain tslab ${theirs.toFixed(1)} ms`);
  });
});
