import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipeline, pipelineJobs, startPipeline } from "../../src/store/pipelines.js";
import { createToken, createUser, newToken, setMember } from "../../src/store/accounts.js";
import { createRunner } from "../../src/store/runners.js";
import { findProject } from "../../src/store/projects.js";
import { ROLES, type Role } from "../../src/server/api-types.js";
import type { RouteDef } from "../../src/server/route.js";
import { job, plan } from "../store/helpers.js";
import { testServer, type TestServer } from "./helpers.js";

type Who = "anonymous" | "runner" | "nobody" | "readonly-admin" | Role | "global-admin";
const WHO: Who[] = ["anonymous", "runner", "nobody", "readonly-admin", ...ROLES, "global-admin"];

/** What the route's declared access means for each caller: allowed, or the refusal status. */
function expected(r: RouteDef, who: Who): "allowed" | 401 | 403 {
  const a = r.access;
  if (a.kind === "public") return "allowed";
  if (a.kind === "runner") return who === "runner" ? "allowed" : 401;
  if (who === "anonymous" || who === "runner") return 401;
  if (who === "readonly-admin" && r.method !== "GET") return 403;
  if (a.kind === "user") return "allowed";
  const admin = who === "global-admin" || who === "readonly-admin";
  if (a.kind === "admin") return admin ? "allowed" : 403;
  if (admin) return "allowed";
  if (who === "nobody") return 403;
  return ROLES.indexOf(who) >= ROLES.indexOf(a.role) ? "allowed" : 403;
}

describe("every route × every role", () => {
  let s: TestServer;
  const tokens = new Map<Who, string | null>();
  let pipelineId = 0;
  let jobId = 0;

  beforeAll(async () => {
    s = await testServer("sqlite");
    const db = s.services.db;
    expect(
      (
        await s.call("POST", "/api/v1/projects", {
          body: { name: "proj", repo: "/nonexistent", webhookSecret: "0123456789" },
        })
      ).status,
    ).toBe(201);
    const projectId = Number((await findProject(db, "proj"))!.id);
    tokens.set("anonymous", null);
    tokens.set("global-admin", s.admin);
    for (const who of ["nobody", "readonly-admin", ...ROLES] as Who[]) {
      const uid = await createUser(db, `u-${who}`, who === "readonly-admin");
      const t = newToken("gty");
      await createToken(db, uid, "t", t, who === "readonly-admin" ? ["read"] : ["read", "write"], null);
      if ((ROLES as string[]).includes(who)) await setMember(db, projectId, uid, who);
      tokens.set(who, t);
    }
    const rt = newToken("gtr");
    await createRunner(db, "r", rt, [], false);
    tokens.set("runner", rt);
    pipelineId = await createPipeline(db, {
      projectId,
      ref: "main",
      trigger: "api",
      variables: {},
      params: {},
      createdBy: "t",
    });
    await startPipeline(db, pipelineId, plan([job("a"), job("b", { when: "manual" })]), "s");
    jobId = Number((await pipelineJobs(db, pipelineId))[0]!.id);
  });
  afterAll(async () => s.close());

  it("answers 401/403 exactly where the route's access rule says, for all routes", async () => {
    // Deleting the project goes last: it removes what the other routes need.
    const routes = [...s.routes].sort(
      (a, b) =>
        Number(a.url === "/api/v1/projects/:name" && a.method === "DELETE") -
        Number(b.url === "/api/v1/projects/:name" && b.method === "DELETE"),
    );
    let checked = 0;
    for (const r of routes) {
      if (r.url.startsWith("/api/v1/webhooks/")) continue; // verified by signature, not by token: see webhooks.test.ts
      if (r.url.endsWith("/log/stream")) continue; // long-lived; its access check is the same code path, covered in sse.test.ts
      const from =
        r.access.kind === "project" ? r.access.from : r.url.includes("/pipelines/:id") ? "pipeline" : "job";
      const url = r.url
        .replace(":name", "proj")
        .replace(
          ":id",
          String(
            from === "pipeline"
              ? pipelineId
              : r.url.startsWith("/api/v1/runners/") || r.url.startsWith("/api/v1/tokens/")
                ? 999_999
                : jobId,
          ),
        )
        .replace(":user", "nobody-here")
        .replace(":secret", "NO_SUCH")
        .replace("*", "missing.txt");
      for (const who of WHO) {
        const want = expected(r, who);
        const res = await s.call(r.method, url, {
          token: tokens.get(who)!,
          body: r.method === "GET" || r.method === "DELETE" ? undefined : {},
        });
        const label = `${r.method} ${r.url} as ${who}: got ${res.status} ${res.body.slice(0, 200)}`;
        if (want === "allowed") expect([401, 403], label).not.toContain(res.status);
        else expect(res.status, label).toBe(want);
        if (res.status >= 400) expect(res.json?.error?.code, label).toEqual(expect.any(String));
        checked++;
      }
    }
    expect(checked).toBe((s.routes.length - 2) * WHO.length);
  });
});

describe("the access table", () => {
  it("pins who may do what on the main routes", async () => {
    const s = await testServer("sqlite");
    const table = Object.fromEntries(
      s.routes.map((r) => [
        `${r.method} ${r.url}`,
        r.access.kind === "project" ? r.access.role : r.access.kind,
      ]),
    );
    await s.close();
    expect(table).toMatchObject({
      "GET /healthz": "public",
      "GET /metrics": "public",
      "GET /api/v1/projects": "user",
      "POST /api/v1/projects": "admin",
      "GET /api/v1/projects/:name": "viewer",
      "PATCH /api/v1/projects/:name": "maintainer",
      "DELETE /api/v1/projects/:name": "admin",
      "PUT /api/v1/projects/:name/members/:user": "admin",
      "POST /api/v1/projects/:name/pipelines": "developer",
      "GET /api/v1/projects/:name/pipelines": "viewer",
      "GET /api/v1/pipelines/:id": "viewer",
      "POST /api/v1/pipelines/:id/cancel": "developer",
      "POST /api/v1/pipelines/:id/retry": "developer",
      "GET /api/v1/jobs/:id/log": "viewer",
      "POST /api/v1/jobs/:id/approve": "developer",
      "POST /api/v1/jobs/:id/play": "developer",
      "GET /api/v1/projects/:name/secrets": "maintainer",
      "PUT /api/v1/projects/:name/secrets/:secret": "maintainer",
      "PUT /api/v1/secrets/:secret": "admin",
      "POST /api/v1/runners": "admin",
      "GET /api/v1/users": "admin",
      "POST /api/v1/tokens": "user",
      "POST /api/v1/runner/lease": "runner",
      "POST /api/v1/runner/jobs/:id/finish": "runner",
    });
  });
});
