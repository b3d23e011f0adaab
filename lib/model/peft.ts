/**
 * LoRA adapters in Hugging Face PEFT's on-disk format, so adapters move
 * between tslm and PEFT both ways:
 *
 * - `adapter_config.json`: PEFT's LoraConfig fields (`peft_type` "LORA",
 *   `task_type` "CAUSAL_LM", `r`, `lora_alpha`, `lora_dropout`,
 *   `target_modules`, `use_rslora`, `rank_pattern`, `alpha_pattern`, ...).
 * - `adapter_model.safetensors`: `base_model.model.<module>.lora_A.weight`
 *   `[r, in]` and `...lora_B.weight` `[out, r]` (what PEFT's
 *   `get_peft_model_state_dict` saves: adapter name removed).
 *
 * Features tslm does not implement (DoRA, bias training, modules_to_save,
 * fan_in_fan_out, other PEFT types) are refused by name on load.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic.js";
import { readSafetensors, writeSafetensors, type HostTensor } from "../formats/safetensors.js";
import { pickleRefusal } from "../formats/checkpoint.js";
import { FormatError } from "../util/errors.js";
import type { CausalLM } from "./causal-lm.js";
import { LoraModel, type LoraConfig } from "./lora-model.js";
import type { LoraSettings } from "./lora.js";
import { readJsonFile } from "../util/files.js";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
/** Prefix PEFT puts before module names in saved adapters (PeftModel -> LoraModel -> the HF model). */
export const PEFT_PREFIX = "base_model.model.";

export interface SaveAdapterOptions {
  /** Adapter to save (default "default"). */
  adapterName?: string;
  /** Written as `base_model_name_or_path` (the base model's folder or hub id). */
  baseModelNameOrPath?: string | null;
}

/** The PEFT tensor name of a module's A or B matrix. */
export function peftTensorName(module: string, which: "A" | "B"): string {
  return `${PEFT_PREFIX}${module}.lora_${which}.weight`;
}

/** Short target names as PEFT lists them (`q_proj`, `v_proj`, ...), sorted. */
function shortTargets(modules: Iterable<string>): string[] {
  return [...new Set([...modules].map((m) => m.split(".").pop()!))].sort();
}

/** The adapter_config.json object for an adapter. */
export function adapterConfigJson(cfg: LoraConfig, modules: Iterable<string>, base: string | null, rankPattern: Record<string, number> = {}, alphaPattern: Record<string, number> = {}): Record<string, unknown> {
  return {
    alpha_pattern: alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: base,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: cfg.alpha,
    lora_dropout: cfg.dropout,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: cfg.r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: shortTargets(modules),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: cfg.useRslora,
  };
}

/**
 * Writes an adapter in PEFT's format into `dir` (created if needed); each file atomically.
 * @returns the files written.
 */
export function saveAdapter(dir: string, lora: LoraModel, options: SaveAdapterOptions = {}): string[] {
  const name = options.adapterName ?? "default";
  const cfg = lora.configs.get(name);
  if (!cfg) throw new FormatError(`no adapter '${name}' to save; adapters: ${lora.adapterNames().join(", ")}`, { key: name });
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, HostTensor>();
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const weights = lora.adapterWeights(name);
  for (const [module, w] of weights) {
    tensors.set(peftTensorName(module, "A"), w.A);
    tensors.set(peftTensorName(module, "B"), w.B);
    const s = lora.layers.get(module)!.adapters.get(name)!.settings;
    if (s.r !== cfg.r) rankPattern[module] = s.r;
    if (s.alpha !== cfg.alpha) alphaPattern[module] = s.alpha;
  }
  const weightsFile = join(dir, ADAPTER_WEIGHTS_FILE);
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  writeSafetensors(weightsFile, tensors);
  writeJsonAtomic(configFile, adapterConfigJson(cfg, weights.keys(), options.baseModelNameOrPath ?? null, rankPattern, alphaPattern));
  return [configFile, weightsFile];
}

/** PEFT's pattern lookup: the first key k with `(.*\.)?k$` matching the module. */
function patternValue(pattern: Record<string, unknown> | undefined, module: string): number | undefined {
  if (!pattern) return undefined;
  for (const [k, v] of Object.entries(pattern)) if (new RegExp(`^(.*\\.)?(?:${k})$`).test(module) && typeof v === "number") return v;
  return undefined;
}

export interface LoadAdapterOptions {
  /** Name the loaded adapter gets (default "default", or a fresh name if taken). */
  adapterName?: string;
}

function readJson(file: string): Record<string, unknown> {
  const v = readJsonFile(file);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new FormatError("adapter config must be a JSON object", { file });
  return v as Record<string, unknown>;
}

/** PEFT config keys that, when set, change what the adapter computes; tslm refuses them by name. */
const UNSUPPORTED_VARIANTS: [string, string][] = [
  ["use_qalora", "QALoRA (pooled adapter inputs)"],
  ["alora_invocation_tokens", "activated LoRA (aLoRA)"],
  ["layer_replication", "layer replication"],
  ["arrow_config", "Arrow routing among adapters"],
  ["kasa_config", "KaSA"],
  ["use_bdlora", "block-diagonal LoRA"],
  ["monteclora_config", "MonteCLoRA"],
  ["target_parameters", "LoRA on bare parameters (target_parameters)"],
  ["trainable_token_indices", "trainable token embeddings"],
];

/** Checks the config fields tslm relies on; unsupported PEFT features are refused by name. */
function parseAdapterConfig(json: Record<string, unknown>, file: string): LoraConfig & { layers: number[] | null; rankPattern: Record<string, unknown>; alphaPattern: Record<string, unknown> } {
  const bad = (key: string, what: string): never => {
    throw new FormatError(`${key}: ${what}`, { file, key });
  };
  if (json.peft_type !== "LORA") bad("peft_type", `only "LORA" adapters are supported, got ${JSON.stringify(json.peft_type)}`);
  if (json.task_type !== undefined && json.task_type !== null && json.task_type !== "CAUSAL_LM") bad("task_type", `expected "CAUSAL_LM", got ${JSON.stringify(json.task_type)}`);
  const r = json.r;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 1) bad("r", `must be a positive integer, got ${JSON.stringify(r)}`);
  const alpha = json.lora_alpha ?? 8;
  if (typeof alpha !== "number") bad("lora_alpha", `must be a number, got ${JSON.stringify(alpha)}`);
  const dropout = json.lora_dropout ?? 0;
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1) bad("lora_dropout", `must be in [0, 1), got ${JSON.stringify(dropout)}`);
  if (json.use_dora === true) bad("use_dora", "DoRA adapters are not supported by tslm");
  if (json.fan_in_fan_out === true) bad("fan_in_fan_out", "transposed (Conv1D) weights are not supported; LLaMA-family models use false");
  if (json.bias !== undefined && json.bias !== "none") bad("bias", `only "none" is supported, got ${JSON.stringify(json.bias)}`);
  if (Array.isArray(json.modules_to_save) && json.modules_to_save.length > 0) bad("modules_to_save", "fully trained extra modules are not supported");
  if (json.lora_bias === true) bad("lora_bias", "LoRA bias terms are not supported");
  // Variants of recent PEFT versions whose forward pass differs from plain LoRA.
  for (const [key, what] of UNSUPPORTED_VARIANTS) {
    const v = json[key];
    if (v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) bad(key, `${what} is not supported by tslm`);
  }
  const layers = json.layers_to_transform;
  let layerList: number[] | null = null;
  if (typeof layers === "number") layerList = [layers];
  else if (Array.isArray(layers)) layerList = layers.map(Number);
  else if (layers !== null && layers !== undefined) bad("layers_to_transform", `expected null, a number or a list, got ${JSON.stringify(layers)}`);
  const tm = json.target_modules;
  if (!(tm === null || tm === undefined || typeof tm === "string" || (Array.isArray(tm) && tm.every((t) => typeof t === "string")))) {
    bad("target_modules", `expected a list of names or a regular expression, got ${JSON.stringify(tm)}`);
  }
  return {
    r: r as number,
    alpha: alpha as number,
    dropout: dropout as number,
    useRslora: json.use_rslora === true,
    targetModules: (tm as string[] | string | null | undefined) ?? null,
    layers: layerList,
    rankPattern: (json.rank_pattern as Record<string, unknown>) ?? {},
    alphaPattern: (json.alpha_pattern as Record<string, unknown>) ?? {},
  };
}

const TENSOR_NAME = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

/**
 * Loads a PEFT LoRA adapter from `dir` onto a model (attaching LoRA first if
 * needed). Module names, shapes and config are checked; every tensor must be
 * used and every target module must have both matrices.
 * @returns the LoraModel with the loaded adapter active.
 */
export function loadAdapter(dir: string, target: CausalLM | LoraModel, options: LoadAdapterOptions = {}): LoraModel {
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configFile)) throw new FormatError(`no ${ADAPTER_CONFIG_FILE} in the adapter folder`, { file: dir });
  const weightsFile = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(weightsFile)) {
    if (existsSync(join(dir, "adapter_model.bin"))) throw pickleRefusal(join(dir, "adapter_model.bin"));
    throw new FormatError(`no ${ADAPTER_WEIGHTS_FILE} in the adapter folder`, { file: dir });
  }
  const cfg = parseAdapterConfig(readJson(configFile), configFile);
  const { tensors } = readSafetensors(weightsFile);
  const model = target instanceof LoraModel ? target.model : target;
  const known = new Set(model.linearNames());
  const parts = new Map<string, { A?: HostTensor; B?: HostTensor }>();
  for (const [name, t] of tensors) {
    const m = TENSOR_NAME.exec(name);
    if (!m) throw new FormatError(`unexpected tensor '${name}' in a LoRA adapter (DoRA magnitudes, embeddings and biases are not supported)`, { file: weightsFile, key: name });
    const [, module, which] = m;
    if (!known.has(module)) throw new FormatError(`tensor '${name}' is for module '${module}', which this model does not have`, { file: weightsFile, key: name });
    const entry = parts.get(module) ?? {};
    entry[which as "A" | "B"] = t;
    parts.set(module, entry);
  }
  if (parts.size === 0) throw new FormatError("the adapter holds no LoRA tensors", { file: weightsFile });
  const weights = new Map<string, { A: Float32Array; B: Float32Array }>();
  const perModule = new Map<string, Partial<LoraSettings>>();
  for (const [module, { A, B }] of parts) {
    if (!A || !B) throw new FormatError(`module '${module}' has lora_${A ? "A" : "B"} but no lora_${A ? "B" : "A"}`, { file: weightsFile, key: module });
    const lin = model.getLinear(module);
    const r = patternValue(cfg.rankPattern, module) ?? cfg.r;
    const alpha = patternValue(cfg.alphaPattern, module) ?? cfg.alpha;
    if (A.shape.join() !== [r, lin.inFeatures].join()) throw new FormatError(`'${peftTensorName(module, "A")}' has shape [${A.shape}], expected [${r}, ${lin.inFeatures}]`, { file: weightsFile, key: module });
    if (B.shape.join() !== [lin.outFeatures, r].join()) throw new FormatError(`'${peftTensorName(module, "B")}' has shape [${B.shape}], expected [${lin.outFeatures}, ${r}]`, { file: weightsFile, key: module });
    weights.set(module, { A: A.data as Float32Array, B: B.data as Float32Array });
    perModule.set(module, { r, alpha });
  }
  const loraCfg: LoraConfig = { r: cfg.r, alpha: cfg.alpha, dropout: cfg.dropout, useRslora: cfg.useRslora, targetModules: [...weights.keys()] };
  const opts = { weights, moduleSettings: (m: string) => perModule.get(m) ?? {} };
  if (target instanceof LoraModel) {
    let name = options.adapterName ?? "default";
    if (!options.adapterName) for (let k = 1; target.configs.has(name); k++) name = `adapter_${k}`;
    target.addAdapter(name, loraCfg, opts);
    return target;
  }
  return new LoraModel(model, loraCfg, { ...opts, adapterName: options.adapterName ?? "default" });
}
