/**
 * The tslm kernel over the Jupyter protocol: preloaded library (values and
 * types, from a folder outside the repository), execute_input and counts,
 * execute_result, error outputs for type errors and exceptions, cells after
 * an error, displays, shutdown with pending timers.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient, ofType } from "./support/client.js";

type Content = Record<string, unknown>;
const content = (m: { content: unknown }) => m.content as Content;

describe("kernel (Jupyter protocol)", function () {
  this.timeout(120000);
  let k: KernelClient;

  before(async () => {
    k = await KernelClient.start();
  });
  after(async () => {
    await k?.close();
  });

  it("answers kernel_info with TypeScript language info", async () => {
    const r = await k.send("kernel_info_request", {}).reply;
    const c = content(r);
    assert.equal(c.status, "ok");
    assert.equal(c.implementation, "tslm");
    assert.equal((c.language_info as Content).name, "typescript");
    assert.match(String(c.banner), /tslab 1\.0\.22/);
  });

  it("sends execute_input with a count and the last value as execute_result", async () => {
    const r = await k.execute("const a: number = 20;\na * 2 + 2");
    assert.equal(content(r.reply).status, "ok");
    const input = ofType(r, "execute_input")[0];
    assert.equal(content(input).code, "const a: number = 20;\na * 2 + 2");
    const count = content(input).execution_count;
    assert.equal(typeof count, "number");
    assert.equal(content(r.reply).execution_count, count);
    const result = ofType(r, "execute_result")[0];
    assert.deepEqual((content(result).data as Content)["text/plain"], "42");
    assert.equal(content(result).execution_count, count);
  });

  it("preloads tslm: values and types with no import", async () => {
    const r = await k.execute('const spec: VegaLiteSpec = { mark: "bar" };\nconst report: BackendReport | undefined = backendReport();\n[typeof vegaLite, typeof table, typeof init, typeof tf.tensor, spec.mark].join(",")');
    assert.equal(content(r.reply).status, "ok", JSON.stringify(r.iopub.map((m) => m.content)));
    assert.equal((content(ofType(r, "execute_result")[0]).data as Content)["text/plain"], "'function,function,function,function,bar'");
    // The types are tslm's: a wrong one is a type error.
    const bad = await k.execute("const n: number = vegaLite;");
    assert.equal(content(bad.reply).status, "error");
    assert.match(String(content(bad.reply).evalue), /TS2322/);
  });

  it("resolves shorthand properties and destructuring defaults that name earlier cells' variables", async () => {
    await k.execute("const model = { name: 'tiny' };\nlet steps = 3;");
    const r = await k.execute("const job = { model, steps, table };\n({ steps } = { steps: 7 });\nconst { missing = steps } = {} as { missing?: number };\n[job.model.name, job.steps, steps, missing, typeof job.table].join(',')");
    assert.equal(content(r.reply).status, "ok", JSON.stringify(r.iopub.map((m) => m.content)));
    assert.equal((content(ofType(r, "execute_result")[0]).data as Content)["text/plain"], "'tiny,3,7,7,function'");
    // Shorthand in a nested function and as an assignment target with a default.
    const nested = await k.execute("const make = () => ({ model, steps });\n({ steps = 11 } = {} as { steps?: number });\n[make().model.name, steps].join(',')");
    assert.equal((content(ofType(nested, "execute_result")[0]).data as Content)["text/plain"], "'tiny,11'");
  });

  it("reports a type error as an error output, and the next cell still runs", async () => {
    const r = await k.execute('const s: number = "text";');
    assert.equal(content(r.reply).status, "error");
    const err = ofType(r, "error")[0];
    assert.ok(err, "an error message on iopub");
    const c = content(err);
    assert.equal(c.ename, "TSError");
    assert.match(String(c.evalue), /cell:1:7 TS2322: Type 'string' is not assignable to type 'number'/);
    assert.ok((c.traceback as string[]).some((l) => l.includes('const s: number = "text";')));
    const next = await k.execute("'still running'");
    assert.equal(content(next.reply).status, "ok");
    assert.equal((content(ofType(next, "execute_result")[0]).data as Content)["text/plain"], "'still running'");
    assert.equal(content(next.reply).execution_count, (content(r.reply).execution_count as number) + 1);
  });

  it("reports exceptions (also after await) with ename, evalue and traceback", async () => {
    const r = await k.execute("await new Promise((r) => setTimeout(r, 5));\nthrow new RangeError('bad step 3');");
    assert.equal(content(r.reply).status, "error");
    const c = content(ofType(r, "error")[0]);
    assert.equal(c.ename, "RangeError");
    assert.equal(c.evalue, "bad step 3");
    assert.equal((c.traceback as string[])[0], "RangeError: bad step 3");
    const thrown = await k.execute("throw { code: 7 };");
    assert.equal(content(ofType(thrown, "error")[0]).ename, "Thrown");
  });

  it("keeps stdout and displays in order, and updates displays in place", async () => {
    const r = await k.execute('console.log("before");\nconst h = display(markdown("**one**"));\nawait h.ready;\nawait h.update(markdown("**two**"));\nconsole.error("after");');
    assert.equal(content(r.reply).status, "ok");
    const kinds = r.iopub.map((m) => m.header.msg_type);
    assert.deepEqual(kinds, ["execute_input", "stream", "display_data", "update_display_data", "stream"]);
    const shown = content(r.iopub[2]);
    const updated = content(r.iopub[3]);
    assert.equal((shown.data as Content)["text/markdown"], "**one**");
    assert.equal((updated.data as Content)["text/markdown"], "**two**");
    assert.equal((shown.transient as Content).display_id, (updated.transient as Content).display_id);
  });

  it("renders objects implementing Symbol.for('Jupyter.display') and charts as rich results", async () => {
    const r = await k.execute(
      'class Box { [Symbol.for("Jupyter.display")]() { return { "text/html": "<b>box</b>" }; } }\nnew Box()',
    );
    const data = content(ofType(r, "execute_result")[0]).data as Content;
    assert.equal(data["text/html"], "<b>box</b>");
    assert.equal(typeof data["text/plain"], "string");
    const chart = await k.execute('vegaLite({ data: { values: [{ x: 1, y: 2 }] }, mark: "point", encoding: { x: { field: "x", type: "quantitative" } } })');
    const cd = content(ofType(chart, "execute_result")[0]).data as Content;
    assert.equal(typeof cd["application/vnd.vegalite.v5+json"], "object");
    assert.match(String(cd["image/svg+xml"]), /^<svg/);
  });

  it("completes and inspects preloaded names and earlier declarations", async () => {
    await k.execute("const longVariableName = 3;");
    const c = content(await k.send("complete_request", { code: "longVar", cursor_pos: 7 }).reply);
    assert.equal(c.status, "ok");
    assert.ok((c.matches as string[]).includes("longVariableName"));
    assert.equal(c.cursor_start, 0);
    const lib = content(await k.send("complete_request", { code: "vegaL", cursor_pos: 5 }).reply);
    assert.ok((lib.matches as string[]).includes("vegaLite"));
    const i = content(await k.send("inspect_request", { code: "vegaLite", cursor_pos: 3, detail_level: 0 }).reply);
    assert.equal(i.found, true);
    assert.match(String((i.data as Content)["text/plain"]), /vegaLite\(spec: VegaLiteSpec, options\?: ChartOptions\)[\s\S]*A chart that displays itself/);
    const incomplete = content(await k.send("is_complete_request", { code: "for (let i = 0; i < 3; i++) {" }).reply);
    assert.equal(incomplete.status, "incomplete");
  });

  it("loads ES modules from cells through require(esm), and explains top-level await", async () => {
    writeFileSync(join(k.dir, "answer.mjs"), "export const answer = 42;\n");
    const r = await k.execute('const { answer } = require("./answer.mjs");\nanswer');
    assert.equal(content(r.reply).status, "ok", JSON.stringify(r.iopub.map((m) => m.content)));
    assert.equal((content(ofType(r, "execute_result")[0]).data as Content)["text/plain"], "42");
    writeFileSync(join(k.dir, "tla.mjs"), "await Promise.resolve();\nexport const x = 1;\n");
    const tla = await k.execute('require("./tla.mjs")');
    assert.match(String(content(tla.reply).evalue), /uses top-level await/);
  });

  it("compiles local .ts modules a cell imports, and the modules they import", async () => {
    writeFileSync(join(k.dir, "twice.ts"), "export const twice = (n: number): number => n * 2;\n");
    writeFileSync(join(k.dir, "helper.ts"), 'import { twice } from "./twice";\nexport const four: number = twice(2);\n');
    const r = await k.execute('import { four } from "./helper";\nfour + 1');
    assert.equal(content(r.reply).status, "ok", JSON.stringify(r.iopub.map((m) => m.content)));
    assert.equal((content(ofType(r, "execute_result")[0]).data as Content)["text/plain"], "5");
    // A type error inside an imported module is the cell's error.
    writeFileSync(join(k.dir, "broken.ts"), 'export const n: number = "not a number";\n');
    const bad = await k.execute('import { n } from "./broken";\nn');
    assert.equal(content(bad.reply).status, "error");
    assert.match(String(content(bad.reply).evalue), /TS2322/);
  });

  it("interrupts an awaiting cell (interrupt_request) and a busy loop (SIGINT)", async () => {
    const waiting = k.send("execute_request", { code: "await new Promise((r) => setTimeout(r, 60000));", silent: false, store_history: true });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(content(await k.send("interrupt_request", {}, "control").reply).status, "ok");
    const r = content(await waiting.reply);
    assert.equal(r.status, "error");
    assert.equal(r.ename, "KeyboardInterrupt");
    const busy = k.send("execute_request", { code: "for (;;) {}", silent: false, store_history: true });
    await new Promise((r) => setTimeout(r, 500));
    k.proc.kill("SIGINT");
    const b = content(await busy.reply);
    assert.equal(b.ename, "KeyboardInterrupt");
    assert.equal(content((await k.execute("'alive'")).reply).status, "ok");
  });

  it("runs a queued request after an error when stop_on_error is false, aborts it otherwise", async () => {
    const first = k.send("execute_request", { code: "throw new Error('first')", stop_on_error: false, silent: false, store_history: true });
    const second = k.send("execute_request", { code: "'second'", stop_on_error: true, silent: false, store_history: true });
    assert.equal(content(await first.reply).status, "error");
    assert.equal(content(await second.reply).status, "ok");
    // With stop_on_error (Jupyter's default), requests queued behind the failure are aborted, as in IPython.
    const failing = k.send("execute_request", { code: "await new Promise((r) => setTimeout(r, 200)); throw new Error('stop')", stop_on_error: true, silent: false, store_history: true });
    const queued = k.send("execute_request", { code: "'queued'", silent: false, store_history: true });
    assert.equal(content(await failing.reply).status, "error");
    assert.equal(content(await queued.reply).status, "aborted");
  });

  it("exits promptly on shutdown even with a timer pending", async () => {
    await k.execute("setInterval(() => {}, 1000);");
    const t0 = Date.now();
    const r = await k.send("shutdown_request", { restart: false }, "control").reply;
    assert.equal(content(r).status, "ok");
    const code = await Promise.race([k.exited, new Promise((r) => setTimeout(() => r("still running"), 5000))]);
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000);
  });
});
