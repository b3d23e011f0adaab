/**
 * `tslm arena run CONFIG.yaml [--resume] [--vote]` plays a tournament into a
 * durable run folder (with a voting page for human judges); `tslm arena merge OUT RUN...` unites the shards of a run played
 * on several machines.
 */
import type { Command } from "commander";
import { arenaGroup } from "./arena-group.js";
import { printResult } from "../output.js";
import { TslmError } from "../../util/errors.js";
import type { HumanJudge } from "../../arena/judges/human.js";
import type { VotingServer } from "../../arena/judges/voting.js";

interface RunFlags {
  resume?: boolean;
  retryErrors?: boolean;
  dir?: string;
  shard?: string;
  json?: boolean;
  failOnErrors?: boolean;
  vote?: boolean;
  votePort?: string;
  voteHost?: string;
}

function parsePort(s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new TslmError(`--vote-port expects a port number 0-65535 (0: any free port), got '${s}'`, { key: "--vote-port" });
  return n;
}

function parseShard(s: string): { index: number; count: number } {
  const m = s.match(/^(\d+)\/(\d+)$/);
  if (!m || Number(m[1]) >= Number(m[2])) throw new TslmError(`--shard expects INDEX/COUNT with INDEX < COUNT (e.g. 0/4), got '${s}'`, { key: "--shard" });
  return { index: Number(m[1]), count: Number(m[2]) };
}

export function register(program: Command): void {
  const arena = arenaGroup(program);
  arena
    .command("run")
    .description("Run a tournament from a YAML config; every answer and verdict is journaled as it arrives.")
    .argument("<config>", "run config (YAML)")
    .option("--resume", "continue the run folder after an interruption (repeats nothing already recorded)")
    .option("--retry-errors", "with --resume: call again for answers and verdicts that failed before")
    .option("--dir <dir>", "run folder (default: OUT/NAME from the config)")
    .option("--shard <i/n>", "play shard i of n (static schedules); merge the shards with `tslm arena merge`")
    .option("--fail-on-errors", "exit with status 3 when any battle could not be decided")
    .option("--vote", "serve a voting page for the config's human judges (the address is printed on stderr)")
    .option("--vote-port <port>", "port of the voting page (default: any free port)")
    .option("--vote-host <host>", "interface of the voting page (default 127.0.0.1)")
    .option("--json", "print the run summary as one JSON object")
    .action(async (configFile: string, flags: RunFlags) => {
      const { runTournament } = await import("../../arena/run.js");
      const stop = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        process.stderr.write(`tslm: ${sig}: stopping; recorded work is kept, continue with --resume\n`);
        stop.abort(new TslmError(`interrupted by ${sig}`));
      };
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      let voting: VotingServer | undefined;
      let humans = 0;
      try {
        const shard = flags.shard ? parseShard(flags.shard) : undefined;
        if (!flags.vote && (flags.votePort !== undefined || flags.voteHost !== undefined)) {
          throw new TslmError("--vote-port and --vote-host need --vote", { key: flags.votePort !== undefined ? "--vote-port" : "--vote-host" });
        }
        if (flags.vote) {
          const { startVotingServer } = await import("../../arena/judges/voting.js");
          voting = await startVotingServer({ port: flags.votePort === undefined ? 0 : parsePort(flags.votePort), host: flags.voteHost });
          process.stderr.write(`tslm: voting page: ${voting.url}\n`);
          if (flags.voteHost !== undefined && !/^(127\.|::1$|localhost$)/.test(flags.voteHost)) {
            process.stderr.write("tslm: the voting page is reachable from the network over plain HTTP: its token travels unencrypted\n");
          }
        }
        const server = voting;
        const onHumanJudge = server
          ? (j: HumanJudge) => {
              humans++;
              server.add(j);
            }
          : undefined;
        const run = await runTournament(configFile, { resume: flags.resume, retryErrors: flags.retryErrors, dir: flags.dir, shard, signal: stop.signal, onHumanJudge });
        if (voting && humans === 0) process.stderr.write("tslm: --vote: this config has no human judge, so there was nothing to vote on\n");
        const s = run.summary;
        const result = {
          dir: s.dir,
          id: run.meta.id,
          complete: run.meta.complete,
          battles: run.battles.length,
          errors: { answers: run.errors.answers.length, judgments: run.errors.judgments.length, battles: run.errors.battles.length },
          session: { played: s.played, answers: s.answers, judgments: s.judgments, battles: s.battles, elapsed_ms: s.elapsed_ms, specs_per_s: s.specs_per_s },
          cache: s.cache,
        };
        printResult(flags.json, result, () =>
          [
            `run ${run.meta.id} ${run.meta.complete ? "complete" : "incomplete"}: ${run.battles.length} battles in ${s.dir}`,
            `errors (recorded, never rated): ${result.errors.answers} answers, ${result.errors.judgments} judgments, ${result.errors.battles} undecided battles`,
            `this session: ${s.answers.new} answers and ${s.judgments.new} verdicts made, ${s.answers.cached + s.judgments.cached} from the cache, ` +
              `${s.answers.recorded + s.judgments.recorded} already recorded; ${(s.elapsed_ms / 1000).toFixed(1)} s`,
            `next: tslm arena leaderboard ${s.dir}`,
          ].join("\n"),
        );
        if (flags.failOnErrors && result.errors.battles > 0) process.exitCode = 3;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        // Open pages hear that the tournament is over before the server goes.
        await voting?.close();
      }
    });

  arena
    .command("merge")
    .description("Merge the run folders of one run played in shards (or on several machines) into a new run folder.")
    .argument("<out>", "new run folder")
    .argument("<runs...>", "run folders to merge")
    .option("--json", "print the merge result as one JSON object")
    .action(async (out: string, runs: string[], flags: { json?: boolean }) => {
      const { mergeRuns } = await import("../../arena/store/merge.js");
      const r = await mergeRuns(runs, out);
      printResult(flags.json, r, () =>
        `merged ${r.runs} run(s) into ${r.dir}: ${r.counts.battles} battles, ${r.counts.answers} answers, ${r.counts.judgments} judgments` +
        (r.complete ? "" : `; incomplete${r.missingShards.length ? ` (missing shards ${r.missingShards.join(", ")})` : ""}`),
      );
    });
}
