import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/schema.js";
import { openDb } from "../../src/store/db.js";
import { SCHEMA_VERSION } from "../../src/store/migrations.js";
import { createProject } from "../../src/store/projects.js";
import { createPipeline, listPipelines, startPipeline } from "../../src/store/pipelines.js";
import { leaseJobs, finishJob } from "../../src/store/lease.js";
import { appendLog, readLog } from "../../src/store/logs.js";
import { authenticate, createToken, createUser, hashToken, newToken } from "../../src/store/accounts.js";
import { decrypt, putSecret, resolveSecret } from "../../src/store/secrets.js";
import { randomBytes } from "node:crypto";
import { databases, freshDb, job, plan, startPlan } from "./helpers.js";

for (const kind of databases()) {
  describe(`store on ${kind}`, () => {
    let db: Db;
    let f: Awaited<ReturnType<typeof freshDb>>;
    beforeEach(async () => {
      f = await freshDb(kind);
      db = f.db;
    });
    afterEach(async () => f.drop());

    it("migrations are recorded once and re-opening applies nothing", async () => {
      const rows = await db.k.selectFrom("migrations").selectAll().execute();
      expect(rows.map((r) => Number(r.version)).sort()).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      const again = await f.reopen();
      expect((await again.k.selectFrom("migrations").selectAll().execute()).length).toBe(SCHEMA_VERSION);
      await again.close();
    });

    it("refuses a database from a newer Gantry", async () => {
      await db.k.insertInto("migrations").values({ version: 999, name: "future", applied_at: 0 }).execute();
      await expect(f.reopen()).rejects.toThrow(/newer than this Gantry understands/);
    });

    it("stores ordered log batches once and reads byte ranges", async () => {
      await startPlan(db, plan([job("a")]), "s");
      const [l] = await leaseJobs(db, { runnerId: 1, labels: [], executors: ["shell"] }, 1, 60_000);
      expect(await appendLog(db, l!.jobId, 1, 1, "héllo\n")).toMatchObject({
        kind: "ok",
        offset: 0,
        size: 7,
      });
      expect(await appendLog(db, l!.jobId, 1, 2, "world\n")).toMatchObject({ kind: "ok", offset: 7 });
      expect(await appendLog(db, l!.jobId, 1, 2, "world\n")).toMatchObject({ kind: "ok", duplicate: true });
      expect(await appendLog(db, l!.jobId, 2, 3, "x")).toEqual({ kind: "stale" });
      expect((await readLog(db, l!.jobId, 1, 0, 1e9)).toString()).toBe("héllo\nworld\n");
      expect((await readLog(db, l!.jobId, 1, 3, 10)).toString()).toBe("llo\nwor");
      await finishJob(db, 1, l!.jobId, 1, { status: "success", allowedFailure: false, retryable: false });
      expect(await appendLog(db, l!.jobId, 1, 3, "late")).toEqual({ kind: "stale" });
    });

    it("lists pipelines newest first with keyset pagination and filters", async () => {
      const projectId = await createProject(db, {
        name: "list",
        repo: "/r",
        defaultBranch: "main",
        pipelineFile: null,
        webhookSecret: null,
      });
      for (let i = 0; i < 5; i++)
        await createPipeline(db, {
          projectId,
          ref: i % 2 ? "dev" : "main",
          trigger: "api",
          variables: {},
          params: {},
          createdBy: "t",
        });
      const page1 = await listPipelines(db, { projectId, limit: 2 });
      const page2 = await listPipelines(db, { projectId, limit: 2, beforeId: Number(page1[1]!.id) });
      expect(page1.map((p) => Number(p.id))).toEqual([5, 4]);
      expect(page2.map((p) => Number(p.id))).toEqual([3, 2]);
      expect(
        (await listPipelines(db, { projectId, limit: 10, ref: "dev" })).map((p) => Number(p.id)),
      ).toEqual([4, 2]);
    });

    it("tokens are stored hashed, expire, and authenticate their user", async () => {
      const uid = await createUser(db, "alice", false);
      const tok = newToken("gty");
      await createToken(db, uid, "ci", tok, ["read"], null);
      const old = newToken("gty");
      await createToken(db, uid, "old", old, ["write"], Date.now() - 1);
      const rows = await db.k.selectFrom("tokens").select("hash").execute();
      expect(rows.map((r) => r.hash)).toContain(hashToken(tok));
      expect(JSON.stringify(rows)).not.toContain(tok);
      expect((await authenticate(db, tok))?.user.name).toBe("alice");
      expect(await authenticate(db, old)).toBeUndefined();
      expect(await authenticate(db, "gty_nope")).toBeUndefined();
    });

    it("secrets are encrypted at rest, scoped to their project and to protected refs", async () => {
      const key = randomBytes(32);
      const a = await createProject(db, {
        name: "a",
        repo: "/r",
        defaultBranch: "main",
        pipelineFile: null,
        webhookSecret: null,
      });
      const b = await createProject(db, {
        name: "b",
        repo: "/r",
        defaultBranch: "main",
        pipelineFile: null,
        webhookSecret: null,
      });
      await putSecret(db, key, a, "TOKEN", { kind: "secret", value: "s3cr3t-a" }, false);
      await putSecret(db, key, 0, "GLOBAL", { kind: "secret", value: "s3cr3t-g" }, false);
      await putSecret(
        db,
        key,
        a,
        "PROD",
        { kind: "usernamePassword", username: "u", password: "p4ss" },
        true,
      );
      const raw = JSON.stringify(await db.k.selectFrom("secrets").selectAll().execute());
      expect(raw).not.toContain("s3cr3t");
      expect(raw).not.toContain("p4ss");
      expect(await resolveSecret(db, key, a, "TOKEN", false)).toEqual({ kind: "secret", value: "s3cr3t-a" });
      expect(await resolveSecret(db, key, b, "TOKEN", false)).toBeUndefined();
      expect(await resolveSecret(db, key, b, "GLOBAL", false)).toEqual({ kind: "secret", value: "s3cr3t-g" });
      expect(await resolveSecret(db, key, a, "PROD", false)).toBeUndefined();
      expect(await resolveSecret(db, key, a, "PROD", true)).toMatchObject({ password: "p4ss" });
      const row = await db.k
        .selectFrom("secrets")
        .select("ciphertext")
        .where("name", "=", "TOKEN")
        .executeTakeFirstOrThrow();
      expect(() => decrypt(randomBytes(32), row.ciphertext)).toThrow();
    });

    it("8 concurrent leasers never lease a job twice (2,000 jobs)", async () => {
      const projectId = await createProject(db, {
        name: "race",
        repo: "/r",
        defaultBranch: "main",
        pipelineFile: null,
        webhookSecret: null,
      });
      for (let p = 0; p < 4; p++) {
        const pid = await createPipeline(db, {
          projectId,
          ref: "main",
          trigger: "api",
          variables: {},
          params: {},
          createdBy: "t",
        });
        await startPipeline(db, pid, plan(Array.from({ length: 500 }, (_, i) => job(`j${i}`))), "s");
      }
      // SQLite: one connection per process (better-sqlite3 is synchronous, so a second
      // connection in the same thread would block on the first); PostgreSQL: 8 pools.
      const conns =
        kind === "sqlite"
          ? Array.from({ length: 8 }, () => db)
          : await Promise.all(Array.from({ length: 8 }, () => openDb({ url: f.url })));
      const seen = new Map<number, number>();
      await Promise.all(
        conns.map(async (c, r) => {
          for (let rounds = 0; rounds < 2_000; rounds++) {
            const got = await leaseJobs(c, { runnerId: r + 1, labels: [], executors: ["shell"] }, 8, 60_000);
            if (got.length === 0) break;
            for (const l of got) {
              seen.set(l.jobId, (seen.get(l.jobId) ?? 0) + 1);
              await finishJob(c, r + 1, l.jobId, l.attempt, {
                status: "success",
                allowedFailure: false,
                retryable: false,
              });
            }
          }
        }),
      );
      if (kind === "postgres") await Promise.all(conns.map((c) => c.close()));
      expect(seen.size).toBe(2_000);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const left = await db.k.selectFrom("jobs").select("id").where("status", "!=", "success").execute();
      expect(left).toEqual([]);
      const done = await db.k.selectFrom("pipelines").select("status").execute();
      expect(done.map((p) => p.status)).toEqual(["success", "success", "success", "success"]);
    }, 120_000);
  });
}
