import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import { BadExpiry, artifactExpiry, sweepExpiredArtifacts } from "../../src/server/artifact-expiry.js";
import { startServer } from "../../src/server/server.js";
import {
  databases,
  finishedPipeline,
  makeRepo,
  startRunner,
  testServer,
  waitFor,
  type TestServer,
} from "./helpers.js";
import { freshPgDatabase } from "../store/helpers.js";

const GITLAB_CI = `short:
  script: [mkdir -p out/deep, echo short > out/deep/s.txt]
  artifacts:
    paths: [out/]
    expire_in: 1 sec
forever:
  script: [echo keep > keep.txt]
  artifacts:
    paths: [keep.txt]
    expire_in: never
week:
  script: [echo w > w.txt]
  artifacts:
    paths: [w.txt]
    expire_in: 1 week
`;

describe("artifactExpiry", () => {
  const now = 1_000_000;
  const gl = (expireIn?: string) => ({
    artifacts: {
      paths: [],
      exclude: [],
      when: "on_success" as const,
      reports: { junit: [], dotenv: [] },
      ...(expireIn !== undefined ? { expireIn } : {}),
    },
  });
  it("reads GitLab durations, never, Jenkins' artifactDaysToKeepStr and the server default", () => {
    expect(artifactExpiry(undefined, gl("1 week"), now)).toBe(now + 7 * 86_400_000);
    expect(artifactExpiry(undefined, gl("3 days 4 hrs"), now)).toBe(now + (3 * 24 + 4) * 3_600_000);
    expect(artifactExpiry(undefined, gl("30 mins"), now)).toBe(now + 30 * 60_000);
    expect(artifactExpiry(undefined, gl("42"), now)).toBe(now + 42_000);
    expect(artifactExpiry(undefined, gl("never"), now, 1_000)).toBeNull();
    expect(artifactExpiry(undefined, gl("Never"), now)).toBeNull();
    expect(() => artifactExpiry(undefined, gl("soon"), now)).toThrow(BadExpiry);
    const jenkins = { options: { buildDiscarder: { artifactDaysToKeepStr: "2", numToKeepStr: "5" } } };
    expect(artifactExpiry(jenkins, { artifacts: undefined }, now)).toBe(now + 2 * 86_400_000);
    expect(artifactExpiry(jenkins, gl("1 hour"), now)).toBe(now + 3_600_000);
    expect(artifactExpiry({ options: {} }, gl(), now)).toBeNull();
    expect(artifactExpiry({ options: {} }, gl(), now, 5_000)).toBe(now + 5_000);
  });
});

for (const kind of databases()) {
  describe(`artifact expiry through a runner on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent;
    let loop: Promise<void>;
    let jobs: Record<string, number>;

    beforeAll(async () => {
      s = await testServer(kind);
      ({ agent, loop } = await startRunner(s, { concurrency: 3 }));
      const repo = makeRepo({ ".gitlab-ci.yml": GITLAB_CI });
      expect((await s.call("POST", "/api/v1/projects", { body: { name: "exp", repo } })).status).toBe(201);
      const id = (await s.call("POST", "/api/v1/projects/exp/pipelines", { body: {} })).json.id as number;
      const p = await finishedPipeline(s, id);
      expect(p.status).toBe("success");
      jobs = Object.fromEntries(p.jobs.map((j: { key: string; id: number }) => [j.key, j.id]));
    });
    afterAll(async () => {
      agent.stop(true);
      await loop;
      await s.close();
    });

    const list = async (key: string) => (await s.call("GET", `/api/v1/jobs/${jobs[key]}/artifacts`)).json;
    const download = (key: string, file: string) =>
      s.call("GET", `/api/v1/jobs/${jobs[key]}/artifacts/${file}`);

    it("records each job's expiry, answers 410 once it passed, and a sweep deletes only expired files", async () => {
      const [short] = await list("short");
      const [forever] = await list("forever");
      const [week] = await list("week");
      expect(short).toMatchObject({ path: "out/deep/s.txt", expiresAt: expect.any(String) });
      expect(Date.parse(short.expiresAt) - Date.parse(short.createdAt)).toBeGreaterThanOrEqual(1_000);
      expect(Date.parse(short.expiresAt) - Date.parse(short.createdAt)).toBeLessThan(3_000);
      expect(forever).toMatchObject({ path: "keep.txt", expiresAt: null, expired: false });
      expect(Date.parse(week.expiresAt) - Date.parse(week.createdAt)).toBeGreaterThanOrEqual(7 * 86_400_000);
      expect(week.expired).toBe(false);

      const file = path.join(s.dataDir, "artifacts", String(jobs.short), "out/deep/s.txt");
      expect(fs.existsSync(file)).toBe(true);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(short.expiresAt) - Date.now() + 50)));
      const gone = await download("short", "out/deep/s.txt");
      expect(gone.status).toBe(410);
      expect(gone.json.error.code).toBe("gone");
      expect(gone.json.error.message).toMatch(/out\/deep\/s\.txt.*expired at .*expire_in/);
      expect((await list("short"))[0].expired).toBe(true);

      expect(await sweepExpiredArtifacts(s.services.db, s.dataDir)).toBe(1);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.existsSync(path.join(s.dataDir, "artifacts", String(jobs.short)))).toBe(false);
      expect((await download("short", "out/deep/s.txt")).status).toBe(410);
      expect(await sweepExpiredArtifacts(s.services.db, s.dataDir)).toBe(0);

      const kept = await download("forever", "keep.txt");
      expect(kept.status).toBe(200);
      expect(kept.body).toBe("keep\n");
      expect((await download("week", "w.txt")).status).toBe(200);
      // A week from now the weekly one goes too; "never" stays.
      expect(await sweepExpiredArtifacts(s.services.db, s.dataDir, Date.now() + 8 * 86_400_000)).toBe(1);
      expect((await download("forever", "keep.txt")).status).toBe(200);
    });
  });
}

describe("gantry server deletes expired artifacts", () => {
  it("periodically and once at start", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-expiry-"));
    const pg = databases().includes("postgres") ? await freshPgDatabase() : undefined;
    const start = () =>
      startServer({
        port: 0,
        host: "127.0.0.1",
        dataDir,
        ...(pg ? { databaseUrl: pg.url } : {}),
        builtinRunner: false,
        artifactSweepMs: 100,
        log: pino({ level: "silent" }),
        env: { GANTRY_BOOTSTRAP_TOKEN: "gty_expiry_test" },
      });
    const plant = async (db: Awaited<ReturnType<typeof start>>["db"], jobId: number, expiresAt: number) => {
      const file = path.join(dataDir, "artifacts", String(jobId), "dist", "app.bin");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "x");
      await db.k
        .insertInto("artifacts")
        .values({
          job_id: jobId,
          path: "dist/app.bin",
          size: 1,
          created_at: Date.now(),
          expires_at: expiresAt,
        })
        .execute();
      return file;
    };
    try {
      let server = await start();
      const periodic = await plant(server.db, 901, Date.now() + 300);
      const kept = await plant(server.db, 902, Date.now() + 3_600_000);
      await waitFor(async () => !fs.existsSync(periodic), "the periodic sweep", 5_000);
      expect(fs.existsSync(kept)).toBe(true);
      // Expired while the server was down: gone as soon as it is back.
      const whileDown = await plant(server.db, 903, Date.now() + 400);
      await server.close();
      await new Promise((r) => setTimeout(r, 500));
      expect(fs.existsSync(whileDown)).toBe(true);
      server = await start();
      expect(fs.existsSync(whileDown)).toBe(false);
      expect(fs.existsSync(kept)).toBe(true);
      await server.close();
    } finally {
      await pg?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
