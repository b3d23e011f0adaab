#!/usr/bin/env python3
"""PEFT round trip for test/fixtures/peft/ (needs torch, transformers, peft).

1. For each adapter tslm wrote (test/fixtures/peft/tslm-*, made by
   scripts/device/tslm-adapters.ts on a base from test/fixtures/hf/), PEFT
   loads it with `PeftModel.from_pretrained` onto the transformers base and
   records the logits, before and after `merge_and_unload`, in
   `peft-expected.json`.
2. PEFT makes its own adapter (`peft-lora-llama`: LoRA on every linear
   layer of the Llama base, random A and B) with `get_peft_model` and
   `save_pretrained`, and records its logits in `expected.json`.

tslm's test/model/peft-roundtrip.test.ts loads these with `loadAdapter` and
compares its logits with PEFT's.

Usage: python3 scripts/device/peft-fixtures.py FIXTURES_DIR (test/fixtures)
"""
import json
import sys
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model

from common import INPUT_IDS, load_float64, rounded, run_all, versions

TSLM_ADAPTERS = {"tslm-lora-all-qwen2": "qwen2-gqa-tied-f16", "tslm-rslora-qv-llama": "llama-gqa-llama3rope"}


def base_model(root: Path, name: str):
    return load_float64(root / "hf" / name)


def logits(model):
    with torch.no_grad():
        return model(torch.tensor(INPUT_IDS)).logits


def tslm_written(root: Path, name: str, base: str):
    model = PeftModel.from_pretrained(base_model(root, base), root / "peft" / name)
    model.eval()
    # The adapter in float64 too, so the reference has no float32 rounding.
    model.to(torch.float64)
    loaded = sorted(n for n, _ in model.named_parameters() if "lora_" in n)
    with_adapter = logits(model)
    base_only = logits(base_model(root, base))
    change = (with_adapter - base_only).abs().max().item()
    merged = logits(model.merge_and_unload())
    out = {**versions(), "base": base, "lora_tensors": len(loaded), "adapter_change": change, "input_ids": INPUT_IDS,
           "logits": rounded(with_adapter), "merged_logits": rounded(merged)}
    (root / "peft" / name / "peft-expected.json").write_text(json.dumps(out) + "\n")
    print(f"{name}: PEFT loaded {len(loaded)} LoRA tensors; the adapter moves logits by up to {change:.3g}")


def peft_written(root: Path):
    base = "llama-gqa-llama3rope"
    torch.manual_seed(4321)
    cfg = LoraConfig(r=4, lora_alpha=12, lora_dropout=0.0, task_type="CAUSAL_LM", init_lora_weights=False,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(base_model(root, "llama-gqa-llama3rope").to(torch.float32), cfg)
    folder = root / "peft" / "peft-lora-llama"
    model.save_pretrained(folder)
    (folder / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
    # The reference: the saved adapter read back onto the base, in float64.
    ref = PeftModel.from_pretrained(base_model(root, base), folder)
    ref.to(torch.float64)
    ref.eval()
    out = {**versions(), "base": base, "input_ids": INPUT_IDS, "logits": rounded(logits(ref))}
    (folder / "expected.json").write_text(json.dumps(out) + "\n")
    print(f"peft-lora-llama: files {sorted(f.name for f in folder.iterdir())}")


def main():
    root = Path(sys.argv[1])
    run_all([lambda n=n, b=b: tslm_written(root, n, b) for n, b in TSLM_ADAPTERS.items()] + [lambda: peft_written(root)])


if __name__ == "__main__":
    main()
