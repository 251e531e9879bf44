import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { z } from "zod";
import { beforeAll, describe, expect, it } from "vitest";
import {
  expandLibraryStep,
  loadLibraries,
  usesRequests,
  type CompileYamlSteps,
  type LoadedLibraries,
} from "../../../src/pipeline/libraries/index.js";
import { compileSteps, type StepCompiler } from "../../../src/pipeline/native/steps.js";
import { git, writeTree } from "../jenkins/helpers.js";

/** The gantry.yml frontend's own step compiler, as the lead's frontend passes it. */
const compileYaml: CompileYamlSteps = (steps, file) => {
  const c: StepCompiler = {
    check: <T extends z.ZodType>(schema: T, value: unknown) => {
      const r = schema.safeParse(value);
      return r.success ? r.data : undefined;
    },
    error: (code, message) => {
      throw new Error(`${code}: ${message}`);
    },
    loc: () => ({ file, line: 1, column: 1 }),
  };
  return compileSteps(c, steps, ["steps"]);
};

let libs: LoadedLibraries;
const at = { file: "gantry.yml", line: 7, column: 9 };

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gantry-ylib-"));
  git(dir, "init", "-q", "-b", "main");
  writeTree(dir, {
    "vars/deploy.yml": [
      "description: Deploy the app",
      "parameters:",
      "  target: { type: string, required: true }",
      "  replicas: { type: number, default: 1 }",
      "  dryRun: { type: boolean, default: false }",
      "steps:",
      "  - echo: deploying to ${args.target}",
      "  - sh: ./deploy --to ${args.target} --replicas ${args.replicas} --dry-run=${args.dryRun}",
      "",
    ].join("\n"),
    "vars/greet.groovy": "def call(Map args = [:]) {\n  echo \"hello ${args.name ?: 'you'}\"\n}\n",
  });
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "lib");
  git(dir, "tag", "v1");
  const uses = [{ uses: "ops/deploy@v1", at }];
  const r = await loadLibraries(
    usesRequests(uses),
    [{ name: "ops", source: dir }],
    mkdtempSync(path.join(tmpdir(), "gantry-ycache-")),
  );
  expect(r.diagnostics).toEqual([]);
  libs = r.libs;
});

describe("expandLibraryStep (uses: lib/step for gantry.yml)", () => {
  it("expands a vars/<name>.yml step with typed parameters and defaults", () => {
    const r = expandLibraryStep(libs, { uses: "ops/deploy@v1", with: { target: "prod" }, at }, compileYaml);
    expect(r.diagnostics).toEqual([]);
    expect(r.steps.map((s) => (s.kind === "sh" ? s.script : s.kind === "echo" ? s.message : s.kind))).toEqual(
      ["deploying to prod", "./deploy --to prod --replicas 1 --dry-run=false"],
    );
  });

  it("reports a missing required parameter, a wrong type and an unknown one at the uses: step", () => {
    const r = expandLibraryStep(
      libs,
      { uses: "ops/deploy", with: { replicas: "many", dryrun: true }, at },
      compileYaml,
    );
    const messages = r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message} ${d.hint ?? ""}`);
    expect(messages).toContain('7:9 step ops/deploy has no parameter "dryrun" did you mean "dryRun"?');
    expect(messages.some((m) => m.includes('needs parameter "target"'))).toBe(true);
    expect(messages.some((m) => m.includes('parameter "replicas" of ops/deploy must be a number'))).toBe(
      true,
    );
    expect(r.steps).toEqual([]);
  });

  it("runs a Groovy library step (vars/<name>.groovy) from gantry.yml too", () => {
    const r = expandLibraryStep(libs, { uses: "ops/greet", with: { name: "Ada" }, at }, compileYaml);
    expect(r.diagnostics).toEqual([]);
    expect(r.steps).toMatchObject([{ kind: "echo", message: "hello Ada" }]);
  });

  it("names the library's steps when the step does not exist", () => {
    const r = expandLibraryStep(libs, { uses: "ops/deplo", with: {}, at }, compileYaml);
    expect(r.diagnostics[0]!.message).toContain('has no step "deplo"');
    expect(r.diagnostics[0]!.hint).toContain('did you mean "deploy"?');
  });
});
