import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import { loadPipeline } from "../../src/pipeline/load.js";
import { selectJobs } from "../../src/engine/select.js";
import { run } from "../engine/helpers.js";
import {
  databases,
  finishedPipeline,
  makeRepo,
  startRunner,
  testServer,
  waitFor,
  type TestServer,
} from "./helpers.js";

/**
 * `deploy` comes from `rules: when: manual`, so it may not fail and blocks (GitLab);
 * `optional` is a plain `when: manual`, which GitLab lets fail, so it blocks nothing.
 */
const GITLAB_CI = `stages: [build, deploy, verify]
build:
  stage: build
  script: [echo building]
optional:
  stage: build
  when: manual
  script: [echo optional]
deploy:
  stage: deploy
  rules:
    - when: manual
  script: [echo deploying]
verify:
  stage: verify
  script: [echo verified]
smoke:
  stage: verify
  needs: [deploy]
  script: [echo smoke]
`;

type Summary = Record<string, string>;

for (const kind of databases()) {
  describe(`blocking manual jobs through a runner on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent;
    let loop: Promise<void>;
    let repo: string;

    beforeAll(async () => {
      s = await testServer(kind);
      ({ agent, loop } = await startRunner(s));
      repo = makeRepo({ ".gitlab-ci.yml": GITLAB_CI });
      expect((await s.call("POST", "/api/v1/projects", { body: { name: "gate", repo } })).status).toBe(201);
    });
    afterAll(async () => {
      agent.stop(true);
      await loop;
      await s.close();
    });

    const pipeline = async (id: number) => (await s.call("GET", `/api/v1/pipelines/${id}`)).json;
    const summary = (p: { jobs: { key: string; status: string }[] }): Summary =>
      Object.fromEntries(p.jobs.map((j) => [j.key, j.status]));

    it("blocks later stages and needs until the manual job is played, then finishes like a local run with --manual", async () => {
      const id = (await s.call("POST", "/api/v1/projects/gate/pipelines", { body: {} })).json.id as number;
      const blocked = await waitFor(async () => {
        const p = await pipeline(id);
        return p.status === "blocked" ? p : undefined;
      }, "pipeline blocked");
      expect(summary(blocked)).toEqual({
        build: "success",
        optional: "manual",
        deploy: "manual",
        verify: "created",
        smoke: "created",
      });
      const deploy = blocked.jobs.find((j: { key: string }) => j.key === "deploy");
      expect(deploy.allowFailure).toBe(false);
      expect(blocked.jobs.find((j: { key: string }) => j.key === "optional").allowFailure).toBe(true);
      // Listed under its status, and still blocked a moment later: nothing is leased meanwhile.
      const listed = await s.call("GET", "/api/v1/projects/gate/pipelines?status=blocked");
      expect(listed.json.items.map((p: { id: number }) => p.id)).toEqual([id]);
      await new Promise((r) => setTimeout(r, 300));
      expect(summary(await pipeline(id))).toMatchObject({ verify: "created", smoke: "created" });

      expect((await s.call("POST", `/api/v1/jobs/${deploy.id}/play`)).status).toBe(200);
      const done = await finishedPipeline(s, id);
      expect(done.status).toBe("success");
      const server = summary(done);
      expect(server).toEqual({
        build: "success",
        optional: "manual",
        deploy: "success",
        verify: "success",
        smoke: "success",
      });

      // The local engine, on the same file: without playing deploy, `smoke` (which needs it)
      // cannot run — refused up front; played, the same jobs end the same way.
      const loaded = await loadPipeline({ projectDir: repo });
      expect(loaded.plan).toBeDefined();
      const plan = loaded.plan!;
      const unplayed = selectJobs(plan, { jobs: [], needs: false, manual: [] });
      expect(unplayed.errors).toEqual([
        "deploy is when:manual, its needed by smoke, and not specified in --manual",
      ]);
      const sel = selectJobs(plan, { jobs: [], needs: false, manual: ["deploy"] });
      expect(sel.errors).toEqual([]);
      const local = await run(plan, { projectDir: repo, jobIds: sel.ids, manual: sel.manual });
      expect(Object.fromEntries(plan.jobs.map((j) => [j.id, local.of(j.id)]))).toEqual(server);
    });
  });
}
