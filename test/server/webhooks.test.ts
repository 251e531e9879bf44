import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, testServer, waitFor, type TestServer } from "./helpers.js";

const SECRET = "hook-secret-123";
const push = { ref: "refs/heads/main", after: "a".repeat(40), pusher: { name: "octo" } };
const sign = (body: string) => createHmac("sha256", SECRET).update(body).digest("hex");

describe("push webhooks", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer("sqlite");
    const repo = makeRepo({ ".gitlab-ci.yml": "job:\n  script: [echo hi]\n" });
    expect(
      (await s.call("POST", "/api/v1/projects", { body: { name: "hooked", repo, webhookSecret: SECRET } }))
        .status,
    ).toBe(201);
    expect((await s.call("POST", "/api/v1/projects", { body: { name: "open", repo } })).status).toBe(201);
  });
  afterAll(async () => s.close());

  const hook = (provider: string, project: string, body: string, headers: Record<string, string>) =>
    s.call("POST", `/api/v1/webhooks/${provider}/${project}`, {
      token: null,
      body,
      headers: { "content-type": "application/json", ...headers },
    });

  it("GitHub: verifies X-Hub-Signature-256 over the raw body and starts a pipeline", async () => {
    const body = JSON.stringify(push);
    const ok = await hook("github", "hooked", body, {
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${sign(body)}`,
    });
    expect(ok.status).toBe(201);
    const p = await waitFor(async () => {
      const r = await s.call("GET", `/api/v1/pipelines/${ok.json.pipelineId}`);
      return r.json.status !== "pending" ? r.json : undefined;
    }, "pipeline compiled");
    expect(p).toMatchObject({ trigger: "push", ref: "main", createdBy: "octo", status: "running" });
    // Same JSON re-serialised with other spacing: the signature no longer matches.
    const tampered = await hook("github", "hooked", JSON.stringify(push, null, 2), {
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${sign(body)}`,
    });
    expect(tampered.status).toBe(401);
    expect(tampered.json.error.code).toBe("bad_signature");
    const ping = await hook("github", "hooked", "{}", {
      "x-github-event": "ping",
      "x-hub-signature-256": `sha256=${sign("{}")}`,
    });
    expect(ping.json).toEqual({ pipelineId: null, ignored: 'event "ping" is not a push' });
  });

  it("GitLab: compares X-Gitlab-Token; Gitea: verifies X-Gitea-Signature", async () => {
    const body = JSON.stringify({
      ref: "refs/heads/main",
      checkout_sha: "b".repeat(40),
      user_username: "gl-user",
    });
    expect(
      (await hook("gitlab", "hooked", body, { "x-gitlab-event": "Push Hook", "x-gitlab-token": "wrong" }))
        .status,
    ).toBe(401);
    const gl = await hook("gitlab", "hooked", body, {
      "x-gitlab-event": "Push Hook",
      "x-gitlab-token": SECRET,
    });
    expect(gl.status).toBe(201);
    expect((await s.call("GET", `/api/v1/pipelines/${gl.json.pipelineId}`)).json.createdBy).toBe("gl-user");
    const gbody = JSON.stringify({ ref: "refs/heads/main", after: "c".repeat(40), pusher: { login: "tea" } });
    expect(
      (await hook("gitea", "hooked", gbody, { "x-gitea-event": "push", "x-gitea-signature": sign("x") }))
        .status,
    ).toBe(401);
    const gt = await hook("gitea", "hooked", gbody, {
      "x-gitea-event": "push",
      "x-gitea-signature": sign(gbody),
    });
    expect(gt.status).toBe(201);
    const deleted = JSON.stringify({ ref: "refs/heads/old", after: "0".repeat(40), deleted: true });
    expect(
      (
        await hook("gitea", "hooked", deleted, {
          "x-gitea-event": "push",
          "x-gitea-signature": sign(deleted),
        })
      ).json.ignored,
    ).toBe("the branch was deleted");
  });

  it("refuses projects without a webhook secret and unknown projects", async () => {
    const body = JSON.stringify(push);
    const none = await hook("github", "open", body, {
      "x-github-event": "push",
      "x-hub-signature-256": `sha256=${sign(body)}`,
    });
    expect(none.status).toBe(403);
    expect(none.json.error.message).toContain("has no webhook secret");
    expect((await hook("github", "ghost", body, {})).status).toBe(404);
    expect((await hook("bitbucket", "hooked", body, {})).status).toBe(400);
  });
});
