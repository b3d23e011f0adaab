/** The tslm CLI run from source, for tests that run `tslm demo` in a child process. */
import { main } from "../../../lib/cli/main.js";

await main(process.argv.slice(2));
