import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/cli.js";

const readme = () => readFileSync(join(ROOT, "README.md"), "utf8");

/** The first fenced `sh` block of the README: the commands a newcomer runs first. */
function firstCommands(text: string): string[] {
  const m = /^```sh\n([\s\S]*?)^```/m.exec(text);
  assert.ok(m, "README.md has no ```sh block");
  return m[1]
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l !== "");
}

describe("docs/readme: what a newcomer reads first", () => {
  it("shows the main job and the test command in its first lines, as package.json and .ci/run run them", () => {
    const text = readme();
    const top = text.split("\n").slice(0, 40).join("\n");
    assert.deepEqual(firstCommands(text), ["npm install && npm start", "npm test"]);
    assert.ok(top.includes("npm install && npm start") && top.includes("npm test"), "the two commands are not in the first 40 lines");
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.start, /\bbin\/tslm\.js demo$/, "npm start is the demo the README describes");
    assert.match(scripts.test, /scripts\/test\.mjs/);
    assert.match(readFileSync(join(ROOT, ".ci", "run"), "utf8"), /^npm test$/m, ".ci/run runs the README's test command");
  });

  it("stays an introduction (under 400 lines) and points to the reference in docs/", () => {
    const text = readme();
    const lines = text.split("\n").length;
    assert.ok(lines < 400, `README.md has ${lines} lines: move reference material to docs/`);
    assert.ok(text.includes("](docs/README.md)"), "the README links the docs index");
    assert.match(text, /^## Limits$/m, "the README says what does not work yet");
  });
});
