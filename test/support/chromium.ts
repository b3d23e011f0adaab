/**
 * Opens an HTML report in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) and says what each chart drew. Used by every test
 * that checks a report as a reader would see it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface DrawnChart {
  id: string | null;
  rendered: string | null;
  error: string | null;
  marks: number;
  width: number;
}

/**
 * Opens an HTML report in headless Chromium (Debian's, through
 * playwright-core) with every non-file request refused, waits for the
 * report's charts, and returns what each chart drew, the refused requests,
 * the page errors, and a screenshot when `screenshot` is given.
 */
export async function openInChromium(html: string, screenshot?: string): Promise<{ charts: DrawnChart[]; external: string[]; errors: string[]; title: string }> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "tslm-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1200, height: 900 },
  });
  try {
    const page = await context.newPage();
    const external: string[] = [];
    const errors: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:") || url.startsWith("data:")) return route.continue();
      external.push(url);
      return route.abort();
    });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector("body[data-charts=done]", { timeout: 60_000 });
    const charts = await page.$$eval("div.chart", (divs) =>
      divs.map((d) => ({
        id: d.getAttribute("data-spec"),
        rendered: d.getAttribute("data-rendered"),
        error: d.getAttribute("data-error"),
        // Data marks only: vega tags them role-mark (axes, legends and titles have other roles).
        marks: d.querySelectorAll("svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > text").length,
        width: d.getBoundingClientRect().width,
      })),
    );
    const title = await page.title();
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { charts, external, errors, title };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
