/**
 * The two files of a suite folder (`eval-suites/<name>/`):
 *
 * `suite.yaml`
 * ```yaml
 * name: general              # required; the folder's suite name
 * version: "1.0"             # required; bump when prompts change
 * description: ...           # required
 * categories: [math, ...]    # required; every prompt's category must be listed
 * prompts: prompts.jsonl     # optional; the prompts file, inside the folder (or an absolute path)
 * judge: {type: llm, ...}    # optional; default judge settings (see judges/config.ts); a run's
 *                            # judge of the same type is laid over them key by key
 * generation: {max_tokens: 512}  # optional; default generation parameters
 * category_generation: {math: {temperature: 0}}  # optional; per-category defaults
 * ```
 *
 * `prompts.jsonl`: one object a line,
 * `{"id", "category", "prompt" | "messages", "reference"?, "tags"?}`.
 */
import { z } from "../../util/config.js";
import { GenerationParamsSchema } from "../contestants/params.js";

export const SuiteFileSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' or '-'").describe("Suite name, as used in run configs."),
  version: z.union([z.string(), z.number()]).transform(String).describe("Suite version; part of the suite hash."),
  description: z.string().min(1),
  categories: z.array(z.string().min(1)).min(1).describe("Allowed prompt categories."),
  prompts: z.string().min(1).default("prompts.jsonl").describe("Prompts file, relative to the suite folder and inside it, or an absolute path."),
  judge: z.record(z.string(), z.unknown()).optional().describe("Default judge config for runs on this suite."),
  generation: GenerationParamsSchema.optional().describe("Default generation parameters for runs on this suite."),
  category_generation: z
    .record(z.string(), GenerationParamsSchema)
    .optional()
    .describe("Per-category generation defaults over `generation` (MT-Bench samples math and coding at temperature 0, writing at 0.7)."),
});

export type SuiteFile = z.output<typeof SuiteFileSchema>;

const MessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});

export const PromptLineSchema = z
  .strictObject({
    id: z.union([z.string().min(1), z.number().int()]).transform(String),
    category: z.string().min(1),
    prompt: z.string().min(1).optional(),
    messages: z.array(MessageSchema).min(1).optional(),
    reference: z.union([z.string(), z.number()]).transform(String).optional(),
    tags: z.array(z.string()).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.prompt === undefined) === (p.messages === undefined)) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: "give exactly one of 'prompt' or 'messages'" });
    }
    if (p.messages && p.messages[p.messages.length - 1].role !== "user") {
      ctx.addIssue({ code: "custom", path: ["messages", p.messages.length - 1, "role"], message: "the last message must be from the user" });
    }
  });
