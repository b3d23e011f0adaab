/**
 * `tslm arena rate BATTLES.jsonl` rates any battle log in Chatbot Arena's
 * format; `tslm arena leaderboard RUN` prints a run's leaderboard;
 * `tslm arena report RUN` writes its HTML, Markdown and JSON reports.
 * Their rating flags come from the rating options' schema.
 */
import type { Command } from "commander";
import { z } from "../../util/config.js";
import { UsageError } from "../../util/errors.js";
import { printResult } from "../output.js";
import { flagValues, flagsFromSchema, type FlagOptions } from "../flags.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { arenaGroup } from "./arena-group.js";
import { RatingOptionsSchema, type RatingOptionsInput } from "../../arena/ratings/options.js";

/**
 * A progress bar over the bootstrap rounds (stderr, as `TSLM_PROGRESS` says),
 * so a long rating is visibly at work.
 */
async function bootstrapProgress(): Promise<(p: { done: number; total: number }) => void> {
  const { progress } = await import("../../display/progress.js");
  let bar: ReturnType<typeof progress> | undefined;
  return ({ done, total }) => {
    bar ??= progress({ label: "bootstrap", total, unit: "round" });
    if (done >= total) bar.done();
    else bar.update(done);
  };
}

/** `MODEL=RATING` (the model name may itself contain '='; the last one splits). */
export function parseAnchor(value: string, flag = "--anchor"): { model: string; rating: number } {
  const at = value.lastIndexOf("=");
  const rating = at > 0 ? Number(value.slice(at + 1)) : NaN;
  if (at <= 0 || value.slice(at + 1).trim() === "" || !Number.isFinite(rating)) {
    throw new UsageError(`${flag} expects MODEL=RATING (e.g. gpt-4=1200), got '${value}'`, flag);
  }
  return { model: value.slice(0, at), rating };
}

/**
 * How rating options become flags. The Newton solver's tolerances and the
 * rating scale's constants (scale, base, init) stay in run configs and the
 * library, where they are set once rather than per command.
 */
export const RATING_FLAG_OPTIONS: FlagOptions = {
  skip: ["scale", "base", "init", "tol", "bootstrapTol", "maxIter"],
  custom: {
    anchor: { hint: "<model=rating>", parse: (raw, flag) => parseAnchor(String(raw), flag) },
    style: {
      hint: "[features]",
      parse: (raw) => (raw === true ? {} : { features: raw.split(",").map((f) => f.trim()).filter(Boolean) }),
    },
  },
  describe: { style: "style control (BT): hold answer style equal; features from each battle's `style` (or conv_metadata), comma-separated, default all" },
};

const RATING_SPECS = flagsFromSchema(RatingOptionsSchema, RATING_FLAG_OPTIONS);

/** Rating options given on the command line (only those, each checked; the rest keep their defaults or the run's). */
function ratingOptions(cmd: Command): RatingOptionsInput {
  return flagValues(cmd, RATING_SPECS);
}

export function register(program: Command): void {
  const arena = arenaGroup(program);
  defineCommand(arena, {
    name: "rate",
    description: "Rate a battle log in Chatbot Arena's format (JSONL or a JSON array of {model_a, model_b, winner}).",
    args: [["<battles>", "battle log: .jsonl, or .json holding an array"]],
    options: z.strictObject({
      ...JSON_FLAG,
      skipBad: z.boolean().default(false).describe("rate the good records and list the bad ones on stderr (default: refuse the file)"),
    }),
    more: [RATING_SPECS],
    async run(flags, [file]: [string], cmd) {
      const options = ratingOptions(cmd);
      const { readBattleLog, formatBad } = await import("../../arena/battle-log.js");
      const { Leaderboard } = await import("../../arena/leaderboard.js");
      const log = readBattleLog(file, { skipBad: flags.skipBad });
      for (const b of log.bad) process.stderr.write(`tslm: skipped ${formatBad(file, b)}\n`);
      const board = Leaderboard.fromBattles(log.battles, options, { onProgress: await bootstrapProgress() });
      printResult(flags.json, { ...board.toJSON(), skipped: log.bad.length }, () => board.toString());
    },
  });
  defineCommand(arena, {
    name: "leaderboard",
    description: "Print the leaderboard of a run folder (Bradley-Terry with bootstrap intervals by default).",
    args: [["<run>", "run folder (made by tslm arena run)"]],
    options: z.strictObject({ ...JSON_FLAG }),
    more: [RATING_SPECS],
    async run(flags, [dir]: [string], cmd) {
      const options = ratingOptions(cmd);
      const { loadRun } = await import("../../arena/store/load.js");
      const { runRatingOptions, silentContestants } = await import("../../arena/report/analyze.js");
      const { Leaderboard } = await import("../../arena/leaderboard.js");
      const run = loadRun(dir);
      // Every contestant is listed: one whose answers all failed stays, unrated, with a note saying why.
      const lb = Leaderboard.fromBattles(run.battles, runRatingOptions(run, options), { models: run.contestants.map((c) => c.name), onProgress: await bootstrapProgress() });
      const notes = silentContestants(run, lb.result);
      const json = lb.toJSON();
      printResult(flags.json, { run: run.meta.id, complete: run.meta.complete, ...json, warnings: [...json.warnings, ...notes] }, () =>
        [`run ${run.meta.id}${run.meta.complete ? "" : " (incomplete)"}: ${run.battles.length} battles`, lb.toString(), ...notes.map((n) => `note: ${n}`)].join("\n"),
      );
    },
  });
  defineCommand(arena, {
    name: "report",
    description: "Write a run's reports: self-contained HTML (charts work offline), Markdown with SVG figures, and JSON.",
    args: [["<run>", "run folder (made by tslm arena run)"]],
    options: z.strictObject({ ...JSON_FLAG, out: z.string().optional().describe("output folder (default RUN/report)") }),
    flags: { hints: { out: "<dir>" } },
    more: [RATING_SPECS],
    async run(flags, [dir]: [string], cmd) {
      const rating = ratingOptions(cmd);
      const { writeReport } = await import("../../arena/report/write.js");
      const { dir: out, files, analysis } = await writeReport(dir, { out: flags.out, rating });
      const html = files.find((f) => f.endsWith("report.html"))!;
      printResult(flags.json, { dir: out, files, ratings: analysis.leaderboard.rows() }, () =>
        [analysis.leaderboard.toString(), "", `report: ${html}`, `also: ${out}/report.md, ${out}/report.json, ${out}/figures/`].join("\n"),
      );
    },
  });
}
