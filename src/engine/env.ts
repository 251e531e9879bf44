import type { Job, Plan } from "../pipeline/plan.js";
import type { GitInfo } from "../pipeline/git.js";
import { expandVariables, slugify } from "./variables.js";

/** What the predefined variables are made of. */
export interface EnvInputs {
  plan: Plan;
  job: Job;
  runId: string;
  attempt: number;
  /** The workspace as the commands see it. */
  workdir: string;
  git?: GitInfo;
}

/** Numeric id from a run id, for variables that users expect to be numbers. */
function numericId(runId: string): string {
  const m = /(\d+)$/.exec(runId);
  return m ? String(Number(m[1])) : String(parseInt(runId.replace(/[^0-9a-f]/gi, "").slice(0, 8) || "1", 16));
}

/**
 * Variables every job gets from Gantry itself (GitLab's and Jenkins' names), lowest precedence.
 */
export function predefinedVariables(i: EnvInputs): Record<string, string> {
  const id = numericId(i.runId);
  const git = i.git;
  const env: Record<string, string> = {
    CI: "true",
    GANTRY: "true",
    GANTRY_RUN_ID: i.runId,
    CI_JOB_NAME: i.job.name,
    CI_JOB_NAME_SLUG: slugify(i.job.name),
    CI_JOB_STAGE: i.job.stage,
    CI_JOB_ID: id,
    CI_PIPELINE_ID: id,
    CI_PIPELINE_IID: id,
    CI_JOB_ATTEMPT: String(i.attempt),
    CI_PROJECT_DIR: i.workdir,
    CI_BUILDS_DIR: i.workdir,
    WORKSPACE: i.workdir,
    BUILD_NUMBER: id,
    BUILD_ID: id,
    JOB_NAME: i.job.name,
    STAGE_NAME: i.job.name,
  };
  if (git?.isRepo) {
    env.GIT_COMMIT = git.sha;
    if (git.branch) {
      env.BRANCH_NAME = git.branch;
      env.GIT_BRANCH = git.branch;
    }
    if (git.tag) env.TAG_NAME = git.tag;
  }
  if (i.job.matrix) Object.assign(env, i.job.matrix);
  return env;
}

/**
 * The job's environment: predefined < plan variables (expanded, GitLab style, unless
 * `expand: false`) < dotenv from dependencies < `extra` (command-line variables) < `credentials`
 * (the job's credential variables, resolved by the caller), which plan variables can refer to.
 */
export function jobEnvironment(
  i: EnvInputs,
  dotenv: Record<string, string>,
  extra: Record<string, string>,
  credentials: Record<string, string> = {},
): Record<string, string> {
  const env = predefinedVariables(i);
  const raw: Record<string, { value: string; expand: boolean }> = {};
  for (const [k, v] of Object.entries(i.job.variables)) {
    if (v.kind === "value") raw[k] = { value: v.value, expand: v.expand !== false };
  }
  const resolving = new Set<string>();
  const resolved = new Map<string, string>();
  // What a name means below the pipeline's own variables: `PATH: "/opt/bin:${PATH}"` extends
  // the value the job would otherwise get (the host's, for the shell executor).
  const below = (name: string): string | undefined =>
    credentials[name] ??
    extra[name] ??
    dotenv[name] ??
    env[name] ??
    (i.job.executor.kind === "shell" ? process.env[name] : undefined);
  const lookup = (name: string): string | undefined => {
    if (resolved.has(name)) return resolved.get(name);
    const r = raw[name];
    if (!r) return below(name);
    if (resolving.has(name)) return below(name); // a self-reference or cycle
    resolving.add(name);
    const value = r.expand ? expandVariables(r.value, lookup) : r.value;
    resolving.delete(name);
    resolved.set(name, value);
    return value;
  };
  for (const k of Object.keys(raw)) env[k] = lookup(k) ?? "";
  Object.assign(env, dotenv, extra, credentials);
  return env;
}
