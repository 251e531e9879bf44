import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import type { JobOutcome, JobRunContext } from "../../src/engine/types.js";
import {
  databases,
  finishedPipeline,
  makeRepo,
  startRunner,
  testServer,
  waitFor,
  type TestServer,
} from "../server/helpers.js";

const JOBS = 24;
const CONCURRENCY = 4;

/** A native pipeline of `n` independent jobs. */
function jobs(n: number): string {
  const stages = Array.from(
    { length: n },
    (_, i) => `        - stage: n${i}\n          steps:\n            - echo: "n${i}"\n`,
  );
  return `pipeline:\n  agent: any\n  stages:\n    - stage: Work\n      parallel:\n${stages.join("")}`;
}

/** A project of `n` independent jobs and its pipeline, waited for until its jobs exist; its id. */
async function compiledPipeline(s: TestServer, name: string, n: number): Promise<number> {
  const repo = makeRepo({ "gantry.yml": jobs(n) });
  expect((await s.call("POST", "/api/v1/projects", { body: { name, repo } })).status).toBe(201);
  const id = (await s.call("POST", `/api/v1/projects/${name}/pipelines`, { body: {} })).json.id as number;
  await waitFor(
    async () => (await s.call("GET", `/api/v1/pipelines/${id}`)).json.status === "running",
    "compiled",
  );
  return id;
}

for (const kind of databases()) {
  describe(`runner agent, batched protocol, on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent | undefined;
    beforeEach(async () => {
      s = await testServer(kind);
    });
    afterEach(async () => {
      agent?.stop(true);
      await s.close();
    });

    it(`never runs more than --concurrency jobs, and their results and logs ride on few requests`, async () => {
      const requests = new Map<string, number>();
      s.app.addHook("onRequest", async (req) => {
        const route = req.routeOptions.url ?? req.url;
        if (route.startsWith("/api/v1/runner/")) requests.set(route, (requests.get(route) ?? 0) + 1);
      });
      // Leases the runner holds, seen by the server each time it hands out jobs: a job holds
      // its lease until its result is stored, whichever way the result travels.
      let held = 0;
      s.app.addHook("onSend", async (req) => {
        if (req.routeOptions.url !== "/api/v1/runner/lease") return;
        const r = await s.services.db.k
          .selectFrom("jobs")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("status", "=", "running")
          .executeTakeFirstOrThrow();
        held = Math.max(held, Number(r.n));
      });
      const id = await compiledPipeline(s, "many", JOBS);
      let now = 0;
      let peak = 0;
      let loop: Promise<void>;
      ({ agent, loop } = await startRunner(s, {
        concurrency: CONCURRENCY,
        runJob: async (ctx: JobRunContext): Promise<JobOutcome> => {
          now++;
          peak = Math.max(peak, now);
          ctx.onEvent({
            type: "log",
            runId: ctx.runId,
            jobId: ctx.job.id,
            attempt: ctx.attempt,
            seq: 1,
            stream: "stdout",
            text: `ran ${ctx.job.id}\n`,
            time: Date.now(),
          });
          // Jobs of one lease end at slightly different times.
          await new Promise((r) => setTimeout(r, 5 + (ctx.job.id.length % 3) * 7));
          now--;
          return { status: "success", exitCode: 0, durationMs: 1, allowedFailure: false, retryable: false };
        },
      }));
      const done = await finishedPipeline(s, id);
      expect(done.status).toBe("success");
      expect(done.jobs).toHaveLength(JOBS);
      expect(peak).toBe(CONCURRENCY);
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(CONCURRENCY);
      // Each job's log travelled with its result: no log request of its own.
      for (const j of done.jobs.slice(0, 5))
        expect((await s.call("GET", `/api/v1/jobs/${j.id}/log`)).body).toBe(`ran ${j.key}\n`);
      expect(requests.get("/api/v1/runner/jobs/:id/logs") ?? 0).toBe(0);
      expect(requests.get("/api/v1/runner/jobs/:id/finish") ?? 0).toBe(0);
      const leases = requests.get("/api/v1/runner/lease") ?? 0;
      const finishes = requests.get("/api/v1/runner/finish") ?? 0;
      // Protocol 1 took a lease and a finish per job (2 × JOBS). Results now share requests with
      // leases and with each other; how many share depends on timing (about 0.5 × JOBS on a
      // quiet machine, 1.2 × JOBS seen under CI load), so the bound is 1.5 × JOBS.
      expect(leases + finishes).toBeLessThan(1.5 * JOBS);
      agent.stop();
      await loop;
    });

    it("a result that ends while the lease request waits for work goes at once by finish", async () => {
      await s.close();
      s = await testServer(kind, { maxLeaseWaitMs: 20_000 });
      const finishes: number[] = [];
      s.app.addHook("onRequest", async (req) => {
        if (req.routeOptions.url === "/api/v1/runner/finish") finishes.push(Date.now());
      });
      const id = await compiledPipeline(s, "one", 1);
      let ended = 0;
      let loop: Promise<void>;
      ({ agent, loop } = await startRunner(s, {
        // A free slot: after leasing the only job, the runner long-polls for more.
        concurrency: 2,
        runJob: async (): Promise<JobOutcome> => {
          await new Promise((r) => setTimeout(r, 300));
          ended = Date.now();
          return { status: "success", exitCode: 0, durationMs: 300, allowedFailure: false, retryable: false };
        },
      }));
      const done = await finishedPipeline(s, id);
      expect(done.status).toBe("success");
      // Sent by finish within moments, not held until the 20 s long poll returns.
      expect(finishes).toHaveLength(1);
      expect(finishes[0]! - ended).toBeLessThan(1_000);
      agent.stop();
      await loop;
    });
  });
}
