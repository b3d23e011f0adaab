/**
 * Vega-Lite charts: the spec as `application/vnd.vegalite.v5+json` (a JSON
 * object, which JupyterLab renders natively) plus an `image/svg+xml`
 * rendering made in Node with vega's `View.toSVG()` (shown by nbconvert HTML,
 * GitHub and any frontend without a Vega renderer), and PNG through resvg
 * with the DejaVu fonts from the `dejavu-fonts-ttf` package (no system fonts).
 *
 * vega and vega-lite are imported lazily inside functions: their modules use
 * top-level await, which would stop `require()` of the library.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { TslmError } from "../util/errors.js";
import { displayable, type Displayable, type MimeBundle } from "./bundle.js";

/** MIME type of Vega-Lite 5 specs in Jupyter. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/**
 * A Vega-Lite 5 spec (https://vega.github.io/vega-lite/docs/spec.html). Typed
 * loosely on purpose: vega-lite's own types are large and slow the notebook's
 * type checker; the spec is validated when it is compiled.
 */
export interface VegaLiteSpec {
  $schema?: string;
  data?: { values?: unknown[]; url?: string; name?: string; [k: string]: unknown };
  [key: string]: unknown;
}

type VegaModules = { vega: typeof import("vega"); vl: typeof import("vega-lite") };
let modules: Promise<VegaModules> | undefined;

function loadVega(): Promise<VegaModules> {
  modules ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({ vega, vl }));
  return modules;
}

/** The spec with `$schema` set to Vega-Lite 5 (a missing schema is the common case). */
export function withSchema(spec: VegaLiteSpec): VegaLiteSpec {
  return spec.$schema ? spec : { $schema: SCHEMA, ...spec };
}

/** Renders a Vega-Lite spec to SVG markup in Node. Throws on an invalid spec. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { vega, vl } = await loadVega();
  // Collect vega-lite's warnings (it would print them) to explain a failure.
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn);
  logger.warn = (...args: readonly unknown[]) => (warnings.push(args.map(String).join(" ")), logger);
  let view: InstanceType<typeof vega.View> | undefined;
  try {
    const compiled = vl.compile(withSchema(spec) as never, { logger }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
    return await view.toSVG();
  } catch (e) {
    const hint = warnings.length ? ` (warnings: ${warnings.join("; ")})` : "";
    throw new TslmError(`cannot render the Vega-Lite spec ${describeChart(spec)}: ${(e as Error).message}${hint}`, {}, { cause: e });
  } finally {
    view?.finalize();
  }
}

let fontFiles: string[] | undefined;

/** The TrueType fonts PNG rendering uses (DejaVu Sans, Sans Mono, Serif). */
export function bundledFontFiles(): string[] {
  if (!fontFiles) {
    const dir = join(dirname(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json")), "ttf");
    fontFiles = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf"].map((f) => join(dir, f));
  }
  return fontFiles;
}

/** Renders SVG markup (or a Vega-Lite spec) to PNG bytes; `scale` 2 gives crisp report figures. */
export async function renderPng(input: VegaLiteSpec | string, options: { scale?: number } = {}): Promise<Uint8Array> {
  const svgText = typeof input === "string" ? input : await renderSvg(input);
  const { Resvg } = await import("@resvg/resvg-js");
  const resvg = new Resvg(svgText, {
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    font: {
      loadSystemFonts: false,
      fontFiles: bundledFontFiles(),
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      serifFamily: "DejaVu Serif",
      monospaceFamily: "DejaVu Sans Mono",
    },
  });
  return resvg.render().asPng();
}

/** One line describing a chart, for terminals and `text/plain`. */
export function describeChart(spec: VegaLiteSpec): string {
  const mark = spec.mark === undefined ? undefined : typeof spec.mark === "string" ? spec.mark : (spec.mark as { type?: string }).type;
  const kind = mark ? `${mark} chart` : spec.layer ? "layered chart" : spec.hconcat || spec.vconcat || spec.concat ? "chart grid" : "chart";
  const title = typeof spec.title === "string" ? ` "${spec.title}"` : "";
  const rows = Array.isArray(spec.data?.values) ? `, ${spec.data!.values!.length} rows` : "";
  return `[Vega-Lite ${kind}${title}${rows}]`;
}

export interface ChartOptions {
  /**
   * Also add an `image/png` rendering (base64, scale 2; about 4x the SVG's
   * size in the notebook). For exporters that cannot show the SVG: Debian's
   * nbconvert 6.5 empties SVG in HTML, and shows the PNG when told to prefer
   * it (see docs/kernel.md, "Limits"). Default: `TSLM_DISPLAY_PNG=1`.
   */
  png?: boolean;
}

const pngByDefault = () => process.env.TSLM_DISPLAY_PNG === "1";

/** The bundle of a chart: Vega-Lite JSON, its SVG rendering, a text line, and PNG if asked. */
export async function vegaLiteBundle(spec: VegaLiteSpec, options: ChartOptions = {}): Promise<MimeBundle> {
  const full = withSchema(spec);
  const svg = await renderSvg(full);
  const bundle: MimeBundle = { [VEGALITE_MIME]: full, "image/svg+xml": svg, "text/plain": describeChart(full) };
  if (options.png ?? pngByDefault()) bundle["image/png"] = Buffer.from(await renderPng(svg)).toString("base64");
  return bundle;
}

/**
 * A chart that displays itself: the cell's last expression, or `display(vegaLite(spec))`.
 * @example vegaLite({ data: { values: [{ x: 1, y: 2 }] }, mark: "point", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } })
 */
export function vegaLite(spec: VegaLiteSpec, options: ChartOptions = {}): Displayable & { spec: VegaLiteSpec } {
  const d = displayable(() => vegaLiteBundle(spec, options), describeChart(spec)) as Displayable & { spec: VegaLiteSpec };
  d.spec = withSchema(spec);
  return d;
}
