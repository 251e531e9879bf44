import { z } from "zod";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { conflict, forbidden, notFound } from "../http-error.js";
import * as S from "../schemas.js";
import type { Caller } from "../auth.js";
import { createRunner, deleteRunner, getRunner, listRunners, runnerJobs } from "../../store/runners.js";
import { deleteSecret, listSecrets, putSecret } from "../../store/secrets.js";
import {
  audit,
  createToken,
  createUser,
  deleteToken,
  deleteUser,
  findUser,
  getToken,
  listTokens,
  listUsers,
  newToken,
  rolesOf,
} from "../../store/accounts.js";

import { runnerView, secretView, tokenView } from "../views.js";
import type { SecretValue } from "../../engine/types.js";
import type { CreateRunnerResponse, CreateTokenResponse, Role, User } from "../api-types.js";

const who = (c: Caller) => (c.kind === "user" ? c.name : c.kind);

const runnerOut = z.object({
  id: z.number(),
  name: z.string(),
  labels: z.array(z.string()),
  executors: z.array(z.string()),
  version: z.string(),
  online: z.boolean(),
  lastSeenAt: z.string().nullable(),
  currentJobs: z.array(z.number()),
  builtin: z.boolean(),
});
const secretOut = z.object({
  name: z.string(),
  project: z.string().nullable(),
  kind: z.string(),
  protected: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const tokenOut = z.object({
  id: z.number(),
  user: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
const userOut = z.object({
  name: z.string(),
  admin: z.boolean(),
  createdAt: z.string(),
  roles: z.array(z.object({ project: z.string(), role: z.string() })),
});
const secretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, "a secret name: letters, digits, '_', '.', '-'");

function secretValue(b: z.infer<typeof S.putSecret>): SecretValue {
  const kind = b.kind ?? "secret";
  return kind === "usernamePassword"
    ? { kind, username: b.username!, password: b.password! }
    : { kind, value: b.value! };
}

/** Runners, secrets, users and tokens. */
export function adminRoutes(s: Services): RouteDef[] {
  const secretRoutes = (scope: "project" | "global"): RouteDef[] => {
    const base = scope === "project" ? "/api/v1/projects/:name/secrets" : "/api/v1/secrets";
    const access =
      scope === "project"
        ? ({ kind: "project", role: "maintainer", from: "name" } as const)
        : ({ kind: "admin" } as const);
    const pid = (projectId: number) => (scope === "project" ? projectId : 0);
    const params =
      scope === "project"
        ? z.object({ name: z.string(), secret: secretName })
        : z.object({ secret: secretName });
    return [
      defineRoute({
        method: "GET",
        url: base,
        summary:
          scope === "project"
            ? "The project's secrets (names only; values are write-only)"
            : "Global secrets (names only)",
        tag: "secrets",
        access,
        ...(scope === "project" ? { params: S.nameParam } : {}),
        response: z.array(secretOut),
        handler: async ({ projectId, params: p }) =>
          (await listSecrets(s.db, pid(projectId))).map((r) =>
            secretView(r, scope === "project" ? p.name : null),
          ),
      }),
      defineRoute({
        method: "PUT",
        url: `${base}/:secret`,
        summary: "Create or replace a secret (stored encrypted; never returned)",
        tag: "secrets",
        access,
        params,
        body: S.putSecret,
        response: secretOut,
        handler: async ({ params: p, body, projectId, caller }) => {
          const name = p.secret;
          await putSecret(
            s.db,
            s.secretKey,
            pid(projectId),
            name,
            secretValue(body),
            body.protected ?? false,
          );
          await audit(
            s.db,
            who(caller),
            "secret.put",
            `${scope === "project" ? (p as unknown as { name: string }).name : "*"}/${name}`,
          );
          const row = (await listSecrets(s.db, pid(projectId))).find((r) => r.name === name)!;
          return secretView(row, scope === "project" ? (p as unknown as { name: string }).name : null);
        },
      }),
      defineRoute({
        method: "DELETE",
        url: `${base}/:secret`,
        summary: "Delete a secret",
        tag: "secrets",
        access,
        params,
        status: 204,
        handler: async ({ params: p, projectId, caller }) => {
          const name = p.secret;
          if (!(await deleteSecret(s.db, pid(projectId), name))) throw notFound(`secret "${name}"`);
          await audit(s.db, who(caller), "secret.delete", name);
        },
      }),
    ];
  };
  const userView = async (u: {
    id: number;
    name: string;
    is_admin: number;
    created_at: number;
  }): Promise<User> => ({
    name: u.name,
    admin: u.is_admin === 1,
    createdAt: new Date(Number(u.created_at)).toISOString(),
    roles: (await rolesOf(s.db, Number(u.id))).map((r) => ({ project: r.project, role: r.role as Role })),
  });
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/runners",
      summary: "Runners, online state and current jobs",
      tag: "runners",
      access: { kind: "user" },
      response: z.array(runnerOut),
      handler: async () => {
        const jobs = await runnerJobs(s.db);
        return (await listRunners(s.db)).map((r) => runnerView(r, jobs.get(Number(r.id)) ?? []));
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/runners",
      summary: "Create a runner and its token (shown once)",
      tag: "runners",
      access: { kind: "admin" },
      body: S.createRunner,
      status: 201,
      response: z.object({ runner: runnerOut, token: z.string() }),
      handler: async ({ body, caller }): Promise<CreateRunnerResponse> => {
        const token = newToken("gtr");
        const id = await createRunner(s.db, body.name, token, body.labels ?? [], false);
        await audit(s.db, who(caller), "runner.create", body.name);
        return { runner: runnerView((await getRunner(s.db, id))!, []), token };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/runners/:id",
      summary: "Remove a runner (its token stops working)",
      tag: "runners",
      access: { kind: "admin" },
      params: S.idParam,
      status: 204,
      handler: async ({ params, caller }) => {
        if (!(await getRunner(s.db, params.id))) throw notFound(`runner ${params.id}`);
        await deleteRunner(s.db, params.id);
        s.auth.invalidate();
        await audit(s.db, who(caller), "runner.delete", String(params.id));
      },
    }),
    ...secretRoutes("project"),
    ...secretRoutes("global"),
    defineRoute({
      method: "GET",
      url: "/api/v1/users",
      summary: "Users and their project roles",
      tag: "users",
      access: { kind: "admin" },
      response: z.array(userOut),
      handler: async () => Promise.all((await listUsers(s.db)).map((u) => userView(u))),
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/users",
      summary: "Create a user",
      tag: "users",
      access: { kind: "admin" },
      body: S.createUser,
      status: 201,
      response: userOut,
      handler: async ({ body, caller }) => {
        if (await findUser(s.db, body.name)) throw conflict(`a user named "${body.name}" already exists`);
        await createUser(s.db, body.name, body.admin ?? false);
        await audit(s.db, who(caller), "user.create", body.name);
        s.auth.invalidate();
        return userView((await findUser(s.db, body.name))!);
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/users/:user",
      summary: "Delete a user and their tokens",
      tag: "users",
      access: { kind: "admin" },
      params: z.object({ user: z.string() }),
      status: 204,
      handler: async ({ params, caller }) => {
        const u = await findUser(s.db, params.user);
        if (!u) throw notFound(`user "${params.user}"`);
        if (caller.kind === "user" && caller.userId === Number(u.id))
          throw conflict("you cannot delete yourself");
        await deleteUser(s.db, Number(u.id));
        await audit(s.db, who(caller), "user.delete", params.user);
        s.auth.invalidate();
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/tokens",
      summary: "The caller's tokens (all tokens for admins)",
      tag: "users",
      access: { kind: "user" },
      response: z.array(tokenOut),
      handler: async ({ caller }) => {
        if (caller.kind !== "user") return [];
        return (await listTokens(s.db, caller.admin ? undefined : caller.userId)).map((t) =>
          tokenView(t, t.user_name),
        );
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/tokens",
      summary: "Create an API token (the value is shown once)",
      tag: "users",
      access: { kind: "user" },
      body: S.createToken,
      status: 201,
      response: z.object({ token: z.string(), info: tokenOut }),
      handler: async ({ body, caller }): Promise<CreateTokenResponse> => {
        if (caller.kind !== "user") throw forbidden();
        let userId = caller.userId;
        let userName = caller.name;
        if (body.user && body.user !== caller.name) {
          if (!caller.admin) throw forbidden("only administrators may create tokens for other users");
          const u = await findUser(s.db, body.user);
          if (!u) throw notFound(`user "${body.user}"`);
          userId = Number(u.id);
          userName = u.name;
        }
        const scopes = body.scopes ?? ["read", "write"];
        // A read-only token cannot mint a stronger one (it cannot POST at all), so scopes never widen.
        const token = newToken("gty");
        const id = await createToken(
          s.db,
          userId,
          body.name,
          token,
          scopes,
          body.expiresInDays ? Date.now() + body.expiresInDays * 86_400_000 : null,
        );
        await audit(s.db, who(caller), "token.create", `${userName}/${body.name}`);
        s.auth.invalidate();
        return { token, info: tokenView((await getToken(s.db, id))!, userName) };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/tokens/:id",
      summary: "Revoke a token",
      tag: "users",
      access: { kind: "user" },
      params: S.idParam,
      status: 204,
      handler: async ({ params, caller }) => {
        const t = await getToken(s.db, params.id);
        if (!t || caller.kind !== "user" || (!caller.admin && Number(t.user_id) !== caller.userId))
          throw notFound(`token ${params.id}`);
        await deleteToken(s.db, params.id);
        await audit(s.db, who(caller), "token.delete", String(params.id));
        s.auth.invalidate();
      },
    }),
  ];
}
