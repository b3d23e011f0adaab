#!/usr/bin/env python3
"""Greedy generations by transformers' `generate` on the models of
test/fixtures/hf/ (float64, KV cache on, no EOS stop), plain and with
repetition_penalty 1.3, written to test/fixtures/hf/generate.json.
test/model/hf-reference.test.ts decodes the same prompts with tslm.

Usage: python3 scripts/device/hf-generate.py FIXTURES_HF_DIR
"""
import json
import sys
from pathlib import Path

import torch

from common import INPUT_IDS, load_float64, versions

PROMPTS = INPUT_IDS + [[1, 5, 9]]
NEW_TOKENS = 24
SETTINGS = [{}, {"repetition_penalty": 1.3}]


def main():
    root = Path(sys.argv[1])
    out = {**versions(), "prompts": PROMPTS,
           "max_new_tokens": NEW_TOKENS, "models": {}}
    for folder in sorted(p for p in root.iterdir() if (p / "config.json").exists()):
        model = load_float64(folder)
        runs = []
        for setting in SETTINGS:
            for prompt in PROMPTS:
                ids = torch.tensor([prompt])
                with torch.no_grad():
                    seq = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW_TOKENS,
                                         min_new_tokens=0, do_sample=False, eos_token_id=None, pad_token_id=0,
                                         use_cache=True, **setting)
                runs.append({"setting": setting, "prompt": prompt, "tokens": seq[0, len(prompt):].tolist()})
        out["models"][folder.name] = runs
        print(folder.name, [r["tokens"][:8] for r in runs])
    (root / "generate.json").write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
