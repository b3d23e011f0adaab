/**
 * A tiny, fully deterministic fine-tuning setup for the trainer tests: a
 * byte-level BPE tokenizer trained on part of the embedded corpus and a
 * 2-layer LLaMA model (width 64, so every layer can be 4-bit quantized),
 * with the embedded skills as training and validation records.
 */
import { embeddedSkills, pretrainingCorpus, taskRecords } from "../../lib/data/embedded/index.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import type { Tokenizer } from "../../lib/tokenizer/tokenizer.js";
import { createModel, defineConfig } from "../../lib/model/create.js";
import type { CausalLM } from "../../lib/model/causal-lm.js";
import { PRETRAIN_SPECIAL_TOKENS, LLM_STUDIO_CHAT_TEMPLATE } from "../../lib/train/pretrain.js";

let cached: Tokenizer | undefined;

export function tinyTokenizer(): Tokenizer {
  if (cached) return cached;
  const sk = embeddedSkills();
  const docs = pretrainingCorpus(sk.tasks, 1, { repeats: 1 });
  cached = trainBpeTokenizer(docs, {
    vocabSize: 320,
    specialTokens: PRETRAIN_SPECIAL_TOKENS,
    eosToken: "<|endoftext|>",
    padToken: "<|endoftext|>",
    bosToken: null,
    chatTemplate: LLM_STUDIO_CHAT_TEMPLATE,
  }).tokenizer;
  return cached;
}

export function tinyModel(seed = 1): CausalLM {
  const tok = tinyTokenizer();
  const cfg = defineConfig({
    vocabSize: tok.vocabSize, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 128,
    tieWordEmbeddings: true, maxPositionEmbeddings: 128, eosTokenIds: [tok.eosTokenId!], bosTokenId: null,
  });
  const model = createModel(cfg, { seed, initStd: 0.05 });
  model.tokenizer = tok;
  return model;
}

/** Short skill records: `train` (24) and `validation` (6). */
export function tinyRecords(): { train: Record<string, string>[]; validation: Record<string, string>[] } {
  const sk = embeddedSkills();
  return { train: taskRecords(sk.train.slice(0, 24)), validation: taskRecords(sk.heldOut.slice(0, 6)) };
}
