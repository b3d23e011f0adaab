/**
 * The list of `tslm` commands. Each module exports `register(program)` and
 * keeps heavy imports (TensorFlow.js, vega) inside its action handlers via
 * `await import(...)`, so `tslm --help` stays fast. Subsystems add one import
 * line and one array entry each.
 */
import type { Command } from "commander";
import * as arenaRun from "./arena-run.js";

interface CommandModule {
  register(program: Command): void;
}

const commandModules: CommandModule[] = [arenaRun];

export function registerAll(program: Command): void {
  for (const m of commandModules) m.register(program);
}
