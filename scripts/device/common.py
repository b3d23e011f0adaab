"""Shared by the reference scripts in scripts/device/ (imported as `common`:
Python puts a script's own folder first on its path)."""
import sys
import traceback

import torch
import transformers
from transformers import AutoModelForCausalLM

# The token ids every reference uses (vocabulary 128), mirrored by the tests through the fixtures.
INPUT_IDS = [
    [1, 17, 42, 99, 3, 64, 127, 5, 88, 23, 51, 7],
    [2, 110, 9, 33, 76, 0, 45, 120, 14, 61, 38, 102],
]


def versions():
    out = {"transformers": transformers.__version__, "torch": torch.__version__}
    if "peft" in sys.modules:
        out["peft"] = sys.modules["peft"].__version__
    return out


def rounded(t):
    """A [B, T, V] tensor as nested lists of 9 significant digits (enough for float32 comparisons)."""
    return [[[float(f"{v:.9g}") for v in row] for row in seq] for seq in t.tolist()]


def load_float64(folder):
    """A saved model read back by transformers and run in float64 with eager attention."""
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64, attn_implementation="eager")
    model.eval()
    return model


def train_steps(model, opt, steps):
    """`steps` optimizer steps on INPUT_IDS with labels = inputs; returns each step's loss and the loss after."""
    ids = torch.tensor(INPUT_IDS)
    model.train()
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        final = model(input_ids=ids, labels=ids).loss.item()
    return losses, final


def run_all(steps):
    """Runs every step, printing the traceback of each that fails; exits 1 if any did."""
    failed = 0
    for step in steps:
        try:
            step()
        except Exception:  # report every case, then fail
            traceback.print_exc()
            failed += 1
    sys.exit(1 if failed else 0)
