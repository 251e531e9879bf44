/**
 * Compiles the statements of a `steps {}` block (and of a library step's `call` body) into
 * Plan steps. Only declarative steps are accepted; Groovy statements and `script {}` blocks
 * get an error at their line, unknown steps a warning and a step that fails when reached.
 */
import type { BuildResult, CredentialBinding, Step } from "../plan.js";
import type { Arg, Closure, Node, Stmt } from "./ast.js";
import { STEPS, TIME_UNITS, WINDOWS_STEPS, type StepSpec } from "./catalog.js";
import { closest, loc, report, sourceOf, type Cx, type Val } from "./context.js";
import { expandLibraryCall } from "./library-steps.js";
import { evalValue, text } from "./values.js";

export const SCRIPT_HINT =
  "move the logic into a sh step (a shell script), or into a shared library step (vars/<name>.groovy whose call() holds declarative steps)";
const BUILD_RESULTS: readonly BuildResult[] = ["SUCCESS", "UNSTABLE", "FAILURE", "NOT_BUILT", "ABORTED"];

/** Compiles a block of step statements. */
export function compileSteps(body: readonly Stmt[], cx: Cx): Step[] {
  const out: Step[] = [];
  for (const s of body) {
    if (s.type === "expr") {
      const e = s.expr;
      if (e.type === "call" && e.target === null) out.push(...compileCall(e, cx));
      else if (e.type === "ident") {
        if (e.name in STEPS || cx.libs.vars.has(e.name)) {
          report(
            cx,
            "error",
            "JK-groovy",
            `"${e.name}" without parentheses is a variable, not a step call`,
            e,
            `write ${e.name}()`,
          );
        } else groovy(cx, s);
      } else if (e.type !== "error") groovy(cx, s);
      continue;
    }
    if (s.type === "decl" && cx.scope.stack.length > 0 && s.value) {
      // A library step's local (`def name = args.name ?: 'x'`) is bound at compile time.
      cx.scope.bindings[s.name] = evalValue(s.value, cx);
      continue;
    }
    if (s.type === "return" && cx.scope.stack.length > 0 && !s.value) break;
    groovy(cx, s);
  }
  return out;
}

function groovy(cx: Cx, s: Stmt): void {
  const what =
    s.type === "raw"
      ? `"${s.keyword}" is Groovy control flow`
      : `"${sourceOf(cx, s).slice(0, 60)}" is Groovy code`;
  report(
    cx,
    "error",
    "JK-groovy",
    `${what}, not a declarative step; Gantry does not run Groovy`,
    s,
    SCRIPT_HINT,
  );
}

function compileCall(call: Node & { type: "call" }, cx: Cx): Step[] {
  const name = call.name;
  const at = loc(cx, call);
  if (name === "script") {
    report(
      cx,
      "error",
      "JK-script-block",
      "script {} blocks are not run: Gantry does not execute Groovy",
      call,
      SCRIPT_HINT,
    );
    return [];
  }
  if (name === "parallel") {
    report(
      cx,
      "error",
      "JK-parallel-step",
      `Invalid step "parallel" used - not allowed in this context - The parallel step can only be used as the only top-level step in a stage's step block`,
      call,
      "use parallel stages: stage('x') { parallel { stage('a') { steps { ... } } } }",
    );
    return [];
  }
  if (name === "body" && cx.scope.body && call.args.length === 0) return structuredClone(cx.scope.body);
  if (name === "input") {
    report(
      cx,
      "error",
      "JK-input",
      "the input step is supported only as the first step of a stage",
      call,
      "use the stage's input { message '...' } directive, or move the step to the start of its own stage",
    );
    return [];
  }
  const spec = STEPS[name];
  if (spec) {
    const args = bindArgs(call, spec, cx);
    if (!args) return [];
    const step = buildStep(name, args, call, cx);
    return step ? [{ ...step, loc: at }] : [];
  }
  const libVar = cx.libs.vars.get(name);
  if (libVar) return expandLibraryCall(libVar, call, cx, compileSteps);
  if (name === "tool") {
    report(
      cx,
      "warning",
      "JK-tools",
      `tool "${argText(call, cx)}" is not installed by Gantry`,
      call,
      TOOLS_HINT,
    );
    return [];
  }
  const windows = WINDOWS_STEPS.has(name);
  const guess = closest(name, [...Object.keys(STEPS), ...cx.libs.vars.keys()]);
  report(
    cx,
    "warning",
    "JK-unknown-step",
    windows
      ? `step "${name}" runs on Windows agents only; Gantry runs POSIX shells`
      : cx.libsFailed
        ? `unknown step "${name}": Gantry does not provide it, and a library it may come from failed to load (see above)`
        : `unknown step "${name}": Gantry does not provide it (a Jenkins plugin step?)`,
    call,
    windows
      ? "use sh"
      : `${guess && distanceOk(name, guess) ? `did you mean "${guess}"? ` : ""}replace it with sh, or provide it as a shared library step (vars/${name}.groovy); the step fails if the job reaches it`,
  );
  return [
    { kind: "error", message: `step "${name}" (${at.file}:${at.line}) is not supported by Gantry`, loc: at },
  ];
}

export const TOOLS_HINT =
  "run the stage in a docker agent whose image has the tool (agent { docker { image '...' } }), or install it on the runner's PATH";

function distanceOk(a: string, b: string): boolean {
  return Math.abs(a.length - b.length) <= 2 && a.slice(0, 2).toLowerCase() === b.slice(0, 2).toLowerCase();
}

function argText(call: Node & { type: "call" }, cx: Cx): string {
  return call.args.map((a) => (a.name ? `${a.name}: ` : "") + text(evalValue(a.value, cx))).join(", ");
}

type Bound = Record<string, Node> & { __closure?: never };

/** Maps a call's arguments to the step's parameter names, with Jenkins' messages for mistakes. */
export function bindArgs(
  call: {
    name: string;
    args: Arg[];
    closure?: Closure;
    line: number;
    column: number;
    offset: number;
    end: number;
  },
  spec: StepSpec,
  cx: Cx,
): Bound | undefined {
  const out: Record<string, Node> = {};
  let ok = true;
  const positional = call.args.filter((a) => a.name === undefined);
  for (const a of call.args) {
    if (a.name === undefined) continue;
    if (!spec.params.includes(a.name)) {
      const guess = closest(a.name, spec.params);
      report(
        cx,
        "error",
        "JK-invalid-parameter",
        `Invalid parameter "${a.name}"${guess ? `, did you mean "${guess}"?` : ""}`,
        a.value,
        `parameters of ${call.name}: ${spec.params.join(", ") || "(none)"}`,
      );
      ok = false;
      continue;
    }
    out[a.name] = a.value;
  }
  if (positional.length > 0) {
    if (!spec.positional || positional.length > 1 || out[spec.positional]) {
      report(
        cx,
        "error",
        "JK-invalid-parameter",
        `step "${call.name}" takes ${spec.positional ? "one unnamed argument" : "only named arguments"}`,
        positional[0]!.value,
        `parameters of ${call.name}: ${spec.params.join(", ")}`,
      );
      ok = false;
    } else out[spec.positional] = positional[0]!.value;
  }
  for (const r of spec.required ?? []) {
    if (!(r in out) && ok) {
      report(
        cx,
        "error",
        "JK-missing-parameter",
        `Missing required parameter: "${r}"`,
        call,
        `${call.name} needs ${r}`,
      );
      ok = false;
    }
  }
  if (spec.block && !call.closure) {
    report(
      cx,
      "error",
      "JK-missing-block",
      `step "${call.name}" needs a block: ${call.name}(...) { ... }`,
      call,
    );
    ok = false;
  }
  if (!spec.block && call.closure) {
    report(cx, "error", "JK-unexpected-block", `step "${call.name}" does not take a block`, call.closure);
    ok = false;
  }
  return ok ? out : undefined;
}

function str(n: Node | undefined, cx: Cx, fallback = ""): string {
  return n ? text(evalValue(n, cx)) : fallback;
}

function bool(n: Node | undefined, cx: Cx, fallback: boolean): boolean {
  if (!n) return fallback;
  const v = evalValue(n, cx);
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  report(cx, "error", "JK-invalid-value", `expected true or false, got ${text(v)}`, n);
  return fallback;
}

export function num(n: Node | undefined, cx: Cx, fallback: number): number {
  if (!n) return fallback;
  const v = evalValue(n, cx);
  const x = typeof v === "number" ? v : Number(v);
  if (typeof v === "boolean" || v === null || Number.isNaN(x) || (typeof v === "string" && v.trim() === "")) {
    report(cx, "error", "JK-invalid-value", `expected a number, got ${text(v)}`, n);
    return fallback;
  }
  return x;
}

/** Jenkins' comma-separated Ant patterns (`'a/**, b/*.xml'`). */
function patterns(n: Node | undefined, cx: Cx): string[] {
  if (!n) return [];
  const v = evalValue(n, cx);
  const list = Array.isArray(v) ? v.map(text) : [text(v)];
  return list
    .flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}

export function durationMs(
  time: Node | undefined,
  unit: Node | undefined,
  cx: Cx,
  defaultUnit: string,
): number {
  const t = num(time, cx, 0);
  const u = unit ? str(unit, cx).toUpperCase() : defaultUnit;
  const factor = TIME_UNITS[u];
  if (factor === undefined) {
    report(
      cx,
      "error",
      "JK-invalid-value",
      `unknown time unit "${u}"`,
      unit ?? time!,
      `one of ${Object.keys(TIME_UNITS).join(", ")}`,
    );
    return t * TIME_UNITS[defaultUnit]!;
  }
  return Math.round(t * factor);
}

function result(n: Node | undefined, cx: Cx, fallback: BuildResult): BuildResult {
  if (!n) return fallback;
  const v = str(n, cx).toUpperCase();
  if ((BUILD_RESULTS as readonly string[]).includes(v)) return v as BuildResult;
  report(
    cx,
    "error",
    "JK-invalid-value",
    `unknown build result "${v}"`,
    n,
    `one of ${BUILD_RESULTS.join(", ")}`,
  );
  return fallback;
}

function block(call: { closure?: Closure }, cx: Cx): Step[] {
  return call.closure ? compileSteps(call.closure.body, cx) : [];
}

function buildStep(name: string, a: Bound, call: Node & { type: "call" }, cx: Cx): Step | undefined {
  switch (name) {
    case "sh":
      if (a.returnStdout || a.returnStatus) {
        report(
          cx,
          "warning",
          "JK-unused-result",
          "returnStdout/returnStatus only matter inside script {}, which Gantry does not run; the output is shown instead",
          call,
        );
      }
      return { kind: "sh", script: str(a.script, cx), ...(a.label ? { label: str(a.label, cx) } : {}) };
    case "echo":
      return { kind: "echo", message: str(a.message, cx) };
    case "dir":
      return { kind: "dir", path: str(a.path, cx), steps: block(call, cx) };
    case "withEnv": {
      const v = evalValue(a.overrides!, cx);
      const env: Record<string, string> = {};
      for (const item of Array.isArray(v) ? v : [v]) {
        const s = text(item);
        const eq = s.indexOf("=");
        if (eq <= 0)
          report(cx, "error", "JK-invalid-value", `withEnv entry "${s}" must be NAME=value`, a.overrides!);
        else env[s.slice(0, eq)] = s.slice(eq + 1);
      }
      return { kind: "withEnv", env, steps: block(call, cx) };
    }
    case "withCredentials":
      return {
        kind: "withCredentials",
        bindings: credentialBindings(a.bindings!, cx),
        steps: block(call, cx),
      };
    case "archiveArtifacts":
      return {
        kind: "archiveArtifacts",
        paths: patterns(a.artifacts, cx),
        exclude: patterns(a.excludes, cx),
        allowEmpty: bool(a.allowEmptyArchive, cx, false),
        ...(a.fingerprint ? { fingerprint: bool(a.fingerprint, cx, false) } : {}),
      };
    case "archive":
      report(
        cx,
        "info",
        "JK-deprecated",
        "archive is deprecated in Jenkins; Gantry runs it as archiveArtifacts",
        call,
      );
      return {
        kind: "archiveArtifacts",
        paths: patterns(a.includes, cx),
        exclude: patterns(a.excludes, cx),
        allowEmpty: false,
      };
    case "stash": {
      const includes = patterns(a.includes, cx);
      return {
        kind: "stash",
        name: str(a.name, cx),
        includes: includes.length ? includes : ["**"],
        exclude: patterns(a.excludes, cx),
        allowEmpty: bool(a.allowEmpty, cx, false),
      };
    }
    case "unstash":
      return { kind: "unstash", name: str(a.name, cx) };
    case "junit":
      return {
        kind: "junit",
        patterns: patterns(a.testResults, cx),
        allowEmpty: bool(a.allowEmptyResults, cx, false),
      };
    case "error":
      return { kind: "error", message: str(a.message, cx) };
    case "unstable":
      return { kind: "unstable", message: str(a.message, cx) };
    case "retry":
      return { kind: "retry", count: num(a.count, cx, 1), steps: block(call, cx) };
    case "timeout":
      if (a.activity)
        report(
          cx,
          "warning",
          "JK-unsupported-option",
          "timeout(activity: true) is not supported: Gantry times the whole block",
          a.activity,
        );
      return { kind: "timeout", ms: durationMs(a.time, a.unit, cx, "MINUTES"), steps: block(call, cx) };
    case "sleep":
      return { kind: "sleep", ms: durationMs(a.time, a.unit, cx, "SECONDS") };
    case "writeFile":
      return { kind: "writeFile", file: str(a.file, cx), text: str(a.text, cx) };
    case "readFile":
    case "fileExists":
    case "libraryResource":
      report(
        cx,
        "warning",
        "JK-unused-result",
        `${name} returns a value, which only matters inside script {} or an expression; this statement does nothing`,
        call,
      );
      return undefined;
    case "catchError":
      return {
        kind: "catchError",
        buildResult: result(a.buildResult, cx, "FAILURE"),
        stageResult: result(a.stageResult, cx, "SUCCESS"),
        ...(a.message ? { message: str(a.message, cx) } : {}),
        steps: block(call, cx),
      };
    case "warnError":
      return {
        kind: "catchError",
        buildResult: "UNSTABLE",
        stageResult: "UNSTABLE",
        message: str(a.message, cx),
        steps: block(call, cx),
      };
    case "deleteDir":
      return { kind: "deleteDir" };
    case "checkout":
      if (a.scm!.type === "ident" && a.scm!.name === "scm") return { kind: "checkout" };
      report(
        cx,
        "warning",
        "JK-unknown-step",
        'only "checkout scm" is supported: Gantry checks out the project itself',
        call,
        "remove the step, or clone other repositories in a sh step",
      );
      return {
        kind: "error",
        message: `checkout of another SCM (${cx.scope.file}:${call.line}) is not supported by Gantry`,
      };
    default:
      return undefined;
  }
}

function credentialBindings(n: Node, cx: Cx): CredentialBinding[] {
  const items = n.type === "list" ? n.items : [n];
  const out: CredentialBinding[] = [];
  for (const item of items) {
    if (item.type !== "call" || item.target !== null) {
      report(
        cx,
        "error",
        "JK-invalid-value",
        "withCredentials takes a list of bindings such as string(credentialsId: 'id', variable: 'NAME')",
        item,
      );
      continue;
    }
    const args: Record<string, Val> = {};
    for (const arg of item.args) if (arg.name) args[arg.name] = evalValue(arg.value, cx);
    const need = (...keys: string[]): boolean => {
      const missing = keys.find((k) => typeof args[k] !== "string" || args[k] === "");
      if (missing)
        report(cx, "error", "JK-missing-parameter", `Missing required parameter: "${missing}"`, item);
      return !missing;
    };
    const id = text(args.credentialsId ?? "");
    if (item.name === "string" && need("credentialsId", "variable"))
      out.push({ kind: "string", credentialsId: id, variable: text(args.variable!) });
    else if (item.name === "file" && need("credentialsId", "variable"))
      out.push({ kind: "file", credentialsId: id, variable: text(args.variable!) });
    else if (
      item.name === "usernamePassword" &&
      need("credentialsId", "usernameVariable", "passwordVariable")
    ) {
      out.push({
        kind: "usernamePassword",
        credentialsId: id,
        usernameVariable: text(args.usernameVariable!),
        passwordVariable: text(args.passwordVariable!),
      });
    } else if (!["string", "file", "usernamePassword"].includes(item.name)) {
      report(
        cx,
        "error",
        "JK-unsupported-binding",
        `credential binding "${item.name}" is not supported`,
        item,
        "use string, file or usernamePassword",
      );
    }
  }
  return out;
}
