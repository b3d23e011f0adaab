/** Facts about the installed tslm package, read at run time (never hard-coded). */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PackageInfo {
  name: string;
  version: string;
  /** Absolute path of the package root (the folder holding package.json). */
  root: string;
  dependencies: Record<string, string>;
}

let cached: PackageInfo | undefined;

/** Finds tslm's package.json by walking up from this file (works from lib/ and dist/lib/). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (pkg.name === "tslm") {
        cached = { name: pkg.name, version: pkg.version, root: dir, dependencies: { ...pkg.dependencies, ...pkg.devDependencies } };
        return cached;
      }
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error("tslm: cannot find tslm's package.json above " + fileURLToPath(import.meta.url));
}

/** Version of an installed dependency, read from its package.json. */
export function dependencyVersion(name: string): string | undefined {
  try {
    const file = join(packageInfo().root, "node_modules", name, "package.json");
    return JSON.parse(readFileSync(file, "utf8")).version;
  } catch {
    return undefined;
  }
}
