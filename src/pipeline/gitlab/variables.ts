import { createHash } from "node:crypto";
import path from "node:path";
import type { Parameter, Variable } from "../plan.js";
import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

/** `CI_COMMIT_REF_SLUG` and friends: lower-case, `[a-z0-9]` kept, others `-`, at most 63 characters. */
export function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
}

/**
 * GitLab's `CI_ENVIRONMENT_SLUG`: at most 24 characters; when the name had to change, a
 * 6-character suffix derived from the name keeps slugs unique.
 */
export function environmentSlug(name: string): string {
  let slug = name.toLowerCase().replace(/[^a-z0-9]/g, "-");
  if (!/^[a-z]/.test(slug)) slug = `env-${slug}`;
  if (slug.length > 24 || slug !== name) {
    slug = slug.slice(0, 17);
    if (!slug.endsWith("-")) slug += "-";
    const digest = BigInt(`0x${createHash("sha256").update(name).digest("hex")}`).toString(36);
    slug += digest.slice(-6);
  }
  return slug;
}

/** Predefined variables that are the same for every job of the pipeline. */
export function pipelineVariables(st: CompileState): Record<string, string> {
  const { git, projectDir, env } = st.ctx;
  const v: Record<string, string> = Object.create(null) as Record<string, string>;
  const projectName = path.basename(git.isRepo ? git.root : projectDir);
  const remote = git.remoteUrl.replace(/\.git$/, "");
  const projectPath =
    /[:/]([^:/]+\/[^:]+)$/.exec(remote.replace(/^[a-z]+:\/\/[^/]+/, ":"))?.[1] ?? `local/${projectName}`;
  const namespace = projectPath.includes("/") ? projectPath.slice(0, projectPath.lastIndexOf("/")) : "local";
  v.CI = "true";
  v.GITLAB_CI = "true";
  v.CI_SERVER = "yes";
  v.CI_PIPELINE_SOURCE = "push";
  v.CI_COMMIT_SHA = git.sha;
  v.CI_COMMIT_SHORT_SHA = git.shortSha;
  v.CI_COMMIT_BEFORE_SHA = "0000000000000000000000000000000000000000";
  const refName = git.tag || git.branch || git.shortSha;
  v.CI_COMMIT_REF_NAME = refName;
  v.CI_COMMIT_REF_SLUG = slugify(refName);
  v.CI_COMMIT_REF_PROTECTED = "false";
  if (git.tag) {
    v.CI_COMMIT_TAG = git.tag;
    v.CI_COMMIT_TAG_MESSAGE = "";
  } else if (git.branch) v.CI_COMMIT_BRANCH = git.branch;
  v.CI_COMMIT_TITLE = git.commitTitle;
  v.CI_COMMIT_MESSAGE = git.commitMessage;
  v.CI_COMMIT_DESCRIPTION = git.commitMessage.split("\n").slice(1).join("\n").trim();
  v.CI_COMMIT_TIMESTAMP = git.commitTimestamp;
  v.CI_COMMIT_AUTHOR = `${git.authorName} <${git.authorEmail}>`;
  v.CI_DEFAULT_BRANCH = git.defaultBranch;
  v.CI_PROJECT_NAME = projectName;
  v.CI_PROJECT_TITLE = projectName;
  v.CI_PROJECT_PATH = projectPath;
  v.CI_PROJECT_PATH_SLUG = slugify(projectPath);
  v.CI_PROJECT_NAMESPACE = namespace;
  v.CI_PROJECT_ROOT_NAMESPACE = namespace.split("/")[0]!;
  v.CI_PROJECT_VISIBILITY = "private";
  v.CI_CONFIG_PATH = st.file;
  v.CI_PIPELINE_ID = "1";
  v.CI_PIPELINE_IID = "1";
  v.CI_REPOSITORY_URL = git.remoteUrl;
  v.CI_SERVER_NAME = "Gantry";
  const login = env.GITLAB_USER_LOGIN ?? (git.authorEmail.split("@")[0] || env.USER || "gantry");
  v.GITLAB_USER_LOGIN = login;
  v.GITLAB_USER_EMAIL = env.GITLAB_USER_EMAIL ?? git.authorEmail;
  v.GITLAB_USER_NAME = env.GITLAB_USER_NAME ?? git.authorName;
  v.GITLAB_USER_ID = env.GITLAB_USER_ID ?? "1";
  return v;
}

/** Variables one job gets from its name, stage and parallel index. */
export function jobVariables(
  name: string,
  stage: string,
  node?: { index: number; total: number },
): Record<string, string> {
  const v: Record<string, string> = Object.create(null) as Record<string, string>;
  v.CI_JOB_NAME = name;
  v.CI_JOB_NAME_SLUG = slugify(name);
  v.CI_JOB_STAGE = stage;
  v.CI_JOB_MANUAL = "false";
  if (node) {
    v.CI_NODE_INDEX = String(node.index);
    v.CI_NODE_TOTAL = String(node.total);
  } else v.CI_NODE_TOTAL = "1";
  return v;
}

export interface ParsedVariables {
  vars: Record<string, Variable>;
  /** Variables with `description`/`options`: pipeline parameters in a manual GitLab run. */
  parameters: Parameter[];
}

/**
 * A `variables:` map: `NAME: value` or `NAME: {value, description, options, expand}`.
 * Numbers and booleans become strings as in GitLab.
 */
export function parseVariables(st: CompileState, owner: YMap, key: string): ParsedVariables {
  const out: ParsedVariables = { vars: Object.create(null) as Record<string, Variable>, parameters: [] };
  const v = owner[key];
  if (v === undefined || v === null) return out;
  if (!isMapValue(v)) {
    st.bag.error(
      "GL070",
      `variables must be a map of NAME: value, got ${typeName(v)}`,
      posOf(st, owner, key),
    );
    return out;
  }
  for (const name of Object.keys(v)) {
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      st.bag.error(
        "GL071",
        `invalid variable name "${name}"`,
        st.loc.keyAt(v, name, st.file),
        "use letters, digits and _",
      );
      continue;
    }
    const raw: Value = v[name]!;
    const s = scalarString(raw);
    if (s !== undefined || raw === null) {
      out.vars[name] = { kind: "value", value: s ?? "" };
      continue;
    }
    if (isMapValue(raw)) {
      for (const k of Object.keys(raw)) {
        if (!["value", "description", "options", "expand"].includes(k)) {
          st.bag.error(
            "GL072",
            `unknown variable keyword "${k}"`,
            st.loc.keyAt(raw, k, st.file),
            "allowed: value, description, options, expand",
          );
        }
      }
      const value = raw.value === undefined ? "" : scalarString(raw.value);
      if (value === undefined) {
        st.bag.error(
          "GL073",
          `variables.${name}.value must be a string, got ${typeName(raw.value)}`,
          posOf(st, raw, "value"),
        );
        continue;
      }
      const variable: Variable = { kind: "value", value };
      if (raw.expand === false) variable.expand = false;
      else if (raw.expand !== undefined && raw.expand !== true) {
        st.bag.error("GL073", `variables.${name}.expand must be true or false`, posOf(st, raw, "expand"));
      }
      out.vars[name] = variable;
      const options = Array.isArray(raw.options) ? raw.options.map((o) => scalarString(o) ?? "") : undefined;
      if (raw.description !== undefined || options) {
        const p: Parameter = { name, type: options ? "choice" : "string", default: value };
        const d = scalarString(raw.description);
        if (d) p.description = d;
        if (options)
          p.choices = options.includes(value) ? [value, ...options.filter((o) => o !== value)] : options;
        out.parameters.push(p);
      }
      continue;
    }
    st.bag.error(
      "GL073",
      `variables.${name} must be a string or {value: ...}, got ${typeName(raw)}`,
      posOf(st, v, name),
    );
  }
  return out;
}

/** Plain values of variables, for compile-time expansion and rules. */
export function valuesOf(vars: Record<string, Variable>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(vars)) if (v.kind === "value") out[k] = v.value;
  return out;
}
