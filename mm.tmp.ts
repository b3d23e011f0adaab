import { loadAddon } from "./lib/tensor/native/addon.js";
const r = loadAddon(); if (!r.ok) throw new Error(r.reason);
const shapes: [number, number, number, boolean, boolean][] = [[1016, 4096, 512, false, true], [1024, 512, 1376, false, false], [1024, 512, 1376, false, true], [1024, 1376, 512, false, true], [1024, 1376, 512, false, false], [8, 512, 1024, true, false], [1024, 8, 512, false, true], [512, 8, 1024, true, false]];
const buf = new ArrayBuffer(96 << 20);
const f = new Float32Array(buf); for (let i = 0; i < f.length; i += 97) f[i] = Math.random();
const res: Record<string, number[]> = {};
for (let round = 0; round < 15; round++) for (const [m, n, k, ta, tb] of shapes) {
  const key = `${m}x${n}x${k} ta${+ta} tb${+tb}`;
  const t0 = performance.now(); r.addon.matmul(buf, 0, 32 << 20, 64 << 20, new Int32Array(0), m, n, k, ta, tb, false);
  (res[key] ??= []).push(2 * m * n * k / (performance.now() - t0) / 1e6);
}
for (const [k, v] of Object.entries(res)) { v.sort((a, b) => b - a); console.log(k.padEnd(28), "best", v[0].toFixed(1), "median", v[7].toFixed(1), "GF/s"); }
