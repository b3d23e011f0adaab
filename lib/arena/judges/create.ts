/** Builds judges from their configs; in-process judges (custom, human) come from the caller. */
import { ConfigError } from "../../util/errors.js";
import type { JudgeConfig, JudgeMemberConfig } from "./config.js";
import type { Judge, JudgePlan } from "./types.js";
import { createLLMJudge } from "./llm.js";
import { createReferenceJudge } from "./reference.js";
import { createHumanJudge, type HumanJudge } from "./human.js";
import { endpointLimits, type HttpDeps } from "../contestants/http.js";
import type { Scheduler, EndpointLimits } from "../contestants/types.js";

export interface JudgeFactoryOptions {
  /** In-process judges by id, for `type: custom` (and `type: human` to vote through your own object). */
  judges?: Record<string, Judge>;
  /** Called with each human judge made for a `type: human` config not given in `judges` (to put its ballots on a voting page). */
  onHumanJudge?: (judge: HumanJudge) => void;
  deps?: HttpDeps;
  scheduler?: (limits: EndpointLimits | undefined) => Scheduler;
}

function createMember(cfg: JudgeMemberConfig, key: string, o: JudgeFactoryOptions): Judge {
  switch (cfg.type) {
    case "llm": {
      return createLLMJudge(cfg, { deps: o.deps, schedule: o.scheduler?.(endpointLimits(cfg)), configKey: key });
    }
    case "reference":
      return createReferenceJudge(cfg);
    case "human": {
      const id = cfg.id ?? "human";
      const given = o.judges?.[id];
      if (given) return given;
      if (o.onHumanJudge) {
        const judge = createHumanJudge(cfg);
        o.onHumanJudge(judge);
        return judge;
      }
      // A fresh human judge nobody holds could never receive a vote.
      throw new ConfigError(
        `human judge '${id}' has nobody to vote: run \`tslm arena run CONFIG --vote\` for a voting page, or pass { judges: { ${id}: createHumanJudge() } } (or onHumanJudge) to runTournament`,
        { key: `${key}.type` },
      );
    }
    case "custom": {
      const given = o.judges?.[cfg.id];
      if (!given) throw new ConfigError(`custom judge '${cfg.id}' was not given to runTournament (options.judges.${cfg.id})`, { key: `${key}.id` });
      return given;
    }
  }
}

export function createJudgePlan(cfg: JudgeConfig, o: JudgeFactoryOptions = {}): JudgePlan {
  if (cfg.type !== "ensemble") return createMember(cfg, "judge", o);
  const members = cfg.judges.map((m, i) => createMember(m, `judge.judges.${i}`, o));
  const ids = new Set<string>();
  for (const [i, m] of members.entries()) {
    if (ids.has(m.id)) throw new ConfigError(`two ensemble members have the id '${m.id}'; give one an 'id'`, { key: `judge.judges.${i}.id` });
    ids.add(m.id);
  }
  const quorum = cfg.quorum;
  if (quorum !== undefined && quorum > members.length) throw new ConfigError(`quorum ${quorum} exceeds the ${members.length} members`, { key: "judge.quorum" });
  return { id: cfg.id ?? `ensemble:${cfg.combine}(${[...ids].join(",")})`, type: "ensemble", members, combine: cfg.combine, quorum };
}

export { createHumanJudge };
