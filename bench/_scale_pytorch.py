#!/usr/bin/env python3
"""PyTorch peer of `npm run bench -- scale`: LoRA training of a real architecture.

Builds the decoder of a Hugging Face config.json (model_type llama or qwen2:
embedding, RMSNorm, rotary embedding with rotate_half and rope_theta, llama3
rope scaling, grouped-query attention with repeated KV heads, q/k/v biases
for qwen2, SwiGLU MLP, tied or untied head) with random weights, as
transformers' modeling_llama.py / modeling_qwen2.py compute it, written with
matmul + softmax because torch 1.13 has no scaled_dot_product_attention.
LoRA (PEFT's layout: A random, B zero, scaling alpha / r) wraps every linear
layer of every block (q, k, v, o, gate, up, down); everything else is frozen.
AdamW (lr 1e-4, weight decay 0.01) on random token ids.

Usage: /usr/bin/python3 bench/_scale_pytorch.py '<json>' with
{"config": "<dir>/config.json", "batch": 4, "seq": 512, "warmup": 1,
"steps": 2, "rank": 8, "dtype": "fp32" | "bf16", "threads": 2}.
Prints one JSON line: tokensPerSec (fastest timed step), meanTokensPerSec,
stepSeconds, peakBytes (VmHWM over the whole run), stepPeakBytes (VmHWM of
the timed steps alone, the peak having been reset after the warm-up),
maxRssBytes (ru_maxrss), loss.

Fair settings (ARCHITECTURE.md): fp32 matmuls in OpenBLAS with 2 threads and
OMP_WAIT_POLICY=PASSIVE; bf16 under torch.autocast on oneDNN with the default
(spinning) policy. The caller sets the environment before launch.
"""
import json
import math
import re
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def vm(key):
    """VmRSS / VmHWM of this process, in bytes."""
    with open("/proc/self/status") as f:
        return int(re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M).group(1)) * 1024


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # transformers computes the norm in float32 and casts back.
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


class LoRALinear(nn.Module):
    """y = x W^T + b + (x A^T B^T) * alpha / r with W and b frozen (PEFT's layout)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scaling


def inv_frequencies(c, head_dim):
    """rope_theta's inverse frequencies, with llama3 scaling (transformers' _compute_llama3_parameters)."""
    inv = 1.0 / c.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2).float() / head_dim)
    s = c.get("rope_scaling") or {}
    if s.get("rope_type", s.get("type")) == "llama3":
        factor, low, high = s["factor"], s.get("low_freq_factor", 1.0), s.get("high_freq_factor", 4.0)
        old = s["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        low_wl, high_wl = old / low, old / high
        scaled = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        mid = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_wl) & (wavelen <= low_wl)
        inv = torch.where(medium, mid, scaled)
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.kv = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c.get("head_dim") or d // self.h
        qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
        self.input_layernorm = RMSNorm(d, c.get("rms_norm_eps", 1e-6))
        self.q_proj = nn.Linear(d, self.h * self.hd, bias=qkv_bias)
        self.k_proj = nn.Linear(d, self.kv * self.hd, bias=qkv_bias)
        self.v_proj = nn.Linear(d, self.kv * self.hd, bias=qkv_bias)
        self.o_proj = nn.Linear(self.h * self.hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, c.get("rms_norm_eps", 1e-6))
        i = c["intermediate_size"]
        self.gate_proj = nn.Linear(d, i, bias=False)
        self.up_proj = nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        h = self.input_layernorm(x)
        # [B, T, H*hd] -> [B, H, T, hd]
        q = self.q_proj(h).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(b, t, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # Grouped-query attention: each KV head serves h / kv query heads (transformers' repeat_kv).
        k = k.repeat_interleave(self.h // self.kv, dim=1)
        v = v.repeat_interleave(self.h // self.kv, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask  # [B, H, T, T]
        att = att.softmax(-1, dtype=torch.float32).to(q.dtype)
        y = (att @ v).transpose(1, 2).reshape(b, t, self.h * self.hd)
        x = x + self.o_proj(y)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Decoder(nn.Module):
    def __init__(self, c, seq):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))
        self.tied = c.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        hd = self.layers[0].hd
        freqs = torch.outer(torch.arange(seq).float(), inv_frequencies(c, hd))
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))

    def forward(self, ids, labels):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        h = self.norm(x)
        logits = h @ self.embed_tokens.weight.t() if self.tied else self.lm_head(h)
        # Next-token loss, as transformers' causal LM loss (float32 logits).
        return F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def build(c, a):
    torch.manual_seed(0)
    with torch.no_grad():
        model = Decoder(c, a["seq"])
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.normal_(0, 0.02)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.layers:
        for name in ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]:
            setattr(layer, name, LoRALinear(getattr(layer, name), a["rank"], 2 * a["rank"]))
    return model


def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a.get("threads", 2))
    with open(a["config"]) as f:
        c = json.load(f)
    model = build(c, a)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, c["vocab_size"], (a["batch"], a["seq"]), generator=g)
    bf16 = a["dtype"] == "bf16"

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(ids, ids)
        loss.backward()
        opt.step()
        return loss.item()

    loss = float("nan")
    for i in range(a["warmup"]):
        loss = step()
        print("  step %d: loss %.3f" % (i + 1, loss), file=sys.stderr, flush=True)
    peak_before = vm("VmHWM")
    reset_ok = reset_peak()
    times = []
    for i in range(a["steps"]):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
        print("  step %d: loss %.3f, %.1f s" % (a["warmup"] + i + 1, loss, times[-1]), file=sys.stderr, flush=True)
    step_peak = vm("VmHWM")
    tokens = a["batch"] * a["seq"]
    print(json.dumps({
        "dtype": a["dtype"], "torch": torch.__version__, "threads": torch.get_num_threads(),
        "tokensPerSec": tokens / min(times), "meanTokensPerSec": tokens * len(times) / sum(times), "stepSeconds": times,
        "peakBytes": max(peak_before, step_peak), "stepPeakBytes": step_peak if reset_ok else None,
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "loss": loss,
        "trainableParameters": sum(p.numel() for p in params),
    }), flush=True)


if __name__ == "__main__":
    main()
