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
  | { kind: "runner"; runnerId: number; name: string; labels: string[] };

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

/** Builds the access check that runs before every route's validation and handler. */
export function authorizer(db: Db) {
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
      const r = token ? await runnerByToken(db, token) : undefined;
      if (!r) throw unauthorized("a valid runner token is required (Authorization: Bearer gtr_...)");
      return {
        caller: {
          kind: "runner",
          runnerId: Number(r.id),
          name: r.name,
          labels: JSON.parse(r.labels) as string[],
        },
        projectId: 0,
      };
    }
    if (!token) throw unauthorized("sign in: send Authorization: Bearer <token>");
    const auth = await authenticate(db, token);
    if (!auth) throw unauthorized("the token is unknown, revoked or expired");
    const scopes = JSON.parse(auth.token.scopes) as string[];
    if (def.method !== "GET" && !scopes.includes("write"))
      throw forbidden("this token has the read scope only");
    const roles = new Map<number, Role>();
    for (const r of await rolesOf(db, Number(auth.user.id))) roles.set(r.projectId, r.role as Role);
    const caller: Caller = {
      kind: "user",
      userId: Number(auth.user.id),
      name: auth.user.name,
      admin: auth.user.is_admin === 1,
      scopes,
      roles,
    };
    if (access.kind === "user") return { caller, projectId: 0 };
    if (access.kind === "admin") {
      if (!caller.admin) throw forbidden("only administrators may do this");
      return { caller, projectId: 0 };
    }
    const params = req.params as Record<string, string>;
    const projectId = await projectOf(db, access.from, params);
    if (!roleAtLeast(roleOn(caller, projectId), access.role))
      throw forbidden(`this needs the ${access.role} role on the project`);
    return { caller, projectId };
  };
}

async function projectOf(
  db: Db,
  from: "name" | "pipeline" | "job",
  params: Record<string, string>,
): Promise<number> {
  if (from === "name") {
    const p = await findProject(db, params.name ?? "");
    if (!p) throw notFound(`project "${params.name}"`);
    return Number(p.id);
  }
  const id = Number(params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound(`${from} ${params.id}`);
  const table = from === "pipeline" ? "pipelines" : "jobs";
  const row = await db.k.selectFrom(table).select("project_id").where("id", "=", id).executeTakeFirst();
  if (!row) throw notFound(`${from} ${id}`);
  return Number(row.project_id);
}
