import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunEvent } from "../../src/engine/events.js";
import { LocalArtifactStore, LocalCacheStore } from "../../src/engine/local-store.js";
import { runPlan, type RunOptions, type RunResult } from "../../src/engine/scheduler.js";
import { NoAgentExecutor } from "../../src/executors/none.js";
import { ShellExecutor } from "../../src/executors/shell.js";
import type { Job, Plan, Step } from "../../src/pipeline/plan.js";

/** A job with defaults; `steps` may be shell strings. */
export function job(
  id: string,
  o: Partial<Omit<Job, "steps">> & { steps?: (Step | string)[]; after?: string[] } = {},
): Job {
  const { after, steps, ...rest } = o;
  return {
    id,
    name: id,
    stage: "test",
    needsMode: "explicit",
    needs: (after ?? []).map((j) => ({ job: j, artifacts: true })),
    artifactsFrom: [],
    when: "on_success",
    allowFailure: false,
    retry: { max: 0, when: [] },
    variables: {},
    executor: { kind: "shell", labels: [] },
    steps: (steps ?? []).map((s) => (typeof s === "string" ? { kind: "sh", script: s } : s)),
    afterSteps: [],
    post: {},
    cache: [],
    loc: { file: "test.yml", line: 1, column: 1 },
    ...rest,
  };
}

export function plan(jobs: Job[], o: Partial<Plan> = {}): Plan {
  const stages = [...new Set(jobs.map((j) => j.stage))];
  return {
    version: 1,
    format: "gantry",
    file: "test.yml",
    stages,
    parameters: [],
    triggers: [],
    options: {},
    jobs,
    post: {},
    executor: { kind: "shell", labels: [] },
    variables: {},
    ...o,
  };
}

export interface Ran extends RunResult {
  events: RunEvent[];
  /** Log lines of a job, in order. */
  log(jobId: string): string[];
  /** A job's final status. */
  of(jobId: string): string | undefined;
  projectDir: string;
}

/** Runs a plan with the real engine and shell executor in a fresh temporary project. */
export async function run(p: Plan, o: Partial<RunOptions> & { projectDir?: string } = {}): Promise<Ran> {
  const projectDir = o.projectDir ?? mkdtempSync(path.join(os.tmpdir(), "gantry-engine-"));
  const stateDir = path.join(projectDir, ".gantry");
  const events: RunEvent[] = [];
  const result = await runPlan({
    runId: "1",
    plan: p,
    projectDir,
    workspaceRoot: path.join(stateDir, "builds"),
    inPlace: false,
    concurrency: 4,
    executors: { shell: new ShellExecutor(), none: new NoAgentExecutor() },
    artifacts: new LocalArtifactStore(stateDir, "1"),
    cache: new LocalCacheStore(stateDir),
    secrets: async () => undefined,
    extraEnv: {},
    maskValues: [],
    jobIds: p.jobs.map((j) => j.id),
    manual: new Set(),
    signal: new AbortController().signal,
    ...o,
    onEvent: (e) => {
      events.push(e);
      o.onEvent?.(e);
    },
  });
  return {
    ...result,
    events,
    projectDir,
    log: (id) => events.flatMap((e) => (e.type === "log" && e.jobId === id ? [e.text] : [])),
    of: (id) => result.jobs.get(id)?.status,
  };
}
