/**
 * Kernel startup and per-cell overhead: the tslm kernel (library preloaded),
 * the same kernel with `--no-preload`, and plain tslab 1.0.22, measured side
 * by side in one run (interleaved rounds, medians), each from a fresh folder
 * outside the repository.
 *
 *   npm run bench -- kernel [--rounds 3] [--cells 20] [--compare DIR] [--json]
 *
 * `--compare DIR` adds the kernel of another build (DIR/dist/kernel/main.js,
 * e.g. a checkout of an earlier commit) to the same interleaved rounds.
 * The load average before and after is reported: the machine is shared, so
 * only figures from one run compare.
 *
 * "first result": from spawning the kernel process to the reply of its first
 * cell (`1 + 1`), the wait a user has after "restart kernel and run".
 * "cpu": CPU time of the kernel process up to then (all threads), which the
 * other load on a shared machine does not inflate the way it does wall time.
 * "per cell": median round trip of a trivial cell afterwards, and the kernel's
 * CPU time per cell over those cells (all threads; again load-independent).
 */
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { flag, wholeNumber } from "./_args.js";
import { KernelClient, TSLAB_KERNEL, processCpuMs as cpuMs } from "../test/kernel/support/client.js";

interface Sample {
  firstResultMs: number;
  /** CPU time the kernel process (all threads) used up to its first result: load-independent work. */
  firstResultCpuMs: number;
  perCellMs: number;
  /** CPU time the kernel process used per trivial cell, averaged over the cells after the first. */
  perCellCpuMs: number;
}

const json = process.argv.includes("--json");
const rounds = wholeNumber("rounds", flag("rounds") ?? "3", 1);
const cells = wholeNumber("cells", flag("cells") ?? "20", 1);
const compareDir = flag("compare");

const variants: Record<string, { args?: string[]; command?: string[] }> = {
  tslm: {},
  "tslm --no-preload": { args: ["--no-preload"] },
  "tslab (plain)": { command: TSLAB_KERNEL },
};
if (compareDir) variants[`tslm (${compareDir})`] = { command: [process.execPath, join(compareDir, "dist", "kernel", "main.js"), "--connection-file", "{connection_file}"] };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(v: { args?: string[]; command?: string[] }): Promise<Sample> {
  const t0 = performance.now();
  const k = await KernelClient.start(v.args ?? [], v.command);
  try {
    const first = await k.execute("1 + 1");
    if ((first.reply.content as { status: string }).status !== "ok") throw new Error(`first cell failed: ${JSON.stringify(first.reply.content)}`);
    const firstResultMs = performance.now() - t0;
    const firstResultCpuMs = cpuMs(k.proc.pid!);
    const times: number[] = [];
    for (let i = 0; i < cells; i++) {
      const c0 = performance.now();
      await k.execute(`${i} + 1`);
      times.push(performance.now() - c0);
    }
    const perCellCpuMs = (cpuMs(k.proc.pid!) - firstResultCpuMs) / cells;
    return { firstResultMs, firstResultCpuMs, perCellMs: median(times), perCellCpuMs };
  } finally {
    await k.close();
  }
}

const cpus = availableParallelism();
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadBefore = load();
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, v] of Object.entries(variants)) {
    const s = await measure(v);
    samples[name].push(s);
    if (!json) process.stderr.write(`round ${r + 1}: ${name.padEnd(24)} first result ${s.firstResultMs.toFixed(0)} ms (cpu ${s.firstResultCpuMs} ms), per cell ${s.perCellMs.toFixed(1)} ms (cpu ${s.perCellCpuMs.toFixed(1)} ms)\n`);
  }
}

const summary = Object.fromEntries(
  Object.entries(samples).map(([name, xs]) => [name, { firstResultMs: Math.round(median(xs.map((x) => x.firstResultMs))), firstResultCpuMs: Math.round(median(xs.map((x) => x.firstResultCpuMs))), perCellMs: Number(median(xs.map((x) => x.perCellMs)).toFixed(1)), perCellCpuMs: Number(median(xs.map((x) => x.perCellCpuMs)).toFixed(1)) }]),
);
const loadAfter = load();
const tslm = summary["tslm"];
const plain = summary["tslab (plain)"];
const result = {
  bench: "kernel",
  rounds,
  cells,
  node: process.version,
  loadavg: { before: loadBefore, after: loadAfter },
  variants: summary,
  preloadAddsMs: tslm.firstResultMs - plain.firstResultMs,
  preloadAddsCpuMs: tslm.firstResultCpuMs - plain.firstResultCpuMs,
  perCellRatio: Number((tslm.perCellMs / plain.perCellMs).toFixed(2)),
  goals: { preloadAddsUnderMs: 500, firstResultUnderMs: 3000 },
  met: { preload: tslm.firstResultMs - plain.firstResultMs < 500, firstResult: tslm.firstResultMs < 3000 },
};
const pad = Math.max(18, ...Object.keys(summary).map((n) => n.length));
if (json) process.stdout.write(JSON.stringify(result) + "\n");
else {
  const lines = Object.entries(summary).map(([n, s]) => `${n.padEnd(pad)} first result ${String(s.firstResultMs).padStart(5)} ms (cpu ${String(s.firstResultCpuMs).padStart(5)} ms)   per cell ${s.perCellMs.toFixed(1).padStart(6)} ms (cpu ${s.perCellCpuMs.toFixed(1).padStart(5)} ms)`);
  process.stdout.write(
    [
      `kernel startup (median of ${rounds} rounds, ${cells} cells each; load average ${loadBefore.join(" ")} before, ${loadAfter.join(" ")} after, on ${cpus} cores)`,
      ...lines,
      `preloading tslm adds ${result.preloadAddsMs} ms (cpu ${result.preloadAddsCpuMs} ms) to the first result over plain tslab (goal < 500 ms); first result ${tslm.firstResultMs} ms (goal < 3000 ms)`,
    ].join("\n") + "\n",
  );
}
