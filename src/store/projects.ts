import type { Selectable } from "kysely";
import type { Db, Schema } from "./schema.js";

export type ProjectRow = Selectable<Schema["projects"]>;

export interface NewProject {
  name: string;
  repo: string;
  defaultBranch: string;
  pipelineFile: string | null;
  webhookSecret: string | null;
}

export async function createProject(db: Db, p: NewProject): Promise<number> {
  const r = await db.k
    .insertInto("projects")
    .values({
      name: p.name,
      repo: p.repo,
      default_branch: p.defaultBranch,
      pipeline_file: p.pipelineFile,
      webhook_secret: p.webhookSecret,
      created_at: Date.now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function findProject(db: Db, name: string): Promise<ProjectRow | undefined> {
  return db.k.selectFrom("projects").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function projectById(db: Db, id: number): Promise<ProjectRow | undefined> {
  return db.k.selectFrom("projects").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listProjects(db: Db): Promise<ProjectRow[]> {
  return db.k.selectFrom("projects").selectAll().orderBy("name").execute();
}

export async function updateProject(
  db: Db,
  id: number,
  set: Partial<Omit<NewProject, "name">>,
): Promise<void> {
  const values: {
    repo?: string;
    default_branch?: string;
    pipeline_file?: string | null;
    webhook_secret?: string | null;
  } = {};
  if (set.repo !== undefined) values.repo = set.repo;
  if (set.defaultBranch !== undefined) values.default_branch = set.defaultBranch;
  if (set.pipelineFile !== undefined) values.pipeline_file = set.pipelineFile;
  if (set.webhookSecret !== undefined) values.webhook_secret = set.webhookSecret;
  if (Object.keys(values).length > 0)
    await db.k.updateTable("projects").set(values).where("id", "=", id).execute();
}

/** Deletes a project and everything that belongs to it. */
export async function deleteProject(db: Db, id: number): Promise<void> {
  await db.k.transaction().execute(async (trx) => {
    const jobIds = trx.selectFrom("jobs").select("id").where("project_id", "=", id);
    await trx.deleteFrom("job_logs").where("job_id", "in", jobIds).execute();
    await trx.deleteFrom("artifacts").where("job_id", "in", jobIds).execute();
    await trx.deleteFrom("jobs").where("project_id", "=", id).execute();
    await trx.deleteFrom("pipelines").where("project_id", "=", id).execute();
    await trx.deleteFrom("members").where("project_id", "=", id).execute();
    await trx.deleteFrom("secrets").where("project_id", "=", id).execute();
    await trx.deleteFrom("schedules").where("project_id", "=", id).execute();
    await trx.deleteFrom("projects").where("id", "=", id).execute();
  });
}
