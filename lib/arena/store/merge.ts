/**
 * Merging runs split over machines (`shard: {index, count}` in each config):
 * the shards must share the config hash (which leaves out the shard), the
 * suite hash and the seed; their records are united by id into a new run
 * folder. The merged run is complete when every shard 0..count-1 is present
 * and complete, and then loads exactly like the same run played on one machine.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError } from "../../util/errors.js";
import type { RunMeta } from "../types.js";
import { writeFileAtomic } from "../../util/atomic.js";
import { JournalWriter, readJournal, type JournalEntry } from "./journal.js";
import { RUN_FILES } from "./layout.js";
import { RecordIndex } from "./records.js";
import { orderedRecords, loadRun, type LoadedRun } from "./load.js";

export interface MergeResult {
  dir: string;
  complete: boolean;
  runs: number;
  missingShards: number[];
  counts: { answers: number; judgments: number; battles: number; battle_errors: number };
}

/**
 * Refuses a run given twice: the same folder (by its real path), two copies
 * of one shard, or two copies of one unsharded run (same id and start). A
 * repeat would add nothing, and a "complete" merge of shard 0 twice would
 * hide the shards that are missing.
 */
function refuseRepeats(runs: LoadedRun[]): void {
  const seen = new Map<string, string>();
  for (const r of runs) {
    const folder = realpathSync(resolve(r.dir));
    const copy = r.meta.shard ? `shard ${r.meta.shard.index}/${r.meta.shard.count}` : `run ${r.meta.id} started ${r.meta.created}`;
    for (const [key, what] of [
      [`folder:${folder}`, "the same run folder"],
      [`copy:${copy}`, `both ${copy}`],
    ]) {
      const before = seen.get(key);
      if (before !== undefined) throw new ConfigError(`cannot merge ${r.dir} with ${before}: they are ${what}; give each shard once`);
      seen.set(key, r.dir);
    }
  }
}

/** Merges run folders into a new run folder `out`. */
export async function mergeRuns(dirs: string[], out: string): Promise<MergeResult> {
  if (dirs.length < 1) throw new ConfigError("merge needs at least one run folder");
  if (existsSync(join(out, RUN_FILES.meta))) throw new ConfigError(`${out} already holds a run; merge into a new folder`);
  const runs: LoadedRun[] = dirs.map((d) => loadRun(d));
  refuseRepeats(runs);
  const first = runs[0];
  for (const r of runs.slice(1)) {
    for (const k of ["configHash", "suiteHash", "seed"] as const) {
      if (r.meta[k] !== first.meta[k]) {
        throw new ConfigError(`cannot merge ${r.dir} with ${first.dir}: their ${k} differ (${r.meta[k]} vs ${first.meta[k]}); only shards of one run config merge`);
      }
    }
  }
  const count = first.meta.shard?.count;
  const seen = new Set<number>();
  for (const r of runs) {
    if (r.meta.shard?.count !== count) throw new ConfigError(`cannot merge ${r.dir}: shard count ${r.meta.shard?.count ?? "none"} differs from ${count ?? "none"}`);
    if (r.meta.shard) seen.add(r.meta.shard.index);
  }
  const missingShards = count === undefined ? [] : [...Array(count).keys()].filter((i) => !seen.has(i));
  const complete = missingShards.length === 0 && runs.every((r) => r.meta.complete);

  const index = new RecordIndex();
  for (const r of runs) {
    for (const e of readJournal(join(r.dir, RUN_FILES.journal)).entries) if (e.type !== "end" && e.type !== "session") index.ingest(e);
  }
  const o = orderedRecords(index, first.suite, first.contestants);
  const meta: RunMeta = {
    ...first.meta,
    id: basename(resolve(out)),
    created: new Date().toISOString(),
    shard: undefined,
    mergedFrom: runs.map((r) => r.meta.id),
  };
  delete (meta as Partial<LoadedRun["meta"]>).complete;
  delete (meta as Partial<LoadedRun["meta"]>).sessions;
  delete (meta as Partial<LoadedRun["meta"]>).torn_bytes;
  const config = { ...first.config, shard: undefined };
  writeFileAtomic(join(out, RUN_FILES.config), JSON.stringify(config, null, 2) + "\n");
  writeFileAtomic(join(out, RUN_FILES.suite), JSON.stringify(first.suite) + "\n");
  writeFileAtomic(join(out, RUN_FILES.contestants), JSON.stringify(first.contestants, null, 2) + "\n");
  const counts = { answers: o.answers.length, judgments: o.judgments.length, battles: o.battles.length, battle_errors: o.battleErrors.length };
  const entries: JournalEntry[] = [
    { type: "session", started: meta.created, merged_from: meta.mergedFrom },
    ...o.answers.map((r) => ({ type: "answer", ...r })),
    ...o.judgments.map((r) => ({ type: "judgment", ...r })),
    ...o.battles.map((r) => ({ type: "battle", ...r })),
    ...o.battleErrors.map((r) => ({ type: "battle_error", ...r })),
  ];
  if (complete) entries.push({ type: "end", finished: meta.created, counts });
  const w = await JournalWriter.open(join(out, RUN_FILES.journal), "batch");
  await w.appendMany(entries);
  await w.close();
  writeFileAtomic(join(out, RUN_FILES.meta), JSON.stringify(meta, null, 2) + "\n");
  return { dir: out, complete, runs: runs.length, missingShards, counts };
}
