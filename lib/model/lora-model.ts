/**
 * LoRA on a whole model: wraps the chosen linear layers in `LoraLinear`,
 * freezes the base, and manages named adapters (add, switch, disable, merge,
 * unmerge, remove) the way PEFT's `PeftModel` does.
 *
 * Defaults are H2O LLM Studio's: r 4, alpha 16, dropout 0.05, every linear
 * layer except the LM head.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { HostTensor } from "../formats/safetensors.js";
import { TslmError } from "../util/errors.js";
import { Random } from "../util/random.js";
import type { CausalLM } from "./causal-lm.js";
import type { Linear } from "./linear.js";
import { LoraLinear, type LoraContext, type LoraSettings } from "./lora.js";
import { checkLoraRank } from "./limits.js";

/** An adapter's configuration. */
export interface LoraConfig extends LoraSettings {
  /**
   * Modules to adapt: null or [] = every linear layer except `lm_head`
   * (LLM Studio's default); a list of names or name suffixes (`q_proj`,
   * `self_attn.v_proj`, full module names); or one string, a regular
   * expression that must match the whole module name (PEFT's rule).
   */
  targetModules: string[] | string | null;
}

export const DEFAULT_LORA: LoraConfig = { r: 4, alpha: 16, dropout: 0.05, useRslora: false, targetModules: null };

/** A trainable tensor with its stable name (used in checkpoints). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/** True when `module` is a target of `targets` (see LoraConfig.targetModules). */
export function isTargetModule(module: string, targets: LoraConfig["targetModules"]): boolean {
  if (targets === null || (Array.isArray(targets) && targets.length === 0)) return module !== "lm_head";
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

export interface AddAdapterOptions {
  /** Seed of A's random init (default 0). */
  seed?: number;
  /** Weights per module (`A [r, in]`, `B [out, r]` row-major) instead of the random init. */
  weights?: Map<string, { A: Float32Array; B: Float32Array }>;
  /** Per-module overrides of r / alpha (PEFT's rank_pattern and alpha_pattern). */
  moduleSettings?: (module: string) => Partial<LoraSettings>;
  /** Restrict targets to these layer indices (PEFT's layers_to_transform). */
  layers?: number[] | null;
}

export class LoraModel {
  readonly context: LoraContext = { training: false, dropoutSeed: 0, enabled: true };
  /** Wrapped layers by module name. */
  readonly layers = new Map<string, LoraLinear>();
  readonly configs = new Map<string, LoraConfig>();
  private activeNames: string[] = [];

  /**
   * Attaches LoRA to `model` with a first adapter and freezes every base
   * variable (the adapter's A and B stay trainable).
   * @example const lora = new LoraModel(model, { ...DEFAULT_LORA, r: 8 }, { seed: 1 });
   */
  constructor(
    readonly model: CausalLM,
    config: Partial<LoraConfig> = {},
    options: AddAdapterOptions & { adapterName?: string } = {},
  ) {
    for (const v of model.variables()) v.trainable = false;
    this.addAdapter(options.adapterName ?? "default", config, options);
  }

  /** Adapter names, in the order they were added. */
  adapterNames(): string[] {
    return [...this.configs.keys()];
  }

  /** The adapters the forward pass applies. */
  get active(): readonly string[] {
    return this.activeNames;
  }

  /**
   * Adds an adapter on its target modules and makes it the only active one.
   * @throws when no module matches or the name exists.
   */
  addAdapter(name: string, config: Partial<LoraConfig> = {}, options: AddAdapterOptions = {}): void {
    if (this.configs.has(name)) throw new TslmError(`adapter '${name}' already exists`, { key: name });
    const cfg: LoraConfig = { ...DEFAULT_LORA, ...config };
    if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new TslmError(`LoRA dropout must be in [0, 1), got ${cfg.dropout}`, { key: "dropout" });
    const inLayers = (m: string) => {
      if (!options.layers) return true;
      const k = /\.layers\.(\d+)\./.exec(m);
      return k !== null && options.layers.includes(Number(k[1]));
    };
    const targets = this.model.linearNames().filter((m) => isTargetModule(m, cfg.targetModules) && inLayers(m));
    if (targets.length === 0) {
      throw new TslmError(`LoRA target modules ${JSON.stringify(cfg.targetModules)} match no linear layer; names look like ${this.model.linearNames()[0]}`, { key: "targetModules" });
    }
    checkLoraRank(this.model.config, cfg, options.moduleSettings);
    if (options.weights) {
      for (const m of options.weights.keys()) if (!targets.includes(m)) throw new TslmError(`adapter weights for '${m}', which is not a target module of '${name}'`, { key: m });
      for (const m of targets) if (!options.weights.has(m)) throw new TslmError(`adapter '${name}' has no weights for target module '${m}'`, { key: m });
    }
    const rng = new Random(options.seed ?? 0).fork(`lora-init/${name}`);
    for (const m of targets) {
      let layer = this.layers.get(m);
      if (!layer) {
        layer = new LoraLinear(this.model.getLinear(m), this.context);
        this.model.setLinear(m, layer);
        this.layers.set(m, layer);
      }
      const settings = { ...cfg, ...(options.moduleSettings?.(m) ?? {}) };
      layer.addAdapter(name, settings, rng, options.weights?.get(m));
    }
    this.configs.set(name, cfg);
    this.setActive(name);
  }

  /** Makes `names` the active adapters (on the layers that have them). */
  setActive(names: string | string[]): void {
    const list = Array.isArray(names) ? names : [names];
    for (const n of list) if (!this.configs.has(n)) throw new TslmError(`no adapter '${n}'; adapters: ${this.adapterNames().join(", ")}`, { key: n });
    this.activeNames = [...list];
    for (const l of this.layers.values()) l.active = list.filter((n) => l.adapters.has(n));
  }

  /** Bypasses every adapter (the base model's outputs) until `enable()`. */
  disable(): void {
    this.context.enabled = false;
  }

  enable(): void {
    this.context.enabled = true;
  }

  /** Runs `fn` with adapters disabled (PEFT's `with model.disable_adapter():`). */
  withAdaptersDisabled<T>(fn: () => T): T {
    const was = this.context.enabled;
    this.context.enabled = false;
    try {
      return fn();
    } finally {
      this.context.enabled = was;
    }
  }

  /** Merges adapters (default: the active ones) into the base weights; non-finite results are refused. */
  merge(names: readonly string[] = this.activeNames): void {
    for (const n of names) for (const l of this.layers.values()) if (l.adapters.has(n)) l.merge(n);
  }

  /** Undoes `merge` for `names` (default: every merged adapter). */
  unmerge(names?: readonly string[]): void {
    for (const l of this.layers.values()) for (const n of names ?? [...l.merged]) l.unmerge(n);
  }

  /** Removes an adapter from every layer. */
  deleteAdapter(name: string): void {
    if (!this.configs.has(name)) return;
    for (const l of this.layers.values()) l.deleteAdapter(name);
    this.configs.delete(name);
    this.activeNames = this.activeNames.filter((n) => n !== name);
  }

  /**
   * The trainable variables of an adapter (default: the active ones), named
   * `<module>.lora_A.<adapter>` / `.lora_B.<adapter>`, in module order.
   */
  trainableVariables(names: readonly string[] = this.activeNames): NamedVariable[] {
    const out: NamedVariable[] = [];
    for (const [m, l] of this.layers) {
      for (const n of names) {
        const w = l.adapters.get(n);
        if (!w) continue;
        out.push({ name: `${m}.lora_A.${n}`, variable: w.A }, { name: `${m}.lora_B.${n}`, variable: w.B });
      }
    }
    return out;
  }

  /** Marks only the given adapters' tensors trainable (others frozen). */
  setTrainable(names: readonly string[] = this.activeNames): void {
    for (const l of this.layers.values()) {
      for (const [n, w] of l.adapters) {
        w.A.trainable = names.includes(n);
        w.B.trainable = names.includes(n);
      }
    }
  }

  /** An adapter's weights as host arrays keyed `<module>` -> {A, B}. */
  adapterWeights(name: string): Map<string, { A: HostTensor; B: HostTensor }> {
    if (!this.configs.has(name)) throw new TslmError(`no adapter '${name}'`, { key: name });
    const out = new Map<string, { A: HostTensor; B: HostTensor }>();
    for (const [m, l] of this.layers) {
      const w = l.adapters.get(name);
      if (!w) continue;
      out.set(m, {
        A: { shape: w.A.shape.slice(), data: Float32Array.from(w.A.dataSync()) },
        B: { shape: w.B.shape.slice(), data: Float32Array.from(w.B.dataSync()) },
      });
    }
    return out;
  }

  /** Number of trainable adapter parameters of `name`. */
  parameterCount(name = this.activeNames[0]): number {
    let n = 0;
    for (const l of this.layers.values()) {
      const w = l.adapters.get(name);
      if (w) n += w.A.size + w.B.size;
    }
    return n;
  }

  /**
   * Puts the original base layers back into the model, disposing every
   * adapter (merge first to keep their effect). Base variables stay frozen
   * unless `unfreeze`.
   */
  detach(unfreeze = false): CausalLM {
    for (const [m, l] of this.layers) {
      for (const n of [...l.adapters.keys()]) {
        if (!l.merged.has(n)) continue;
        l.merged.delete(n); // keep the merged weights in the base
      }
      this.model.setLinear(m, l.base as Linear);
      for (const n of [...l.adapters.keys()]) l.deleteAdapter(n);
    }
    this.layers.clear();
    this.configs.clear();
    this.activeNames = [];
    if (unfreeze) for (const v of this.model.variables()) v.trainable = true;
    return this.model;
  }
}
