import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { createModel, defineConfig } from "../../lib/model/create.js";
import { LoraModel } from "../../lib/model/lora-model.js";
import { saveAdapter, loadAdapter, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from "../../lib/model/peft.js";
import { FormatError } from "../../lib/util/errors.js";
import { Random } from "../../lib/util/random.js";
import { setupBackend, tempDir } from "./support.js";

const CONFIG = defineConfig({ vocabSize: 64, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 64 });
const IDS = [[3, 1, 4, 1, 5, 9, 2, 6]];

/** Fields of PEFT's LoraConfig (peft/tuners/lora/config.py and PeftConfig) that tslm writes. */
const PEFT_KEYS = [
  "alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "fan_in_fan_out", "inference_mode", "init_lora_weights",
  "layers_pattern", "layers_to_transform", "loftq_config", "lora_alpha", "lora_dropout", "megatron_config", "megatron_core",
  "modules_to_save", "peft_type", "r", "rank_pattern", "revision", "target_modules", "task_type", "use_dora", "use_rslora",
];

/** Reads a safetensors header with plain Node (independent of tslm's reader). */
function rawHeader(file: string): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  return JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
}

/** Writes a safetensors file by hand (F32, offsets in name order), as PEFT's torch save would. */
function writeRawSafetensors(file: string, tensors: Record<string, { shape: number[]; data: number[] }>): void {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let off = 0;
  const names = Object.keys(tensors).sort();
  for (const k of names) {
    const len = tensors[k].data.length * 4;
    header[k] = { dtype: "F32", shape: tensors[k].shape, data_offsets: [off, off + len] };
    off += len;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(off);
  let p = 0;
  for (const k of names) for (const v of tensors[k].data) (data.writeFloatLE(v, p), (p += 4));
  writeFileSync(file, Buffer.concat([len, json, data]));
}

function logits(model: { forward(ids: number[][]): tf.Tensor }): Float32Array {
  return tf.tidy(() => model.forward(IDS).dataSync() as Float32Array);
}

describe("model: PEFT adapter files", () => {
  before(() => setupBackend());

  it("writes PEFT's config keys and tensor names/shapes, and loads back to identical logits", () => {
    const dir = tempDir();
    const model = createModel(CONFIG, { seed: 1 });
    const lora = new LoraModel(model, { r: 4, alpha: 16, dropout: 0.05 }, { seed: 2 });
    for (const l of lora.layers.values()) {
      const w = l.adapters.get("default")!;
      w.B.assign(tf.randomNormal(w.B.shape, 0, 0.1, "float32", 3) as tf.Tensor2D);
    }
    const expected = logits(model);
    saveAdapter(dir, lora, { baseModelNameOrPath: "models/tiny" });

    const cfg = JSON.parse(readFileSync(join(dir, ADAPTER_CONFIG_FILE), "utf8"));
    assert.deepEqual(Object.keys(cfg).sort(), [...PEFT_KEYS].sort());
    assert.equal(cfg.peft_type, "LORA");
    assert.equal(cfg.task_type, "CAUSAL_LM");
    assert.equal(cfg.r, 4);
    assert.equal(cfg.lora_alpha, 16);
    assert.equal(cfg.lora_dropout, 0.05);
    assert.equal(cfg.bias, "none");
    assert.equal(cfg.base_model_name_or_path, "models/tiny");
    assert.deepEqual(cfg.target_modules, ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);

    const header = rawHeader(join(dir, ADAPTER_WEIGHTS_FILE));
    assert.deepEqual(header.__metadata__, { format: "pt" });
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    assert.equal(names.length, 28);
    assert.deepEqual(header["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].shape, [4, 32]);
    assert.deepEqual(header["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].shape, [32, 4]);
    assert.deepEqual(header["base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight"].shape, [16, 4]);
    assert.deepEqual(header["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"].shape, [4, 64]);
    assert.ok(names.every((n) => /^base_model\.model\.model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$/.test(n)));
    assert.ok(names.every((n) => header[n].dtype === "F32"));

    const fresh = createModel(CONFIG, { seed: 1 });
    const loaded = loadAdapter(dir, fresh);
    assert.equal(loaded.configs.get("default")!.dropout, 0.05);
    const got = logits(fresh);
    assert.deepEqual(Array.from(got), Array.from(expected));
    model.dispose();
    fresh.dispose();
  });

  it("loads an adapter built by hand in PEFT's layout (subset of modules, extra config keys) and applies alpha/r", () => {
    const dir = tempDir();
    const r = 2, alpha = 6;
    const rng = new Random(5);
    const vals = (n: number) => Array.from({ length: n }, () => rng.normal(0, 0.3));
    const tensors: Record<string, { shape: number[]; data: number[] }> = {};
    for (const layer of [0, 1]) {
      for (const [proj, out] of [["q_proj", 32], ["v_proj", 16]] as const) {
        tensors[`base_model.model.model.layers.${layer}.self_attn.${proj}.lora_A.weight`] = { shape: [r, 32], data: vals(r * 32) };
        tensors[`base_model.model.model.layers.${layer}.self_attn.${proj}.lora_B.weight`] = { shape: [out, r], data: vals(out * r) };
      }
    }
    writeRawSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors);
    // A config as a recent PEFT writes it, including keys tslm does not know.
    writeFileSync(join(dir, ADAPTER_CONFIG_FILE), JSON.stringify({
      peft_type: "LORA", task_type: "CAUSAL_LM", r, lora_alpha: alpha, lora_dropout: 0.1, target_modules: ["q_proj", "v_proj"],
      bias: "none", fan_in_fan_out: false, use_rslora: false, use_dora: false, modules_to_save: null, inference_mode: true,
      eva_config: null, exclude_modules: null, lora_bias: false, corda_config: null, layer_replication: null, rank_pattern: {}, alpha_pattern: {},
    }));
    const model = createModel(CONFIG, { seed: 9 });
    const x = tf.randomNormal([2, 32], 0, 1, "float32", 1);
    const q = model.getLinear("model.layers.1.self_attn.v_proj");
    const baseOut = q.apply(x);
    const lora = loadAdapter(dir, model);
    assert.equal(lora.layers.size, 4);
    const A = tf.tensor2d(tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"].data, [r, 32]);
    const B = tf.tensor2d(tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].data, [16, r]);
    const expected = tf.tidy(() => tf.add(baseOut, tf.mul(tf.matMul(tf.matMul(x, A, false, true), B, false, true), alpha / r)));
    const got = model.getLinear("model.layers.1.self_attn.v_proj").apply(x);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]);
    assert.ok(diff < 1e-5, `hand-built adapter output differs by ${diff}`);
    tf.dispose([x, baseOut, A, B, expected, got]);
    model.dispose();
  });

  it("refuses what it cannot load, naming the field or tensor", () => {
    const model = createModel(CONFIG, { seed: 1 });
    const good = tempDir();
    saveAdapter(good, new LoraModel(model, { targetModules: ["q_proj"] }, { seed: 1 }));
    const variant = (edit: (cfg: Record<string, unknown>) => void, tensors?: Record<string, { shape: number[]; data: number[] }>): string => {
      const d = tempDir();
      const cfg = JSON.parse(readFileSync(join(good, ADAPTER_CONFIG_FILE), "utf8"));
      edit(cfg);
      writeFileSync(join(d, ADAPTER_CONFIG_FILE), JSON.stringify(cfg));
      if (tensors) writeRawSafetensors(join(d, ADAPTER_WEIGHTS_FILE), tensors);
      else writeFileSync(join(d, ADAPTER_WEIGHTS_FILE), readFileSync(join(good, ADAPTER_WEIGHTS_FILE)));
      return d;
    };
    const fresh = () => createModel(CONFIG, { seed: 1 });
    const isFormat = (re: RegExp) => (e: Error) => e instanceof FormatError && re.test(e.message);
    assert.throws(() => loadAdapter(variant((c) => (c.use_dora = true)), fresh()), isFormat(/use_dora.*DoRA/));
    assert.throws(() => loadAdapter(variant((c) => (c.peft_type = "IA3")), fresh()), isFormat(/peft_type/));
    // Recent PEFT variants whose forward pass differs from plain LoRA (null / false means off).
    assert.throws(() => loadAdapter(variant((c) => (c.use_qalora = true)), fresh()), isFormat(/use_qalora: QALoRA/));
    assert.throws(() => loadAdapter(variant((c) => (c.alora_invocation_tokens = [5, 6])), fresh()), isFormat(/alora_invocation_tokens: activated LoRA/));
    assert.throws(() => loadAdapter(variant((c) => (c.layer_replication = [[0, 2]])), fresh()), isFormat(/layer_replication/));
    assert.doesNotThrow(() => loadAdapter(variant((c) => Object.assign(c, { use_qalora: false, alora_invocation_tokens: null, target_parameters: [] })), fresh()));
    assert.throws(() => loadAdapter(variant((c) => (c.r = 8)), fresh()), isFormat(/lora_A\.weight' has shape \[4,32\], expected \[8, 32\]/));
    const zeros = (n: number) => new Array(n).fill(0);
    assert.throws(
      () => loadAdapter(variant(() => {}, { "base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight": { shape: [4, 32], data: zeros(128) } }), fresh()),
      isFormat(/module 'model\.layers\.7\.self_attn\.q_proj', which this model does not have/),
    );
    assert.throws(
      () => loadAdapter(variant(() => {}, { "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector": { shape: [32], data: zeros(32) } }), fresh()),
      isFormat(/unexpected tensor .*lora_magnitude_vector/),
    );
    const pickled = tempDir();
    mkdirSync(pickled, { recursive: true });
    writeFileSync(join(pickled, ADAPTER_CONFIG_FILE), readFileSync(join(good, ADAPTER_CONFIG_FILE)));
    writeFileSync(join(pickled, "adapter_model.bin"), "not really a pickle");
    assert.throws(() => loadAdapter(pickled, fresh()), isFormat(/pickled/));
    model.dispose();
  });
});
