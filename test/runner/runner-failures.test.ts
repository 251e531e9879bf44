import { afterEach, describe, expect, it } from "vitest";
import { databases, makeRepo } from "../server/helpers.js";
import { freshPgDatabase } from "../store/helpers.js";
import { api, gantry, startServerProc, tmpDir, waitForLine, type Proc } from "./harness.js";

const TOKEN = "gty_runner_failure_admin_token_0123456789";

const LOST_YML = `pipeline:
  agent: any
  stages:
    - stage: Work
      parallel:
        - stage: retry-me
          options:
            retry: 2
          steps:
            - sh: 'echo "attempt $CI_JOB_ATTEMPT"; if [ "$CI_JOB_ATTEMPT" = 1 ]; then sleep 60; fi; echo finished'
        - stage: no-retry
          steps:
            - sh: 'echo "attempt $CI_JOB_ATTEMPT"; sleep 60'
`;

const RACE_JOBS = 2_000;
const RUNNERS = 8;
function raceYml(): string {
  const stages = Array.from(
    { length: RACE_JOBS },
    (_, i) => `        - stage: r${i}\n          steps:\n            - echo: "r${i}"\n`,
  );
  return `pipeline:\n  agent: any\n  stages:\n    - stage: Race\n      parallel:\n${stages.join("")}`;
}

for (const kind of databases()) {
  describe(`runner failures on ${kind}`, () => {
    const procs: Proc[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const p of procs) p.kill9();
      await Promise.all(procs.map((p) => p.exited));
      for (const c of cleanups) await c();
      procs.length = 0;
      cleanups.length = 0;
    });

    async function server(lease: number) {
      let databaseUrl: string | undefined;
      if (kind === "postgres") {
        const pg = await freshPgDatabase();
        databaseUrl = pg.url;
        cleanups.push(pg.drop);
      }
      const s = await startServerProc({
        dataDir: tmpDir("gantry-rf-"),
        token: TOKEN,
        lease,
        builtin: false,
        ...(databaseUrl ? { databaseUrl } : {}),
      });
      procs.push(s);
      return { s, call: api(s.url, TOKEN) };
    }
    function runner(url: string, token: string, name: string, concurrency = 2): Proc {
      const r = gantry([
        "runner",
        "--server",
        url,
        "--token",
        token,
        "--name",
        name,
        "--concurrency",
        String(concurrency),
        "--work-dir",
        tmpDir("gantry-rw-"),
      ]);
      procs.push(r);
      return r;
    }

    it("kill -9 a runner mid-job: the lease expires; the job is retried, or failed with 'runner lost'", async () => {
      const { s, call } = await server(2);
      await call("POST", "/api/v1/projects", { name: "lost", repo: makeRepo({ "gantry.yml": LOST_YML }) });
      const { token } = await call("POST", "/api/v1/runners", { name: "doomed" });
      const doomed = runner(s.url, token, "doomed");
      await waitForLine(doomed, /registered with/);
      const { id } = await call("POST", "/api/v1/projects/lost/pipelines", {});
      const deadline = Date.now() + 30_000;
      for (;;) {
        const p = await call("GET", `/api/v1/pipelines/${id}`);
        if (p.jobs.length === 2 && p.jobs.every((j: { status: string }) => j.status === "running")) break;
        if (Date.now() > deadline) throw new Error("jobs did not start");
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500));
      doomed.kill9();
      const killedAt = Date.now();
      const { token: t2 } = await call("POST", "/api/v1/runners", { name: "rescuer" });
      const rescuer = runner(s.url, t2, "rescuer");
      await waitForLine(rescuer, /registered with/);
      let final;
      for (;;) {
        final = await call("GET", `/api/v1/pipelines/${id}`);
        if (!["running", "pending"].includes(final.status)) break;
        if (Date.now() > killedAt + 40_000)
          throw new Error(`pipeline did not finish: ${JSON.stringify(final.jobs)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const byKey = Object.fromEntries(final.jobs.map((j: { key: string }) => [j.key, j]));
      expect(byKey["Work / no-retry"]).toMatchObject({ status: "failed", reason: "runner lost", attempt: 1 });
      expect(byKey["Work / retry-me"]).toMatchObject({ status: "success", attempt: 2 });
      const log = await fetch(`${s.url}/api/v1/jobs/${byKey["Work / retry-me"].id}/log`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((r) => r.text());
      expect(log).toContain("attempt 2");
      expect(log).toContain("finished");
      const first = await fetch(`${s.url}/api/v1/jobs/${byKey["Work / retry-me"].id}/log?attempt=1`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }).then((r) => r.text());
      expect(first).toContain("attempt 1");
      expect(first).not.toContain("finished");
      expect(final.status).toBe("failed");
      // The lost attempt was detected within a few lease periods, not at the 60 s sleep's end.
      expect(Date.now() - killedAt).toBeLessThan(30_000);
    }, 90_000);

    it(`${RUNNERS} runner processes racing for ${RACE_JOBS} jobs never lease one twice`, async () => {
      const { s, call } = await server(30);
      await call("POST", "/api/v1/projects", { name: "race", repo: makeRepo({ "gantry.yml": raceYml() }) });
      const runners: Proc[] = [];
      for (let i = 0; i < RUNNERS; i++) {
        const { token } = await call("POST", "/api/v1/runners", { name: `racer-${i}` });
        runners.push(runner(s.url, token, `racer-${i}`, 4));
      }
      await Promise.all(runners.map((r) => waitForLine(r, /registered with/)));
      const t0 = Date.now();
      const { id } = await call("POST", "/api/v1/projects/race/pipelines", {});
      let final;
      for (;;) {
        final = await call("GET", `/api/v1/pipelines/${id}`);
        if (!["running", "pending"].includes(final.status)) break;
        if (Date.now() - t0 > 240_000) throw new Error("race did not finish");
        await new Promise((r) => setTimeout(r, 250));
      }
      const seconds = (Date.now() - t0) / 1000;
      expect(final.status).toBe("success");
      expect(final.jobs).toHaveLength(RACE_JOBS);
      const starts = new Map<string, string[]>();
      runners.forEach((r, i) => {
        for (const l of r.out) {
          const m = /job (\d+) \(.*\) attempt (\d+): started/.exec(l);
          if (m) starts.set(`${m[1]}/${m[2]}`, [...(starts.get(`${m[1]}/${m[2]}`) ?? []), `racer-${i}`]);
        }
      });
      expect([...starts].filter(([, who]) => who.length > 1)).toEqual([]);
      expect(starts.size).toBe(RACE_JOBS);
      expect(final.jobs.every((j: { attempt: number }) => j.attempt === 1)).toBe(true);
      const used = new Set([...starts.values()].flat());
      expect(used.size).toBeGreaterThan(1);
      process.stderr.write(
        `race (${kind}): ${RACE_JOBS} jobs over ${used.size} runners in ${seconds.toFixed(1)} s\n`,
      );
    }, 300_000);
  });
}
