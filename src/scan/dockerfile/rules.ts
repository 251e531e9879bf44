import type { RuleMeta } from "../types.js";
import type { DockerRule } from "./rule.js";
import { IMAGE_RULES } from "./rules-image.js";
import { INSTRUCTION_RULES } from "./rules-instructions.js";
import { PACKAGE_RULES } from "./rules-packages.js";
import { RUN_RULES } from "./rules-run.js";

/** Every Dockerfile rule. */
export const DOCKER_RULES: readonly DockerRule[] = [
  ...IMAGE_RULES,
  ...INSTRUCTION_RULES,
  ...RUN_RULES,
  ...PACKAGE_RULES,
];

/** Checked outside the file: the build context. */
export const DOCKERIGNORE_RULE: RuleMeta = {
  id: "dockerfile/dockerignore-missing",
  scanner: "dockerfile",
  severity: "low",
  title: "No .dockerignore next to the Dockerfile",
  help: "Add a `.dockerignore` (at least `.git`, `node_modules`, `*.env`, build output) so secrets and junk stay out of the build context and the cache stays warm.",
  equivalents: [],
};
