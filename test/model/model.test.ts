import { strict as assert } from "node:assert";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { createModel, defineConfig } from "../../lib/model/create.js";
import { CausalLM } from "../../lib/model/causal-lm.js";
import { loadModel, saveModel } from "../../lib/model/io.js";
import { DenseLinear, type Linear } from "../../lib/model/linear.js";
import { memoryReport, parameterCount } from "../../lib/model/memory.js";
import { inverseFrequencies } from "../../lib/model/rope.js";
import { trainBpeTokenizer } from "../../lib/tokenizer/bpe-trainer.js";
import { FormatError } from "../../lib/util/errors.js";
import { readSafetensors, writeSafetensors } from "../../lib/formats/safetensors.js";
import { maxAbsDiff, setupBackend, tempDir } from "./support.js";

const GQA = { vocabSize: 64, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 48, maxPositionEmbeddings: 64 };

describe("model", function () {
  this.timeout(60_000);
  before(() => setupBackend());

  it("computes logits [B, T, V] deterministically from a seed", () => {
    const a = createModel(GQA, { seed: 7, initStd: 0.2 });
    const b = createModel(GQA, { seed: 7, initStd: 0.2 });
    const c = createModel(GQA, { seed: 8, initStd: 0.2 });
    const ids = [[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]];
    const la = a.forward(ids), lb = b.forward(ids), lc = c.forward(ids);
    assert.deepEqual(la.shape, [2, 5, 64]);
    assert.deepEqual(la.dataSync(), lb.dataSync());
    assert.ok(maxAbsDiff(la.dataSync(), lc.dataSync()) > 1e-3);
    // The second sequence's logits do not depend on the first (no cross-batch leak).
    const single = a.forward([[9, 8, 7, 6, 5]]);
    assert.ok(maxAbsDiff(single.dataSync(), la.dataSync().slice(5 * 64)) < 1e-5);
    tf.dispose([la, lb, lc, single]);
    [a, b, c].forEach((m) => m.dispose());
  });

  it("gives the same logits with the KV cache as without, including a sliding window", () => {
    for (const extra of [{}, { modelType: "mistral" as const, slidingWindow: 3 }, { modelType: "qwen2" as const }]) {
      const m = createModel({ ...GQA, ...extra }, { seed: 3, initStd: 0.2 });
      const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
      const full = m.forward([ids]);
      const cache = m.createCache();
      const parts = [m.forward([ids.slice(0, 4)], { cache }), ...ids.slice(4).map((id) => m.forward([[id]], { cache }))];
      const inc = tf.concat(parts, 1);
      assert.equal(cache.length, ids.length);
      assert.ok(maxAbsDiff(full.dataSync(), inc.dataSync()) < 2e-5, `cache vs full (${JSON.stringify(extra)})`);
      tf.dispose([full, inc, ...parts]);
      cache.dispose();
      m.dispose();
    }
  });

  it("applies the sliding window: tokens beyond it do not change a position's logits", () => {
    const m = createModel({ ...GQA, modelType: "mistral", slidingWindow: 3 }, { seed: 5, initStd: 0.3 });
    // Position 6 sees positions 4..6 in every layer of a 1-layer model; with 2 layers it sees 2..6.
    const a = m.forward([[1, 2, 3, 4, 5, 6, 7]]), b = m.forward([[9, 9, 3, 4, 5, 6, 7]]), c = m.forward([[1, 2, 9, 4, 5, 6, 7]]);
    const last = (t: tf.Tensor) => t.dataSync().slice(6 * 64);
    assert.ok(maxAbsDiff(last(a), last(b)) < 1e-5, "positions 0-1 are outside the 2-layer receptive field");
    assert.ok(maxAbsDiff(last(a), last(c)) > 1e-4, "position 2 is inside it");
    tf.dispose([a, b, c]);
    m.dispose();
  });

  it("grouped-query attention equals multi-head attention with repeated K/V heads", () => {
    const gqa = createModel(GQA, { seed: 11, initStd: 0.2 });
    const host = gqa.weightsToHost();
    const mhaCfg = defineConfig({ ...GQA, numKeyValueHeads: 4 });
    const hd = mhaCfg.headDim;
    for (let l = 0; l < GQA.numHiddenLayers; l++) {
      for (const p of ["k_proj", "v_proj"]) {
        const name = `model.layers.${l}.self_attn.${p}.weight`;
        const w = host.get(name)!;
        const rows: Float32Array[] = [];
        // KV head j serves query heads 2j and 2j + 1 (transformers' repeat_kv).
        for (let h = 0; h < 4; h++) rows.push(w.data.slice(Math.floor(h / 2) * hd * 32, (Math.floor(h / 2) + 1) * hd * 32) as Float32Array);
        const data = new Float32Array(4 * hd * 32);
        rows.forEach((r, i) => data.set(r, i * hd * 32));
        host.set(name, { shape: [4 * hd, 32], data });
      }
    }
    const mha = new CausalLM(mhaCfg, host);
    const ids = [[5, 4, 3, 2, 1, 0, 7]];
    const a = gqa.forward(ids), b = mha.forward(ids);
    assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) < 1e-5);
    tf.dispose([a, b]);
    gqa.dispose();
    mha.dispose();
  });

  it("computes the token-averaged cross-entropy over labels != -100, shifted or not", () => {
    const m = createModel(GQA, { seed: 2, initStd: 0.3 });
    const ids = [[1, 2, 3, 4, 5, 6]];
    const labels = [[1, 2, -100, 4, -100, 6]];
    const logits = m.forward(ids).arraySync()[0];
    let sum = 0, n = 0;
    for (let t = 0; t + 1 < 6; t++) {
      const y = labels[0][t + 1];
      if (y === -100) continue;
      const row = logits[t];
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      sum += lse - row[y];
      n++;
    }
    const loss = m.loss(ids, labels);
    assert.ok(Math.abs(loss.dataSync()[0] - sum / n) < 1e-5);
    const shifted = m.loss(ids, [[2, -100, 4, -100, 6, -100]], { shifted: true });
    assert.ok(Math.abs(shifted.dataSync()[0] - sum / n) < 1e-5, "shifted labels give the same loss");
    const lp = m.tokenLogProbs(ids, labels);
    assert.deepEqual(lp.shape, [1, 5]);
    assert.ok(Math.abs(-Array.from(lp.dataSync()).reduce((a, b) => a + b, 0) - sum) < 1e-4);
    const none = m.loss(ids, [[-100, -100, -100, -100, -100, -100]]);
    assert.equal(none.dataSync()[0], 0);
    tf.dispose([loss, shifted, lp, none]);
    m.dispose();
  });

  it("has gradients that match finite differences (qwen2 biases, GQA, untied head)", () => {
    const m = createModel({ ...GQA, vocabSize: 24, hiddenSize: 16, intermediateSize: 24, modelType: "qwen2" }, { seed: 21, initStd: 0.4 });
    const ids = [[1, 5, 9, 13, 17, 21], [2, 2, 3, 23, 0, 7]];
    const labels = [[1, 5, 9, 13, 17, 21], [2, 2, -100, 23, 0, -100]];
    const vars = m.trainableVariables();
    const { grads } = tf.variableGrads(() => m.loss(ids, labels), vars);
    const lossAt = () => tf.tidy(() => m.loss(ids, labels).dataSync()[0]);
    const eps = 1e-2;
    let checked = 0, worst = 0;
    const rng = (i: number) => (i * 2654435761) >>> 0;
    for (const v of vars) {
      const g = grads[v.name].dataSync();
      const base = v.dataSync().slice() as Float32Array;
      for (let k = 0; k < 3; k++) {
        const i = rng(checked + 1) % base.length;
        const plus = base.slice(); plus[i] += eps;
        v.assign(tf.tensor(plus, v.shape));
        const lp = lossAt();
        const minus = base.slice(); minus[i] -= eps;
        v.assign(tf.tensor(minus, v.shape));
        const lm = lossAt();
        v.assign(tf.tensor(base, v.shape));
        const fd = (lp - lm) / (2 * eps);
        const err = Math.abs(fd - g[i]);
        worst = Math.max(worst, err / (1e-3 + Math.abs(g[i])));
        assert.ok(err <= 2e-3 + 0.02 * Math.abs(g[i]), `${v.name}[${i}]: finite difference ${fd}, gradient ${g[i]}`);
        checked++;
      }
    }
    assert.ok(checked >= 3 * 20, `checked ${checked} entries`);
    // A directional derivative over every parameter at once.
    const dirs = vars.map((v, j) => tf.tidy(() => tf.randomNormal(v.shape, 0, 1, "float32", 100 + j)));
    const dot = vars.reduce((acc, v, j) => acc + tf.tidy(() => tf.sum(tf.mul(grads[v.name], dirs[j])).dataSync()[0]), 0);
    const bases = vars.map((v) => tf.clone(v));
    const shift = (s: number) => vars.forEach((v, j) => v.assign(tf.tidy(() => tf.add(bases[j], tf.mul(dirs[j], s)))));
    shift(1e-3); const up = lossAt();
    shift(-1e-3); const down = lossAt();
    shift(0);
    const fdDir = (up - down) / 2e-3;
    assert.ok(Math.abs(fdDir - dot) <= 0.02 * Math.abs(dot) + 1e-2, `directional: finite difference ${fdDir}, gradient ${dot}`);
    tf.dispose([...dirs, ...bases, ...Object.values(grads)]);
    m.dispose();
  });

  it("saves and loads back identical logits (single file, shards, tokenizer), and F16 closely", async () => {
    const m = createModel({ ...GQA, tieWordEmbeddings: true, eosTokenIds: [2] }, { seed: 4, initStd: 0.2 });
    m.tokenizer = trainBpeTokenizer(["hello world, hello model"], { vocabSize: 270 }).tokenizer;
    const ids = [[1, 2, 3, 4, 5, 6, 7, 8]];
    const ref = m.forward(ids);
    for (const [dirName, opts] of [["single", {}], ["sharded", { maxShardBytes: 20_000 }]] as const) {
      const dir = join(tempDir(), dirName);
      await saveModel(m, dir, opts);
      const files = readdirSync(dir);
      if (dirName === "sharded") assert.ok(files.includes("model.safetensors.index.json") && files.filter((f) => f.startsWith("model-")).length > 1);
      assert.ok(files.includes("tokenizer.json") && files.includes("config.json") && files.includes("generation_config.json"));
      const back = await loadModel(dir);
      const out = back.forward(ids);
      assert.equal(maxAbsDiff(ref.dataSync(), out.dataSync()), 0);
      assert.deepEqual(back.config, { ...m.config, torchDtype: "float32" });
      assert.equal(back.tokenizer!.decode(back.tokenizer!.encode("hello world")), "hello world");
      out.dispose();
      back.dispose();
    }
    const dir16 = join(tempDir(), "f16");
    await saveModel(m, dir16, { dtype: "F16" });
    const half = await loadModel(dir16);
    const out16 = half.forward(ids);
    const d16 = maxAbsDiff(ref.dataSync(), out16.dataSync());
    const scale = Math.max(...Array.from(ref.dataSync(), Math.abs));
    assert.ok(d16 > 0 && d16 < 3e-3 * scale, `F16 round trip changed logits by ${d16} (largest logit ${scale})`);
    assert.equal(half.config.torchDtype, "float16");
    tf.dispose([ref, out16]);
    half.dispose();
    m.dispose();
  });

  it("refuses checkpoints that do not match config.json, naming the tensor", async () => {
    const m = createModel(GQA, { seed: 1 });
    const dir = tempDir();
    await saveModel(m, dir);
    const file = join(dir, "model.safetensors");
    const { tensors } = readSafetensors(file);
    const edit = async (change: (t: typeof tensors) => void, pattern: RegExp) => {
      const copy = new Map(tensors);
      change(copy);
      writeSafetensors(file, copy);
      await assert.rejects(loadModel(dir), (e: unknown) => e instanceof FormatError && pattern.test(e.message));
    };
    await edit((t) => t.delete("model.layers.1.mlp.up_proj.weight"), /missing tensor 'model.layers.1.mlp.up_proj.weight'/);
    await edit((t) => t.set("model.norm.weight", { shape: [31], data: new Float32Array(31) }), /'model.norm.weight' has shape \[31\], config.json implies \[32\]/);
    await edit((t) => t.set("model.extra.weight", { shape: [1], data: new Float32Array(1) }), /unexpected tensor 'model.extra.weight'/);
    rmSync(file);
    writeFileSync(join(dir, "pytorch_model.bin"), "pickle");
    await assert.rejects(loadModel(dir), /pickled PyTorch checkpoint/);
    m.dispose();
  });

  it("exposes every projection as a pluggable Linear keyed by its PEFT name", () => {
    const m = createModel({ ...GQA, tieWordEmbeddings: true }, { seed: 9, initStd: 0.2 });
    const names = m.linearNames();
    assert.equal(names.length, GQA.numHiddenLayers * 7 + 1);
    assert.equal(names[0], "model.layers.0.self_attn.q_proj");
    assert.equal(names[names.length - 1], "lm_head");
    const head = m.getLinear("lm_head") as DenseLinear;
    assert.ok(head.shared && head.weight === m.namedParameters().get("model.embed_tokens.weight"), "tied head shares the embedding");
    assert.equal(new Set(m.trainableVariables()).size, m.trainableVariables().length);
    const ids = [[1, 2, 3]];
    const before = m.forward(ids);
    const inner = m.getLinear("model.layers.0.mlp.down_proj");
    const scaled: Linear = { name: inner.name, inFeatures: inner.inFeatures, outFeatures: inner.outFeatures, apply: (x) => tf.mul(inner.apply(x), 0) };
    const old = m.setLinear(inner.name, scaled);
    assert.equal(old, inner);
    const after = m.forward(ids);
    assert.ok(maxAbsDiff(before.dataSync(), after.dataSync()) > 1e-4);
    assert.throws(() => m.setLinear("lm_head", { ...scaled, name: "lm_head" }), /is 32->64, replacement is 48->32/);
    assert.throws(() => m.getLinear("model.layers.9.self_attn.q_proj"), /no linear layer/);
    m.setLinear(inner.name, old);
    const restored = m.forward(ids);
    assert.equal(maxAbsDiff(before.dataSync(), restored.dataSync()), 0);
    tf.dispose([before, after, restored]);
    m.dispose();
  });

  it("counts parameters and reports memory; forward and loss leak no tensors", () => {
    const cfg = defineConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, intermediateSize: 40 });
    const m = createModel(cfg, { seed: 0 });
    // embed 100*16 + per layer (q 16*16 + k 16*8 + v 16*8 + o 16*16 + 3 * 16*40 + 2 norms * 16) + norm 16 + head 100*16
    const expected = 1600 + 2 * (256 + 128 + 128 + 256 + 1920 + 32) + 16 + 1600;
    assert.equal(parameterCount(m), expected);
    const r = memoryReport(m);
    assert.equal(r.trainableParameters, expected);
    assert.equal(r.variableBytes, expected * 4);
    assert.equal(r.kvCacheBytesPerToken, 2 * 2 * 2 * 4 * 4);
    const n0 = tf.memory().numTensors;
    tf.dispose(m.forward([[1, 2, 3]]));
    tf.dispose(m.loss([[1, 2, 3]], [[1, 2, 3]]));
    assert.equal(tf.memory().numTensors, n0);
    m.dispose();
    assert.equal(tf.memory().numTensors, n0 - m.config.numHiddenLayers * 7 - 1 - (2 * 2 + 2));
    assert.throws(() => m.forward([[1]]), /disposed/);
  });

  it("computes rotary frequencies for default, linear, llama3 and dynamic scaling", () => {
    const base = defineConfig({ vocabSize: 8, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 2 });
    const plain = inverseFrequencies(base);
    assert.equal(plain[0], 1);
    assert.ok(Math.abs(plain[1] - 10000 ** (-2 / 16)) < 1e-15);
    const lin = inverseFrequencies({ ...base, ropeScaling: { type: "linear", factor: 4 } });
    plain.forEach((p, i) => assert.ok(Math.abs(lin[i] - p / 4) < 1e-15));
    const l3 = inverseFrequencies({ ...base, ropeScaling: { type: "llama3", factor: 8, originalMaxPositionEmbeddings: 64, lowFreqFactor: 1, highFreqFactor: 4 } });
    // wavelength 2*pi/inv: < 16 kept, > 64 divided by 8, between blended.
    plain.forEach((p, i) => {
      const wl = (2 * Math.PI) / p;
      if (wl < 16) assert.equal(l3[i], p);
      else if (wl > 64) assert.ok(Math.abs(l3[i] - p / 8) < 1e-15);
      else assert.ok(l3[i] < p && l3[i] > p / 8);
    });
    const dyn = createModel({ ...base, maxPositionEmbeddings: 8, ropeScaling: { type: "dynamic", factor: 2 } }, { seed: 1, initStd: 0.3 });
    const ref = createModel({ ...base, maxPositionEmbeddings: 8 }, { seed: 1, initStd: 0.3 });
    const short = [[1, 2, 3, 4, 5, 6, 7, 0]], long = [[1, 2, 3, 4, 5, 6, 7, 0, 1, 2]];
    const [a, b, c, d] = [dyn.forward(short), ref.forward(short), dyn.forward(long), ref.forward(long)];
    assert.equal(maxAbsDiff(a.dataSync(), b.dataSync()), 0, "dynamic NTK changes nothing within max_position_embeddings");
    assert.ok(maxAbsDiff(c.dataSync(), d.dataSync()) > 1e-4, "and rescales beyond it");
    tf.dispose([a, b, c, d]);
    dyn.dispose();
    ref.dispose();
  });
});
