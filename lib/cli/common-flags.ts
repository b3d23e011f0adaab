/** Option fields several commands share, spread into their flag schemas. */
import { z } from "../util/config.js";
import { TrainConfigSchema } from "../train/config.js";

/** `--json`: the result as one JSON object on stdout. */
export const JSON_FLAG = { json: z.boolean().default(false).describe("print one JSON object") };

/** `--backend`: the training config's choices; left out, TSLM_BACKEND or auto decides. */
export const BACKEND_FLAG = {
  backend: TrainConfigSchema.shape.backend.unwrap().optional().describe("TF.js backend; left out, TSLM_BACKEND or else auto"),
};
