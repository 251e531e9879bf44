import path from "node:path";
import fs from "node:fs";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Db, Schema } from "./schema.js";
import { migrate } from "./migrations.js";

/** Where the database lives: a SQLite file, or a PostgreSQL URL (`postgres://...`). */
export type DbLocation = { sqlite: string } | { url: string };

/** Opens the database (creating the SQLite file and folder if needed) and brings the schema up to date. */
export async function openDb(where: DbLocation): Promise<Db> {
  const db = "url" in where ? await openPostgres(where.url) : await openSqlite(where.sqlite);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

async function openSqlite(file: string): Promise<Db> {
  const { default: Database } = await import("better-sqlite3");
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const native = new Database(file);
  native.pragma("journal_mode = WAL");
  // Another process holding the write lock makes us wait instead of failing at once.
  native.pragma("busy_timeout = 5000");
  native.pragma("synchronous = NORMAL");
  native.pragma("foreign_keys = OFF");
  // Kysely prepares every query anew; better-sqlite3 statements are reusable, and our
  // queries repeat, so keep the prepared ones (bounded).
  const statements = new Map<string, ReturnType<typeof native.prepare>>();
  const database = {
    close: () => native.close(),
    prepare: (text: string) => {
      let st = statements.get(text);
      if (!st) {
        st = native.prepare(text);
        if (statements.size >= 500) statements.delete(statements.keys().next().value!);
        statements.set(text, st);
      }
      return st;
    },
  };
  const k = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  return { k, dialect: "sqlite", close: () => k.destroy() };
}

async function openPostgres(url: string): Promise<Db> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // int8 (counts, bigint millisecond times) as numbers: every value we store fits in 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // Fail fast with the driver's message when the URL is wrong.
  const client = await pool.connect();
  client.release();
  const k = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return { k, dialect: "postgres", close: () => k.destroy() };
}
