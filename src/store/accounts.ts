import { createHash, randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import type { Db, Schema } from "./schema.js";

export type UserRow = Selectable<Schema["users"]>;
export type TokenRow = Selectable<Schema["tokens"]>;

/** sha256 of a token: tokens have 256 bits of entropy, so a fast hash is safe at rest. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A new random token with a readable prefix (`gty_` users, `gtr_` runners). */
export function newToken(prefix: "gty" | "gtr"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

export async function createUser(db: Db, name: string, admin: boolean): Promise<number> {
  const r = await db.k
    .insertInto("users")
    .values({ name, is_admin: admin ? 1 : 0, created_at: Date.now() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function findUser(db: Db, name: string): Promise<UserRow | undefined> {
  return db.k.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.k.selectFrom("users").selectAll().orderBy("name").execute();
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.k.deleteFrom("tokens").where("user_id", "=", id).execute();
  await db.k.deleteFrom("members").where("user_id", "=", id).execute();
  await db.k.deleteFrom("users").where("id", "=", id).execute();
}

/** Stores a token (hash only) and returns its id. */
export async function createToken(
  db: Db,
  userId: number,
  name: string,
  token: string,
  scopes: string[],
  expiresAt: number | null,
): Promise<number> {
  const r = await db.k
    .insertInto("tokens")
    .values({
      user_id: userId,
      name,
      hash: hashToken(token),
      scopes: JSON.stringify(scopes),
      expires_at: expiresAt,
      created_at: Date.now(),
      last_used_at: null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

/** The user and token for a presented bearer token, if valid and not expired. */
export async function authenticate(
  db: Db,
  token: string,
): Promise<{ user: UserRow; token: TokenRow } | undefined> {
  const t = await db.k
    .selectFrom("tokens")
    .selectAll()
    .where("hash", "=", hashToken(token))
    .executeTakeFirst();
  if (!t) return undefined;
  const now = Date.now();
  if (t.expires_at !== null && Number(t.expires_at) <= now) return undefined;
  const user = await db.k.selectFrom("users").selectAll().where("id", "=", t.user_id).executeTakeFirst();
  if (!user) return undefined;
  // Coarse "last used": one write a minute per token at most.
  if (t.last_used_at === null || now - Number(t.last_used_at) > 60_000)
    await db.k.updateTable("tokens").set({ last_used_at: now }).where("id", "=", t.id).execute();
  return { user, token: t };
}

export async function listTokens(db: Db, userId?: number): Promise<(TokenRow & { user_name: string })[]> {
  let q = db.k
    .selectFrom("tokens")
    .innerJoin("users", "users.id", "tokens.user_id")
    .selectAll("tokens")
    .select("users.name as user_name");
  if (userId !== undefined) q = q.where("tokens.user_id", "=", userId);
  return q.orderBy("tokens.id").execute();
}

export async function deleteToken(db: Db, id: number): Promise<void> {
  await db.k.deleteFrom("tokens").where("id", "=", id).execute();
}

export async function getToken(db: Db, id: number): Promise<TokenRow | undefined> {
  return db.k.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Sets (or with `null` removes) a user's role on a project. */
export async function setMember(
  db: Db,
  projectId: number,
  userId: number,
  role: string | null,
): Promise<void> {
  await db.k
    .deleteFrom("members")
    .where("project_id", "=", projectId)
    .where("user_id", "=", userId)
    .execute();
  if (role)
    await db.k.insertInto("members").values({ project_id: projectId, user_id: userId, role }).execute();
}

export async function rolesOf(
  db: Db,
  userId: number,
): Promise<{ project: string; projectId: number; role: string }[]> {
  const rows = await db.k
    .selectFrom("members")
    .innerJoin("projects", "projects.id", "members.project_id")
    .select(["projects.name as project", "projects.id as projectId", "members.role"])
    .where("members.user_id", "=", userId)
    .execute();
  return rows.map((r) => ({ project: r.project, projectId: Number(r.projectId), role: r.role }));
}

export async function projectMembers(db: Db, projectId: number): Promise<{ user: string; role: string }[]> {
  return db.k
    .selectFrom("members")
    .innerJoin("users", "users.id", "members.user_id")
    .select(["users.name as user", "members.role"])
    .where("members.project_id", "=", projectId)
    .orderBy("users.name")
    .execute();
}

/** Appends to the audit trail. */
export async function audit(
  db: Db,
  actor: string,
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.k
    .insertInto("audit")
    .values({ at: Date.now(), actor, action, target, details: JSON.stringify(details) })
    .execute();
}
