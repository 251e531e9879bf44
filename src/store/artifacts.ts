import type { Db } from "./schema.js";

/** An artifact whose expiry has passed but whose file is still on disk. */
export interface ExpiredArtifact {
  id: number;
  jobId: number;
  path: string;
}

/** Up to `limit` artifacts that expired at or before `now` and were not purged yet, oldest expiry first. */
export async function expiredArtifacts(db: Db, now: number, limit: number): Promise<ExpiredArtifact[]> {
  const rows = await db.k
    .selectFrom("artifacts")
    .select(["id", "job_id", "path"])
    .where("expires_at", "<=", now)
    .where("purged_at", "is", null)
    .orderBy("expires_at")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), jobId: Number(r.job_id), path: r.path }));
}

/** Records that these artifacts' files are gone; the rows stay so downloads can say "expired". */
export async function markArtifactsPurged(db: Db, ids: number[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 500)
    await db.k
      .updateTable("artifacts")
      .set({ purged_at: now })
      .where("id", "in", ids.slice(i, i + 500))
      .execute();
}
