import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/schema.js";
import { getJob, getPipeline, pipelineJobs } from "../../src/store/pipelines.js";
import { reapExpiredLeases, retryJob } from "../../src/store/queue.js";
import { finishJobs, leaseJobs, type Lease } from "../../src/store/lease.js";
import { readLog } from "../../src/store/logs.js";
import { databases, freshDb, job, needs, plan, startPlan } from "./helpers.js";

const OK = { status: "success", exitCode: 0, allowedFailure: false, retryable: false } as const;
const shell = (id: number, labels: string[] = []) => ({ runnerId: id, labels, executors: ["shell"] });

const start = startPlan;

const docker = (id: string) => job(id, { executor: { kind: "docker", labels: [], services: [] } });

for (const kind of databases()) {
  describe(`batched leasing and results on ${kind}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let reopen: () => Promise<Db>;
    beforeEach(async () => {
      const f = await freshDb(kind);
      db = f.db;
      drop = f.drop;
      reopen = f.reopen;
    });
    afterEach(async () => drop());

    it("leases at most `max` jobs, oldest first, matching executors and labels past many unfit jobs", async () => {
      // 40 docker jobs queued before the shell ones: a shell runner must still find these.
      await start(
        db,
        plan([
          ...Array.from({ length: 40 }, (_, i) => docker(`d${i}`)),
          job("s1"),
          job("gpu", { executor: { kind: "shell", labels: ["gpu", "linux"] } }),
          job("s2"),
          job("s3"),
        ]),
      );
      const first = await leaseJobs(db, shell(1), 2, 60_000);
      expect(first.map((l) => l.key)).toEqual(["s1", "s2"]);
      expect(first.every((l) => l.attempt === 1 && l.leaseExpiresAt > Date.now())).toBe(true);
      // A runner with only some of the labels does not get the gpu job; one with all (and more) does.
      expect((await leaseJobs(db, shell(2, ["linux"]), 5, 60_000)).map((l) => l.key)).toEqual(["s3"]);
      expect(await leaseJobs(db, shell(2, ["linux"]), 5, 60_000)).toEqual([]);
      expect((await leaseJobs(db, shell(3, ["gpu", "linux", "x86"]), 5, 60_000)).map((l) => l.key)).toEqual([
        "gpu",
      ]);
      const d = await leaseJobs(db, { runnerId: 4, labels: [], executors: ["docker"] }, 64, 60_000);
      expect(d).toHaveLength(40);
      expect(d.map((l) => l.key)).toEqual(Array.from({ length: 40 }, (_, i) => `d${i}`));
      expect((await getJob(db, d[0]!.jobId))?.runner_id).toBe(4);
    });

    it("8 leasers on their own connections, batches of 5: every job leased exactly once", async () => {
      const N = 200;
      await start(db, plan(Array.from({ length: N }, (_, i) => job(`j${i}`))));
      const conns = await Promise.all(Array.from({ length: 8 }, () => reopen()));
      try {
        const got: Lease[][] = await Promise.all(
          conns.map(async (c, r) => {
            const mine: Lease[] = [];
            for (let i = 0; i < N; i++) {
              const batch = await leaseJobs(c, shell(r + 1), 5, 60_000);
              expect(batch.length).toBeLessThanOrEqual(5);
              if (batch.length === 0) break;
              mine.push(...batch);
            }
            return mine;
          }),
        );
        const ids = got.flat().map((l) => l.jobId);
        expect(ids).toHaveLength(N);
        expect(new Set(ids).size).toBe(N);
        // Every leased row names the runner that leased it.
        for (const [r, leases] of got.entries())
          for (const l of leases.slice(0, 3)) expect((await getJob(db, l.jobId))?.runner_id).toBe(r + 1);
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
    });

    it("a batch of results: each stored once with its log, a stale one refused alone, a repeat changes nothing", async () => {
      const id = await start(
        db,
        plan([
          job("a"),
          job("b"),
          job("lost", { retry: { max: 1, when: [] } }),
          job("flaky", { retry: { max: 1, when: [] } }),
        ]),
      );
      const leases = await leaseJobs(db, shell(1), 2, 60_000);
      const late = await leaseJobs(db, shell(1), 2, 50);
      const [a, b] = leases;
      const [lost, flaky] = late;
      // "lost" and "flaky" expire: both are queued again as attempt 2.
      expect((await reapExpiredLeases(db, Date.now() + 1_000)).retried.sort()).toEqual(
        [lost!.jobId, flaky!.jobId].sort(),
      );
      const batch = [
        { jobId: a!.jobId, attempt: 1, outcome: OK, logs: [{ seq: 1, text: "a says hé\n" }] },
        { jobId: lost!.jobId, attempt: 1, outcome: OK, logs: [{ seq: 1, text: "too late\n" }] },
        {
          jobId: b!.jobId,
          attempt: 1,
          outcome: { ...OK, status: "failed", exitCode: 3, reason: "exit 3" } as const,
          logs: [
            { seq: 2, text: "second\n" },
            { seq: 1, text: "first\n" },
          ],
        },
      ];
      const r = await finishJobs(db, 1, batch);
      expect(r.map((x) => x.kind)).toEqual(["ok", "stale", "ok"]);
      expect(r[1]).toMatchObject({ kind: "stale", status: "waiting", attempt: 2 });
      expect(await getJob(db, a!.jobId)).toMatchObject({ status: "success", runner_id: null, exit_code: 0 });
      expect(await getJob(db, b!.jobId)).toMatchObject({ status: "failed", exit_code: 3, reason: "exit 3" });
      expect((await getJob(db, lost!.jobId))?.status).toBe("waiting");
      // Logs in seq order with byte offsets; the refused result's log is not stored.
      const aSize = Buffer.byteLength("a says hé\n");
      expect(Number((await getJob(db, a!.jobId))?.log_size)).toBe(aSize);
      expect((await readLog(db, a!.jobId, 1, 0, 1_000)).toString()).toBe("a says hé\n");
      expect((await readLog(db, b!.jobId, 1, 0, 1_000)).toString()).toBe("first\nsecond\n");
      expect(Number((await getJob(db, lost!.jobId))?.log_size)).toBe(0);
      // The same batch again (its answer was lost): nothing changes.
      const again = await finishJobs(db, 1, batch);
      expect(again.map((x) => x.kind)).toEqual(["stale", "stale", "stale"]);
      expect(again[0]).toMatchObject({ status: "success", attempt: 1 });
      expect((await readLog(db, b!.jobId, 1, 0, 1_000)).toString()).toBe("first\nsecond\n");
      expect(Number((await getJob(db, a!.jobId))?.log_size)).toBe(aSize);
      // Attempt 2 of both: a retryable failure queues attempt 3... only when the policy allows.
      const next = await leaseJobs(db, shell(2), 5, 60_000);
      expect(next.map((l) => [l.key, l.attempt])).toEqual([
        ["lost", 2],
        ["flaky", 2],
      ]);
      const end = await finishJobs(db, 2, [
        { jobId: next[0]!.jobId, attempt: 2, outcome: OK },
        { jobId: next[1]!.jobId, attempt: 2, outcome: { ...OK, status: "failed", retryable: true } },
      ]);
      // max 1 retry was used by the expiry: attempt 2 failing ends the job, and the pipeline.
      expect(end.map((x) => x.kind === "ok" && x.retried)).toEqual([false, false]);
      expect(end.filter((x) => x.kind === "ok" && x.pipelineFinished === "failed")).toHaveLength(1);
      expect((await getPipeline(db, id))?.status).toBe("failed");
    });

    it("a stage that needs every job of the stage before starts when the last of them ends, again after a retry", async () => {
      const A = ["a1", "a2", "a3", "a4"];
      const id = await start(
        db,
        plan([...A.map((a) => job(a)), job("b1", { needs: needs(...A) }), job("b2", { needs: needs(...A) })]),
      );
      const states = async () =>
        Object.fromEntries((await pipelineJobs(db, id)).map((j) => [j.key, j.status]));
      const leased = await leaseJobs(db, shell(1), 10, 60_000);
      expect(leased.map((l) => l.key)).toEqual(A);
      const byKey = new Map(leased.map((l) => [l.key, l]));
      const done = (...keys: string[]) =>
        finishJobs(
          db,
          1,
          keys.map((k) => ({ jobId: byKey.get(k)!.jobId, attempt: byKey.get(k)!.attempt, outcome: OK })),
        );
      // Ends out of order, in batches: b1 and b2 wait until the very last one.
      await done("a1");
      await done("a4", "a3");
      expect(await states()).toMatchObject({ b1: "created", b2: "created" });
      await done("a2");
      expect(await states()).toMatchObject({ b1: "waiting", b2: "waiting" });
      // Run b1, b2; then retry a3: b1 and b2 are reset and wait for it again.
      const bs = await leaseJobs(db, shell(1), 10, 60_000);
      await finishJobs(
        db,
        1,
        bs.map((l) => ({ jobId: l.jobId, attempt: 1, outcome: OK })),
      );
      expect((await getPipeline(db, id))?.status).toBe("success");
      expect(await retryJob(db, byKey.get("a3")!.jobId)).toBe(true);
      expect(await states()).toMatchObject({ a3: "waiting", b1: "created", b2: "created" });
      const [again] = await leaseJobs(db, shell(2), 10, 60_000);
      expect(again).toMatchObject({ key: "a3", attempt: 2 });
      // This time it fails: both are skipped and the pipeline fails.
      const r = await finishJobs(db, 2, [
        { jobId: again!.jobId, attempt: 2, outcome: { ...OK, status: "failed", exitCode: 1 } },
      ]);
      expect(r[0]).toMatchObject({ kind: "ok", pipelineFinished: "failed" });
      expect(await states()).toMatchObject({ a3: "failed", b1: "skipped", b2: "skipped" });
    });

    it("a retryable failure in a batch queues the next attempt; the rest of the batch is stored", async () => {
      const id = await start(db, plan([job("x", { retry: { max: 2, when: [] } }), job("y")]));
      const [x, y] = await leaseJobs(db, shell(1), 2, 60_000);
      const r = await finishJobs(db, 1, [
        {
          jobId: x!.jobId,
          attempt: 1,
          outcome: { ...OK, status: "failed", retryable: true, reason: "boom" },
        },
        { jobId: y!.jobId, attempt: 1, outcome: OK },
      ]);
      expect(r).toMatchObject([
        { kind: "ok", retried: true, status: "waiting" },
        { kind: "ok", retried: false, status: "success", pipelineFinished: null },
      ]);
      expect(await getJob(db, x!.jobId)).toMatchObject({ status: "waiting", attempt: 2 });
      expect((await getJob(db, x!.jobId))?.reason).toContain("boom");
      expect(Object.fromEntries((await pipelineJobs(db, id)).map((j) => [j.key, j.status]))).toEqual({
        x: "waiting",
        y: "success",
      });
      expect((await getPipeline(db, id))?.status).toBe("running");
    });
  });
}
