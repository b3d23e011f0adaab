/**
 * The `tslm` command line. Each command lives in `commands/<name>.ts` and
 * exports `register(program)`; `commands/index.ts` lists them.
 */
import { Command, CommanderError } from "commander";
import { registerAll } from "./commands/index.js";
import { reportFailure } from "./output.js";
import { packageInfo } from "../util/package.js";

/** Builds the program (exposed for tests, which call commands in-process). */
export function createProgram(): Command {
  const program = new Command("tslm")
    .description("A TypeScript workbench for large language models: fine-tune, compare, rate and report.")
    .version(packageInfo().version, "-V, --version")
    .showHelpAfterError()
    .exitOverride();
  registerAll(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script). Sets process.exitCode on failure. */
export async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit with code 0; usage errors with 2.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportFailure(e);
  }
}
