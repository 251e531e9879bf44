import { promises as fs } from "node:fs";
import path from "node:path";
import type { SecretValue } from "../executors/executor.js";

/** A secret's whole value and, for `user:password` pairs, its halves. */
export function secretParts(secret: SecretValue): { whole: string; user: string; pass: string } {
  if (secret.kind === "usernamePassword")
    return { whole: `${secret.username}:${secret.password}`, user: secret.username, pass: secret.password };
  const i = secret.value.indexOf(":");
  return {
    whole: secret.value,
    user: i < 0 ? secret.value : secret.value.slice(0, i),
    pass: i < 0 ? "" : secret.value.slice(i + 1),
  };
}

/**
 * Writes a file credential next to the workspace (`<workspace>@tmp/`, as Jenkins does), never
 * inside it, so it cannot be archived or cached; returns its path.
 */
export async function writeSecretFile(workspace: string, id: string, value: string): Promise<string> {
  const dir = `${workspace}@tmp`;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `secret-${id.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
  await fs.writeFile(file, value, { mode: 0o600 });
  return file;
}
