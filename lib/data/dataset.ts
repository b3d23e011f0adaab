/**
 * The dataset entry point: files or records -> examples -> tokenized samples,
 * split into train and validation, with a report of what was skipped.
 */
import { DataError } from "../util/errors.js";
import { resolveConfig } from "../util/config.js";
import { DataConfigSchema, type DataConfig, type DataConfigInput } from "./config.js";
import { extractExamples, type Example, type SkippedRow } from "./conversations.js";
import { encodeExample, packTokens, type Sample, type TextTokenizer } from "./encode.js";
import { readDatasetFile, rowLabel, sourceFromRecords, type SourceTable } from "./read.js";
import { splitTrainValidation } from "./split.js";

export interface DatasetReport {
  layout: "messages" | "columns" | "text";
  /** Rows read from the training source (and the validation file, if any). */
  rows: number;
  /** Bad rows skipped (onBadRow "skip"). */
  skipped: SkippedRow[];
  /** Examples dropped after tokenization (nothing trainable left). */
  unusable: SkippedRow[];
}

export interface LoadedDataset {
  config: DataConfig;
  train: Sample[];
  validation: Sample[];
  trainExamples: Example[];
  validationExamples: Example[];
  report: DatasetReport;
}

export interface LoadDatasetOptions {
  /** Seed of the validation split. */
  seed?: number;
  /** In-memory records used instead of config.trainFile. */
  records?: readonly Record<string, unknown>[];
  /** In-memory validation records used instead of config.validationFile. */
  validationRecords?: readonly Record<string, unknown>[];
  /** Pack text examples into blocks of config.maxLength tokens (pretraining). */
  pack?: boolean;
}

async function source(file: string | null, records: readonly Record<string, unknown>[] | undefined, what: string): Promise<SourceTable | undefined> {
  if (records) return sourceFromRecords(records, `(${what} records)`);
  if (file) return readDatasetFile(file);
  return undefined;
}

function encodeAll(examples: readonly Example[], cfg: DataConfig, tok: TextTokenizer, pack: boolean, unusable: SkippedRow[]): { samples: Sample[]; kept: Example[] } {
  if (pack && examples.every((e) => e.kind === "text")) {
    // One token stream, documents separated by EOS (when configured), cut into blocks.
    const ids: number[] = [];
    for (const ex of examples) {
      const s = encodeExample(ex, { ...cfg, maxLength: Number.MAX_SAFE_INTEGER }, tok);
      if (typeof s !== "string") ids.push(...s.inputIds);
    }
    return { samples: packTokens(ids, cfg.maxLength, examples[0]?.source ?? {}), kept: [...examples] };
  }
  const samples: Sample[] = [];
  const kept: Example[] = [];
  for (const ex of examples) {
    const s = encodeExample(ex, cfg, tok);
    if (typeof s === "string") {
      if (cfg.onBadRow === "error" && s.startsWith("the sample")) throw new DataError(`${rowLabel(ex.source)}: ${s}`);
      unusable.push({ source: ex.source, reason: s });
    } else {
      samples.push(s);
      kept.push(ex);
    }
  }
  return { samples, kept };
}

/**
 * Loads, checks, tokenizes and splits a dataset.
 * @throws DataError for a bad row (file and line) or when no usable rows remain.
 * @example const ds = await loadDataset({ trainFile: "data.jsonl" }, tokenizer, { seed: 1 });
 */
export async function loadDataset(config: DataConfigInput | DataConfig, tok: TextTokenizer, opts: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const cfg = resolveConfig(DataConfigSchema, config, { prefix: "data" });
  const seed = opts.seed ?? 0;
  const trainSrc = await source(cfg.trainFile, opts.records, "train");
  if (!trainSrc) throw new DataError("no training data: set data.trainFile or pass records", { key: "data.trainFile" });
  const valSrc = await source(cfg.validationFile, opts.validationRecords, "validation");

  const tr = extractExamples(trainSrc, cfg);
  const skipped = [...tr.skipped];
  let trainExamples = tr.examples;
  let validationExamples: Example[] = [];
  if (valSrc) {
    const va = extractExamples(valSrc, cfg);
    skipped.push(...va.skipped);
    validationExamples = va.examples;
  } else {
    const split = splitTrainValidation(trainExamples, cfg.validationSize, seed);
    trainExamples = split.train;
    validationExamples = split.validation;
  }
  const unusable: SkippedRow[] = [];
  const pack = opts.pack ?? cfg.pack;
  const trainEnc = encodeAll(trainExamples, cfg, tok, pack, unusable);
  const valEnc = encodeAll(validationExamples, cfg, tok, pack, unusable);
  const rows = trainSrc.rows.length + (valSrc?.rows.length ?? 0);
  if (trainEnc.samples.length === 0) {
    const why = [
      `${trainSrc.rows.length} row${trainSrc.rows.length === 1 ? "" : "s"} read`,
      skipped.length ? `${skipped.length} bad (first: ${skipped[0].reason})` : "",
      unusable.length ? `${unusable.length} unusable (first: ${rowLabel(unusable[0].source)}: ${unusable[0].reason})` : "",
    ].filter(Boolean);
    throw new DataError(`the training data has no usable rows (${why.join("; ")})`, { file: trainSrc.file });
  }
  return {
    config: cfg,
    train: trainEnc.samples,
    validation: valEnc.samples,
    trainExamples: trainEnc.kept,
    validationExamples: valEnc.kept,
    report: { layout: tr.layout, rows, skipped, unusable },
  };
}
