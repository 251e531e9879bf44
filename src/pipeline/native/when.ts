import type { Comparator, Condition, Job } from "../plan.js";
import type { NativeCompiler } from "./index.js";
import { whenLevelSchema } from "./schema.js";
import { parseExpressionText } from "./expression-bridge.js";

type Path = (string | number)[];

/** Compiles a `when:` mapping: every condition in it must hold (Jenkins semantics). */
export function compileWhen(
  c: NativeCompiler,
  raw: unknown,
  path: Path,
): { condition: Condition; timing: Job["conditionTiming"] } | undefined {
  const w = c.check(whenLevelSchema, raw, path);
  if (!w) return undefined;
  const comparator: Comparator = w.comparator ?? "GLOB";
  const conds: Condition[] = [];
  if (w.branch !== undefined) conds.push({ kind: "branch", pattern: w.branch, comparator });
  if (w.tag !== undefined) conds.push({ kind: "tag", pattern: w.tag, comparator });
  if (w.buildingTag) conds.push({ kind: "buildingTag" });
  if (w.changeRequest) conds.push({ kind: "changeRequest" });
  if (w.environment)
    conds.push({ kind: "environment", name: w.environment.name, value: String(w.environment.value) });
  if (w.equals)
    conds.push({ kind: "equals", expected: String(w.equals.expected), actual: String(w.equals.actual) });
  if (w.changeset !== undefined)
    conds.push({ kind: "changeset", pattern: w.changeset, caseSensitive: false });
  if (w.triggeredBy !== undefined) conds.push({ kind: "triggeredBy", cause: w.triggeredBy });
  if (w.expression !== undefined) {
    const expr = parseExpressionText(c, w.expression, [...path, "expression"]);
    if (expr) conds.push({ kind: "expression", expr, source: w.expression });
  }
  if (w.not !== undefined) {
    const inner = compileWhen(c, w.not, [...path, "not"]);
    if (inner) conds.push({ kind: "not", condition: inner.condition });
  }
  for (const key of ["allOf", "anyOf"] as const) {
    const list = w[key];
    if (!list) continue;
    const inner: Condition[] = [];
    for (const [i, item] of list.entries()) {
      const x = compileWhen(c, item, [...path, key, i]);
      if (x) inner.push(x.condition);
    }
    conds.push({ kind: key, conditions: inner });
  }
  if (conds.length === 0) {
    c.error("empty-when", "when has no condition", path, "add a condition such as `branch: main`");
    return undefined;
  }
  const timing: Job["conditionTiming"] = {
    ...(w.beforeAgent ? { beforeAgent: true } : {}),
    ...(w.beforeInput ? { beforeInput: true } : {}),
    ...(w.beforeOptions ? { beforeOptions: true } : {}),
  };
  return { condition: conds.length === 1 ? conds[0]! : { kind: "allOf", conditions: conds }, timing };
}

export type { Comparator };
