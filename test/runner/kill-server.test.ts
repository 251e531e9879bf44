import { afterEach, describe, expect, it } from "vitest";
import { databases, makeRepo } from "../server/helpers.js";
import { freshPgDatabase } from "../store/helpers.js";
import { api, startServerProc, tmpDir, type ServerProc } from "./harness.js";

const TOKEN = "gty_failure_test_admin_token_0123456789";
const JOBS = 1_000;

/**
 * 1,000 independent jobs (one parallel block) that run in the engine without a shell, so the
 * test measures the queue, not process start-up; a lost attempt may be retried twice.
 */
function manyJobs(): string {
  const stages = Array.from(
    { length: JOBS },
    (_, i) => `        - stage: j${i}\n          steps:\n            - echo: "ran j${i}"\n`,
  );
  return `pipeline:\n  agent: any\n  options:\n    retry: 3\n  stages:\n    - stage: Work\n      parallel:\n${stages.join("")}`;
}

/** "job <id> (<key>) attempt <n>: started" lines the built-in runner logged, as "<id> <n>". */
function starts(lines: string[]): string[] {
  return lines.flatMap((l) => {
    const m = /job (\d+) \(.*\) attempt (\d+): started/.exec(l);
    return m ? [`${m[1]} ${m[2]}`] : [];
  });
}

for (const kind of databases()) {
  describe(`kill -9 the server on ${kind}`, () => {
    const procs: ServerProc[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const p of procs) p.kill9();
      for (const c of cleanups) await c();
      procs.length = 0;
      cleanups.length = 0;
    });

    it("with 1,000 jobs queued and some running: after a restart every job runs exactly once per attempt and none is lost", async () => {
      const dataDir = tmpDir("gantry-kill-");
      let databaseUrl: string | undefined;
      if (kind === "postgres") {
        const pg = await freshPgDatabase();
        databaseUrl = pg.url;
        cleanups.push(pg.drop);
      }
      const opts = {
        dataDir,
        token: TOKEN,
        lease: 2,
        concurrency: 4,
        ...(databaseUrl ? { databaseUrl } : {}),
      };
      let server = await startServerProc(opts);
      procs.push(server);
      let call = api(server.url, TOKEN);
      await call("POST", "/api/v1/projects", { name: "many", repo: makeRepo({ "gantry.yml": manyJobs() }) });
      const { id } = await call<{ id: number }>("POST", "/api/v1/projects/many/pipelines", {});
      // Wait until the queue is really busy: some jobs done, some running, most queued.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const p = await call("GET", `/api/v1/pipelines/${id}`);
        const done = p.jobs.filter((j: { status: string }) => j.status === "success").length;
        const running = p.jobs.filter((j: { status: string }) => j.status === "running").length;
        if (done >= 20 && running > 0) break;
        if (Date.now() > deadline) throw new Error(`pipeline did not get going: ${p.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      server.kill9();
      await server.exited;
      const firstRun = starts(server.out);
      expect(firstRun.length).toBeLessThan(JOBS);

      server = await startServerProc({ ...opts, concurrency: 8 });
      procs.push(server);
      call = api(server.url, TOKEN);
      const end = Date.now() + 240_000;
      let final;
      for (;;) {
        final = await call("GET", `/api/v1/pipelines/${id}`);
        if (!["running", "pending"].includes(final.status)) break;
        if (Date.now() > end) throw new Error("pipeline did not finish after the restart");
        await new Promise((r) => setTimeout(r, 250));
      }
      const jobs = final.jobs as { id: number; key: string; status: string; attempt: number }[];
      expect(jobs).toHaveLength(JOBS);
      expect(jobs.filter((j) => j.status !== "success")).toEqual([]);
      expect(final.status).toBe("success");
      // Exactly once per attempt: no (job, attempt) started twice over both server lives,
      // and every job's last attempt is one that started.
      const all = [...firstRun, ...starts(server.out)];
      const seen = new Map<string, number>();
      for (const k of all) seen.set(k, (seen.get(k) ?? 0) + 1);
      expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
      for (const j of jobs)
        expect(seen.has(`${j.id} ${j.attempt}`), `job ${j.id} attempt ${j.attempt} started`).toBe(true);
      const retried = jobs.filter((j) => j.attempt > 1);
      // Only the jobs that were running at the kill (at most the runner's 4 slots) needed a second attempt.
      expect(retried.length).toBeLessThanOrEqual(4);
      process.stderr.write(
        `kill -9 (${kind}): ${firstRun.length} jobs started before the kill; ${retried.length} retried after the restart; ${all.length} starts in all\n`,
      );
    }, 300_000);
  });
}
