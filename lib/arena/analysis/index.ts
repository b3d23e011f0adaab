/** Public API of lib/arena/analysis: pairwise matrices and judge diagnostics as arquero tables. */
export { winFractionMatrix, battleCountMatrix, predictedWinRateMatrix, averageWinRate, outcomeCounts } from "./matrices.js";
export { positionBias, orderConsistency, judgeAgreement, humanAgreement, pooledVerdicts, isHumanJudge, wilsonInterval } from "./judges.js";
