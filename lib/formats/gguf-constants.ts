/**
 * GGUF constants in one place: magic, versions, alignment, value types,
 * tensor types with their block geometry, and the metadata keys tslm writes.
 * Source: the GGUF specification (ggml/docs/gguf.md) and ggml's type traits
 * (ggml/src/ggml.c), which define these numbers.
 *
 * File layout (little-endian): magic u32 "GGUF", version u32, tensor_count
 * u64, kv_count u64, kv pairs (key string, value type u32, value), tensor
 * infos (name string, n_dims u32, ne[n_dims] u64, type u32, offset u64),
 * padding to `general.alignment`, then tensor data; each tensor's offset is
 * relative to the start of the data section and aligned. Strings are a u64
 * length plus UTF-8 bytes; arrays are item type u32, count u64, items.
 */

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
/** The version tslm writes. */
export const GGUF_VERSION = 3;
/** Versions tslm reads (v1 used 32-bit counts and is obsolete). */
export const GGUF_READABLE_VERSIONS: readonly number[] = [2, 3];
/** Alignment of the data section and of every tensor when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME (tensor names are shorter than this). */
export const GGUF_MAX_NAME = 64;

/** Metadata value types. */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Bytes of each fixed-size value type (STRING and ARRAY are variable). */
export const GGUF_VALUE_SIZE: Partial<Record<GgufValueType, number>> = {
  [GgufValueType.UINT8]: 1, [GgufValueType.INT8]: 1, [GgufValueType.UINT16]: 2, [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4, [GgufValueType.INT32]: 4, [GgufValueType.FLOAT32]: 4, [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8, [GgufValueType.INT64]: 8, [GgufValueType.FLOAT64]: 8,
};

/** ggml tensor types tslm knows the geometry of. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
}

/** Elements per block and bytes per block of each known type. */
export const GGML_BLOCK: Record<number, { blockSize: number; typeSize: number }> = {
  [GgmlType.F32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.F16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.Q4_0]: { blockSize: 32, typeSize: 18 },
  [GgmlType.Q4_1]: { blockSize: 32, typeSize: 20 },
  [GgmlType.Q5_0]: { blockSize: 32, typeSize: 22 },
  [GgmlType.Q5_1]: { blockSize: 32, typeSize: 24 },
  [GgmlType.Q8_0]: { blockSize: 32, typeSize: 34 },
  [GgmlType.Q8_1]: { blockSize: 32, typeSize: 36 },
  [GgmlType.Q2_K]: { blockSize: 256, typeSize: 84 },
  [GgmlType.Q3_K]: { blockSize: 256, typeSize: 110 },
  [GgmlType.Q4_K]: { blockSize: 256, typeSize: 144 },
  [GgmlType.Q5_K]: { blockSize: 256, typeSize: 176 },
  [GgmlType.Q6_K]: { blockSize: 256, typeSize: 210 },
  [GgmlType.Q8_K]: { blockSize: 256, typeSize: 292 },
  [GgmlType.I8]: { blockSize: 1, typeSize: 1 },
  [GgmlType.I16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.I32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.I64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.F64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.BF16]: { blockSize: 1, typeSize: 2 },
};

/** Name of a tensor type for messages ("Q8_0", or "type 99"). */
export function ggmlTypeName(type: number): string {
  return GgmlType[type] ?? `type ${type}`;
}

/** `general.file_type` values (llama.cpp's llama_ftype) for the types tslm exports. */
export const LLAMA_FILE_TYPE = { f32: 0, f16: 1, q8_0: 7 } as const;

/** llama.cpp's token types (`tokenizer.ggml.token_type`). */
export enum GgufTokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

/** Metadata keys tslm writes. `{arch}` is the architecture name. */
export const KEY = {
  architecture: "general.architecture",
  name: "general.name",
  alignment: "general.alignment",
  fileType: "general.file_type",
  quantizationVersion: "general.quantization_version",
  contextLength: (arch: string) => `${arch}.context_length`,
  embeddingLength: (arch: string) => `${arch}.embedding_length`,
  blockCount: (arch: string) => `${arch}.block_count`,
  feedForwardLength: (arch: string) => `${arch}.feed_forward_length`,
  headCount: (arch: string) => `${arch}.attention.head_count`,
  headCountKv: (arch: string) => `${arch}.attention.head_count_kv`,
  keyLength: (arch: string) => `${arch}.attention.key_length`,
  valueLength: (arch: string) => `${arch}.attention.value_length`,
  rmsEps: (arch: string) => `${arch}.attention.layer_norm_rms_epsilon`,
  ropeDimensionCount: (arch: string) => `${arch}.rope.dimension_count`,
  ropeFreqBase: (arch: string) => `${arch}.rope.freq_base`,
  ropeScalingType: (arch: string) => `${arch}.rope.scaling.type`,
  ropeScalingFactor: (arch: string) => `${arch}.rope.scaling.factor`,
  ropeScalingOrigCtx: (arch: string) => `${arch}.rope.scaling.original_context_length`,
  vocabSize: (arch: string) => `${arch}.vocab_size`,
  tokenizerModel: "tokenizer.ggml.model",
  tokenizerPre: "tokenizer.ggml.pre",
  tokens: "tokenizer.ggml.tokens",
  tokenType: "tokenizer.ggml.token_type",
  scores: "tokenizer.ggml.scores",
  merges: "tokenizer.ggml.merges",
  bosId: "tokenizer.ggml.bos_token_id",
  eosId: "tokenizer.ggml.eos_token_id",
  padId: "tokenizer.ggml.padding_token_id",
  unkId: "tokenizer.ggml.unknown_token_id",
  addBos: "tokenizer.ggml.add_bos_token",
  addEos: "tokenizer.ggml.add_eos_token",
  chatTemplate: "tokenizer.chat_template",
} as const;
