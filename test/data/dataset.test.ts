import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  loadDataset,
  readDatasetFile,
  parseCsv,
  collate,
  epochOrder,
  batchIndices,
  batchesPerEpoch,
  splitTrainValidation,
  DEFAULT_DATA,
  type Sample,
} from "../../lib/data/index.js";
import { IGNORE_INDEX } from "../../lib/data/encode.js";
import { DataError, ConfigError, FormatError } from "../../lib/util/errors.js";
import { testTokenizer } from "./helpers.js";
import { tempDir } from "../support/tmp.js";

const tok = testTokenizer();
const EOS = "<|end_of_text|>";

function jsonl(dir: string, name: string, rows: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n");
  return file;
}

/** The text of the tokens that carry a loss. */
function trainedText(s: Sample): string {
  return tok.decode(s.inputIds.filter((_, i) => s.labels[i] !== IGNORE_INDEX));
}

describe("data: reading files", () => {
  const dir = tempDir();

  it("parses CSV with quoted commas, quotes and newlines, and keeps record lines", () => {
    const r = parseCsv('prompt,answer\n"a, b","say ""hi"""\n"multi\nline",x\nlast,y\n');
    assert.deepEqual(r.rows, [
      { prompt: "a, b", answer: 'say "hi"' },
      { prompt: "multi\nline", answer: "x" },
      { prompt: "last", answer: "y" },
    ]);
    assert.deepEqual(r.lines, [2, 3, 5]);
  });

  it("reports CSV field-count mismatches and unterminated quotes with their line", () => {
    assert.throws(() => parseCsv("a,b\n1,2\n3\n", "x.csv"), (e: Error) => e instanceof DataError && /x\.csv:3/.test(e.message) && /1 fields/.test(e.message));
    assert.throws(() => parseCsv('a,b\n1,"2\n3,4\n', "y.csv"), (e: Error) => e instanceof DataError && /y\.csv:2/.test(e.message) && /unterminated/.test(e.message));
  });

  it("reports an unparsable JSONL line with file and line", async () => {
    const file = jsonl(dir, "bad.jsonl", [{ prompt: "p", answer: "a" }, "", "{not json", { prompt: "q", answer: "b" }]);
    await assert.rejects(readDatasetFile(file), (e: Error) => e instanceof DataError && e.message.includes(`${file}:3`) && /unparsable JSON/.test(e.message));
  });

  it("reads every text format the same way: a byte-order mark is accepted, invalid UTF-8 and repeated keys are refused with their line", async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const files = {
      jsonl: Buffer.from('{"prompt": "p", "answer": "a"}\n{"prompt": "q", "answer": "b"}\n'),
      json: Buffer.from('[{"prompt": "p", "answer": "a"},\n {"prompt": "q", "answer": "b"}]\n'),
      csv: Buffer.from("prompt,answer\np,a\nq,b\n"),
    };
    for (const [ext, body] of Object.entries(files)) {
      const file = join(dir, `bom.${ext}`);
      writeFileSync(file, Buffer.concat([bom, body]));
      const src = await readDatasetFile(file);
      assert.deepEqual(src.rows, [{ prompt: "p", answer: "a" }, { prompt: "q", answer: "b" }], ext);
      const bad = join(dir, `latin1.${ext}`);
      writeFileSync(bad, Buffer.from(body.toString().replace("b", "\u00e9"), "latin1"));
      await assert.rejects(readDatasetFile(bad), (e: Error) => e instanceof FormatError && e.message.includes(`${bad}:${ext === "csv" ? 3 : 2} at byte`) && /not valid UTF-8/.test(e.message), ext);
    }
    const dup = jsonl(dir, "dup.jsonl", [{ prompt: "p", answer: "a" }, '{"prompt": "q", "answer": "b", "answer": "c"}']);
    await assert.rejects(readDatasetFile(dup), (e: Error) => e instanceof DataError && e.message.includes(`${dup}:2`) && /duplicate key "answer"/.test(e.message));
    const dupArray = join(dir, "dup.json");
    writeFileSync(dupArray, '[{"prompt": "p", "answer": "a"},\n {"prompt": "q", "prompt": "r", "answer": "b"}]');
    await assert.rejects(readDatasetFile(dupArray), (e: Error) => e instanceof DataError && e.message.includes(`${dupArray}:2`) && /duplicate key "prompt"/.test(e.message));
  });

  it("reads Parquet into an arquero table", async () => {
    const file = join(dir, "d.parquet");
    const buf = parquetWriteBuffer({ columnData: [{ name: "prompt", data: ["2+2?", "3+3?"] }, { name: "answer", data: ["4", "6"] }] });
    writeFileSync(file, Buffer.from(buf));
    const src = await readDatasetFile(file);
    assert.equal(src.table.numRows(), 2);
    assert.deepEqual(src.table.columnNames(), ["prompt", "answer"]);
    assert.equal(src.table.get("answer", 1), "6");
    const ds = await loadDataset({ trainFile: file, validationSize: 0 }, tok);
    assert.equal(ds.train.length, 2);
    assert.equal(ds.report.layout, "columns");
  });
});

describe("data: conversations and labels", () => {
  const dir = tempDir();

  it("formats LLM Studio columns with markers and trains only on answers + EOS", async () => {
    const file = jsonl(dir, "a.jsonl", [{ system: "Be brief.", prompt: "What is 2+2?", answer: "4" }]);
    const ds = await loadDataset({ trainFile: file, validationSize: 0 }, tok);
    const s = ds.train[0];
    assert.equal(tok.decode(s.inputIds), `<|system|>Be brief.${EOS}<|prompt|>What is 2+2?${EOS}<|answer|>4${EOS}`);
    assert.equal(trainedText(s), `4${EOS}`);
    assert.equal(tok.decode(s.promptIds), `<|system|>Be brief.${EOS}<|prompt|>What is 2+2?${EOS}<|answer|>`);
    assert.equal(s.reference, "4");
    assert.equal(s.inputIds.length, s.labels.length);
  });

  it("joins several prompt columns with a blank line; maskPromptLabels false trains on everything", async () => {
    const file = jsonl(dir, "b.jsonl", [{ instruction: "Add.", input: "2 and 3", answer: "5" }]);
    const ds = await loadDataset({ trainFile: file, validationSize: 0, promptColumn: ["instruction", "input"], maskPromptLabels: false }, tok);
    const s = ds.train[0];
    assert.ok(tok.decode(s.inputIds).includes("<|prompt|>Add.\n\n2 and 3"));
    assert.equal(s.labels.filter((l) => l === IGNORE_INDEX).length, 0);
  });

  it("chains parent_id rows into conversations (every row, or only whole chains)", async () => {
    const rows = [
      { id: 1, parent_id: null, prompt: "Hi", answer: "Hello" },
      { id: 2, parent_id: 1, prompt: "Name?", answer: "Tslm" },
      { id: 3, parent_id: 2, prompt: "Bye", answer: "Bye!" },
      { id: 4, parent_id: null, prompt: "Solo", answer: "One" },
    ];
    const file = jsonl(dir, "c.jsonl", rows);
    const all = await loadDataset({ trainFile: file, validationSize: 0 }, tok);
    assert.equal(all.train.length, 4);
    const whole = await loadDataset({ trainFile: file, validationSize: 0, limitChainedSamples: true }, tok);
    assert.equal(whole.train.length, 2);
    const chain = whole.trainExamples.find((e) => e.kind === "chat" && e.turns.length === 3);
    assert.ok(chain && chain.kind === "chat");
    assert.deepEqual(chain.turns.map((t) => t.answer), ["Hello", "Tslm", "Bye!"]);
    const s = whole.train[whole.trainExamples.indexOf(chain)];
    assert.equal(trainedText(s), `Hello${EOS}Tslm${EOS}Bye!${EOS}`);
    const last = await loadDataset({ trainFile: file, validationSize: 0, limitChainedSamples: true, onlyLastAnswer: true }, tok);
    assert.equal(trainedText(last.train[whole.trainExamples.indexOf(chain)]), `Bye!${EOS}`);
  });

  it("reads chat messages records and formats them with the chat template", async () => {
    const file = jsonl(dir, "m.jsonl", [
      { messages: [{ role: "system", content: "S" }, { role: "user", content: "U1" }, { role: "assistant", content: "A1" }, { role: "user", content: "U2" }, { role: "assistant", content: "A2" }] },
    ]);
    const ds = await loadDataset({ trainFile: file, validationSize: 0, format: "chat-template" }, tok);
    assert.equal(ds.report.layout, "messages");
    const s = ds.train[0];
    assert.equal(trainedText(s), "A1<|im_end|>\nA2<|im_end|>\n");
    assert.equal(tok.decode(s.promptIds), "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n");
    assert.equal(s.reference, "A2");
  });

  it("reports a bad row with file and line: missing column, wrong type, bad messages", async () => {
    const f1 = jsonl(dir, "e1.jsonl", [{ prompt: "a", answer: "b" }, { prompt: "c" }]);
    await assert.rejects(loadDataset({ trainFile: f1 }, tok), (e: Error) => e instanceof DataError && e.message.includes(`${f1}:2`) && /missing value in column 'answer'/.test(e.message));
    const f2 = jsonl(dir, "e2.jsonl", [{ prompt: "a", answer: "b" }, { prompt: "c", answer: "d" }, { prompt: { x: 1 }, answer: "e" }]);
    await assert.rejects(loadDataset({ trainFile: f2 }, tok), (e: Error) => e instanceof DataError && e.message.includes(`${f2}:3`) && /'prompt' must be text, got object/.test(e.message));
    const f3 = jsonl(dir, "e3.jsonl", [{ messages: [{ role: "user", content: "x" }, { role: "robot", content: "y" }] }]);
    await assert.rejects(loadDataset({ trainFile: f3 }, tok), (e: Error) => e instanceof DataError && e.message.includes(`${f3}:1`) && /messages\[1\]\.role/.test(e.message));
    const csv = join(dir, "e4.csv");
    writeFileSync(csv, "prompt,answer\nok,fine\nempty,\n");
    await assert.rejects(loadDataset({ trainFile: csv }, tok), (e: Error) => e instanceof DataError && e.message.includes(`${csv}:3`) && /empty answer/.test(e.message));
  });

  it("skips bad rows when asked, listing them, and refuses a dataset with no usable rows", async () => {
    const f = jsonl(dir, "s.jsonl", [{ prompt: "a", answer: "b" }, { prompt: "c" }, { prompt: "d", answer: "e" }]);
    const ds = await loadDataset({ trainFile: f, onBadRow: "skip", validationSize: 0 }, tok);
    assert.equal(ds.train.length, 2);
    assert.equal(ds.report.skipped.length, 1);
    assert.equal(ds.report.skipped[0].source.line, 2);
    const none = jsonl(dir, "n.jsonl", [{ prompt: "c", answer: null }, { prompt: "d", answer: "" }]);
    await assert.rejects(loadDataset({ trainFile: none, onBadRow: "skip" }, tok), (e: Error) => e instanceof DataError && /no usable rows/.test(e.message) && /2 bad/.test(e.message));
    const cols = jsonl(dir, "w.jsonl", [{ question: "x", reply: "y" }]);
    await assert.rejects(loadDataset({ trainFile: cols }, tok), (e: Error) => e instanceof DataError && /no usable columns/.test(e.message) && /'question'/.test(e.message));
  });

  it("truncates from the left keeping the answer; a sample whose answer cannot fit is unusable", async () => {
    const long = "word ".repeat(200);
    const f = jsonl(dir, "t.jsonl", [{ prompt: long, answer: "short answer" }, { prompt: "p", answer: long }]);
    const ds = await loadDataset({ trainFile: f, validationSize: 0, maxLength: 64 }, tok);
    assert.equal(ds.train.length, 2);
    assert.ok(ds.train.every((s) => s.inputIds.length === 64));
    assert.equal(trainedText(ds.train[0]), `short answer${EOS}`);
    const right = await loadDataset({ trainFile: f, validationSize: 0, maxLength: 64, truncation: "right" }, tok);
    assert.equal(right.train.length, 1, "with right truncation the long prompt leaves no answer");
    assert.equal(right.report.unusable.length, 1);
    assert.match(right.report.unusable[0].reason, /no answer tokens left after truncating to maxLength 64/);
  });

  it("rejects unknown config keys by name", async () => {
    await assert.rejects(loadDataset({ trainFile: "x.jsonl", maskPromptLabel: true } as never, tok), (e: Error) => e instanceof ConfigError && /data\.maskPromptLabel/.test(e.message));
  });
});

describe("data: split and batches", () => {
  it("splits with a seed (ceil of the fraction), the same way every time", () => {
    const items = Array.from({ length: 250 }, (_, i) => i);
    const a = splitTrainValidation(items, 0.01, 7);
    const b = splitTrainValidation(items, 0.01, 7);
    const c = splitTrainValidation(items, 0.01, 8);
    assert.equal(a.validation.length, 3);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.validation, c.validation);
    assert.equal(DEFAULT_DATA.validationSize, 0.01);
  });

  it("uses a separate validation file when given", async () => {
    const dir = tempDir();
    const tr = jsonl(dir, "tr.jsonl", [{ prompt: "a", answer: "b" }, { prompt: "c", answer: "d" }]);
    const va = jsonl(dir, "va.jsonl", [{ prompt: "e", answer: "f" }]);
    const ds = await loadDataset({ trainFile: tr, validationFile: va }, tok);
    assert.equal(ds.train.length, 2);
    assert.equal(ds.validation.length, 1);
    assert.equal(ds.validation[0].reference, "f");
  });

  it("orders epochs by (seed, epoch) and pads batches on the right with ignored labels", () => {
    assert.deepEqual(epochOrder(10, 3, 1), epochOrder(10, 3, 1));
    assert.notDeepEqual(epochOrder(10, 3, 1), epochOrder(10, 3, 2));
    assert.equal(batchesPerEpoch(5, 2), 2);
    assert.equal(batchesPerEpoch(1, 2), 1);
    assert.deepEqual(batchIndices(10, 4, 3, { epoch: 1, batch: 1 }), epochOrder(10, 3, 1).slice(4, 8));
    const s1: Sample = { inputIds: [5, 6, 7], labels: [IGNORE_INDEX, 6, 7], promptIds: [5], reference: "", source: {} };
    const s2: Sample = { inputIds: [8, 9], labels: [IGNORE_INDEX, 9], promptIds: [8], reference: "", source: {} };
    const b = collate([s1, s2], 0);
    assert.equal(b.length, 3);
    assert.deepEqual([...b.inputIds], [5, 6, 7, 8, 9, 0]);
    assert.deepEqual([...b.labels], [IGNORE_INDEX, 6, 7, IGNORE_INDEX, 9, IGNORE_INDEX]);
    assert.deepEqual([...b.attentionMask], [1, 1, 1, 1, 1, 0]);
    assert.equal(b.targetTokens, 3);
  });
});
