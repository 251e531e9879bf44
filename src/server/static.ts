/*
 * The web UI (`web/dist`, built by `npm run build:web`) served at `/`. `startServer`
 * (src/server/server.ts) registers it after `buildApp`, so in-process API tests that call
 * `buildApp` alone do not depend on a UI build.
 *
 * It only adds GET routes for the built files and for the UI's own page paths (see
 * `UI_PAGES`), so the JSON 404 of `setNotFoundHandler` stays the answer for every unknown
 * `/api/...` path. The UI's files are public (the sign-in page must load without a token);
 * everything they show comes from the token-protected API.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

/** Client-side routes of the single-page app: these paths answer with `index.html`. */
export const UI_PAGES = [
  "/",
  "/sign-in",
  "/projects/*",
  "/pipelines/*",
  "/jobs/*",
  "/runners",
  "/secrets",
  "/tokens",
] as const;

/** `web/dist` of this installation (the same from `dist/server/` and from `src/server/`). */
export function defaultWebRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/dist");
}

/**
 * Serves the built web UI: hashed assets with a year-long immutable cache, `index.html`
 * never cached (so a new version is picked up on reload), and `index.html` for the UI's
 * page paths so deep links work. Without a build, `/` explains how to make one.
 */
export async function registerWebUi(app: FastifyInstance, root = defaultWebRoot()): Promise<void> {
  const index = path.join(root, "index.html");
  if (!fs.existsSync(index)) {
    app.get("/", async (_req, reply) =>
      reply
        .type("text/html; charset=utf-8")
        .send(
          "<!doctype html><title>Gantry</title><p>The web UI is not built. Run <code>npm run build:web</code> and restart <code>gantry server</code>; the API is at <code>/api/v1</code>.</p>",
        ),
    );
    return;
  }
  const { default: fastifyStatic } = await import("@fastify/static");
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    // One route per built file, so unknown paths still reach the API's JSON 404.
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (res, file) => {
      res.setHeader(
        "cache-control",
        file.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
      res.setHeader("x-content-type-options", "nosniff");
    },
  });
  for (const url of UI_PAGES) {
    app.get(url, async (_req, reply) =>
      reply.header("cache-control", "no-cache").sendFile("index.html", root, { cacheControl: false }),
    );
  }
}
