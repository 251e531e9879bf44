import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerWebUi } from "../../src/server/static.js";

// A fake build, so this test does not depend on `npm run build:web` having run.
let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-web-"));
  fs.mkdirSync(path.join(root, "assets"));
  fs.writeFileSync(
    path.join(root, "index.html"),
    '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc.js"></script>',
  );
  fs.writeFileSync(path.join(root, "assets", "index-abc.js"), "console.log(1)");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function app(dir: string) {
  const a = Fastify();
  a.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: "not_found", message: `no route ${req.url}` } }),
  );
  a.get("/api/v1/me", async () => ({ user: "x" }));
  await registerWebUi(a, dir);
  return a;
}

describe("registerWebUi", () => {
  it("serves index.html at / and at the UI's deep links, never cached", async () => {
    const a = await app(root);
    for (const url of [
      "/",
      "/jobs/12",
      "/pipelines/3",
      "/projects/my%20app/run",
      "/runners",
      "/tokens",
      "/secrets",
      "/sign-in",
    ]) {
      const r = await a.inject(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers["content-type"]).toMatch(/text\/html/);
      expect(r.headers["cache-control"]).toBe("no-cache");
      expect(r.body).toContain('<div id="root">');
    }
  });

  it("serves hashed assets with an immutable cache", async () => {
    const a = await app(root);
    const r = await a.inject("/assets/index-abc.js");
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/javascript/);
    expect(r.headers["cache-control"]).toContain("immutable");
    expect(r.body).toBe("console.log(1)");
  });

  it("leaves unknown API paths and unknown files to the JSON 404, and API routes alone", async () => {
    const a = await app(root);
    const api = await a.inject("/api/v1/nope");
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await a.inject("/assets/missing.js")).statusCode).toBe(404);
    expect((await a.inject("/api/v1/me")).json()).toEqual({ user: "x" });
  });

  it("explains how to build the UI when web/dist is missing", async () => {
    const a = await app(path.join(root, "absent"));
    const r = await a.inject("/");
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain("npm run build:web");
  });
});
