/**
 * Helpers of the demo tests: the CLI in a child process, temporary folders,
 * and the report opened in headless Chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/**
 * Extra arguments naming the base model: none (the embedded default), or
 * `--model DIR` when TSLM_TEST_DEMO_MODEL points at another model folder.
 */
export function modelArgs(): string[] {
  const m = process.env.TSLM_TEST_DEMO_MODEL;
  return m ? ["--model", m] : [];
}

/** The environment of a demo child: no progress bars, no LLM judge from the caller's environment. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSLM_PROGRESS: "0", ...extra };
  for (const k of ["OPENAI_BASE_URL", "TSLM_JUDGE_MODEL", "OPENAI_MODEL", "OPENAI_API_KEY"]) if (!(k in extra)) delete env[k];
  return env;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Starts `tslm ARGS` from source; `onStderr` sees stderr as it arrives (to interrupt at a chosen moment). */
export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv; onStderr?: (all: string, child: ChildProcess) => void } = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env: opts.env ?? childEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => {
    stderr += d;
    opts.onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

const made: string[] = [];

export function tempDir(prefix = "tslm-demo-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

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
