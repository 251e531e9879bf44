import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import type { Db } from "../store/schema.js";
import { listRunners } from "../store/runners.js";
import { Bus } from "./bus.js";
import { Metrics } from "./metrics.js";
import { PipelineStarter } from "./pipeline-starter.js";
import { HttpError } from "./http-error.js";
import { AuthCache, authorizer } from "./auth.js";
import { mountRoutes, openApiDocument, type RouteDef } from "./route.js";
import type { ServerConfig, Services } from "./services.js";
import { ONLINE_MS } from "./views.js";
import { systemRoutes } from "./routes/system.js";
import { projectRoutes } from "./routes/projects.js";
import { jobRoutes } from "./routes/jobs.js";
import { adminRoutes } from "./routes/admin.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { runnerRoutes } from "./routes/runner-api.js";
import type { ApiError } from "./api-types.js";
import type { Plan } from "../pipeline/plan.js";

export interface AppOptions {
  db: Db;
  cfg: ServerConfig;
  secretKey: Buffer;
  /** Pino logger; default: silent. */
  log?: Logger;
  /** Called when a pipeline's Plan is stored (cron registration). */
  onPipelineStarted?: (pipelineId: number, projectId: number, ref: string, plan: Plan) => Promise<void>;
}

/** The HTTP application, without listening: tests call it with `app.inject`. */
export interface GantryApp {
  app: FastifyInstance;
  services: Services;
  routes: RouteDef[];
}

function errorBody(code: string, message: string, details?: unknown): ApiError {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

/** Builds the Fastify app with every route, the error shape, request ids and metrics. */
export async function buildApp(o: AppOptions): Promise<GantryApp> {
  const log = o.log ?? pino({ level: "silent" });
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: o.cfg.bodyLimit,
    genReqId: (req) => {
      const h = req.headers["x-request-id"];
      return typeof h === "string" && /^[\w.-]{1,128}$/.test(h) ? h : randomUUID();
    },
  });
  const bus = new Bus();
  const metrics = new Metrics(
    o.db,
    async () =>
      (await listRunners(o.db)).filter(
        (r) => r.last_seen_at !== null && Date.now() - Number(r.last_seen_at) < ONLINE_MS,
      ).length,
  );
  const starter = new PipelineStarter(o.db, o.cfg.dataDir, bus, log, o.onPipelineStarted);
  const services: Services = {
    db: o.db,
    cfg: o.cfg,
    bus,
    metrics,
    log,
    secretKey: o.secretKey,
    starter,
    auth: new AuthCache(),
    jobSecrets: new Map(),
  };

  // JSON with the raw bytes kept: webhook signatures are computed over them.
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    (req as unknown as { rawBody: Buffer }).rawBody = body as Buffer;
    if ((body as Buffer).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse((body as Buffer).toString("utf8")));
    } catch (err) {
      done(
        new HttpError(400, "bad_request", `the body is not valid JSON: ${(err as Error).message}`),
        undefined,
      );
    }
  });
  // Uploads stream to disk; their size limit is enforced while copying.
  app.addContentTypeParser(
    "application/octet-stream",
    { bodyLimit: Number.MAX_SAFE_INTEGER },
    (_req, payload, done) => done(null, payload),
  );

  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });
  app.addHook("onResponse", async (req, reply) => {
    metrics.http.observe(
      { method: req.method, route: req.routeOptions.url ?? "unknown", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpError)
      return reply.code(err.status).send(errorBody(err.code, err.message, err.details));
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.statusCode === 413)
      return reply
        .code(413)
        .send(errorBody("payload_too_large", `the request body is larger than ${o.cfg.bodyLimit} bytes`));
    if (e.statusCode === 415) return reply.code(415).send(errorBody("unsupported_media_type", e.message));
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
      return reply.code(e.statusCode).send(errorBody("bad_request", e.message));
    req.log.error({ err }, "request failed");
    return reply
      .code(500)
      .send(errorBody("internal", `internal error (request id ${req.id}); see the server log`));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody("not_found", `no route ${req.method} ${req.url.split("?")[0]}`)),
  );

  const routes: RouteDef[] = [];
  let doc: unknown;
  routes.push(
    ...systemRoutes(services, () => (doc ??= openApiDocument(routes, o.cfg.version))),
    ...projectRoutes(services),
    ...jobRoutes(services),
    ...adminRoutes(services),
    ...webhookRoutes(services),
    ...runnerRoutes(services),
  );
  mountRoutes(app, routes, authorizer(o.db, services.auth));
  return { app, services, routes };
}
