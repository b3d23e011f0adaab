/**
 * `tslm demo` (what `npm start` runs): fine-tune the embedded model with
 * LoRA and QLoRA, play base vs fine-tuned variants on the held-out skills
 * suite, rate them and write the report. Ctrl-C stops cleanly; running the
 * demo again continues where it stopped and reuses everything finished.
 * Every key of the demo config (lib/demo/config.ts) is a flag, the training
 * settings without a prefix (`--epochs`, `--lr`).
 *
 * Exit status: 0 done, 1 failure, 2 usage error, 3 with `--check` when a
 * fine-tuned variant does not rank above the base with non-overlapping
 * intervals, 130 when stopped.
 */
import type { Command } from "commander";
import { interruptible, printResult } from "../output.js";
import { flagValues, flagsFromSchema } from "../flags.js";
import { defineCommand } from "../command.js";
import { JSON_FLAG } from "../common-flags.js";
import { RatingOptionsSchema } from "../../arena/ratings/options.js";
import { z } from "../../util/config.js";
import { DemoConfigSchema } from "../../demo/config.js";

/** The bound the rating options put on bootstrap rounds holds for the demo's rounds too. */
const MAX_BOOTSTRAP = RatingOptionsSchema.shape.bootstrap.unwrap().maxValue ?? undefined;

/** The line-up of variants is a list of objects: it is set in the library or a notebook, not by flags. */
const DEMO_SPECS = flagsFromSchema(DemoConfigSchema, {
  groups: { train: "" },
  skip: ["variants"],
  hints: { model: "<dir>", suite: "<name|dir>", out: "<dir>", cache: "<dir>", id: "<id>" },
  custom: { llmJudge: { negated: true, parse: () => false } },
  describe: { llmJudge: "never add an LLM judge, even when OPENAI_BASE_URL is set" },
  max: MAX_BOOTSTRAP !== undefined ? { bootstrap: MAX_BOOTSTRAP } : {},
});
export function register(program: Command): void {
  defineCommand(program, {
    name: "demo",
    description: "The whole workbench on the embedded model: fine-tune (LoRA, QLoRA), play a tournament, rate, write the report.",
    options: z.strictObject({
      ...JSON_FLAG,
      check: z.boolean().default(false).describe("exit with status 3 unless every fine-tuned variant ranks above the base with non-overlapping intervals"),
    }),
    more: [DEMO_SPECS],
    async run(flags, _args: [], cmd) {
      // Only the settings given: the demo applies --fast's reductions to the rest.
      const input = flagValues(cmd, DEMO_SPECS);
      const { runDemo, demoJson, formatDemo } = await import("../../demo/index.js");
      const result = await interruptible("stopping (training keeps its last checkpoint, the tournament what it played); run `tslm demo` again to continue", (signal) =>
        runDemo(input, { signal }),
      );
      if (!result) return;
      printResult(flags.json, demoJson(result), () => formatDemo(result));
      if (flags.check && !result.separation.every((s) => s.above)) process.exitCode = 3;
    },
  });
}
