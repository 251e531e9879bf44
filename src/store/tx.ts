import { sql, type Kysely, type Transaction } from "kysely";
import type { Db, Schema } from "./schema.js";

/** What a function inside {@link writeTx} may query with. */
export type Tx = Kysely<Schema> | Transaction<Schema>;

/**
 * Runs `fn` in a write transaction. SQLite: `BEGIN IMMEDIATE`, so the write lock is taken
 * before the first read and two writers (even in two processes) never interleave; WAL and
 * `busy_timeout` make the other wait. PostgreSQL: an ordinary transaction, with row locks
 * (`FOR UPDATE [SKIP LOCKED]`) taken by the queries that need them.
 */
export async function writeTx<T>(db: Db, fn: (trx: Tx) => Promise<T>): Promise<T> {
  if (db.dialect === "postgres") return db.k.transaction().execute(fn);
  return db.k.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const out = await fn(conn);
      await sql`commit`.execute(conn);
      return out;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
