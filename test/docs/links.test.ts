import { strict as assert } from "node:assert";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/cli.js";
import { tempDir, removeTempDirs } from "../support/tmp.js";
import { anchors, brokenLinks, links, slug } from "./markdown.js";

const DOCS = join(ROOT, "docs");
const docPages = () => readdirSync(DOCS).filter((f) => f.endsWith(".md")).sort();

describe("docs/links: the checker", () => {
  after(removeTempDirs);

  it("makes GitHub's anchors: code, punctuation and repeats", () => {
    assert.equal(slug("The main job: `npm start`"), "the-main-job-npm-start");
    assert.equal(slug("GPU: TF.js WebGPU measured beside PyTorch CUDA"), "gpu-tfjs-webgpu-measured-beside-pytorch-cuda");
    assert.equal(
      slug("Measured (`npm run bench -- arena`, this 2-core machine, shared with other jobs: load average 5-10)"),
      "measured-npm-run-bench----arena-this-2-core-machine-shared-with-other-jobs-load-average-5-10",
    );
    assert.equal(slug("Backends and `tslm doctor`"), "backends-and-tslm-doctor");
    assert.equal(slug("snake_case and Ünïcode"), "snake_case-and-ünïcode");
    const a = anchors("# Page\n## Limits\n```sh\n# not a heading\n```\n## Limits ##\n<a id=\"here\"></a>\n");
    assert.deepEqual([...a].sort(), ["here", "limits", "limits-1", "page"]);
  });

  it("finds links outside code only, with their lines", () => {
    const text = "see [a](a.md#x) and ![i](img.png)\n`[no](code.md)`\n```\n[no](fence.md)\n```\n[ref]: b.md \"title\"\n[`c`](c.md)\n";
    assert.deepEqual(links(text), [
      { line: 1, target: "a.md#x" },
      { line: 1, target: "img.png" },
      { line: 6, target: "b.md" },
      { line: 7, target: "c.md" },
    ]);
  });

  it("reports a missing page, a missing anchor and an anchor into a non-page, and passes good links", () => {
    const dir = tempDir("tslm-docs-");
    mkdirSync(join(dir, "docs"));
    writeFileSync(join(dir, "LICENSE"), "text");
    writeFileSync(join(dir, "docs", "a.md"), "# A\n## Quick start\n");
    writeFileSync(
      join(dir, "README.md"),
      [
        "# R",
        "[ok](docs/a.md#quick-start) [ok](#r) [ok](LICENSE) [ok](https://example.com/#x)",
        "[gone](docs/b.md)",
        "[stale](docs/a.md#quick-start-1)",
        "[odd](LICENSE#x)",
        "[self](#nowhere)",
      ].join("\n"),
    );
    assert.deepEqual(brokenLinks(join(dir, "README.md"), dir), [
      "README.md:3: docs/b.md: no such file",
      "README.md:4: docs/a.md#quick-start-1: no heading gives #quick-start-1",
      "README.md:5: LICENSE#x: an anchor into something that is not a Markdown page",
      "README.md:6: #nowhere: no heading gives #nowhere",
    ]);
  });
});

describe("docs/links: README.md and docs/", () => {
  it("every relative link and #anchor in README.md and docs/*.md resolves", () => {
    const files = [join(ROOT, "README.md"), ...docPages().map((f) => join(DOCS, f))];
    const checked = files.reduce((n, f) => n + links(readFileSync(f, "utf8")).length, 0);
    assert.ok(checked > 50, `only ${checked} links found: is the extraction broken?`);
    assert.deepEqual(files.flatMap((f) => brokenLinks(f, ROOT)), []);
  });

  it("the docs index and the README link every docs page", () => {
    const index = new Set(links(readFileSync(join(DOCS, "README.md"), "utf8")).map((l) => l.target.split("#")[0]));
    const readme = new Set(links(readFileSync(join(ROOT, "README.md"), "utf8")).map((l) => l.target.split("#")[0]));
    for (const page of docPages().filter((p) => p !== "README.md")) {
      assert.ok(index.has(page), `docs/README.md does not link ${page}`);
      assert.ok(readme.has(`docs/${page}`), `README.md does not link docs/${page}`);
    }
  });
});
