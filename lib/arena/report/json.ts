/**
 * The JSON report: the evidence behind the leaderboard in one object
 * (battles, verdicts, ratings with their options, config, seed, tool
 * versions, suite hash) so a reader can recompute every number.
 */
import type { ReportRun, RunAnalysis } from "./analyze.js";
import { reportVersions } from "./format.js";

export const REPORT_FORMAT = "tslm-arena-report";
export const REPORT_FORMAT_VERSION = 1;

export function reportJson(run: ReportRun, analysis: RunAnalysis): Record<string, unknown> {
  const board = analysis.leaderboard;
  return {
    format: REPORT_FORMAT,
    format_version: REPORT_FORMAT_VERSION,
    run: {
      id: run.meta.id,
      created: run.meta.created,
      complete: run.meta.complete,
      seed: run.meta.seed,
      config_hash: run.meta.configHash,
      suite: { name: run.suite.name, version: run.suite.version, hash: run.meta.suiteHash, prompts: run.suite.prompts.length },
      versions: run.meta.versions,
    },
    report: { versions: reportVersions(), rating_options: board.result.options },
    ratings: board.toJSON(),
    average_win_rate: analysis.averageWinRate.objects(),
    diagnostics: {
      position_bias: analysis.positionBias.objects(),
      order_consistency: analysis.orderConsistency.objects(),
      judge_agreement: analysis.judgeAgreement.objects(),
      human_agreement: analysis.humanAgreement.objects(),
    },
    config: run.config,
    contestants: run.contestants,
    battles: run.battles,
    judgments: run.judgments,
    errors: run.errors,
  };
}
