/**
 * Public API of lib/model (re-exported from the package root).
 *
 * ## Models
 * - `defineConfig({ vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, ...rest }): LlamaConfig`
 *   fills every other field with documented defaults. `LlamaConfig`, `configFromHf(json, file?)`
 *   and `configToHf(cfg)` come from lib/formats (camelCase of config.json).
 * - `createModel(config | configInput, { seed?, random?, initStd? = 0.02 }): CausalLM` random init
 *   (linear/embedding ~ N(0, initStd), biases 0, norms 1); same seed, same weights.
 * - `await loadModel(dir, { tokenizer? }): CausalLM` reads config.json (+ generation_config.json
 *   EOS ids), model.safetensors or sharded `model.safetensors.index.json`, and tokenizer files
 *   (`model.tokenizer`). Pickled `.bin` checkpoints are refused.
 * - `await saveModel(model, dir, { dtype?: "F32" | "F16" | "BF16", maxShardBytes? }): string[]`
 *   writes the same layout atomically and returns the files written.
 * - `parameterCount(model)`, `memoryReport(model)`, `configParameterCount(cfg)`.
 *
 * ## CausalLM
 * - Weights are `tf.Variable`s keyed by Hugging Face names (`model.embed_tokens.weight`,
 *   `model.layers.0.input_layernorm.weight`, `model.norm.weight`, ...), layout `[out, in]`.
 * - Every projection is a `Linear` (`{ name, inFeatures, outFeatures, apply(x), variables?(),
 *   dense?(), dispose?() }`) stored under its PEFT module name
 *   (`model.layers.{i}.self_attn.{q,k,v,o}_proj`, `model.layers.{i}.mlp.{gate,up,down}_proj`,
 *   `lm_head`): `model.linearNames()`, `model.getLinear(name)`, `model.setLinear(name, linear)`
 *   (returns the old one; the caller disposes it). `DenseLinear` computes
 *   `tf.matMul(x, W, false, true) (+ b)`. A tied head is a `DenseLinear` sharing the
 *   embedding variable (`shared = true`).
 * - `model.forward(inputIds [B,T] int32 | number[][], { cache?, training?, lastOnly? })
 *   -> logits [B,T,V]` (`[B,1,V]` with lastOnly). `model.hidden(...)` -> `[B,T,D]` after
 *   the final norm.
 * - `model.loss(inputIds, labels, { shifted? = false }) -> scalar`: token-averaged
 *   cross-entropy over labels != -100 (`IGNORE_INDEX`); by default labels are aligned with
 *   inputIds as in Hugging Face (position t predicts labels[t+1]); `shifted: true` means
 *   labels[t] is already position t's target. 0 when no label counts.
 * - `model.tokenLogProbs(inputIds, labels, { shifted? }) -> [B, T']` per-token log-probs
 *   (0 at ignored positions), for DPO-style objectives.
 * - `model.variables()`, `model.trainableVariables()` (those with `trainable === true`),
 *   `model.namedParameters()`, `model.weightsToHost()`, `model.createCache()`, `model.dispose()`.
 * - Forward and loss run inside `tf.tidy` and are differentiable with `tf.variableGrads`;
 *   call `await ensureGradients()` once (or the backend setup) so TF.js has its gradients.
 *
 * ## Generation
 * `await generate(model, tokenizer | null, prompt: string | ChatMessage[] | { ids }, options)`
 * with options `{ maxNewTokens = 128, temperature = 0 (greedy), topK = 0, topP = 1,
 * repetitionPenalty = 1, stop?: string[], stopTokenIds?, seed = 0 | random: Random,
 * onText?(delta), onToken?(id), useCache = true, chat?: { addGenerationPrompt = true, ... },
 * addSpecialTokens = true, signal? }` -> `{ text, tokenIds, promptTokenIds, finishReason:
 * "eos" | "stop" | "length" | "aborted", usage, timings }`. Generation stops on the
 * config's EOS ids and the tokenizer's EOS token.
 *
 * `await generateBatch(model, tokenizer, prompts[], { ...shared options, rows?: per-row
 * options[], batchSize = 32, onText?(i, delta), onToken?(i, id), onResult?(i, result), signal? })`
 * -> results in the prompts' order: the prompts share one KV cache and one forward pass per
 * step (left-padded, per-row positions and masks), rows end on their own and leave the batch,
 * and waiting prompts join as rows free up. Each row gives what `generate` gives for it alone.
 * `createGenerationQueue(model, tokenizer, { batchSize, schedule })` batches prompts submitted
 * one at a time by concurrent callers (arena contestants).
 *
 * ## GGUF
 * `exportGguf(model, file, { type: "f32" | "f16" | "q8_0", tokenizer? })` writes a llama.cpp
 * model file (see export-gguf.ts).
 */
export { CausalLM, IGNORE_INDEX, type ForwardOptions, type LossOptions, type WeightStorage } from "./causal-lm.js";
export { checkpointSource, hostSource, type WeightSource } from "./weight-source.js";
export { DenseLinear, linearForward, releaseDense, type Linear } from "./linear.js";
export { KVCache } from "./kv-cache.js";
export { createModel, defineConfig, type ConfigInput, type CreateModelOptions } from "./create.js";
export { loadModel, saveModel, readModelConfig, type LoadModelOptions, type SaveModelOptions } from "./io.js";
export { parameterCount, memoryReport, formatCount, type MemoryReport } from "./memory.js";
export { expectedWeights, linearSpecs, configParameterCount, LAYER_PROJECTIONS, type LinearSpec } from "./weights.js";
export { generate, prepareJob, jobResult, promptIds, type GenerateOptions, type GenerateResult, type FinishReason, type Prompt } from "./generate.js";
export { contextLength, checkMaxNewTokens, fitContext, checkLoraRank, ContextLengthError, DEFAULT_MAX_NEW_TOKENS, TRUNCATE_MODES, type Truncate, type FitOptions, type FittedPrompt } from "./limits.js";
export { estimateMemory, formatEstimate, formatBytes, MEMORY_CONSTANTS, MEMORY_TERMS, ESTIMATE_METHODS, ESTIMATE_QUANTIZATIONS, type EstimateOptions, type MemoryEstimate, type PhaseEstimate, type MemoryTerms, type MemoryConstants, type EstimateMethod, type EstimateQuantization } from "./estimate.js";
export { generateBatch, type GenerateBatchOptions, type RowOptions } from "./generate-batch.js";
export { BatchDecoder, type BatchJob, type BatchDecoderOptions, type BatchStats } from "./batch-decoder.js";
export { Sequence, type SequenceRules } from "./sequence.js";
export { createGenerationQueue, type GenerationQueue, type GenerationQueueOptions } from "./generation-queue.js";
export { selectToken, candidateDistribution, applyRepetitionPenalty, type SamplingOptions } from "./sampling.js";
export { ensureGradients, gradientsRegistered } from "./gradients.js";
export { rmsNorm, embeddingLookup, nllRows } from "./ops.js";
export { inverseFrequencies, ropeFrequencyFactors } from "./rope.js";
export { exportGguf, permuteForGgufRope, unpermuteFromGgufRope, type ExportGgufOptions, type ExportGgufResult, type GgufExportType } from "./export-gguf.js";
export { loadGgufModel, type LoadGgufOptions } from "./import-gguf.js";
export { LoraLinear, loraScaling, type LoraSettings, type LoraContext, type LoraWeights } from "./lora.js";
export { LoraModel, DEFAULT_LORA, isTargetModule, type LoraConfig, type NamedVariable, type AddAdapterOptions } from "./lora-model.js";
export { saveAdapter, loadAdapter, adapterConfigJson, peftTensorName, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, PEFT_PREFIX, type SaveAdapterOptions, type LoadAdapterOptions } from "./peft.js";
export { QuantizedLinear, quantizeHost, dequantizeHost, dequantize, dequantizeOps, packWeight, packedBytes, NF4_TABLE, QUANT_BLOCK, type QuantKind } from "./quant.js";
export { quantizeModel, baseMemory, type Quantization, type QuantizeOptions, type QuantizeReport, type BaseMemoryReport } from "./quantize-model.js";
