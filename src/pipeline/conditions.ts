import picomatch from "picomatch";
import type { Comparator, Condition, Expr } from "./plan.js";

/** What a run-time condition can look at. */
export interface ConditionContext {
  env: Record<string, string>;
  params: Record<string, string>;
  branch: string;
  tag: string;
  changedFiles: string[];
  changeRequest: boolean;
  /** Causes of the run, e.g. `UserIdCause`, `TimerTrigger`, `SCMTrigger`. */
  causes: string[];
  currentBuild: { result: string | null; currentResult: string; number: number };
  fileExists: (relativePath: string) => boolean;
}

/** Thrown for an expression that cannot be evaluated (unknown method, bad regex). */
export class ConditionError extends Error {}

export function evaluateCondition(cond: Condition, ctx: ConditionContext): boolean {
  switch (cond.kind) {
    case "branch":
      return ctx.branch !== "" && !ctx.tag && compare(cond.pattern, ctx.branch, cond.comparator);
    case "tag":
      return (
        ctx.tag !== "" && (cond.pattern === undefined || compare(cond.pattern, ctx.tag, cond.comparator))
      );
    case "buildingTag":
      return ctx.tag !== "";
    case "changeRequest":
      return ctx.changeRequest;
    case "environment":
      return (ctx.env[cond.name] ?? "") === cond.value;
    case "equals":
      return cond.expected === cond.actual;
    case "changeset": {
      if (cond.comparator === "REGEXP") {
        const re = safeRegex(`^(?:${cond.pattern})$`, cond.caseSensitive ? "" : "i");
        return ctx.changedFiles.some((f) => re.test(f));
      }
      if (cond.comparator === "EQUALS")
        return ctx.changedFiles.some((f) =>
          cond.caseSensitive ? f === cond.pattern : f.toLowerCase() === cond.pattern.toLowerCase(),
        );
      const match = picomatch(cond.pattern, { nocase: !cond.caseSensitive, dot: true });
      return ctx.changedFiles.some((f) => match(f));
    }
    case "triggeredBy":
      return ctx.causes.some((c) => c === cond.cause || c.includes(cond.cause));
    case "expression":
      return truthy(evaluateExpr(cond.expr, ctx));
    case "not":
      return !evaluateCondition(cond.condition, ctx);
    case "allOf":
      return cond.conditions.every((c) => evaluateCondition(c, ctx));
    case "anyOf":
      return cond.conditions.some((c) => evaluateCondition(c, ctx));
  }
}

function compare(pattern: string, value: string, comparator: Comparator): boolean {
  switch (comparator) {
    case "EQUALS":
      return pattern === value;
    case "REGEXP":
      return safeRegex(`^(?:${pattern})$`).test(value);
    case "GLOB":
      // Jenkins' branch globs are Ant-style: `*` stays within a segment, `**` crosses `/`.
      return picomatch(pattern, { dot: true })(value);
  }
}

function safeRegex(source: string, flags = ""): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ConditionError(`invalid regular expression /${source}/: ${(err as Error).message}`);
  }
}

type Value = string | number | boolean | null | Value[];

/** Groovy truth: null, false, 0, "" and empty lists are false. */
export function truthy(v: Value): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== null && v !== false && v !== 0 && v !== "";
}

function str(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map(str).join(", ")}]`;
  return String(v);
}

function num(v: Value): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  const n = Number(str(v));
  if (Number.isNaN(n)) throw new ConditionError(`"${str(v)}" is not a number`);
  return n;
}

function equal(a: Value, b: Value): boolean {
  if (typeof a === "number" || typeof b === "number") {
    if (a === null || b === null) return a === b;
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x === y;
  }
  if (Array.isArray(a) || Array.isArray(b)) return str(a) === str(b);
  if (typeof a === "boolean" || typeof b === "boolean") return str(a) === str(b);
  return a === b;
}

/** Evaluates the safe expression language of `Expr`: no side effects, no host access but `fileExists`. */
export function evaluateExpr(e: Expr, ctx: ConditionContext): Value {
  switch (e.kind) {
    case "literal":
      return e.value;
    case "list":
      return e.items.map((i) => evaluateExpr(i, ctx));
    case "var":
      return lookup(e.scope, e.name, ctx);
    case "concat":
      return e.parts.map((p) => str(evaluateExpr(p, ctx))).join("");
    case "unary": {
      const v = evaluateExpr(e.arg, ctx);
      return e.op === "!" ? !truthy(v) : -num(v);
    }
    case "ternary":
      return truthy(evaluateExpr(e.test, ctx)) ? evaluateExpr(e.then, ctx) : evaluateExpr(e.else, ctx);
    case "binary":
      return binary(e.op, e.left, e.right, ctx);
    case "call":
      return call(e, ctx);
  }
}

function lookup(
  scope: "env" | "params" | "currentBuild" | "bare",
  name: string,
  ctx: ConditionContext,
): Value {
  if (scope === "env") return ctx.env[name] ?? null;
  if (scope === "params") {
    const v = ctx.params[name];
    if (v === "true" || v === "false") return v === "true";
    return v ?? null;
  }
  if (scope === "currentBuild") {
    const b = ctx.currentBuild;
    if (name === "result") return b.result;
    if (name === "currentResult") return b.currentResult;
    if (name === "number") return b.number;
    throw new ConditionError(`currentBuild.${name} is not available`);
  }
  // Bare names: environment variables first (Jenkins binds env vars as globals), then params.
  if (name === "true" || name === "false") return name === "true";
  if (name === "null") return null;
  if (name in ctx.env) return ctx.env[name] ?? null;
  if (name in ctx.params) return lookup("params", name, ctx);
  if (name === "BRANCH_NAME") return ctx.branch || null;
  if (name === "TAG_NAME") return ctx.tag || null;
  return null;
}

function binary(op: Extract<Expr, { kind: "binary" }>["op"], l: Expr, r: Expr, ctx: ConditionContext): Value {
  if (op === "&&") return truthy(evaluateExpr(l, ctx)) && truthy(evaluateExpr(r, ctx));
  if (op === "||") return truthy(evaluateExpr(l, ctx)) || truthy(evaluateExpr(r, ctx));
  const a = evaluateExpr(l, ctx);
  const b = evaluateExpr(r, ctx);
  switch (op) {
    case "==":
      return equal(a, b);
    case "!=":
      return !equal(a, b);
    case "<":
      return cmp(a, b) < 0;
    case "<=":
      return cmp(a, b) <= 0;
    case ">":
      return cmp(a, b) > 0;
    case ">=":
      return cmp(a, b) >= 0;
    case "=~":
      return safeRegex(str(b)).test(str(a));
    case "==~":
      return safeRegex(`^(?:${str(b)})$`).test(str(a));
    case "+":
      return typeof a === "number" && typeof b === "number" ? a + b : str(a) + str(b);
    case "in":
      return Array.isArray(b) ? b.some((x) => equal(x, a)) : str(b).includes(str(a));
  }
}

function cmp(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string" && (Number.isNaN(Number(a)) || Number.isNaN(Number(b))))
    return a < b ? -1 : a > b ? 1 : 0;
  return num(a) - num(b);
}

function call(e: Extract<Expr, { kind: "call" }>, ctx: ConditionContext): Value {
  const args = e.args.map((a) => evaluateExpr(a, ctx));
  if (e.target === null) {
    if (e.method === "fileExists") return ctx.fileExists(str(args[0] ?? ""));
    throw new ConditionError(`${e.method}() is not available in conditions`);
  }
  const t = evaluateExpr(e.target, ctx);
  const s = str(t);
  const a0 = args[0] ?? null;
  switch (e.method) {
    case "equals":
      return equal(t, a0);
    case "equalsIgnoreCase":
      return s.toLowerCase() === str(a0).toLowerCase();
    case "startsWith":
      return s.startsWith(str(a0));
    case "endsWith":
      return s.endsWith(str(a0));
    case "contains":
      return Array.isArray(t) ? t.some((x) => equal(x, a0)) : s.includes(str(a0));
    case "matches":
      return safeRegex(`^(?:${str(a0)})$`).test(s);
    case "toBoolean":
      return s.trim().toLowerCase() === "true" || s.trim() === "1" || s.trim().toLowerCase() === "y";
    case "toInteger":
    case "toLong":
      return Math.trunc(num(t));
    case "toString":
      return s;
    case "trim":
      return s.trim();
    case "toLowerCase":
      return s.toLowerCase();
    case "toUpperCase":
      return s.toUpperCase();
    case "isEmpty":
      return Array.isArray(t) ? t.length === 0 : s.length === 0;
    case "size":
    case "length":
      return Array.isArray(t) ? t.length : s.length;
    default:
      throw new ConditionError(`method ${e.method}() is not supported in conditions`);
  }
}
