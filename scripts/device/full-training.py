#!/usr/bin/env python3
"""Reference full fine-tuning steps with PyTorch (test/fixtures/full-training/).

Starts from the tied Qwen2 base of test/fixtures/hf/ (q/k/v biases, tied
embeddings), trains STEPS steps of torch.optim.AdamW (lr 3e-3, betas
0.9/0.999, eps 1e-8; weight decay 0.01 on matrices only, as tslm does) on
the fixed token ids with labels = inputs, in float64, and writes each step's
loss and the trained model (float32, save_pretrained).
test/train/pytorch-reference.test.ts repeats the steps in tslm.

Usage: python3 scripts/device/full-training.py FIXTURES_DIR (test/fixtures)
"""
import json
import sys
from pathlib import Path

import torch

from common import INPUT_IDS, load_float64, train_steps, versions

STEPS = 4
LR, BETAS, EPS, WD = 3e-3, (0.9, 0.999), 1e-8, 0.01


def main():
    root = Path(sys.argv[1])
    model = load_float64(root / "hf" / "qwen2-gqa-tied-f16")
    params = list(model.parameters())  # a tied weight appears once
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": WD},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=EPS)
    losses, final = train_steps(model, opt, STEPS)
    folder = root / "full-training" / "qwen2-trained"
    model.to(torch.float32).save_pretrained(folder)
    out = {**versions(), "base": "qwen2-gqa-tied-f16",
           "steps": STEPS, "optimizer": {"name": "torch.optim.AdamW", "lr": LR, "betas": BETAS, "eps": EPS,
                                         "weight_decay": WD, "decay": "matrices only"},
           "input_ids": INPUT_IDS, "losses": losses, "final_loss": final,
           "parameters": sum(p.numel() for p in params)}
    (root / "full-training" / "training.json").write_text(json.dumps(out) + "\n")
    print(f"losses {losses} -> {final}; files {sorted(f.name for f in folder.iterdir())}")


if __name__ == "__main__":
    main()
