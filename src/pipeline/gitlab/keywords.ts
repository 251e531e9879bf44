/** Keywords GitLab accepts inside a job. */
export const JOB_KEYWORDS = [
  "after_script",
  "allow_failure",
  "artifacts",
  "before_script",
  "cache",
  "coverage",
  "dast_configuration",
  "dependencies",
  "environment",
  "extends",
  "hooks",
  "id_tokens",
  "identity",
  "image",
  "inherit",
  "inputs",
  "interruptible",
  "manual_confirmation",
  "needs",
  "only",
  "except",
  "pages",
  "parallel",
  "publish",
  "release",
  "resource_group",
  "retry",
  "rules",
  "run",
  "script",
  "secrets",
  "services",
  "stage",
  "start_in",
  "tags",
  "timeout",
  "trigger",
  "variables",
  "when",
] as const;

/** Top-level keys that are not jobs. */
export const GLOBAL_KEYWORDS = [
  "default",
  "include",
  "stages",
  "variables",
  "workflow",
  "spec",
  // Deprecated global defaults GitLab still honours.
  "image",
  "services",
  "cache",
  "before_script",
  "after_script",
  "types",
] as const;

/** Keys `default:` may hold (and that jobs inherit from it). */
export const DEFAULT_KEYWORDS = [
  "after_script",
  "artifacts",
  "before_script",
  "cache",
  "hooks",
  "id_tokens",
  "image",
  "interruptible",
  "retry",
  "services",
  "tags",
  "timeout",
] as const;

/** Job keywords that are accepted but have no effect in Gantry yet (a warning says so). */
export const UNSUPPORTED_JOB_KEYWORDS: Record<string, string> = {
  trigger: "downstream pipelines (trigger) are not supported yet; the job is skipped",
  release: "release is not supported yet and is ignored",
  secrets: "external secrets are not supported yet and are ignored",
  id_tokens: "id_tokens are not supported yet and are ignored",
  pages: "pages is recorded as a normal job; no Pages deployment happens",
  dast_configuration: "dast_configuration is not supported and is ignored",
  identity: "identity is not supported and is ignored",
  hooks: "hooks are not supported yet and are ignored",
  run: "run (CI steps) is not supported yet",
  manual_confirmation: "manual_confirmation is not supported yet and is ignored",
  inputs: "job inputs are not supported yet and are ignored",
  publish: "publish (Pages) is not supported and is ignored",
};

export const DEFAULT_STAGES = ["build", "test", "deploy"];
