import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { getJob, getPipeline } from "../../src/store/pipelines.js";
import { readLog } from "../../src/store/logs.js";
import { PROTOCOL_VERSION, type LeasedJob } from "../../src/runner/protocol.js";
import { job, plan, startPlan } from "../store/helpers.js";
import { MASK } from "../../src/engine/mask.js";
import type { Plan } from "../../src/pipeline/plan.js";
import { databases, testServer, type TestServer } from "./helpers.js";

const OK = { status: "success", exitCode: 0, durationMs: 1, allowedFailure: false, retryable: false };
const V = { "gantry-protocol": String(PROTOCOL_VERSION) };

for (const kind of databases()) {
  describe(`runner protocol ${PROTOCOL_VERSION} (batched results) on ${kind}`, () => {
    let s: TestServer;
    beforeEach(async () => {
      s = await testServer(kind, { maxLeaseWaitMs: 10_000 });
    });
    afterEach(async () => s.close());

    async function runner(name: string, labels: string[] = []): Promise<string> {
      const token = (await s.call("POST", "/api/v1/runners", { body: { name, labels } })).json
        .token as string;
      const reg = await s.call("POST", "/api/v1/runner/register", {
        token,
        headers: V,
        body: {
          protocolVersion: PROTOCOL_VERSION,
          name,
          labels,
          executors: ["shell"],
          concurrency: 4,
          version: "t",
        },
      });
      expect(reg.status).toBe(200);
      return token;
    }

    const pipeline = (p: Plan) => startPlan(s.services.db, p, "b".repeat(40));

    const lease = async (token: string, body: Record<string, unknown>) => {
      const r = await s.call("POST", "/api/v1/runner/lease", { token, headers: V, body });
      expect(r.status).toBe(200);
      return r.json as { jobs: LeasedJob[]; results?: unknown[] };
    };

    it("a lease carries results: stored first, answered in order, and it does not wait for work", async () => {
      const id = await pipeline(plan([job("a"), job("b"), job("c")]));
      const t = await runner("r1");
      const first = await lease(t, { slots: 2, waitMs: 0 });
      expect(first.jobs.map((j) => [j.jobKey, j.attempt, j.plan.jobs.map((pj) => pj.id)])).toEqual([
        ["a", 1, ["a"]],
        ["b", 1, ["b"]],
      ]);
      expect(first.results).toBeUndefined();
      const [a, b] = first.jobs;
      const started = Date.now();
      const second = await lease(t, {
        slots: 4,
        waitMs: 60_000,
        results: [
          { id: a!.id, attempt: 1, outcome: OK, logs: [{ seq: 1, text: "a done\n" }] },
          { id: b!.id, attempt: 1, outcome: { ...OK, status: "failed", exitCode: 2 } },
        ],
      });
      expect(second.results).toEqual([
        { id: a!.id, status: "success", retried: false },
        { id: b!.id, status: "failed", retried: false },
      ]);
      expect(second.jobs.map((j) => j.jobKey)).toEqual(["c"]);
      expect((await readLog(s.services.db, a!.id, 1, 0, 100)).toString()).toBe("a done\n");
      expect((await getJob(s.services.db, b!.id))?.exit_code).toBe(2);
      // Results but no more work: it answers at once instead of holding the long poll.
      const third = await lease(t, {
        slots: 3,
        waitMs: 60_000,
        results: [{ id: second.jobs[0]!.id, attempt: 1, outcome: OK }],
      });
      expect(third).toEqual({
        jobs: [],
        results: [{ id: second.jobs[0]!.id, status: "success", retried: false }],
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await getPipeline(s.services.db, id))?.status).toBe("failed");
    });

    it("finish: one answer per result; a repeat is a duplicate, another runner's job is lease_lost; logs are masked", async () => {
      await pipeline(
        plan([job("x"), job("y"), job("gpu", { executor: { kind: "shell", labels: ["gpu"] } })]),
      );
      const plain = await runner("plain");
      const gpu = await runner("gpu", ["gpu"]);
      // Batched leasing honours labels: the plain runner gets x and y only, even with slots to spare.
      const mine = await lease(plain, { slots: 8, waitMs: 0 });
      expect(mine.jobs.map((j) => j.jobKey)).toEqual(["x", "y"]);
      const theirs = await lease(gpu, { slots: 8, waitMs: 0 });
      expect(theirs.jobs.map((j) => j.jobKey)).toEqual(["gpu"]);
      const [x, y] = mine.jobs;
      s.services.jobSecrets.set(x!.id, new Set(["hunter2-secret"]));
      const body = {
        results: [
          { id: x!.id, attempt: 1, outcome: OK, logs: [{ seq: 1, text: "token=hunter2-secret\n" }] },
          { id: theirs.jobs[0]!.id, attempt: 1, outcome: OK },
          { id: y!.id, attempt: 1, outcome: OK },
        ],
      };
      const r = await s.call("POST", "/api/v1/runner/finish", { token: plain, headers: V, body });
      expect(r.status).toBe(200);
      expect(r.json.results).toEqual([
        { id: x!.id, status: "success", retried: false },
        {
          id: theirs.jobs[0]!.id,
          error: { code: "lease_lost", message: expect.stringContaining("result refused") },
        },
        { id: y!.id, status: "success", retried: false },
      ]);
      expect((await readLog(s.services.db, x!.id, 1, 0, 100)).toString()).toBe(`token=${MASK}\n`);
      expect((await getJob(s.services.db, theirs.jobs[0]!.id))?.status).toBe("running");
      // The same request again (its answer was lost on the way): duplicates, nothing changes.
      const again = await s.call("POST", "/api/v1/runner/finish", { token: plain, headers: V, body });
      expect(again.json.results[0]).toEqual({
        id: x!.id,
        status: "success",
        retried: false,
        duplicate: true,
      });
      expect(again.json.results[2]).toMatchObject({ duplicate: true });
      expect((await readLog(s.services.db, x!.id, 1, 0, 100)).toString()).toBe(`token=${MASK}\n`);
      // The single-job route answers 409 for a result it refuses.
      const single = await s.call("POST", `/api/v1/runner/jobs/${theirs.jobs[0]!.id}/finish`, {
        token: plain,
        headers: V,
        body: { attempt: 1, outcome: OK },
      });
      expect(single.status).toBe(409);
      // Bounds: at most 64 results, and at least one.
      const many = Array.from({ length: 65 }, () => ({ id: x!.id, attempt: 1, outcome: OK }));
      expect(
        (await s.call("POST", "/api/v1/runner/finish", { token: plain, headers: V, body: { results: many } }))
          .status,
      ).toBe(400);
      expect(
        (await s.call("POST", "/api/v1/runner/finish", { token: plain, headers: V, body: { results: [] } }))
          .status,
      ).toBe(400);
    });

    it("refuses a protocol 1 runner on every runner route, saying which versions", async () => {
      const t = await runner("old");
      for (const [url, body] of [
        ["/api/v1/runner/lease", { slots: 1, waitMs: 0 }],
        ["/api/v1/runner/finish", { results: [{ id: 1, attempt: 1, outcome: OK }] }],
      ] as const) {
        const r = await s.call("POST", url, { token: t, headers: { "gantry-protocol": "1" }, body });
        expect(r.status).toBe(426);
        expect(r.json.error).toMatchObject({
          code: "protocol_mismatch",
          details: { server: PROTOCOL_VERSION, runner: 1 },
        });
        expect(r.json.error.message).toContain(
          `runner protocol version 1 is not supported by this server (protocol ${PROTOCOL_VERSION})`,
        );
      }
      const reg = await s.call("POST", "/api/v1/runner/register", {
        token: t,
        body: {
          protocolVersion: 1,
          name: "old",
          labels: [],
          executors: ["shell"],
          concurrency: 1,
          version: "0",
        },
      });
      expect(reg.status).toBe(426);
    });
  });
}
