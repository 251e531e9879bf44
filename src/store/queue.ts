import { sql, type ExpressionBuilder } from "kysely";
import type { JobStatus } from "../engine/events.js";
import type { Need, Plan } from "../pipeline/plan.js";
import type { Db, Dialect, Schema } from "./schema.js";
import { writeTx, type Tx } from "./tx.js";
import {
  holdsBack,
  pipelineResult,
  readiness,
  unfinishedStatus,
  type NeededJob,
  type WaitingJob,
} from "./readiness.js";
import type { JobRow } from "./pipelines.js";

const TERMINAL = ["success", "unstable", "failed", "canceled", "skipped", "manual"];

function chunks<T>(xs: T[], n = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * What {@link advancePipeline} remembers between calls on one database: what never changes
 * once a job is stored (its key, parsed `needs`, `when`, whether it has an input) and the need
 * that last held it back. A job whose
 * remembered need still holds it back is skipped without looking at its other needs, so a
 * stage of 1,000 jobs that all need the 1,000 jobs of the stage before costs O(1) per job per
 * call, not O(1,000). Only an order of checks: a job is never decided on it.
 */
export class NeedsCache {
  readonly jobs = new Map<
    number,
    {
      key: string;
      needs: string[];
      needsMode: WaitingJob["needsMode"];
      when: WaitingJob["when"];
      hasInput: boolean;
      /** Index in `needs`, and job id, of the need that held it back last time. */
      blocker: number;
      blockerId?: number;
    }
  >();

  /** Keeps it bounded (jobs of finished pipelines are never asked again). */
  trim(max = 200_000): void {
    if (this.jobs.size > max) this.jobs.clear();
  }
}

/**
 * Whether every `created` job of the pipeline is still held back by the need that held it
 * back last time (then none can move, and nothing needs looking at): reads the created jobs'
 * ids and those few needs' states, not the whole pipeline.
 */
async function stillHeld(trx: Tx, pipelineId: number, cache: NeedsCache): Promise<boolean> {
  const created = await trx
    .selectFrom("jobs")
    .select("id")
    .where("pipeline_id", "=", pipelineId)
    .where("status", "=", "created")
    .execute();
  const blockers = new Set<number>();
  for (const c of created) {
    const b = cache.jobs.get(Number(c.id))?.blockerId;
    if (b === undefined) return false;
    blockers.add(b);
  }
  const states = new Map<number, NeededJob>();
  for (const part of chunks([...blockers]))
    for (const r of await trx
      .selectFrom("jobs")
      .select(["id", "status", "allow_failure"])
      .where("id", "in", part)
      .execute())
      states.set(Number(r.id), { status: r.status as JobStatus, allowFailure: r.allow_failure === 1 });
  for (const c of created) {
    const st = states.get(cache.jobs.get(Number(c.id))!.blockerId!);
    if (!st || !holdsBack(st)) return false;
  }
  return true;
}

/**
 * Moves every `created` job of a pipeline whose needs are settled to its next state (queued,
 * manual, input or skipped), repeating until nothing changes, and closes the pipeline when
 * all its jobs are done. Returns the pipeline's final status when it just finished.
 * `cache` must belong to the database `trx` works on.
 */
export async function advancePipeline(
  trx: Tx,
  dialect: Dialect,
  pipelineId: number,
  plan?: Plan,
  cache: NeedsCache = new NeedsCache(),
): Promise<string | null> {
  // Serialises the pipeline's bookkeeping: two jobs finishing at once on PostgreSQL (READ
  // COMMITTED) would otherwise each miss the other's change and neither close the pipeline.
  // SQLite transactions are already serial (BEGIN IMMEDIATE); `FOR UPDATE` is not SQLite syntax.
  let current = trx.selectFrom("pipelines").select("status").where("id", "=", pipelineId);
  if (dialect === "postgres") current = current.forUpdate();
  const wasStatus = (await current.executeTakeFirst())?.status;
  // Two index seeks in one round trip: are there jobs to advance, and jobs still at work?
  const anyIn = (statuses: string[]) => (eb: ExpressionBuilder<Schema, never>) =>
    eb.exists(
      eb
        .selectFrom("jobs")
        .select("id")
        .where("pipeline_id", "=", pipelineId)
        .where("status", "in", statuses),
    );
  const flags = await trx
    .selectNoFrom((eb) => [
      anyIn(["created"])(eb).as("created"),
      anyIn(["waiting", "running"])(eb).as("active"),
    ])
    .executeTakeFirstOrThrow();
  // Every job's status and allowance once `created` jobs were looked at; else only queried if needed.
  let live: NeededJob[] | undefined;
  const now = Date.now();
  if (Number(flags.created) && !(cache.jobs.size > 0 && (await stillHeld(trx, pipelineId, cache)))) {
    // States from the (pipeline_id, status, allow_failure) index alone; what never changes
    // (key, needs, when, input) once per job: `needs` can be long (a stage needs every job of
    // the stage before), and SQLite reads through it to reach any later column of a row.
    const states = await trx
      .selectFrom("jobs")
      .select(["id", "status", "allow_failure"])
      .where("pipeline_id", "=", pipelineId)
      .execute();
    const unknown = states.filter((j) => !cache.jobs.has(Number(j.id))).map((j) => Number(j.id));
    for (const part of chunks(unknown))
      for (const r of await trx
        .selectFrom("jobs")
        .select(["id", "key", "needs", "needs_mode", "when_", "input"])
        .where("id", "in", part)
        .execute()) {
        const needs = (JSON.parse(r.needs) as Need[]).map((n) => n.job);
        cache.jobs.set(Number(r.id), {
          key: r.key,
          needs,
          needsMode: r.needs_mode as WaitingJob["needsMode"],
          when: r.when_ as WaitingJob["when"],
          hasInput: r.input !== null,
          blocker: Math.max(0, needs.length - 1),
        });
      }
    const jobs = states.map((j) => {
      const m = cache.jobs.get(Number(j.id))!;
      return {
        id: j.id,
        status: j.status,
        allow_failure: j.allow_failure,
        key: m.key,
        needsMode: m.needsMode,
        when: m.when,
        hasInput: m.hasInput,
      };
    });
    const byKey = new Map(jobs.map((j) => [j.key, j]));
    const needed = (key: string | undefined): NeededJob | undefined => {
      const dep = key === undefined ? undefined : byKey.get(key);
      return dep ? { status: dep.status as JobStatus, allowFailure: dep.allow_failure === 1 } : undefined;
    };
    const changes = new Map<number, { status: string; reason?: string; availableAt?: number }>();
    for (let changed = true, guard = 0; changed && guard <= jobs.length; guard++) {
      changed = false;
      for (const j of jobs) {
        if (j.status !== "created") continue;
        const entry = cache.jobs.get(Number(j.id))!;
        // Look for a need that holds it back, from the one that did last time backwards: needs
        // are listed in plan order and queued jobs leased oldest first, so the last pending one
        // tends to end last and hold the job back longest.
        const n = entry.needs.length;
        let held = -1;
        for (let k = 0; k < n && held < 0; k++) {
          const i = (entry.blocker - k + n) % n;
          const dep = needed(entry.needs[i]);
          if (dep && holdsBack(dep)) held = i;
        }
        if (held >= 0) {
          entry.blocker = held;
          entry.blockerId = Number(byKey.get(entry.needs[held]!)!.id);
          continue;
        }
        entry.blockerId = undefined;
        const needs = entry.needs.map(needed);
        const r = readiness({ needs: [], needsMode: j.needsMode, when: j.when, hasInput: j.hasInput }, needs);
        if (r.kind === "wait") continue;
        changed = true;
        if (r.kind === "skip") j.status = "skipped";
        else if (r.kind === "manual") j.status = "manual";
        else if (r.kind === "input") j.status = "input";
        else j.status = "waiting";
        let availableAt: number | undefined;
        if (r.kind === "queue" && r.delayed) {
          plan ??= await loadPlan(trx, pipelineId);
          availableAt = now + (plan?.jobs.find((pj) => pj.id === j.key)?.startInMs ?? 0);
        }
        changes.set(Number(j.id), {
          status: j.status,
          ...(r.kind === "skip" ? { reason: r.reason } : {}),
          availableAt,
        });
      }
    }
    const groups = new Map<string, number[]>();
    for (const [id, c] of changes) {
      if (c.reason || c.availableAt !== undefined) {
        await trx
          .updateTable("jobs")
          .set({
            status: c.status,
            reason: c.reason ?? null,
            available_at: c.availableAt ?? 0,
            queued_at: c.status === "waiting" ? now : null,
            finished_at: c.status === "skipped" ? now : null,
          })
          .where("id", "=", id)
          .execute();
        continue;
      }
      groups.set(c.status, [...(groups.get(c.status) ?? []), id]);
    }
    for (const [status, ids] of groups)
      for (const part of chunks(ids))
        await trx
          .updateTable("jobs")
          .set({ status, queued_at: status === "waiting" ? now : null })
          .where("id", "in", part)
          .execute();
    live = jobs.map((j) => ({ status: j.status as JobStatus, allowFailure: j.allow_failure === 1 }));
  }
  const unfinished = live
    ? unfinishedStatus(live)
    : Number(flags.active)
      ? "running"
      : unfinishedStatus(
          (
            await trx
              .selectFrom("jobs")
              .select(["status", "allow_failure"])
              .where("pipeline_id", "=", pipelineId)
              .where("status", "in", ["created", "input", "manual"])
              .execute()
          ).map((j) => ({ status: j.status as JobStatus, allowFailure: j.allow_failure === 1 })),
        );
  if (unfinished) {
    if (wasStatus === unfinished) return null;
    await trx
      .updateTable("pipelines")
      .set({ status: unfinished, finished_at: null })
      .where("id", "=", pipelineId)
      .where("status", "!=", unfinished)
      .execute();
    return null;
  }
  const all = await trx
    .selectFrom("jobs")
    .select(["status", "allow_failure"])
    .where("pipeline_id", "=", pipelineId)
    .execute();
  const result =
    pipelineResult(
      all.map((j) => ({ status: j.status as JobStatus, allowFailure: j.allow_failure === 1 })),
    ) ?? "success";
  const updated = await trx
    .updateTable("pipelines")
    .set({ status: result, finished_at: now })
    .where("id", "=", pipelineId)
    .where("status", "in", ["running", "blocked", "pending"])
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0 ? result : null;
}

async function loadPlan(trx: Tx, pipelineId: number): Promise<Plan | undefined> {
  const p = await trx.selectFrom("pipelines").select("plan").where("id", "=", pipelineId).executeTakeFirst();
  return p?.plan ? (JSON.parse(p.plan) as Plan) : undefined;
}

/** Answer to a heartbeat: `lost` when the runner no longer holds this attempt. */
export type HeartbeatResult =
  { kind: "ok"; leaseExpiresAt: number; cancel: boolean } | { kind: "lost"; status: string };

/** Extends the lease of a job the runner holds. */
export async function heartbeat(
  db: Db,
  runnerId: number,
  jobId: number,
  attempt: number,
  leaseMs: number,
): Promise<HeartbeatResult> {
  const expires = Date.now() + leaseMs;
  const res = await db.k
    .updateTable("jobs")
    .set({ lease_expires_at: expires })
    .where("id", "=", jobId)
    .where("runner_id", "=", runnerId)
    .where("attempt", "=", attempt)
    .where("status", "=", "running")
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 1) {
    const j = await db.k
      .selectFrom("jobs")
      .select("cancel_requested")
      .where("id", "=", jobId)
      .executeTakeFirst();
    return { kind: "ok", leaseExpiresAt: expires, cancel: j?.cancel_requested === 1 };
  }
  const j = await db.k.selectFrom("jobs").select("status").where("id", "=", jobId).executeTakeFirst();
  return { kind: "lost", status: j?.status ?? "gone" };
}

/** Queues a job's next attempt (its retry policy allowed it). */
export async function requeue(trx: Tx, j: JobRow, reason: string, now: number): Promise<void> {
  await trx
    .updateTable("jobs")
    .set({
      status: "waiting",
      attempt: j.attempt + 1,
      runner_id: null,
      lease_expires_at: null,
      queued_at: now,
      started_at: null,
      finished_at: null,
      exit_code: null,
      reason,
      log_size: 0,
    })
    .where("id", "=", Number(j.id))
    .execute();
}

/** What the lease reaper did. */
export interface ReapResult {
  retried: number[];
  failed: number[];
  pipelinesFinished: { id: number; status: string }[];
}

/** Reasons GitLab's `retry: when` uses for a lost runner; an empty list means any failure. */
const LOST_REASONS = ["runner_system_failure", "stuck_or_timeout_failure", "unknown_failure", "always"];

/**
 * Finds running jobs whose lease expired (the runner crashed or lost the network) and
 * either queues their next attempt, when the retry policy allows, or fails them with
 * "runner lost".
 */
export async function reapExpiredLeases(db: Db, now = Date.now()): Promise<ReapResult> {
  return writeTx(db, async (trx) => {
    let q = trx
      .selectFrom("jobs")
      .selectAll()
      .where("status", "=", "running")
      .where("lease_expires_at", "<", now)
      .limit(500);
    if (db.dialect === "postgres") q = q.forUpdate().skipLocked();
    const expired = await q.execute();
    const out: ReapResult = { retried: [], failed: [], pipelinesFinished: [] };
    const pipelines = new Set<number>();
    for (const j of expired) {
      const when = JSON.parse(j.retry_when) as string[];
      const allowed = when.length === 0 || when.some((w) => LOST_REASONS.includes(w));
      if (allowed && j.attempt <= j.max_retries && j.cancel_requested === 0) {
        await requeue(trx, j, `runner lost during attempt ${j.attempt}`, now);
        out.retried.push(Number(j.id));
      } else {
        await trx
          .updateTable("jobs")
          .set({
            status: j.cancel_requested ? "canceled" : "failed",
            reason: "runner lost",
            runner_id: null,
            lease_expires_at: null,
            finished_at: now,
          })
          .where("id", "=", Number(j.id))
          .execute();
        out.failed.push(Number(j.id));
        pipelines.add(Number(j.pipeline_id));
      }
    }
    for (const p of pipelines) {
      const done = await advancePipeline(trx, db.dialect, p);
      if (done) out.pipelinesFinished.push({ id: p, status: done });
    }
    return out;
  });
}

/**
 * Cancels a pipeline: jobs not started become `canceled`; running ones are marked and their
 * runner is told on its next heartbeat, then they end as `canceled`.
 */
export async function cancelPipeline(db: Db, pipelineId: number): Promise<boolean> {
  return writeTx(db, async (trx) => {
    const p = await trx
      .selectFrom("pipelines")
      .select("status")
      .where("id", "=", pipelineId)
      .executeTakeFirst();
    if (!p || !["pending", "running", "blocked"].includes(p.status)) return false;
    const now = Date.now();
    await trx
      .updateTable("jobs")
      .set({ status: "canceled", reason: "pipeline canceled", finished_at: now })
      .where("pipeline_id", "=", pipelineId)
      .where("status", "in", ["created", "waiting", "input", "manual"])
      .execute();
    await trx
      .updateTable("jobs")
      .set({ cancel_requested: 1 })
      .where("pipeline_id", "=", pipelineId)
      .where("status", "=", "running")
      .execute();
    const running = await trx
      .selectFrom("jobs")
      .select("id")
      .where("pipeline_id", "=", pipelineId)
      .where("status", "=", "running")
      .executeTakeFirst();
    if (!running)
      await trx
        .updateTable("pipelines")
        .set({ status: "canceled", finished_at: now })
        .where("id", "=", pipelineId)
        .execute();
    return true;
  });
}

/** Cancels one job (queued, waiting for input or manual: at once; running: via its runner). */
export async function cancelJob(db: Db, jobId: number): Promise<boolean> {
  return writeTx(db, async (trx) => {
    const j = await trx
      .selectFrom("jobs")
      .select(["status", "pipeline_id"])
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (!j) return false;
    if (j.status === "running") {
      await trx.updateTable("jobs").set({ cancel_requested: 1 }).where("id", "=", jobId).execute();
      return true;
    }
    if (!["created", "waiting", "input"].includes(j.status)) return false;
    await trx
      .updateTable("jobs")
      .set({ status: "canceled", reason: "canceled", finished_at: Date.now() })
      .where("id", "=", jobId)
      .execute();
    await advancePipeline(trx, db.dialect, Number(j.pipeline_id));
    return true;
  });
}

/** Resets the jobs that (transitively) need `keys` back to `created`, so they run again. */
async function resetDependents(trx: Tx, pipelineId: number, keys: Set<string>): Promise<void> {
  const jobs = await trx
    .selectFrom("jobs")
    .select(["id", "key", "needs", "status"])
    .where("pipeline_id", "=", pipelineId)
    .execute();
  const reset = new Set<number>();
  for (let changed = true; changed;) {
    changed = false;
    for (const j of jobs) {
      if (keys.has(j.key)) continue;
      if ((JSON.parse(j.needs) as Need[]).some((n) => keys.has(n.job))) {
        keys.add(j.key);
        if (TERMINAL.includes(j.status)) reset.add(Number(j.id));
        changed = true;
      }
    }
  }
  for (const part of chunks([...reset]))
    await trx
      .updateTable("jobs")
      .set({
        status: "created",
        reason: null,
        exit_code: null,
        started_at: null,
        finished_at: null,
        queued_at: null,
        cancel_requested: 0,
        decision: null,
      })
      .where("id", "in", part)
      .execute();
}

/**
 * Runs a finished job again as a new attempt; its dependents are reset to wait for it.
 * Returns false when the job is not finished (409).
 */
export async function retryJob(db: Db, jobId: number): Promise<boolean> {
  return writeTx(db, async (trx) => {
    const j = await trx.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirst();
    if (!j || !["success", "unstable", "failed", "canceled", "skipped"].includes(j.status)) return false;
    const plan = await loadPlan(trx, Number(j.pipeline_id));
    const planJob = plan?.jobs.find((pj) => pj.id === j.key);
    await requeue(trx, { ...j, cancel_requested: 0 }, "retried", Date.now());
    await trx
      .updateTable("jobs")
      .set({
        cancel_requested: 0,
        allow_failure: planJob?.allowFailure ? 1 : 0,
        decision: null,
        status: j.input ? "input" : "waiting",
      })
      .where("id", "=", jobId)
      .execute();
    await resetDependents(trx, Number(j.pipeline_id), new Set([j.key]));
    await advancePipeline(trx, db.dialect, Number(j.pipeline_id));
    return true;
  });
}

/** Retries every failed or canceled job of a finished pipeline. */
export async function retryPipeline(db: Db, pipelineId: number): Promise<number> {
  const failed = await db.k
    .selectFrom("jobs")
    .select("id")
    .where("pipeline_id", "=", pipelineId)
    .where("status", "in", ["failed", "canceled"])
    .orderBy("idx")
    .execute();
  let n = 0;
  for (const j of failed) if (await retryJob(db, Number(j.id))) n++;
  return n;
}

/** Starts a `manual` job. */
export async function playJob(db: Db, jobId: number): Promise<boolean> {
  return writeTx(db, async (trx) => {
    const j = await trx
      .selectFrom("jobs")
      .select(["status", "pipeline_id", "input"])
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (!j || j.status !== "manual") return false;
    await trx
      .updateTable("jobs")
      .set({ status: j.input ? "input" : "waiting", queued_at: Date.now(), reason: null })
      .where("id", "=", jobId)
      .execute();
    await advancePipeline(trx, db.dialect, Number(j.pipeline_id));
    return true;
  });
}

/** Answers a job's `input`: approved → queued with the decision; rejected → `canceled` ("aborted by X"). */
export async function decideInput(
  db: Db,
  jobId: number,
  approved: boolean,
  by: string,
  params: Record<string, string>,
): Promise<boolean> {
  return writeTx(db, async (trx) => {
    const j = await trx
      .selectFrom("jobs")
      .select(["status", "pipeline_id"])
      .where("id", "=", jobId)
      .executeTakeFirst();
    if (!j || j.status !== "input") return false;
    const now = Date.now();
    await trx
      .updateTable("jobs")
      .set(
        approved
          ? { status: "waiting", queued_at: now, decision: JSON.stringify({ approved, by, params }) }
          : {
              status: "canceled",
              reason: `rejected by ${by}`,
              finished_at: now,
              decision: JSON.stringify({ approved, by, params }),
            },
      )
      .where("id", "=", jobId)
      .execute();
    await advancePipeline(trx, db.dialect, Number(j.pipeline_id));
    return true;
  });
}

/** Jobs by status over all pipelines (for metrics). */
export async function jobCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db.k
    .selectFrom("jobs")
    .select(["status", sql<number>`count(*)`.as("n")])
    .where("status", "in", ["created", "waiting", "running", "input", "manual"])
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
