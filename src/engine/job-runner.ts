import { createHash } from "node:crypto";
import { existsSync, mkdirSync, promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { evaluateCondition, type ConditionContext } from "../pipeline/conditions.js";
import type { BuildResult, Cache, Job, PostCondition, Step } from "../pipeline/plan.js";
import { POST_CONDITIONS } from "../pipeline/plan.js";
import type { ExecutorSession, OutputStream } from "../executors/executor.js";
import { ExecutorError } from "../executors/executor.js";
import { jobEnvironment } from "./env.js";
import type { LogStream } from "./events.js";
import { collectFiles, copyFiles, listProjectFiles, removeDir, writeTree } from "./files.js";
import { summariseJunit } from "./junit.js";
import { secretParts, writeSecretFile } from "./secrets.js";
import { LineSplitter, Masker } from "./mask.js";
import { runSteps, StepError, worse, type StepHost } from "./steps.js";
import type { JobOutcome, JobRunContext } from "./types.js";
import { expandVariables, parseDotenv, slugify } from "./variables.js";

/** Id of the synthetic job that runs a pipeline-level `post` block; its result starts as the pipeline's. */
export const PIPELINE_POST_JOB_ID = "(post)";

/** GitLab gives `after_script` five minutes of its own. */
const AFTER_SCRIPT_TIMEOUT_MS = 5 * 60_000;

/** Workspaces already created for a shared `Job.workspace` key, per run. */
const sharedWorkspaces = new Map<string, Promise<void>>();

/**
 * Runs one attempt of one job: workspace, inputs (artifacts, dotenv, cache), condition,
 * approval, executor, steps, `after_script`, post conditions, outputs. Emits events through
 * `ctx.onEvent` and never throws for a job's own failure: the outcome says how it ended.
 */
export async function runJob(ctx: JobRunContext): Promise<JobOutcome> {
  return new JobAttempt(ctx).run();
}

class JobAttempt {
  private seq = 0;
  private readonly masker = new Masker();
  private readonly started = Date.now();
  private readonly job: Job;
  private readonly slug: string;
  private workspace = "";
  /** The workspace comes from, and goes back to, `ctx.workspacePool`. */
  private pooled = false;
  private session: ExecutorSession | undefined;
  private readonly abort = new AbortController();
  private jobTimedOut = false;
  /** Set when the job's contribution to the pipeline differs from its own result (catchError). */
  private buildResult: "SUCCESS" | "UNSTABLE" | undefined;
  private readonly coverageRe: RegExp | undefined;
  private coverage: number | undefined;

  constructor(private readonly ctx: JobRunContext) {
    this.job = ctx.job;
    this.slug =
      ctx.job.workspace !== undefined ? slugify(ctx.job.workspace) : (ctx.slug ?? slugify(ctx.job.id));
    for (const v of ctx.maskValues) this.masker.add(v);
    for (const v of Object.values(ctx.job.variables))
      if (v.kind === "value" && v.masked) this.masker.add(v.value);
    this.coverageRe = coverageRegex(ctx.job.coverage);
  }

  private emitLine(stream: LogStream, text: string): void {
    if (this.coverageRe && stream !== "system") {
      const m = this.coverageRe.exec(text);
      const n = m ? Number(/\d+(?:\.\d+)?/.exec(m[1] ?? m[0])?.[0]) : NaN;
      if (!Number.isNaN(n)) this.coverage = n;
    }
    this.ctx.onEvent({
      type: "log",
      runId: this.ctx.runId,
      jobId: this.job.id,
      attempt: this.ctx.attempt,
      seq: ++this.seq,
      stream,
      text: this.masker.mask(text),
      time: Date.now(),
    });
  }

  private system(line: string): void {
    this.emitLine("system", line);
  }

  private outcome(
    status: JobOutcome["status"],
    extra: { exitCode?: number | null; reason?: string; retryable?: boolean } = {},
  ): JobOutcome {
    const allowedFailure =
      status === "failed" &&
      this.job.allowFailure &&
      (this.job.allowFailureExitCodes === undefined ||
        (extra.exitCode !== undefined &&
          extra.exitCode !== null &&
          this.job.allowFailureExitCodes.includes(extra.exitCode)));
    return {
      status,
      durationMs: Date.now() - this.started,
      allowedFailure,
      retryable: extra.retryable ?? false,
      ...(this.buildResult ? { buildResult: this.buildResult } : {}),
      ...(this.coverage !== undefined ? { coverage: this.coverage } : {}),
      ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    };
  }

  private conditionContext(env: Record<string, string>): ConditionContext {
    const git = this.ctx.git;
    const params: Record<string, string> = {};
    for (const p of this.ctx.plan.parameters) params[p.name] = env[p.name] ?? p.default ?? "";
    return {
      env,
      params,
      branch: git?.branch ?? env.BRANCH_NAME ?? "",
      tag: git?.tag ?? "",
      changedFiles: git?.changedFiles ?? [],
      changeRequest: env.CHANGE_ID !== undefined,
      causes: [env.GANTRY_TRIGGER ?? "UserIdCause"],
      currentBuild: {
        result: null,
        currentResult: this.ctx.currentResult ?? "SUCCESS",
        number: Number(env.BUILD_NUMBER ?? 1),
      },
      fileExists: (p) => existsSync(path.join(this.workspace, p)),
    };
  }

  private conditionHolds(env: Record<string, string>): boolean {
    if (!this.job.condition) return true;
    return evaluateCondition(this.job.condition, this.conditionContext(env));
  }

  async run(): Promise<JobOutcome> {
    const ctx = this.ctx;
    const onParentAbort = () => this.abort.abort();
    if (ctx.signal.aborted) return this.outcome("canceled", { reason: "cancelled" });
    ctx.signal.addEventListener("abort", onParentAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await this.runInner((t) => (timer = t));
    } catch (err) {
      const message = err instanceof ExecutorError || err instanceof StepError ? err.message : errorText(err);
      this.system(`ERROR: ${message}`);
      if (err instanceof ExecutorError && err.hint) this.system(`hint: ${err.hint}`);
      return this.outcome(ctx.signal.aborted ? "canceled" : "failed", { reason: message, retryable: true });
    } finally {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onParentAbort);
      if (this.session)
        await this.session.cleanup().catch((e) => this.system(`cleanup failed: ${errorText(e)}`));
      if (this.pooled) ctx.workspacePool!.release(this.slug, this.workspace, ctx.projectTree!);
    }
  }

  private async runInner(setTimer: (t: NodeJS.Timeout) => void): Promise<JobOutcome> {
    const { ctx, job } = this;
    const executor = ctx.executors[job.executor.kind];
    const supported = executor
      ? executor.supports(job.executor)
      : `no ${job.executor.kind} executor is configured`;
    if (supported !== true) {
      this.system(`ERROR: ${supported}`);
      return this.outcome("failed", { reason: supported });
    }

    // Inputs that do not need the workspace: dotenv of dependencies, the preliminary env.
    const dotenv: Record<string, string> = {};
    for (const dep of job.artifactsFrom) Object.assign(dotenv, await ctx.artifacts.getDotenv(dep));
    this.workspace = ctx.inPlace ? ctx.projectDir : path.join(ctx.workspaceRoot, this.slug);
    const hostEnv = jobEnvironment(this.envInputs(this.workspace), dotenv, ctx.extraEnv);

    const timing = job.conditionTiming ?? {};
    if ((timing.beforeInput || timing.beforeAgent || timing.beforeOptions) && !this.conditionHolds(hostEnv))
      return this.skipped();

    if (job.input) {
      const decision = await this.askInput(hostEnv);
      if (!decision) return this.outcome("canceled", { reason: "input rejected" });
      Object.assign(ctx.extraEnv, decision);
    }

    await this.prepareWorkspace();
    if (!this.conditionHolds(hostEnv)) return this.skipped();

    if (job.timeoutMs !== undefined) {
      setTimer(
        setTimeout(() => {
          this.jobTimedOut = true;
          this.system(`ERROR: job timed out after ${formatMs(job.timeoutMs!)}`);
          this.abort.abort();
        }, job.timeoutMs),
      );
    }

    for (const dep of job.artifactsFrom) {
      const n = await ctx.artifacts.getArtifacts(dep, this.workspace);
      if (n > 0) this.system(`Downloaded ${n} artifact file(s) from ${dep}`);
    }
    const cacheKeys = await this.restoreCaches(hostEnv);

    this.session = await executor!.prepare(
      {
        runId: ctx.runId,
        jobId: job.id,
        slug: this.slug,
        attempt: ctx.attempt,
        spec: job.executor,
        workspace: this.workspace,
        env: hostEnv, // services get the job's variables too (GitLab)
        log: (l) => this.system(l),
      },
      this.abort.signal,
    );
    // Credentials first: a variable such as `URL = "https://${TOKEN}@host"` refers to them.
    const credentials = await this.credentials();
    const env = jobEnvironment(this.envInputs(this.session.workdir), dotenv, ctx.extraEnv, credentials);

    const host = this.stepHost(this.session, env);
    if (job.id === PIPELINE_POST_JOB_ID) host.result = host.buildResult = ctx.currentResult ?? "SUCCESS";
    let failure: StepError | undefined;
    try {
      await runSteps(job.steps, host, { cwd: "", env: {} });
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      failure = err;
      if (err.kind !== "canceled") this.system(`ERROR: ${err.message}`);
    }
    const canceled = ctx.signal.aborted || (failure?.kind === "canceled" && !this.jobTimedOut);
    let result: BuildResult = canceled ? "ABORTED" : failure || this.jobTimedOut ? "FAILURE" : host.result;
    let contribution: BuildResult = canceled
      ? "ABORTED"
      : failure || this.jobTimedOut
        ? "FAILURE"
        : host.buildResult;

    if (job.afterSteps.length > 0 && !ctx.signal.aborted) await this.runAfterSteps(env, result);
    if (!ctx.signal.aborted) {
      const before = result;
      result = await this.runPost(host, result);
      if (result !== before) contribution = worse(contribution, result);
    } else if (ctx.signal.reason === "failFast" && !ctx.runSignal?.aborted) {
      // Aborted because another parallel branch failed: Jenkins still runs this branch's
      // post blocks (aborted, always, cleanup), in a fresh session.
      await this.runPostAfterFailFast(env);
    }
    if (contribution !== result && (contribution === "SUCCESS" || contribution === "UNSTABLE"))
      this.buildResult = contribution;

    await this.saveOutputs(host, result, env, cacheKeys);

    const exitCode = failure?.exitCode;
    if (result === "SUCCESS") return this.outcome("success");
    if (result === "UNSTABLE") return this.outcome("unstable");
    if (result === "ABORTED") return this.outcome("canceled", { reason: "cancelled" });
    const reason = this.jobTimedOut
      ? `timed out after ${formatMs(job.timeoutMs ?? 0)}`
      : (failure?.message ?? "failed");
    return this.outcome("failed", {
      ...(exitCode !== undefined ? { exitCode } : {}),
      reason,
      retryable: this.retryable(exitCode),
    });
  }

  private async runPostAfterFailFast(env: Record<string, string>): Promise<void> {
    const { ctx, job } = this;
    if (!Object.values(job.post).some((s) => s && s.length > 0)) return;
    const executor = ctx.executors[job.executor.kind];
    if (!executor) return;
    const postAbort = new AbortController();
    const onRunAbort = () => postAbort.abort();
    ctx.runSignal?.addEventListener("abort", onRunAbort, { once: true });
    let session: ExecutorSession | undefined;
    try {
      session = await executor.prepare(
        {
          runId: ctx.runId,
          jobId: job.id,
          slug: `${this.slug}-post`,
          attempt: ctx.attempt,
          spec: job.executor,
          workspace: this.workspace,
          env,
          log: (l) => this.system(l),
        },
        postAbort.signal,
      );
      await this.runPost(this.stepHost(session, env, postAbort.signal), "ABORTED");
    } finally {
      ctx.runSignal?.removeEventListener("abort", onRunAbort);
      await session?.cleanup().catch(() => undefined);
    }
  }

  private skipped(): JobOutcome {
    this.system(`Stage "${this.job.name}" skipped due to when conditional`);
    return this.outcome("skipped", { reason: "when condition is false" });
  }

  private retryable(exitCode: number | null | undefined): boolean {
    const r = this.job.retry;
    if (r.max <= 0) return false;
    if (r.exitCodes && r.exitCodes.length > 0)
      return exitCode !== undefined && exitCode !== null && r.exitCodes.includes(exitCode);
    if (this.jobTimedOut)
      return r.when.length === 0 || r.when.includes("always") || r.when.includes("job_execution_timeout");
    return r.when.length === 0 || r.when.includes("always") || r.when.includes("script_failure");
  }

  private envInputs(workdir: string) {
    return {
      plan: this.ctx.plan,
      job: this.job,
      runId: this.ctx.runId,
      attempt: this.ctx.attempt,
      workdir,
      ...(this.ctx.git ? { git: this.ctx.git } : {}),
    };
  }

  private async askInput(env: Record<string, string>): Promise<Record<string, string> | undefined> {
    const { ctx, job } = this;
    const input = job.input!;
    const message = expandVariables(input.message, (n) => env[n]);
    const parameters = input.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(p.choices ? { choices: p.choices } : {}),
    }));
    ctx.onEvent({
      type: "input.requested",
      runId: ctx.runId,
      jobId: job.id,
      message,
      ok: input.ok,
      ...(input.submitter ? { submitter: input.submitter } : {}),
      parameters,
    });
    this.system(`Input requested: ${message}`);
    if (!ctx.approvals) {
      this.system("ERROR: this stage waits for an approval and none can be given here");
      ctx.onEvent({ type: "input.resolved", runId: ctx.runId, jobId: job.id, approved: false, by: "gantry" });
      return undefined;
    }
    const d = await ctx.approvals(
      {
        jobId: job.id,
        jobName: job.name,
        message,
        ok: input.ok,
        ...(input.submitter ? { submitter: input.submitter } : {}),
        parameters,
      },
      this.abort.signal,
    );
    ctx.onEvent({ type: "input.resolved", runId: ctx.runId, jobId: job.id, approved: d.approved, by: d.by });
    if (!d.approved) {
      this.system(`Rejected by ${d.by}`);
      return undefined;
    }
    this.system(`Approved by ${d.by}`);
    const vars: Record<string, string> = {};
    for (const p of input.parameters) vars[p.name] = d.params[p.name] ?? p.default ?? "";
    if (input.submitterParameter) vars[input.submitterParameter] = d.by;
    return vars;
  }

  private async prepareWorkspace(): Promise<void> {
    const { ctx, job } = this;
    if (ctx.inPlace) return;
    if (job.workspace === undefined && ctx.workspacePool && ctx.projectTree) {
      this.pooled = true;
      if (ctx.workspacePool.claim(this.slug, this.workspace, ctx.projectTree)) return;
    }
    const create = async () => {
      await makeEmptyDir(this.workspace);
      if (ctx.projectTree) writeTree(this.workspace, ctx.projectTree);
      else
        await copyFiles(
          ctx.projectDir,
          this.workspace,
          ctx.projectFiles ?? (await listProjectFiles(ctx.projectDir)),
        );
    };
    if (job.workspace === undefined) return create();
    const key = `${ctx.runId}\0${job.workspace}`;
    let ready = sharedWorkspaces.get(key);
    if (!ready) {
      ready = create();
      sharedWorkspaces.set(key, ready);
    }
    return ready;
  }

  private cacheKey(cache: Cache, env: Record<string, string>): string {
    if (typeof cache.key === "string") return expandVariables(cache.key, (n) => env[n]) || "default";
    const hash = createHash("sha256");
    for (const f of cache.key.files) {
      try {
        // Synchronous on purpose: a few small lock files, once per job.
        hash.update(f).update(readFileSync(path.join(this.workspace, f)));
      } catch {
        hash.update(`${f}:missing`);
      }
    }
    const prefix = cache.key.prefix ? `${expandVariables(cache.key.prefix, (n) => env[n])}-` : "";
    return `${prefix}${hash.digest("hex").slice(0, 16)}`;
  }

  private async restoreCaches(env: Record<string, string>): Promise<string[]> {
    const keys: string[] = [];
    for (const cache of this.job.cache) {
      const key = this.cacheKey(cache, env);
      keys.push(key);
      if (cache.policy === "push") continue;
      const candidates = [key, ...(cache.fallbackKeys ?? []).map((k) => expandVariables(k, (n) => env[n]))];
      for (const k of candidates) {
        if (await this.ctx.cache.restore(k, this.workspace)) {
          this.system(`Restored cache "${k}"`);
          break;
        }
      }
    }
    return keys;
  }

  /** The job's credential variables (name → value or file path); their secrets are masked. */
  private async credentials(): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    for (const [name, v] of Object.entries(this.job.variables)) {
      if (v.kind !== "credential") continue;
      const secret = await this.ctx.secrets(v.id);
      if (!secret) {
        throw new StepError(`credential "${v.id}" (for ${name}) is not defined`, null, "failed");
      }
      const { whole, user, pass } = secretParts(secret);
      let value: string;
      switch (v.part) {
        case "username":
          value = user;
          break;
        case "password":
          value = pass;
          this.masker.add(value);
          break;
        case "file":
          value = await writeSecretFile(this.workspace, v.id, whole);
          this.masker.add(whole);
          break;
        default:
          value = whole;
          this.masker.add(whole);
          if (pass) this.masker.add(pass);
      }
      env[name] = value;
    }
    return env;
  }

  private stepHost(
    session: ExecutorSession,
    env: Record<string, string>,
    signal = this.abort.signal,
  ): StepHost {
    const splitters: Record<OutputStream, LineSplitter> = {
      stdout: new LineSplitter((l) => this.emitLine("stdout", l)),
      stderr: new LineSplitter((l) => this.emitLine("stderr", l)),
    };
    const { ctx, job } = this;
    return {
      session,
      workspace: this.workspace,
      jobId: job.id,
      traceShell: ctx.plan.format === "jenkins",
      baseEnv: env,
      artifacts: ctx.artifacts,
      secrets: ctx.secrets,
      signal,
      output: (stream, chunk) => splitters[stream].push(chunk),
      flush: () => {
        splitters.stdout.flush();
        splitters.stderr.flush();
      },
      system: (l) => this.system(l),
      print: (l) => this.emitLine("stdout", l),
      addMask: (v) => this.masker.add(v),
      archived: new Set(),
      result: "SUCCESS",
      buildResult: "SUCCESS",
      onStep: (name, index, phase, ok, ms) => {
        const base = { runId: ctx.runId, jobId: job.id, attempt: ctx.attempt, index, name, time: Date.now() };
        ctx.onEvent(
          phase === "start"
            ? { type: "step.started", ...base }
            : { type: "step.finished", ...base, ok, durationMs: ms },
        );
      },
      runScan: async (step, cwd) => {
        // Loaded on first use: the scanner is large and most pipelines never scan.
        const { runScanStep } = await import("../scan/step.js");
        const r = await runScanStep(step, {
          workspace: path.join(this.workspace, cwd),
          log: (l) => this.system(l),
        });
        const rel = path.relative(this.workspace, r.reportPath);
        if (!rel.startsWith("..")) this.hostArchived.add(rel);
        return r;
      },
      runDockerBuild: async (step, cwd, stepEnv) => {
        // Loaded on first use, like the scanner: only pipelines that build images need dockerode.
        const { runDockerBuildStep } = await import("../executors/docker/build.js");
        const log = (l: string) => this.system(l);
        const o = {
          workspace: path.join(this.workspace, cwd),
          env: stepEnv,
          log,
          signal: this.abort.signal,
          secrets: ctx.secrets,
        };
        await runDockerBuildStep(step, o);
      },
    };
  }

  /** Reports of steps (scan) kept as artifacts whatever the outcome. */
  private readonly hostArchived = new Set<string>();

  private async runAfterSteps(env: Record<string, string>, result: BuildResult): Promise<void> {
    if (!this.session) return;
    const status =
      result === "SUCCESS" || result === "UNSTABLE"
        ? "success"
        : result === "ABORTED"
          ? "canceled"
          : "failed";
    this.system("Running after_script");
    const host = this.stepHost(this.session, { ...env, CI_JOB_STATUS: status });
    try {
      await runSteps(this.job.afterSteps, host, {
        cwd: "",
        env: {},
        deadline: Date.now() + AFTER_SCRIPT_TIMEOUT_MS,
      });
    } catch (err) {
      if (!(err instanceof StepError)) throw err;
      this.system(`WARNING: after_script failed: ${err.message}`);
    }
  }

  private postApplies(cond: PostCondition, result: BuildResult): boolean {
    const prev = this.ctx.previousResult;
    switch (cond) {
      case "always":
      case "cleanup":
        return true;
      case "changed":
        return prev !== undefined && prev !== result;
      case "fixed":
        return result === "SUCCESS" && (prev === "FAILURE" || prev === "UNSTABLE");
      case "regression":
        return prev === "SUCCESS" && (result === "FAILURE" || result === "UNSTABLE" || result === "ABORTED");
      case "aborted":
        return result === "ABORTED";
      case "success":
        return result === "SUCCESS";
      case "unsuccessful":
        return result !== "SUCCESS";
      case "unstable":
        return result === "UNSTABLE";
      case "failure":
        return result === "FAILURE";
    }
  }

  private async runPost(host: StepHost, result: BuildResult): Promise<BuildResult> {
    const post = this.job.post;
    let current = result;
    for (const cond of POST_CONDITIONS) {
      const steps: Step[] | undefined = post[cond];
      if (!steps || steps.length === 0 || !this.postApplies(cond, result)) continue;
      this.system(`Post stage: ${cond}`);
      try {
        await runSteps(steps, host, { cwd: "", env: {} });
        current = worse(current, host.result);
      } catch (err) {
        if (!(err instanceof StepError)) throw err;
        this.system(`ERROR: ${err.message}`);
        current = worse(current, "FAILURE");
      }
    }
    return current;
  }

  private async saveOutputs(
    host: StepHost,
    result: BuildResult,
    env: Record<string, string>,
    cacheKeys: string[],
  ): Promise<void> {
    const { ctx, job } = this;
    const ok = result === "SUCCESS" || result === "UNSTABLE";
    const applies = (when: "on_success" | "on_failure" | "always") =>
      when === "always" || (when === "on_success" ? ok : !ok && result !== "ABORTED");
    const files = new Set([...host.archived, ...this.hostArchived]);
    const a = job.artifacts;
    if (a && applies(a.when)) {
      const expand = (p: string) => {
        const e = expandVariables(p, (n) => env[n]);
        // `$CI_PROJECT_DIR/path` is the workspace root.
        return e.startsWith(`${this.session?.workdir ?? this.workspace}/`)
          ? e.slice((this.session?.workdir ?? this.workspace).length + 1)
          : e;
      };
      const found = await collectFiles(
        this.workspace,
        [...a.paths, ...a.reports.junit, ...a.reports.dotenv].map(expand),
        a.exclude.map(expand),
      );
      for (const f of found) files.add(f);
      if (a.paths.length > 0 && found.length === 0)
        this.system(`WARNING: no files match the artifact paths ${a.paths.join(", ")}`);
      const dotenv: Record<string, string> = {};
      for (const f of await collectFiles(this.workspace, a.reports.dotenv.map(expand))) {
        Object.assign(dotenv, parseDotenv(await fs.readFile(path.join(this.workspace, f), "utf8")));
      }
      if (Object.keys(dotenv).length > 0) await ctx.artifacts.putDotenv(job.id, dotenv);
      const reports = await collectFiles(this.workspace, a.reports.junit.map(expand));
      if (reports.length > 0) {
        const t = await summariseJunit(this.workspace, reports);
        this.system(
          `Test report: ${t.tests} tests, ${t.failures} failures, ${t.errors} errors, ${t.skipped} skipped`,
        );
      }
    }
    if (files.size > 0) {
      await ctx.artifacts.putArtifacts(job.id, this.workspace, [...files]);
      this.system(`Uploaded ${files.size} artifact file(s)`);
      ctx.onEvent({
        type: "artifact",
        runId: ctx.runId,
        jobId: job.id,
        attempt: ctx.attempt,
        name: a?.name ?? "artifacts",
        path: job.id,
        size: files.size,
      });
    }
    for (const [i, cache] of job.cache.entries()) {
      if (cache.policy === "pull" || !applies(cache.when)) continue;
      const cfiles = await collectFiles(
        this.workspace,
        cache.paths.map((p) => expandVariables(p, (n) => env[n])),
      );
      if (cfiles.length === 0) continue;
      await ctx.cache.save(cacheKeys[i] ?? "default", this.workspace, cfiles);
      this.system(`Saved cache "${cacheKeys[i]}" (${cfiles.length} file(s))`);
    }
  }
}

/** GitLab writes coverage regexes as `/.../`; a bad one is ignored rather than failing the job. */
function coverageRegex(source: string | undefined): RegExp | undefined {
  if (!source) return undefined;
  const m = /^\/(.*)\/([a-z]*)$/s.exec(source);
  try {
    return m ? new RegExp(m[1]!, m[2]!.replace(/[^imsu]/g, "")) : new RegExp(source);
  } catch {
    return undefined;
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m}m ${s}s` : `${m}m`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Creates `dir` empty. Usually new (a run's workspaces start empty, their parent exists): one
 * system call. Only an earlier attempt's workspace needs removing first.
 */
async function makeEmptyDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      await removeDir(dir);
      mkdirSync(dir, { recursive: true });
    } else if (code === "ENOENT") mkdirSync(dir, { recursive: true });
    else throw err;
  }
}
