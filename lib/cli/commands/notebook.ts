/**
 * `tslm notebook run FILE... [--out PATH] [--timeout S] [--json]`: executes
 * notebooks headlessly on the tslm kernel (Jupyter's nbconvert) and writes
 * the executed copies; fails when a cell fails or the outputs are malformed.
 */
import type { Command } from "commander";
import { TslmError } from "../../util/errors.js";
import { printResult } from "../output.js";

export function register(program: Command): void {
  const notebook = program.command("notebook").description("Run notebooks on the tslm kernel.");
  notebook
    .command("run")
    .description("Execute notebooks headlessly and write the executed copies.")
    .argument("<files...>", "notebooks (.ipynb)")
    .option("--out <path>", "executed copy (one notebook) or folder (several); default runs/notebooks/")
    .option("--timeout <seconds>", "seconds one cell may run", "600")
    .option("--json", "print one JSON object")
    .action(async (files: string[], flags: { out?: string; timeout: string; json?: boolean }) => {
      const { runNotebook } = await import("../../../kernel/notebooks.js");
      const { basename, join } = await import("node:path");
      const timeout = Number(flags.timeout);
      if (!(timeout > 0)) throw new TslmError(`--timeout must be a positive number of seconds, got ${JSON.stringify(flags.timeout)}`);
      const results: (Omit<import("../../../kernel/notebooks.js").RunResult, "log"> & { file: string; log?: string })[] = [];
      for (const file of files) {
        const out = flags.out === undefined ? undefined : files.length === 1 && flags.out.endsWith(".ipynb") ? flags.out : join(flags.out, basename(file));
        if (!flags.json) process.stderr.write(`running ${file} ...\n`);
        const r = await runNotebook(file, { out, cellTimeoutS: timeout });
        results.push({ file, ...r, log: r.ok ? undefined : r.log });
      }
      const ok = results.every((r) => r.ok);
      printResult(flags.json, { ok, notebooks: results }, () =>
        results
          .map((r) => (r.ok ? `ok     ${r.file} -> ${r.out} (${r.seconds.toFixed(1)} s)` : `FAILED ${r.file}: ${r.problems.join("; ")}\n${(r.log ?? "").split("\n").slice(-25).join("\n")}`))
          .join("\n"),
      );
      if (!ok) process.exitCode = 1;
    });
}
