/**
 * A `tslm` command from a declaration: name, description, positional
 * arguments, the schema of its own options, and the function that runs it
 * with the options resolved. Commands whose settings come from a config
 * schema too (finetune, eval, pretrain, demo, the arena's rating flags) add
 * those flag sets as `more` and resolve them in `run`.
 */
import type { Command } from "commander";
import type { z } from "../util/config.js";
import { addFlags, flagsFromSchema, resolveFlags, type FlagOptions, type FlagSpec } from "./flags.js";

export interface CommandDeclaration<S extends z.ZodType, A extends unknown[]> {
  name: string;
  description: string;
  /** Positional arguments as commander writes them (`<file>`, `[config]`, `<runs...>`) with their help. */
  args?: [string, string][];
  /** The command's own options. */
  options: S;
  flags?: FlagOptions;
  /** Further flag sets (from config schemas) that `run` resolves itself. */
  more?: readonly (readonly FlagSpec[])[];
  run(options: z.output<S>, args: A, cmd: Command): Promise<void>;
}

/** Adds the command to `parent` and returns it. */
export function defineCommand<S extends z.ZodType, A extends unknown[] = string[]>(parent: Command, d: CommandDeclaration<S, A>): Command {
  const cmd = parent.command(d.name).description(d.description);
  for (const [name, help] of d.args ?? []) cmd.argument(name, help);
  for (const more of d.more ?? []) addFlags(cmd, more);
  const specs = flagsFromSchema(d.options, d.flags);
  addFlags(cmd, specs);
  // commander calls the action with the arguments, then the options object, then the command.
  cmd.action((...received: unknown[]) => {
    const c = received[received.length - 1] as Command;
    return d.run(resolveFlags(d.options, c, specs), received.slice(0, -2) as A, c);
  });
  return cmd;
}
