/**
 * Turns a parsed Groovy expression into the Plan's safe expression language (`Expr`).
 * Anything outside that language is reported, never guessed at: Gantry does not run Groovy.
 */
import type { Diagnostic } from "../diagnostics.js";
import type { Expr } from "../plan.js";
import type { Node, Stmt } from "./ast.js";

/** Methods the engine's evaluator (`src/pipeline/conditions.ts`) implements on a value. */
export const EXPR_METHODS: ReadonlySet<string> = new Set([
  "equals",
  "equalsIgnoreCase",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
  "toBoolean",
  "toInteger",
  "toLong",
  "toString",
  "trim",
  "toLowerCase",
  "toUpperCase",
  "isEmpty",
  "size",
  "length",
]);

/** Functions callable without a target. */
export const EXPR_FUNCTIONS: ReadonlySet<string> = new Set(["fileExists"]);

const BINARY_OPS = new Set(["==", "!=", "<", "<=", ">", ">=", "&&", "||", "=~", "==~", "+", "in"]);
const SCOPES = new Set(["env", "params", "currentBuild"]);

export const EXPR_HINT =
  "Gantry evaluates a small, safe subset of Groovy here: literals, env.X, params.X, currentBuild.result/currentResult/number, " +
  "==, !=, <, >, &&, ||, !, =~, ==~, ?:, fileExists('path') and the methods " +
  [...EXPR_METHODS].join(", ") +
  ". Move other logic into a sh step or a library step.";

/** Converts the statements of an `expression { ... }` body (one expression, `return` optional). */
export function statementsToExpr(
  body: Stmt[],
  file: string,
  diags: Diagnostic[],
  at: { line: number; column: number },
): Expr | undefined {
  const useful = body.filter((s) => !(s.type === "expr" && s.expr.type === "error"));
  if (useful.length !== 1) {
    diags.push({
      severity: "error",
      code: "JK-expression",
      message:
        useful.length === 0
          ? "empty expression"
          : "an expression may hold only one statement; Gantry does not run Groovy statements",
      file,
      line: (useful[1] ?? useful[0])?.line ?? at.line,
      column: (useful[1] ?? useful[0])?.column ?? at.column,
      hint: EXPR_HINT,
    });
    return undefined;
  }
  const s = useful[0]!;
  if (s.type === "expr") return nodeToExpr(s.expr, file, diags);
  if (s.type === "return" && s.value) return nodeToExpr(s.value, file, diags);
  diags.push({
    severity: "error",
    code: "JK-expression",
    message:
      s.type === "raw"
        ? `"${s.keyword}" is Groovy code that Gantry does not run`
        : "this statement is not an expression",
    file,
    line: s.line,
    column: s.column,
    hint: EXPR_HINT,
  });
  return undefined;
}

/** Converts one expression node; reports what is outside the language and returns undefined then. */
export function nodeToExpr(node: Node, file: string, diags: Diagnostic[]): Expr | undefined {
  let ok = true;
  const fail = (n: Node, message: string): Expr => {
    ok = false;
    diags.push({
      severity: "error",
      code: "JK-expression",
      message,
      file,
      line: n.line,
      column: n.column,
      hint: EXPR_HINT,
    });
    return { kind: "literal", value: null };
  };
  const conv = (n: Node): Expr => {
    switch (n.type) {
      case "string": {
        const parts = n.parts.map((p): Expr =>
          typeof p === "string" ? { kind: "literal", value: p } : conv(p),
        );
        if (parts.length === 0) return { kind: "literal", value: "" };
        if (parts.length === 1 && parts[0]!.kind === "literal" && typeof n.parts[0] === "string")
          return parts[0]!;
        return { kind: "concat", parts };
      }
      case "number":
        return { kind: "literal", value: n.value };
      case "bool":
        return { kind: "literal", value: n.value };
      case "null":
        return { kind: "literal", value: null };
      case "ident":
        if (SCOPES.has(n.name)) return fail(n, `"${n.name}" must be followed by a name, e.g. ${n.name}.NAME`);
        return { kind: "var", scope: "bare", name: n.name };
      case "property":
        if (n.target.type === "ident" && SCOPES.has(n.target.name)) {
          return { kind: "var", scope: n.target.name as "env" | "params" | "currentBuild", name: n.name };
        }
        return fail(n, `property "${n.name}" of ${describeNode(n.target)} is not supported in expressions`);
      case "index":
        if (
          n.target.type === "ident" &&
          (n.target.name === "env" || n.target.name === "params") &&
          n.index.type === "string" &&
          n.index.parts.every((p) => typeof p === "string")
        ) {
          return { kind: "var", scope: n.target.name, name: n.index.parts.join("") };
        }
        return fail(n, "indexing is not supported in expressions");
      case "binary":
        if (!BINARY_OPS.has(n.op)) return fail(n, `operator "${n.op}" is not supported in expressions`);
        return {
          kind: "binary",
          op: n.op as Extract<Expr, { kind: "binary" }>["op"],
          left: conv(n.left),
          right: conv(n.right),
        };
      case "unary":
        if (n.op === "+") return conv(n.arg);
        if (n.op !== "!" && n.op !== "-")
          return fail(n, `operator "${n.op}" is not supported in expressions`);
        return { kind: "unary", op: n.op, arg: conv(n.arg) };
      case "ternary": {
        const test = conv(n.test);
        return { kind: "ternary", test, then: n.then ? conv(n.then) : test, else: conv(n.else) };
      }
      case "call": {
        if (n.closure) return fail(n, `"${n.name} { ... }" is Groovy code that Gantry does not run`);
        if (n.args.some((a) => a.name !== undefined))
          return fail(n, `named arguments are not supported in expressions ("${n.name}")`);
        const args = n.args.map((a) => conv(a.value));
        if (n.target === null) {
          if (!EXPR_FUNCTIONS.has(n.name)) return fail(n, `"${n.name}()" is not supported in expressions`);
          return { kind: "call", target: null, method: n.name, args };
        }
        if (!EXPR_METHODS.has(n.name)) return fail(n, `method "${n.name}()" is not supported in expressions`);
        return { kind: "call", target: conv(n.target), method: n.name, args };
      }
      case "list":
        return { kind: "list", items: n.items.map(conv) };
      case "error":
        ok = false;
        return { kind: "literal", value: null };
      default:
        return fail(n, `${describeNode(n)} is not supported in expressions`);
    }
  };
  const out = conv(node);
  return ok ? out : undefined;
}

function describeNode(n: Node): string {
  switch (n.type) {
    case "ident":
      return `"${n.name}"`;
    case "property":
      return `"${n.name}"`;
    case "call":
      return `"${n.name}()"`;
    case "map":
      return "a map";
    case "closure":
      return "a closure";
    case "new":
      return `"new ${n.className}"`;
    default:
      return `a ${n.type}`;
  }
}
