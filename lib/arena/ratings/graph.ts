/**
 * The comparison graph of a battle log, and when its Bradley-Terry ratings
 * exist.
 *
 * Ratings are only comparable inside a connected component of the
 * comparison graph. Inside one, the maximum-likelihood ratings are finite
 * exactly when the directed win graph (an edge i -> j when i scored against
 * j: a win, or a tie counting half) is strongly connected (Ford 1957,
 * "Solution of a ranking problem from binary comparisons"; Hunter 2004,
 * "MM algorithms for generalized Bradley-Terry models", Assumption 1). A
 * model that never lost to the others has rating +infinity in the limit, one
 * that never won has -infinity, and no finite number is its estimate.
 *
 * `identify` splits each component like BradleyTerryScalable does: the
 * largest strongly connected group is fitted (its ratings are finite), the
 * models that beat it without ever losing to it are "above" (+infinity), the
 * ones it beats without losses are "below" (-infinity), and any other model
 * cannot be placed against it.
 */
import type { PairLayout } from "./compact.js";
import type { PairStats } from "./bt.js";

/**
 * Connected components of the comparison graph ([M] component id per
 * model, numbered from 0). Pairs with weight 0 are left out when `weight` is given.
 */
export function components(m: number, pairs: { i: Int32Array; j: Int32Array }, weight?: Float64Array): Int32Array {
  const parent = Int32Array.from({ length: m }, (_, k) => k);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let p = 0; p < pairs.i.length; p++) {
    if (weight && !(weight[p] > 0)) continue;
    const x = find(pairs.i[p]);
    const y = find(pairs.j[p]);
    if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
  }
  const id = new Int32Array(m).fill(-1);
  const out = new Int32Array(m);
  let next = 0;
  for (let k = 0; k < m; k++) {
    const r = find(k);
    if (id[r] < 0) id[r] = next++;
    out[k] = id[r];
  }
  return out;
}

/** [M] 1 for models with at least one battle of weight > 0. */
export function playedMask(m: number, layout: Pick<PairLayout, "i" | "j">, stats: Pick<PairStats, "N">): Uint8Array {
  const played = new Uint8Array(m);
  for (let q = 0; q < layout.i.length; q++) {
    if (stats.N[q] > 0) {
      played[layout.i[q]] = 1;
      played[layout.j[q]] = 1;
    }
  }
  return played;
}

/** Subtracts from each played model the mean of `v` over the played models of its component (in place). */
export function centreComponents(v: Float64Array, comp: Int32Array, played: Uint8Array): void {
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  for (let k = 0; k < v.length; k++) {
    if (!played[k]) continue;
    sum.set(comp[k], (sum.get(comp[k]) ?? 0) + v[k]);
    count.set(comp[k], (count.get(comp[k]) ?? 0) + 1);
  }
  for (let k = 0; k < v.length; k++) if (played[k]) v[k] -= sum.get(comp[k])! / count.get(comp[k])!;
}

/** Where a model's rating stands (a number per model, in `Identification.placement`). */
export const Placement = {
  /** Finite maximum-likelihood rating. */
  Rated: 0,
  /** Never lost to the rated models of its group: +infinity. */
  Above: 1,
  /** Never beat them: -infinity. */
  Below: 2,
  /** Neither: no rating relative to the rated models. */
  Unplaced: 3,
  /** No battles. */
  Unplayed: 4,
} as const;
export type Placement = (typeof Placement)[keyof typeof Placement];

export interface Identification {
  /** [M] Placement of each model. */
  placement: Uint8Array;
  /** True when every model that played has a finite rating. */
  identifiable: boolean;
}

/** Directed win graph in compressed rows: `out` edges (i beat j) and `in` edges. */
interface WinGraph {
  outStart: Int32Array;
  outTo: Int32Array;
  inStart: Int32Array;
  inTo: Int32Array;
}

function winGraph(m: number, layout: Pick<PairLayout, "i" | "j">, stats: PairStats): WinGraph {
  const edges: [number, number][] = [];
  for (let q = 0; q < layout.i.length; q++) {
    const n = stats.N[q];
    if (!(n > 0)) continue;
    if (stats.S[q] > 0) edges.push([layout.i[q], layout.j[q]]);
    if (stats.S[q] < n) edges.push([layout.j[q], layout.i[q]]);
  }
  const csr = (from: 0 | 1): [Int32Array, Int32Array] => {
    const start = new Int32Array(m + 1);
    for (const e of edges) start[e[from] + 1]++;
    for (let k = 0; k < m; k++) start[k + 1] += start[k];
    const fill = start.slice(0, m);
    const to = new Int32Array(edges.length);
    for (const e of edges) to[fill[e[from]]++] = e[1 - from];
    return [start, to];
  };
  const [outStart, outTo] = csr(0);
  const [inStart, inTo] = csr(1);
  return { outStart, outTo, inStart, inTo };
}

/** Strongly connected components (Tarjan's algorithm, iterative): [M] component id. */
export function strongComponents(m: number, start: Int32Array, to: Int32Array): Int32Array {
  const index = new Int32Array(m).fill(-1);
  const low = new Int32Array(m);
  const comp = new Int32Array(m).fill(-1);
  const onStack = new Uint8Array(m);
  const stack: number[] = [];
  const frames: number[] = []; // pairs (node, next edge)
  let counter = 0;
  let next = 0;
  for (let root = 0; root < m; root++) {
    if (index[root] >= 0) continue;
    frames.push(root, start[root]);
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const v = frames[frames.length - 2];
      const e = frames[frames.length - 1];
      if (e < start[v + 1]) {
        frames[frames.length - 1] = e + 1;
        const w = to[e];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frames.push(w, start[w]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      frames.length -= 2;
      if (frames.length > 0) {
        const parent = frames[frames.length - 2];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = next;
        } while (w !== v);
        next++;
      }
    }
  }
  return comp;
}

/** Marks every model reachable from the `seed` models along the edges into `mark`. */
function reach(seed: number[], start: Int32Array, to: Int32Array, mark: Uint8Array): void {
  const queue = [...seed];
  for (const s of seed) mark[s] = 1;
  while (queue.length > 0) {
    const v = queue.pop()!;
    for (let e = start[v]; e < start[v + 1]; e++) {
      if (!mark[to[e]]) {
        mark[to[e]] = 1;
        queue.push(to[e]);
      }
    }
  }
}

/**
 * Which models have a finite maximum-likelihood rating (see the module
 * comment). O(models + pairs).
 * @example identify(2, layout, stats).placement // [Above, Below] for one win of model 0 over model 1
 */
export function identify(m: number, layout: Pick<PairLayout, "i" | "j">, stats: PairStats): Identification {
  const placement = new Uint8Array(m).fill(Placement.Unplayed);
  const played = playedMask(m, layout, stats);
  // Fast path: every pair scored both ways, so strong and plain connectivity agree.
  let twoWay = true;
  for (let q = 0; q < layout.i.length && twoWay; q++) if (stats.N[q] > 0 && !(stats.S[q] > 0 && stats.S[q] < stats.N[q])) twoWay = false;
  if (twoWay) {
    for (let k = 0; k < m; k++) if (played[k]) placement[k] = Placement.Rated;
    return { placement, identifiable: true };
  }
  const g = winGraph(m, layout, stats);
  const strong = strongComponents(m, g.outStart, g.outTo);
  const comp = components(m, layout, stats.N);
  const groups = new Map<number, number[]>();
  for (let k = 0; k < m; k++) if (played[k]) groups.set(comp[k], [...(groups.get(comp[k]) ?? []), k]);
  let identifiable = true;
  for (const members of groups.values()) {
    if (!placeGroup(members, strong, g, placement)) identifiable = false;
  }
  return { placement, identifiable };
}

/** Places the models of one connected component; false when some have no finite rating. */
function placeGroup(members: number[], strong: Int32Array, g: WinGraph, placement: Uint8Array): boolean {
  const sizes = new Map<number, number>();
  for (const k of members) sizes.set(strong[k], (sizes.get(strong[k]) ?? 0) + 1);
  if (sizes.size === 1) {
    for (const k of members) placement[k] = Placement.Rated;
    return true;
  }
  // The largest strongly connected group (first by model order among equals) is the rated one.
  let main = -1;
  for (const k of members) if (sizes.get(strong[k])! >= 2 && (main < 0 || sizes.get(strong[k])! > sizes.get(main)!)) main = strong[k];
  const m = placement.length;
  const above = new Uint8Array(m);
  const below = new Uint8Array(m);
  if (main >= 0) {
    const core = members.filter((k) => strong[k] === main);
    reach(core, g.outStart, g.outTo, below); // beaten (through a chain of wins) by the rated group
    reach(core, g.inStart, g.inTo, above); // beat the rated group through a chain of wins
    for (const k of members) placement[k] = strong[k] === main ? Placement.Rated : above[k] ? Placement.Above : below[k] ? Placement.Below : Placement.Unplaced;
  } else {
    // No two models beat each other both ways: the wins form an order without a rated core.
    for (const k of members) {
      const lost = g.inStart[k + 1] > g.inStart[k];
      const won = g.outStart[k + 1] > g.outStart[k];
      placement[k] = !lost ? Placement.Above : !won ? Placement.Below : Placement.Unplaced;
    }
  }
  return false;
}
