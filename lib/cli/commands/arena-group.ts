/**
 * The `tslm arena` command group. Its subcommands are registered by several
 * modules (running tournaments; rating and reporting), which all attach to
 * the one group returned here.
 */
import type { Command } from "commander";

export function arenaGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === "arena");
  if (existing) return existing;
  return program
    .command("arena")
    .description("Model-vs-model tournaments: run them, rate battles, write reports.");
}
