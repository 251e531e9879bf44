import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ExecutorRegistry, JobOutcome, JobRunContext } from "../engine/types.js";
import { readGitInfo, type GitInfo } from "../pipeline/git.js";
import { uniqueSlug } from "../engine/variables.js";
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

/** At most this many results per request (the server's limit)... */
const MAX_RESULTS = 64;
/** ...and about this much log text (the server takes 4 MB bodies). */
const MAX_RESULT_BYTES = 1024 * 1024;
/** How long a freed slot waits for other jobs about to end, so that they report together. */
const GATHER_MS = 5;

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

  /** Runs until `stop()`; resolves when the last job has finished and its result is sent. */
  async run(): Promise<void> {
    if (!this.info) await this.register();
    const slots = Math.max(1, this.o.concurrency ?? 1);
    let backoff = 0;
    while (!this.stopping) {
      // A job holds its lease until its result is stored: a runner never holds more than
      // `slots` leases. Results sent by `finish` are not stored yet; those the lease carries are
      // (the server stores them before it leases).
      if (this.running.size + this.sending >= slots) {
        await this.changed();
        continue;
      }
      // Jobs that end within a few milliseconds of each other share one request.
      const until = Date.now() + GATHER_MS;
      while (this.results.length > 0 && this.running.size > 0 && !this.stopping && Date.now() < until)
        await this.changed(until - Date.now());
      if (this.stopping) break;
      const carry = this.takeResults();
      const free = slots - this.running.size - this.sending - this.results.length;
      if (free <= 0) {
        // More results than one request carries: the rest go by `finish` first.
        this.results.unshift(...carry);
        void this.flushResults();
        await this.changed();
        continue;
      }
      this.poll = new AbortController();
      this.leasing = true;
      try {
        const res = await this.c.json<LeaseResponse>(
          "POST",
          "/api/v1/runner/lease",
          {
            slots: free,
            waitMs: 20_000,
            ...(carry.length > 0 ? { results: carry } : {}),
          },
          this.poll.signal,
        );
        backoff = 0;
        this.settle(carry, res.results ?? []);
        for (const job of res.jobs) this.start(job);
      } catch (err) {
        // Whether the results were stored is unknown: send them again (a duplicate is harmless).
        this.results.unshift(...carry);
        if (this.stopping) break;
        if (!retryable(err)) throw err;
        backoff = Math.min(10_000, backoff ? backoff * 2 : 250);
        this.log(
          `server unreachable (${err instanceof Error ? err.message : String(err)}); retrying in ${backoff} ms`,
        );
        await new Promise((r) => setTimeout(r, backoff));
      } finally {
        this.leasing = false;
      }
    }
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    while (this.reporting || this.results.length > 0) await this.flushResults();
    this.c.close();
  }

  /** Stops leasing; with `cancelRunning`, aborts running jobs (they report `canceled`). */
  stop(cancelRunning = false): void {
    this.stopping = true;
    this.poll?.abort();
    this.wake();
    if (cancelRunning) for (const r of this.running.values()) r.abort.abort();
  }

  private wakeUp: (() => void) | undefined;
  /** Resolves when a job ends (or after `ms`). */
  private changed(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const t = ms === undefined ? undefined : setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
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
      .then((result) => {
        if (result) this.queueResult(result);
      })
      .catch((err: unknown) => this.log(`job ${job.id}: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.running.delete(job.id);
        this.wake();
      });
    this.running.set(job.id, { abort, done });
  }

  /** Runs a job; returns its result to report, or nothing when the lease was lost. */
  private async runOne(job: LeasedJob, abort: AbortController): Promise<JobResult | undefined> {
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
    // A lease may not carry the run's other jobs: a name no other job of the run can get.
    const slug = uniqueSlug(job.jobKey);
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
        slug,
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
    if (!shared) fs.rmSync(path.join(workspaceRoot, slug), { recursive: true, force: true });
    if (lost) {
      this.log(`job ${job.id} attempt ${job.attempt}: lease lost; result dropped`);
      return undefined;
    }
    if (canceled && outcome.status !== "canceled")
      outcome = { ...outcome, status: "canceled", reason: "canceled" };
    return { id: job.id, attempt: job.attempt, outcome, ...(logs.length > 0 ? { logs } : {}) };
  }

  /** Results not sent yet. */
  private readonly results: JobResult[] = [];
  /** A lease request (maybe a long poll) is in flight. */
  private leasing = false;
  /** `finish` requests in flight, until none is left to send... */
  private reporting: Promise<void> | undefined;
  /** ...with this many results. */
  private sending = 0;

  /**
   * Queues a result. It travels with the next lease request, which the loop sends as soon as
   * the slot is free; while a lease request is already waiting for work, it goes at once in a
   * `finish` request of its own (results that end meanwhile share the next one).
   */
  private queueResult(result: JobResult): void {
    this.results.push(result);
    if (this.leasing || this.stopping) void this.flushResults();
  }

  /** Takes queued results for one request: bounded by count and by log bytes. */
  private takeResults(): JobResult[] {
    let bytes = 0;
    let n = 0;
    while (n < this.results.length && n < MAX_RESULTS) {
      const size = (this.results[n]!.logs ?? []).reduce((a, l) => a + l.text.length, 0);
      if (n > 0 && bytes + size > MAX_RESULT_BYTES) break;
      bytes += size;
      n++;
    }
    return this.results.splice(0, n);
  }

  private settle(sent: JobResult[], answers: JobResultAnswer[]): void {
    sent.forEach((result, i) => {
      const a = answers[i];
      if (!a) this.log(`job ${result.id}: the server did not answer for its result`);
      else if ("error" in a) this.log(`job ${result.id}: ${a.error.message}`);
      else this.log(`job ${result.id} attempt ${result.attempt}: ${result.outcome.status}`);
    });
  }

  /** Sends queued results by `finish` requests, one at a time, until none is left. */
  private flushResults(): Promise<void> {
    // (Nothing to send: no request, and no promise that would settle before it is stored.)
    if (!this.reporting && this.results.length === 0) return Promise.resolve();
    this.reporting ??= (async () => {
      try {
        while (this.results.length > 0) {
          const batch = this.takeResults();
          this.sending = batch.length;
          try {
            const res = await this.c.jsonRetry<FinishBatchResponse>("POST", "/api/v1/runner/finish", {
              results: batch,
            });
            this.settle(batch, res.results);
          } catch (err) {
            // The lease expires and the server retries or fails the job ("runner lost").
            for (const b of batch)
              this.log(
                `job ${b.id}: result not delivered (${err instanceof Error ? err.message : String(err)})`,
              );
          } finally {
            this.sending = 0;
            this.wake();
          }
        }
      } finally {
        this.reporting = undefined;
      }
    })();
    return this.reporting;
  }
}
