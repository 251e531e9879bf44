import { sql, type RawBuilder } from "kysely";
import type { JobOutcome } from "../engine/types.js";
import type { Db } from "./schema.js";
import { writeTx } from "./tx.js";
import { NeedsCache, advancePipeline, requeue } from "./queue.js";
import type { JobRow } from "./pipelines.js";

interface FinishedColumns {
  status: string;
  exit_code: number | null;
  reason: string | null;
  allow_failure: number;
  log_size: number;
}

/** What advancing a pipeline remembers, per database (see `NeedsCache`). */
const needsCaches = new WeakMap<Db, NeedsCache>();
function needsCache(db: Db): NeedsCache {
  let c = needsCaches.get(db);
  if (!c) needsCaches.set(db, (c = new NeedsCache()));
  c.trim();
  return c;
}

/** A job handed to a runner. */
export interface Lease {
  jobId: number;
  pipelineId: number;
  projectId: number;
  key: string;
  attempt: number;
  leaseExpiresAt: number;
  queuedAt: number | null;
  /** JSON of the job's `input` decision, when it had one. */
  decision: string | null;
}

export interface RunnerAbilities {
  runnerId: number;
  labels: string[];
  executors: string[];
}

/**
 * The SQL test "this runner can run the job": its executor is one the runner has (or `none`),
 * and every label the job requires is one of the runner's. Job labels are a sorted JSON array.
 */
function fits(db: Db, r: RunnerAbilities): RawBuilder<boolean> {
  const executors = ["none", ...r.executors];
  const executor = sql`executor in (${sql.join(executors)})`;
  if (r.labels.length === 0) return sql<boolean>`${executor} and labels = '[]'`;
  const mine = JSON.stringify(r.labels);
  const labels =
    db.dialect === "postgres"
      ? sql`cast(labels as jsonb) <@ cast(${mine} as jsonb)`
      : sql`not exists (select 1 from json_each(jobs.labels) l where l.value not in (select value from json_each(${mine})))`;
  return sql<boolean>`${executor} and (labels = '[]' or ${labels})`;
}

/**
 * Leases up to `max` queued jobs this runner can run, oldest first, for `leaseMs`, in one
 * statement: `WITH picked AS MATERIALIZED (SELECT … LIMIT max) UPDATE … RETURNING …`. PostgreSQL adds
 * `FOR UPDATE SKIP LOCKED` to the inner select, so concurrent leasers never wait on or take
 * the same row (and the outer `status = 'waiting'` re-checks each row once locked). SQLite
 * runs one statement under its write lock, so leasers are serialised.
 */
export async function leaseJobs(db: Db, r: RunnerAbilities, max: number, leaseMs: number): Promise<Lease[]> {
  if (max <= 0) return [];
  const now = Date.now();
  const expires = now + leaseMs;
  let pick = db.k
    .selectFrom("jobs")
    .select("id")
    .where("status", "=", "waiting")
    .where("available_at", "<=", now)
    .where(fits(db, r))
    .orderBy("id")
    .limit(max);
  if (db.dialect === "postgres") pick = pick.forUpdate().skipLocked();
  // A materialised CTE runs the locking select exactly once: as an `IN (subquery)` PostgreSQL
  // may run it again per outer row, locking (and leasing) more than `max` jobs.
  const rows = await db.k
    .with(
      (cte) => cte("picked").materialized(),
      () => pick,
    )
    .updateTable("jobs")
    .set({
      status: "running",
      runner_id: r.runnerId,
      lease_expires_at: expires,
      started_at: now,
      finished_at: null,
    })
    .where("id", "in", (eb) => eb.selectFrom("picked").select("picked.id"))
    .where("status", "=", "waiting")
    .returning(["id", "pipeline_id", "project_id", "key", "attempt", "queued_at", "decision"])
    .execute();
  return rows
    .map((c) => ({
      jobId: Number(c.id),
      pipelineId: Number(c.pipeline_id),
      projectId: Number(c.project_id),
      key: c.key,
      attempt: c.attempt,
      leaseExpiresAt: expires,
      queuedAt: c.queued_at === null ? null : Number(c.queued_at),
      decision: c.decision,
    }))
    .sort((a, b) => a.jobId - b.jobId);
}

/** One job attempt's end, as a runner reports it. */
export interface FinishItem {
  jobId: number;
  attempt: number;
  outcome: Omit<JobOutcome, "durationMs"> & { durationMs?: number };
  /** The attempt's last log batches, stored with the result (a batch already stored is skipped). */
  logs?: { seq: number; text: string }[];
}

/** What became of a reported result; `stale` when the runner no longer held the attempt. */
export type FinishResult =
  | { kind: "ok"; status: string; retried: boolean; pipelineId: number; pipelineFinished: string | null }
  | { kind: "stale"; status: string; attempt?: number };

/**
 * Records how job attempts ended, all in one transaction: the jobs' rows are locked once
 * (in id order, so two batches never deadlock), their last log batches stored, jobs with the
 * same result updated by one statement, and each pipeline touched advanced once.
 *
 * Only the runner that holds an attempt may report it (`runnerId` null: any); a runner whose
 * lease expired gets `stale`, so its result never overwrites the retry's. Reporting the same
 * result again (a retried request) answers `stale` with the job's state and changes nothing.
 * A failure that the job's retry policy allows queues the next attempt.
 */
export async function finishJobs(
  db: Db,
  runnerId: number | null,
  items: FinishItem[],
): Promise<FinishResult[]> {
  if (items.length === 0) return [];
  return writeTx(db, async (trx) => {
    const ids = [...new Set(items.map((i) => i.jobId))].sort((a, b) => a - b);
    let q = trx.selectFrom("jobs").selectAll().where("id", "in", ids).orderBy("id");
    if (db.dialect === "postgres") q = q.forUpdate();
    const rows = new Map((await q.execute()).map((j) => [Number(j.id), j]));
    const now = Date.now();
    const results: FinishResult[] = [];
    const accepted: { index: number; item: FinishItem; job: JobRow }[] = [];
    const taken = new Set<number>();
    items.forEach((item, index) => {
      const j = rows.get(item.jobId);
      const holds =
        j !== undefined &&
        j.status === "running" &&
        j.attempt === item.attempt &&
        (runnerId === null || Number(j.runner_id) === runnerId) &&
        !taken.has(item.jobId);
      results.push(
        j ? { kind: "stale", status: j.status, attempt: j.attempt } : { kind: "stale", status: "gone" },
      );
      if (!holds) return;
      taken.add(item.jobId);
      accepted.push({ index, item, job: j });
    });

    // Log batches, one insert. A runner sends each `seq` once, either to the log endpoint or
    // here; should one arrive both ways, the stored batch wins and its bytes are left as a gap.
    const logDelta = new Map<number, number>();
    const values = [];
    for (const { item, job } of accepted) {
      if (!item.logs?.length) continue;
      let offset = Number(job.log_size);
      const seqs = new Set<number>();
      for (const l of [...item.logs].sort((x, y) => x.seq - y.seq)) {
        if (seqs.has(l.seq)) continue;
        seqs.add(l.seq);
        const size = Buffer.byteLength(l.text);
        values.push({
          job_id: item.jobId,
          attempt: item.attempt,
          seq: l.seq,
          offset,
          size,
          data: l.text,
          created_at: now,
        });
        offset += size;
      }
      logDelta.set(item.jobId, offset - Number(job.log_size));
    }
    for (let i = 0; i < values.length; i += 200)
      await trx
        .insertInto("job_logs")
        .values(values.slice(i, i + 200))
        .onConflict((oc) => oc.columns(["job_id", "attempt", "seq"]).doNothing())
        .execute();

    // Results: retries one by one (rare); the rest grouped by identical columns.
    const groups = new Map<string, { set: Omit<FinishedColumns, "log_size">; ids: number[] }>();
    const pipelines = new Set<number>();
    for (const { index, item, job: j } of accepted) {
      const o = item.outcome;
      const pipelineId = Number(j.pipeline_id);
      if (o.status === "failed" && o.retryable && j.attempt <= j.max_retries && j.cancel_requested === 0) {
        await requeue(trx, j, `attempt ${j.attempt} failed${o.reason ? `: ${o.reason}` : ""}`, now);
        results[index] = { kind: "ok", status: "waiting", retried: true, pipelineId, pipelineFinished: null };
        continue;
      }
      const set = {
        status: o.status,
        exit_code: o.exitCode ?? null,
        reason: o.reason ?? null,
        allow_failure: o.status === "failed" ? (o.allowedFailure ? 1 : 0) : j.allow_failure,
      };
      const key = JSON.stringify(set);
      const g = groups.get(key) ?? { set, ids: [] };
      g.ids.push(item.jobId);
      groups.set(key, g);
      pipelines.add(pipelineId);
      results[index] = { kind: "ok", status: o.status, retried: false, pipelineId, pipelineFinished: null };
    }
    for (const { set, ids: group } of groups.values()) {
      const grown = group.filter((id) => (logDelta.get(id) ?? 0) > 0);
      const logSize =
        grown.length === 0
          ? sql<number>`log_size`
          : sql<number>`log_size + case id ${sql.join(
              grown.map((id) => sql`when ${sql.lit(id)} then ${sql.lit(logDelta.get(id)!)}`),
              sql` `,
            )} else 0 end`;
      await trx
        .updateTable("jobs")
        .set({
          ...set,
          runner_id: null,
          lease_expires_at: null,
          finished_at: now,
          log_size: logSize,
        })
        .where("id", "in", group)
        .execute();
    }
    // The result that closed a pipeline carries its final status (counted once in metrics).
    for (const p of [...pipelines].sort((a, b) => a - b)) {
      const finished = await advancePipeline(trx, db.dialect, p, undefined, needsCache(db));
      const last = results.findLast((r) => r.kind === "ok" && r.pipelineId === p && !r.retried);
      if (finished && last?.kind === "ok") last.pipelineFinished = finished;
    }
    return results;
  });
}

/** Records how one job attempt ended (see {@link finishJobs}). */
export async function finishJob(
  db: Db,
  runnerId: number | null,
  jobId: number,
  attempt: number,
  outcome: FinishItem["outcome"],
): Promise<FinishResult> {
  const [r] = await finishJobs(db, runnerId, [{ jobId, attempt, outcome }]);
  return r!;
}
