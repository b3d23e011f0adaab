#!/usr/bin/env python3
"""Reference LoRA training steps with PyTorch + PEFT (test/fixtures/peft/trained-by-peft/).

Starts from the Llama base of test/fixtures/hf/ with tslm's rsLoRA adapter
(test/fixtures/peft/tslm-rslora-qv-llama, r 8, q/v, dropout 0), trains
STEPS steps of torch.optim.AdamW (lr 1e-2, betas 0.9/0.999, eps 1e-8, weight
decay 0.01) on the fixed token ids with labels = inputs (transformers
shifts them), in float64, and writes the loss of each step and the trained
adapter (saved as float32 with PEFT's save_pretrained). tslm's
test/model/peft-roundtrip.test.ts repeats the steps with lib/train's
optimizer and compares.

Usage: python3 scripts/device/peft-training.py FIXTURES_DIR (test/fixtures)
"""
import json
import sys
from pathlib import Path

import torch
from peft import PeftModel

from common import INPUT_IDS, load_float64, train_steps, versions

STEPS = 6
HP = {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}


def main():
    root = Path(sys.argv[1])
    model = PeftModel.from_pretrained(load_float64(root / "hf" / "llama-gqa-llama3rope"), root / "peft" / "tslm-rslora-qv-llama", is_trainable=True)
    model.to(torch.float64)
    params = [p for n, p in model.named_parameters() if p.requires_grad]
    assert all("lora_" in n for n, p in model.named_parameters() if p.requires_grad)
    opt = torch.optim.AdamW(params, **HP)
    losses, final = train_steps(model, opt, STEPS)
    folder = root / "peft" / "trained-by-peft"
    model.to(torch.float32)
    model.save_pretrained(folder)
    (folder / "README.md").unlink(missing_ok=True)
    out = {**versions(), "start": "peft/tslm-rslora-qv-llama", "base": "llama-gqa-llama3rope", "steps": STEPS,
           "optimizer": {"name": "torch.optim.AdamW", **HP}, "input_ids": INPUT_IDS,
           "losses": losses, "final_loss": final, "trainable_parameters": sum(p.numel() for p in params)}
    (folder / "training.json").write_text(json.dumps(out) + "\n")
    print(f"losses {losses} -> {final}; files {sorted(f.name for f in folder.iterdir())}")


if __name__ == "__main__":
    main()
