/** The checks behind `tslm doctor`, as data (the command prints them). */
import { init, type BackendReport } from "../tensor/init.js";
import { nativeStatus, type NativeStatus } from "../tensor/native/index.js";
import { packageInfo, dependencyVersion } from "../util/package.js";
import { readJsonFile } from "../util/files.js";

export interface Diagnosis {
  /** False when something tslm needs is broken (no backend, or the Node version is too old). */
  ok: boolean;
  tslm: string;
  node: { version: string; required: string; ok: boolean };
  backend?: BackendReport;
  backendError?: string;
  native: NativeStatus;
  tfjs?: string;
  tslab?: string;
  jupyter: import("../../kernel/jupyter-env.js").JupyterStatus & { repoKernelspec: string };
}

function nodeSatisfies(version: string, required: string): boolean {
  const want = /(\d+)\.(\d+)/.exec(required);
  const have = /(\d+)\.(\d+)/.exec(version);
  if (!want || !have) return true;
  const [wm, wn] = [Number(want[1]), Number(want[2])];
  const [hm, hn] = [Number(have[1]), Number(have[2])];
  return hm > wm || (hm === wm && hn >= wn);
}

export async function diagnose(): Promise<Diagnosis> {
  const pkg = packageInfo();
  const { join } = await import("node:path");
  const manifest = readJsonFile(join(pkg.root, "package.json"), "package.json") as { engines?: { node?: string } };
  const required = manifest.engines?.node ?? ">=20.19";
  const node = { version: process.version, required, ok: nodeSatisfies(process.version, required) };
  let backend: BackendReport | undefined;
  let backendError: string | undefined;
  try {
    backend = await init();
  } catch (e) {
    backendError = (e as Error).message;
  }
  const native = backend?.native ?? (await nativeStatus());
  const env = await import("../../kernel/jupyter-env.js");
  const jupyter = { ...env.jupyterStatus(), repoKernelspec: env.repoJupyterPath() };
  return {
    ok: node.ok && backend !== undefined,
    tslm: pkg.version,
    node,
    backend,
    backendError,
    native,
    tfjs: dependencyVersion("@tensorflow/tfjs-core"),
    tslab: dependencyVersion("tslab"),
    jupyter,
  };
}

export function formatDiagnosis(d: Diagnosis): string {
  const lines: string[] = [];
  const mark = (ok: boolean | undefined) => (ok ? "ok  " : "--  ");
  lines.push(`tslm ${d.tslm}`);
  lines.push(`${mark(d.node.ok)}node ${d.node.version} (needs ${d.node.required})`);
  if (d.backend) {
    lines.push(`ok  backend: ${d.backend.chosen} (TF.js ${d.tfjs ?? "?"} "${d.backend.tfBackend}" backend, chosen in ${d.backend.ms} ms)`);
    for (const a of d.backend.attempts) lines.push(`      ${a.backend.padEnd(10)} ${a.outcome.padEnd(7)} ${a.reason}`);
  } else lines.push(`--  backend: none works: ${d.backendError}`);
  lines.push(`${mark(d.native.ok)}native addon: ${d.native.ok ? `${d.native.library ?? "loaded"}; kernels: ${(d.native.kernels ?? []).join(", ")}` : d.native.reason}`);
  const j = d.jupyter;
  if (j.found) {
    const v = j.versions ?? {};
    lines.push(`ok  jupyter: ${j.jupyter} (python ${j.python ?? "?"}; jupyter_client ${v.jupyter_client ?? "?"}, nbconvert ${v.nbconvert ?? "?"}, nbclient ${v.nbclient ?? "?"})`);
  } else lines.push(`--  jupyter: ${j.error}`);
  if (j.kernelspec) lines.push(`${mark(j.kernelspecCurrent)}kernelspec "tslm": ${j.kernelspec}${j.kernelspecCurrent ? "" : " (points at another installation: run tslm kernel install)"}`);
  else lines.push(`--  kernelspec "tslm": not installed (tslm kernel install, or JUPYTER_PATH=${j.repoKernelspec})`);
  lines.push(`    tslab ${d.tslab ?? "?"}; repository kernelspec: ${j.repoKernelspec}`);
  return lines.join("\n");
}
