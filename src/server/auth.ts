import type { FastifyRequest } from "fastify";
import type { Role } from "./api-types.js";
import { ROLES } from "./api-types.js";
import type { Db } from "../store/schema.js";
import { authenticate, rolesOf } from "../store/accounts.js";
import { runnerByToken } from "../store/runners.js";
import { findProject } from "../store/projects.js";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../runner/protocol.js";
import { HttpError, forbidden, notFound } from "./http-error.js";
import type { RouteDef } from "./route.js";

/** Who is calling. */
export type Caller =
  | { kind: "anonymous" }
  | { kind: "user"; userId: number; name: string; admin: boolean; scopes: string[]; roles: Map<number, Role> }
  | { kind: "runner"; runnerId: number; name: string; labels: string[]; executors: string[] };

/** Whether `have` is at least `need`. */
export function roleAtLeast(have: Role | undefined, need: Role): boolean {
  return have !== undefined && ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** The caller's effective role on a project (`admin` for global admins). */
export function roleOn(caller: Caller, projectId: number): Role | undefined {
  if (caller.kind !== "user") return undefined;
  return caller.admin ? "admin" : caller.roles.get(projectId);
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

const unauthorized = (message: string) => new HttpError(401, "unauthorized", message);

/**
 * Who a token belongs to, cached for a few seconds: most requests would otherwise spend three
 * queries on it (a runner's, one per request). Any change to users, tokens, members, projects or
 * runners made through this server
 * clears the cache at once ({@link invalidateAuth}); another replica sees it within the TTL.
 */
const AUTH_TTL_MS = 5_000;

/** Per-server caches of token identities and project ids. */
export class AuthCache {
  readonly callers = new Map<string, { until: number; caller: Extract<Caller, { kind: "user" }> | null }>();
  readonly projectIds = new Map<string, number>();
  /** Known runner tokens (unknown ones are not cached: a runner created elsewhere works at once). */
  readonly runners = new Map<string, { until: number; caller: Extract<Caller, { kind: "runner" }> }>();

  /** Forgets everything (after a write to users, tokens, members, projects or runners). */
  invalidate(): void {
    this.callers.clear();
    this.projectIds.clear();
    this.runners.clear();
  }
}

async function runnerCaller(
  db: Db,
  cache: AuthCache,
  token: string,
): Promise<Extract<Caller, { kind: "runner" }> | undefined> {
  const now = Date.now();
  const hit = cache.runners.get(token);
  if (hit && hit.until > now) return hit.caller;
  const r = await runnerByToken(db, token);
  if (!r) return undefined;
  const caller = {
    kind: "runner" as const,
    runnerId: Number(r.id),
    name: r.name,
    labels: JSON.parse(r.labels) as string[],
    executors: JSON.parse(r.executors) as string[],
  };
  if (cache.runners.size > 10_000) cache.runners.clear();
  cache.runners.set(token, { until: now + AUTH_TTL_MS, caller });
  return caller;
}

async function userCaller(
  db: Db,
  cache: AuthCache,
  token: string,
): Promise<Extract<Caller, { kind: "user" }> | null> {
  const authCache = cache.callers;
  const now = Date.now();
  const hit = authCache.get(token);
  if (hit && hit.until > now) return hit.caller;
  const auth = await authenticate(db, token);
  let caller: Extract<Caller, { kind: "user" }> | null = null;
  if (auth) {
    const roles = new Map<number, Role>();
    for (const r of await rolesOf(db, Number(auth.user.id))) roles.set(r.projectId, r.role as Role);
    caller = {
      kind: "user",
      userId: Number(auth.user.id),
      name: auth.user.name,
      admin: auth.user.is_admin === 1,
      scopes: JSON.parse(auth.token.scopes) as string[],
      roles,
    };
  }
  // An expiring token is not cached past its expiry.
  const expires = auth?.token.expires_at ? Number(auth.token.expires_at) : Infinity;
  if (authCache.size > 10_000) authCache.clear();
  authCache.set(token, { until: Math.min(now + AUTH_TTL_MS, expires), caller });
  return caller;
}

/** Builds the access check that runs before every route's validation and handler. */
export function authorizer(db: Db, cache: AuthCache) {
  return async (def: RouteDef, req: FastifyRequest): Promise<{ caller: Caller; projectId: number }> => {
    const access = def.access;
    if (access.kind === "public") return { caller: { kind: "anonymous" }, projectId: 0 };
    const token = bearer(req);
    if (access.kind === "runner") {
      const theirs = req.headers[PROTOCOL_HEADER];
      if (theirs !== undefined && Number(theirs) !== PROTOCOL_VERSION)
        throw new HttpError(
          426,
          "protocol_mismatch",
          `runner protocol version ${String(theirs)} is not supported by this server (protocol ${PROTOCOL_VERSION}); install the same Gantry version on the runner and the server`,
          { server: PROTOCOL_VERSION, runner: Number(theirs) },
        );
      const caller = token ? await runnerCaller(db, cache, token) : undefined;
      if (!caller) throw unauthorized("a valid runner token is required (Authorization: Bearer gtr_...)");
      return { caller, projectId: 0 };
    }
    if (!token) throw unauthorized("sign in: send Authorization: Bearer <token>");
    const caller = await userCaller(db, cache, token);
    if (!caller) throw unauthorized("the token is unknown, revoked or expired");
    if (def.method !== "GET" && !caller.scopes.includes("write"))
      throw forbidden("this token has the read scope only");
    if (access.kind === "user") return { caller, projectId: 0 };
    if (access.kind === "admin") {
      if (!caller.admin) throw forbidden("only administrators may do this");
      return { caller, projectId: 0 };
    }
    const params = req.params as Record<string, string>;
    const projectId = await projectOf(db, cache, access.from, params);
    if (!roleAtLeast(roleOn(caller, projectId), access.role))
      throw forbidden(`this needs the ${access.role} role on the project`);
    return { caller, projectId };
  };
}

async function projectOf(
  db: Db,
  cache: AuthCache,
  from: "name" | "pipeline" | "job",
  params: Record<string, string>,
): Promise<number> {
  const projectIds = cache.projectIds;
  if (from === "name") {
    const name = params.name ?? "";
    const cached = projectIds.get(name);
    if (cached !== undefined) return cached;
    const p = await findProject(db, name);
    if (!p) throw notFound(`project "${name}"`);
    if (projectIds.size > 10_000) projectIds.clear();
    projectIds.set(name, Number(p.id));
    return Number(p.id);
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound(`${from} ${params.id}`);
  const table = from === "pipeline" ? "pipelines" : "jobs";
  const row = await db.k.selectFrom(table).select("project_id").where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound(`${from} ${id}`);
  return Number(row.project_id);
}
