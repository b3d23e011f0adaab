/**
 * A contestant whose answers already exist in a JSONL file, so users can rank
 * outputs they have (from another eval, another tool, a human writer).
 * Each line: `{"prompt_id": "...", "text": "..."}`; `question_id` or `id`
 * may name the prompt, `answer`, `output` or `response` may hold the text, and
 * an optional `model` field lets one file hold several models.
 */
import { DataError } from "../../util/errors.js";
import { parseJsonStrict, readTextFile } from "../../util/files.js";
import { contentHash } from "../store/hash.js";
import type { Contestant, ContestantRequest, ContestantAnswer } from "./types.js";
import type { AnswersContestantConfig } from "./config.js";

const ID_FIELDS = ["prompt_id", "question_id", "id"] as const;
const TEXT_FIELDS = ["text", "answer", "output", "response"] as const;

/** Reads an answers file into prompt id -> text, checking every line. */
export function readAnswersFile(file: string, model?: string): Map<string, string> {
  const text = readTextFile(file, "answers file");
  const out = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (!raw) continue;
    const line = i + 1;
    let v: Record<string, unknown>;
    try {
      v = parseJsonStrict(raw) as Record<string, unknown>;
    } catch (e) {
      throw new DataError(`not valid JSON: ${(e as Error).message}`, { file, line });
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new DataError("expected a JSON object", { file, line });
    if (model !== undefined && v.model !== model) continue;
    const idKey = ID_FIELDS.find((k) => v[k] !== undefined);
    if (!idKey || (typeof v[idKey] !== "string" && typeof v[idKey] !== "number")) {
      throw new DataError(`no prompt id: expected a string field ${ID_FIELDS.join(", ")}`, { file, line, key: "prompt_id" });
    }
    const textKey = TEXT_FIELDS.find((k) => v[k] !== undefined);
    if (!textKey || typeof v[textKey] !== "string") {
      throw new DataError(`no answer text: expected a string field ${TEXT_FIELDS.join(", ")}`, { file, line, key: textKey ?? "text" });
    }
    const id = String(v[idKey]);
    if (out.has(id)) throw new DataError(`second answer for prompt '${id}'${model ? ` (model ${model})` : ""}`, { file, line, key: idKey });
    out.set(id, v[textKey] as string);
  }
  return out;
}

/** @param file where to read `cfg.path` from (resolved); messages name `cfg.path` as written. */
export function createAnswersFileContestant(cfg: AnswersContestantConfig, file: string = cfg.path): Contestant {
  const answers = readAnswersFile(file, cfg.model);
  return {
    name: cfg.name,
    type: "answers",
    identity: { type: "answers", model: cfg.model, content: contentHash([...answers.entries()].sort()) },
    cacheable: false,
    async generate(req: ContestantRequest): Promise<ContestantAnswer> {
      const text = answers.get(req.prompt.id);
      if (text === undefined) throw new DataError(`answers file has no answer for prompt '${req.prompt.id}'${cfg.model ? ` (model ${cfg.model})` : ""}`, { file: cfg.path });
      return { text, latency_ms: 0 };
    },
  };
}
