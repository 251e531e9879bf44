import fs from "node:fs";
import path from "node:path";
import type { Job, Plan } from "../pipeline/plan.js";
import { parseDuration } from "../pipeline/gitlab/duration.js";
import { expiredArtifacts, markArtifactsPurged } from "../store/artifacts.js";
import type { Db } from "../store/schema.js";
import { artifactDir, safeJoin } from "./files.js";

/** Why an `expire_in` could not be used (the artifacts are then kept). */
export class BadExpiry extends Error {}

/**
 * When a job's artifacts uploaded at `now` expire, in epoch milliseconds; null keeps them.
 * GitLab `artifacts: expire_in` wins ("1 week", "3 days 4 hrs", "30 mins", a bare number of
 * seconds, "never"); else Jenkins `buildDiscarder(logRotator(artifactDaysToKeepStr: 'N'))`;
 * else the server's default (`defaultMs`, none unless configured).
 */
export function artifactExpiry(
  plan: Pick<Plan, "options"> | undefined,
  job: Pick<Job, "artifacts"> | undefined,
  now: number,
  defaultMs?: number,
): number | null {
  const expireIn = job?.artifacts?.expireIn?.trim();
  if (expireIn) {
    if (/^never$/i.test(expireIn)) return null;
    const ms = parseDuration(expireIn);
    if (ms === undefined)
      throw new BadExpiry(
        `artifacts: expire_in "${expireIn}" is not a duration; use e.g. "30 mins", "3 days 4 hrs", "1 week" or "never"`,
      );
    return now + ms;
  }
  const days = Number(plan?.options.buildDiscarder?.artifactDaysToKeepStr);
  if (Number.isFinite(days) && days > 0) return now + days * 86_400_000;
  return defaultMs !== undefined && defaultMs > 0 ? now + defaultMs : null;
}

/** Most artifacts one sweep deletes; the next sweep goes on where it stopped. */
const SWEEP_LIMIT = 5_000;

/**
 * Deletes the files of artifacts whose expiry has passed and marks them purged (their rows
 * stay, so a download answers 410 rather than 404). Returns how many were purged.
 */
export async function sweepExpiredArtifacts(db: Db, dataDir: string, now = Date.now()): Promise<number> {
  let purged = 0;
  while (purged < SWEEP_LIMIT) {
    const batch = await expiredArtifacts(db, now, 500);
    if (batch.length === 0) break;
    const dirs = new Set<string>();
    for (const a of batch) {
      const base = artifactDir(dataDir, a.jobId);
      try {
        fs.rmSync(safeJoin(base, a.path), { force: true });
      } catch {
        // A path the upload would never have accepted: nothing of ours to delete.
      }
      dirs.add(base);
    }
    await markArtifactsPurged(
      db,
      batch.map((a) => a.id),
      now,
    );
    for (const d of dirs) removeEmptyDirs(d);
    purged += batch.length;
    if (batch.length < 500) break;
  }
  return purged;
}

/** Removes `dir` and its subfolders when they hold no files any more. */
function removeEmptyDirs(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  let empty = true;
  for (const e of entries) {
    if (e.isDirectory() && removeEmptyDirs(path.join(dir, e.name))) continue;
    empty = false;
  }
  if (empty) fs.rmSync(dir, { recursive: true, force: true });
  return empty;
}
