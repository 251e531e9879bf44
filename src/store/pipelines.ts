import type { Selectable } from "kysely";
import type { Plan } from "../pipeline/plan.js";
import type { Diagnostic } from "../pipeline/diagnostics.js";
import type { Db, Schema } from "./schema.js";
import { writeTx, type Tx } from "./tx.js";
import { advancePipeline } from "./queue.js";
import { pipelinePostJob } from "../engine/scheduler.js";

export type PipelineRow = Selectable<Schema["pipelines"]>;
export type JobRow = Selectable<Schema["jobs"]>;

export interface NewPipeline {
  projectId: number;
  ref: string;
  trigger: string;
  variables: Record<string, string>;
  params: Record<string, string>;
  createdBy: string;
  /** `branch` or `tag` when the caller knows (a push webhook's `refs/heads/` or `refs/tags/`). */
  refKind?: "branch" | "tag";
}

/** Records a pipeline in `pending` state (before checkout and compile). */
export async function createPipeline(db: Db, p: NewPipeline): Promise<number> {
  const row = await db.k
    .insertInto("pipelines")
    .values({
      project_id: p.projectId,
      status: "pending",
      ref: p.ref,
      sha: "",
      trigger: p.trigger,
      variables: JSON.stringify(p.variables),
      params: JSON.stringify(p.params),
      plan: null,
      diagnostics: "[]",
      error: null,
      created_by: p.createdBy,
      created_at: Date.now(),
      started_at: null,
      finished_at: null,
      ref_kind: p.refKind ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Marks a pending pipeline as not runnable (checkout failed, compile errors). */
export async function failPipeline(
  db: Db,
  id: number,
  error: string,
  diagnostics: Diagnostic[] = [],
  sha = "",
): Promise<void> {
  const now = Date.now();
  await db.k
    .updateTable("pipelines")
    .set({
      status: "error",
      error,
      diagnostics: JSON.stringify(diagnostics),
      sha,
      started_at: now,
      finished_at: now,
    })
    .where("id", "=", id)
    .execute();
}

/**
 * Stores the compiled Plan and its jobs, and queues every job whose needs are already met.
 * One transaction: a crash leaves the pipeline pending, never half-inserted.
 */
export async function startPipeline(
  db: Db,
  id: number,
  compiled: Plan,
  sha: string,
  diagnostics: Diagnostic[] = [],
  refKind?: "branch" | "tag" | "commit",
): Promise<void> {
  // A pipeline-level `post` block runs as the last job, after all others, whatever happened.
  const postJob = pipelinePostJob(compiled);
  const plan: Plan = postJob ? { ...compiled, jobs: [...compiled.jobs, postJob] } : compiled;
  await writeTx(db, async (trx) => {
    const p = await trx
      .selectFrom("pipelines")
      .select(["project_id", "status"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (!p) throw new Error(`pipeline ${id} does not exist`);
    if (p.status !== "pending") return;
    const now = Date.now();
    await trx
      .updateTable("pipelines")
      .set({
        status: "running",
        plan: JSON.stringify(plan),
        sha,
        diagnostics: JSON.stringify(diagnostics),
        started_at: now,
        ...(refKind ? { ref_kind: refKind } : {}),
      })
      .where("id", "=", id)
      .execute();
    const rows = plan.jobs.map((j, idx) => ({
      pipeline_id: id,
      project_id: Number(p.project_id),
      key: j.id,
      name: j.name,
      stage: j.stage,
      idx,
      needs: JSON.stringify(j.needs),
      needs_mode: j.needsMode,
      when_: j.when,
      allow_failure: j.allowFailure ? 1 : 0,
      max_retries: Math.max(0, j.retry.max),
      retry_when: JSON.stringify(j.retry.when),
      executor: j.executor.kind,
      labels: JSON.stringify([...j.executor.labels].sort()),
      status: "created",
      attempt: 1,
      available_at: 0,
      runner_id: null,
      lease_expires_at: null,
      cancel_requested: 0,
      queued_at: null,
      started_at: null,
      finished_at: null,
      exit_code: null,
      reason: null,
      input: j.input ? JSON.stringify(j.input) : null,
      decision: null,
      dotenv: null,
      log_size: 0,
    }));
    // Chunked so one statement stays under SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto("jobs")
        .values(rows.slice(i, i + 500))
        .execute();
    await advancePipeline(trx, db.dialect, id, plan);
  });
}

export async function getPipeline(db: Db | Tx, id: number): Promise<PipelineRow | undefined> {
  const k = "k" in db ? db.k : db;
  return k.selectFrom("pipelines").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function pipelineJobs(db: Db | Tx, pipelineId: number): Promise<JobRow[]> {
  const k = "k" in db ? db.k : db;
  return k.selectFrom("jobs").selectAll().where("pipeline_id", "=", pipelineId).orderBy("idx").execute();
}

export interface PipelineFilter {
  projectId: number;
  status?: string;
  ref?: string;
  /** Only ids below this (the cursor). */
  beforeId?: number;
  limit: number;
}

/** Newest first; keyset pagination on the id. */
export async function listPipelines(db: Db, f: PipelineFilter): Promise<PipelineRow[]> {
  let q = db.k
    .selectFrom("pipelines")
    .select([
      "id",
      "project_id",
      "status",
      "ref",
      "sha",
      "trigger",
      "variables",
      "params",
      "created_by",
      "created_at",
      "started_at",
      "finished_at",
      "error",
      "ref_kind",
    ])
    .where("project_id", "=", f.projectId);
  if (f.status) q = q.where("status", "=", f.status);
  if (f.ref) q = q.where("ref", "=", f.ref);
  if (f.beforeId !== undefined) q = q.where("id", "<", f.beforeId);
  const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
  return rows.map((r) => ({ ...r, plan: null, diagnostics: "[]" }));
}

export async function getJob(db: Db | Tx, id: number): Promise<JobRow | undefined> {
  const k = "k" in db ? db.k : db;
  return k.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The pipelines that still have work, for the restart reconciliation and the cron loop. */
export async function pendingPipelines(db: Db): Promise<PipelineRow[]> {
  return db.k.selectFrom("pipelines").selectAll().where("status", "=", "pending").orderBy("id").execute();
}
