import { compileRegex } from "./expression.js";
import { evalChanges, evalIf, type RuleEnv } from "./rules.js";
import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

/** Ref keywords of only/except that describe the pipeline's source or ref type. */
const REF_KEYWORDS = new Set([
  "branches",
  "tags",
  "api",
  "external",
  "pipelines",
  "pushes",
  "schedules",
  "triggers",
  "web",
  "merge_requests",
  "external_pull_requests",
  "chat",
]);

/**
 * Legacy `only`/`except`: the job runs when `only` matches (default: branches and tags) and
 * `except` does not. A list is `refs`; the map form has `refs`, `variables`, `changes`.
 */
export function evaluateOnlyExcept(st: CompileState, job: YMap, name: string, env: RuleEnv): boolean {
  const only = job.only;
  const except = job.except;
  const onlyOk = only === undefined ? true : matches(st, job, "only", name, env, true);
  if (!onlyOk) return false;
  if (except === undefined) return true;
  return !matches(st, job, "except", name, env, false);
}

function matches(
  st: CompileState,
  job: YMap,
  key: "only" | "except",
  name: string,
  env: RuleEnv,
  isOnly: boolean,
): boolean {
  const v = job[key];
  let refs: Value | undefined;
  let variables: Value | undefined;
  let changesOwner: YMap | undefined;
  if (Array.isArray(v) || typeof v === "string") refs = v;
  else if (isMapValue(v)) {
    for (const k of Object.keys(v)) {
      if (!["refs", "variables", "changes", "kubernetes"].includes(k)) {
        st.bag.error(
          "GL036",
          `unknown ${key} keyword "${k}" in job "${name}"`,
          st.loc.keyAt(v, k, st.file),
          "allowed: refs, variables, changes, kubernetes",
        );
      }
    }
    refs = v.refs;
    variables = v.variables;
    if (v.changes !== undefined) changesOwner = v;
    if (v.kubernetes !== undefined) {
      st.bag.warning(
        "GL037",
        `${key}:kubernetes is not supported and is treated as not matching`,
        posOf(st, v, "kubernetes"),
      );
      if (isOnly) return false;
    }
  } else {
    st.bag.error(
      "GL036",
      `${name}.${key} must be a list of refs or a map, got ${typeName(v)}`,
      posOf(st, job, key),
    );
    return !isOnly;
  }
  // only: every given condition must match; except: any given condition excludes.
  const results: boolean[] = [];
  if (refs !== undefined) results.push(refsMatch(st, refs, job, key, env));
  if (variables !== undefined) {
    const list = Array.isArray(variables) ? variables : [variables];
    results.push(
      list.some((expr, i) => {
        const s = scalarString(expr);
        return (
          s !== undefined &&
          evalIf(st, Array.isArray(variables) ? variables : job, Array.isArray(variables) ? i : key, s, env)
        );
      }),
    );
  }
  if (changesOwner) results.push(evalChanges(st, changesOwner, "changes", env));
  if (results.length === 0) return isOnly;
  return isOnly ? results.every(Boolean) : results.some(Boolean);
}

function refsMatch(st: CompileState, refs: Value, owner: YMap, key: string, env: RuleEnv): boolean {
  const list = Array.isArray(refs) ? refs : [refs];
  const branch = env.vars("CI_COMMIT_BRANCH");
  const tag = env.vars("CI_COMMIT_TAG");
  const refName = tag ?? branch ?? env.vars("CI_COMMIT_REF_NAME") ?? "";
  const source = env.vars("CI_PIPELINE_SOURCE") ?? "push";
  return list.some((r) => {
    const s = scalarString(r);
    if (s === undefined) return false;
    if (REF_KEYWORDS.has(s)) {
      if (s === "branches") return branch !== undefined && !tag;
      if (s === "tags") return tag !== undefined;
      const sourceOf: Record<string, string> = {
        api: "api",
        external: "external",
        pipelines: "pipeline",
        pushes: "push",
        schedules: "schedule",
        triggers: "trigger",
        web: "web",
        merge_requests: "merge_request_event",
        external_pull_requests: "external_pull_request_event",
        chat: "chat",
      };
      return sourceOf[s] === source;
    }
    const re = /^\/(.*)\/([a-z]*)$/s.exec(s);
    if (re) {
      try {
        return compileRegex(re[1]!, re[2]!).test(refName);
      } catch (err) {
        st.bag.error(
          "GL038",
          `invalid regular expression ${s}: ${(err as Error).message}`,
          posOf(st, owner, key),
        );
        return false;
      }
    }
    // `branch@group/project` limits the ref to one project; locally the ref part is what counts.
    return s.replace(/@.*$/, "") === refName;
  });
}
