import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { openDb } from "../../src/store/db.js";
import { createPipeline, startPipeline } from "../../src/store/pipelines.js";
import { createProject } from "../../src/store/projects.js";
import type { Db } from "../../src/store/schema.js";
import type { Job, Plan } from "../../src/pipeline/plan.js";

/** The PostgreSQL URL for tests, or undefined (then PostgreSQL suites are skipped, loudly). */
export const PG_URL = process.env.GANTRY_TEST_PG_URL;

let warned = false;
/** The databases every store suite runs against. */
export function databases(): ("sqlite" | "postgres")[] {
  if (!PG_URL && !warned) {
    warned = true;
    process.stderr.write(
      "\n!!! GANTRY_TEST_PG_URL is not set: PostgreSQL store tests are SKIPPED. Set it to postgres://user:pass@127.0.0.1:5432/db (see docs/server.md).\n\n",
    );
  }
  return PG_URL ? ["sqlite", "postgres"] : ["sqlite"];
}

/** A fresh, empty database of the given kind; `drop()` removes it. */
export async function freshDb(
  kind: "sqlite" | "postgres",
): Promise<{ db: Db; url: string; drop: () => Promise<void>; reopen: () => Promise<Db> }> {
  if (kind === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-store-"));
    const file = path.join(dir, "gantry.db");
    const db = await openDb({ sqlite: file });
    return {
      db,
      url: file,
      reopen: () => openDb({ sqlite: file }),
      drop: async () => {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await freshPgDatabase();
  const db = await openDb({ url });
  return {
    db,
    url,
    reopen: () => openDb({ url }),
    drop: async () => {
      await db.close();
      await drop();
    },
  };
}

/** Creates an empty PostgreSQL database next to the one in `GANTRY_TEST_PG_URL`. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { default: pg } = await import("pg");
  const name = `gantry_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_URL!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        // FORCE ends the connections still open; one that belongs to a background process of
        // the server (seen in CI: "must be a member of the role whose process is being
        // terminated") goes away by itself a moment later, so try again.
        for (let attempt = 1; ; attempt++) {
          try {
            await c.query(`drop database if exists ${name} with (force)`);
            return;
          } catch (err) {
            if (attempt >= 10) throw err;
            await new Promise((r) => setTimeout(r, 300));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}

/** A job of a test plan with defaults for every field. */
export function job(id: string, extra: Partial<Job> = {}): Job {
  return {
    id,
    name: id,
    stage: "test",
    needsMode: "explicit",
    needs: [],
    artifactsFrom: [],
    when: "on_success",
    allowFailure: false,
    retry: { max: 0, when: [] },
    variables: {},
    executor: { kind: "shell", labels: [] },
    steps: [{ kind: "sh", script: `echo ${id}` }],
    afterSteps: [],
    post: {},
    cache: [],
    loc: { file: "gantry.yml", line: 1, column: 1 },
    ...extra,
  };
}

export function needs(...ids: string[]): Job["needs"] {
  return ids.map((j) => ({ job: j, artifacts: false }));
}

export function plan(jobs: Job[]): Plan {
  return {
    version: 1,
    format: "gantry",
    file: "gantry.yml",
    stages: [...new Set(jobs.map((j) => j.stage))],
    parameters: [],
    triggers: [],
    options: {},
    jobs,
    post: {},
    executor: { kind: "shell", labels: [] },
    variables: {},
  };
}

/** A new project with one pipeline of `p`, started (jobs created) at commit `sha`; its id. */
export async function startPlan(db: Db, p: Plan, sha = "a".repeat(40)): Promise<number> {
  const projectId = await createProject(db, {
    name: `p${Math.random().toString(36).slice(2)}`,
    repo: "/tmp/x",
    defaultBranch: "main",
    pipelineFile: null,
    webhookSecret: null,
  });
  const id = await createPipeline(db, {
    projectId,
    ref: "main",
    trigger: "api",
    variables: {},
    params: {},
    createdBy: "t",
  });
  await startPipeline(db, id, p, sha);
  return id;
}
