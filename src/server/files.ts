import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { badRequest } from "./http-error.js";

/** Where the server keeps job files, under the data folder. */
export const artifactDir = (dataDir: string, jobId: number): string =>
  path.join(dataDir, "artifacts", String(jobId));
export const stashDir = (dataDir: string, pipelineId: number, name: string): string =>
  path.join(
    dataDir,
    "stash",
    String(pipelineId),
    createHash("sha256").update(name).digest("hex").slice(0, 24),
  );
export const cacheDir = (dataDir: string, projectId: number, key: string): string =>
  path.join(
    dataDir,
    "cache",
    "jobs",
    String(projectId),
    createHash("sha256").update(key).digest("hex").slice(0, 24),
  );

/** `rel` inside `base`, refusing absolute paths and `..` (400). */
export function safeJoin(base: string, rel: string): string {
  const clean = rel.replace(/\\/g, "/");
  if (!clean || clean.startsWith("/") || clean.split("/").some((p) => p === ".." || p === ""))
    throw badRequest(`invalid file path "${rel}"`);
  return path.join(base, clean);
}

/** Every file under `dir`, relative, sorted. */
export function listTree(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (d: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else if (e.isFile()) out.push({ path: rel, size: fs.statSync(path.join(d, e.name)).size });
    }
  };
  walk(dir, "");
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
