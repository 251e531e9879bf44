import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Role } from "./api-types.js";
import { badRequest } from "./http-error.js";
import type { Caller } from "./auth.js";

/**
 * Who may call a route:
 * - `public`: anyone; `user`: any valid user token; `admin`: a global admin;
 * - `project`: at least `role` on the project named by the URL (`:name`), or owning the
 *   pipeline (`:id` of `/pipelines/`) or job (`:id` of `/jobs/`);
 * - `runner`: a runner token.
 */
export type Access =
  | { kind: "public" }
  | { kind: "user" }
  | { kind: "admin" }
  | { kind: "runner" }
  | { kind: "project"; role: Role; from: "name" | "pipeline" | "job" };

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a handler receives: validated input and the authenticated caller. */
export interface Ctx<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  caller: Caller;
  /** The project the access check resolved, for project routes. */
  projectId: number;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  /** Fastify form: `/api/v1/projects/:name`. */
  url: string;
  summary: string;
  tag: string;
  access: Access;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Schema of the 2xx JSON answer, for the OpenAPI document. */
  response?: z.ZodType;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** Non-JSON answers (logs, downloads, SSE, metrics). */
  produces?: string;
  /** Raw request body (artifacts upload). */
  consumes?: string;
  handler(ctx: Ctx<B, Q, P>): Promise<unknown>;
}

/** Declares a route with inferred input types. */
export function defineRoute<B = unknown, Q = unknown, P = unknown>(def: RouteDef<B, Q, P>): RouteDef {
  return def;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join("."),
    message: i.message,
  }));
  throw badRequest(`invalid request: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
}

/** Registers routes on Fastify with validation at the edge and the access check first. */
export function mountRoutes(
  app: FastifyInstance,
  routes: RouteDef[],
  authorize: (def: RouteDef, req: FastifyRequest) => Promise<{ caller: Caller; projectId: number }>,
): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: def.url,
      handler: async (req, reply) => {
        const { caller, projectId } = await authorize(def, req);
        const params = parse(def.params, req.params, "params");
        const query = parse(def.query, req.query, "query");
        const body = def.consumes ? req.body : parse(def.body, req.body, "body");
        const out = await def.handler({ body, query, params, caller, projectId, req, reply });
        if (reply.sent) return reply;
        if (def.status) reply.code(def.status);
        return out === undefined ? reply.send() : out;
      },
    });
  }
}

function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, "{$1}").replace(/\*$/, "{path}");
}

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(s, { unrepresentable: "any", io: "input" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = (paths[toOpenApiPath(r.url)] ??= {});
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", r.params],
      ["query", r.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {}))
        parameters.push({
          name: name === "*" ? "path" : name,
          in: where,
          required: where === "path" || (js.required ?? []).includes(name),
          schema: s,
        });
    }
    if (r.url.endsWith("*") && !r.params)
      parameters.push({ name: "path", in: "path", required: true, schema: { type: "string" } });
    const ok = String(r.status ?? 200);
    const content = r.produces
      ? { [r.produces]: { schema: { type: "string" } } }
      : r.response
        ? { "application/json": { schema: jsonSchema(r.response) } }
        : undefined;
    p[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${toOpenApiPath(r.url).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } }
        : {}),
      ...(r.consumes
        ? {
            requestBody: {
              required: true,
              content: { [r.consumes]: { schema: { type: "string", format: "binary" } } },
            },
          }
        : {}),
      ...(r.access.kind === "public" ? { security: [] } : {}),
      "x-gantry-access": r.access,
      responses: {
        [ok]: { description: "OK", ...(content ? { content } : {}) },
        default: {
          description: "Error",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Gantry API", version },
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
  };
}
