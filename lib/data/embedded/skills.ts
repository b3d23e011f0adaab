/**
 * The embedded skills set as used by the default model, the demo and the
 * eval suite: one world (seed 1), its tasks, and a fixed held-out split.
 */
import { generateWorld, type World } from "./world.js";
import { embeddedTasks, splitTasks, type SkillTask } from "./tasks.js";

/** Seed of the world the embedded model was pretrained on. */
export const EMBEDDED_WORLD_SEED = 1;

export interface EmbeddedSkills {
  world: World;
  tasks: SkillTask[];
  train: SkillTask[];
  heldOut: SkillTask[];
}

/**
 * The embedded world, all its tasks and the standard split (20% of each
 * category held out).
 * @example embeddedSkills().heldOut.every((t) => t.answer.length > 0)
 */
export function embeddedSkills(seed = EMBEDDED_WORLD_SEED): EmbeddedSkills {
  const world = generateWorld(seed);
  const tasks = embeddedTasks(world);
  const { train, heldOut } = splitTasks(tasks, 0.2, seed);
  return { world, tasks, train, heldOut };
}
