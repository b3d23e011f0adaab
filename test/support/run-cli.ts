/** Runs the `tslm` CLI from source: `node --import tsx test/support/run-cli.ts ARGS...`. */
import { main } from "../../lib/cli/main.js";

await main(process.argv.slice(2));
