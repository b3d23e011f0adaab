/**
 * TF.js gradient registration for Node.
 *
 * `@tensorflow/tfjs-core`'s Node entry (a CommonJS bundle) carries no
 * gradient functions: they live in `dist/register_all_gradients.js`, an ES
 * module whose relative imports have no file extensions, which Node's ESM
 * loader refuses. `ensureGradients()` installs a resolve hook scoped to
 * tfjs-core's `dist/` folder that adds the `.js`, then imports that module;
 * its registrations land in tfjs-core's global registry, shared by every
 * copy of the library. Idempotent; does nothing when gradients are already
 * registered (for example by the backend setup).
 */
import * as tf from "@tensorflow/tfjs-core";
import { register } from "node:module";

const HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL || "";
  if (parent.includes("/@tensorflow/tfjs-core/dist/") && specifier.startsWith(".") && !/\\.[cm]?js$/.test(specifier)) {
    try { return await next(specifier + ".js", context); } catch { return next(specifier + "/index.js", context); }
  }
  return next(specifier, context);
}`;

let pending: Promise<void> | null = null;

/** True when TF.js can differentiate the ops the model uses. */
export function gradientsRegistered(): boolean {
  return tf.getGradient("Sum") !== undefined && tf.getGradient("BatchMatMul") !== undefined;
}

/** Registers TF.js's gradient functions once per process. */
export function ensureGradients(): Promise<void> {
  if (gradientsRegistered()) return Promise.resolve();
  pending ??= (async () => {
    register("data:text/javascript," + encodeURIComponent(HOOK));
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js" as string);
    if (!gradientsRegistered()) throw new Error("TF.js gradients did not register");
  })();
  return pending;
}
