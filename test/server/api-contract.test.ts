import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testServer, type TestServer } from "./helpers.js";

describe("API contract", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer("sqlite", { bodyLimit: 4096 });
  });
  afterAll(async () => s.close());

  it("serves an OpenAPI 3 document that describes every route", async () => {
    const res = await s.call("GET", "/api/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const doc = res.json as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            parameters?: { name: string; in: string }[];
            requestBody?: { content: Record<string, { schema: object }> };
            responses: object;
          }
        >
      >;
    };
    expect(doc.openapi).toBe("3.1.0");
    const ajv = new Ajv2020({ strict: false });
    const ids = new Set<string>();
    for (const r of s.routes) {
      const p = r.url.replace(/:([A-Za-z]+)/g, "{$1}").replace(/\*$/, "{path}");
      const op = doc.paths[p]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${p}`).toBeDefined();
      expect(ids.has(op!.operationId)).toBe(false);
      ids.add(op!.operationId);
      for (const name of [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))
        expect(
          op!.parameters?.some((x) => x.in === "path" && x.name === name),
          `${p} declares {${name}}`,
        ).toBe(true);
      const body = op!.requestBody?.content["application/json"]?.schema;
      if (body) expect(() => ajv.compile(body)).not.toThrow();
    }
    const create = doc.paths["/api/v1/projects"]!.post!;
    expect(create.requestBody!.content["application/json"]!.schema).toMatchObject({
      required: ["name", "repo"],
    });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(30);
  });

  it("answers 400 with the field path, 404, 409 and 413 in one error shape", async () => {
    const bad = await s.call("POST", "/api/v1/projects", { body: { name: "ok", repo: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("bad_request");
    expect(bad.json.error.details).toEqual([{ path: "body.repo", message: expect.any(String) }]);
    const vars = await s.call("POST", "/api/v1/projects", { body: { name: "has space", repo: "/r" } });
    expect(vars.json.error.details[0].path).toBe("body.name");
    const badJson = await s.call("POST", "/api/v1/projects", {
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error.code).toBe("bad_request");
    const missing = await s.call("GET", "/api/v1/projects/nope");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: { code: "not_found", message: 'project "nope" not found' } });
    const noRoute = await s.call("GET", "/api/v1/nothing-here");
    expect(noRoute.json.error.code).toBe("not_found");
    expect((await s.call("POST", "/api/v1/projects", { body: { name: "dup", repo: "/r" } })).status).toBe(
      201,
    );
    const dup = await s.call("POST", "/api/v1/projects", { body: { name: "dup", repo: "/r" } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.code).toBe("conflict");
    const big = await s.call("POST", "/api/v1/projects", { body: { name: "big", repo: "x".repeat(10_000) } });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("payload_too_large");
    const page = await s.call("GET", "/api/v1/projects/dup/pipelines?limit=1000");
    expect(page.status).toBe(400);
    expect(page.json.error.details[0].path).toBe("query.limit");
  });

  it("authenticates with hashed, expiring, scoped tokens and echoes request ids", async () => {
    const none = await s.call("GET", "/api/v1/me", { token: null });
    expect(none.status).toBe(401);
    const me = await s.call("GET", "/api/v1/me", { headers: { "x-request-id": "req-42" } });
    expect(me.json).toMatchObject({ user: "admin", admin: true });
    expect(me.headers["x-request-id"]).toBe("req-42");
    expect((await s.call("POST", "/api/v1/users", { body: { name: "carol" } })).status).toBe(201);
    const t = await s.call("POST", "/api/v1/tokens", {
      body: { name: "ro", scopes: ["read"], user: "carol", expiresInDays: 1 },
    });
    expect(t.status).toBe(201);
    expect(t.json.token).toMatch(/^gty_/);
    expect(t.json.info).toMatchObject({ user: "carol", scopes: ["read"] });
    expect((await s.call("GET", "/api/v1/me", { token: t.json.token })).json.user).toBe("carol");
    expect(
      (await s.call("POST", "/api/v1/tokens", { token: t.json.token, body: { name: "x" } })).status,
    ).toBe(403);
    const rows = await s.services.db.k.selectFrom("tokens").select("hash").execute();
    expect(JSON.stringify(rows)).not.toContain(t.json.token);
    expect((await s.call("DELETE", `/api/v1/tokens/${t.json.info.id}`)).status).toBe(204);
    expect((await s.call("GET", "/api/v1/me", { token: t.json.token })).status).toBe(401);
  });

  it("exposes gantry_ metrics and health without a token", async () => {
    expect((await s.call("GET", "/healthz", { token: null })).json).toEqual({ ok: true });
    expect((await s.call("GET", "/readyz", { token: null })).json).toEqual({ ok: true });
    const m = await s.call("GET", "/metrics", { token: null });
    expect(m.status).toBe(200);
    for (const name of [
      "gantry_jobs",
      "gantry_queue_depth",
      "gantry_queue_wait_seconds",
      "gantry_job_duration_seconds",
      "gantry_runners_online",
      "gantry_http_request_duration_seconds",
      "gantry_pipelines_total",
    ])
      expect(m.body).toContain(name);
  });

  it("refuses a runner with another protocol version clearly", async () => {
    const rt = await s.call("POST", "/api/v1/runners", { body: { name: "old" } });
    const res = await s.call("POST", "/api/v1/runner/register", {
      token: rt.json.token,
      headers: { "gantry-protocol": "999" },
      body: {
        protocolVersion: 999,
        name: "old",
        labels: [],
        executors: ["shell"],
        concurrency: 1,
        version: "9",
      },
    });
    expect(res.status).toBe(426);
    expect(res.json.error.code).toBe("protocol_mismatch");
    expect(res.json.error.message).toContain("protocol version 999 is not supported");
    const user = await s.call("POST", "/api/v1/runner/lease", { body: { slots: 1, waitMs: 0 } });
    expect(user.status).toBe(401);
  });
});
