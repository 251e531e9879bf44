/**
 * Compile-time evaluation of directive and step arguments. Strings keep references to
 * run-time variables as `${NAME}` (`"${env.X}"`, `"$X"`, `"${params.X}"` all become `${X}`),
 * for the shell or the engine to expand with the job's variables. What needs Groovy to run
 * is reported, never silently dropped.
 */
import type { Node } from "./ast.js";
import { report, sourceOf, type Cx, type Val } from "./context.js";

const BUILD_PROPERTIES: Record<string, string> = {
  number: "${BUILD_NUMBER}",
  id: "${BUILD_ID}",
  displayName: "#${BUILD_NUMBER}",
  fullDisplayName: "${JOB_NAME} #${BUILD_NUMBER}",
  projectName: "${JOB_NAME}",
  fullProjectName: "${JOB_NAME}",
  absoluteUrl: "${BUILD_URL}",
};

const UNSUPPORTED_HINT = "compute the value in a sh step, or pass it with --variable NAME=value";

/** Evaluates `n` to a compile-time value; unsupported code gives a warning and `""`. */
export function evalValue(n: Node, cx: Cx): Val {
  switch (n.type) {
    case "string":
      return n.parts.map((p) => (typeof p === "string" ? p : interpolate(p, cx))).join("");
    case "number":
      return n.value;
    case "bool":
      return n.value;
    case "null":
      return null;
    case "ident":
      if (n.name in cx.scope.bindings) return cx.scope.bindings[n.name]!;
      return "${" + n.name + "}";
    case "property":
    case "index": {
      const v = lookupPath(n, cx);
      if (v !== undefined) return v;
      return unsupported(n, cx);
    }
    case "binary":
      if (n.op === "+") {
        const l = evalValue(n.left, cx);
        const r = evalValue(n.right, cx);
        if (typeof l === "number" && typeof r === "number") return l + r;
        if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
        return text(l) + text(r);
      }
      return unsupported(n, cx);
    case "ternary": {
      const known = knownValue(n.test, cx);
      if (known === undefined) return unsupported(n, cx);
      if (truthy(known)) return n.then ? evalValue(n.then, cx) : known;
      return evalValue(n.else, cx);
    }
    case "list":
      return n.items.map((i) => evalValue(i, cx));
    case "map": {
      const out: Record<string, Val> = {};
      for (const e of n.entries) out[e.key] = evalValue(e.value, cx);
      return out;
    }
    case "call":
      if (n.target === null && n.name === "libraryResource") return libraryResource(n, cx);
      if (n.target !== null && n.name === "trim" && n.args.length === 0) {
        const v = knownValue(n.target, cx);
        if (typeof v === "string") return v.trim();
      }
      return unsupported(n, cx);
    case "bareDollar":
      report(
        cx,
        "error",
        "JK-bare-dollar",
        `${n.text} cannot be used as a value directly. Did you mean "${n.text}"? (add quotes)`,
        n,
      );
      return "";
    case "error":
      return "";
    default:
      return unsupported(n, cx);
  }
}

/** `${...}` inside a GString. */
function interpolate(n: Node, cx: Cx): string {
  if (n.type === "ident" && !(n.name in cx.scope.bindings)) return "${" + n.name + "}";
  return text(evalValue(n, cx));
}

/** `env.X`, `params.X`, `currentBuild.X`, `args.x` (library arguments), `env['X']`. */
function lookupPath(n: Node & { type: "property" | "index" }, cx: Cx): Val | undefined {
  const target = n.target;
  let name: string | undefined;
  if (n.type === "property") name = n.name;
  else if (n.index.type === "string" && n.index.parts.every((p) => typeof p === "string"))
    name = n.index.parts.join("");
  if (name === undefined) return undefined;
  if (target.type === "ident") {
    if (target.name in cx.scope.bindings) {
      const obj = cx.scope.bindings[target.name];
      if (obj && typeof obj === "object" && !Array.isArray(obj)) return name in obj ? obj[name]! : null;
      return undefined;
    }
    if (target.name === "env" || target.name === "params") return "${" + name + "}";
    if (target.name === "currentBuild" && name in BUILD_PROPERTIES) return BUILD_PROPERTIES[name]!;
  }
  return undefined;
}

/** The value of `n` when it is known at compile time without run-time variables; else undefined. */
export function knownValue(n: Node, cx: Cx): Val | undefined {
  if (
    (n.type === "property" || n.type === "index") &&
    n.target.type === "ident" &&
    n.target.name in cx.scope.bindings
  ) {
    return lookupPath(n, cx) ?? null;
  }
  if (n.type === "ident" && n.name in cx.scope.bindings) return cx.scope.bindings[n.name]!;
  if (
    n.type === "string" ||
    n.type === "number" ||
    n.type === "bool" ||
    n.type === "null" ||
    n.type === "list" ||
    n.type === "map"
  ) {
    const probe: Cx = { ...cx, diags: [] };
    const v = evalValue(n, probe);
    if (probe.diags.length > 0 || (typeof v === "string" && v.includes("${"))) return undefined;
    return v;
  }
  return undefined;
}

function truthy(v: Val): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return v !== null && v !== false && v !== 0 && v !== "";
}

function libraryResource(n: Node & { type: "call" }, cx: Cx): Val {
  const arg = n.args.find((a) => a.name === undefined || a.name === "resource");
  const name = arg ? evalValue(arg.value, cx) : undefined;
  if (typeof name !== "string" || name === "") {
    report(cx, "error", "JK-missing-parameter", 'Missing required parameter: "resource"', n);
    return "";
  }
  const found = cx.libs.resource(name);
  if (found === undefined) {
    report(
      cx,
      "error",
      "JK-library-resource",
      `libraryResource "${name}" was not found in the resources/ folder of any loaded library`,
      n,
      "check the library's resources/ folder and the @Library version",
    );
    return "";
  }
  return found;
}

function unsupported(n: Node, cx: Cx): Val {
  report(
    cx,
    "warning",
    "JK-unsupported-value",
    `"${sourceOf(cx, n)}" needs Groovy to be evaluated; Gantry does not run Groovy and uses an empty value`,
    n,
    UNSUPPORTED_HINT,
  );
  return "";
}

/** A value as text, the way Groovy would print it. */
export function text(v: Val): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map(text).join(", ")}]`;
  if (typeof v === "object")
    return `[${Object.entries(v)
      .map(([k, x]) => `${k}:${text(x)}`)
      .join(", ")}]`;
  return String(v);
}
