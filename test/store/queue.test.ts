import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/schema.js";
import { getJob, getPipeline, pipelineJobs } from "../../src/store/pipelines.js";
import {
  cancelPipeline,
  decideInput,
  heartbeat,
  playJob,
  reapExpiredLeases,
  retryJob,
} from "../../src/store/queue.js";
import { finishJob, leaseJobs } from "../../src/store/lease.js";
import { databases, freshDb, job, needs, plan, startPlan } from "./helpers.js";

const OK = { status: "success", exitCode: 0, allowedFailure: false, retryable: false } as const;
const FAIL = { status: "failed", exitCode: 1, allowedFailure: false, retryable: false } as const;
const runner = (id = 1, labels: string[] = []) => ({ runnerId: id, labels, executors: ["shell", "docker"] });

const start = startPlan;

async function statuses(db: Db, pipelineId: number): Promise<Record<string, string>> {
  return Object.fromEntries((await pipelineJobs(db, pipelineId)).map((j) => [j.key, j.status]));
}

async function byKey(db: Db, pipelineId: number, key: string): Promise<number> {
  return Number((await pipelineJobs(db, pipelineId)).find((j) => j.key === key)!.id);
}

for (const kind of databases()) {
  describe(`job queue on ${kind}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      const f = await freshDb(kind);
      db = f.db;
      drop = f.drop;
    });
    afterEach(async () => drop());

    it("queues jobs whose needs are met and runs the DAG in order", async () => {
      const id = await start(
        db,
        plan([
          job("build"),
          job("test", { needs: needs("build") }),
          job("lint"),
          job("deploy", { needs: needs("test", "lint") }),
        ]),
      );
      expect(await statuses(db, id)).toEqual({
        build: "waiting",
        test: "created",
        lint: "waiting",
        deploy: "created",
      });
      const first = await leaseJobs(db, runner(), 10, 60_000);
      expect(first.map((l) => l.key)).toEqual(["build", "lint"]);
      await finishJob(db, 1, first[0]!.jobId, 1, OK);
      expect((await statuses(db, id)).test).toBe("waiting");
      const second = await leaseJobs(db, runner(), 10, 60_000);
      expect(second.map((l) => l.key)).toEqual(["test"]);
      await finishJob(db, 1, second[0]!.jobId, 1, OK);
      expect((await statuses(db, id)).deploy).toBe("created");
      await finishJob(db, 1, first[1]!.jobId, 1, OK);
      const last = await leaseJobs(db, runner(), 10, 60_000);
      const r = await finishJob(db, 1, last[0]!.jobId, 1, OK);
      expect(r).toMatchObject({ kind: "ok", pipelineFinished: "success" });
      const p = await getPipeline(db, id);
      expect(p?.status).toBe("success");
      expect(p?.finished_at).toBeGreaterThan(0);
    });

    it("skips dependents of a failed job, runs on_failure and always jobs, and fails the pipeline", async () => {
      const id = await start(
        db,
        plan([
          job("a"),
          job("b", { needs: needs("a") }),
          job("cleanup", { needs: needs("a"), when: "always" }),
          job("notify", { needs: needs("a"), when: "on_failure" }),
          job("soft", { allowFailure: true }),
          job("after-soft", { needs: needs("soft") }),
        ]),
      );
      const leased = await leaseJobs(db, runner(), 10, 60_000);
      await finishJob(db, 1, leased.find((l) => l.key === "a")!.jobId, 1, FAIL);
      await finishJob(db, 1, leased.find((l) => l.key === "soft")!.jobId, 1, {
        ...FAIL,
        allowedFailure: true,
      });
      const s = await statuses(db, id);
      expect(s).toMatchObject({
        a: "failed",
        b: "skipped",
        cleanup: "waiting",
        notify: "waiting",
        soft: "failed",
        "after-soft": "waiting",
      });
      expect((await getJob(db, await byKey(db, id, "b")))?.reason).toBe("needs failed");
      for (const l of await leaseJobs(db, runner(), 10, 60_000)) await finishJob(db, 1, l.jobId, 1, OK);
      expect((await getPipeline(db, id))?.status).toBe("failed");
    });

    it("marks a pipeline unstable when only an allowed failure failed", async () => {
      const id = await start(db, plan([job("a", { allowFailure: true }), job("b")]));
      const [a, b] = await leaseJobs(db, runner(), 10, 60_000);
      await finishJob(db, 1, a!.jobId, 1, { ...FAIL, allowedFailure: true });
      await finishJob(db, 1, b!.jobId, 1, OK);
      expect((await getPipeline(db, id))?.status).toBe("unstable");
    });

    it("only leases jobs whose labels and executor the runner has", async () => {
      await start(
        db,
        plan([
          job("gpu", { executor: { kind: "shell", labels: ["gpu", "linux"] } }),
          job("img", { executor: { kind: "docker", labels: [], services: [] } }),
        ]),
      );
      expect(
        await leaseJobs(db, { runnerId: 1, labels: ["linux"], executors: ["shell"] }, 10, 60_000),
      ).toEqual([]);
      const got = await leaseJobs(
        db,
        { runnerId: 2, labels: ["linux", "gpu"], executors: ["shell"] },
        10,
        60_000,
      );
      expect(got.map((l) => l.key)).toEqual(["gpu"]);
      expect(
        (await leaseJobs(db, { runnerId: 3, labels: [], executors: ["docker"] }, 10, 60_000)).map(
          (l) => l.key,
        ),
      ).toEqual(["img"]);
    });

    it("retries a failed job when its policy allows and refuses the old attempt's reports", async () => {
      const id = await start(db, plan([job("flaky", { retry: { max: 1, when: [] } })]));
      const [l] = await leaseJobs(db, runner(), 1, 60_000);
      const r = await finishJob(db, 1, l!.jobId, 1, { ...FAIL, retryable: true });
      expect(r).toMatchObject({ kind: "ok", retried: true });
      expect(await finishJob(db, 1, l!.jobId, 1, OK)).toMatchObject({ kind: "stale" });
      const [again] = await leaseJobs(db, runner(), 1, 60_000);
      expect(again?.attempt).toBe(2);
      await finishJob(db, 1, again!.jobId, 2, { ...FAIL, retryable: true });
      expect((await statuses(db, id)).flaky).toBe("failed");
    });

    it("expired lease: retried when the policy allows, else failed with 'runner lost'", async () => {
      const id = await start(
        db,
        plan([job("retry-me", { retry: { max: 2, when: ["runner_system_failure"] } }), job("lost")]),
      );
      const leases = await leaseJobs(db, runner(7), 10, 50);
      const hb = await heartbeat(db, 7, leases[0]!.jobId, 1, 50);
      expect(hb.kind).toBe("ok");
      const reaped = await reapExpiredLeases(db, Date.now() + 1_000);
      expect(reaped.retried).toEqual([leases[0]!.jobId]);
      expect(reaped.failed).toEqual([leases[1]!.jobId]);
      const lost = await getJob(db, leases[1]!.jobId);
      expect(lost).toMatchObject({ status: "failed", reason: "runner lost" });
      const retried = await getJob(db, leases[0]!.jobId);
      expect(retried).toMatchObject({ status: "waiting", attempt: 2 });
      expect(retried?.reason).toContain("runner lost");
      // The lost runner comes back: its heartbeat and result are refused.
      expect(await heartbeat(db, 7, leases[0]!.jobId, 1, 50)).toMatchObject({ kind: "lost" });
      expect(await finishJob(db, 7, leases[0]!.jobId, 1, OK)).toMatchObject({ kind: "stale" });
      const [next] = await leaseJobs(db, runner(8), 1, 60_000);
      await finishJob(db, 8, next!.jobId, 2, OK);
      expect((await getPipeline(db, id))?.status).toBe("failed");
    });

    it("manual jobs wait to be played; inputs wait for a decision", async () => {
      const id = await start(
        db,
        plan([
          job("deploy", { when: "manual" }),
          job("approve", { input: { message: "Ship?", ok: "Yes", parameters: [] } }),
          job("reject-me", { input: { message: "Ship?", ok: "Yes", parameters: [] } }),
        ]),
      );
      expect(await statuses(db, id)).toEqual({ deploy: "manual", approve: "input", "reject-me": "input" });
      expect(await leaseJobs(db, runner(), 10, 60_000)).toEqual([]);
      expect(await playJob(db, await byKey(db, id, "deploy"))).toBe(true);
      expect(await playJob(db, await byKey(db, id, "deploy"))).toBe(false);
      expect(await decideInput(db, await byKey(db, id, "approve"), true, "alice", { ENV: "prod" })).toBe(
        true,
      );
      expect(await decideInput(db, await byKey(db, id, "reject-me"), false, "bob", {})).toBe(true);
      const s = await statuses(db, id);
      expect(s).toEqual({ deploy: "waiting", approve: "waiting", "reject-me": "canceled" });
      const approved = await getJob(db, await byKey(db, id, "approve"));
      expect(JSON.parse(approved!.decision!)).toEqual({
        approved: true,
        by: "alice",
        params: { ENV: "prod" },
      });
    });

    it("retrying a job resets its dependents and reopens the pipeline", async () => {
      const id = await start(db, plan([job("a"), job("b", { needs: needs("a") })]));
      const [a] = await leaseJobs(db, runner(), 1, 60_000);
      await finishJob(db, 1, a!.jobId, 1, FAIL);
      expect(await getPipeline(db, id)).toMatchObject({ status: "failed" });
      expect(await retryJob(db, a!.jobId)).toBe(true);
      expect(await statuses(db, id)).toEqual({ a: "waiting", b: "created" });
      expect((await getPipeline(db, id))?.status).toBe("running");
      const [a2] = await leaseJobs(db, runner(), 1, 60_000);
      expect(a2?.attempt).toBe(2);
      await finishJob(db, 1, a2!.jobId, 2, OK);
      const [b] = await leaseJobs(db, runner(), 1, 60_000);
      await finishJob(db, 1, b!.jobId, 1, OK);
      expect((await getPipeline(db, id))?.status).toBe("success");
    });

    it("cancel: queued jobs at once, running ones through the heartbeat", async () => {
      const id = await start(db, plan([job("a"), job("b"), job("c", { needs: needs("a") })]));
      const [a] = await leaseJobs(db, runner(), 1, 60_000);
      expect(await cancelPipeline(db, id)).toBe(true);
      expect(await statuses(db, id)).toEqual({ a: "running", b: "canceled", c: "canceled" });
      expect(await heartbeat(db, 1, a!.jobId, 1, 60_000)).toMatchObject({ kind: "ok", cancel: true });
      await finishJob(db, 1, a!.jobId, 1, { status: "canceled", allowedFailure: false, retryable: false });
      expect((await getPipeline(db, id))?.status).toBe("canceled");
    });

    it("delayed jobs are not leased before their time", async () => {
      await start(db, plan([job("later", { when: "delayed", startInMs: 60_000 })]));
      expect(await leaseJobs(db, runner(), 1, 60_000)).toEqual([]);
    });
  });
}
