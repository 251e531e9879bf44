import type { Db } from "./schema.js";
import { writeTx } from "./tx.js";

/** Result of appending a log batch. */
export type AppendResult =
  { kind: "ok"; offset: number; size: number; duplicate: boolean } | { kind: "stale" };

/**
 * Appends one ordered batch of log text to a job attempt. `seq` numbers batches from 1; a
 * batch sent twice (a retried request) is stored once. Only the attempt that is running
 * may write.
 */
export async function appendLog(
  db: Db,
  jobId: number,
  attempt: number,
  seq: number,
  text: string,
  runnerId?: number,
): Promise<AppendResult> {
  const size = Buffer.byteLength(text);
  return writeTx(db, async (trx) => {
    let q = trx
      .selectFrom("jobs")
      .select(["status", "attempt", "log_size", "runner_id"])
      .where("id", "=", jobId);
    if (db.dialect === "postgres") q = q.forUpdate();
    const j = await q.executeTakeFirst();
    if (!j || j.attempt !== attempt || j.status !== "running") return { kind: "stale" };
    if (runnerId !== undefined && Number(j.runner_id) !== runnerId) return { kind: "stale" };
    const dup = await trx
      .selectFrom("job_logs")
      .select(["offset", "size"])
      .where("job_id", "=", jobId)
      .where("attempt", "=", attempt)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (dup) return { kind: "ok", offset: Number(dup.offset), size: dup.size, duplicate: true };
    const offset = Number(j.log_size);
    await trx
      .insertInto("job_logs")
      .values({ job_id: jobId, attempt, seq, offset, size, data: text, created_at: Date.now() })
      .execute();
    await trx
      .updateTable("jobs")
      .set({ log_size: offset + size })
      .where("id", "=", jobId)
      .execute();
    return { kind: "ok", offset, size, duplicate: false };
  });
}

/** Reads bytes `[start, end)` of a job attempt's log. */
export async function readLog(
  db: Db,
  jobId: number,
  attempt: number,
  start: number,
  end: number,
): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0);
  const rows = await db.k
    .selectFrom("job_logs")
    .select(["offset", "data"])
    .where("job_id", "=", jobId)
    .where("attempt", "=", attempt)
    .where("offset", "<", end)
    .orderBy("seq")
    .execute();
  const parts: Buffer[] = [];
  for (const r of rows) {
    const buf = Buffer.from(r.data);
    const off = Number(r.offset);
    if (off + buf.length <= start) continue;
    parts.push(buf.subarray(Math.max(0, start - off), Math.min(buf.length, end - off)));
  }
  return Buffer.concat(parts);
}
