/** Builds contestants from their configs; `custom` ones come from the caller. */
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../../util/errors.js";
import type { ContestantConfig } from "./config.js";
import type { Contestant, EndpointLimits, Scheduler } from "./types.js";
import { createOpenAIContestant } from "./openai.js";
import { createAnswersFileContestant } from "./answers-file.js";
import { createLocalContestant } from "./local.js";
import { endpointLimits, type HttpDeps } from "./http.js";

export interface ContestantFactoryOptions {
  /** In-process contestants by name, for `type: custom`. */
  contestants?: Record<string, Contestant>;
  deps?: HttpDeps;
  /** Folder that relative paths (answers files, model folders) resolve from; default the working folder. */
  baseDir?: string;
  scheduler?: (limits: EndpointLimits | undefined) => Scheduler;
}

export function createContestant(cfg: ContestantConfig, index: number, o: ContestantFactoryOptions = {}): Contestant {
  const key = `contestants.${index}`;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(o.baseDir ?? process.cwd(), p));
  switch (cfg.type) {
    case "openai": {
      return createOpenAIContestant(cfg, { deps: o.deps, schedule: o.scheduler?.(endpointLimits(cfg)), configKey: key });
    }
    case "answers":
      return createAnswersFileContestant(cfg, abs(cfg.path));
    case "local": {
      const model = abs(cfg.model);
      // TF.js runs one generation at a time well; a queue per model folder keeps it so.
      const schedule = o.scheduler?.({ key: `local:${model}`, concurrency: 1 });
      return createLocalContestant({ ...cfg, model, adapter: cfg.adapter ? abs(cfg.adapter) : undefined }, { schedule, configKey: key });
    }
    case "custom": {
      const c = o.contestants?.[cfg.name];
      if (!c) throw new ConfigError(`custom contestant '${cfg.name}' was not given to runTournament (options.contestants['${cfg.name}'])`, { key: `${key}.name` });
      if (c.name !== cfg.name) throw new ConfigError(`custom contestant given for '${cfg.name}' calls itself '${c.name}'`, { key: `${key}.name` });
      return c;
    }
  }
}
