#!/usr/bin/env python3
"""transformers loads the models tslm wrote (test/fixtures/tslm-to-hf/, made
by scripts/device/tslm-models.ts) and records, in each folder's
`transformers-expected.json`, the logits it computes (float64) for fixed
token ids, the class and rope type it chose, and its loading report
(missing, unexpected and mismatched keys). test/model/hf-reads-tslm.test.ts
compares tslm's logits with these.

Usage: python3 scripts/device/hf-reads-tslm.py FOLDER (test/fixtures/tslm-to-hf)
"""
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from common import INPUT_IDS, rounded, run_all, versions



def check(folder: Path):
    model, info = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64, attn_implementation="eager",
                                                       output_loading_info=True)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor(INPUT_IDS)).logits
    report = {k: sorted(map(str, v)) for k, v in info.items() if isinstance(v, (list, set, tuple))}
    out = {
        **versions(),
        "class": type(model).__name__,
        "rope_type": getattr(model.model.rotary_emb, "rope_type", None),
        "sliding_window": getattr(model.config, "sliding_window", None),
        "tied": model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(),
        "loading": report,
        "input_ids": INPUT_IDS,
        "logits": rounded(logits),
    }
    (folder / "transformers-expected.json").write_text(json.dumps(out) + "\n")
    print(f"{folder.name}: {out['class']}, rope {out['rope_type']}, window {out['sliding_window']}, tied {out['tied']}, loading {report}")


def main():
    run_all([lambda f=f: check(f) for f in sorted(p for p in Path(sys.argv[1]).iterdir() if (p / "config.json").exists())])


if __name__ == "__main__":
    main()
