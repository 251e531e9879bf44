/**
 * `gantry convert`: a compiled Plan (from any format) to gantry.yml or .gitlab-ci.yml text,
 * with a `# gantry: could not carry over: ...` comment on everything the target cannot say.
 */
import type { Plan } from "../plan.js";
import { toGantry } from "./to-gantry.js";
import { toGitlab } from "./to-gitlab.js";

export type ConvertTarget = "gantry" | "gitlab";
export const CONVERT_TARGETS: readonly ConvertTarget[] = ["gantry", "gitlab"];
export { LOSSY } from "./common.js";

/** Renders `plan` in the target format. */
export function convertPlan(plan: Plan, to: ConvertTarget): string {
  return to === "gantry" ? toGantry(plan) : toGitlab(plan);
}
