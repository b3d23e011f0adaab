#!/usr/bin/env python3
"""PyTorch peer for `npm run bench -- train` (CPU) and `npm run bench -- gpu` (CUDA).

The same LLaMA-style decoder as tslm's benchmark (embedding, RMSNorm, rotary
embedding with rotate_half, causal multi-head attention written as matmul +
softmax because torch 1.13 has no scaled_dot_product_attention, SwiGLU MLP,
untied LM head), trained with AdamW on random tokens, full or LoRA r=8 on
q and v.

Usage: /usr/bin/python3 bench/_pytorch_train.py '<json>' where the JSON holds
{"configs": [{"name", "dim", "layers", "heads", "ffn", "vocab"}], "modes":
["full", "lora"], "seq": 128, "batch": 8, "steps": 3, "warmup": 1,
"dtype": "fp32" | "bf16", "device": "cpu" | "cuda" (default cpu), "matmul": N
(optional: first print the float32 N x N matmul rate)}. Prints one JSON object per measured row:
tokensPerSec from the fastest timed step, meanTokensPerSec from all of them.

Fair settings on the CPU (ARCHITECTURE.md): fp32 matmuls run in OpenBLAS with 2 threads
and OMP_WAIT_POLICY=PASSIVE; bf16 runs under torch.autocast on oneDNN with the
default (spinning) policy. The caller sets the environment before launch.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LoRALinear(nn.Module):
    """y = x W^T + (x A^T B^T) * alpha / r with W frozen (PEFT's layout)."""

    def __init__(self, base, r=8, alpha=16):
        super().__init__()
        self.base = base
        base.weight.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scaling


def rope_tables(seq, head_dim, theta=10000.0):
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    freqs = torch.outer(torch.arange(seq).float(), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(nn.Module):
    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.heads = heads
        self.attn_norm = RMSNorm(dim)
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)
        self.mlp_norm = RMSNorm(dim)
        self.gate_proj = nn.Linear(dim, ffn, bias=False)
        self.up_proj = nn.Linear(dim, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, dim, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        hd = d // self.heads
        h = self.attn_norm(x)
        # [B, T, D] -> [B, H, T, hd]
        q = self.q_proj(h).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(h).view(b, t, self.heads, hd).transpose(1, 2)
        v = self.v_proj(h).view(b, t, self.heads, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask  # [B, H, T, T]
        att = att.softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o_proj(y)
        h = self.mlp_norm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Decoder(nn.Module):
    def __init__(self, c, seq):
        super().__init__()
        self.embed = nn.Embedding(c["vocab"], c["dim"])
        self.blocks = nn.ModuleList([Block(c["dim"], c["heads"], c["ffn"]) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["dim"])
        self.head = nn.Linear(c["dim"], c["vocab"], bias=False)
        cos, sin = rope_tables(seq, c["dim"] // c["heads"])
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))

    def forward(self, ids, labels):
        x = self.embed(ids)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin, self.mask)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), labels.view(-1))


def measure(c, mode, a):
    dev = torch.device(a.get("device", "cpu"))
    torch.manual_seed(0)
    model = Decoder(c, a["seq"])
    if mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for blk in model.blocks:
            blk.q_proj = LoRALinear(blk.q_proj)
            blk.v_proj = LoRALinear(blk.v_proj)
    model.to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, c["vocab"], (a["batch"], a["seq"]), generator=g).to(dev)
    labels = torch.randint(0, c["vocab"], (a["batch"], a["seq"]), generator=g).to(dev)
    bf16 = a.get("dtype") == "bf16"

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(ids, labels)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the device

    for _ in range(a["warmup"]):
        step()
    times = []
    for _ in range(a["steps"]):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    tokens = a["batch"] * a["seq"]
    # The fastest step (least disturbed by other processes) and the mean.
    return tokens / min(times), tokens * len(times) / sum(times)


def matmul_gflops(n, dev):
    """Best float32 n x n x n product rate (TF32 off, as the peer trains in fp32)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    x, y = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev)
    best = 0.0
    for _ in range(8):
        t0 = time.perf_counter()
        (x @ y).sum().item()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    a = json.loads(sys.argv[1])
    if a.get("device", "cpu") == "cpu":
        torch.set_num_threads(a.get("threads", 2))
    if a.get("matmul"):
        print(json.dumps({"matmulGflops": matmul_gflops(a["matmul"], torch.device(a.get("device", "cpu")))}), flush=True)
    for c in a["configs"]:
        for mode in a["modes"]:
            best, mean = measure(c, mode, a)
            print(json.dumps({"config": c["name"], "mode": mode, "tokensPerSec": best,
                              "meanTokensPerSec": mean, "dtype": a.get("dtype", "fp32")}), flush=True)


if __name__ == "__main__":
    main()
