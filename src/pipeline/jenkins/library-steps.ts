/**
 * Expands a call of a shared-library step (`vars/<name>.groovy`) in place: the library's
 * `call(...)` body is compiled as declarative steps with its parameters bound at compile
 * time (`args.x`, `args.x ?: 'default'`), and `body()` replaced by the caller's block.
 */
import type { LibraryVar } from "../libraries/load.js";
import type { Step } from "../plan.js";
import type { Node, Stmt } from "./ast.js";
import { report, type Cx, type Val } from "./context.js";
import { parseGroovy } from "./parser.js";
import { evalValue } from "./values.js";

const MAX_NESTING = 16;
type Method = Extract<Stmt, { type: "method" }>;

export function expandLibraryCall(
  v: LibraryVar,
  call: Node & { type: "call" },
  cx: Cx,
  compile: (body: readonly Stmt[], cx: Cx) => Step[],
): Step[] {
  if (v.kind !== "groovy") {
    report(
      cx,
      "error",
      "JK-library-step",
      `library step "${v.name}" is a gantry.yml step (${v.file}); a Jenkinsfile can only call vars/${v.name}.groovy`,
      call,
      `add vars/${v.name}.groovy to library ${v.library}`,
    );
    return [];
  }
  if (cx.scope.stack.includes(v.name) || cx.scope.stack.length >= MAX_NESTING) {
    report(
      cx,
      "error",
      "JK-library-recursion",
      `library step "${v.name}" calls itself (${[...cx.scope.stack, v.name].join(" → ")})`,
      call,
    );
    return [];
  }
  if (!v.parsed) {
    v.parsed = parseGroovy(v.source, v.file);
    cx.diags.push(...v.parsed.diagnostics);
  }
  const methods = v.parsed.script.statements.filter(
    (s): s is Method => s.type === "method" && s.name === "call",
  );
  if (methods.length === 0) {
    report(
      cx,
      "error",
      "JK-library-step",
      `${v.file} has no call() method, so "${v.name}" cannot be used as a step`,
      call,
      "define def call(Map args = [:]) { ... } in it",
    );
    return [];
  }
  const named = call.args.filter((a) => a.name !== undefined);
  const positional = call.args.filter((a) => a.name === undefined);
  const method = pick(methods, named.length > 0, positional.length, !!call.closure);
  // The caller's block is compiled in the caller's scope, before switching to the library's.
  const body = call.closure ? compile(call.closure.body, cx) : undefined;
  const bindings: Record<string, Val> = {};
  let nextPositional = 0;
  for (const p of method.params) {
    const isClosure =
      p.declType === "Closure" ||
      (p === method.params[method.params.length - 1] &&
        call.closure &&
        p.declType === "def" &&
        !isMapType(p.declType));
    if (isClosure) continue;
    if (isMapType(p.declType) || (named.length > 0 && p === method.params[0] && positional.length === 0)) {
      const map: Record<string, Val> = {};
      const def = p.default ? evalValue(p.default, { ...cx, scope: { ...cx.scope, bindings: {} } }) : {};
      if (def && typeof def === "object" && !Array.isArray(def)) Object.assign(map, def);
      for (const a of named) map[a.name!] = evalValue(a.value, cx);
      bindings[p.name] = map;
      continue;
    }
    const arg = positional[nextPositional++];
    if (arg) bindings[p.name] = evalValue(arg.value, cx);
    else if (p.default) bindings[p.name] = evalValue(p.default, cx);
    else {
      report(
        cx,
        "error",
        "JK-missing-parameter",
        `Missing required parameter: "${p.name}" of library step "${v.name}"`,
        call,
      );
      return [];
    }
  }
  const inner: Cx = {
    ...cx,
    scope: {
      file: v.file,
      source: v.source,
      bindings,
      ...(body ? { body } : {}),
      stack: [...cx.scope.stack, v.name],
    },
  };
  if (call.closure && !usesBody(method)) {
    report(
      cx,
      "warning",
      "JK-library-step",
      `library step "${v.name}" ignores the block passed to it (its call() never runs body())`,
      call.closure,
    );
  }
  return compile(method.body.body, inner);
}

function isMapType(t: string): boolean {
  return t === "Map" || t.startsWith("Map<") || t === "LinkedHashMap";
}

/** Picks the overload of call() that fits the arguments given. */
function pick(methods: Method[], hasNamed: boolean, positional: number, hasClosure: boolean): Method {
  const score = (m: Method): number => {
    const closures = m.params.filter((p) => p.declType === "Closure").length;
    const maps = m.params.filter((p) => isMapType(p.declType)).length;
    const others = m.params.length - closures - maps;
    let s = 0;
    if (hasClosure === closures > 0) s += 4;
    if (hasNamed === maps > 0) s += 2;
    if (positional === others) s += 1;
    return s;
  };
  return [...methods].sort((a, b) => score(b) - score(a))[0]!;
}

function usesBody(m: Method): boolean {
  const src = JSON.stringify(m.body.body);
  return (
    /"name":"(body|call)"/.test(src) ||
    m.params.some((p) => p.declType === "Closure" && src.includes(`"name":"${p.name}"`))
  );
}
