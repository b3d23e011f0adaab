/**
 * `tslm arena rate BATTLES.jsonl` rates any battle log in Chatbot Arena's
 * format; `tslm arena leaderboard RUN` prints a run's leaderboard;
 * `tslm arena report RUN` writes its HTML, Markdown and JSON reports.
 */
import type { Command } from "commander";
import { ConfigError } from "../../util/errors.js";
import { printResult } from "../output.js";
import { arenaGroup } from "./arena-group.js";
import { type RatingOptionsInput, resolveRatingOptions } from "../../arena/ratings/options.js";

interface RatingFlags {
  method?: string;
  bootstrap?: string;
  seed?: string;
  anchor?: string;
  confidence?: string;
  ties?: string;
  l2?: string;
  k?: string;
  minBattles?: string;
  style?: string | boolean;
  json?: boolean;
}

function number(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${flag} expects ${integer ? "an integer" : "a number"}, got '${value}'`, { key: flag });
  }
  return n;
}

/** `MODEL=RATING` (the model name may itself contain '='; the last one splits). */
export function parseAnchor(value: string): { model: string; rating: number } {
  const at = value.lastIndexOf("=");
  const rating = at > 0 ? Number(value.slice(at + 1)) : NaN;
  if (at <= 0 || value.slice(at + 1).trim() === "" || !Number.isFinite(rating)) {
    throw new ConfigError(`--anchor expects MODEL=RATING (e.g. gpt-4=1200), got '${value}'`, { key: "--anchor" });
  }
  return { model: value.slice(0, at), rating };
}

/** CLI flags -> rating options (only the flags given; the rest keep their defaults). */
export function ratingFlags(flags: RatingFlags): RatingOptionsInput {
  const out: Record<string, unknown> = {
    method: flags.method,
    bootstrap: number("--bootstrap", flags.bootstrap, true),
    seed: number("--seed", flags.seed, true),
    anchor: flags.anchor !== undefined ? parseAnchor(flags.anchor) : undefined,
    confidence: number("--confidence", flags.confidence),
    ties: flags.ties,
    l2: number("--l2", flags.l2),
    k: number("--k", flags.k),
    minBattles: number("--min-battles", flags.minBattles, true),
    style: flags.style === undefined ? undefined : flags.style === true ? {} : { features: String(flags.style).split(",").map((f) => f.trim()).filter(Boolean) },
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  try {
    resolveRatingOptions(out as RatingOptionsInput);
  } catch (e) {
    // Name the flag rather than the option key (method -> --method, minBattles -> --min-battles).
    if (!(e instanceof ConfigError) || !e.location.key) throw e;
    const key = e.location.key.split(".")[0];
    const flag = "--" + key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
    throw new ConfigError(e.message.replace(/ \(key '[^']*'\)$/, "").replace(`config key '${e.location.key}'`, flag), { key: flag });
  }
  return out as RatingOptionsInput;
}

function withRatingOptions(cmd: Command): Command {
  return cmd
    .option("--method <method>", "bt (Bradley-Terry MLE, default) or elo (online Elo)")
    .option("--bootstrap <n>", "bootstrap rounds for the confidence intervals (default 1000; 0 = none)")
    .option("--seed <s>", "seed of the bootstrap (default 0; for a run, the run's seed)")
    .option("--anchor <model=rating>", "shift ratings so MODEL has RATING")
    .option("--confidence <c>", "interval coverage (default 0.95)")
    .option("--ties <rule>", "half (a tie is half a win, default) or drop")
    .option("--l2 <x>", "L2 penalty on BT strengths (default 0: plain MLE)")
    .option("--k <k>", "online Elo update size (default 4)")
    .option("--min-battles <n>", "leave out models with fewer battles (default 0)")
    .option("--style [features]", "style control (BT): hold answer style equal; features from each battle's `style` (or conv_metadata), comma-separated, default all")
    .option("--json", "print one JSON object");
}

export function register(program: Command): void {
  const arena = arenaGroup(program);

  withRatingOptions(
    arena
      .command("rate")
      .description("Rate a battle log in Chatbot Arena's format (JSONL or a JSON array of {model_a, model_b, winner}).")
      .argument("<battles>", "battle log: .jsonl, or .json holding an array")
      .option("--skip-bad", "rate the good records and list the bad ones on stderr (default: refuse the file)"),
  ).action(async (file: string, flags: RatingFlags & { skipBad?: boolean }) => {
    const { readBattleLog, formatBad } = await import("../../arena/ratings/battle-log.js");
    const { Leaderboard } = await import("../../arena/ratings/leaderboard.js");
    const options = ratingFlags(flags);
    const log = readBattleLog(file, { skipBad: flags.skipBad });
    for (const b of log.bad) process.stderr.write(`tslm: skipped ${formatBad(file, b)}\n`);
    const board = Leaderboard.fromBattles(log.battles, options);
    printResult(flags.json, { ...board.toJSON(), skipped: log.bad.length }, () => board.toString());
  });

  withRatingOptions(
    arena
      .command("leaderboard")
      .description("Print the leaderboard of a run folder (Bradley-Terry with bootstrap intervals by default).")
      .argument("<run>", "run folder (made by tslm arena run)"),
  ).action(async (dir: string, flags: RatingFlags) => {
    const { loadRun } = await import("../../arena/store/load.js");
    const { runRatingOptions } = await import("../../arena/report/analyze.js");
    const { Leaderboard } = await import("../../arena/ratings/leaderboard.js");
    const run = loadRun(dir);
    const board = Leaderboard.fromBattles(run.battles, runRatingOptions(run, ratingFlags(flags)));
    printResult(flags.json, { run: run.meta.id, complete: run.meta.complete, ...board.toJSON() }, () =>
      [`run ${run.meta.id}${run.meta.complete ? "" : " (incomplete)"}: ${run.battles.length} battles`, board.toString()].join("\n"),
    );
  });

  withRatingOptions(
    arena
      .command("report")
      .description("Write a run's reports: self-contained HTML (charts work offline), Markdown with SVG figures, and JSON.")
      .argument("<run>", "run folder (made by tslm arena run)")
      .option("--out <dir>", "output folder (default RUN/report)"),
  ).action(async (dir: string, flags: RatingFlags & { out?: string }) => {
    const { writeReport } = await import("../../arena/report/write.js");
    const rating = ratingFlags(flags);
    const { dir: out, files, analysis } = await writeReport(dir, { out: flags.out, rating });
    const html = files.find((f) => f.endsWith("report.html"))!;
    printResult(flags.json, { dir: out, files, ratings: analysis.leaderboard.rows() }, () =>
      [analysis.leaderboard.toString(), "", `report: ${html}`, `also: ${out}/report.md, ${out}/report.json, ${out}/figures/`].join("\n"),
    );
  });
}
