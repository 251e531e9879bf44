import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Entries of the caches Gantry keeps in a project (`<cacheDir>/<kind>/`): one JSON file per
 * pipeline file, written atomically, and any failure to read or write one is only a miss.
 */
export function cacheEntryFile(cacheDir: string, kind: string, name: string): string {
  return path.join(cacheDir, kind, `${createHash("sha256").update(name).digest("hex").slice(0, 24)}.json`);
}

/** The entry's JSON value, or undefined when it is missing or unreadable. */
export function readCacheEntry(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Writes an entry; a concurrent reader sees the old one or the new one, never half of one. */
export function writeCacheEntry(file: string, entry: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

let salt: string | null | undefined;

/**
 * A random value of this user's, kept outside every project
 * (`$XDG_CACHE_HOME/gantry/cache-salt`, else `~/.cache/gantry/cache-salt`), mixed into the
 * keys of the caches Gantry keeps in a project's `.gantry/cache/` (parsed and compiled
 * pipelines). Cache files a repository brings along, committed under `.gantry/`, then never
 * match: otherwise they could make Gantry run other jobs than the pipeline file shows. Made on
 * first use; undefined (no caching) when it can be neither read nor made.
 */
export function cacheSalt(): string | undefined {
  if (salt === undefined) salt = readOrMake();
  return salt ?? undefined;
}

function readOrMake(): string | null {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  const file = path.join(base, "gantry", "cache-salt");
  const read = (): string | null => {
    try {
      const text = readFileSync(file, "utf8").trim();
      return /^[0-9a-f]{32,}$/.test(text) ? text : null;
    } catch {
      return null;
    }
  };
  const found = read();
  if (found) return found;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Exclusive: when two processes make it at once, both use the one written first.
    writeFileSync(file, `${randomBytes(16).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
  } catch {
    // Made by another process meanwhile, or not writable.
  }
  return read();
}
