import { setMaxListeners } from "node:events";
import path from "node:path";
import type { GitInfo } from "../pipeline/git.js";
import type { Job, Plan } from "../pipeline/plan.js";
import type { EventListener, JobStatus, RunStatus } from "./events.js";
import { listProjectFiles, readSmallTree, type TreeSnapshot } from "./files.js";
import { PIPELINE_POST_JOB_ID, runJob } from "./job-runner.js";
import type {
  ArtifactStore,
  CacheStore,
  ExecutorRegistry,
  InputDecision,
  InputRequest,
  JobOutcome,
  SecretResolver,
} from "./types.js";
import { jobSlugs, slugify } from "./variables.js";
import { WorkspacePool } from "./workspace-pool.js";

export { PIPELINE_POST_JOB_ID };

export interface RunOptions {
  runId: string;
  plan: Plan;
  projectDir: string;
  /** Where workspaces are created. */
  workspaceRoot: string;
  inPlace: boolean;
  /**
   * A folder where jobs' workspaces are kept for the next run (`workspace-pool.ts`); used only
   * for projects small enough to be read into memory. Unset: every workspace is made afresh.
   */
  workspacePool?: string;
  /**
   * The files a workspace starts with, when the caller already started listing them (e.g.
   * while the pipeline compiled); default: `listProjectFiles(projectDir)`.
   */
  projectFiles?: Promise<string[]>;
  concurrency: number;
  executors: ExecutorRegistry;
  artifacts: ArtifactStore;
  cache: CacheStore;
  secrets: SecretResolver;
  extraEnv: Record<string, string>;
  maskValues: string[];
  /** Ids of the jobs to run (from `selectJobs`); needs outside it count as met. */
  jobIds: readonly string[];
  /** Ids of manual jobs to play. */
  manual: ReadonlySet<string>;
  git?: GitInfo;
  previousResult?: "SUCCESS" | "UNSTABLE" | "FAILURE" | "ABORTED";
  approvals?: (req: InputRequest, signal: AbortSignal) => Promise<InputDecision>;
  onEvent: EventListener;
  signal: AbortSignal;
}

export interface JobRecord {
  status: JobStatus;
  attempts: number;
  durationMs: number;
  reason?: string;
  exitCode?: number | null;
  allowedFailure: boolean;
  coverage?: number;
  /** The job's contribution to the pipeline's result when it differs from its status. */
  buildResult?: "SUCCESS" | "UNSTABLE";
  /** An upstream job failed: `on_success` dependents are skipped, `on_failure` ones run. */
  upstreamFailed: boolean;
}

export interface RunResult {
  status: RunStatus;
  durationMs: number;
  jobs: Map<string, JobRecord>;
}

/**
 * Runs a plan's jobs as a DAG: a job starts the moment its needs are met (not in stage
 * waves), at most `concurrency` at a time, in plan order among the ready ones. Jobs without
 * `needs` wait for every earlier stage because frontends list those jobs as their needs.
 */
export async function runPlan(o: RunOptions): Promise<RunResult> {
  const started = Date.now();
  // Every running job listens for the run's cancellation; dozens at once are expected.
  setMaxListeners(0, o.signal);
  const { plan } = o;
  const selected = new Set(o.jobIds);
  const jobs = plan.jobs.filter((j) => selected.has(j.id));
  const order = new Map(jobs.map((j, i) => [j.id, i]));
  const records = new Map<string, JobRecord>();
  const deps = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  const remaining = new Map<string, number>();
  for (const j of jobs) {
    const d = [...new Set(j.needs.map((n) => n.job).filter((id) => selected.has(id)))];
    deps.set(j.id, d);
    remaining.set(j.id, d.length);
    for (const x of d) dependents.set(x, [...(dependents.get(x) ?? []), j.id]);
    records.set(j.id, {
      status: "created",
      attempts: 0,
      durationMs: 0,
      allowedFailure: false,
      upstreamFailed: false,
    });
  }
  o.onEvent({
    type: "run.started",
    runId: o.runId,
    time: started,
    jobs: jobs.map((j) => ({ id: j.id, name: j.name, stage: j.stage })),
  });

  const projectFiles = o.inPlace ? [] : await (o.projectFiles ?? listProjectFiles(o.projectDir));
  // A small project is read once: its files are then written into each job's workspace.
  const projectTree = o.inPlace ? undefined : readSmallTree(o.projectDir, projectFiles);
  const pool =
    projectTree && o.workspacePool ? new WorkspacePool(o.workspacePool, o.workspaceRoot) : undefined;
  // Jobs whose names differ only in punctuation must not share a workspace.
  const slugs = jobSlugs(plan.jobs.map((j) => j.id));
  const controllers = new Map<string, AbortController>();
  const failFastAborted = new Set<string>();
  const ready: Job[] = [];
  let running = 0;
  let finished = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const status = (
    j: Job,
    s: JobStatus,
    attempt: number,
    extra: Partial<JobRecord> & { durationMs?: number } = {},
  ) => {
    const rec = records.get(j.id)!;
    Object.assign(rec, extra, { status: s });
    o.onEvent({
      type: "job.status",
      runId: o.runId,
      jobId: j.id,
      attempt,
      status: s,
      time: Date.now(),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
      ...(extra.durationMs !== undefined ? { durationMs: extra.durationMs } : {}),
      ...(extra.allowedFailure ? { allowedFailure: true } : {}),
      ...(extra.coverage !== undefined ? { coverage: extra.coverage } : {}),
    });
  };

  const currentResult = (): "SUCCESS" | "UNSTABLE" | "FAILURE" => {
    let r: "SUCCESS" | "UNSTABLE" | "FAILURE" = "SUCCESS";
    for (const rec of records.values()) {
      if (rec.buildResult) {
        if (rec.buildResult === "UNSTABLE") r = "UNSTABLE";
        continue;
      }
      if (rec.status === "failed" && !rec.allowedFailure) return "FAILURE";
      if (rec.status === "unstable") r = "UNSTABLE";
    }
    return r;
  };

  const finishedIds = new Set<string>();
  const finish = (j: Job) => {
    if (finishedIds.has(j.id)) return; // defensive: a job counts once
    finishedIds.add(j.id);
    finished++;
    for (const d of dependents.get(j.id) ?? []) {
      const left = remaining.get(d)! - 1;
      remaining.set(d, left);
      if (left === 0) enqueue(jobsById.get(d)!);
    }
    pump();
    if (finished === jobs.length) resolveDone();
  };

  const jobsById = new Map(jobs.map((j) => [j.id, j]));

  const failFast = (j: Job) => {
    if (!j.failFastGroup) return;
    for (const other of jobs) {
      if (other.id === j.id || other.failFastGroup !== j.failFastGroup) continue;
      const c = controllers.get(other.id);
      if (c) {
        failFastAborted.add(other.id);
        c.abort("failFast");
      }
    }
  };

  const enqueue = (j: Job) => {
    const upstreamFailed = (deps.get(j.id) ?? []).some((d) => {
      const r = records.get(d)!;
      return (
        r.upstreamFailed ||
        (r.status === "failed" && !r.allowedFailure && r.buildResult === undefined) ||
        r.status === "canceled"
      );
    });
    const rec = records.get(j.id)!;
    rec.upstreamFailed = upstreamFailed;
    const skip = (reason: string) => {
      status(j, "skipped", 0, { reason });
      finish(j);
    };
    if (o.signal.aborted) {
      status(j, "canceled", 0, { reason: "cancelled" });
      finish(j);
      return;
    }
    if (
      j.failFastGroup &&
      jobs.some((x) => x.failFastGroup === j.failFastGroup && records.get(x.id)!.status === "failed")
    ) {
      status(j, "canceled", 0, { reason: "another parallel branch failed (failFast)" });
      finish(j);
      return;
    }
    switch (j.when) {
      case "on_success":
        if (upstreamFailed) return skip("a job it needs failed");
        break;
      case "on_failure":
        if (!upstreamFailed) return skip("when: on_failure and nothing failed");
        break;
      case "manual":
        if (!o.manual.has(j.id)) {
          status(j, "manual", 0, { reason: "manual job: play it with --manual" });
          finish(j);
          return;
        }
        if (upstreamFailed) return skip("a job it needs failed");
        break;
      case "delayed":
        if (upstreamFailed) return skip("a job it needs failed");
        status(j, "waiting", 0, { reason: `delayed by ${j.startInMs ?? 0}ms` });
        setTimeout(() => {
          ready.push(j);
          pump();
        }, j.startInMs ?? 0);
        return;
      case "always":
        break;
    }
    ready.push(j);
  };

  const start = (j: Job, attempt: number) => {
    running++;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal.addEventListener("abort", onAbort, { once: true });
    controllers.set(j.id, ac);
    status(j, "running", attempt);
    void runJob({
      ...jobContext(o, projectFiles, projectTree, pool),
      slug: slugs.get(j.id)!,
      job: j,
      attempt,
      currentResult: currentResult(),
      ...(o.approvals ? { approvals: o.approvals } : {}),
      onEvent: o.onEvent,
      signal: ac.signal,
      runSignal: o.signal,
    }).then((out: JobOutcome) => {
      o.signal.removeEventListener("abort", onAbort);
      controllers.delete(j.id);
      running--;
      const rec = records.get(j.id)!;
      rec.attempts = attempt;
      if (out.status === "failed" && out.retryable && attempt <= j.retry.max && !o.signal.aborted) {
        status(j, "failed", attempt, {
          reason: `${out.reason ?? "failed"}; retrying`,
          durationMs: out.durationMs,
        });
        start(j, attempt + 1);
        return;
      }
      status(j, out.status, attempt, {
        durationMs: out.durationMs,
        allowedFailure: out.allowedFailure,
        ...(out.reason !== undefined ? { reason: out.reason } : {}),
        ...(out.exitCode !== undefined ? { exitCode: out.exitCode } : {}),
        ...(out.coverage !== undefined ? { coverage: out.coverage } : {}),
        ...(out.buildResult !== undefined ? { buildResult: out.buildResult } : {}),
      });
      if (out.status === "failed" && !out.allowedFailure) failFast(j);
      finish(j);
    });
  };

  const pump = () => {
    if (ready.length > 1) ready.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    while (running < o.concurrency && ready.length > 0) start(ready.shift()!, 1);
  };

  for (const j of jobs) status(j, "waiting", 0);
  // The roots as they are now: enqueueing one can finish it at once (a manual job) and bring
  // later jobs to zero remaining needs, which that finish enqueues itself.
  const roots = jobs.filter((j) => remaining.get(j.id) === 0);
  for (const j of roots) enqueue(j);
  pump();
  if (jobs.length === 0) resolveDone();
  await done;

  let result = currentResult();
  const postJob = pipelinePostJob(plan);
  if (postJob) {
    const postOutcome = await runPipelinePost(o, postJob, result, projectFiles, projectTree, pool);
    if (postOutcome === "failed") result = "FAILURE";
  }
  // Jobs renamed or removed since: their kept workspaces would never be used again.
  pool?.retain(new Set(plan.jobs.filter((j) => j.workspace === undefined).map((j) => slugs.get(j.id)!)));
  // A job cancelled on its own (a rejected input) aborts the run, as in Jenkins; branches
  // cancelled by failFast do not (the failing branch already failed it).
  const jobAborted = [...records].some(
    ([id, r]) => r.status === "canceled" && !failFastAborted.has(id) && !r.reason?.includes("failFast"),
  );
  const runStatus: RunStatus =
    o.signal.aborted || (jobAborted && result !== "FAILURE")
      ? "canceled"
      : result === "FAILURE"
        ? "failed"
        : result === "UNSTABLE"
          ? "unstable"
          : "success";
  const durationMs = Date.now() - started;
  o.onEvent({ type: "run.finished", runId: o.runId, status: runStatus, time: Date.now(), durationMs });
  return { status: runStatus, durationMs, jobs: records };
}

/**
 * The job that runs a plan's pipeline-level `post` block after every other job (always), with
 * the pipeline's result as its starting result; undefined when the plan has none. The local
 * scheduler runs it after the DAG; the server stores it as the pipeline's last job.
 */
export function pipelinePostJob(plan: Plan): Job | undefined {
  if (!Object.values(plan.post).some((steps) => steps && steps.length > 0)) return undefined;
  return {
    id: PIPELINE_POST_JOB_ID,
    name: "Post Actions",
    stage: plan.stages[plan.stages.length - 1] ?? "post",
    needsMode: "explicit",
    needs: plan.jobs.map((j) => ({ job: j.id, artifacts: false })),
    artifactsFrom: [],
    when: "always",
    allowFailure: false,
    retry: { max: 0, when: [] },
    variables: plan.variables,
    executor: plan.executor,
    steps: [],
    afterSteps: [],
    post: plan.post,
    cache: [],
    workspace: "pipeline",
    loc: { file: plan.file, line: 0, column: 0 },
  };
}

/** The pipeline-level `post` runs as a job of its own whose result starts as the pipeline's. */
async function runPipelinePost(
  o: RunOptions,
  job: Job,
  result: "SUCCESS" | "UNSTABLE" | "FAILURE",
  projectFiles: string[],
  projectTree: TreeSnapshot | undefined,
  pool: WorkspacePool | undefined,
): Promise<JobOutcome["status"]> {
  const out = await runJob({
    ...jobContext(o, projectFiles, projectTree, pool),
    job,
    attempt: 1,
    currentResult: result,
    signal: o.signal,
  });
  return out.status;
}

/** What every job of a run is given, whichever job it is. */
function jobContext(
  o: RunOptions,
  projectFiles: string[],
  projectTree: TreeSnapshot | undefined,
  pool: WorkspacePool | undefined,
) {
  return {
    runId: o.runId,
    plan: o.plan,
    projectDir: o.projectDir,
    workspaceRoot: o.workspaceRoot,
    inPlace: o.inPlace,
    executors: o.executors,
    artifacts: o.artifacts,
    cache: o.cache,
    secrets: o.secrets,
    extraEnv: { ...o.extraEnv },
    maskValues: o.maskValues,
    ...(o.previousResult ? { previousResult: o.previousResult } : {}),
    ...(o.git ? { git: o.git } : {}),
    projectFiles,
    ...(projectTree ? { projectTree } : {}),
    ...(pool ? { workspacePool: pool } : {}),
    onEvent: o.onEvent,
  };
}

/** Where a run's workspaces live under the state directory. */
export function workspaceRootFor(stateDir: string, runId: string): string {
  return path.join(stateDir, "builds", slugify(runId));
}
