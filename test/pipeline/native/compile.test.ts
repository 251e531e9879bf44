import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileGantry } from "../../../src/pipeline/native/index.js";
import { renderGantrySchema } from "../../../src/pipeline/native/json-schema.js";
import { emptyGitInfo } from "../../../src/pipeline/git.js";
import type { Plan } from "../../../src/pipeline/plan.js";

async function compile(
  source: string,
  o: { params?: Record<string, string>; variables?: Record<string, string> } = {},
) {
  return compileGantry({
    projectDir: "/tmp",
    file: "gantry.yml",
    source,
    variables: o.variables ?? {},
    params: o.params ?? {},
    git: emptyGitInfo("/tmp"),
    libraries: [],
    cacheDir: "/tmp/gantry-cache",
    env: {},
  });
}

async function plan(source: string, o?: Parameters<typeof compile>[1]): Promise<Plan> {
  const r = await compile(source, o);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return r.plan!;
}

describe("gantry.yml → Plan", () => {
  it("chains stages, fans out parallel branches and joins them", async () => {
    const p = await plan(`
pipeline:
  agent: any
  stages:
    - stage: Build
      steps: [make]
    - stage: Test
      parallel:
        - stage: Unit
          steps: [make test]
        - stage: Lint
          steps: [make lint]
    - stage: Deploy
      steps: [make deploy]
`);
    const needs = Object.fromEntries(p.jobs.map((j) => [j.id, j.needs.map((n) => n.job)]));
    expect(needs).toEqual({
      Build: [],
      "Test / Unit": ["Build"],
      "Test / Lint": ["Build"],
      Deploy: ["Test / Unit", "Test / Lint"],
    });
    expect(p.stages).toEqual(["Build", "Test", "Deploy"]);
    expect(p.jobs.every((j) => j.workspace === "pipeline")).toBe(true);
  });

  it("builds a DAG across stages with needs", async () => {
    const p = await plan(`
pipeline:
  stages:
    - stage: A
      steps: [a]
    - stage: B
      needs: []
      steps: [b]
    - stage: C
      needs: [A, B]
      steps: [c]
`);
    expect(p.jobs.map((j) => [j.id, j.needs.map((n) => n.job)])).toEqual([
      ["A", []],
      ["B", []],
      ["C", ["A", "B"]],
    ]);
  });

  it("expands a matrix with excludes into parallel jobs with axis variables", async () => {
    const p = await plan(`
pipeline:
  stages:
    - stage: Test
      matrix:
        axes: {OS: [linux, mac], NODE: [20, 22]}
        excludes: [{OS: mac, NODE: 20}]
        steps: ['echo $OS $NODE']
`);
    expect(p.jobs.map((j) => j.id)).toEqual([
      "Test [OS=linux, NODE=20]",
      "Test [OS=linux, NODE=22]",
      "Test [OS=mac, NODE=22]",
    ]);
    expect(p.jobs[2]!.variables.OS).toEqual({ kind: "value", value: "mac" });
    expect(p.jobs[2]!.matrix).toEqual({ OS: "mac", NODE: "22" });
  });

  it("compiles steps, when, input, post, options and credentials", async () => {
    const p = await plan(`
pipeline:
  environment:
    DB: {credentials: db-creds, type: usernamePassword}
  options: {timeout: 10m, retry: 3}
  stages:
    - stage: Deploy
      when: {branch: main, environment: {name: DEPLOY, value: "yes"}}
      input: {message: Ship it?, ok: Ship}
      steps:
        - sh: {script: ./deploy.sh, label: deploy}
        - dir: {path: sub, steps: [{echo: in sub}]}
        - timeout: {time: 30s, steps: [{sleep: 1}]}
        - archiveArtifacts: {artifacts: "dist/**", excludes: "*.map"}
      post:
        failure: [{echo: failed}]
`);
    const j = p.jobs[0]!;
    expect(j.timeoutMs).toBe(600_000);
    expect(j.retry.max).toBe(2);
    expect(j.variables.DB_PSW).toEqual({ kind: "credential", id: "db-creds", part: "password" });
    expect(j.condition).toEqual({
      kind: "allOf",
      conditions: [
        { kind: "branch", pattern: "main", comparator: "GLOB" },
        { kind: "environment", name: "DEPLOY", value: "yes" },
      ],
    });
    expect(j.input).toMatchObject({ message: "Ship it?", ok: "Ship" });
    expect(j.steps.map((s) => s.kind)).toEqual(["sh", "dir", "timeout", "archiveArtifacts"]);
    expect(j.steps[2]).toMatchObject({ kind: "timeout", ms: 30_000, steps: [{ kind: "sleep", ms: 1000 }] });
    expect(j.steps[3]).toMatchObject({ paths: ["dist/**"], exclude: ["*.map"] });
    expect(j.post.failure?.[0]).toMatchObject({ kind: "echo", message: "failed" });
  });

  it("takes parameters from --param and defaults, and --variable over environment", async () => {
    const p = await plan(
      `
pipeline:
  parameters:
    - {name: TARGET, default: staging}
    - {name: DRY, type: boolean}
  environment: {MODE: normal}
  stages: [{stage: S, steps: [x]}]
`,
      { params: { TARGET: "prod" }, variables: { MODE: "override" } },
    );
    const v = p.jobs[0]!.variables;
    expect(v.TARGET).toMatchObject({ value: "prod" });
    expect(v.DRY).toMatchObject({ value: "false" });
    expect(v.MODE).toMatchObject({ value: "override" });
  });

  it("survives JSON round trips (the Plan is plain data)", async () => {
    const p = await plan(`pipeline: {stages: [{stage: S, steps: [echo hi]}]}`);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe("gantry.yml diagnostics", () => {
  const errors = async (src: string) =>
    (await compile(src)).diagnostics.filter((d) => d.severity === "error");

  it("reports an unknown key with its position and a did-you-mean", async () => {
    const [d, ...rest] = await errors(`pipeline:
  stages:
    - stage: Build
      stepz: [make]
`);
    expect(rest.filter((x) => x.code === "unknown-key")).toEqual([]);
    expect(d).toMatchObject({
      code: "unknown-key",
      file: "gantry.yml",
      line: 4,
      column: 7,
      hint: 'did you mean "steps"?',
    });
  });

  it("reports an unknown step with a did-you-mean", async () => {
    const ds = await errors(`pipeline:
  stages:
    - stage: Build
      steps:
        - ech: hi
`);
    expect(ds[0]).toMatchObject({ code: "unknown-step", line: 5, column: 11, hint: 'did you mean "echo"?' });
  });

  it("collects every problem in one pass", async () => {
    const ds = await errors(`pipeline:
  agnet: any
  stages:
    - stage: A
      steps: [a]
      parallel: []
    - stage: B
      needs: [Nope]
      steps: [{sleep: forever}]
`);
    expect(ds.map((d) => d.code)).toEqual(
      expect.arrayContaining(["unknown-key", "stage-body", "unknown-need", "invalid-value"]),
    );
    expect(ds.length).toBeGreaterThanOrEqual(4);
  });

  it("rejects malformed YAML with a position", async () => {
    const ds = await errors("pipeline:\n  stages: [\n");
    expect(ds[0]).toMatchObject({ code: "yaml-syntax", file: "gantry.yml" });
    expect(ds[0]!.line).toBeGreaterThan(0);
  });

  it("requires stages and a pipeline key", async () => {
    expect((await errors("pipeline: {}"))[0]).toMatchObject({ code: "missing-key" });
    expect((await errors("stages: []"))[0]!.message).toMatch(/pipeline/);
  });

  it("refuses a matrix of more than 200 jobs", async () => {
    const values = Array.from({ length: 15 }, (_, i) => i);
    const ds = await errors(`pipeline:
  stages:
    - stage: Big
      matrix:
        axes: {A: [${values.join(",")}], B: [${values.join(",")}]}
        steps: [x]
`);
    expect(ds[0]).toMatchObject({ code: "matrix-too-large", line: 4 });
  });
});

describe("JSON Schema", () => {
  it("is generated from the same source of truth and shipped up to date", () => {
    const shipped = readFileSync(new URL("../../../schemas/gantry.schema.json", import.meta.url), "utf8");
    expect(shipped).toBe(renderGantrySchema());
    expect(JSON.parse(shipped).properties.pipeline.properties.stages).toBeDefined();
  });
});
