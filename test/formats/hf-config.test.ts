import { strict as assert } from "node:assert";
import { configFromHf, configToHf } from "../../lib/formats/hf-config.js";
import { FormatError } from "../../lib/util/errors.js";

const LLAMA = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192,
  num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, max_position_embeddings: 131072, rms_norm_eps: 1e-5,
  rope_theta: 500000.0, tie_word_embeddings: true, hidden_act: "silu", attention_bias: false, mlp_bias: false,
  bos_token_id: 128000, eos_token_id: [128001, 128008, 128009],
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: "llama3" },
  torch_dtype: "bfloat16",
};
const QWEN2 = {
  architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", vocab_size: 151936, hidden_size: 896, intermediate_size: 4864,
  num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768, max_window_layers: 21,
  bos_token_id: 151643, eos_token_id: 151643, hidden_act: "silu",
};
const MISTRAL = {
  model_type: "mistral", vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, max_position_embeddings: 32768, rms_norm_eps: 1e-5, rope_theta: 10000.0,
  sliding_window: 4096, tie_word_embeddings: false, hidden_act: "silu", bos_token_id: 1, eos_token_id: 2,
};

function rejects(json: unknown, pattern: RegExp, key?: string): void {
  assert.throws(() => configFromHf(json, "config.json"), (e: unknown) => {
    assert.ok(e instanceof FormatError);
    assert.match(e.message, pattern);
    if (key) assert.equal(e.location.key, key);
    assert.equal(e.location.file, "config.json");
    return true;
  });
}

describe("formats/hf-config", () => {
  it("reads a Llama 3.2 config (GQA, llama3 rope scaling, tied head, EOS list)", () => {
    const c = configFromHf(LLAMA);
    assert.equal(c.modelType, "llama");
    assert.equal(c.headDim, 64);
    assert.equal(c.numKeyValueHeads, 8);
    assert.equal(c.ropeTheta, 500000);
    assert.deepEqual(c.ropeScaling, { type: "llama3", factor: 32, originalMaxPositionEmbeddings: 8192, lowFreqFactor: 1, highFreqFactor: 4 });
    assert.equal(c.tieWordEmbeddings, true);
    assert.deepEqual(c.eosTokenIds, [128001, 128008, 128009]);
    assert.equal(c.attentionBias, false);
    assert.equal(c.torchDtype, "bfloat16");
  });

  it("reads Qwen2 (q/k/v bias, no o_proj bias, sliding window off) and Mistral (sliding window)", () => {
    const q = configFromHf(QWEN2);
    assert.equal(q.attentionBias, true);
    assert.equal(q.attentionOutBias, false);
    assert.equal(q.slidingWindow, null);
    assert.equal(q.headDim, 64);
    const m = configFromHf(MISTRAL);
    assert.equal(m.slidingWindow, 4096);
    assert.equal(m.attentionBias, false);
    assert.deepEqual(m.eosTokenIds, [2]);
  });

  it("fills transformers' defaults and honours an explicit head_dim", () => {
    const c = configFromHf({ model_type: "llama", vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 });
    assert.equal(c.numKeyValueHeads, 2);
    assert.equal(c.rmsNormEps, 1e-6);
    assert.equal(c.ropeTheta, 10000);
    assert.equal(c.maxPositionEmbeddings, 2048);
    assert.equal(c.tieWordEmbeddings, false);
    const h = configFromHf({ model_type: "mistral", vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, head_dim: 6 });
    assert.equal(h.headDim, 6);
  });

  it("reads transformers v5 rope_parameters", () => {
    const c = configFromHf({ ...MISTRAL, rope_theta: undefined, rope_parameters: { rope_type: "linear", factor: 2, rope_theta: 20000 } });
    assert.equal(c.ropeTheta, 20000);
    assert.deepEqual(c.ropeScaling, { type: "linear", factor: 2 });
  });

  it("round-trips through configToHf", () => {
    for (const j of [LLAMA, QWEN2, MISTRAL]) {
      const c = configFromHf(j);
      assert.deepEqual(configFromHf(configToHf(c)), c);
    }
  });

  it("refuses what it does not implement, by name", () => {
    rejects({ ...LLAMA, model_type: "gemma" }, /model_type "gemma" is not supported; tslm reads llama, mistral, qwen2/, "model_type");
    rejects({ ...LLAMA, rope_scaling: { rope_type: "yarn", factor: 4 } }, /rope scaling type "yarn" is not supported; tslm implements linear, dynamic, llama3/, "rope_scaling.rope_type");
    rejects({ ...LLAMA, rope_scaling: { rope_type: "longrope", factor: 4 } }, /"longrope" is not supported/);
    rejects({ ...LLAMA, hidden_act: "gelu" }, /hidden_act "gelu" is not supported/, "hidden_act");
    rejects({ ...LLAMA, num_key_value_heads: 5 }, /not a multiple of num_key_value_heads 5/, "num_key_value_heads");
    rejects({ ...LLAMA, hidden_size: undefined }, /lacks required field 'hidden_size'/, "hidden_size");
    rejects({ ...LLAMA, vocab_size: "big" }, /'vocab_size' must be a number/, "vocab_size");
    rejects({ ...LLAMA, partial_rotary_factor: 0.5 }, /partial_rotary_factor/);
    rejects({ ...QWEN2, use_sliding_window: true }, /max_window_layers/);
    rejects([1, 2], /must hold a JSON object/);
  });
});
