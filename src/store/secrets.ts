import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Selectable } from "kysely";
import type { SecretValue } from "../engine/types.js";
import type { Db, Schema } from "./schema.js";

export type SecretRow = Selectable<Schema["secrets"]>;

/**
 * The 32-byte AES key: `GANTRY_SECRET_KEY` (64 hex chars or base64), else `<dataDir>/secret.key`,
 * created with mode 0600 on first use.
 */
export function loadSecretKey(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): Buffer {
  const fromEnv = env.GANTRY_SECRET_KEY;
  if (fromEnv) {
    const key = /^[0-9a-f]{64}$/i.test(fromEnv)
      ? Buffer.from(fromEnv, "hex")
      : Buffer.from(fromEnv, "base64");
    if (key.length !== 32)
      throw new Error(
        "GANTRY_SECRET_KEY must be 32 bytes: 64 hex characters or 44 base64 characters (try `openssl rand -hex 32`)",
      );
    return key;
  }
  const file = path.join(dataDir, "secret.key");
  if (fs.existsSync(file)) {
    const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "hex");
    if (key.length !== 32) throw new Error(`${file} must hold 64 hex characters`);
    return key;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  fs.writeFileSync(file, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  return key;
}

/** AES-256-GCM; the output is base64 of iv | tag | ciphertext. */
export function encrypt(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
}

export function decrypt(key: Buffer, blob: string): string {
  const buf = Buffer.from(blob, "base64");
  const d = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
  d.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString("utf8");
}

/** Creates or replaces a secret (`projectId` 0: global). */
export async function putSecret(
  db: Db,
  key: Buffer,
  projectId: number,
  name: string,
  value: SecretValue,
  isProtected: boolean,
): Promise<void> {
  const now = Date.now();
  const ciphertext = encrypt(key, JSON.stringify(value));
  const existing = await db.k
    .selectFrom("secrets")
    .select("id")
    .where("project_id", "=", projectId)
    .where("name", "=", name)
    .executeTakeFirst();
  if (existing)
    await db.k
      .updateTable("secrets")
      .set({ kind: value.kind, ciphertext, is_protected: isProtected ? 1 : 0, updated_at: now })
      .where("id", "=", existing.id)
      .execute();
  else
    await db.k
      .insertInto("secrets")
      .values({
        project_id: projectId,
        name,
        kind: value.kind,
        is_protected: isProtected ? 1 : 0,
        ciphertext,
        created_at: now,
        updated_at: now,
      })
      .execute();
}

export async function listSecrets(db: Db, projectId: number): Promise<SecretRow[]> {
  return db.k.selectFrom("secrets").selectAll().where("project_id", "=", projectId).orderBy("name").execute();
}

export async function deleteSecret(db: Db, projectId: number, name: string): Promise<boolean> {
  const r = await db.k
    .deleteFrom("secrets")
    .where("project_id", "=", projectId)
    .where("name", "=", name)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * The secret a job of `projectId` may see under `name`: the project's own first, then a
 * global one. Protected secrets only for protected refs (default branch, tags).
 */
export async function resolveSecret(
  db: Db,
  key: Buffer,
  projectId: number,
  name: string,
  protectedRef: boolean,
): Promise<SecretValue | undefined> {
  const rows = await db.k
    .selectFrom("secrets")
    .selectAll()
    .where("project_id", "in", [projectId, 0])
    .where("name", "=", name)
    .execute();
  const row =
    rows.find((r) => Number(r.project_id) === projectId) ?? rows.find((r) => Number(r.project_id) === 0);
  if (!row || (row.is_protected === 1 && !protectedRef)) return undefined;
  return JSON.parse(decrypt(key, row.ciphertext)) as SecretValue;
}
