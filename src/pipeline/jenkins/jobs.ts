/**
 * Stage tree → jobs. Each leaf stage (one with `steps`) is a job. Sequential stages need the
 * previous one; parallel branches and matrix cells share their predecessors and the next
 * stage needs all of them. Agent, environment, when, options and input flow down from
 * enclosing stages. A group's `post` becomes jobs that run after the group's stages.
 */
import type {
  Condition,
  ExecutorSpec,
  Input,
  Job,
  JobWhen,
  Post,
  PostCondition,
  Step,
  Variable,
} from "../plan.js";
import { compileAgent } from "./agent.js";
import { report, loc, type Cx } from "./context.js";
import {
  compileEnvironment,
  compileInput,
  compileInputStep,
  compileOptions,
  reportTools,
} from "./directives.js";
import { compilePost } from "./post.js";
import { matrixCells, type MatrixDef, type StageDef } from "./stage-tree.js";
import { compileSteps } from "./steps.js";
import { compileWhen } from "./when.js";

const MAX_MATRIX_CELLS = 256;
/** Steps Jenkins runs without a node (so `agent none` is fine for them). */
const FLYWEIGHT = new Set<Step["kind"]>(["echo", "error", "unstable", "sleep"]);

/** The steps Jenkins runs only on a node; wrappers such as `timeout` and `retry` count by what they hold. */
function nodeSteps(steps: Step[]): Step[] {
  return steps.flatMap((step) => {
    switch (step.kind) {
      case "timeout":
      case "retry":
      case "catchError":
      case "withEnv":
        return nodeSteps(step.steps);
      default:
        return FLYWEIGHT.has(step.kind) ? [] : [step];
    }
  });
}

function runsShell(step: Step): boolean {
  return step.kind === "sh" || step.kind === "script" || ("steps" in step && step.steps.some(runsShell));
}

interface Inherited {
  executor: ExecutorSpec;
  /** Key of the agent that owns the workspace (see Job.workspace). */
  workspace: string;
  variables: Record<string, Variable>;
  conditions: Condition[];
  timing?: Job["conditionTiming"];
  timeoutMs?: number;
  retry?: number;
  parents: string[];
  top?: string;
  known: Record<string, string>;
  failFastGroup?: string;
  matrix?: Record<string, string>;
  /** An input of an enclosing stage, asked by the first job of the group. */
  input?: { value?: Input };
}

export interface JobBuilder {
  cx: Cx;
  jobs: Job[];
  wholeSource: string;
  /** `--variable` values, applied last. */
  overrides: Record<string, Variable>;
  failFastAll: boolean;
}

/** Adds the jobs of `stages` (run one after the other) and returns the ids the next stage needs. */
export function addSequence(b: JobBuilder, stages: StageDef[], preds: string[], inh: Inherited): string[] {
  let current = preds;
  for (const s of stages) current = addStage(b, s, current, inh);
  return current;
}

function addStage(b: JobBuilder, s: StageDef, preds: string[], parent: Inherited): string[] {
  const { cx } = b;
  const inh: Inherited = {
    ...parent,
    parents: [...parent.parents, s.name],
    top: parent.top ?? s.name,
    conditions: [...parent.conditions],
  };
  applyDirectives(b, s.sections, s.name, inh);
  if (s.sections.input) {
    const input = compileInput(s.sections.input, cx);
    if (input) inh.input = { value: input };
  }
  let exits: string[];
  switch (s.body.kind) {
    case "steps": {
      const job = leafJob(b, s, preds, inh);
      exits = [job.id];
      break;
    }
    case "stages":
      exits = addSequence(b, s.body.children, preds, inh);
      break;
    case "parallel": {
      const group = s.failFast || b.failFastAll ? inh.parents.join(" / ") : inh.failFastGroup;
      exits = s.body.children.flatMap((c) =>
        addStage(b, c, preds, { ...inh, ...(group ? { failFastGroup: group } : {}) }),
      );
      break;
    }
    case "matrix":
      exits = addMatrix(b, s, s.body.matrix, preds, inh);
      break;
  }
  if (s.sections.post && s.body.kind !== "steps")
    exits = [...exits, ...groupPost(b, s, compilePost(s.sections.post, cx), exits, inh)];
  return exits;
}

/** agent, environment, when, options and tools of a stage (or a matrix) applied to `inh`. */
function applyDirectives(b: JobBuilder, sections: StageDef["sections"], owner: string, inh: Inherited): void {
  const { cx } = b;
  if (sections.agent) {
    const spec = compileAgent(sections.agent, cx, inh.known);
    if (spec) {
      const reuse = spec.kind === "docker" && spec.reuseNode === true && inh.executor.kind !== "none";
      inh.executor = spec;
      if (!reuse) inh.workspace = inh.parents.join(" / ") || owner;
    }
  }
  if (sections.environment) {
    inh.variables = {
      ...inh.variables,
      ...compileEnvironment(sections.environment, cx, inh.variables, inh.known, b.wholeSource),
    };
  }
  if (sections.when) {
    const w = compileWhen(sections.when, cx, inh.known);
    if (w.condition) inh.conditions.push(w.condition);
    if (w.timing) inh.timing = { ...inh.timing, ...w.timing };
  }
  if (sections.options) {
    const o = compileOptions(sections.options, cx, "stage");
    if (o.timeoutMs !== undefined) inh.timeoutMs = o.timeoutMs;
    if (o.retry !== undefined) inh.retry = o.retry;
  }
  if (sections.tools) reportTools(sections.tools, cx);
}

function leafJob(b: JobBuilder, s: StageDef, preds: string[], inh: Inherited): Job {
  const { cx } = b;
  if (s.body.kind !== "steps") throw new Error("leafJob on a group");
  let body = s.body.entry.closure?.body ?? [];
  let stepInput: Input | undefined;
  const first = body[0];
  if (
    first?.type === "expr" &&
    first.expr.type === "call" &&
    first.expr.target === null &&
    first.expr.name === "input" &&
    !inh.input?.value
  ) {
    stepInput = compileInputStep(first.expr, cx);
    body = body.slice(1);
  }
  const steps = compileSteps(body, cx);
  const post = s.sections.post ? compilePost(s.sections.post, cx) : {};
  const id = uniqueId(b, inh.parents.join(" / "));
  const onNode = inh.executor.kind === "none" ? nodeSteps([...steps, ...Object.values(post).flat()]) : [];
  if (onNode.length > 0) {
    const noAgent = `stage "${s.name}" runs without an agent ("agent none" and no agent of its own)`;
    const kinds = [...new Set(onNode.map((st) => st.kind))].join(", ");
    report(
      cx,
      "warning",
      "JK-no-agent",
      onNode.some(runsShell)
        ? `${noAgent}, so its sh steps fail: there is no machine to run them on`
        : `${noAgent}: Jenkins needs a node for ${kinds} (Gantry carries them out in the stage's workspace)`,
      s.entry.at,
      "add agent any (or a label, docker, ...) to the stage",
    );
  }
  const input = inh.input?.value ?? stepInput;
  if (inh.input) delete inh.input.value;
  const condition = inheritedCondition(inh);
  const job: Job = {
    id,
    name: s.name,
    stage: inh.top ?? s.name,
    needsMode: "explicit",
    needs: preds.map((p) => ({ job: p, artifacts: false })),
    artifactsFrom: [],
    when: "on_success",
    allowFailure: false,
    retry: { max: inh.retry ?? 0, when: [] },
    ...(inh.timeoutMs !== undefined ? { timeoutMs: inh.timeoutMs } : {}),
    variables: { ...inh.variables, STAGE_NAME: { kind: "value", value: s.name }, ...b.overrides },
    executor: inh.executor,
    steps,
    afterSteps: [],
    post,
    cache: [],
    ...(input ? { input } : {}),
    ...(condition ? { condition } : {}),
    ...(inh.timing ? { conditionTiming: inh.timing } : {}),
    ...(inh.matrix ? { matrix: inh.matrix } : {}),
    ...(inh.failFastGroup ? { failFastGroup: inh.failFastGroup } : {}),
    workspace: inh.workspace,
    parents: inh.parents.slice(0, -1),
    loc: loc(cx, s.entry.at),
  };
  b.jobs.push(job);
  return job;
}

function uniqueId(b: JobBuilder, id: string): string {
  if (!b.jobs.some((j) => j.id === id)) return id;
  let n = 2;
  while (b.jobs.some((j) => j.id === `${id} (${n})`)) n++;
  return `${id} (${n})`;
}

function addMatrix(b: JobBuilder, s: StageDef, m: MatrixDef, preds: string[], inh: Inherited): string[] {
  const cells = matrixCells(m);
  if (cells.length > MAX_MATRIX_CELLS) {
    report(
      b.cx,
      "error",
      "JK-matrix",
      `matrix of stage "${s.name}" expands to ${cells.length} cells; the limit is ${MAX_MATRIX_CELLS}`,
      s.entry.at,
      "add excludes or split the matrix",
    );
    return [];
  }
  if (cells.length === 0)
    report(
      b.cx,
      "warning",
      "JK-matrix",
      `matrix of stage "${s.name}" has no cells left after excludes`,
      s.entry.at,
    );
  const group = s.failFast || b.failFastAll ? inh.parents.join(" / ") : inh.failFastGroup;
  return cells.flatMap((cell) => {
    const label = Object.entries(cell)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    const axisVars: Record<string, Variable> = {};
    for (const [k, v] of Object.entries(cell)) axisVars[k] = { kind: "value", value: v };
    const cellInh: Inherited = {
      ...inh,
      parents: [...inh.parents, label],
      conditions: [...inh.conditions],
      variables: { ...inh.variables, ...axisVars },
      known: { ...inh.known, ...cell },
      matrix: cell,
      ...(group ? { failFastGroup: group } : {}),
      input: { ...(inh.input?.value ? { value: inh.input.value } : {}) },
    };
    applyDirectives(b, m.sections, s.name, cellInh);
    if (m.sections.input) {
      const input = compileInput(m.sections.input, b.cx);
      if (input) cellInh.input = { value: input };
    }
    const exits = addSequence(b, m.stages, preds, cellInh);
    if (!m.sections.post) return exits;
    return [
      ...exits,
      ...groupPost(b, { ...s, name: label }, compilePost(m.sections.post, b.cx), exits, cellInh),
    ];
  });
}

/**
 * A group's `post`: Jenkins runs it after the group's stages. The Plan has post blocks on jobs
 * only, so each condition that can be told from the group's jobs becomes a job that needs
 * them: always/cleanup (`when: always`), success (`on_success`), failure/unsuccessful
 * (`on_failure`). The others are reported.
 */
/** The `when` conditions of a stage and the groups around it, as one condition (undefined: none). */
function inheritedCondition(inh: Inherited): Job["condition"] {
  return inh.conditions.length === 0
    ? undefined
    : inh.conditions.length === 1
      ? inh.conditions[0]
      : { kind: "allOf", conditions: inh.conditions };
}

function groupPost(b: JobBuilder, s: StageDef, post: Post, exits: string[], inh: Inherited): string[] {
  const mapping: [PostCondition[], JobWhen][] = [
    [["always", "cleanup"], "always"],
    [["success"], "on_success"],
    [["failure", "unsuccessful"], "on_failure"],
  ];
  const out: string[] = [];
  const condition = inheritedCondition(inh);
  for (const [conds, when] of mapping) {
    const steps = conds.flatMap((c) => post[c] ?? []);
    if (steps.length === 0) continue;
    const base = [...inh.parents, `post (${conds.filter((c) => post[c]).join(", ")})`].join(" / ");
    const job: Job = {
      id: uniqueId(b, base),
      name: `post (${conds.filter((c) => post[c]).join(", ")})`,
      stage: inh.top ?? s.name,
      needsMode: "explicit",
      needs: exits.map((j) => ({ job: j, artifacts: false })),
      artifactsFrom: [],
      when,
      allowFailure: false,
      retry: { max: 0, when: [] },
      variables: { ...inh.variables, STAGE_NAME: { kind: "value", value: s.name }, ...b.overrides },
      executor: inh.executor,
      steps,
      afterSteps: [],
      post: {},
      cache: [],
      // A group skipped by its `when` runs no post either.
      ...(condition ? { condition } : {}),
      ...(inh.matrix ? { matrix: inh.matrix } : {}),
      workspace: inh.workspace,
      parents: inh.parents,
      loc: loc(b.cx, s.sections.post?.at ?? s.entry.at),
    };
    b.jobs.push(job);
    out.push(job.id);
  }
  const lost = (["changed", "fixed", "regression", "aborted", "unstable"] as const).filter((c) => post[c]);
  if (lost.length > 0) {
    report(
      b.cx,
      "warning",
      "JK-group-post",
      `post conditions ${lost.join(", ")} of stage group "${s.name}" are not supported on a group; their steps do not run`,
      s.sections.post?.at ?? s.entry.at,
      "move them to the post of the group's last stage",
    );
  }
  return out;
}
