/**
 * Tables that display themselves: arquero tables and arrays of records as an
 * HTML table (notebooks) and aligned text (terminals), with a row limit.
 * The layout is grid.ts's.
 */
import { displayable, type Displayable } from "./bundle.js";
import { type ArqueroLike, tableBundle, type TableOptions } from "./grid.js";

export { formatCell, tableBundle, type TableOptions } from "./grid.js";

/**
 * A table that displays itself.
 * @example table([{ model: "base", elo: 1000 }, { model: "lora", elo: 1042.5 }])
 */
export function table(t: ArqueroLike | readonly Record<string, unknown>[], options: TableOptions = {}): Displayable {
  const bundle = tableBundle(t, options);
  return displayable(bundle, bundle["text/plain"]);
}
