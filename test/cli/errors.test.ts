/**
 * Failures as a user meets them: one line on stderr naming what and where,
 * no stack trace, and the exit status the docs give (1 failure, 2 bad
 * option value).
 */
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { oneErrorLine, tslm, tslmInProcess } from "../support/cli.js";
import { removeTempDirs, tempDir } from "../support/tmp.js";

/** A YAML file whose aliases expand to 9^8 items (a "billion laughs" file). */
const ALIAS_BOMB = ["a: &a [x, x, x, x, x, x, x, x, x]", ..."bcdefgh".split("").map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`)].join("\n") + "\n";

describe("cli: one-line errors and exit statuses", function () {
  this.timeout(180_000);
  const dir = tempDir();
  const plainFile = join(dir, "plain.txt");
  writeFileSync(plainFile, "not a folder\n");
  after(removeTempDirs);

  it("names an output folder that cannot be made: under a regular file (ENOTDIR), or under /proc (where mkdir spun forever)", () => {
    const r = tslm("finetune", "--model", join(dir, "none"), "--data", join(dir, "none.jsonl"), "--output", join(plainFile, "run"));
    assert.equal(r.status, 1);
    assert.match(oneErrorLine(r), /FileError: cannot create output folder: .*plain\.txt is a file, not a folder/);
    const t0 = performance.now();
    const proc = tslm("finetune", "--model", join(dir, "none"), "--data", join(dir, "none.jsonl"), "--output", "/proc/nope/x");
    assert.equal(proc.status, 1);
    assert.match(oneErrorLine(proc), /cannot create output folder: \/proc does not take new folders/);
    const kernel = tslm("kernel", "install", "--prefix", "/proc/nope");
    assert.equal(kernel.status, 1);
    assert.match(oneErrorLine(kernel), /cannot create kernelspec folder: \/proc does not take new folders/);
    assert.ok(performance.now() - t0 < 60_000);
  });

  it("names the folder of export gguf --out before loading the model", () => {
    const r = tslm("export", "gguf", "--model", join(dir, "none"), "--out", join(plainFile, "dir", "x.gguf"));
    assert.equal(r.status, 1);
    assert.match(oneErrorLine(r), /cannot create folder for --out: .*plain\.txt is a file, not a folder/);
  });

  it("names --vote-host when the voting page cannot be served there (exit 2)", () => {
    const r = tslm("arena", "run", join(dir, "none.yaml"), "--vote", "--vote-host", "not.a.host.invalid");
    assert.equal(r.status, 2);
    assert.match(oneErrorLine(r), /UsageError: --vote-host: cannot serve the voting page on not\.a\.host\.invalid/);
  });

  it("refuses a YAML alias bomb in one line", () => {
    const file = join(dir, "bomb.yaml");
    writeFileSync(file, ALIAS_BOMB);
    const r = tslm("finetune", file);
    assert.equal(r.status, 1);
    assert.match(oneErrorLine(r), /ConfigError: invalid YAML: Excessive alias count.*bomb\.yaml/);
  });

  it("bounds numeric flags and exits 2 on bad option values", async () => {
    const cases: [string[], RegExp][] = [
      [["arena", "rate", join(dir, "none.jsonl"), "--bootstrap", "1e12"], /--bootstrap expects an integer >= 0 and <= \d+, got '1e12'/],
      [["generate", "--model", "m", "--prompt", "p", "--repetition-penalty", "0"], /--repetition-penalty expects a number > 0, got '0'/],
      [["generate", "--model", "m", "--prompt", "p", "--top-p", "2"], /--top-p expects a number > 0 and <= 1, got '2'/],
      [["finetune", "--batch-size", "1e9"], /--batch-size expects an integer >= 1 and <= 65536, got '1e9'/],
      [["eval", "--model", "m", "--data", "d", "--max-new-tokens", "-1"], /--max-new-tokens expects an integer >= 1/],
      [["export", "gguf", "--model", "m", "--out", "x.gguf", "--type", "q4_k"], /--type must be f32, f16 or q8_0, got 'q4_k'/],
      [["notebook", "run", "x.ipynb", "--timeout", "0"], /--timeout expects a number > 0/],
      [["demo", "--prompts", "many"], /--prompts expects an integer > 0, got 'many'/],
      [["generate", "--model", "m", "--prompt", "p", "--system", "s"], /--system needs --chat/],
    ];
    // In this process (the flags fail before any work starts); one case in a child process below.
    for (const [args, message] of cases) {
      const r = await tslmInProcess(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(oneErrorLine(r), message);
    }
    const child = tslm(...cases[0][0]);
    assert.equal(child.status, 2);
    assert.match(oneErrorLine(child), cases[0][1]);
    assert.equal(tslm("generate", "--no-such-flag").status, 2, "commander's usage errors too");
  });

  it("refuses the same run folder twice in arena merge", () => {
    const run = join(dir, "run");
    const r = tslm("arena", "merge", join(dir, "merged"), run, `${run}/`);
    assert.equal(r.status, 2);
    assert.match(oneErrorLine(r), /run folder .*run\/ is given twice \(also as .*run\): each input counts once/);
  });

  it("checks notebooks before running nbconvert (which answers a missing file with its help)", () => {
    const missing = tslm("notebook", "run", join(dir, "nope.ipynb"));
    assert.equal(missing.status, 1);
    assert.match(oneErrorLine(missing), /FileError: cannot read notebook: no such file or folder .*nope\.ipynb/);
    const notNotebook = join(dir, "data.ipynb");
    writeFileSync(notNotebook, '{"rows": []}');
    assert.match(oneErrorLine(tslm("notebook", "run", notNotebook)), /not a Jupyter notebook: expected a JSON object with a 'cells' array/);
  });
});
