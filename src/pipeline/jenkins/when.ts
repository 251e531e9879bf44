/** `when {}` → Condition (evaluated by the engine at run time) and its timing flags. */
import picomatch from "picomatch";
import type { Comparator, Condition, Expr, Job } from "../plan.js";
import type { Node } from "./ast.js";
import { entries, namedArgs, soleArg, substitute, type Entry } from "./blocks.js";
import { closest, report, type Cx } from "./context.js";
import { statementsToExpr } from "./to-expr.js";
import { evalValue, knownValue, text } from "./values.js";

const CONDITIONS = [
  "allOf",
  "anyOf",
  "branch",
  "buildingTag",
  "changeRequest",
  "changelog",
  "changeset",
  "environment",
  "equals",
  "expression",
  "isRestartedRun",
  "not",
  "tag",
  "triggeredBy",
];
const PARAMS: Record<string, string[]> = {
  branch: ["pattern", "comparator"],
  tag: ["pattern", "comparator"],
  changeset: ["pattern", "caseSensitive", "comparator"],
  changelog: ["pattern"],
  environment: ["name", "value", "ignoreCase", "comparator"],
  equals: ["expected", "actual"],
  triggeredBy: ["cause", "detail"],
  changeRequest: [
    "id",
    "target",
    "branch",
    "fork",
    "url",
    "title",
    "author",
    "authorDisplayName",
    "authorEmail",
    "comparator",
  ],
  buildingTag: [],
  isRestartedRun: [],
};
const CHANGE_VARS: Record<string, string> = {
  id: "CHANGE_ID",
  target: "CHANGE_TARGET",
  branch: "CHANGE_BRANCH",
  fork: "CHANGE_FORK",
  url: "CHANGE_URL",
  title: "CHANGE_TITLE",
  author: "CHANGE_AUTHOR",
  authorDisplayName: "CHANGE_AUTHOR_DISPLAY_NAME",
  authorEmail: "CHANGE_AUTHOR_EMAIL",
};
const TIMING = ["beforeAgent", "beforeInput", "beforeOptions"] as const;

export interface CompiledWhen {
  condition?: Condition;
  timing?: NonNullable<Job["conditionTiming"]>;
}

export function compileWhen(e: Entry, cx: Cx, known: Readonly<Record<string, string>> = {}): CompiledWhen {
  const out: CompiledWhen = {};
  const conds: Condition[] = [];
  const items = entries(e.closure, cx, "when");
  if (items.length === 0) {
    report(cx, "error", "JK-when", "Empty when closure, remove the property or add some content.", e.at);
    return out;
  }
  for (const c of items) {
    if ((TIMING as readonly string[]).includes(c.name)) {
      const arg = soleArg(c);
      const v = arg ? evalValue(arg, cx) : undefined;
      if (typeof v !== "boolean") report(cx, "error", "JK-when", `${c.name} takes true or false`, c.at);
      else (out.timing ??= {})[c.name as (typeof TIMING)[number]] = v;
      continue;
    }
    const cond = condition(c, cx, known);
    if (cond) conds.push(cond);
  }
  if (conds.length === 1) out.condition = conds[0]!;
  else if (conds.length > 1) out.condition = { kind: "allOf", conditions: conds };
  return out;
}

function condition(c: Entry, cx: Cx, known: Readonly<Record<string, string>>): Condition | undefined {
  const str = (n: Node | undefined): string => (n ? substitute(text(evalValue(n, cx)), known) : "");
  if (c.name === "allOf" || c.name === "anyOf" || c.name === "not") {
    if (c.args.length > 0) {
      report(
        cx,
        "error",
        "JK-when",
        `No additional arguments are allowed for children when condition "${c.name}".`,
        c.at,
      );
      return undefined;
    }
    const children = entries(c.closure, cx, c.name)
      .map((x) => condition(x, cx, known))
      .filter((x): x is Condition => x !== undefined);
    if (c.name === "not") {
      if (children.length !== 1) {
        report(cx, "error", "JK-when", `"not" takes exactly one condition, found ${children.length}`, c.at);
        return undefined;
      }
      return { kind: "not", condition: children[0]! };
    }
    if (children.length === 0) {
      report(cx, "error", "JK-when", `Empty "${c.name}" condition`, c.at);
      return undefined;
    }
    return { kind: c.name, conditions: children };
  }
  if (c.name === "expression") {
    if (!c.closure) {
      report(cx, "error", "JK-when", "expression takes a block: expression { ... }", c.at);
      return undefined;
    }
    const expr = statementsToExpr(c.closure.body, cx.scope.file, cx.diags, c.at);
    if (!expr) return undefined;
    return {
      kind: "expression",
      expr,
      source: cx.scope.source.slice(c.closure.bodyStart, c.closure.bodyEnd).trim(),
    };
  }
  const spec = PARAMS[c.name];
  if (!spec) {
    report(
      cx,
      "error",
      "JK-when",
      `Unknown conditional ${c.name}. Valid conditionals are: [${CONDITIONS.join(", ")}]`,
      c.at,
    );
    return undefined;
  }
  const a = namedArgs(c);
  for (const name of Object.keys(a)) {
    if (name !== "" && !spec.includes(name)) {
      report(
        cx,
        "error",
        "JK-invalid-parameter",
        `Invalid parameter "${name}", did you mean "${closest(name, spec)}"?`,
        a[name]!,
        `parameters of ${c.name}: ${spec.join(", ")}`,
      );
      return undefined;
    }
  }
  const positional = a[""];
  const comparator = (fallback: Comparator): Comparator | undefined => {
    if (!a.comparator) return fallback;
    const v = str(a.comparator).toUpperCase();
    if (v === "EQUALS" || v === "GLOB" || v === "REGEXP") return v;
    report(cx, "error", "JK-when", `Invalid comparator "${v}"`, a.comparator, "one of EQUALS, GLOB, REGEXP");
    return undefined;
  };
  switch (c.name) {
    case "branch": {
      const pattern = str(positional ?? a.pattern);
      const cmp = comparator("GLOB");
      if (!pattern) return missing(c, cx, "pattern");
      return cmp ? { kind: "branch", pattern, comparator: cmp } : undefined;
    }
    case "tag": {
      const pattern = (positional ?? a.pattern) ? str(positional ?? a.pattern) : undefined;
      const cmp = comparator("GLOB");
      return cmp
        ? { kind: "tag", ...(pattern !== undefined ? { pattern } : {}), comparator: cmp }
        : undefined;
    }
    case "buildingTag":
      return { kind: "buildingTag" };
    case "environment": {
      if (!a.name) return missing(c, cx, "name");
      if (!a.value) return missing(c, cx, "value");
      return { kind: "environment", name: str(a.name), value: str(a.value) };
    }
    case "equals": {
      if (!a.expected) return missing(c, cx, "expected");
      if (!a.actual) return missing(c, cx, "actual");
      const exp = knownValue(a.expected, cx);
      const act = knownValue(a.actual, cx);
      if (typeof exp === "string" && typeof act === "string")
        return { kind: "equals", expected: exp, actual: act };
      // Run-time values (env.X, currentBuild.number) are compared by the evaluator.
      const l = exprOf(a.expected, cx);
      const r = exprOf(a.actual, cx);
      if (!l || !r) return undefined;
      return {
        kind: "expression",
        expr: { kind: "binary", op: "==", left: l, right: r },
        source: `${cx.scope.source.slice(a.expected.offset, a.expected.end)} == ${cx.scope.source.slice(a.actual.offset, a.actual.end)}`,
      };
    }
    case "changeset": {
      const pattern = str(positional ?? a.pattern);
      if (!pattern) return missing(c, cx, "pattern");
      const cmp = comparator("GLOB");
      if (!cmp) return undefined;
      const caseSensitive = a.caseSensitive ? evalValue(a.caseSensitive, cx) === true : false;
      return { kind: "changeset", pattern, caseSensitive, ...(cmp !== "GLOB" ? { comparator: cmp } : {}) };
    }
    case "triggeredBy": {
      const cause = str(positional ?? a.cause);
      if (!cause) return missing(c, cx, "cause");
      return { kind: "triggeredBy", cause };
    }
    case "changeRequest":
      return changeRequest(a, cx, comparator("EQUALS"), str);
    case "isRestartedRun":
      report(
        cx,
        "info",
        "JK-when",
        "isRestartedRun() is always false in Gantry: runs are not restarted from a stage",
        c.at,
      );
      return { kind: "expression", expr: { kind: "literal", value: false }, source: "false" };
    case "changelog":
      report(
        cx,
        "error",
        "JK-when",
        "changelog conditions are not supported yet",
        c.at,
        "use branch, changeset or an expression over env variables",
      );
      return undefined;
    default:
      return undefined;
  }
}

function missing(c: Entry, cx: Cx, name: string): undefined {
  report(cx, "error", "JK-missing-parameter", `Missing required parameter: "${name}"`, c.at);
  return undefined;
}

function exprOf(n: Node, cx: Cx): Expr | undefined {
  return statementsToExpr(
    [{ type: "expr", expr: n, line: n.line, column: n.column, offset: n.offset, end: n.end }],
    cx.scope.file,
    cx.diags,
    n,
  );
}

/** `changeRequest target: 'release-*', comparator: 'GLOB'`: a change request whose CHANGE_* variables match. */
function changeRequest(
  a: Record<string, Node>,
  cx: Cx,
  cmp: Comparator | undefined,
  str: (n: Node | undefined) => string,
): Condition | undefined {
  if (!cmp) return undefined;
  const checks: Condition[] = [];
  for (const [key, env] of Object.entries(CHANGE_VARS)) {
    if (!a[key]) continue;
    const pattern = str(a[key]);
    const left: Expr = { kind: "var", scope: "env", name: env };
    // The source is itself a valid expression, so a conversion to gantry.yml keeps it.
    const op = cmp === "EQUALS" ? "==" : "==~";
    const value = cmp === "GLOB" ? picomatch.makeRe(pattern, { dot: true }).source : pattern;
    const expr: Expr = { kind: "binary", op, left, right: { kind: "literal", value } };
    checks.push({ kind: "expression", expr, source: `env.${env} ${op} ${groovyString(value)}` });
  }
  if (checks.length === 0) return { kind: "changeRequest" };
  return { kind: "allOf", conditions: [{ kind: "changeRequest" }, ...checks] };
}

function groovyString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
