import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  databases,
  GITLAB_CI,
  makeRepo,
  startRunner,
  testServer,
  waitFor,
  type TestServer,
} from "./helpers.js";

for (const kind of databases()) {
  describe(`API end to end on ${kind}`, () => {
    let s: TestServer;
    beforeEach(async () => {
      s = await testServer(kind);
    });
    afterEach(async () => s.close());

    it("creates a project, runs a pipeline with a runner, serves logs, artifacts and tests", async () => {
      const repo = makeRepo({ ".gitlab-ci.yml": GITLAB_CI });
      expect((await s.call("POST", "/api/v1/projects", { body: { name: "demo", repo } })).status).toBe(201);
      const created = await s.call("POST", "/api/v1/projects/demo/pipelines", {
        body: { ref: "main", variables: { FOO: "bar" } },
      });
      expect(created.status).toBe(201);
      const id = created.json.id as number;
      const running = await waitFor(async () => {
        const p = await s.call("GET", `/api/v1/pipelines/${id}`);
        return p.json.status !== "pending" ? p.json : undefined;
      }, "pipeline compiled");
      expect(running.status).toBe("running");
      expect(running.stages).toEqual([".pre", "build", "test", "deploy", ".post"]);
      expect(running.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(running.jobs.map((j: { key: string; status: string }) => [j.key, j.status])).toEqual([
        ["build", "waiting"],
        ["test", "created"],
        ["deploy", "created"],
      ]);

      const { agent, loop } = await startRunner(s, { name: "r1", concurrency: 2 });
      const done = await waitFor(async () => {
        const p = await s.call("GET", `/api/v1/pipelines/${id}`);
        // Both settled: a GET reads the pipeline and its jobs in two queries, so on PostgreSQL
        // it can see the job finished a moment before the pipeline is.
        return p.json.jobs.find((j: { key: string }) => j.key === "test").status === "success" &&
          p.json.status !== "running"
          ? p.json
          : undefined;
      }, "test job finished");
      const build = done.jobs.find((j: { key: string }) => j.key === "build");
      expect(build.status).toBe("success");
      expect(done.jobs.find((j: { key: string }) => j.key === "deploy").status).toBe("manual");
      expect(done.status).toBe("success");

      const log = await s.call("GET", `/api/v1/jobs/${build.id}/log`);
      expect(log.status).toBe(200);
      expect(log.body).toContain(`building on main pipeline ${id}`);
      const ranged = await s.call("GET", `/api/v1/jobs/${build.id}/log`, { headers: { range: "bytes=0-9" } });
      expect(ranged.status).toBe(206);
      expect(ranged.body).toBe(log.body.slice(0, 10));
      expect(ranged.headers["content-range"]).toBe(`bytes 0-9/${Buffer.byteLength(log.body)}`);

      const arts = await s.call("GET", `/api/v1/jobs/${build.id}/artifacts`);
      expect(arts.json.map((a: { path: string }) => a.path)).toEqual(["dist/app.txt"]);
      const file = await s.call("GET", arts.json[0].url);
      expect(file.body).toBe(`built ${running.sha.slice(0, 8)}\n`);
      const testJob = done.jobs.find((j: { key: string }) => j.key === "test");
      expect((await s.call("GET", `/api/v1/jobs/${testJob.id}/log`)).body).toContain(
        `built ${running.sha.slice(0, 8)}`,
      );
      const tests = await s.call("GET", `/api/v1/jobs/${testJob.id}/tests`);
      expect(tests.json).toMatchObject({ total: 2, passed: 1, failed: 1 });

      // Play the manual job.
      const deploy = done.jobs.find((j: { key: string }) => j.key === "deploy");
      expect((await s.call("POST", `/api/v1/jobs/${deploy.id}/play`)).status).toBe(200);
      await waitFor(
        async () => (await s.call("GET", `/api/v1/jobs/${deploy.id}`)).json.status === "success",
        "deploy played",
      );
      expect((await s.call("POST", `/api/v1/jobs/${deploy.id}/play`)).status).toBe(409);

      const list = await s.call("GET", "/api/v1/projects/demo/pipelines?limit=1");
      expect(list.json.items[0]).toMatchObject({ id, status: "success", trigger: "api", createdBy: "admin" });
      agent.stop();
      await loop;
    });
  });
}
