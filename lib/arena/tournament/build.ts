/** Builds the schedule a config asks for, seeded from the run's seed. */
import { ConfigError } from "../../util/errors.js";
import { Random } from "../../util/random.js";
import type { ScheduleConfig } from "./config.js";
import { roundRobin, sample } from "./schedules.js";
import { adaptive } from "./adaptive.js";
import { swiss } from "./swiss.js";
import type { Schedule } from "./spec.js";

export function buildSchedule(cfg: ScheduleConfig, models: readonly string[], promptIds: readonly string[], seed: number): Schedule {
  const rng = new Random(seed).fork("schedule");
  switch (cfg.type) {
    case "round-robin":
      return roundRobin(models, promptIds, rng);
    case "sample":
      return sample(models, promptIds, cfg.battles, rng);
    case "adaptive":
      return adaptive(models, promptIds, cfg, rng);
    case "swiss":
      return swiss(models, promptIds, cfg, rng);
    default:
      throw new ConfigError(`unknown schedule ${(cfg as { type: string }).type}`, { key: "schedule.type" });
  }
}
