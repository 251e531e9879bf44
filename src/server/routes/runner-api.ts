import { PIPELINE_POST_JOB_ID } from "../../engine/job-runner.js";
import fs from "node:fs";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { HttpError, conflict, notFound } from "../http-error.js";
import type { Caller } from "../auth.js";
import {
  PROTOCOL_VERSION,
  type FinishBatchResponse,
  type JobResult,
  type JobResultAnswer,
  type LeaseInfo,
  type LeaseResponse,
  type LeasedJob,
} from "../../runner/protocol.js";
import { getRunner, registerRunner, touchRunner } from "../../store/runners.js";
import { heartbeat } from "../../store/queue.js";
import { finishJobs, leaseJobs, type Lease } from "../../store/lease.js";
import { appendLog } from "../../store/logs.js";
import { getJob, getPipeline, type JobRow } from "../../store/pipelines.js";
import { projectById } from "../../store/projects.js";
import { resolveSecret } from "../../store/secrets.js";
import { artifactDir, cacheDir, listTree, safeJoin, stashDir } from "../files.js";
import type { Plan } from "../../pipeline/plan.js";
import { MASK } from "../../engine/mask.js";
import { refVariables } from "../ref-variables.js";
import { BadExpiry, artifactExpiry } from "../artifact-expiry.js";

const attemptBody = z.object({ attempt: z.number().int().positive() });
const outcome = z.object({
  status: z.enum(["success", "unstable", "failed", "canceled", "skipped"]),
  exitCode: z.number().int().nullable().optional(),
  reason: z.string().max(10_000).optional(),
  durationMs: z.number().min(0),
  allowedFailure: z.boolean(),
  retryable: z.boolean(),
});

/** Results of several job attempts (`finish`, or carried by `lease`). */
const results = z
  .array(
    z.object({
      id: z.number().int().positive(),
      attempt: z.number().int().positive(),
      outcome,
      logs: z
        .array(z.object({ seq: z.number().int().positive(), text: z.string() }))
        .max(64)
        .optional(),
    }),
  )
  .max(64);

const SOURCES: Record<string, string> = {
  api: "api",
  push: "push",
  schedule: "schedule",
  retry: "api",
  manual: "web",
};

function runnerId(c: Caller): number {
  if (c.kind !== "runner") throw new HttpError(401, "unauthorized", "a runner token is required");
  return c.runnerId;
}

/** The runner protocol (see `src/runner/protocol.ts`). */
export function runnerRoutes(s: Services): RouteDef[] {
  // Plans are immutable once stored: parse each once (one load even when many leases ask at
  // once, as every runner does when a big pipeline starts), and hand each runner only its job.
  type PlanEntry = { plan: Plan; jobs: Map<string, Plan["jobs"][number]>; byKey: Map<string, Plan> };
  const plans = new Map<number, Promise<PlanEntry | undefined>>();
  const planFor = async (pipelineId: number, key: string): Promise<Plan | undefined> => {
    let pending = plans.get(pipelineId);
    if (!pending) {
      pending = (async () => {
        const row = await s.db.k
          .selectFrom("pipelines")
          .select("plan")
          .where("id", "=", pipelineId)
          .executeTakeFirst();
        if (!row?.plan) return undefined;
        const plan = JSON.parse(row.plan) as Plan;
        return { plan, jobs: new Map(plan.jobs.map((j) => [j.id, j])), byKey: new Map() };
      })();
      if (plans.size > 50) plans.delete(plans.keys().next().value!);
      plans.set(pipelineId, pending);
      // A plan not stored yet, or a failed read, is asked again next time.
      void pending.then(
        (e) => e ?? plans.delete(pipelineId),
        () => plans.delete(pipelineId),
      );
    }
    const entry = await pending;
    if (!entry) return undefined;
    let trimmed = entry.byKey.get(key);
    if (!trimmed) {
      const job = entry.jobs.get(key);
      trimmed = { ...entry.plan, jobs: job ? [job] : [] };
      entry.byKey.set(key, trimmed);
    }
    return trimmed;
  };
  // The result of the pipeline before, per pipeline (Jenkins `changed`/`fixed`); fixed once asked.
  const previousResults = new Map<number, LeasedJob["previousResult"] | null>();
  const previousResult = async (projectId: number, ref: string, pipelineId: number) => {
    let r = previousResults.get(pipelineId);
    if (r === undefined) {
      const prev = await s.db.k
        .selectFrom("pipelines")
        .select("status")
        .where("project_id", "=", projectId)
        .where("ref", "=", ref)
        .where("id", "<", pipelineId)
        .where("status", "in", ["success", "unstable", "failed", "canceled"])
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      r = prev
        ? ({ success: "SUCCESS", unstable: "UNSTABLE", failed: "FAILURE", canceled: "ABORTED" } as const)[
            prev.status as "success"
          ]
        : null;
      if (previousResults.size > 1000) previousResults.delete(previousResults.keys().next().value!);
      previousResults.set(pipelineId, r);
    }
    return r ?? undefined;
  };
  const lastSeen = new Map<number, number>();
  const seen = async (id: number) => {
    const now = Date.now();
    if (now - (lastSeen.get(id) ?? 0) < 5_000) return;
    lastSeen.set(id, now);
    await touchRunner(s.db, id);
  };

  // A pipeline's ref, commit and trigger never change; a project's repo or default branch may
  // (admin API), so it is read again after a few seconds.
  type PipelineMeta = {
    ref: string;
    sha: string;
    trigger: string;
    created_by: string;
    created_at: number;
    ref_kind: string | null;
  };
  const pipelineMetas = new Map<number, PipelineMeta>();
  const pipelineMeta = async (id: number): Promise<PipelineMeta | undefined> => {
    const hit = pipelineMetas.get(id);
    if (hit) return hit;
    const row = await s.db.k
      .selectFrom("pipelines")
      .select(["ref", "sha", "trigger", "created_by", "created_at", "ref_kind"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) return undefined;
    if (pipelineMetas.size > 1000) pipelineMetas.delete(pipelineMetas.keys().next().value!);
    pipelineMetas.set(id, row);
    return row;
  };
  const projects = new Map<
    number,
    { until: number; row: Promise<Awaited<ReturnType<typeof projectById>>> }
  >();
  const projectOf = (id: number) => {
    const now = Date.now();
    let hit = projects.get(id);
    if (!hit || hit.until < now) {
      hit = { until: now + 5_000, row: projectById(s.db, id) };
      hit.row.catch(() => projects.delete(id));
      if (projects.size > 1000) projects.clear();
      projects.set(id, hit);
    }
    return hit.row;
  };

  async function describe(l: Lease): Promise<LeasedJob> {
    const [p, project, plan] = await Promise.all([
      pipelineMeta(l.pipelineId),
      projectOf(l.projectId),
      planFor(l.pipelineId, l.key),
    ]);
    const j = { key: l.key, decision: l.decision };
    if (!p || !plan || !project) throw new Error(`job ${l.jobId} lost its pipeline or project`);
    const url = s.cfg.publicUrl.replace(/\/$/, "");
    const pid = String(l.pipelineId);
    const env: Record<string, string> = {
      CI: "true",
      CI_SERVER: "yes",
      CI_SERVER_URL: url,
      GANTRY_SERVER_URL: url,
      CI_PIPELINE_ID: pid,
      CI_PIPELINE_IID: pid,
      CI_PIPELINE_URL: `${url}/pipelines/${pid}`,
      CI_PIPELINE_SOURCE: SOURCES[p.trigger] ?? "api",
      CI_JOB_ID: String(l.jobId),
      CI_JOB_URL: `${url}/jobs/${l.jobId}`,
      CI_COMMIT_SHA: p.sha,
      CI_COMMIT_SHORT_SHA: p.sha.slice(0, 8),
      ...refVariables(p.ref, p.ref_kind),
      CI_DEFAULT_BRANCH: project.default_branch,
      CI_PROJECT_NAME: project.name,
      CI_PROJECT_PATH: project.name,
      GITLAB_USER_LOGIN: p.created_by,
      GIT_COMMIT: p.sha,
      BUILD_NUMBER: pid,
      BUILD_ID: pid,
      BUILD_URL: `${url}/pipelines/${pid}`,
      GANTRY_TRIGGER: p.trigger,
    };
    const decision = j.decision ? (JSON.parse(j.decision) as LeasedJob["decision"]) : undefined;
    if (decision) {
      Object.assign(env, decision.params);
      const param = plan.jobs.find((x) => x.id === j.key)?.input?.submitterParameter;
      if (param) env[param] = decision.by;
    }
    const previous = await previousResult(l.projectId, p.ref, l.pipelineId);
    // The pipeline-level post job starts from the result of every other job.
    let current: LeasedJob["currentResult"];
    if (l.key === PIPELINE_POST_JOB_ID) {
      const rows = await s.db.k
        .selectFrom("jobs")
        .select(["status", "allow_failure"])
        .where("pipeline_id", "=", l.pipelineId)
        .where("key", "!=", l.key)
        .execute();
      current = rows.some(
        (r) => (r.status === "failed" && !Number(r.allow_failure)) || r.status === "canceled",
      )
        ? "FAILURE"
        : rows.some((r) => r.status === "unstable")
          ? "UNSTABLE"
          : "SUCCESS";
    }
    return {
      id: l.jobId,
      runId: `p${l.pipelineId}-${Number(p.created_at).toString(36)}`,
      attempt: l.attempt,
      pipelineId: l.pipelineId,
      project: project.name,
      repo: project.repo,
      sha: p.sha,
      ref: p.ref,
      ...(p.ref_kind === "tag" || p.ref_kind === "commit" ? { refKind: p.ref_kind } : {}),
      plan,
      jobKey: l.key,
      extraEnv: env,
      maskValues: [],
      ...(decision ? { decision } : {}),
      ...(previous ? { previousResult: previous } : {}),
      ...(current ? { currentResult: current } : {}),
      leaseExpiresAt: l.leaseExpiresAt,
    };
  }

  const masked = (jobId: number, text: string): string => {
    const secrets = s.jobSecrets.get(jobId);
    if (secrets) for (const v of secrets) if (v.length >= 3) text = text.split(v).join(MASK);
    return text;
  };

  /** Stores results (see `finishJobs`) and answers each: stored, a duplicate, or refused. */
  async function report(rid: number, results: JobResult[]): Promise<JobResultAnswer[]> {
    const out = await finishJobs(
      s.db,
      rid,
      results.map((r) => ({
        jobId: r.id,
        attempt: r.attempt,
        outcome: r.outcome,
        ...(r.logs ? { logs: r.logs.map((l) => ({ seq: l.seq, text: masked(r.id, l.text) })) } : {}),
      })),
    );
    const answers = results.map((item, i): JobResultAnswer => {
      const r = out[i]!;
      if (r.kind === "stale") {
        // The same result sent again (its first answer was lost): nothing to do.
        if (r.attempt === item.attempt && r.status === item.outcome.status)
          return { id: item.id, status: r.status, retried: false, duplicate: true };
        return {
          id: item.id,
          error: {
            code: "lease_lost",
            message: `job ${item.id} attempt ${item.attempt} is ${r.status}; result refused`,
          },
        };
      }
      s.jobSecrets.delete(item.id);
      s.metrics.jobDuration.observe({ status: item.outcome.status }, item.outcome.durationMs / 1000);
      for (const l of item.logs ?? []) s.metrics.logBytes.inc(Buffer.byteLength(l.text));
      if (r.pipelineFinished) s.metrics.pipelines.inc({ status: r.pipelineFinished });
      s.bus.jobChanged(item.id);
      return { id: item.id, status: r.status, retried: r.retried };
    });
    s.bus.workAvailable();
    return answers;
  }

  /** The job, if this runner holds it now (else 409: the lease was lost). */
  async function held(caller: Caller, jobId: number): Promise<JobRow> {
    const j = await getJob(s.db, jobId);
    if (!j) throw notFound(`job ${jobId}`);
    if (j.status !== "running" || Number(j.runner_id) !== runnerId(caller))
      throw conflict(`this runner does not hold job ${jobId} (it is ${j.status})`);
    return j;
  }
  async function dep(j: JobRow, key: string): Promise<JobRow> {
    const d = await s.db.k
      .selectFrom("jobs")
      .selectAll()
      .where("pipeline_id", "=", j.pipeline_id)
      .where("key", "=", key)
      .executeTakeFirst();
    if (!d) throw notFound(`job "${key}" in pipeline ${j.pipeline_id}`);
    return d;
  }

  async function receive(body: unknown, file: string): Promise<number> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.part-${process.pid}-${Math.random().toString(36).slice(2)}`;
    let size = 0;
    const limit = s.cfg.artifactLimit;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > limit)
          cb(new HttpError(413, "payload_too_large", `the file is larger than ${limit} bytes`));
        else cb(null, chunk);
      },
    });
    try {
      if (Buffer.isBuffer(body)) {
        fs.writeFileSync(tmp, body);
        size = body.length;
      } else await pipeline(body as Readable, counter, fs.createWriteStream(tmp));
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    return size;
  }

  /** list / get / put / clear for a folder of files a runner exchanges (stash, cache). */
  const bucket = (kind: "stash" | "cache", dirOf: (j: JobRow, name: string) => string): RouteDef[] => {
    const q = z.object({ name: z.string().min(1).max(1024) });
    const qf = q.extend({ path: z.string().min(1).max(4096) });
    const base = `/api/v1/runner/jobs/:id/${kind}`;
    const access = { kind: "runner" } as const;
    return [
      defineRoute({
        method: "GET",
        url: base,
        summary: `List a ${kind}'s files (404 when there is none)`,
        tag: "runner",
        access,
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: q,
        handler: async ({ params, query, caller }) => {
          const files = listTree(dirOf(await held(caller, params.id), query.name));
          if (files.length === 0) throw notFound(`${kind} "${query.name}"`);
          return { files };
        },
      }),
      defineRoute({
        method: "GET",
        url: `${base}/file`,
        summary: `Download one file of a ${kind}`,
        tag: "runner",
        access,
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: qf,
        produces: "application/octet-stream",
        handler: async ({ params, query, caller, reply }) => {
          const file = safeJoin(dirOf(await held(caller, params.id), query.name), query.path);
          if (!fs.existsSync(file)) throw notFound(`file "${query.path}"`);
          reply.header("content-type", "application/octet-stream");
          return fs.createReadStream(file);
        },
      }),
      defineRoute({
        method: "PUT",
        url: `${base}/file`,
        summary: `Upload one file of a ${kind}`,
        tag: "runner",
        access,
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: qf,
        consumes: "application/octet-stream",
        handler: async ({ params, query, caller, body }) => {
          await receive(body, safeJoin(dirOf(await held(caller, params.id), query.name), query.path));
          return { ok: true };
        },
      }),
      defineRoute({
        method: "DELETE",
        url: base,
        summary: `Empty a ${kind} before uploading it again`,
        tag: "runner",
        access,
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: q,
        handler: async ({ params, query, caller }) => {
          fs.rmSync(dirOf(await held(caller, params.id), query.name), { recursive: true, force: true });
          return { ok: true };
        },
      }),
    ];
  };

  const id = z.object({ id: z.coerce.number().int().positive() });
  const access = { kind: "runner" } as const;
  return [
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/register",
      summary: "A runner introduces itself: protocol version, labels, executors",
      tag: "runner",
      access,
      body: z.object({
        protocolVersion: z.number().int(),
        name: z.string().max(200),
        labels: z.array(z.string().max(100)).max(100),
        executors: z.array(z.string().max(50)).max(10),
        concurrency: z.number().int().min(1).max(1024),
        version: z.string().max(100),
      }),
      handler: async ({ body, caller }): Promise<LeaseInfo> => {
        if (body.protocolVersion !== PROTOCOL_VERSION)
          throw new HttpError(
            426,
            "protocol_mismatch",
            `runner protocol version ${body.protocolVersion} is not supported by this server (protocol ${PROTOCOL_VERSION}); install the same Gantry version on the runner and the server`,
            {
              server: PROTOCOL_VERSION,
              runner: body.protocolVersion,
            },
          );
        const rid = runnerId(caller);
        const row = await getRunner(s.db, rid);
        // Labels set by an admin when the runner was created are kept; the runner adds its own.
        const labels = [
          ...new Set([...(row ? (JSON.parse(row.labels) as string[]) : []), ...body.labels]),
        ].sort();
        await registerRunner(s.db, rid, { labels, executors: body.executors, version: body.version });
        // Leases match jobs against the cached caller's labels and executors: drop the stale copy.
        s.auth.invalidate();
        s.log.info({ runner: rid, name: body.name, labels, executors: body.executors }, "runner registered");
        return {
          runnerId: rid,
          protocolVersion: PROTOCOL_VERSION,
          leaseMs: s.cfg.leaseMs,
          heartbeatMs: Math.max(100, Math.floor(s.cfg.leaseMs / 3)),
        };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/lease",
      summary: "Long-poll for jobs this runner can run",
      tag: "runner",
      access,
      body: z.object({
        slots: z.number().int().min(1).max(64),
        waitMs: z.number().int().min(0).max(120_000),
        results: results.optional(),
      }),
      handler: async ({ body, caller, req }): Promise<LeaseResponse> => {
        const rid = runnerId(caller);
        await seen(rid);
        if (caller.kind !== "runner") throw new HttpError(401, "unauthorized", "a runner token is required");
        const abilities = { runnerId: rid, labels: caller.labels, executors: caller.executors };
        // Results first (their own transaction): a lease that carries them answers without waiting.
        const answers = body.results?.length ? await report(rid, body.results) : undefined;
        const wait = answers ? 0 : Math.min(body.waitMs, s.cfg.maxLeaseWaitMs);
        const deadline = Date.now() + wait;
        let gone = false;
        req.raw.once("close", () => (gone = true));
        for (;;) {
          const leases = await leaseJobs(s.db, abilities, body.slots, s.cfg.leaseMs);
          if (leases.length > 0) {
            const now = Date.now();
            for (const l of leases) {
              if (l.queuedAt) s.metrics.queueWait.observe((now - l.queuedAt) / 1000);
              s.bus.jobChanged(l.jobId);
            }
            return {
              jobs: await Promise.all(leases.map(describe)),
              ...(answers ? { results: answers } : {}),
            };
          }
          const left = deadline - Date.now();
          if (left <= 0 || gone) return { jobs: [], ...(answers ? { results: answers } : {}) };
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(t);
              s.bus.off("queue", done);
              resolve();
            };
            const t = setTimeout(done, Math.min(left, 1_000));
            s.bus.once("queue", done);
          });
        }
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/jobs/:id/heartbeat",
      summary: "Extend a job's lease; answers whether it was canceled",
      tag: "runner",
      access,
      params: id,
      body: attemptBody,
      handler: async ({ params, body, caller }) => {
        const rid = runnerId(caller);
        await seen(rid);
        const r = await heartbeat(s.db, rid, params.id, body.attempt, s.cfg.leaseMs);
        if (r.kind === "lost")
          throw conflict(
            `the lease of job ${params.id} attempt ${body.attempt} is lost (the job is ${r.status}); stop running it`,
          );
        return { leaseExpiresAt: r.leaseExpiresAt, cancel: r.cancel };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/jobs/:id/logs",
      summary: "Append one ordered batch of log text",
      tag: "runner",
      access,
      params: id,
      body: z.object({
        attempt: z.number().int().positive(),
        seq: z.number().int().positive(),
        text: z.string(),
      }),
      handler: async ({ params, body, caller }) => {
        let text = body.text;
        const secrets = s.jobSecrets.get(params.id);
        if (secrets) for (const v of secrets) if (v.length >= 3) text = text.split(v).join(MASK);
        const r = await appendLog(s.db, params.id, body.attempt, body.seq, text, runnerId(caller));
        if (r.kind === "stale")
          throw conflict(`job ${params.id} attempt ${body.attempt} is not running; log refused`);
        if (!r.duplicate) s.metrics.logBytes.inc(r.size);
        s.bus.jobChanged(params.id);
        return { offset: r.offset };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/jobs/:id/finish",
      summary: "Report how a job attempt ended",
      tag: "runner",
      access,
      params: id,
      body: z.object({ attempt: z.number().int().positive(), outcome }),
      handler: async ({ params, body, caller }) => {
        const [a] = await report(runnerId(caller), [{ id: params.id, ...body }]);
        if (!a || "error" in a) throw conflict(a?.error.message ?? `job ${params.id}: result refused`);
        return { status: a.status, retried: a.retried };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runner/finish",
      summary: "Report how several job attempts ended, each with its last log batches (one transaction)",
      tag: "runner",
      access,
      body: z.object({ results: results.min(1) }),
      handler: async ({ body, caller }): Promise<FinishBatchResponse> => ({
        results: await report(runnerId(caller), body.results),
      }),
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/runner/jobs/:id/artifacts",
      summary: "Forget the job's artifacts before an upload",
      tag: "runner",
      access,
      params: id,
      handler: async ({ params, caller }) => {
        await held(caller, params.id);
        await s.db.k.deleteFrom("artifacts").where("job_id", "=", params.id).execute();
        fs.rmSync(artifactDir(s.cfg.dataDir, params.id), { recursive: true, force: true });
        return { ok: true };
      },
    }),
    defineRoute({
      method: "PUT",
      url: "/api/v1/runner/jobs/:id/artifacts",
      summary: "Upload one artifact file (raw body)",
      tag: "runner",
      access,
      params: id,
      query: z.object({ path: z.string().min(1).max(4096) }),
      consumes: "application/octet-stream",
      handler: async ({ params, query, caller, body }) => {
        const j = await held(caller, params.id);
        const size = await receive(body, safeJoin(artifactDir(s.cfg.dataDir, params.id), query.path));
        const plan = await planFor(Number(j.pipeline_id), j.key);
        const now = Date.now();
        let expiresAt: number | null = null;
        try {
          expiresAt = artifactExpiry(plan, plan?.jobs[0], now, s.cfg.defaultArtifactExpiryMs);
        } catch (err) {
          if (!(err instanceof BadExpiry)) throw err;
          s.log.warn({ job: params.id, err: err.message }, "artifacts kept: bad expire_in");
        }
        await s.db.k
          .deleteFrom("artifacts")
          .where("job_id", "=", params.id)
          .where("path", "=", query.path)
          .execute();
        await s.db.k
          .insertInto("artifacts")
          .values({ job_id: params.id, path: query.path, size, created_at: now, expires_at: expiresAt })
          .execute();
        return { ok: true, size };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/runner/jobs/:id/deps/artifacts",
      summary: "List the artifacts of a job of the same pipeline (by plan job id)",
      tag: "runner",
      access,
      params: id,
      query: z.object({ key: z.string() }),
      handler: async ({ params, query, caller }) => {
        const d = await dep(await held(caller, params.id), query.key);
        return { jobId: Number(d.id), files: listTree(artifactDir(s.cfg.dataDir, Number(d.id))) };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/runner/jobs/:id/deps/artifact",
      summary: "Download one artifact of a job of the same pipeline",
      tag: "runner",
      access,
      params: id,
      query: z.object({ key: z.string(), path: z.string() }),
      produces: "application/octet-stream",
      handler: async ({ params, query, caller, reply }) => {
        const d = await dep(await held(caller, params.id), query.key);
        const file = safeJoin(artifactDir(s.cfg.dataDir, Number(d.id)), query.path);
        if (!fs.existsSync(file)) throw notFound(`artifact "${query.path}"`);
        reply.header("content-type", "application/octet-stream");
        return fs.createReadStream(file);
      },
    }),
    defineRoute({
      method: "PUT",
      url: "/api/v1/runner/jobs/:id/dotenv",
      summary: "Store the job's dotenv report variables",
      tag: "runner",
      access,
      params: id,
      body: z.object({ vars: z.record(z.string(), z.string()) }),
      handler: async ({ params, body, caller }) => {
        await held(caller, params.id);
        await s.db.k
          .updateTable("jobs")
          .set({ dotenv: JSON.stringify(body.vars) })
          .where("id", "=", params.id)
          .execute();
        return { ok: true };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/runner/jobs/:id/deps/dotenv",
      summary: "Dotenv variables of a job of the same pipeline",
      tag: "runner",
      access,
      params: id,
      query: z.object({ key: z.string() }),
      handler: async ({ params, query, caller }) => {
        const d = await dep(await held(caller, params.id), query.key);
        return { vars: d.dotenv ? (JSON.parse(d.dotenv) as Record<string, string>) : {} };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/runner/jobs/:id/secrets",
      summary:
        "A secret the job may see (its project's or a global one; protected ones only on the default branch)",
      tag: "runner",
      access,
      params: id,
      query: z.object({ name: z.string() }),
      handler: async ({ params, query, caller }) => {
        const j = await held(caller, params.id);
        const p = await getPipeline(s.db, Number(j.pipeline_id));
        const project = await projectById(s.db, Number(j.project_id));
        const value = await resolveSecret(
          s.db,
          s.secretKey,
          Number(j.project_id),
          query.name,
          // Protected secrets: the default branch only, not a tag that happens to share its name.
          p?.ref === project?.default_branch && (p?.ref_kind ?? "branch") === "branch",
        );
        if (!value) throw notFound(`secret "${query.name}" (or this job may not see it)`);
        const set = s.jobSecrets.get(params.id) ?? new Set<string>();
        for (const v of value.kind === "usernamePassword" ? [value.password] : [value.value]) set.add(v);
        s.jobSecrets.set(params.id, set);
        return value;
      },
    }),
    ...bucket("stash", (j, name) => stashDir(s.cfg.dataDir, Number(j.pipeline_id), name)),
    ...bucket("cache", (j, name) => cacheDir(s.cfg.dataDir, Number(j.project_id), name)),
  ];
}
