import { ExpressionError, evaluate, parseExpression, type GlExpr } from "./expression.js";
import { expandVariables } from "./expand.js";
import { globber, picomatch } from "./lazy.js";
import { isMapValue, type Value, type YMap } from "./source.js";
import { posOf, scalarString, typeName, type CompileState } from "./state.js";

/** What rule conditions are evaluated against. */
export interface RuleEnv {
  vars: (name: string) => string | undefined;
  /** Files changed by the commit; `undefined` means "unknown" and `changes` is then true, as in GitLab. */
  changedFiles: string[] | undefined;
  projectDir: string;
  /** `exists:` results of this compile (the checkout does not change while compiling). */
  existsCache?: Map<string, boolean>;
}

const exprCache = new Map<string, GlExpr | ExpressionError>();

function parseCached(src: string): GlExpr | ExpressionError {
  let e = exprCache.get(src);
  if (!e) {
    try {
      e = parseExpression(src);
    } catch (err) {
      e = err instanceof ExpressionError ? err : new ExpressionError(String(err), 0);
    }
    if (exprCache.size > 5_000) exprCache.clear();
    exprCache.set(src, e);
  }
  return e;
}

/** Evaluates an `if:` expression; a bad expression is a diagnostic and counts as false. */
export function evalIf(
  st: CompileState,
  owner: object,
  key: string | number,
  src: string,
  env: RuleEnv,
): boolean {
  const e = parseCached(src);
  if (e instanceof ExpressionError) {
    st.bag.error(
      "GL030",
      `invalid expression "${src}": ${e.message}`,
      posOf(st, owner, key),
      'GitLab expressions use $VARIABLES, "strings", /regex/, null, ==, !=, =~, !~, && and ||',
    );
    return false;
  }
  try {
    return evaluate(e, env.vars);
  } catch (err) {
    st.bag.error("GL030", `cannot evaluate "${src}": ${(err as Error).message}`, posOf(st, owner, key));
    return false;
  }
}

/** GitLab's `**` inside a segment (`configs/**.yml`) also crosses directories. */
function gitlabGlob(pattern: string): string {
  return pattern
    .replace(/^\/+/, "")
    .replace(/\*\*(?!\/)/g, "**/*")
    .replace(/\*\*\/\*\*\//g, "**/");
}

function listOfStrings(st: CompileState, owner: object, key: string, v: Value | undefined): string[] {
  if (typeof v === "string") return [v];
  if (!Array.isArray(v)) {
    st.bag.error("GL031", `${key} must be a list of paths, got ${typeName(v)}`, posOf(st, owner, key));
    return [];
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    const s = scalarString(item);
    if (s === undefined) st.bag.error("GL031", `${key} entries must be strings`, posOf(st, v, i));
    else out.push(s);
  });
  return out;
}

/** `changes:` (list, or `{paths, compare_to}`) against the commit's changed files. */
export function evalChanges(st: CompileState, owner: YMap, key: string, env: RuleEnv): boolean {
  let v = owner[key];
  if (isMapValue(v)) v = v.paths;
  const patterns = listOfStrings(st, owner, key, v).map((p) => gitlabGlob(expandVariables(p, env.vars)));
  if (env.changedFiles === undefined) return true;
  if (patterns.length === 0) return false;
  const m = picomatch()(patterns, { dot: true });
  return env.changedFiles.some((f) => m(f));
}

/** `exists:` globs against the project directory. */
export function evalExists(st: CompileState, owner: YMap, key: string, env: RuleEnv): boolean {
  let v = owner[key];
  if (isMapValue(v)) {
    if (v.project !== undefined) {
      st.bag.warning(
        "GL032",
        "exists:project is not supported; the paths are checked in this project",
        posOf(st, v, "project"),
      );
    }
    v = v.paths;
  }
  const patterns = listOfStrings(st, owner, key, v).map((p) => gitlabGlob(expandVariables(p, env.vars)));
  if (patterns.length === 0) return false;
  const cacheKey = `${env.projectDir}\0${patterns.join("\0")}`;
  const hit = env.existsCache?.get(cacheKey);
  if (hit !== undefined) return hit;
  let found = false;
  try {
    found =
      globber().globSync(patterns, {
        cwd: env.projectDir,
        dot: true,
        onlyFiles: false,
        expandDirectories: false,
      }).length > 0;
  } catch {
    found = false;
  }
  env.existsCache?.set(cacheKey, found);
  return found;
}

/** Whether all conditions of one rule (`if`, `changes`, `exists`) hold. */
export function ruleMatches(st: CompileState, rule: YMap, env: RuleEnv): boolean {
  if (rule.if !== undefined) {
    const src = scalarString(rule.if);
    if (src === undefined) {
      st.bag.error("GL033", `rules:if must be a string, got ${typeName(rule.if)}`, posOf(st, rule, "if"));
      return false;
    }
    if (!evalIf(st, rule, "if", src, env)) return false;
  }
  if (rule.changes !== undefined && !evalChanges(st, rule, "changes", env)) return false;
  if (rule.exists !== undefined && !evalExists(st, rule, "exists", env)) return false;
  return true;
}

const RULE_KEYS = [
  "if",
  "changes",
  "exists",
  "when",
  "allow_failure",
  "variables",
  "needs",
  "start_in",
  "interruptible",
];

/** The first matching rule of `rules`, or undefined when none matches. */
export function firstMatchingRule(
  st: CompileState,
  owner: YMap,
  key: string,
  env: RuleEnv,
  allowed: readonly string[] = RULE_KEYS,
): YMap | undefined {
  const rules = owner[key];
  if (!Array.isArray(rules)) {
    st.bag.error("GL034", `${key} must be a list of rules, got ${typeName(rules)}`, posOf(st, owner, key));
    return undefined;
  }
  const valid: YMap[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (!isMapValue(rule)) {
      st.bag.error(
        "GL034",
        `each rule must be a map (if/changes/exists/when...), got ${typeName(rule)}`,
        posOf(st, rules, i),
      );
      continue;
    }
    for (const k of Object.keys(rule)) {
      if (!allowed.includes(k)) {
        st.bag.error(
          "GL035",
          `unknown rule keyword "${k}"`,
          st.loc.keyAt(rule, k, st.file),
          `allowed: ${allowed.join(", ")}`,
        );
      }
    }
    valid.push(rule);
  }
  return valid.find((rule) => ruleMatches(st, rule, env));
}
