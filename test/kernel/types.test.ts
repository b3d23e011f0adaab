/**
 * Types in cells with the prepared notebook types (build step): chained ops,
 * packages imported directly next to the preloaded API (same declarations,
 * so their types mix), hover documentation, and the fallback that compiles
 * the preload when the prepared types are not used.
 */
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { packageInfo } from "../../lib/util/package.js";
import { KernelClient, ofType } from "./support/client.js";

type Content = Record<string, unknown>;
const content = (m: { content: unknown }) => m.content as Content;
const text = (r: Awaited<ReturnType<KernelClient["execute"]>>) => {
  assert.equal(content(r.reply).status, "ok", JSON.stringify(r.iopub.map((m) => m.content)));
  return (content(ofType(r, "execute_result")[0]).data as Content)["text/plain"];
};

describe("kernel types", function () {
  this.timeout(120000);

  describe("with the prepared notebook types, in a folder whose node_modules has tslm's dependencies", () => {
    let k: KernelClient;
    before(async () => {
      // A project that installed tfjs-core and zod itself: cells import them directly.
      k = await KernelClient.start([], undefined, { prepare: (dir) => symlinkSync(join(packageInfo().root, "node_modules"), join(dir, "node_modules")) });
    });
    after(async () => {
      await k?.close();
    });

    it("types and runs chained ops", async () => {
      assert.equal(text(await k.execute("await init();\nconst t = tf.tensor([1, 2, 3]);\nt.mul(2).sum().dataSync()[0]")), "12");
      const bad = await k.execute("const n: number = t.add(1);");
      assert.equal(content(bad.reply).status, "error");
      assert.match(String(content(bad.reply).evalue), /TS2322: Type 'Tensor<Rank>' is not assignable to type 'number'/);
    });

    it("mixes types of packages imported directly with tslm's (one declaration of each)", async () => {
      const r = await k.execute(
        [
          'import * as tfc from "@tensorflow/tfjs-core";',
          'import { z as zod } from "zod";',
          "const direct: tf.Tensor = tfc.tensor([4]);",
          "const back: tfc.Tensor = tf.tensor([5]);",
          "const cfg = resolveConfig(zod.object({ a: zod.number() }), { a: 6 });",
          "const a: number = cfg.a;",
          "const schema: zod.ZodType = z.string();",
          "[direct.dataSync()[0], back.dataSync()[0], a, schema.parse('ok')].join(',')",
        ].join("\n"),
      );
      assert.equal(text(r), "'4,5,6,ok'");
    });

    it("keeps TF.js documentation in hover", async () => {
      const code = "tf.tensor";
      const i = content(await k.send("inspect_request", { code, cursor_pos: code.length, detail_level: 0 }).reply);
      assert.equal(i.found, true);
      assert.match(String((i.data as Content)["text/plain"]), /function tensor<R extends Rank>[\s\S]*Creates a `tf.Tensor` with the provided values, shape and dtype/);
    });
  });

  it("falls back to compiling the preload when the prepared types are not used", async () => {
    const k = await KernelClient.start([], undefined, { env: { TSLM_KERNEL_PREPARED_TYPES: "0" } });
    try {
      assert.equal(text(await k.execute('const spec: VegaLiteSpec = { mark: "bar" };\n[typeof table, spec.mark].join(",")')), "'function,bar'");
      const bad = await k.execute("const n: number = vegaLite;");
      assert.match(String(content(bad.reply).evalue), /TS2322/);
      assert.match(k.stderr, /prepared notebook types not used/);
    } finally {
      await k.close();
    }
  });
});
