/**
 * The list of `tslm` commands. Each module exports `register(program)` and
 * keeps heavy imports (TensorFlow.js, vega) inside its action handlers via
 * `await import(...)`, so `tslm --help` stays fast. Subsystems add one import
 * line and one array entry each.
 */
import type { Command } from "commander";
import * as arenaRun from "./arena-run.js";
import * as arenaReport from "./arena-report.js";
import * as generate from "./generate.js";
import * as exportCmd from "./export.js";
import * as inspect from "./inspect.js";
import * as doctor from "./doctor.js";
import * as kernel from "./kernel.js";
import * as notebook from "./notebook.js";
import * as finetune from "./finetune.js";
import * as evalCmd from "./eval.js";
import * as pretrain from "./pretrain.js";
import * as demo from "./demo.js";
import * as estimate from "./estimate.js";

interface CommandModule {
  register(program: Command): void;
}

const commandModules: CommandModule[] = [arenaRun, arenaReport, generate, exportCmd, inspect, doctor, kernel, notebook, finetune, evalCmd, pretrain, demo, estimate];

export function registerAll(program: Command): void {
  for (const m of commandModules) m.register(program);
}
