import { z } from "zod";
import { sql } from "kysely";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { HttpError } from "../http-error.js";
import type { Me } from "../api-types.js";

/** Health, readiness, metrics and the caller's identity. */
export function systemRoutes(s: Services, openapi: () => unknown): RouteDef[] {
  return [
    defineRoute({
      method: "GET",
      url: "/healthz",
      summary: "Liveness: the process answers",
      tag: "system",
      access: { kind: "public" },
      response: z.object({ ok: z.boolean() }),
      handler: async () => ({ ok: true }),
    }),
    defineRoute({
      method: "GET",
      url: "/readyz",
      summary: "Readiness: the database answers",
      tag: "system",
      access: { kind: "public" },
      response: z.object({ ok: z.boolean() }),
      handler: async () => {
        try {
          await sql`select 1`.execute(s.db.k);
          return { ok: true };
        } catch (err) {
          throw new HttpError(
            503,
            "unavailable",
            `database unavailable: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      },
    }),
    defineRoute({
      method: "GET",
      url: "/metrics",
      summary: "Prometheus metrics (gantry_*)",
      tag: "system",
      access: { kind: "public" },
      produces: "text/plain",
      handler: async ({ req, reply }) => {
        if (s.cfg.metricsToken && req.headers.authorization !== `Bearer ${s.cfg.metricsToken}`)
          throw new HttpError(
            401,
            "unauthorized",
            "metrics are protected: send Authorization: Bearer <metrics token>",
          );
        reply.header("content-type", s.metrics.registry.contentType);
        return s.metrics.registry.metrics();
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/openapi.json",
      summary: "This API's OpenAPI 3 document",
      tag: "system",
      access: { kind: "public" },
      handler: async () => openapi(),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/me",
      summary: "The signed-in user, token scopes and project roles",
      tag: "users",
      access: { kind: "user" },
      response: z.object({
        user: z.string(),
        admin: z.boolean(),
        scopes: z.array(z.string()),
        roles: z.array(z.object({ project: z.string(), role: z.string() })),
      }),
      handler: async ({ caller }): Promise<Me> => {
        if (caller.kind !== "user") throw new HttpError(401, "unauthorized", "sign in");
        const names = await s.db.k.selectFrom("projects").select(["id", "name"]).execute();
        const byId = new Map(names.map((n) => [Number(n.id), n.name]));
        return {
          user: caller.name,
          admin: caller.admin,
          scopes: caller.scopes as Me["scopes"],
          roles: [...caller.roles].map(([id, role]) => ({ project: byId.get(id) ?? String(id), role })),
        };
      },
    }),
  ];
}
