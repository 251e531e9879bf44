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

const isContinuation = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

/**
 * Moves the byte range `[start, end)` of `buf` (UTF-8 text that starts on a character) to
 * whole characters: `start` forward past a character it would cut, `end` back before one. A
 * range inside a single character grows to that whole character rather than come back empty.
 */
export function wholeChars(buf: Buffer, start: number, end: number): { start: number; end: number } {
  let s = Math.min(start, buf.length);
  while (s < buf.length && isContinuation(buf[s])) s++;
  let e = Math.min(Math.max(end, s), buf.length);
  while (e > s && isContinuation(buf[e])) e--;
  if (e === s && end > start && s < buf.length) {
    e = s + 1;
    while (e < buf.length && isContinuation(buf[e])) e++;
  }
  return { start: s, end: e };
}

/**
 * Reads about bytes `[start, end)` of a job attempt's log, `size` bytes long, cut to whole
 * UTF-8 characters (see `wholeChars`); returns the bytes and the range they really cover.
 * Stored batches are whole text, so only a reader's own limits could cut a character.
 */
export async function readLogChars(
  db: Db,
  jobId: number,
  attempt: number,
  start: number,
  end: number,
  size: number,
): Promise<{ start: number; end: number; data: Buffer }> {
  // Up to 3 bytes either side are enough to find the characters' edges.
  const from = Math.max(0, start);
  const buf = await readLog(db, jobId, attempt, from, Math.min(size, end + 4));
  const r = wholeChars(buf, 0, end - from);
  return { start: from + r.start, end: from + r.end, data: buf.subarray(r.start, r.end) };
}
