/** Child process for the terminal progress test: three steps, then done. */
import { progress } from "../../../lib/display/index.js";

const p = progress({ label: "demo", total: 3, unit: "steps" });
for (let i = 1; i <= 3; i++) {
  await new Promise((r) => setTimeout(r, 20));
  p.update(i, { metrics: { loss: 1 / i } });
}
p.done();
await new Promise((r) => setTimeout(r, 50));
