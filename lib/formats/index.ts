/** Public API of lib/formats (re-exported from the package root). */
export * from "./hf-config.js";
export {
  readSafetensors, readSafetensorsHeader, writeSafetensors, MAX_HEADER_BYTES, SAFETENSORS_DTYPE_BYTES,
  type HostTensor, type StorageDtype, type SafetensorsEntry, type SafetensorsHeader,
} from "./safetensors.js";
export { readCheckpoint, writeCheckpoint, checkpointFiles, checkpointSummary, pickleRefusal, type WriteCheckpointOptions } from "./checkpoint.js";
export { halfToFloat, floatToHalf, bf16ToFloat, floatToBf16 } from "./dtype.js";
export * from "./gguf-constants.js";
export { GgufWriter, GgufWriterError, type GgufValue, type WriterState } from "./gguf-writer.js";
export { readGguf, readGgufTensor, ggufValue, type GgufFile, type GgufTensorInfo, type GgufMetadataValue } from "./gguf-reader.js";
export { encodeGgml, decodeGgml, ggmlByteLength } from "./gguf-quant.js";
export { ggufVocabFromHf, hfTokenizerFromGguf, placeholderVocab, type GgufVocab, type HfTokenizerFiles } from "./gguf-vocab.js";
export { inspectPath, formatInspection, type Inspection, type TensorSummary } from "./inspect.js";
