import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ExecutorRegistry, JobOutcome, JobRunContext } from "../engine/types.js";
import { readGitInfo, type GitInfo } from "../pipeline/git.js";
import { slugify } from "../engine/variables.js";
import { listProjectFiles } from "../engine/files.js";
import { RunnerClient, ServerError, retryable } from "./client.js";
import { HttpArtifactStore, HttpCacheStore, httpSecrets } from "./http-stores.js";
import { LogShipper } from "./log-shipper.js";
import { checkoutCommit, gitInfoForRef, updateMirror } from "./git-checkout.js";
import {
  PROTOCOL_VERSION,
  type FinishBatchResponse,
  type HeartbeatResponse,
  type JobResult,
  type JobResultAnswer,
  type LeaseInfo,
  type LeaseResponse,
  type LeasedJob,
} from "./protocol.js";

/** At most this many results per `finish` request (the server's limit)... */
const MAX_RESULTS = 64;
/** ...and about this much log text (the server takes 4 MB bodies). */
const MAX_RESULT_BYTES = 1024 * 1024;

export interface AgentOptions {
  server: string;
  token: string;
  name?: string;
  labels?: string[];
  executor?: "shell" | "docker";
  concurrency?: number;
  /** Mirrors, checkouts and job workspaces. */
  workDir: string;
  /** Gantry's version, sent when registering. */
  version?: string;
  /** Progress lines ("leased job 12"); default: silent. */
  log?: (line: string) => void;
  /** Replaces the engine's `runJob` (tests). */
  runJob?: (ctx: JobRunContext) => Promise<JobOutcome>;
}

/**
 * The runner: registers with the server, long-polls for jobs, runs each with the engine and
 * reports back. A lost lease (409 on heartbeat or log) aborts the job and drops its result:
 * the server has already retried or failed it.
 */
export class Agent {
  private readonly c: RunnerClient;
  private readonly running = new Map<number, { abort: AbortController; done: Promise<void> }>();
  private stopping = false;
  private poll: AbortController | undefined;
  private info: LeaseInfo | undefined;
  private executors: ExecutorRegistry | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly o: AgentOptions) {
    this.c = new RunnerClient(o.server, o.token);
    this.log = o.log ?? (() => {});
  }

  /** Registers; throws a clear error for a bad token or a protocol mismatch. */
  async register(): Promise<LeaseInfo> {
    const executors = await this.loadExecutors();
    this.info = await this.c.jsonRetry<LeaseInfo>("POST", "/api/v1/runner/register", {
      protocolVersion: PROTOCOL_VERSION,
      name: this.o.name ?? os.hostname(),
      labels: this.o.labels ?? [],
      executors: Object.keys(executors),
      concurrency: this.o.concurrency ?? 1,
      version: this.o.version ?? "0.1.0",
    });
    return this.info;
  }

  private async loadExecutors(): Promise<ExecutorRegistry> {
    if (this.executors) return this.executors;
    const reg: ExecutorRegistry = {};
    if ((this.o.executor ?? "shell") === "docker") {
      const { createDockerExecutor } = await import("../executors/docker/index.js");
      reg.docker = createDockerExecutor();
    } else {
      const { ShellExecutor } = await import("../executors/shell.js");
      reg.shell = new ShellExecutor();
    }
    // Stages with Jenkins `agent none` (echo, error... but no shell) run on any runner.
    const { NoAgentExecutor } = await import("../executors/none.js");
    reg.none = new NoAgentExecutor();
    this.executors = reg;
    return reg;
  }

  /** Runs until `stop()`; resolves when the last job has finished. */
  async run(): Promise<void> {
    if (!this.info) await this.register();
    const slots = Math.max(1, this.o.concurrency ?? 1);
    let backoff = 0;
    while (!this.stopping) {
      const free = slots - this.running.size;
      if (free <= 0) {
        await Promise.race([...this.running.values()].map((r) => r.done));
        continue;
      }
      this.poll = new AbortController();
      try {
        const res = await this.c.json<LeaseResponse>(
          "POST",
          "/api/v1/runner/lease",
          { slots: free, waitMs: 20_000 },
          this.poll.signal,
        );
        backoff = 0;
        for (const job of res.jobs) this.start(job);
      } catch (err) {
        if (this.stopping) break;
        if (!retryable(err)) throw err;
        backoff = Math.min(10_000, backoff ? backoff * 2 : 250);
        this.log(
          `server unreachable (${err instanceof Error ? err.message : String(err)}); retrying in ${backoff} ms`,
        );
        await new Promise((r) => setTimeout(r, backoff));
      }
    }
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    this.c.close();
  }

  /** Stops leasing; with `cancelRunning`, aborts running jobs (they report `canceled`). */
  stop(cancelRunning = false): void {
    this.stopping = true;
    this.poll?.abort();
    if (cancelRunning) for (const r of this.running.values()) r.abort.abort();
  }

  get busy(): number {
    return this.running.size;
  }

  /** Checkouts by commit: fetched and read once per commit, not once per job. */
  private readonly sources = new Map<
    string,
    Promise<{ projectDir: string; git: GitInfo; files: string[] }>
  >();
  private source(job: LeasedJob): Promise<{ projectDir: string; git: GitInfo; files: string[] }> {
    const key = `${job.repo}\0${job.sha}`;
    let p = this.sources.get(key);
    if (!p) {
      p = (async () => {
        const mirror = await updateMirror(this.o.workDir, job.repo);
        const projectDir = await checkoutCommit(this.o.workDir, mirror, job.sha);
        return { projectDir, git: await readGitInfo(projectDir), files: await listProjectFiles(projectDir) };
      })();
      p.catch(() => this.sources.delete(key));
      if (this.sources.size > 100) this.sources.delete(this.sources.keys().next().value!);
      this.sources.set(key, p);
    }
    return p;
  }

  private start(job: LeasedJob): void {
    const abort = new AbortController();
    const done = this.runOne(job, abort)
      .catch((err: unknown) => this.log(`job ${job.id}: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.running.delete(job.id));
    this.running.set(job.id, { abort, done });
  }

  private async runOne(job: LeasedJob, abort: AbortController): Promise<void> {
    this.log(`job ${job.id} (${job.jobKey}) attempt ${job.attempt}: started`);
    let lost = false;
    let canceled = false;
    const onLost = () => {
      lost = true;
      abort.abort();
    };
    const shipper = new LogShipper(this.c, job.id, job.attempt, onLost);
    const beat = setInterval(() => {
      this.c
        .json<HeartbeatResponse>("POST", `/api/v1/runner/jobs/${job.id}/heartbeat`, { attempt: job.attempt })
        .then((r) => {
          if (r.cancel && !canceled) {
            canceled = true;
            abort.abort();
          }
        })
        .catch((err: unknown) => {
          if (err instanceof ServerError && err.status === 409) onLost();
        });
    }, this.info?.heartbeatMs ?? 10_000);
    // One folder per pipeline run: jobs that share a workspace (Jenkins nested stages) find it.
    const workspaceRoot = path.join(this.o.workDir, "builds", job.runId);
    let shared = false;
    let outcome: JobOutcome;
    const started = Date.now();
    try {
      const planJob = job.plan.jobs.find((j) => j.id === job.jobKey);
      if (!planJob) throw new Error(`the plan has no job "${job.jobKey}"`);
      shared = planJob.workspace !== undefined;
      const { projectDir, git: info, files } = await this.source(job);
      const git = gitInfoForRef(info, job.ref, job.refKind ?? "branch");
      const runJob = this.o.runJob ?? (await import("../engine/job-runner.js")).runJob;
      outcome = await runJob({
        runId: job.runId,
        plan: job.plan,
        job: planJob,
        attempt: job.attempt,
        projectDir,
        projectFiles: files,
        workspaceRoot,
        inPlace: false,
        executors: await this.loadExecutors(),
        artifacts: new HttpArtifactStore(this.c, job.id),
        cache: new HttpCacheStore(this.c, job.id),
        secrets: httpSecrets(this.c, job.id),
        extraEnv: job.extraEnv,
        maskValues: job.maskValues,
        ...(job.previousResult ? { previousResult: job.previousResult } : {}),
        ...(job.currentResult ? { currentResult: job.currentResult } : {}),
        git,
        ...(job.decision ? { approvals: async () => job.decision! } : {}),
        onEvent: (e) => {
          if (e.type === "log") shipper.write(e.text.endsWith("\n") ? e.text : `${e.text}\n`);
        },
        signal: abort.signal,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      shipper.write(`gantry runner: ${message}\n`);
      outcome = {
        status: "failed",
        reason: message,
        durationMs: Date.now() - started,
        allowedFailure: false,
        retryable: true,
      };
    } finally {
      clearInterval(beat);
    }
    const logs = await shipper.drain();
    if (!shared) fs.rmSync(path.join(workspaceRoot, slugify(job.jobKey)), { recursive: true, force: true });
    if (lost) {
      this.log(`job ${job.id} attempt ${job.attempt}: lease lost; result dropped`);
      return;
    }
    if (canceled && outcome.status !== "canceled")
      outcome = { ...outcome, status: "canceled", reason: "canceled" };
    const answer = await this.report({
      id: job.id,
      attempt: job.attempt,
      outcome,
      ...(logs.length > 0 ? { logs } : {}),
    });
    if ("error" in answer) this.log(`job ${job.id}: ${answer.error.message}`);
    else this.log(`job ${job.id} attempt ${job.attempt}: ${outcome.status}`);
  }

  /** Results waiting for the next `finish` request. */
  private readonly results: {
    result: JobResult;
    resolve: (a: JobResultAnswer) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private reporting = false;

  /**
   * Reports a result. One `finish` request is in flight at a time; results that end while it
   * is travel together in the next one, so a busy runner sends one request for many jobs and
   * an idle one waits for nobody.
   */
  private report(result: JobResult): Promise<JobResultAnswer> {
    return new Promise((resolve, reject) => {
      this.results.push({ result, resolve, reject });
      if (!this.reporting) void this.flushResults();
    });
  }

  private async flushResults(): Promise<void> {
    this.reporting = true;
    try {
      while (this.results.length > 0) {
        // Bounded by count and by log bytes, well under the server's request size limit.
        let bytes = 0;
        let n = 0;
        while (n < this.results.length && n < MAX_RESULTS) {
          const size = (this.results[n]!.result.logs ?? []).reduce((a, l) => a + l.text.length, 0);
          if (n > 0 && bytes + size > MAX_RESULT_BYTES) break;
          bytes += size;
          n++;
        }
        const batch = this.results.splice(0, n);
        try {
          const res = await this.c.jsonRetry<FinishBatchResponse>("POST", "/api/v1/runner/finish", {
            results: batch.map((b) => b.result),
          });
          batch.forEach((b, i) => {
            const a = res.results[i];
            if (a) b.resolve(a);
            else b.reject(new Error(`the server did not answer for job ${b.result.id}`));
          });
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.reporting = false;
    }
  }
}
