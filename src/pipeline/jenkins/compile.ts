/**
 * Jenkinsfile → Plan. Parses the file, reports Groovy outside `pipeline {}`, loads the shared
 * libraries it asks for, then compiles the pipeline's sections with Jenkins' rules.
 */
import type { CompileContext } from "../context.js";
import { sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { librarySources } from "../libraries/sources.js";
import { emptyLibraries, loadLibraries, type LibraryRequest } from "../libraries/load.js";
import { PLAN_VERSION, type ExecutorSpec, type Parameter, type Plan, type Variable } from "../plan.js";
import type { Stmt } from "./ast.js";
import { compileAgent } from "./agent.js";
import { asEntry, entries, type Entry } from "./blocks.js";
import { report, type Cx } from "./context.js";
import {
  compileEnvironment,
  compileOptions,
  compileParameters,
  compileTriggers,
  librariesDirective,
  reportTools,
} from "./directives.js";
import { addSequence, type JobBuilder } from "./jobs.js";
import { parseGroovy } from "./parser.js";
import { compilePost } from "./post.js";
import { readStages } from "./stage-tree.js";
import { SCRIPT_HINT } from "./steps.js";
import { knownValue } from "./values.js";

const SECTIONS = [
  "agent",
  "environment",
  "options",
  "parameters",
  "triggers",
  "tools",
  "stages",
  "post",
  "libraries",
];

/**
 * Compiles a Jenkinsfile. Unlike the `Frontend` contract, this returns the best-effort Plan
 * even when there are errors (conformance tests compare it with Jenkins' own model).
 */
export async function compileJenkinsfileDetailed(
  ctx: CompileContext & { source: string },
): Promise<{ plan: Plan; diagnostics: Diagnostic[] }> {
  const file = ctx.file;
  const { script, diagnostics } = parseGroovy(ctx.source, file);
  const cx: Cx = {
    diags: diagnostics,
    libs: emptyLibraries(),
    scope: { file, source: ctx.source, bindings: {}, stack: [] },
  };
  const requests: LibraryRequest[] = [];
  let pipeline: Entry | undefined;

  for (const s of script.statements)
    topLevel(s, cx, requests, (e) => {
      if (pipeline) report(cx, "error", "JK-pipeline", "Only one pipeline { ... } block is allowed", e.at);
      else pipeline = e;
    });

  const sections: Record<string, Entry> = {};
  for (const sec of entries(pipeline?.closure, cx, "pipeline")) {
    if (!SECTIONS.includes(sec.name)) {
      report(
        cx,
        "error",
        "JK-pipeline",
        `Undefined section "${sec.name}"`,
        sec.at,
        `sections of pipeline: ${SECTIONS.join(", ")}`,
      );
      continue;
    }
    if (sections[sec.name]) {
      report(cx, "error", "JK-pipeline", `Multiple occurrences of the ${sec.name} section`, sec.at);
      continue;
    }
    sections[sec.name] = sec;
  }
  if (sections.libraries)
    for (const l of librariesDirective(sections.libraries, cx))
      requests.push({ spec: l.spec, at: { file, line: l.line, column: l.column } });

  if (requests.length > 0 || ctx.libraries.some((l) => l.implicit)) {
    const { sources, diagnostics: configDiagnostics } = librarySources(ctx);
    diagnostics.push(...configDiagnostics);
    const loaded = await loadLibraries(requests, sources, ctx.cacheDir);
    diagnostics.push(...loaded.diagnostics);
    cx.libs = loaded.libs;
    cx.libsFailed = loaded.diagnostics.some((d) => d.severity === "error");
  }

  const plan = emptyPlan(file);
  if (!pipeline) {
    report(
      cx,
      "error",
      "JK-pipeline",
      "No pipeline { ... } block: Gantry runs declarative Jenkinsfiles",
      { line: 1, column: 1 },
      "wrap the stages in pipeline { agent any; stages { ... } }",
    );
    return { plan, diagnostics: unique(diagnostics) };
  }
  if (!sections.agent)
    report(
      cx,
      "error",
      "JK-pipeline",
      'Missing required section "agent"',
      pipeline.at,
      "add agent any (or agent none with an agent on each stage)",
    );
  if (!sections.stages)
    report(
      cx,
      "error",
      "JK-pipeline",
      'Missing required section "stages"',
      pipeline.at,
      "add stages { stage('Build') { steps { ... } } }",
    );

  if (sections.parameters) plan.parameters = compileParameters(sections.parameters, cx);
  const paramVars = parameterValues(plan.parameters, ctx.params, cx, pipeline);
  if (sections.triggers) plan.triggers = compileTriggers(sections.triggers, cx);
  const options = sections.options ? compileOptions(sections.options, cx, "pipeline") : { pipeline: {} };
  plan.options = options.pipeline;
  if (sections.tools) reportTools(sections.tools, cx);
  const executor: ExecutorSpec = (sections.agent && compileAgent(sections.agent, cx)) || {
    kind: "shell",
    labels: [],
  };
  plan.executor = executor;

  const base: Record<string, Variable> = { ...paramVars, ...predefined(ctx) };
  const env = sections.environment ? compileEnvironment(sections.environment, cx, base, {}, ctx.source) : {};
  plan.variables = env;
  const overrides: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(ctx.variables)) overrides[k] = { kind: "value", value: v };

  if (sections.stages) {
    const stageDefs = readStages(sections.stages, cx, undefined);
    plan.stages = stageDefs.map((s) => s.name);
    const builder: JobBuilder = {
      cx,
      jobs: plan.jobs,
      wholeSource: ctx.source,
      overrides,
      failFastAll: options.pipeline.failFast === true,
    };
    addSequence(builder, stageDefs, [], {
      executor,
      workspace: "pipeline",
      variables: { ...base, ...env },
      conditions: [],
      parents: [],
      known: {},
      // The engine has no whole-pipeline timeout or retry: each job gets them, as stage options would.
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
    });
  }
  if (sections.post) plan.post = compilePost(sections.post, cx);
  return { plan, diagnostics: unique(diagnostics) };
}

/** Sorted, without repeats (a matrix compiles its directives once per cell). */
function unique(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return sortDiagnostics(diagnostics).filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function emptyPlan(file: string): Plan {
  return {
    version: PLAN_VERSION,
    format: "jenkins",
    file,
    stages: [],
    parameters: [],
    triggers: [],
    options: {},
    jobs: [],
    post: {},
    executor: { kind: "shell", labels: [] },
    variables: {},
  };
}

/** A top-level statement: `pipeline {}`, `@Library(...)`, `library '...'`, or Groovy that is reported. */
function topLevel(s: Stmt, cx: Cx, requests: LibraryRequest[], onPipeline: (e: Entry) => void): void {
  const e = asEntry(s);
  if (e?.name === "pipeline" && e.closure) return onPipeline(e);
  if (e?.name === "library" && e.args.length === 1) {
    const v = knownValue(e.args[0]!.value, cx);
    const spec = typeof v === "string" ? v : undefined;
    if (spec) requests.push({ spec, at: { file: cx.scope.file, line: s.line, column: s.column } });
    else report(cx, "error", "JK-library", "library takes 'name@version'", s);
    return;
  }
  if (s.type === "annotation" && (s.name === "Library" || s.name.endsWith(".Library"))) {
    for (const a of s.args) {
      const v = knownValue(a.value, cx);
      const specs = Array.isArray(v) ? v : [v];
      for (const spec of specs) {
        if (typeof spec === "string" && spec)
          requests.push({ spec, at: { file: cx.scope.file, line: s.line, column: s.column } });
        else report(cx, "error", "JK-library", "@Library takes 'name@version' or a list of them", a.value);
      }
    }
    const t = s.target;
    if (t && !(t.type === "expr" && t.expr.type === "ident" && t.expr.name === "_"))
      topLevel(t, cx, requests, onPipeline);
    return;
  }
  if (s.type === "expr" && s.expr.type === "error") return;
  const scripted = e?.name === "node" && e.closure;
  report(
    cx,
    "error",
    "JK-groovy-outside-pipeline",
    scripted
      ? "node { ... } is a scripted pipeline: Gantry runs declarative pipelines and does not execute Groovy"
      : "Groovy code outside pipeline { ... } is not run: Gantry does not execute Groovy",
    s,
    scripted
      ? "move these steps into a stage of the declarative pipeline"
      : `${SCRIPT_HINT}; constants can go in the pipeline's environment { }`,
  );
}

/** Parameter values as variables: `--param` values, else defaults; checked against the declaration. */
function parameterValues(
  params: Parameter[],
  given: Record<string, string>,
  cx: Cx,
  pipeline: Entry,
): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const p of params) {
    const v = given[p.name] ?? p.default ?? "";
    if (p.name in given) {
      if (p.type === "boolean" && v !== "true" && v !== "false")
        report(cx, "error", "JK-param", `--param ${p.name} must be true or false, got "${v}"`, pipeline.at);
      if (p.type === "choice" && !(p.choices ?? []).includes(v))
        report(
          cx,
          "error",
          "JK-param",
          `--param ${p.name} must be one of ${(p.choices ?? []).join(", ")}, got "${v}"`,
          pipeline.at,
        );
    }
    out[p.name] =
      p.type === "password" ? { kind: "value", value: v, masked: true } : { kind: "value", value: v };
  }
  for (const name of Object.keys(given)) {
    if (!params.some((p) => p.name === name))
      report(
        cx,
        "warning",
        "JK-param",
        `--param ${name} is not a parameter of this pipeline`,
        pipeline.at,
        params.length
          ? `parameters: ${params.map((p) => p.name).join(", ")}`
          : "the pipeline declares no parameters",
      );
  }
  return out;
}

/** Variables Jenkins defines that Gantry knows at compile time from the checkout. */
function predefined(ctx: CompileContext): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  const set = (k: string, v: string): void => {
    if (v) out[k] = { kind: "value", value: v };
  };
  set("BRANCH_NAME", ctx.git.tag ? ctx.git.tag : ctx.git.branch);
  set("GIT_BRANCH", ctx.git.branch);
  set("GIT_COMMIT", ctx.git.isRepo ? ctx.git.sha : "");
  set("GIT_URL", ctx.git.remoteUrl);
  set("TAG_NAME", ctx.git.tag);
  return out;
}
