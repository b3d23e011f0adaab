/** Public API of lib/tokenizer (re-exported from the package root). */
export {
  Tokenizer, loadTokenizer, saveTokenizer,
  type ChatMessage, type ChatTemplateOptions, type EncodeOptions, type EncodeBatchOptions, type BatchEncoding,
} from "./tokenizer.js";
export { trainBpeTokenizer, CHATML_TEMPLATE, type BpeTrainerOptions, type TrainedBpe } from "./bpe-trainer.js";
export { toByteLevel, fromByteLevel, byteAlphabet, preTokenize, GPT2_PATTERN } from "./byte-level.js";
