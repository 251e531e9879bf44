/** `environment`, `options`, `parameters`, `triggers`, `tools` and `input`. */
import type { Input, Parameter, PipelineOptions, Trigger, Variable } from "../plan.js";
import type { Node } from "./ast.js";
import { entries, namedArgs, soleArg, substitute, type Entry } from "./blocks.js";
import { closest, report, type Cx } from "./context.js";
import { durationMs, num, TOOLS_HINT } from "./steps.js";
import { evalValue, knownValue, text } from "./values.js";

/**
 * `environment { NAME = value }`. `credentials('id')` becomes a credential variable; when
 * the pipeline uses `NAME_USR`/`NAME_PSW` it is a username/password and those two are added
 * too (Jenkins decides by the credential's type, which only the secret store knows).
 * `outer` holds the variables already visible (for `X = "${X}-suffix"`), `known` matrix axes.
 */
export function compileEnvironment(
  e: Entry,
  cx: Cx,
  outer: Readonly<Record<string, Variable>>,
  known: Readonly<Record<string, string>>,
  wholeSource: string,
): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const s of e.closure?.body ?? []) {
    if (s.type !== "assign" || s.target.type !== "ident" || s.op !== "=") {
      if (!(s.type === "expr" && s.expr.type === "error")) {
        report(
          cx,
          "error",
          "JK-environment",
          "Expected name=value pairs",
          s,
          "write NAME = \"value\" or NAME = credentials('id')",
        );
      }
      continue;
    }
    const name = s.target.name;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      report(cx, "error", "JK-environment", `"${name}" is not a valid environment variable name`, s.target);
      continue;
    }
    const v = s.value;
    if (v.type === "call" && v.target === null && v.name === "credentials") {
      const idNode = soleArg({ name: "credentials", args: v.args, at: s, parens: true });
      const id = idNode
        ? substitute(text(evalValue(idNode, cx)), { ...known, ...literalValues({ ...outer, ...out }) })
        : "";
      if (!id || id.includes("${")) {
        report(
          cx,
          "error",
          "JK-environment",
          `credentials() needs a credential id known before the run, got "${id}"`,
          v,
          "use a literal id: credentials('my-id')",
        );
        continue;
      }
      const pair = new RegExp(`\\b${name}_(USR|PSW)\\b`).test(wholeSource);
      out[name] = { kind: "credential", id, part: pair ? "usernamePassword" : "secret" };
      if (pair) {
        out[`${name}_USR`] = { kind: "credential", id, part: "username" };
        out[`${name}_PSW`] = { kind: "credential", id, part: "password" };
      }
      continue;
    }
    if (v.type === "call" || v.type === "property" || v.type === "index") {
      if (!isEnvRef(v)) {
        // Jenkins runs these as Groovy (readMavenPom().getVersion()); Gantry cannot.
        evalValue(v, cx);
        out[name] = { kind: "value", value: "" };
        continue;
      }
    }
    let value = text(evalValue(v, cx));
    if (v.type === "null") value = "";
    // `X = "${X}-suffix"` extends the value X had before; when Gantry does not know it (PATH
    // from the agent), the reference is left for the engine to expand from the host.
    const self = outer[name];
    const selfValue = self?.kind === "value" ? self.value : known[name];
    value = substitute(value, { ...known, ...(selfValue !== undefined ? { [name]: selfValue } : {}) });
    out[name] = { kind: "value", value };
  }
  return out;
}

function isEnvRef(n: Node): boolean {
  return (
    (n.type === "property" || n.type === "index") &&
    n.target.type === "ident" &&
    (n.target.name === "env" || n.target.name === "params")
  );
}

function literalValues(vars: Readonly<Record<string, Variable>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars))
    if (v.kind === "value" && !v.value.includes("$")) out[k] = v.value;
  return out;
}

/** What `options {}` sets on the pipeline and on the jobs under it. */
export interface CompiledOptions {
  pipeline: PipelineOptions;
  timeoutMs?: number;
  retry?: number;
}

const OPTION_NAMES = [
  "buildDiscarder",
  "checkoutToSubdirectory",
  "disableConcurrentBuilds",
  "disableResume",
  "disableRestartFromStage",
  "durabilityHint",
  "newContainerPerStage",
  "overrideIndexTriggers",
  "parallelsAlwaysFailFast",
  "preserveStashes",
  "quietPeriod",
  "retry",
  "skipDefaultCheckout",
  "skipStagesAfterUnstable",
  "timeout",
  "timestamps",
  "ansiColor",
  "copyArtifactPermission",
  "rateLimitBuilds",
];
/** Accepted and recorded for the server or irrelevant to a local run; said so in an info. */
const RECORDED_OPTIONS = new Set([
  "disableResume",
  "disableRestartFromStage",
  "durabilityHint",
  "overrideIndexTriggers",
  "preserveStashes",
  "quietPeriod",
  "ansiColor",
  "copyArtifactPermission",
  "rateLimitBuilds",
  "newContainerPerStage",
]);

export function compileOptions(e: Entry, cx: Cx, level: "pipeline" | "stage"): CompiledOptions {
  const out: CompiledOptions = { pipeline: {} };
  for (const o of entries(e.closure, cx, "options")) {
    const arg = soleArg(o);
    const named = namedArgs(o);
    switch (o.name) {
      case "timeout": {
        const time = arg ?? named.time;
        if (!time) {
          report(cx, "error", "JK-missing-parameter", 'Missing required parameter: "time"', o.at);
          break;
        }
        const ms = durationMs(time, named.unit, cx, "MINUTES");
        out.timeoutMs = ms;
        if (level === "pipeline") out.pipeline.timeoutMs = ms;
        break;
      }
      case "retry": {
        const n = num(arg ?? named.count, cx, 1);
        out.retry = Math.max(0, n - 1);
        if (level === "pipeline") out.pipeline.retry = n;
        break;
      }
      case "skipDefaultCheckout":
        out.pipeline.skipDefaultCheckout = arg ? evalValue(arg, cx) !== false : true;
        break;
      case "timestamps":
        out.pipeline.timestamps = true;
        break;
      case "disableConcurrentBuilds":
        out.pipeline.disableConcurrentBuilds = true;
        break;
      case "parallelsAlwaysFailFast":
        out.pipeline.failFast = true;
        break;
      case "buildDiscarder": {
        const rotator = arg?.type === "call" ? arg : undefined;
        const rec: Record<string, string> = {};
        if (rotator) {
          rec.strategy = rotator.name;
          for (const a of rotator.args) if (a.name) rec[a.name] = text(evalValue(a.value, cx));
        }
        out.pipeline.buildDiscarder = rec;
        break;
      }
      case "checkoutToSubdirectory":
        report(
          cx,
          "warning",
          "JK-unsupported-option",
          "checkoutToSubdirectory is not supported: Gantry checks the project out at the workspace root",
          o.at,
          "use dir('...') { ... } in the steps",
        );
        break;
      case "skipStagesAfterUnstable":
        report(
          cx,
          "info",
          "JK-recorded-option",
          "skipStagesAfterUnstable: Gantry does not run later stages after an unstable one either when they need it",
          o.at,
        );
        break;
      default:
        if (RECORDED_OPTIONS.has(o.name)) {
          report(
            cx,
            "info",
            "JK-recorded-option",
            `option "${o.name}" is accepted but has no effect in Gantry`,
            o.at,
          );
        } else {
          const guess = closest(o.name, OPTION_NAMES);
          report(
            cx,
            "warning",
            "JK-unknown-option",
            `Invalid option type "${o.name}". Valid option types: [${OPTION_NAMES.join(", ")}]`,
            o.at,
            guess ? `did you mean "${guess}"?` : undefined,
          );
        }
    }
  }
  return out;
}

const PARAMETER_TYPES: Record<string, Parameter["type"]> = {
  string: "string",
  text: "text",
  booleanParam: "boolean",
  choice: "choice",
  password: "password",
};

/** `parameters {}` (pipeline level, and inside `input {}`). */
export function compileParameters(e: Entry, cx: Cx): Parameter[] {
  const out: Parameter[] = [];
  for (const p of entries(e.closure, cx, "parameters")) {
    const type = PARAMETER_TYPES[p.name];
    if (!type) {
      report(
        cx,
        "error",
        "JK-parameter",
        `parameter type "${p.name}" is not supported`,
        p.at,
        `use one of ${Object.keys(PARAMETER_TYPES).join(", ")}`,
      );
      continue;
    }
    const a = namedArgs(p);
    const name = a.name ? text(evalValue(a.name, cx)) : "";
    if (!name) {
      report(cx, "error", "JK-missing-parameter", 'Missing required parameter: "name"', p.at);
      continue;
    }
    const param: Parameter = { name, type };
    if (a.description) param.description = text(evalValue(a.description, cx));
    if (type === "choice") {
      const v = a.choices ? evalValue(a.choices, cx) : [];
      param.choices = Array.isArray(v) ? v.map(text) : text(v).split("\n").filter(Boolean);
      if (param.choices.length === 0)
        report(cx, "error", "JK-parameter", `choice parameter "${name}" has no choices`, p.at);
      if (param.choices[0] !== undefined) param.default = param.choices[0];
    } else if (a.defaultValue) {
      param.default = text(evalValue(a.defaultValue, cx));
    } else if (type === "boolean") param.default = "false";
    else param.default = "";
    out.push(param);
  }
  return out;
}

export function compileTriggers(e: Entry, cx: Cx): Trigger[] {
  const out: Trigger[] = [];
  for (const t of entries(e.closure, cx, "triggers")) {
    const a = namedArgs(t);
    const spec = (n: Node | undefined): string => (n ? text(evalValue(n, cx)) : "");
    if (t.name === "cron" || t.name === "pollSCM") out.push({ kind: t.name, spec: spec(a[""] ?? a.spec) });
    else if (t.name === "upstream") out.push({ kind: "upstream", spec: spec(a[""] ?? a.upstreamProjects) });
    else
      report(
        cx,
        "warning",
        "JK-unknown-trigger",
        `trigger "${t.name}" is not supported; it is ignored`,
        t.at,
        "use cron, pollSCM or upstream",
      );
  }
  return out;
}

/** `tools {}`: Gantry installs no tools; each is named in a warning with what to do instead. */
export function reportTools(e: Entry, cx: Cx): void {
  for (const t of entries(e.closure, cx, "tools")) {
    const arg = soleArg(t);
    const name = arg ? text(evalValue(arg, cx)) : "";
    const image = TOOL_IMAGES[t.name];
    const hint = image
      ? `run the stage in a container that has it, e.g. agent { docker { image '${image(name)}' } }, or put ${t.name} on the runner's PATH`
      : TOOLS_HINT;
    report(cx, "warning", "JK-tools", `tools: ${t.name} "${name}" is not installed by Gantry`, t.at, hint);
  }
}

/** Official images for the usual tool types, picked by the version in the tool's name when there is one. */
const TOOL_IMAGES: Record<string, (name: string) => string> = {
  maven: (n) => `maven:${/(\d+)/.exec(n)?.[1] ?? "3"}-eclipse-temurin-17`,
  jdk: (n) => `eclipse-temurin:${/(\d+)/.exec(n)?.[1] ?? "17"}`,
  gradle: (n) => `gradle:${/(\d+)/.exec(n)?.[1] ?? "8"}-jdk17`,
  nodejs: (n) => `node:${/(\d+)/.exec(n)?.[1] ?? "20"}`,
  go: (n) => `golang:${/(\d+\.\d+)/.exec(n)?.[1] ?? "1.22"}`,
  ant: () => "eclipse-temurin:17 (with ant installed)",
};

export function compileInput(e: Entry, cx: Cx): Input | undefined {
  let message: string | undefined;
  const input: Input = { message: "", ok: "Proceed", parameters: [] };
  for (const d of entries(e.closure, cx, "input")) {
    const arg = soleArg(d);
    const value = arg ? text(evalValue(arg, cx)) : "";
    switch (d.name) {
      case "message":
        message = value;
        break;
      case "ok":
        input.ok = value;
        break;
      case "submitter":
        input.submitter = value;
        break;
      case "submitterParameter":
        input.submitterParameter = value;
        break;
      case "id":
        break;
      case "parameters":
        input.parameters = compileParameters(d, cx);
        break;
      default:
        report(
          cx,
          "error",
          "JK-input",
          `Invalid parameter "${d.name}", did you mean "${closest(d.name, ["message", "ok", "submitter", "submitterParameter", "id", "parameters"])}"?`,
          d.at,
        );
    }
  }
  if (message === undefined || message === "") {
    report(cx, "error", "JK-input", "No message specified for input", e.at);
    return undefined;
  }
  input.message = message;
  return input;
}

/** `libraries { lib('name@ref') }`: the library specs. */
export function librariesDirective(e: Entry, cx: Cx): { spec: string; line: number; column: number }[] {
  const out: { spec: string; line: number; column: number }[] = [];
  for (const l of entries(e.closure, cx, "libraries")) {
    const arg = soleArg(l);
    const v = arg ? knownValue(arg, cx) : undefined;
    if (l.name !== "lib" || typeof v !== "string") {
      report(cx, "error", "JK-libraries", "libraries {} holds lib('name@version') entries", l.at);
      continue;
    }
    out.push({ spec: v, line: l.at.line, column: l.at.column });
  }
  return out;
}

const INPUT_STEP_PARAMS = ["message", "ok", "submitter", "submitterParameter", "id", "parameters"];

/**
 * The `input` step (`input message: 'Deploy?', ok: 'Yes', parameters: [...]`) as the first
 * step of a stage: nothing runs before it, so it is the stage's approval.
 */
export function compileInputStep(call: Node & { type: "call" }, cx: Cx): Input | undefined {
  const a = namedArgs(call);
  for (const [k, v] of Object.entries(a)) {
    if (k !== "" && !INPUT_STEP_PARAMS.includes(k)) {
      report(
        cx,
        "error",
        "JK-invalid-parameter",
        `Invalid parameter "${k}", did you mean "${closest(k, INPUT_STEP_PARAMS)}"?`,
        v,
      );
      return undefined;
    }
  }
  const message = a[""] ?? a.message;
  if (!message) {
    report(cx, "error", "JK-input", "No message specified for input", call);
    return undefined;
  }
  const str = (n: Node): string => text(evalValue(n, cx));
  const input: Input = { message: str(message), ok: a.ok ? str(a.ok) : "Proceed", parameters: [] };
  if (a.submitter) input.submitter = str(a.submitter);
  if (a.submitterParameter) input.submitterParameter = str(a.submitterParameter);
  if (a.parameters) {
    const items = a.parameters.type === "list" ? a.parameters.items : [a.parameters];
    const body = items.map((n) => ({
      type: "expr" as const,
      expr: n,
      line: n.line,
      column: n.column,
      offset: n.offset,
      end: n.end,
    }));
    const closure = {
      type: "closure" as const,
      params: [],
      body,
      bodyStart: a.parameters.offset,
      bodyEnd: a.parameters.end,
      line: a.parameters.line,
      column: a.parameters.column,
      offset: a.parameters.offset,
      end: a.parameters.end,
    };
    input.parameters = compileParameters(
      {
        name: "parameters",
        args: [],
        closure,
        at: {
          type: "raw",
          keyword: "parameters",
          line: closure.line,
          column: closure.column,
          offset: closure.offset,
          end: closure.end,
        },
        parens: true,
      },
      cx,
    );
  }
  return input;
}
