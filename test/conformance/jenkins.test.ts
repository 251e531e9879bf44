/**
 * Conformance over ../shared/corpus/jenkins (see its README): every PURE and DECL+EXPR sample
 * compiles to a Plan; every DECL+SCRIPT sample gets the script diagnostic at the right line;
 * every errors/ case gets Jenkins' own message; where json/ holds Jenkins' model of a sample,
 * the stages, steps, conditions, agents and post blocks Gantry compiled match it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LibrarySource } from "../../src/pipeline/context.js";
import { compileJenkinsfile, compileJenkinsfileDetailed } from "../../src/pipeline/jenkins/index.js";
import type { Condition, Job, Plan, Step } from "../../src/pipeline/plan.js";
import { context, corpusDir, gitLibrary } from "../pipeline/jenkins/helpers.js";

interface Sample {
  file: string;
  kind: "PURE" | "DECL+EXPR" | "DECL+SCRIPT";
  features: string[];
  json: string | null;
}
const index = JSON.parse(readFileSync(path.join(corpusDir, "index.json"), "utf8")) as Sample[];
const expectedErrors = JSON.parse(
  readFileSync(path.join(corpusDir, "errors/expected.json"), "utf8"),
) as Record<string, { expected_log_contains: string[] }>;
/** Lines of Jenkins' log that come from the Groovy compiler's wrapper, not from the validator. */
const WRAPPER_LINES = ["MultipleCompilationErrorsException: startup failed:"];

const tally = {
  compiled: 0,
  compiledOf: 0,
  script: 0,
  scriptOf: 0,
  errors: 0,
  errorsOf: 0,
  json: 0,
  jsonOf: 0,
  skippedLines: 0,
};
let libraries: LibrarySource[] = [];

beforeAll(() => {
  // The libraries the corpus' library samples ask for, as real git repositories.
  libraries = [
    gitLibrary("echo-utils", { "vars/myecho.groovy": "def call() {\n  echo 'myecho from echo-utils'\n}\n" }),
    gitLibrary("whereFrom", {
      "vars/whereFrom.groovy": "def call() {\n  echo 'whereFrom from whereFrom'\n}\n",
    }),
  ];
});

afterAll(() => {
  const line =
    `jenkins conformance: PURE+DECL+EXPR compiled ${tally.compiled}/${tally.compiledOf}, ` +
    `DECL+SCRIPT script diagnostic at the right line ${tally.script}/${tally.scriptOf}, ` +
    `errors/ messages ${tally.errors}/${tally.errorsOf} (${tally.skippedLines} Groovy-compiler wrapper line not applicable), ` +
    `json/ models matched ${tally.json}/${tally.jsonOf}`;
  console.log(line);
});

function read(file: string): string {
  return readFileSync(path.join(corpusDir, file), "utf8");
}

describe("jenkins corpus: samples", () => {
  for (const s of index) {
    if (s.kind !== "DECL+SCRIPT") {
      it(`${s.kind} ${s.file} compiles to a Plan`, async () => {
        tally.compiledOf++;
        const r = await compileJenkinsfile(context(read(s.file), { file: s.file, libraries }));
        expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        expect(r.plan?.format).toBe("jenkins");
        expect(r.plan!.jobs.length).toBeGreaterThan(0);
        tally.compiled++;
      });
    } else {
      it(`DECL+SCRIPT ${s.file} gets the script diagnostic at the right line`, async () => {
        tally.scriptOf++;
        const source = read(s.file);
        const r = await compileJenkinsfile(context(source, { file: s.file, libraries }));
        expect(r.plan).toBeUndefined();
        const expected = expectedScriptLines(source, s.features);
        expect(expected.length).toBeGreaterThan(0);
        for (const { line, code } of expected) {
          const d = r.diagnostics.find((x) => x.line === line && x.code === code);
          expect(d, `${code} at line ${line}`).toBeDefined();
          expect(d!.severity).toBe("error");
          expect(d!.hint).toMatch(/sh step|library step|stage of the declarative/);
        }
        tally.script++;
      });
    }
  }
});

/** Independent of the compiler: `script {` lines, and the first code line before `pipeline {`. */
function expectedScriptLines(source: string, features: string[]): { line: number; code: string }[] {
  const lines = source.split("\n");
  const out: { line: number; code: string }[] = [];
  if (features.includes("script-block")) {
    lines.forEach((l, i) => {
      if (/^\s*script\s*\{/.test(l)) out.push({ line: i + 1, code: "JK-script-block" });
    });
  }
  if (features.includes("groovy-outside-pipeline")) {
    let inComment = false;
    for (let i = 0; i < lines.length; i++) {
      const t = lines[i]!.trim();
      if (/^pipeline\s*\{/.test(t)) break;
      if (inComment) {
        if (t.includes("*/")) inComment = false;
        continue;
      }
      if (t.startsWith("/*")) {
        inComment = !t.includes("*/");
        continue;
      }
      if (!t || t.startsWith("//") || t.startsWith("#!") || t.startsWith("@Library")) continue;
      out.push({ line: i + 1, code: "JK-groovy-outside-pipeline" });
      break;
    }
  }
  return out;
}

describe("jenkins corpus: errors/", () => {
  for (const [name, exp] of Object.entries(expectedErrors)) {
    it(`errors/${name} reports Jenkins' message`, async () => {
      tally.errorsOf++;
      const r = await compileJenkinsfile(
        context(read(`errors/${name}.groovy`), { file: `errors/${name}.groovy` }),
      );
      expect(r.plan).toBeUndefined();
      const messages = r.diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
      for (const text of exp.expected_log_contains) {
        if (WRAPPER_LINES.includes(text)) {
          tally.skippedLines++;
          continue;
        }
        expect(
          messages.some((m) => m.includes(text)),
          `a diagnostic containing: ${text}\ngot: ${messages.join("\n")}`,
        ).toBe(true);
      }
      tally.errors++;
    });
  }
});

// ---- Jenkins' model (json/) against the Plan ----

type JValue = { isLiteral: boolean; value: unknown };
interface JStep {
  name: string;
  arguments: { key: string; value: JValue }[] | JValue;
  children?: JStep[];
}
interface JStage {
  name: string;
  branches?: { name: string; steps: JStep[] }[];
  parallel?: JStage[];
  stages?: JStage[];
  matrix?: {
    axes: { name: string; values: JValue[] }[];
    excludes?: { name: string; values: JValue[]; inverse?: boolean }[][];
    stages: JStage[];
  };
  agent?: { type: string; argument?: JValue };
  when?: { conditions: { name: string }[]; beforeAgent?: boolean };
  post?: { conditions: { condition: string }[] };
  options?: { options: { name: string; arguments: { key: string; value: JValue }[] }[] };
  input?: { message: JValue; parameters?: { parameters: { arguments: { key: string; value: JValue }[] }[] } };
  failFast?: boolean;
}
interface JModel {
  pipeline: {
    stages: JStage[];
    agent?: { type: string; argument?: JValue };
    parameters?: { parameters: { name: string }[] };
    triggers?: { triggers: { name: string }[] };
  };
}

function jv(v: JValue | undefined): string {
  if (!v) return "";
  if (v.isLiteral) return String(v.value);
  const s = String(v.value);
  return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function jarg(step: { arguments: JStep["arguments"] }, key: string): JValue | undefined {
  if (!Array.isArray(step.arguments)) return step.arguments;
  return step.arguments.find((a) => a.key === key)?.value;
}

const UNIT_MS: Record<string, number> = { SECONDS: 1000, MINUTES: 60_000, HOURS: 3_600_000, MILLISECONDS: 1 };

/** Jenkins' steps as comparable strings; `script` is dropped (Gantry reports it as an error instead). */
function normJenkins(steps: JStep[]): string[] {
  return steps.flatMap((s): string[] => {
    const kids = s.children ? `[${normJenkins(s.children).join(",")}]` : "";
    switch (s.name) {
      case "script":
        return [];
      case "echo":
      case "error":
        return [`${s.name}:${jv(jarg(s, "message"))}`];
      case "sh":
        return [`sh:${jv(jarg(s, "script"))}`];
      case "sleep":
        return [`sleep:${Number(jv(jarg(s, "time"))) * (UNIT_MS[jv(jarg(s, "unit")) || "SECONDS"] ?? 0)}`];
      case "timeout":
        return [
          `timeout:${Number(jv(jarg(s, "time"))) * (UNIT_MS[jv(jarg(s, "unit")) || "MINUTES"] ?? 0)}${kids}`,
        ];
      case "retry":
        return [`retry:${jv(jarg(s, "count"))}${kids}`];
      default:
        return [`lib:${s.name}`];
    }
  });
}

function normGantry(steps: Step[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    const lib = s.loc && /:vars\/(\w+)\.groovy$/.exec(s.loc.file);
    if (lib) {
      if (out[out.length - 1] !== `lib:${lib[1]}`) out.push(`lib:${lib[1]}`);
      continue;
    }
    switch (s.kind) {
      case "echo":
        out.push(`echo:${s.message}`);
        break;
      case "error":
        out.push(`error:${s.message}`);
        break;
      case "sh":
        out.push(`sh:${s.script}`);
        break;
      case "sleep":
        out.push(`sleep:${s.ms}`);
        break;
      case "timeout":
        out.push(`timeout:${s.ms}[${normGantry(s.steps).join(",")}]`);
        break;
      case "retry":
        out.push(`retry:${s.count}[${normGantry(s.steps).join(",")}]`);
        break;
      default:
        out.push(s.kind);
    }
  }
  return out;
}

function flatConditions(c: Condition | undefined): Condition[] {
  if (!c) return [];
  return c.kind === "allOf" ? c.conditions : [c];
}

function conditionKinds(c: Condition | undefined): string[] {
  if (!c) return [];
  return c.kind === "allOf" ? c.conditions.map((x) => x.kind) : [c.kind];
}

function executorOf(agent: { type: string; argument?: JValue }): { kind: string; labels: string[] } {
  if (agent.type === "none") return { kind: "none", labels: [] };
  if (agent.type === "any") return { kind: "shell", labels: [] };
  if (agent.type === "label") return { kind: "shell", labels: [jv(agent.argument)] };
  return { kind: agent.type, labels: [] };
}

function cellsOf(m: NonNullable<JStage["matrix"]>): string[] {
  let cells: Record<string, string>[] = [{}];
  for (const a of m.axes) cells = cells.flatMap((c) => a.values.map((v) => ({ ...c, [a.name]: jv(v) })));
  const excluded = (c: Record<string, string>): boolean =>
    (m.excludes ?? []).some((rule) =>
      rule.every((a) => a.values.map(jv).includes(c[a.name]!) !== (a.inverse === true)),
    );
  return cells
    .filter((c) => !excluded(c))
    .map((c) =>
      Object.entries(c)
        .map(([k, v]) => `${k}=${v}`)
        .join(", "),
    );
}

/** Compares Jenkins' model with the Plan; returns the differences. */
function compareModel(model: JModel, plan: Plan): string[] {
  const diffs: string[] = [];
  const jobs = new Map(plan.jobs.map((j) => [j.id, j]));
  const seen = new Set<string>();
  const pipelineAgent = model.pipeline.agent ? executorOf(model.pipeline.agent) : undefined;
  if (
    pipelineAgent &&
    (plan.executor.kind !== pipelineAgent.kind ||
      JSON.stringify(plan.executor.labels) !== JSON.stringify(pipelineAgent.labels))
  ) {
    diffs.push(`pipeline agent: ${JSON.stringify(plan.executor)} vs ${JSON.stringify(pipelineAgent)}`);
  }
  const walk = (
    stages: JStage[],
    parents: string[],
    inheritedAgent: { kind: string; labels: string[] } | undefined,
  ): void => {
    for (const st of stages) {
      const p = [...parents, st.name];
      const agent = st.agent ? executorOf(st.agent) : inheritedAgent;
      if (st.branches) {
        const id = p.join(" / ");
        seen.add(id);
        const job = jobs.get(id);
        if (!job) {
          diffs.push(`missing job "${id}"`);
          continue;
        }
        compareLeaf(st, job, agent, diffs);
      }
      if (st.parallel) {
        walk(st.parallel, p, agent);
        // failFast: every job under the parallel stage is in one fail-fast group.
        const under = [...jobs.values()].filter((j) => j.id.startsWith(`${p.join(" / ")} / `));
        for (const j of under) {
          if ((j.failFastGroup !== undefined) !== (st.failFast === true))
            diffs.push(`${j.id} failFastGroup: ${j.failFastGroup} vs failFast ${st.failFast}`);
        }
      }
      if (st.stages) walk(st.stages, p, agent);
      if (st.matrix) for (const cell of cellsOf(st.matrix)) walk(st.matrix.stages, [...p, cell], agent);
    }
  };
  walk(model.pipeline.stages, [], pipelineAgent);
  for (const id of jobs.keys()) if (!seen.has(id)) diffs.push(`extra job "${id}"`);
  const params = (model.pipeline.parameters?.parameters ?? []).map((x) => {
    const a = x as unknown as { name: string; arguments: { key: string; value: JValue }[] };
    const arg = (k: string): string | undefined =>
      a.arguments.find((y) => y.key === k) ? jv(a.arguments.find((y) => y.key === k)!.value) : undefined;
    return { name: arg("name"), default: arg("defaultValue") };
  });
  const gotParams = plan.parameters.map((x) => ({ name: x.name, default: x.default }));
  if (JSON.stringify(params) !== JSON.stringify(gotParams))
    diffs.push(`parameters: ${JSON.stringify(gotParams)} vs ${JSON.stringify(params)}`);
  const triggers = (model.pipeline.triggers?.triggers ?? []).map((t) => t.name);
  if (JSON.stringify(triggers) !== JSON.stringify(plan.triggers.map((t) => t.kind)))
    diffs.push(`triggers: ${JSON.stringify(plan.triggers)} vs ${JSON.stringify(triggers)}`);
  return diffs;
}

function compareLeaf(
  st: JStage,
  job: Job,
  agent: { kind: string; labels: string[] } | undefined,
  diffs: string[],
): void {
  const want = normJenkins(st.branches!.flatMap((b) => b.steps));
  const got = normGantry(job.steps);
  if (JSON.stringify(want) !== JSON.stringify(got))
    diffs.push(`${job.id} steps: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  // Condition arguments: a single literal (branch 'x', changeset 'x') is the pattern.
  const patterns = (st.when?.conditions ?? []).map((c) => {
    const args = (c as { arguments?: JStep["arguments"] }).arguments;
    return args && !Array.isArray(args) ? jv(args) : undefined;
  });
  const gotPatterns = flatConditions(job.condition).map((c) => ("pattern" in c ? c.pattern : undefined));
  patterns.forEach((want, i) => {
    if (want !== undefined && gotPatterns[i] !== want)
      diffs.push(`${job.id} condition ${i} pattern: ${gotPatterns[i]} vs ${want}`);
  });
  const conds = (st.when?.conditions ?? []).map((c) => c.name);
  const gotConds = conditionKinds(job.condition);
  if (JSON.stringify(conds) !== JSON.stringify(gotConds))
    diffs.push(`${job.id} when: ${JSON.stringify(gotConds)} vs ${JSON.stringify(conds)}`);
  if (st.when?.beforeAgent && !job.conditionTiming?.beforeAgent) diffs.push(`${job.id}: beforeAgent lost`);
  const post = (st.post?.conditions ?? []).map((c) => c.condition).sort();
  const gotPost = Object.keys(job.post).sort();
  if (JSON.stringify(post) !== JSON.stringify(gotPost))
    diffs.push(`${job.id} post: ${JSON.stringify(gotPost)} vs ${JSON.stringify(post)}`);
  if (
    agent &&
    (job.executor.kind !== agent.kind || JSON.stringify(job.executor.labels) !== JSON.stringify(agent.labels))
  ) {
    diffs.push(`${job.id} agent: ${JSON.stringify(job.executor)} vs ${JSON.stringify(agent)}`);
  }
  const timeout = st.options?.options.find((o) => o.name === "timeout");
  if (timeout) {
    const ms = Number(jv(jarg(timeout, "time"))) * (UNIT_MS[jv(jarg(timeout, "unit")) || "MINUTES"] ?? 0);
    if (job.timeoutMs !== ms) diffs.push(`${job.id} timeout: ${job.timeoutMs} vs ${ms}`);
  }
  if (st.input) {
    if (job.input?.message !== jv(st.input.message))
      diffs.push(`${job.id} input message: ${job.input?.message} vs ${jv(st.input.message)}`);
    const names = (st.input.parameters?.parameters ?? []).map((p) =>
      jv(p.arguments.find((a) => a.key === "name")?.value),
    );
    if (JSON.stringify(names) !== JSON.stringify((job.input?.parameters ?? []).map((p) => p.name)))
      diffs.push(`${job.id} input parameters differ`);
  }
}

describe("jenkins corpus: Jenkins' own model (json/)", () => {
  for (const s of index.filter((x) => x.json)) {
    it(`${s.file} matches ${s.json}`, async () => {
      tally.jsonOf++;
      const model = JSON.parse(read(s.json!)) as JModel;
      const { plan, diagnostics } = await compileJenkinsfileDetailed(
        context(read(s.file), { file: s.file, libraries }),
      );
      if (s.kind !== "DECL+SCRIPT") expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const diffs = compareModel(model, plan);
      if (s.kind === "DECL+SCRIPT") {
        // Conditions Gantry rejects (Groovy in expression {}) are reported, not compiled.
        const rejected = diffs.filter(
          (d) => / when: /.test(d) && diagnostics.some((x) => x.code === "JK-expression"),
        );
        expect(diffs.filter((d) => !rejected.includes(d))).toEqual([]);
      } else {
        expect(diffs).toEqual([]);
      }
      tally.json++;
    });
  }
});
