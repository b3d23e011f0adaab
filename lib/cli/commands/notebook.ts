/**
 * `tslm notebook run FILE... [--out PATH] [--timeout S] [--json]`: executes
 * notebooks headlessly on the tslm kernel (Jupyter's nbconvert) and writes
 * the executed copies; fails when a cell fails or the outputs are malformed.
 * Every file is checked to be a notebook before the first one runs.
 */
import type { Command } from "commander";
import { basename, join } from "node:path";
import { printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { z } from "../../util/config.js";
import { FormatError } from "../../util/errors.js";
import { readJsonFile } from "../../util/files.js";
import type { RunResult } from "../../../kernel/notebooks.js";

/** A day: longer cells are a mistake rather than a plan (and setTimeout holds at most ~24.8 days). */
const MAX_CELL_SECONDS = 86_400;

/** Reads a notebook file enough to know it is one (nbconvert would answer a missing file with its help text). */
function checkNotebookFile(file: string): void {
  const nb = readJsonFile(file, "notebook");
  if (nb === null || typeof nb !== "object" || !Array.isArray((nb as { cells?: unknown }).cells)) {
    throw new FormatError("not a Jupyter notebook: expected a JSON object with a 'cells' array", { file });
  }
}

export function register(program: Command): void {
  const notebook = program.command("notebook").description("Run notebooks on the tslm kernel.");
  defineCommand(notebook, {
    name: "run",
    description: "Execute notebooks headlessly and write the executed copies.",
    args: [["<files...>", "notebooks (.ipynb)"]],
    options: z.strictObject({
      out: z.string().optional().describe("executed copy (one notebook) or folder (several); default runs/notebooks/"),
      timeout: z.number().positive().max(MAX_CELL_SECONDS).default(600).describe("seconds one cell may run"),
      ...JSON_FLAG,
    }),
    flags: { hints: { out: "<path>", timeout: "<seconds>" } },
    async run(flags, [files]: [string[]]) {
      files.forEach(checkNotebookFile);
      const { runNotebook } = await import("../../../kernel/notebooks.js");
      const results: (Omit<RunResult, "log"> & { file: string; log?: string })[] = [];
      for (const file of files) {
        const out = flags.out === undefined ? undefined : files.length === 1 && flags.out.endsWith(".ipynb") ? flags.out : join(flags.out, basename(file));
        if (!flags.json) process.stderr.write(`running ${file} ...\n`);
        const r = await runNotebook(file, { out, cellTimeoutS: flags.timeout });
        results.push({ file, ...r, log: r.ok ? undefined : r.log });
      }
      const ok = results.every((r) => r.ok);
      printResult(flags.json, { ok, notebooks: results }, () =>
        results
          .map((r) => (r.ok ? `ok     ${r.file} -> ${r.out} (${r.seconds.toFixed(1)} s)` : `FAILED ${r.file}: ${r.problems.join("; ")}\n${(r.log ?? "").split("\n").slice(-25).join("\n")}`))
          .join("\n"),
      );
      if (!ok) process.exitCode = 1;
    },
  });
}
