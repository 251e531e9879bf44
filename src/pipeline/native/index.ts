import { z } from "zod";
import type { CompileContext, CompileResult } from "../context.js";
import { DiagnosticBag, didYouMeanHint } from "../diagnostics.js";
import type {
  Condition,
  ExecutorSpec,
  Input,
  Job,
  Parameter,
  Plan,
  Post,
  PostCondition,
  Step,
  Variable,
} from "../plan.js";
import { PLAN_VERSION, POST_CONDITIONS } from "../plan.js";
import { MAX_MATRIX_JOBS } from "../validate-plan.js";
import { YamlSource } from "../yaml-source.js";
import { compileSteps, type StepCompiler } from "./steps.js";
import { loadLibraries, type LoadedLibraries } from "../libraries/load.js";
import { librarySources } from "../libraries/sources.js";
import { expandLibraryStep, usesRequests } from "../libraries/yaml-step.js";
import {
  agentSchema,
  documentSchema,
  environmentSchema,
  inputSchema,
  optionsSchema,
  parameterSchema,
  pipelineSchema,
  stageSchema,
  whenLevelSchema,
} from "./schema.js";
import { parseDuration } from "./duration.js";
import { compileWhen } from "./when.js";

type Path = (string | number)[];

/** Shared state while compiling one gantry.yml. */
export class NativeCompiler implements StepCompiler {
  readonly bag = new DiagnosticBag();
  readonly src: YamlSource;

  constructor(readonly ctx: CompileContext & { source: string }) {
    this.src = new YamlSource(ctx.file, ctx.source);
  }

  /** Validates `value` with `schema`; reports every issue at its YAML position. */
  check<T extends z.ZodType>(schema: T, value: unknown, path: Path): z.infer<T> | undefined {
    let r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) this.report(schema, issue, path);
    // Unknown keys are reported; drop them and go on, so the rest is checked in the same pass.
    let current = value;
    for (let i = 0; i < 3 && !r.success && r.error.issues.every((x) => x.code === "unrecognized_keys"); i++) {
      current = structuredClone(current);
      for (const issue of r.error.issues) {
        const holder = (issue.path as (string | number)[]).reduce<unknown>(
          (o, k) => (o && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined),
          current,
        );
        if (holder && typeof holder === "object" && issue.code === "unrecognized_keys")
          for (const k of issue.keys) delete (holder as Record<string, unknown>)[k];
      }
      r = schema.safeParse(current);
      if (!r.success)
        for (const issue of r.error.issues)
          if (issue.code !== "unrecognized_keys") this.report(schema, issue, path);
    }
    return r.success ? r.data : undefined;
  }

  private report(schema: z.ZodType, issue: z.core.$ZodIssue, base: Path): void {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      const candidates = keysAt(schema, issue.path as (string | number)[]);
      for (const key of issue.keys) {
        this.bag.error(
          "unknown-key",
          `unknown key "${key}" in ${describe(path)}`,
          this.src.pos([...path, key], { key: true }),
          didYouMeanHint(key, candidates) ??
            (candidates.length ? `allowed keys: ${candidates.join(", ")}` : undefined),
        );
      }
      return;
    }
    if (issue.code === "invalid_union") {
      this.bag.error(
        "invalid-value",
        `invalid value for ${describe(path)}`,
        this.src.pos(path),
        unionHint(issue),
      );
      return;
    }
    const missing = issue.code === "invalid_type" && issue.message.includes("received undefined");
    this.bag.error(
      missing ? "missing-key" : "invalid-value",
      missing ? `${describe(path)} is required` : `${describe(path)}: ${issue.message}`,
      this.src.pos(missing ? base : path, { key: !missing }),
    );
  }

  /** Shared libraries loaded for `uses:` steps (see `loadUses`). */
  libs: LoadedLibraries | undefined;

  expandUses(ref: string, args: Record<string, unknown>, path: Path): Step[] {
    if (!this.libs) {
      this.error("libraries-unavailable", `uses: ${ref} needs its library, which could not be loaded`, path);
      return [];
    }
    const r = expandLibraryStep(
      this.libs,
      { uses: ref, with: args, at: this.loc(path) },
      (steps, file, source) => {
        const inner = new NativeCompiler({ ...this.ctx, file, source });
        inner.libs = this.libs;
        const out = compileSteps(inner, steps, ["steps"]);
        for (const d of inner.bag.items) this.bag.add(d);
        return out;
      },
    );
    for (const d of r.diagnostics) this.bag.add(d);
    return r.steps;
  }

  error(code: string, message: string, path: Path, hint?: string): void {
    this.bag.error(code, message, this.src.pos(path, { key: true }), hint);
  }

  warning(code: string, message: string, path: Path, hint?: string): void {
    this.bag.warning(code, message, this.src.pos(path, { key: true }), hint);
  }

  loc(path: Path): Job["loc"] {
    const p = this.src.pos(path);
    return { file: p.file, line: p.line, column: p.column };
  }
}

function describe(path: Path): string {
  if (path.length === 0) return "the document";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function unionHint(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== "invalid_union") return undefined;
  const msgs = new Set<string>();
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first)
      msgs.add(
        first.code === "unrecognized_keys" ? `unknown key(s) ${first.keys.join(", ")}` : first.message,
      );
  }
  return [...msgs].slice(0, 3).join("; or ");
}

/** Keys allowed by the object schema at `path` inside `schema`. */
function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let s: unknown = schema;
  const unwrap = (x: unknown): unknown => {
    let cur = x;
    for (let i = 0; i < 5; i++) {
      if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodNullable)
        cur = cur.unwrap();
      else break;
    }
    return cur;
  };
  for (const key of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject && typeof key === "string") s = s.shape[key];
    else if (s instanceof z.ZodArray) s = s.element;
    else if (s instanceof z.ZodRecord) s = s.valueType;
    else if (s instanceof z.ZodUnion) s = s.options.find((o) => unwrap(o) instanceof z.ZodObject);
    else return [];
  }
  s = unwrap(s);
  if (s instanceof z.ZodUnion) s = s.options.map(unwrap).find((o) => o instanceof z.ZodObject);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

interface Scope {
  parents: string[];
  topStage: string;
  agent: ExecutorSpec;
  /** The agent is the pipeline's: jobs share the pipeline workspace. */
  sharedWorkspace: boolean;
  variables: Record<string, Variable>;
  conditions: Condition[];
  timing: Job["conditionTiming"];
  timeoutMs?: number;
  retry?: number;
  failFastGroup?: string;
  matrix?: Record<string, string>;
}

/** Compiles gantry.yml text into a Plan. */
export async function compileGantry(ctx: CompileContext & { source: string }): Promise<CompileResult> {
  const c = new NativeCompiler(ctx);
  if (!c.src.report(c.bag)) return { diagnostics: c.bag.items };
  let js: unknown;
  try {
    js = c.src.doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    // Aliases without anchors, alias bombs: the YAML is well-formed but cannot be resolved.
    c.bag.error(
      "yaml-alias",
      (err as Error).message,
      { file: ctx.file, line: 1, column: 1 },
      "define each anchor (&name) before its alias (*name)",
    );
    return { diagnostics: c.bag.items };
  }
  if (js === null || typeof js !== "object" || Array.isArray(js)) {
    c.bag.error(
      "invalid-document",
      "a gantry.yml must be a mapping with a top-level `pipeline:` key",
      { file: ctx.file, line: 1, column: 1 },
      "start the file with `pipeline:`",
    );
    return { diagnostics: c.bag.items };
  }
  const doc = c.check(documentSchema, js, []);
  const raw = (js as { pipeline?: unknown }).pipeline;
  if (!doc || raw === undefined) {
    if (raw === undefined)
      c.error("missing-key", "missing top-level `pipeline:`", [], "put the pipeline under a `pipeline:` key");
    return { diagnostics: c.bag.items };
  }
  const p = c.check(pipelineSchema, raw, ["pipeline"]);
  if (!p) return { diagnostics: c.bag.items };
  await loadUses(c, p.libraries ?? []);

  const parameters: Parameter[] = [];
  for (const [i, param] of (p.parameters ?? []).entries()) {
    const parsed = c.check(parameterSchema, param, ["pipeline", "parameters", i]);
    if (!parsed) continue;
    parameters.push({
      name: parsed.name,
      type: parsed.type,
      ...(parsed.default !== undefined ? { default: String(parsed.default) } : {}),
      ...(parsed.description ? { description: parsed.description } : {}),
      ...(parsed.choices ? { choices: parsed.choices } : {}),
    });
    if (parsed.type === "choice" && !parsed.choices?.length)
      c.error(
        "invalid-value",
        `choice parameter "${parsed.name}" needs choices`,
        ["pipeline", "parameters", i],
        "add `choices: [a, b]`",
      );
  }
  for (const k of Object.keys(ctx.params)) {
    if (!parameters.some((x) => x.name === k))
      c.bag.warning(
        "unknown-param",
        `--param ${k} does not match any parameter of the pipeline`,
        { file: ctx.file, line: 0, column: 0 },
        `declared: ${parameters.map((x) => x.name).join(", ") || "none"}`,
      );
  }

  const variables: Record<string, Variable> = {};
  for (const param of parameters) {
    const v =
      ctx.params[param.name] ??
      param.default ??
      (param.type === "choice" ? (param.choices?.[0] ?? "") : param.type === "boolean" ? "false" : "");
    variables[param.name] = {
      kind: "value",
      value: v,
      expand: false,
      ...(param.type === "password" ? { masked: true } : {}),
    };
  }
  Object.assign(variables, environment(c, p.environment, ["pipeline", "environment"]));

  const options = p.options ? (c.check(optionsSchema, p.options, ["pipeline", "options"]) ?? {}) : {};
  const pipelineAgent = p.agent === undefined ? undefined : compileAgent(c, p.agent, ["pipeline", "agent"]);
  const rootAgent: ExecutorSpec = pipelineAgent ?? { kind: "shell", labels: [] };

  const jobs: Job[] = [];
  const stageNames: string[] = [];
  const exitsByStage = new Map<string, string[]>();
  let preds: string[] = [];
  const root: Scope = {
    parents: [],
    topStage: "",
    agent: rootAgent,
    sharedWorkspace: rootAgent.kind !== "none",
    variables,
    conditions: [],
    timing: {},
    ...(options.timeout !== undefined ? { timeoutMs: parseDuration(options.timeout) } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  };
  const builder = new JobBuilder(c, jobs, options.failFast ?? false);
  for (const [i, rawStage] of p.stages.entries()) {
    const path: Path = ["pipeline", "stages", i];
    const name = stageName(rawStage);
    if (name && stageNames.includes(name))
      c.error(
        "duplicate-stage",
        `stage "${name}" is defined twice`,
        [...path, "stage"],
        "stage names must be unique",
      );
    let incoming = preds;
    const needs = (rawStage as { needs?: unknown })?.needs;
    if (Array.isArray(needs)) {
      incoming = [];
      for (const [k, n] of needs.entries()) {
        const exits = exitsByStage.get(String(n));
        if (exits) incoming.push(...exits);
        else
          c.error(
            "unknown-need",
            `stage "${name}" needs "${String(n)}", which is not a stage defined before it`,
            [...path, "needs", k],
            didYouMeanHint(String(n), stageNames) ?? "list stages defined earlier in the file",
          );
      }
    }
    const exits = builder.stage(rawStage, path, { ...root, topStage: name ?? `stage ${i + 1}` }, incoming);
    if (name) {
      stageNames.push(name);
      exitsByStage.set(name, exits);
    }
    preds = exits;
  }

  const post = compilePost(c, p.post, ["pipeline", "post"]);
  const triggers: Plan["triggers"] = [];
  const cron = p.triggers?.cron;
  for (const spec of typeof cron === "string" ? [cron] : (cron ?? [])) triggers.push({ kind: "cron", spec });
  if (p.triggers?.pollSCM) triggers.push({ kind: "pollSCM", spec: p.triggers.pollSCM });
  if (p.triggers?.upstream) triggers.push({ kind: "upstream", spec: p.triggers.upstream });

  if (c.bag.hasErrors) return { diagnostics: c.bag.items };
  for (const v of Object.keys(ctx.variables)) variables[v] = { kind: "value", value: ctx.variables[v]! };
  const plan: Plan = {
    version: PLAN_VERSION,
    format: "gantry",
    file: ctx.file,
    stages: stageNames.length ? stageNames : ["default"],
    parameters,
    triggers,
    options: {
      ...(options.timeout !== undefined ? { timeoutMs: parseDuration(options.timeout) } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.skipDefaultCheckout !== undefined
        ? { skipDefaultCheckout: options.skipDefaultCheckout }
        : {}),
      ...(options.timestamps !== undefined ? { timestamps: options.timestamps } : {}),
      ...(options.disableConcurrentBuilds !== undefined
        ? { disableConcurrentBuilds: options.disableConcurrentBuilds }
        : {}),
      ...(options.failFast !== undefined ? { failFast: options.failFast } : {}),
    },
    jobs: jobs.map((j) => ({ ...j, variables: { ...j.variables, ...cliVariables(ctx) } })),
    post,
    executor: rootAgent,
    variables,
  };
  return { plan, diagnostics: c.bag.items };
}

/** Loads the libraries named in `libraries:` and by every `uses:` step, once per compile. */
async function loadUses(c: NativeCompiler, declared: string[]): Promise<void> {
  const calls: { uses: string; at: Job["loc"] }[] = [];
  const walk = (node: unknown, path: Path): void => {
    if (Array.isArray(node)) node.forEach((x, i) => walk(x, [...path, i]));
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "uses" && typeof v === "string") calls.push({ uses: v, at: c.loc([...path, k]) });
        else walk(v, [...path, k]);
      }
    }
  };
  walk(c.src.doc.toJS(), []);
  const at = c.loc(["pipeline", "libraries"]);
  const requests = [...declared.map((spec) => ({ spec, at })), ...usesRequests(calls)];
  if (requests.length === 0) return;
  const { sources, diagnostics } = librarySources(c.ctx);
  for (const d of diagnostics) c.bag.add(d);
  const loaded = await loadLibraries(requests, sources, c.ctx.cacheDir);
  for (const d of loaded.diagnostics) c.bag.add(d);
  c.libs = loaded.libs;
}

function cliVariables(ctx: CompileContext): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  for (const [k, v] of Object.entries(ctx.variables)) out[k] = { kind: "value", value: v };
  return out;
}

function stageName(raw: unknown): string | undefined {
  const n = (raw as { stage?: unknown } | null)?.stage;
  return typeof n === "string" && n ? n : undefined;
}

function environment(c: NativeCompiler, raw: unknown, path: Path): Record<string, Variable> {
  const out: Record<string, Variable> = {};
  if (raw === undefined) return out;
  const env = c.check(environmentSchema, raw, path);
  if (!env) return out;
  for (const [k, v] of Object.entries(env)) {
    if (typeof v === "object") {
      const type = v.type ?? "secret";
      if (type === "usernamePassword") {
        out[k] = { kind: "credential", id: v.credentials, part: "usernamePassword" };
        out[`${k}_USR`] = { kind: "credential", id: v.credentials, part: "username" };
        out[`${k}_PSW`] = { kind: "credential", id: v.credentials, part: "password" };
      } else {
        out[k] = { kind: "credential", id: v.credentials, part: type === "file" ? "file" : "secret" };
      }
    } else {
      out[k] = { kind: "value", value: String(v) };
    }
  }
  return out;
}

function compileAgent(c: NativeCompiler, raw: unknown, path: Path): ExecutorSpec | undefined {
  const a = c.check(agentSchema, raw, path);
  if (a === undefined) return undefined;
  if (a === "any") return { kind: "shell", labels: [] };
  if (a === "none") return { kind: "none", labels: [] };
  if ("label" in a) return { kind: "shell", labels: a.label.split(/\s*&&\s*|\s+/).filter(Boolean) };
  if ("docker" in a) {
    const d = typeof a.docker === "string" ? { image: a.docker } : a.docker;
    return {
      kind: "docker",
      labels: "label" in d && d.label ? [d.label] : [],
      image: { name: d.image, ...("pullPolicy" in d && d.pullPolicy ? { pullPolicy: [d.pullPolicy] } : {}) },
      services: [],
      ...("args" in d && d.args ? { args: d.args } : {}),
      ...("reuseNode" in d && d.reuseNode ? { reuseNode: true } : {}),
    };
  }
  if ("dockerfile" in a) {
    const d = a.dockerfile === true ? {} : a.dockerfile;
    return {
      kind: "docker",
      labels: d.label ? [d.label] : [],
      build: {
        dockerfile: d.filename ?? "Dockerfile",
        context: d.dir ?? ".",
        buildArgs: {},
        ...(d.additionalBuildArgs ? { additionalArgs: d.additionalBuildArgs } : {}),
      },
      services: [],
    };
  }
  const k = a.kubernetes;
  return {
    kind: "kubernetes",
    labels: [],
    ...(k.yaml ? { yaml: k.yaml } : {}),
    ...(k.yamlFile ? { yamlFile: k.yamlFile } : {}),
    ...(k.defaultContainer ? { defaultContainer: k.defaultContainer } : {}),
    ...(k.cloud ? { cloud: k.cloud } : {}),
    ...(k.inheritFrom ? { inheritFrom: k.inheritFrom } : {}),
  };
}

export function compilePost(c: NativeCompiler, raw: unknown, path: Path): Post {
  const post: Post = {};
  if (raw === undefined) return post;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    c.error(
      "invalid-value",
      "post must map conditions to steps",
      path,
      `conditions: ${POST_CONDITIONS.join(", ")}`,
    );
    return post;
  }
  for (const [cond, steps] of Object.entries(raw)) {
    if (!(POST_CONDITIONS as readonly string[]).includes(cond)) {
      c.error(
        "unknown-key",
        `unknown post condition "${cond}"`,
        [...path, cond],
        didYouMeanHint(cond, POST_CONDITIONS) ?? `conditions: ${POST_CONDITIONS.join(", ")}`,
      );
      continue;
    }
    if (!Array.isArray(steps)) {
      c.error("invalid-value", `post.${cond} must be a list of steps`, [...path, cond]);
      continue;
    }
    post[cond as PostCondition] = compileSteps(c, steps, [...path, cond]);
  }
  return post;
}

class JobBuilder {
  private groups = 0;

  constructor(
    private readonly c: NativeCompiler,
    private readonly jobs: Job[],
    private readonly failFastAll: boolean,
  ) {}

  /** Compiles one stage (and what it holds); returns the ids of its last jobs. */
  stage(raw: unknown, path: Path, outer: Scope, preds: string[]): string[] {
    const c = this.c;
    const s = c.check(stageSchema, raw, path);
    if (!s) return preds;
    const bodies = (["steps", "stages", "parallel", "matrix"] as const).filter((k) => s[k] !== undefined);
    if (bodies.length !== 1) {
      c.error(
        "stage-body",
        bodies.length === 0
          ? `stage "${s.stage}" has none of steps, stages, parallel or matrix`
          : `stage "${s.stage}" has ${bodies.join(" and ")}; only one is allowed`,
        [...path, "stage"],
        "give each stage exactly one of: steps, stages, parallel, matrix",
      );
      return preds;
    }
    const scope: Scope = {
      ...outer,
      parents: [...outer.parents, s.stage],
      conditions: [...outer.conditions],
    };
    if (s.agent !== undefined) {
      const agent = compileAgent(c, s.agent, [...path, "agent"]);
      if (agent) {
        scope.agent = agent;
        scope.sharedWorkspace = agent.kind === "docker" && agent.reuseNode === true;
      }
    }
    if (s.environment)
      scope.variables = { ...scope.variables, ...environment(c, s.environment, [...path, "environment"]) };
    if (s.options) {
      const o = c.check(optionsSchema, s.options, [...path, "options"]);
      if (o?.timeout !== undefined) scope.timeoutMs = parseDuration(o.timeout);
      if (o?.retry !== undefined) scope.retry = o.retry;
    }
    if (s.when) {
      const w = compileWhen(c, s.when, [...path, "when"]);
      if (w) {
        scope.conditions.push(w.condition);
        scope.timing = { ...scope.timing, ...w.timing };
      }
    }
    const input = s.input ? compileInput(c, s.input, [...path, "input"]) : undefined;
    const post = compilePost(c, s.post, [...path, "post"]);

    let exits: string[];
    if (s.steps) {
      if (scope.agent.kind === "none")
        c.error(
          "agent-none",
          `stage "${s.stage}" has steps but no agent (the pipeline has agent: none)`,
          [...path, "stage"],
          "give the stage an `agent:`",
        );
      exits = [
        this.leaf(s.stage, scope, preds, compileSteps(c, s.steps, [...path, "steps"]), post, input, [
          ...path,
          "stage",
        ]),
      ];
      return exits;
    }
    if (input)
      c.warning("input-ignored", "input on a stage without steps applies to its first jobs only", [
        ...path,
        "input",
      ]);
    if (s.stages) {
      let p = preds;
      for (const [i, child] of s.stages.entries()) p = this.stage(child, [...path, "stages", i], scope, p);
      exits = p;
    } else if (s.parallel) {
      const group = s.failFast || this.failFastAll ? `ff${++this.groups}` : undefined;
      exits = [];
      const names = new Set<string>();
      for (const [i, child] of s.parallel.entries()) {
        const n = stageName(child);
        if (n && names.has(n))
          c.error("duplicate-stage", `parallel branch "${n}" is defined twice`, [
            ...path,
            "parallel",
            i,
            "stage",
          ]);
        if (n) names.add(n);
        exits.push(
          ...this.stage(
            child,
            [...path, "parallel", i],
            { ...scope, ...(group ? { failFastGroup: group } : {}) },
            preds,
          ),
        );
      }
    } else {
      exits = this.matrix(s, path, scope, preds);
    }
    if (Object.values(post).some((x) => x && x.length)) {
      // Post of a stage that holds other stages: a job of its own after them.
      exits = [
        this.leaf(
          `${s.stage} (post)`,
          { ...scope, conditions: [] },
          exits,
          [],
          post,
          undefined,
          [...path, "post"],
          "always",
        ),
      ];
    }
    return exits;
  }

  private matrix(s: z.infer<typeof stageSchema>, path: Path, scope: Scope, preds: string[]): string[] {
    const c = this.c;
    const m = s.matrix!;
    let cells: Record<string, string>[] = [{}];
    for (const [axis, values] of Object.entries(m.axes)) {
      cells = cells.flatMap((cell) => values.map((v) => ({ ...cell, [axis]: String(v) })));
    }
    const excluded = (cell: Record<string, string>) =>
      (m.excludes ?? []).some((ex) =>
        Object.entries(ex).every(([k, v]) =>
          Array.isArray(v) ? v.map(String).includes(cell[k] ?? "") : cell[k] === String(v),
        ),
      );
    cells = cells.filter((cell) => !excluded(cell));
    if (cells.length > MAX_MATRIX_JOBS) {
      c.error(
        "matrix-too-large",
        `matrix of stage "${s.stage}" expands to ${cells.length} jobs (at most ${MAX_MATRIX_JOBS})`,
        [...path, "matrix"],
        "reduce the axes or add excludes",
      );
      return preds;
    }
    const group = s.failFast || this.failFastAll ? `ff${++this.groups}` : undefined;
    const exits: string[] = [];
    for (const cell of cells) {
      const label = Object.entries(cell)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
      const cellScope: Scope = {
        ...scope,
        parents: [...scope.parents.slice(0, -1), `${s.stage} [${label}]`],
        matrix: { ...(scope.matrix ?? {}), ...cell },
        variables: {
          ...scope.variables,
          ...Object.fromEntries(
            Object.entries(cell).map(([k, v]) => [k, { kind: "value" as const, value: v }]),
          ),
        },
        ...(group ? { failFastGroup: group } : {}),
      };
      if (m.steps) {
        exits.push(
          this.leaf(
            `${s.stage} [${label}]`,
            cellScope,
            preds,
            compileSteps(c, m.steps, [...path, "matrix", "steps"]),
            {},
            undefined,
            [...path, "matrix"],
          ),
        );
      } else if (m.stages) {
        let p = preds;
        for (const [i, child] of m.stages.entries())
          p = this.stage(child, [...path, "matrix", "stages", i], cellScope, p);
        exits.push(...p);
      } else {
        c.error(
          "stage-body",
          `matrix of stage "${s.stage}" has neither steps nor stages`,
          [...path, "matrix"],
          "add `steps:` or `stages:` inside `matrix:`",
        );
        return preds;
      }
    }
    return exits;
  }

  private leaf(
    name: string,
    scope: Scope,
    preds: string[],
    steps: Step[],
    post: Post,
    input: Input | undefined,
    path: Path,
    when: Job["when"] = "on_success",
  ): string {
    const parents =
      scope.parents.length > 0 && scope.parents[scope.parents.length - 1] === name
        ? scope.parents
        : [...scope.parents, name];
    const id = parents.join(" / ");
    const condition: Condition | undefined =
      scope.conditions.length === 0
        ? undefined
        : scope.conditions.length === 1
          ? scope.conditions[0]
          : { kind: "allOf", conditions: scope.conditions };
    const job: Job = {
      id,
      name: parents[parents.length - 1] ?? name,
      stage: scope.topStage,
      needsMode: "explicit",
      needs: [...new Set(preds)].map((p) => ({ job: p, artifacts: false })),
      artifactsFrom: [],
      when,
      allowFailure: false,
      retry: { max: scope.retry !== undefined ? scope.retry - 1 : 0, when: [] },
      ...(scope.timeoutMs !== undefined ? { timeoutMs: scope.timeoutMs } : {}),
      variables: scope.variables,
      executor: scope.agent,
      steps,
      afterSteps: [],
      post,
      cache: [],
      ...(input ? { input } : {}),
      ...(condition ? { condition } : {}),
      ...(scope.timing && Object.keys(scope.timing).length ? { conditionTiming: scope.timing } : {}),
      ...(scope.matrix ? { matrix: scope.matrix } : {}),
      ...(scope.failFastGroup ? { failFastGroup: scope.failFastGroup } : {}),
      ...(scope.sharedWorkspace ? { workspace: "pipeline" } : {}),
      parents,
      loc: this.c.loc(path),
    };
    this.jobs.push(job);
    return id;
  }
}

function compileInput(c: NativeCompiler, raw: unknown, path: Path): Input | undefined {
  const i = c.check(inputSchema, raw, path);
  if (!i) return undefined;
  return {
    message: i.message,
    ok: i.ok ?? "Proceed",
    ...(i.submitter ? { submitter: i.submitter } : {}),
    ...(i.submitterParameter ? { submitterParameter: i.submitterParameter } : {}),
    parameters: (i.parameters ?? []).map((p) => ({
      name: p.name,
      type: p.type,
      ...(p.default !== undefined ? { default: String(p.default) } : {}),
      ...(p.description ? { description: p.description } : {}),
      ...(p.choices ? { choices: p.choices } : {}),
    })),
  };
}

export { whenLevelSchema };
