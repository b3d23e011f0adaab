#!/usr/bin/env python3
"""Builds the Hugging Face reference fixtures in test/fixtures/hf/.

Needs PyTorch, transformers and safetensors (no network, no GPU). For each
case it builds a tiny randomly initialised model with transformers' own
classes, writes it with `save_pretrained` (safetensors) and records its
logits for fixed token ids, computed in float64 from the saved weights, in
`expected.json`. tslm's `test/model/hf-reference.test.ts` loads each folder
with `loadModel` and compares its logits with these.

Usage: python3 scripts/device/hf-fixtures.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import torch
import transformers
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig,
                          MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)

from common import INPUT_IDS, load_float64, rounded, run_all, versions

VOCAB = 128
# transformers 5 keeps rope settings in `rope_parameters`; 4.x in rope_theta and rope_scaling.
V5 = int(transformers.__version__.split(".")[0]) >= 5


def rope(theta, scaling=None):
    if V5:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": theta, **(scaling or {})}}
    return {"rope_theta": theta, **({"rope_scaling": scaling} if scaling else {})}

# Each case: grouped-query attention (4 query heads, 2 key/value heads), two
# layers, and one trait of its family that tslm must read right.
CASES = [
    # Llama 3.1 style: untied head, rope_theta 500000, llama3 rope scaling.
    ("llama-gqa-llama3rope", LlamaForCausalLM, LlamaConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=131072,
        rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
        **rope(500000.0, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})),
     torch.float32, "llama3"),
    # Mistral: head_dim set apart from hidden_size / heads, a sliding window
    # shorter than the inputs, weights stored as bfloat16.
    ("mistral-gqa-window-bf16", MistralForCausalLM, MistralConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, sliding_window=5,
        max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, **rope(10000.0)), torch.bfloat16, "default"),
    # Qwen2: q/k/v biases, tied embeddings, weights stored as float16.
    ("qwen2-gqa-tied-f16", Qwen2ForCausalLM, Qwen2Config(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
        bos_token_id=1, eos_token_id=2, **rope(1000000.0)), torch.float16, "default"),
]


def build(out: Path, name, cls, config, dtype, rope_type):
    torch.manual_seed(1234)
    model = cls(config)
    got = getattr(model.model.rotary_emb, "rope_type", None)
    if got != rope_type:
        raise RuntimeError(f"{name}: transformers built rope type {got!r}, wanted {rope_type!r}")
    # Random init leaves biases and norms at 0 and 1; perturb them so the
    # comparison also checks that tslm reads them.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("bias") or "norm" in pname:
                p.add_(torch.randn_like(p) * 0.1)
    model = model.to(dtype)
    folder = out / name
    model.save_pretrained(folder, safe_serialization=True)
    # The reference: the saved files read back and run in float64.
    ref = load_float64(folder)
    with torch.no_grad():
        logits = ref(torch.tensor(INPUT_IDS)).logits
    expected = {
        "source": "scripts/device/hf-fixtures.py",
        **versions(),
        "class": cls.__name__,
        "stored_dtype": str(dtype).replace("torch.", ""),
        "reference_dtype": "float64",
        "input_ids": INPUT_IDS,
        "logits": rounded(logits),
    }
    (folder / "expected.json").write_text(json.dumps(expected) + "\n")
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, files {sorted(f.name for f in folder.iterdir())}")


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    run_all([lambda c=c: build(out, *c) for c in CASES])


if __name__ == "__main__":
    main()
