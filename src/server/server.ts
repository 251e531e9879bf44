import fs from "node:fs";
import path from "node:path";
import pino, { type Logger } from "pino";
import { openDb, type DbLocation } from "../store/db.js";
import type { Db } from "../store/schema.js";
import { loadSecretKey } from "../store/secrets.js";
import { createToken, createUser, hashToken, listUsers, newToken } from "../store/accounts.js";
import { reapExpiredLeases } from "../store/queue.js";
import { createPipeline } from "../store/pipelines.js";
import { createRunner } from "../store/runners.js";
import { buildApp, type GantryApp } from "./app.js";
import { registerWebUi } from "./static.js";
import { cronMatches } from "./cron.js";
import { sweepExpiredArtifacts } from "./artifact-expiry.js";
import type { ServerConfig } from "./services.js";
import { Agent } from "../runner/agent.js";
import type { Plan } from "../pipeline/plan.js";

export interface ServerOptions {
  port: number;
  host: string;
  dataDir: string;
  /** PostgreSQL URL; default: SQLite at `<dataDir>/gantry.db`. */
  databaseUrl?: string;
  builtinRunner: boolean;
  /** Concurrency of the built-in runner. */
  builtinConcurrency?: number;
  leaseMs?: number;
  metricsToken?: string;
  publicUrl?: string;
  log?: Logger;
  env?: Record<string, string | undefined>;
  /** How long running built-in jobs get to finish on shutdown. */
  shutdownGraceMs?: number;
  /** Where the first admin token is printed (once). */
  out?: (line: string) => void;
  /** How long artifacts are kept when the pipeline sets no `expire_in`; absent: forever. */
  defaultArtifactExpiryMs?: number;
  /** How often expired artifacts are deleted (also once at start); default 10 minutes. */
  artifactSweepMs?: number;
}

export interface RunningServer extends GantryApp {
  url: string;
  db: Db;
  /** The admin token created on first start, if it was generated (not from the environment). */
  bootstrapToken?: string;
  close(): Promise<void>;
}

/**
 * Creates the first admin (user `admin`) on an empty database, with the token from
 * `GANTRY_BOOTSTRAP_TOKEN` or a new one that is returned to be printed once. A
 * `GANTRY_BOOTSTRAP_TOKEN` unknown to a non-empty database is added to the first admin.
 */
export async function bootstrapAdmin(
  db: Db,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const fromEnv = env.GANTRY_BOOTSTRAP_TOKEN;
  const users = await listUsers(db);
  if (users.length === 0) {
    const id = await createUser(db, "admin", true);
    const token = fromEnv ?? newToken("gty");
    await createToken(db, id, "bootstrap", token, ["read", "write"], null);
    return fromEnv ? undefined : token;
  }
  if (fromEnv) {
    const known = await db.k
      .selectFrom("tokens")
      .select("id")
      .where("hash", "=", hashToken(fromEnv))
      .executeTakeFirst();
    const admin = users.find((u) => u.is_admin === 1);
    if (!known && admin)
      await createToken(db, Number(admin.id), "bootstrap", fromEnv, ["read", "write"], null);
  }
  return undefined;
}

/** Starts `gantry server`: database, HTTP API, lease reaper, cron, and the built-in runner. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const env = o.env ?? process.env;
  const log = o.log ?? pino({ level: env.GANTRY_LOG_LEVEL ?? "info" });
  fs.mkdirSync(o.dataDir, { recursive: true });
  const where: DbLocation = o.databaseUrl
    ? { url: o.databaseUrl }
    : { sqlite: path.join(o.dataDir, "gantry.db") };
  const db = await openDb(where);
  const secretKey = loadSecretKey(o.dataDir, env);
  const leaseMs = o.leaseMs ?? 30_000;
  const cfg: ServerConfig = {
    dataDir: o.dataDir,
    leaseMs,
    maxLeaseWaitMs: 25_000,
    ...(o.metricsToken ? { metricsToken: o.metricsToken } : {}),
    publicUrl: o.publicUrl ?? `http://${o.host}:${o.port}`,
    version: "0.1.0",
    bodyLimit: 4 * 1024 * 1024,
    artifactLimit: 1024 * 1024 * 1024,
    ...(o.defaultArtifactExpiryMs ? { defaultArtifactExpiryMs: o.defaultArtifactExpiryMs } : {}),
  };
  const onPipelineStarted = async (_id: number, projectId: number, ref: string, plan: Plan) => {
    const project = await db.k
      .selectFrom("projects")
      .select("default_branch")
      .where("id", "=", projectId)
      .executeTakeFirst();
    if (project?.default_branch !== ref) return;
    const specs = plan.triggers.filter((t) => t.kind === "cron").map((t) => t.spec);
    await db.k.deleteFrom("schedules").where("project_id", "=", projectId).execute();
    for (const spec of specs)
      await db.k
        .insertInto("schedules")
        .values({ project_id: projectId, spec, ref, last_fired_at: Date.now() })
        .execute();
  };
  const built = await buildApp({ db, cfg, secretKey, log, onPipelineStarted });
  const { app, services } = built;
  // The web UI (web/dist) at `/`; in startServer rather than buildApp so in-process API tests stay as they are.
  await registerWebUi(app);
  const bootstrapToken = await bootstrapAdmin(db, env);
  if (bootstrapToken)
    (o.out ?? ((l) => process.stderr.write(l + "\n")))(
      `gantry: first start: created user "admin" with API token\n\n    ${bootstrapToken}\n\n  It is shown only this once; keep it (or set GANTRY_BOOTSTRAP_TOKEN before the first start).`,
    );

  const resumed = await services.starter.resume();
  if (resumed) log.info({ pipelines: resumed }, "resuming pipelines that were being prepared");

  const timers: NodeJS.Timeout[] = [];
  const sweep = async () => {
    const n = await sweepExpiredArtifacts(db, o.dataDir);
    if (n) log.info({ artifacts: n }, "deleted expired artifacts");
  };
  await sweep().catch((err: unknown) => log.error({ err }, "artifact expiry sweep failed"));
  timers.push(
    setInterval(
      () => void sweep().catch((err: unknown) => log.error({ err }, "artifact expiry sweep failed")),
      o.artifactSweepMs ?? 600_000,
    ),
  );
  const reap = async () => {
    const r = await reapExpiredLeases(db);
    for (const id of [...r.retried, ...r.failed]) services.bus.jobChanged(id);
    if (r.retried.length || r.failed.length) {
      log.warn({ retried: r.retried, failed: r.failed }, "runner lost: expired leases");
      services.bus.workAvailable();
    }
    for (const p of r.pipelinesFinished) services.metrics.pipelines.inc({ status: p.status });
  };
  timers.push(
    setInterval(
      () => void reap().catch((err: unknown) => log.error({ err }, "lease reaper failed")),
      Math.max(200, Math.floor(leaseMs / 3)),
    ),
  );
  const cron = async () => {
    const now = new Date();
    const minute = Math.floor(now.getTime() / 60_000) * 60_000;
    for (const s of await db.k.selectFrom("schedules").selectAll().execute()) {
      if (s.last_fired_at !== null && Number(s.last_fired_at) >= minute) continue;
      let due = false;
      try {
        due = cronMatches(s.spec, now, `${s.project_id}`);
      } catch (err) {
        log.warn({ spec: s.spec, err: String(err) }, "bad cron spec");
      }
      if (!due) continue;
      await db.k
        .updateTable("schedules")
        .set({ last_fired_at: now.getTime() })
        .where("id", "=", s.id)
        .execute();
      const id = await createPipeline(db, {
        projectId: Number(s.project_id),
        ref: s.ref,
        trigger: "schedule",
        variables: {},
        params: {},
        createdBy: "schedule",
      });
      void services.starter.start(id);
    }
  };
  timers.push(
    setInterval(() => void cron().catch((err: unknown) => log.error({ err }, "cron failed")), 20_000),
  );

  try {
    await app.listen({ port: o.port, host: o.host });
  } catch (err) {
    // Nothing may keep the process alive after a failed start (a taken port, say).
    for (const t of timers) clearInterval(t);
    await app.close().catch(() => undefined);
    await services.starter.idle();
    await db.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const url = `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`;
  if (!o.publicUrl) cfg.publicUrl = url;

  let agent: Agent | undefined;
  let agentDone: Promise<void> | undefined;
  if (o.builtinRunner) {
    const token = newToken("gtr");
    const existing = await db.k
      .selectFrom("runners")
      .select("id")
      .where("builtin", "=", 1)
      .executeTakeFirst();
    if (existing)
      await db.k
        .updateTable("runners")
        .set({ token_hash: hashToken(token) })
        .where("id", "=", existing.id)
        .execute();
    else await createRunner(db, "builtin", token, [], true);
    agent = new Agent({
      server: url,
      token,
      name: "builtin",
      concurrency: o.builtinConcurrency ?? 2,
      workDir: path.join(o.dataDir, "runner"),
      log: (line) => log.info({ runner: "builtin" }, line),
    });
    agentDone = agent.run().catch((err: unknown) => log.error({ err }, "built-in runner stopped"));
  }
  log.info(
    { url, database: o.databaseUrl ? "postgres" : "sqlite", dataDir: o.dataDir },
    "gantry server listening",
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const t of timers) clearInterval(t);
      // The built-in runner stops leasing and gets a grace period to finish its jobs; what
      // still runs after it is canceled and reported as such.
      if (agent && agentDone) {
        const within = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
        agent.stop(false);
        await Promise.race([agentDone, within(o.shutdownGraceMs ?? 10_000)]);
        agent.stop(true);
        await Promise.race([agentDone, within(5_000)]);
      }
      await app.close();
      await services.starter.idle();
      await db.close();
    })());
  return { ...built, url, db, ...(bootstrapToken ? { bootstrapToken } : {}), close };
}
