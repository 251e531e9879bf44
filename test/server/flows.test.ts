import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import {
  databases,
  finishedPipeline,
  makeRepo,
  startRunner,
  testServer,
  waitFor,
  type TestServer,
} from "./helpers.js";

const GANTRY_YML = `pipeline:
  agent: any
  stages:
    - stage: Secret
      environment:
        TOKEN: { credentials: deploy-token }
      steps:
        - sh: 'echo "token is $TOKEN"; echo "$TOKEN" | rev; echo "ref $BRANCH_NAME"'
    - stage: Ship
      input:
        message: Ship it?
        ok: Go
        submitterParameter: APPROVER
        parameters:
          - { name: TARGET, type: choice, choices: [staging, prod] }
      steps:
        - sh: 'echo "target $TARGET by $APPROVER"'
`;

const SLOW_YML = `pipeline:
  agent: any
  stages:
    - stage: Slow
      steps:
        - sh: 'echo started; sleep 30; echo never'
`;

for (const kind of databases()) {
  describe(`pipelines with a runner on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent;
    let loop: Promise<void>;
    beforeEach(async () => {
      s = await testServer(kind, { leaseMs: 1_500 });
      ({ agent, loop } = await startRunner(s, { concurrency: 2 }));
    });
    afterEach(async () => {
      agent.stop(true);
      await loop;
      await s.close();
    });

    const start = async (project: string, files: Record<string, string>, ref = "main") => {
      if ((await s.call("GET", `/api/v1/projects/${project}`)).status === 404)
        expect(
          (await s.call("POST", "/api/v1/projects", { body: { name: project, repo: makeRepo(files) } }))
            .status,
        ).toBe(201);
      return (await s.call("POST", `/api/v1/projects/${project}/pipelines`, { body: { ref } })).json
        .id as number;
    };
    const pipeline = (id: number) => s.call("GET", `/api/v1/pipelines/${id}`).then((r) => r.json);

    it("runs the pipeline-level post after every job, against the pipeline's result, and agent-none stages", async () => {
      const id = await start("posty", {
        Jenkinsfile: `pipeline {
  agent none
  stages {
    stage('Announce') { steps { echo 'no agent needed' } }
    stage('Build') { agent any
      steps { sh 'echo building; exit 3' } }
  }
  post {
    failure { echo 'pipeline failed, notifying' }
    success { echo 'should not print' }
    always { echo 'post always ran' }
  }
}
`,
      });
      const p = await finishedPipeline(s, id);
      expect(p.status).toBe("failed");
      const byKey = (k: string) => p.jobs.find((j: { key: string }) => j.key === k);
      expect(byKey("Announce").status).toBe("success");
      expect(byKey("Build").status).toBe("failed");
      const post = byKey("(post)");
      expect(post).toBeDefined();
      const log = (await s.call("GET", `/api/v1/jobs/${post.id}/log`)).body;
      expect(log).toContain("pipeline failed, notifying");
      expect(log).toContain("post always ran");
      expect(log).not.toContain("should not print");
    });

    it("gives jobs whose names differ only in punctuation workspaces of their own on a runner", async () => {
      // Each waits until the other started, so that both run at once.
      const sync = mkdtempSync(path.join(os.tmpdir(), "gantry-sync-"));
      const job = (me: string, other: string) =>
        `  script:\n    - touch mine-${me} ${sync}/${me}\n    - for i in $(seq 100); do [ -e ${sync}/${other} ] && break; sleep 0.05; done\n    - ls\n`;
      const id = await start("punctuation", {
        ".gitlab-ci.yml": `lint:docs:\n${job("colon", "dash")}lint-docs:\n${job("dash", "colon")}`,
      });
      const p = await finishedPipeline(s, id);
      expect(p.status).toBe("success");
      const log = async (k: string) =>
        (await s.call("GET", `/api/v1/jobs/${p.jobs.find((j: { key: string }) => j.key === k).id}/log`)).body;
      expect(await log("lint:docs")).toContain("mine-colon");
      expect(await log("lint:docs")).not.toContain("mine-dash");
      expect(await log("lint-docs")).toContain("mine-dash");
      expect(await log("lint-docs")).not.toContain("mine-colon");
    });

    it("injects a project's secret masked, asks for approval, and passes the input's values", async () => {
      const put = await s.call("PUT", "/api/v1/projects/app/secrets/deploy-token", {
        body: { value: "s3cr3t-value" },
      });
      expect(put.status).toBe(404); // the project does not exist yet
      const id = await start("app", { "gantry.yml": GANTRY_YML });
      expect(
        (
          await s.call("PUT", "/api/v1/projects/app/secrets/deploy-token", {
            body: { value: "s3cr3t-value" },
          })
        ).status,
      ).toBe(200);
      const listed = await s.call("GET", "/api/v1/projects/app/secrets");
      expect(listed.json).toEqual([
        expect.objectContaining({ name: "deploy-token", kind: "secret", protected: false }),
      ]);
      expect(JSON.stringify(listed.json)).not.toContain("s3cr3t");
      const p = await waitFor(async () => {
        const x = await pipeline(id);
        return x.jobs.find((j: { key: string }) => j.key === "Ship")?.status === "input" ? x : undefined;
      }, "input requested");
      const secretJob = p.jobs.find((j: { key: string }) => j.key === "Secret");
      expect(secretJob.status).toBe("success");
      const log = (await s.call("GET", `/api/v1/jobs/${secretJob.id}/log`)).body;
      expect(log).toContain("token is [MASKED]");
      expect(log).toContain("ref main");
      expect(log).not.toContain("s3cr3t-value");
      const ship = p.jobs.find((j: { key: string }) => j.key === "Ship");
      expect(ship.input).toMatchObject({ message: "Ship it?", ok: "Go" });
      const wrong = await s.call("POST", `/api/v1/jobs/${ship.id}/approve`, {
        body: { params: { TARGET: "moon" } },
      });
      expect(wrong.status).toBe(400);
      expect(
        (await s.call("POST", `/api/v1/jobs/${ship.id}/approve`, { body: { params: { TARGET: "prod" } } }))
          .status,
      ).toBe(200);
      const done = await waitFor(
        async () => ((await pipeline(id)).status === "success" ? true : undefined),
        "pipeline success",
      );
      expect(done).toBe(true);
      expect((await s.call("GET", `/api/v1/jobs/${ship.id}/log`)).body).toContain("target prod by admin");
    });

    it("keeps a protected secret from a pipeline on another branch", async () => {
      const repo = makeRepo({ "gantry.yml": GANTRY_YML });
      const { execFileSync } = await import("node:child_process");
      execFileSync("git", ["branch", "feature"], { cwd: repo });
      expect((await s.call("POST", "/api/v1/projects", { body: { name: "prot", repo } })).status).toBe(201);
      await s.call("PUT", "/api/v1/projects/prot/secrets/deploy-token", {
        body: { value: "prod-only-secret", protected: true },
      });
      const id = (await s.call("POST", "/api/v1/projects/prot/pipelines", { body: { ref: "feature" } })).json
        .id as number;
      const p = await waitFor(async () => {
        const x = await pipeline(id);
        return x.jobs.find((j: { key: string }) => j.key === "Secret")?.status === "failed" ? x : undefined;
      }, "secret job failed");
      const job = p.jobs.find((j: { key: string }) => j.key === "Secret");
      const log = (await s.call("GET", `/api/v1/jobs/${job.id}/log`)).body;
      expect(log).not.toContain("prod-only-secret");
      expect(`${log} ${job.reason ?? ""}`).toMatch(/deploy-token/);
    });

    it("cancels a running job through the runner, and reports compile errors with diagnostics", async () => {
      const id = await start("slow", { "gantry.yml": SLOW_YML });
      const p = await waitFor(async () => {
        const x = await pipeline(id);
        return x.jobs[0]?.status === "running" ? x : undefined;
      }, "job running");
      expect((await s.call("POST", `/api/v1/pipelines/${id}/cancel`)).status).toBe(200);
      const after = await waitFor(
        async () => {
          const x = await pipeline(id);
          return x.status === "canceled" ? x : undefined;
        },
        "pipeline canceled",
        15_000,
      );
      expect(after.jobs[0].status).toBe("canceled");
      expect((await s.call("POST", `/api/v1/pipelines/${id}/cancel`)).status).toBe(409);
      expect(p.jobs[0].key).toBe("Slow");

      const badId = await start("broken", {
        "gantry.yml": "pipeline:\n  stages:\n    - stage: X\n      stepz: []\n",
      });
      const bad = await waitFor(async () => {
        const x = await pipeline(badId);
        return x.status === "error" ? x : undefined;
      }, "compile error");
      expect(bad.error).toContain("the pipeline file has errors");
      expect(bad.diagnostics[0]).toMatchObject({
        severity: "error",
        file: "gantry.yml",
        line: expect.any(Number),
      });
      const unknownRef = await s.call("POST", "/api/v1/projects/broken/pipelines", {
        body: { ref: "no-such-branch" },
      });
      const refFailed = await waitFor(async () => {
        const x = await pipeline(unknownRef.json.id);
        return x.status === "error" ? x : undefined;
      }, "ref error");
      expect(refFailed.error).toContain('ref "no-such-branch"');
    });

    it("streams a job's log live over SSE until the job ends", async () => {
      const id = await start("sse", {
        "gantry.yml": `pipeline:\n  agent: any\n  stages:\n    - stage: Talk\n      steps:\n        - sh: 'for i in 1 2 3; do echo line-$i; sleep 0.3; done'\n`,
      });
      const job = await waitFor(async () => {
        const x = await pipeline(id);
        return x.jobs[0]?.status === "running" ? x.jobs[0] : undefined;
      }, "job running");
      const port = (s.app.server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${job.id}/log/stream`, {
        headers: { authorization: `Bearer ${s.admin}` },
      });
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const text = await res.text();
      const events = text
        .split("\n\n")
        .filter((b) => b.startsWith("event:"))
        .map((b) => ({
          event: /^event: (\w+)/.exec(b)![1],
          data: JSON.parse(/\ndata: (.*)$/s.exec(b)![1]!),
        }));
      expect(events[events.length - 1]!.event).toBe("end");
      expect(events.some((e) => e.event === "status" && e.data.status === "running")).toBe(true);
      expect(events.filter((e) => e.event === "status").pop()!.data.status).toBe("success");
      const logs = events.filter((e) => e.event === "log");
      expect(logs.length).toBeGreaterThan(1); // it arrived in pieces, live
      const all = logs.map((e) => e.data.text).join("");
      expect(all).toMatch(/line-1[\s\S]*line-2[\s\S]*line-3/);
      let offset = 0;
      for (const e of logs) {
        expect(e.data.offset).toBe(offset);
        offset += Buffer.byteLength(e.data.text);
      }
    });
  });
}
