import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from "kysely";
import type { Db, Dialect } from "./schema.js";

/** One schema change. Migrations are up-only: never edit a released one, add a new one. */
interface Migration {
  version: number;
  name: string;
  up(k: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

type Table = CreateTableBuilder<string, never>;

function withId(t: Table, dialect: Dialect): Table {
  return dialect === "sqlite"
    ? t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    : t.addColumn("id", "serial", (c) => c.primaryKey());
}

const notNull = (c: ColumnDefinitionBuilder) => c.notNull();

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "initial schema",
    async up(k, d) {
      const s = k.schema;
      await withId(s.createTable("users"), d)
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("is_admin", "integer", notNull)
        .addColumn("created_at", "bigint", notNull)
        .execute();
      await withId(s.createTable("tokens"), d)
        .addColumn("user_id", "integer", notNull)
        .addColumn("name", "text", notNull)
        .addColumn("hash", "text", (c) => c.notNull().unique())
        .addColumn("scopes", "text", notNull)
        .addColumn("expires_at", "bigint")
        .addColumn("created_at", "bigint", notNull)
        .addColumn("last_used_at", "bigint")
        .execute();
      await withId(s.createTable("projects"), d)
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("repo", "text", notNull)
        .addColumn("default_branch", "text", notNull)
        .addColumn("pipeline_file", "text")
        .addColumn("webhook_secret", "text")
        .addColumn("created_at", "bigint", notNull)
        .execute();
      await s
        .createTable("members")
        .addColumn("project_id", "integer", notNull)
        .addColumn("user_id", "integer", notNull)
        .addColumn("role", "text", notNull)
        .addPrimaryKeyConstraint("members_pk", ["project_id", "user_id"])
        .execute();
      await withId(s.createTable("pipelines"), d)
        .addColumn("project_id", "integer", notNull)
        .addColumn("status", "text", notNull)
        .addColumn("ref", "text", notNull)
        .addColumn("sha", "text", notNull)
        .addColumn("trigger", "text", notNull)
        .addColumn("variables", "text", notNull)
        .addColumn("params", "text", notNull)
        .addColumn("plan", "text")
        .addColumn("diagnostics", "text", notNull)
        .addColumn("error", "text")
        .addColumn("created_by", "text", notNull)
        .addColumn("created_at", "bigint", notNull)
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .execute();
      await s.createIndex("pipelines_project").on("pipelines").columns(["project_id", "id"]).execute();
      await s.createIndex("pipelines_status").on("pipelines").columns(["status"]).execute();
      await withId(s.createTable("jobs"), d)
        .addColumn("pipeline_id", "integer", notNull)
        .addColumn("project_id", "integer", notNull)
        .addColumn("key", "text", notNull)
        .addColumn("name", "text", notNull)
        .addColumn("stage", "text", notNull)
        .addColumn("idx", "integer", notNull)
        .addColumn("needs", "text", notNull)
        .addColumn("needs_mode", "text", notNull)
        .addColumn("when_", "text", notNull)
        .addColumn("allow_failure", "integer", notNull)
        .addColumn("max_retries", "integer", notNull)
        .addColumn("retry_when", "text", notNull)
        .addColumn("executor", "text", notNull)
        .addColumn("labels", "text", notNull)
        .addColumn("status", "text", notNull)
        .addColumn("attempt", "integer", notNull)
        .addColumn("available_at", "bigint", notNull)
        .addColumn("runner_id", "integer")
        .addColumn("lease_expires_at", "bigint")
        .addColumn("cancel_requested", "integer", notNull)
        .addColumn("queued_at", "bigint")
        .addColumn("started_at", "bigint")
        .addColumn("finished_at", "bigint")
        .addColumn("exit_code", "integer")
        .addColumn("reason", "text")
        .addColumn("input", "text")
        .addColumn("decision", "text")
        .addColumn("dotenv", "text")
        .addColumn("log_size", "bigint", notNull)
        .execute();
      await s.createIndex("jobs_pipeline").on("jobs").columns(["pipeline_id", "idx"]).execute();
      await s.createIndex("jobs_status").on("jobs").columns(["status", "id"]).execute();
      await s
        .createTable("job_logs")
        .addColumn("job_id", "integer", notNull)
        .addColumn("attempt", "integer", notNull)
        .addColumn("seq", "integer", notNull)
        .addColumn("offset", "bigint", notNull)
        .addColumn("size", "integer", notNull)
        .addColumn("data", "text", notNull)
        .addColumn("created_at", "bigint", notNull)
        .addPrimaryKeyConstraint("job_logs_pk", ["job_id", "attempt", "seq"])
        .execute();
      await withId(s.createTable("artifacts"), d)
        .addColumn("job_id", "integer", notNull)
        .addColumn("path", "text", notNull)
        .addColumn("size", "bigint", notNull)
        .addColumn("created_at", "bigint", notNull)
        .addUniqueConstraint("artifacts_job_path", ["job_id", "path"])
        .execute();
      await withId(s.createTable("runners"), d)
        .addColumn("name", "text", notNull)
        .addColumn("token_hash", "text", (c) => c.notNull().unique())
        .addColumn("labels", "text", notNull)
        .addColumn("executors", "text", notNull)
        .addColumn("version", "text", notNull)
        .addColumn("builtin", "integer", notNull)
        .addColumn("last_seen_at", "bigint")
        .addColumn("created_at", "bigint", notNull)
        .execute();
      await withId(s.createTable("secrets"), d)
        .addColumn("project_id", "integer", notNull)
        .addColumn("name", "text", notNull)
        .addColumn("kind", "text", notNull)
        .addColumn("is_protected", "integer", notNull)
        .addColumn("ciphertext", "text", notNull)
        .addColumn("created_at", "bigint", notNull)
        .addColumn("updated_at", "bigint", notNull)
        .addUniqueConstraint("secrets_project_name", ["project_id", "name"])
        .execute();
      await withId(s.createTable("schedules"), d)
        .addColumn("project_id", "integer", notNull)
        .addColumn("spec", "text", notNull)
        .addColumn("ref", "text", notNull)
        .addColumn("last_fired_at", "bigint")
        .execute();
      await withId(s.createTable("audit"), d)
        .addColumn("at", "bigint", notNull)
        .addColumn("actor", "text", notNull)
        .addColumn("action", "text", notNull)
        .addColumn("target", "text", notNull)
        .addColumn("details", "text", notNull)
        .execute();
    },
  },
  {
    version: 2,
    name: "index jobs by pipeline and status",
    async up(k) {
      // Finishing a job asks "does this pipeline still have pending jobs?": an index seek, not a scan.
      await k.schema
        .createIndex("jobs_pipeline_status")
        .on("jobs")
        .columns(["pipeline_id", "status"])
        .execute();
    },
  },
  {
    version: 3,
    name: "ref kinds of pipelines, artifact expiry",
    async up(k) {
      // "branch", "tag" or "commit" once the ref is resolved; null for pipelines before this.
      await k.schema.alterTable("pipelines").addColumn("ref_kind", "text").execute();
      // When the artifact expires (GitLab `expire_in`); null keeps it. `purged_at`: its file is gone.
      await k.schema.alterTable("artifacts").addColumn("expires_at", "bigint").execute();
      await k.schema.alterTable("artifacts").addColumn("purged_at", "bigint").execute();
      await k.schema.createIndex("artifacts_expires").on("artifacts").columns(["expires_at"]).execute();
    },
  },
  {
    version: 4,
    name: "job states of a pipeline from the index alone",
    async up(k) {
      // Advancing a pipeline reads every job's status and allowance: from this index alone, not
      // from rows whose long `needs` SQLite would read through. Replaces (pipeline_id, status).
      await k.schema
        .createIndex("jobs_pipeline_state")
        .on("jobs")
        .columns(["pipeline_id", "status", "allow_failure"])
        .execute();
      await k.schema.dropIndex("jobs_pipeline_status").execute();
    },
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Applies every migration newer than the database's version, each in its own transaction.
 * Refuses a database written by a newer Gantry (it could misread it).
 */
export async function migrate(db: Db): Promise<number[]> {
  const k = db.k as unknown as Kysely<unknown>;
  await k.schema
    .createTable("migrations")
    .ifNotExists()
    .addColumn("version", "integer", (c) => c.primaryKey())
    .addColumn("name", "text", notNull)
    .addColumn("applied_at", "bigint", notNull)
    .execute();
  const rows = await db.k.selectFrom("migrations").select("version").execute();
  const have = new Set(rows.map((r) => Number(r.version)));
  const newest = Math.max(0, ...have);
  if (newest > SCHEMA_VERSION)
    throw new Error(
      `the database has schema version ${newest}, newer than this Gantry understands (${SCHEMA_VERSION}); upgrade Gantry`,
    );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (have.has(m.version)) continue;
    await db.k.transaction().execute(async (trx) => {
      // PostgreSQL: serialise concurrent starters so two replicas never run one migration twice.
      if (db.dialect === "postgres") await sql`select pg_advisory_xact_lock(4242)`.execute(trx);
      const again = await trx
        .selectFrom("migrations")
        .select("version")
        .where("version", "=", m.version)
        .executeTakeFirst();
      if (again) return;
      await m.up(trx as unknown as Kysely<unknown>, db.dialect);
      await trx
        .insertInto("migrations")
        .values({ version: m.version, name: m.name, applied_at: Date.now() })
        .execute();
      applied.push(m.version);
    });
  }
  return applied;
}
