/**
 * The one display primitive: a MIME bundle.
 *
 * A bundle maps MIME types to data (`text/plain` always present), the shape
 * Jupyter's `display_data` and `execute_result` messages carry
 * (https://jupyter-client.readthedocs.io/en/latest/messaging.html#display-data).
 * Anything can opt into rich display by implementing a method under
 * `Symbol.for("Jupyter.display")` that returns a bundle (or a promise of one):
 * the convention of Deno's Jupyter kernel, so tslm objects render the same in
 * tslm's kernel and in Deno's.
 */
import { inspect } from "node:util";
import { isArqueroTable, tableBundle } from "./grid.js";

export { isArqueroTable, type ArqueroLike } from "./grid.js";

/** MIME type -> data. JSON types (`application/*+json`) hold objects, text types strings, images base64. */
export type MimeBundle = { "text/plain"?: string } & Record<string, unknown>;

/** The protocol key: `obj[DISPLAY]()` returns the object's MIME bundle. */
export const DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** An object that renders itself in notebooks. */
export interface Displayable {
  [DISPLAY](): MimeBundle | Promise<MimeBundle>;
}

/** True when `x` implements the `Symbol.for("Jupyter.display")` protocol. */
export function isDisplayable(x: unknown): x is Displayable {
  return (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as Displayable)[DISPLAY] === "function";
}

/**
 * Wraps a bundle (or a function computing one, possibly async) into a Displayable.
 * `text` becomes the object's `toString()` and inspect output, so printing it in a
 * terminal shows something readable.
 * @example display(displayable({ "text/html": "<b>hi</b>", "text/plain": "hi" }))
 */
export function displayable(bundle: MimeBundle | (() => MimeBundle | Promise<MimeBundle>), text?: string): Displayable {
  const make = typeof bundle === "function" ? bundle : () => bundle;
  const plain = text ?? (typeof bundle === "function" ? undefined : bundle["text/plain"]);
  return {
    [DISPLAY]: make,
    [TEXT]: plain,
    toString: () => plain ?? "[display]",
    [inspect.custom]: () => plain ?? "[display]",
  } as Displayable;
}

const TEXT = Symbol("tslm.display.text");

/** The text of a displayable made by `displayable()` with a known text, without rendering it. */
export function knownText(x: unknown): string | undefined {
  return isDisplayable(x) ? ((x as unknown as Record<symbol, string | undefined>)[TEXT] ?? undefined) : undefined;
}

/** Text for any value, as a REPL prints it. */
export function plainText(x: unknown): string {
  if (typeof x === "string") return x;
  return inspect(x, { depth: 4, maxArrayLength: 50, breakLength: 100 });
}

/**
 * The bundle for any value: its own bundle when Displayable (with `text/plain`
 * added when missing), arquero tables as tables, anything else as text.
 */
export async function toBundle(x: unknown): Promise<MimeBundle> {
  if (isDisplayable(x)) {
    const b = await x[DISPLAY]();
    if (b === null || typeof b !== "object") throw new TypeError(`[Symbol.for("Jupyter.display")]() must return a MIME bundle object, got ${plainText(b)}`);
    return b["text/plain"] === undefined ? { ...b, "text/plain": plainText(x) } : b;
  }
  if (isArqueroTable(x)) return tableBundle(x);
  return { "text/plain": plainText(x) };
}
