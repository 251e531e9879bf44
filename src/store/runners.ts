import type { Selectable } from "kysely";
import type { Db, Schema } from "./schema.js";
import { hashToken } from "./accounts.js";

export type RunnerRow = Selectable<Schema["runners"]>;

export async function createRunner(
  db: Db,
  name: string,
  token: string,
  labels: string[],
  builtin: boolean,
): Promise<number> {
  const r = await db.k
    .insertInto("runners")
    .values({
      name,
      token_hash: hashToken(token),
      labels: JSON.stringify(labels),
      executors: "[]",
      version: "",
      builtin: builtin ? 1 : 0,
      last_seen_at: null,
      created_at: Date.now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function runnerByToken(db: Db, token: string): Promise<RunnerRow | undefined> {
  return db.k.selectFrom("runners").selectAll().where("token_hash", "=", hashToken(token)).executeTakeFirst();
}

/** Records what a runner told us when it registered. */
export async function registerRunner(
  db: Db,
  id: number,
  info: { labels: string[]; executors: string[]; version: string },
): Promise<void> {
  await db.k
    .updateTable("runners")
    .set({
      labels: JSON.stringify(info.labels),
      executors: JSON.stringify(info.executors),
      version: info.version,
      last_seen_at: Date.now(),
    })
    .where("id", "=", id)
    .execute();
}

export async function touchRunner(db: Db, id: number): Promise<void> {
  await db.k.updateTable("runners").set({ last_seen_at: Date.now() }).where("id", "=", id).execute();
}

export async function listRunners(db: Db): Promise<RunnerRow[]> {
  return db.k.selectFrom("runners").selectAll().orderBy("id").execute();
}

export async function getRunner(db: Db, id: number): Promise<RunnerRow | undefined> {
  return db.k.selectFrom("runners").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function deleteRunner(db: Db, id: number): Promise<void> {
  await db.k.deleteFrom("runners").where("id", "=", id).execute();
}

/** Job ids each runner holds now. */
export async function runnerJobs(db: Db): Promise<Map<number, number[]>> {
  const rows = await db.k
    .selectFrom("jobs")
    .select(["id", "runner_id"])
    .where("status", "=", "running")
    .where("runner_id", "is not", null)
    .execute();
  const out = new Map<number, number[]>();
  for (const r of rows) out.set(Number(r.runner_id), [...(out.get(Number(r.runner_id)) ?? []), Number(r.id)]);
  return out;
}
