/**
 * Generation parameters sent to contestants, as in the OpenAI chat API.
 * Suites declare defaults; a run's config and each contestant may override them.
 */
import { z } from "../../util/config.js";

export const GenerationParamsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional().describe("Sampling temperature; unset = the endpoint's default."),
  top_p: z.number().gt(0).max(1).optional().describe("Nucleus sampling mass; unset = the endpoint's default."),
  max_tokens: z.number().int().positive().optional().describe("Answer length cap in tokens; unset = the endpoint's default."),
  stop: z.array(z.string()).optional().describe("Stop sequences."),
  presence_penalty: z.number().optional(),
  frequency_penalty: z.number().optional(),
  seed: z.number().int().optional().describe("Generation seed sent to the endpoint; unset = the run's seed, so reruns ask for the same samples."),
  extra: z.record(z.string(), z.unknown()).optional().describe("Extra request-body fields passed through as-is (e.g. Ollama 'options', vLLM 'top_k')."),
});

export type GenerationParams = z.output<typeof GenerationParamsSchema>;

/** Later layers override earlier ones, key by key (`extra` merged too). */
export function mergeParams(...layers: (GenerationParams | undefined)[]): GenerationParams {
  const out: GenerationParams = {};
  for (const l of layers) {
    if (!l) continue;
    for (const [k, v] of Object.entries(l)) {
      if (v === undefined) continue;
      if (k === "extra") out.extra = { ...out.extra, ...(v as Record<string, unknown>) };
      else (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}
