import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../../src/runner/agent.js";
import { databases, makeRepo, startRunner, testServer, waitFor, type TestServer } from "./helpers.js";

const SECRET = "tag-hook-secret";
const SHOW = `echo "tag=[$CI_COMMIT_TAG] branch=[$CI_COMMIT_BRANCH] refname=[$CI_COMMIT_REF_NAME] TAG_NAME=[$TAG_NAME] BRANCH_NAME=[$BRANCH_NAME] GIT_BRANCH=[$GIT_BRANCH] GIT_COMMIT=[$GIT_COMMIT]"`;

const GITLAB_CI = `show:
  script:
    - '${SHOW}'
release:
  rules:
    - if: $CI_COMMIT_TAG
  script: [echo releasing $CI_COMMIT_TAG]
`;

const JENKINSFILE = `pipeline {
  agent any
  stages {
    stage('Show') { steps { sh '${SHOW.replace(/\$/g, "\\$")}' } }
    stage('Release') {
      when { buildingTag() }
      steps { echo 'releasing a tag' }
    }
    stage('Main') {
      when { branch 'main' }
      steps { echo 'on main' }
    }
  }
}
`;

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "T",
      GIT_AUTHOR_EMAIL: "t@x",
      GIT_COMMITTER_NAME: "T",
      GIT_COMMITTER_EMAIL: "t@x",
    },
  }).trim();

for (const kind of databases()) {
  describe(`tag pipelines on ${kind}`, () => {
    let s: TestServer;
    let agent: Agent;
    let loop: Promise<void>;
    let repo: string;
    let tagged: string;
    let head: string;

    beforeAll(async () => {
      s = await testServer(kind);
      ({ agent, loop } = await startRunner(s, { concurrency: 2 }));
      // v1.0 tags the first commit; main moves on, so a tag pipeline must run the tagged commit.
      repo = makeRepo({ ".gitlab-ci.yml": GITLAB_CI, Jenkinsfile: JENKINSFILE });
      git(repo, "tag", "-a", "v1.0", "-m", "release 1.0");
      tagged = git(repo, "rev-parse", "HEAD");
      git(repo, "commit", "-q", "--allow-empty", "-m", "after the tag");
      head = git(repo, "rev-parse", "HEAD");
      for (const [name, pipelineFile] of [
        ["gl", undefined],
        ["jk", "Jenkinsfile"],
      ] as const)
        expect(
          (
            await s.call("POST", "/api/v1/projects", {
              body: { name, repo, webhookSecret: SECRET, ...(pipelineFile ? { pipelineFile } : {}) },
            })
          ).status,
        ).toBe(201);
    });
    afterAll(async () => {
      agent.stop(true);
      await loop;
      await s.close();
    });

    const finished = (id: number) =>
      waitFor(async () => {
        const x = (await s.call("GET", `/api/v1/pipelines/${id}`)).json;
        return ["success", "failed", "error", "canceled"].includes(x.status) ? x : undefined;
      }, `pipeline ${id} finished`);
    const logOf = async (p: { jobs: { key: string; id: number }[] }, key: string) =>
      (await s.call("GET", `/api/v1/jobs/${p.jobs.find((j) => j.key === key)!.id}/log`)).body;
    const viaApi = async (project: string, ref: string) =>
      finished((await s.call("POST", `/api/v1/projects/${project}/pipelines`, { body: { ref } })).json.id);

    it("exports a tag as a tag, not a branch (GitLab), and runs the tagged commit", async () => {
      const p = await viaApi("gl", "v1.0");
      expect(p.status).toBe("success");
      expect(p.sha).toBe(tagged);
      expect(p.jobs.map((j: { key: string }) => j.key).sort()).toEqual(["release", "show"]);
      expect(await logOf(p, "show")).toContain(
        `tag=[v1.0] branch=[] refname=[v1.0] TAG_NAME=[v1.0] BRANCH_NAME=[v1.0] GIT_BRANCH=[] GIT_COMMIT=[${tagged}]`,
      );
      expect(await logOf(p, "release")).toContain("releasing v1.0");

      const b = await viaApi("gl", "main");
      expect(b.sha).toBe(head);
      expect(b.jobs.map((j: { key: string }) => j.key)).toEqual(["show"]);
      expect(await logOf(b, "show")).toContain(
        `tag=[] branch=[main] refname=[main] TAG_NAME=[] BRANCH_NAME=[main] GIT_BRANCH=[main] GIT_COMMIT=[${head}]`,
      );

      const c = await viaApi("gl", tagged);
      expect(await logOf(c, "show")).toContain(
        `tag=[] branch=[] refname=[${tagged}] TAG_NAME=[] BRANCH_NAME=[]`,
      );
    });

    it("Jenkins: TAG_NAME and BRANCH_NAME are the tag, buildingTag() holds, branch 'main' does not", async () => {
      const p = await viaApi("jk", "v1.0");
      expect(p.status).toBe("success");
      expect(await logOf(p, "Show")).toContain("TAG_NAME=[v1.0] BRANCH_NAME=[v1.0] GIT_BRANCH=[]");
      const status = (key: string) => p.jobs.find((j: { key: string }) => j.key === key).status;
      expect(status("Release")).toBe("success");
      expect(await logOf(p, "Release")).toContain("releasing a tag");
      expect(status("Main")).toBe("skipped");

      const b = await viaApi("jk", "main");
      expect(b.jobs.find((j: { key: string }) => j.key === "Release").status).toBe("skipped");
      expect(b.jobs.find((j: { key: string }) => j.key === "Main").status).toBe("success");
    });

    it("a tag push webhook (GitHub, GitLab, Gitea) runs the tag even when a branch has its name", async () => {
      // A branch called v1.0 on the newer commit: the webhook said refs/tags/v1.0, so the tag wins.
      git(repo, "branch", "v1.0", head);
      const body = JSON.stringify({
        ref: "refs/tags/v1.0",
        after: tagged,
        pusher: { name: "octo" },
        user_username: "gl-user",
      });
      const hmac = createHmac("sha256", SECRET).update(body).digest("hex");
      const hooks: [string, Record<string, string>][] = [
        ["github", { "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac}` }],
        ["gitlab", { "x-gitlab-event": "Tag Push Hook", "x-gitlab-token": SECRET }],
        ["gitea", { "x-gitea-event": "push", "x-gitea-signature": hmac }],
      ];
      for (const [provider, headers] of hooks) {
        const r = await s.call("POST", `/api/v1/webhooks/${provider}/gl`, {
          token: null,
          body,
          headers: { "content-type": "application/json", ...headers },
        });
        expect(r.status, provider).toBe(201);
        const p = await finished(r.json.pipelineId);
        expect(p, provider).toMatchObject({ status: "success", ref: "v1.0", sha: tagged, trigger: "push" });
        expect(await logOf(p, "show"), provider).toContain(
          "tag=[v1.0] branch=[] refname=[v1.0] TAG_NAME=[v1.0] BRANCH_NAME=[v1.0] GIT_BRANCH=[]",
        );
      }
      // The same name pushed as a branch is the branch.
      const branchBody = JSON.stringify({ ref: "refs/heads/v1.0", after: head, pusher: { name: "octo" } });
      const r = await s.call("POST", "/api/v1/webhooks/github/gl", {
        token: null,
        body: branchBody,
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(branchBody).digest("hex")}`,
        },
      });
      const p = await finished(r.json.pipelineId);
      expect(p.sha).toBe(head);
      expect(await logOf(p, "show")).toContain("tag=[] branch=[v1.0] refname=[v1.0] TAG_NAME=[]");
    });
  });
}

describe("protected secrets and tags", () => {
  it("a tag named like the default branch does not see protected secrets; the branch does", async () => {
    const s = await testServer("sqlite");
    const { agent, loop } = await startRunner(s);
    try {
      const repo = makeRepo({
        "gantry.yml": `pipeline:
  agent: any
  stages:
    - stage: Secret
      environment:
        TOKEN: { credentials: deploy-token }
      steps:
        - sh: 'echo "token is $TOKEN"'
`,
      });
      git(repo, "tag", "main");
      await s.call("POST", "/api/v1/projects", { body: { name: "sec", repo, webhookSecret: SECRET } });
      await s.call("PUT", "/api/v1/projects/sec/secrets/deploy-token", {
        body: { value: "prod-only", protected: true },
      });
      const push = async (ref: string) => {
        const body = JSON.stringify({ ref, after: "a".repeat(40) });
        const r = await s.call("POST", "/api/v1/webhooks/github/sec", {
          token: null,
          body,
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
          },
        });
        return waitFor(async () => {
          const x = (await s.call("GET", `/api/v1/pipelines/${r.json.pipelineId}`)).json;
          return ["success", "failed", "error"].includes(x.status) ? x : undefined;
        }, `pipeline for ${ref}`);
      };
      const tag = await push("refs/tags/main");
      expect(tag.status).toBe("failed");
      expect((await s.call("GET", `/api/v1/jobs/${tag.jobs[0].id}/log`)).body).not.toContain("token is");
      const branch = await push("refs/heads/main");
      expect(branch.status).toBe("success");
      expect((await s.call("GET", `/api/v1/jobs/${branch.jobs[0].id}/log`)).body).toContain(
        "token is [MASKED]",
      );
    } finally {
      agent.stop(true);
      await loop;
      await s.close();
    }
  });
});
