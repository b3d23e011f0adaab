/**
 * `tslm arena run CONFIG.yaml [--resume] [--vote]` plays a tournament into a
 * durable run folder (with a voting page for human judges); Ctrl-C stops it
 * keeping what was recorded (exit 130). `tslm arena merge OUT RUN...` unites
 * the shards of a run played on several machines.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { arenaGroup } from "./arena-group.js";
import { interruptible, printResult } from "../output.js";
import { defineCommand } from "../command.js";
import { z } from "../../util/config.js";
import { UsageError, asError } from "../../util/errors.js";
import type { HumanJudge } from "../../arena/judges/human.js";
import type { VotingServer } from "../../arena/judges/voting.js";
import type { RunResult as TournamentRun } from "../../arena/run.js";

/** `INDEX/COUNT` with INDEX < COUNT. */
function parseShard(raw: string, flag: string): { index: number; count: number } {
  const m = raw.match(/^(\d+)\/(\d+)$/);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`${flag} expects INDEX/COUNT with INDEX < COUNT (e.g. 0/4), got '${raw}'`, flag);
  return { index: Number(m[1]), count: Number(m[2]) };
}

const RunSchema = z.strictObject({
  resume: z.boolean().default(false).describe("continue the run folder after an interruption (repeats nothing already recorded)"),
  retryErrors: z.boolean().default(false).describe("with --resume: call again for answers and verdicts that failed before"),
  dir: z.string().optional().describe("run folder (default: OUT/NAME from the config)"),
  shard: z.strictObject({ index: z.number(), count: z.number() }).optional().describe("play shard i of n (static schedules); merge the shards with `tslm arena merge`"),
  failOnErrors: z.boolean().default(false).describe("exit with status 3 when any battle could not be decided"),
  vote: z.boolean().default(false).describe("serve a voting page for the config's human judges (the address is printed on stderr)"),
  votePort: z.number().int().min(0).max(65535).optional().describe("port of the voting page (0 or left out: any free port)"),
  voteHost: z.string().min(1).optional().describe("interface of the voting page (default 127.0.0.1)"),
  json: z.boolean().default(false).describe("print the run summary as one JSON object"),
});
type RunFlags = z.output<typeof RunSchema>;

/** Starts the voting page, or names the flag that made it fail (a host that does not resolve, a port in use). */
async function startVoting(flags: RunFlags): Promise<VotingServer> {
  const { startVotingServer } = await import("../../arena/judges/voting.js");
  let server: VotingServer;
  try {
    server = await startVotingServer({ port: flags.votePort ?? 0, host: flags.voteHost });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const flag = err.code === "EADDRINUSE" || err.code === "EACCES" ? "--vote-port" : "--vote-host";
    throw new UsageError(`${flag}: cannot serve the voting page on ${flags.voteHost ?? "127.0.0.1"}:${flags.votePort ?? 0}: ${asError(e).message}`, flag);
  }
  process.stderr.write(`tslm: voting page: ${server.url}\n`);
  if (flags.voteHost !== undefined && !/^(127\.|::1$|localhost$)/.test(flags.voteHost)) {
    process.stderr.write("tslm: the voting page is reachable from the network over plain HTTP: its token travels unencrypted\n");
  }
  return server;
}

function summary(run: TournamentRun) {
  const s = run.summary;
  return {
    dir: s.dir,
    id: run.meta.id,
    complete: run.meta.complete,
    battles: run.battles.length,
    errors: { answers: run.errors.answers.length, judgments: run.errors.judgments.length, battles: run.errors.battles.length },
    session: { played: s.played, answers: s.answers, judgments: s.judgments, battles: s.battles, elapsed_ms: s.elapsed_ms, specs_per_s: s.specs_per_s },
    cache: s.cache,
  };
}

function formatSummary(run: TournamentRun, r: ReturnType<typeof summary>): string {
  const s = run.summary;
  return [
    `run ${run.meta.id} ${run.meta.complete ? "complete" : "incomplete"}: ${run.battles.length} battles in ${s.dir}`,
    `errors (recorded, never rated): ${r.errors.answers} answers, ${r.errors.judgments} judgments, ${r.errors.battles} undecided battles`,
    `this session: ${s.answers.new} answers and ${s.judgments.new} verdicts made, ${s.answers.cached + s.judgments.cached} from the cache, ` +
      `${s.answers.recorded + s.judgments.recorded} already recorded; ${(s.elapsed_ms / 1000).toFixed(1)} s`,
    `next: tslm arena leaderboard ${s.dir}`,
  ].join("\n");
}

async function runCommand(flags: RunFlags, [configFile]: [string]): Promise<void> {
  if (!flags.vote && (flags.votePort !== undefined || flags.voteHost !== undefined)) {
    const flag = flags.votePort !== undefined ? "--vote-port" : "--vote-host";
    throw new UsageError(`${flag} needs --vote`, flag);
  }
  const { runTournament } = await import("../../arena/run.js");
  const voting = flags.vote ? await startVoting(flags) : undefined;
  let humans = 0;
  try {
    const onHumanJudge = voting
      ? (j: HumanJudge) => {
          humans++;
          voting.add(j);
        }
      : undefined;
    const run = await interruptible("stopping; recorded work is kept, continue with --resume", (signal) =>
      runTournament(configFile, { resume: flags.resume, retryErrors: flags.retryErrors, dir: flags.dir, shard: flags.shard, signal, onHumanJudge }),
    );
    if (!run) return;
    if (voting && humans === 0) process.stderr.write("tslm: --vote: this config has no human judge, so there was nothing to vote on\n");
    const result = summary(run);
    printResult(flags.json, result, () => formatSummary(run, result));
    if (flags.failOnErrors && result.errors.battles > 0) process.exitCode = 3;
  } finally {
    // Open pages hear that the tournament is over before the server goes.
    await voting?.close();
  }
}

/** `tslm arena merge OUT RUN...`, refusing a folder given twice (its battles would count twice). */
async function mergeCommand(flags: { json: boolean }, [out, runs]: [string, string[]]): Promise<void> {
  const seen = new Map<string, string>([[resolve(out), out]]);
  for (const r of runs) {
    const key = resolve(r);
    const first = seen.get(key);
    if (first !== undefined) throw new UsageError(`run folder ${r} is given twice${first !== r ? ` (also as ${first})` : ""}: each input counts once, and the output must be a new folder`);
    seen.set(key, r);
  }
  const { mergeRuns } = await import("../../arena/store/merge.js");
  const r = await mergeRuns(runs, out);
  printResult(flags.json, r, () =>
    `merged ${r.runs} run(s) into ${r.dir}: ${r.counts.battles} battles, ${r.counts.answers} answers, ${r.counts.judgments} judgments` +
    (r.complete ? "" : `; incomplete${r.missingShards.length ? ` (missing shards ${r.missingShards.join(", ")})` : ""}`),
  );
}

export function register(program: Command): void {
  const arena = arenaGroup(program);
  defineCommand(arena, {
    name: "run",
    description: "Run a tournament from a YAML config; every answer and verdict is journaled as it arrives.",
    args: [["<config>", "run config (YAML)"]],
    options: RunSchema,
    flags: { hints: { dir: "<dir>", voteHost: "<host>", votePort: "<port>" }, custom: { shard: { hint: "<i/n>", parse: (raw, flag) => parseShard(String(raw), flag) } } },
    run: runCommand,
  });
  defineCommand(arena, {
    name: "merge",
    description: "Merge the run folders of one run played in shards (or on several machines) into a new run folder.",
    args: [["<out>", "new run folder"], ["<runs...>", "run folders to merge (each once)"]],
    options: z.strictObject({ json: z.boolean().default(false).describe("print the merge result as one JSON object") }),
    run: mergeCommand,
  });
}
