import fs from "node:fs";
import picomatch from "picomatch";
import { z } from "zod";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { HttpError, conflict, forbidden, notFound } from "../http-error.js";
import * as S from "../schemas.js";
import { getJob, getPipeline, pipelineJobs } from "../../store/pipelines.js";
import {
  cancelJob,
  cancelPipeline,
  decideInput,
  playJob,
  retryJob,
  retryPipeline,
} from "../../store/queue.js";
import { readLog, readLogChars, wholeChars } from "../../store/logs.js";
import { projectById } from "../../store/projects.js";
import { getRunner } from "../../store/runners.js";
import { audit } from "../../store/accounts.js";
import { iso, jobDetail, pipelineDetail } from "../views.js";
import { artifactDir, safeJoin } from "../files.js";
import { followLog } from "../log-stream.js";
import { summariseJunit } from "../../engine/junit.js";
import type { Input, Plan } from "../../pipeline/plan.js";
import type { Artifact, TestSummary } from "../api-types.js";
import type { Caller } from "../auth.js";

const who = (c: Caller) => (c.kind === "user" ? c.name : c.kind);

/** Pipelines and jobs: details, actions, logs, artifacts, test reports. */
export function jobRoutes(s: Services): RouteDef[] {
  const projectName = async (id: number) => (await projectById(s.db, id))?.name ?? String(id);
  const job = async (id: number) => {
    const j = await getJob(s.db, id);
    if (!j) throw notFound(`job ${id}`);
    return j;
  };
  const jobAction = (
    action: "retry" | "play" | "cancel",
    summary: string,
    run: (id: number) => Promise<boolean>,
    refusal: string,
  ) =>
    defineRoute({
      method: "POST",
      url: `/api/v1/jobs/:id/${action}`,
      summary,
      tag: "jobs",
      access: { kind: "project", role: "developer", from: "job" },
      params: S.idParam,
      response: S.jobDetailOut,
      handler: async ({ params, caller, projectId }) => {
        const j = await job(params.id);
        if (!(await run(params.id))) throw conflict(`job ${params.id} is ${j.status}: ${refusal}`);
        await audit(s.db, who(caller), `job.${action}`, String(params.id));
        s.bus.jobChanged(params.id);
        s.bus.workAvailable();
        return jobDetail(await job(params.id), await projectName(projectId), null);
      },
    });
  const decide = (approved: boolean) =>
    defineRoute({
      method: "POST",
      url: `/api/v1/jobs/:id/${approved ? "approve" : "reject"}`,
      summary: approved
        ? "Approve a job's input, with values for its parameters"
        : "Reject a job's input (the job is canceled)",
      tag: "jobs",
      access: { kind: "project", role: "developer", from: "job" },
      params: S.idParam,
      body: S.approve,
      response: S.jobDetailOut,
      handler: async ({ params, body, caller, projectId }) => {
        const j = await job(params.id);
        if (j.status !== "input" || !j.input)
          throw conflict(`job ${params.id} is ${j.status}, not waiting for input`);
        const input = JSON.parse(j.input) as Input;
        const allowed = (input.submitter ?? "")
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean);
        if (allowed.length > 0 && !allowed.includes(who(caller)) && !(caller.kind === "user" && caller.admin))
          throw forbidden(`only ${allowed.join(", ")} may answer this input`);
        const values = { ...(body.params ?? {}) };
        for (const p of input.parameters)
          if (values[p.name] === undefined && p.default !== undefined) values[p.name] = p.default;
        const bad = input.parameters.find(
          (p) =>
            p.type === "choice" &&
            p.choices &&
            values[p.name] !== undefined &&
            !p.choices.includes(values[p.name]!),
        );
        if (bad)
          throw new HttpError(
            400,
            "bad_request",
            `parameter ${bad.name} must be one of ${bad.choices!.join(", ")}`,
            [{ path: `body.params.${bad.name}`, message: "not a choice" }],
          );
        if (!(await decideInput(s.db, params.id, approved, who(caller), values)))
          throw conflict(`job ${params.id} is no longer waiting for input`);
        await audit(s.db, who(caller), approved ? "job.approve" : "job.reject", String(params.id));
        s.bus.jobChanged(params.id);
        s.bus.workAvailable();
        return jobDetail(await job(params.id), await projectName(projectId), null);
      },
    });
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/pipelines/:id",
      summary: "A pipeline with its stages and jobs",
      tag: "pipelines",
      access: { kind: "project", role: "viewer", from: "pipeline" },
      params: S.idParam,
      response: S.pipelineDetailOut,
      handler: async ({ params, projectId }) => {
        const p = (await getPipeline(s.db, params.id))!;
        return pipelineDetail(p, await projectName(projectId), await pipelineJobs(s.db, params.id));
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/pipelines/:id/cancel",
      summary: "Cancel a pipeline: queued jobs at once, running jobs through their runner",
      tag: "pipelines",
      access: { kind: "project", role: "developer", from: "pipeline" },
      params: S.idParam,
      response: S.ok,
      handler: async ({ params, caller }) => {
        if (!(await cancelPipeline(s.db, params.id)))
          throw conflict(`pipeline ${params.id} is already finished`);
        await audit(s.db, who(caller), "pipeline.cancel", String(params.id));
        for (const j of await pipelineJobs(s.db, params.id)) s.bus.jobChanged(Number(j.id));
        return { ok: true };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/pipelines/:id/retry",
      summary: "Retry every failed or canceled job of a finished pipeline",
      tag: "pipelines",
      access: { kind: "project", role: "developer", from: "pipeline" },
      params: S.idParam,
      response: z.object({ retried: z.number() }),
      handler: async ({ params, caller }) => {
        const p = (await getPipeline(s.db, params.id))!;
        if (!["failed", "canceled"].includes(p.status))
          throw conflict(
            `pipeline ${params.id} is ${p.status}; only failed or canceled pipelines can be retried`,
          );
        const retried = await retryPipeline(s.db, params.id);
        await audit(s.db, who(caller), "pipeline.retry", String(params.id));
        s.bus.workAvailable();
        return { retried };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id",
      summary: "A job",
      tag: "jobs",
      access: { kind: "project", role: "viewer", from: "job" },
      params: S.idParam,
      response: S.jobDetailOut,
      handler: async ({ params, projectId }) => {
        const j = await job(params.id);
        const r = j.runner_id !== null ? await getRunner(s.db, Number(j.runner_id)) : undefined;
        return jobDetail(j, await projectName(projectId), r?.name ?? null);
      },
    }),
    jobAction(
      "retry",
      "Run a finished job again as a new attempt",
      (id) => retryJob(s.db, id),
      "only finished jobs can be retried",
    ),
    jobAction("play", "Start a manual job", (id) => playJob(s.db, id), "only manual jobs can be played"),
    jobAction("cancel", "Cancel a job", (id) => cancelJob(s.db, id), "only unfinished jobs can be canceled"),
    decide(true),
    decide(false),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id/log",
      summary: "A job attempt's log as text; supports `Range: bytes=a-b` (206)",
      tag: "jobs",
      access: { kind: "project", role: "viewer", from: "job" },
      params: S.idParam,
      query: z.object({ attempt: z.coerce.number().int().positive().optional() }),
      produces: "text/plain",
      handler: async ({ params, query, req, reply }) => {
        const j = await job(params.id);
        const attempt = query.attempt ?? j.attempt;
        // An older attempt's size is only known by reading it; they are finished and rarely asked for.
        const old =
          attempt === j.attempt
            ? undefined
            : await readLog(s.db, params.id, attempt, 0, Number.MAX_SAFE_INTEGER);
        const size = old ? old.length : Number(j.log_size);
        let start = 0;
        let end = size;
        const range = req.headers.range;
        reply
          .header("content-type", "text/plain; charset=utf-8")
          .header("accept-ranges", "bytes")
          .header("x-gantry-job-status", j.status);
        if (range) {
          const m = /^bytes=(\d*)-(\d*)$/.exec(range);
          if (!m || (m[1] === "" && m[2] === ""))
            throw new HttpError(
              416,
              "range_not_satisfiable",
              `unsupported Range "${range}"; use bytes=START-END`,
            );
          if (m[1] === "") start = Math.max(0, size - Number(m[2]));
          else {
            start = Number(m[1]);
            end = m[2] === "" ? size : Math.min(size, Number(m[2]) + 1);
          }
          if (start >= size && size > 0) {
            reply.header("content-range", `bytes */${size}`);
            throw new HttpError(416, "range_not_satisfiable", `the log has ${size} bytes`);
          }
          // A range is answered in whole UTF-8 characters; Content-Range says which bytes those are.
          const piece = old
            ? { ...wholeChars(old, start, end), data: undefined }
            : await readLogChars(s.db, params.id, attempt, start, end, size);
          start = piece.start;
          end = piece.end;
          reply.code(206).header("content-range", `bytes ${start}-${Math.max(start, end - 1)}/${size}`);
          return piece.data ?? old!.subarray(start, end);
        }
        return old ?? readLog(s.db, params.id, attempt, start, end);
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id/log/stream",
      summary: "Follow a job's log live (server-sent events: log, status, end)",
      tag: "jobs",
      access: { kind: "project", role: "viewer", from: "job" },
      params: S.idParam,
      query: z.object({ offset: z.coerce.number().int().min(0).optional() }),
      produces: "text/event-stream",
      handler: async ({ params, query, reply, req }) => {
        await job(params.id);
        followLog(s, params.id, query.offset ?? 0, req, reply);
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id/artifacts",
      summary: "A job's artifacts",
      tag: "artifacts",
      access: { kind: "project", role: "viewer", from: "job" },
      params: S.idParam,
      response: z.array(
        z.object({
          path: z.string(),
          size: z.number(),
          createdAt: z.string(),
          expiresAt: z.string().nullable(),
          expired: z.boolean(),
          url: z.string(),
        }),
      ),
      handler: async ({ params }): Promise<Artifact[]> => {
        await job(params.id);
        const rows = await s.db.k
          .selectFrom("artifacts")
          .selectAll()
          .where("job_id", "=", params.id)
          .orderBy("path")
          .execute();
        const now = Date.now();
        return rows.map((r) => ({
          path: r.path,
          size: Number(r.size),
          createdAt: iso(r.created_at)!,
          expiresAt: iso(r.expires_at),
          expired: r.expires_at !== null && Number(r.expires_at) <= now,
          url: `/api/v1/jobs/${params.id}/artifacts/${r.path.split("/").map(encodeURIComponent).join("/")}`,
        }));
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id/artifacts/*",
      summary: "Download one artifact file",
      tag: "artifacts",
      access: { kind: "project", role: "viewer", from: "job" },
      params: z.object({ id: z.coerce.number().int().positive(), "*": z.string() }),
      produces: "application/octet-stream",
      handler: async ({ params, reply }) => {
        const rel = params["*"];
        const row = await s.db.k
          .selectFrom("artifacts")
          .select(["path", "expires_at"])
          .where("job_id", "=", params.id)
          .where("path", "=", rel)
          .executeTakeFirst();
        if (!row) throw notFound(`artifact "${rel}" of job ${params.id}`);
        if (row.expires_at !== null && Number(row.expires_at) <= Date.now())
          throw new HttpError(
            410,
            "gone",
            `artifact "${rel}" of job ${params.id} expired at ${iso(row.expires_at)} (artifacts: expire_in); run the job again to rebuild it`,
          );
        const file = safeJoin(artifactDir(s.cfg.dataDir, params.id), rel);
        if (!fs.existsSync(file)) throw notFound(`artifact "${rel}" of job ${params.id}`);
        reply
          .header("content-type", "application/octet-stream")
          .header(
            "content-disposition",
            `attachment; filename="${encodeURIComponent(rel.split("/").pop() ?? "artifact")}"`,
          );
        return fs.createReadStream(file);
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/jobs/:id/tests",
      summary: "Summary of the job's JUnit reports",
      tag: "artifacts",
      access: { kind: "project", role: "viewer", from: "job" },
      params: S.idParam,
      response: z.object({
        total: z.number(),
        passed: z.number(),
        failed: z.number(),
        errors: z.number(),
        skipped: z.number(),
        durationMs: z.number(),
        suites: z.array(z.unknown()),
      }),
      handler: async ({ params }): Promise<TestSummary> => {
        const j = await job(params.id);
        const p = await getPipeline(s.db, Number(j.pipeline_id));
        const plan = p?.plan ? (JSON.parse(p.plan) as Plan) : undefined;
        const patterns = plan?.jobs.find((x) => x.id === j.key)?.artifacts?.reports.junit ?? [];
        const rows = await s.db.k
          .selectFrom("artifacts")
          .select("path")
          .where("job_id", "=", params.id)
          .execute();
        const isReport = patterns.length ? picomatch(patterns, { dot: true }) : () => false;
        const files = rows.map((r) => r.path).filter((f) => isReport(f));
        const sum = await summariseJunit(artifactDir(s.cfg.dataDir, params.id), files);
        const suites = new Map<string, TestSummary["suites"][number]>();
        for (const c of sum.cases) {
          const suite = suites.get(c.suite) ?? {
            name: c.suite,
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
            durationMs: 0,
            cases: [],
          };
          suites.set(c.suite, suite);
          const ms = Math.round(c.timeSeconds * 1000);
          suite.tests++;
          suite.durationMs += ms;
          if (c.status === "failed") suite.failures++;
          if (c.status === "error") suite.errors++;
          if (c.status === "skipped") suite.skipped++;
          suite.cases.push({
            name: c.name,
            classname: c.classname,
            status: c.status,
            durationMs: ms,
            ...(c.message ? { message: c.message } : {}),
          });
        }
        const all = [...suites.values()];
        return {
          total: sum.tests,
          passed: sum.tests - sum.failures - sum.errors - sum.skipped,
          failed: sum.failures,
          errors: sum.errors,
          skipped: sum.skipped,
          durationMs: all.reduce((a, x) => a + x.durationMs, 0),
          suites: all,
        };
      },
    }),
  ];
}
