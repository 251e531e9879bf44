import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import type { CompileResult } from "../../../src/pipeline/context.js";
import type { Diagnostic } from "../../../src/pipeline/diagnostics.js";
import { emptyGitInfo, type GitInfo } from "../../../src/pipeline/git.js";
import { compileGitlab } from "../../../src/pipeline/gitlab/index.js";
import type { Job, Plan } from "../../../src/pipeline/plan.js";

/** One compile with a throw-away project directory holding `files`. */
export interface CompileOptions {
  files?: Record<string, string>;
  variables?: Record<string, string>;
  git?: Partial<GitInfo>;
  file?: string;
  env?: Record<string, string>;
}

export const cacheDir = mkdtempSync(path.join(os.tmpdir(), "gantry-gl-cache-"));
const made: string[] = [cacheDir];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function gitInfo(over: Partial<GitInfo> = {}): GitInfo {
  return {
    ...emptyGitInfo("/project"),
    isRepo: true,
    sha: "0123456789abcdef0123456789abcdef01234567",
    shortSha: "01234567",
    branch: "feature/Login-Page",
    ref: "refs/heads/feature/Login-Page",
    defaultBranch: "main",
    authorName: "Ada Lovelace",
    authorEmail: "ada@example.com",
    commitTitle: "Add login",
    commitMessage: "Add login\n\nwith a form",
    changedFiles: ["src/app.ts", "docs/readme.md"],
    ...over,
  };
}

export async function compile(source: string, o: CompileOptions = {}): Promise<CompileResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-gl-"));
  made.push(dir);
  for (const [name, text] of Object.entries(o.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const file = o.file ?? ".gitlab-ci.yml";
  writeFileSync(path.join(dir, file), source);
  const git = gitInfo({ root: dir, ...o.git });
  return compileGitlab({
    projectDir: dir,
    file,
    source,
    variables: o.variables ?? {},
    params: {},
    git,
    libraries: [],
    cacheDir,
    env: o.env ?? {},
  });
}

/** Compiles and insists on a Plan (failing the test with the diagnostics otherwise). */
export async function plan(source: string, o: CompileOptions = {}): Promise<Plan> {
  const r = await compile(source, o);
  if (!r.plan)
    throw new Error(
      `expected a plan, got:\n${r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("\n")}`,
    );
  return r.plan;
}

export function job(p: Plan, id: string): Job {
  const j = p.jobs.find((x) => x.id === id);
  if (!j) throw new Error(`no job "${id}" in ${p.jobs.map((x) => x.id).join(", ")}`);
  return j;
}

export function varValue(j: Job | Plan, name: string): string | undefined {
  const v = j.variables[name];
  return v?.kind === "value" ? v.value : undefined;
}

export function errors(r: CompileResult): Diagnostic[] {
  return r.diagnostics.filter((d) => d.severity === "error");
}
