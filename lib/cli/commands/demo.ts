/**
 * `tslm demo` (what `npm start` runs): fine-tune the embedded model with
 * LoRA and QLoRA, play base vs fine-tuned variants on the held-out skills
 * suite, rate them and write the report. Ctrl-C stops cleanly; running the
 * demo again continues where it stopped and reuses everything finished.
 *
 * Exit status: 0 done, 1 failure, 2 usage error, 3 with `--check` when a
 * fine-tuned variant does not rank above the base with non-overlapping
 * intervals, 130 when stopped.
 */
import type { Command } from "commander";
import type { DemoResult } from "../../demo/run.js";
import { ConfigError } from "../../util/errors.js";
import { printResult } from "../output.js";

interface DemoFlags {
  out?: string;
  json?: boolean;
  fast?: boolean;
  model?: string;
  suite?: string;
  cache?: string;
  id?: string;
  seed?: string;
  prompts?: string;
  bootstrap?: string;
  epochs?: string;
  llmJudge?: boolean;
  check?: boolean;
}

function number(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new ConfigError(`${flag} expects ${integer ? "an integer" : "a number"}, got '${v}'`, { key: flag });
  return n;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("The whole workbench on the embedded model: fine-tune (LoRA, QLoRA), play a tournament, rate, write the report.")
    .option("--out <dir>", "folder for run folders (the demo writes OUT/<id>/)", "runs")
    .option("--json", "print one JSON object: leaderboard, paths, timings")
    .option("--fast", "a reduced but real demo: fewer training steps, 3 models, 24 prompts, 200 bootstrap rounds")
    .option("--model <dir>", "base model folder (default: the embedded models/tslm-tiny)")
    .option("--suite <name|dir>", "eval suite (default: the embedded skills suite)")
    .option("--cache <dir>", "adapter and answer cache", ".cache/tslm-demo")
    .option("--id <id>", "run id (default: demo-<hash of the settings>, so a rerun continues the same run)")
    .option("--seed <n>", "seed of training, tournament and bootstrap")
    .option("--prompts <n>", "play only the first N prompts")
    .option("--bootstrap <n>", "bootstrap rounds for the intervals")
    .option("--epochs <n>", "training epochs of every adapter")
    .option("--no-llm-judge", "never add an LLM judge, even when OPENAI_BASE_URL is set")
    .option("--check", "exit with status 3 unless every fine-tuned variant ranks above the base with non-overlapping intervals")
    .action(async (flags: DemoFlags) => {
      const epochs = number("--epochs", flags.epochs, false);
      const input = {
        out: flags.out,
        cache: flags.cache,
        fast: flags.fast ?? false,
        model: flags.model ?? null,
        suite: flags.suite ?? null,
        id: flags.id ?? null,
        seed: number("--seed", flags.seed, true),
        prompts: number("--prompts", flags.prompts, true),
        bootstrap: number("--bootstrap", flags.bootstrap, true),
        ...(epochs !== undefined ? { train: { epochs } } : {}),
        ...(flags.llmJudge === false ? { llmJudge: false as const } : {}),
      };
      const { runDemo, demoJson, formatDemo } = await import("../../demo/index.js");
      const ctl = new AbortController();
      const onSigint = () => {
        process.stderr.write("\ntslm: stopping (training keeps its last checkpoint, the tournament what it played); run `tslm demo` again to continue\n");
        ctl.abort(new ConfigError("the demo was stopped"));
      };
      process.once("SIGINT", onSigint);
      let result: DemoResult;
      try {
        result = await runDemo(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)), { signal: ctl.signal });
      } catch (e) {
        if (ctl.signal.aborted) {
          process.stderr.write(`tslm: stopped: ${(e as Error).message}\n`);
          process.exitCode = 130;
          return;
        }
        throw e;
      } finally {
        process.removeListener("SIGINT", onSigint);
      }
      printResult(flags.json, demoJson(result), () => formatDemo(result));
      if (flags.check && !result.separation.every((s) => s.above)) process.exitCode = 3;
    });
}
