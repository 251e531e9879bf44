import { promises as fs } from "node:fs";
import path from "node:path";
import { copyFiles, removeDir } from "./files.js";
import type { ArtifactStore, CacheStore } from "./types.js";
import { hashedSlug } from "./variables.js";

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk("");
  return out;
}

/**
 * Artifacts and stashes of local runs, under `<stateDir>/`. Artifacts are kept per job name
 * (the latest run's win), so `gantry run --job test` can use what an earlier run of `build`
 * produced, as in GitLab where a job receives artifacts of earlier pipelines' jobs only
 * through needs. Stashes are per run.
 */
export class LocalArtifactStore implements ArtifactStore {
  constructor(
    private readonly stateDir: string,
    private readonly runId: string,
  ) {}

  private artifactDir(jobId: string): string {
    return path.join(this.stateDir, "artifacts", hashedSlug(jobId));
  }

  async putArtifacts(jobId: string, fromDir: string, files: string[]): Promise<void> {
    const dir = this.artifactDir(jobId);
    await removeDir(dir);
    await fs.mkdir(dir, { recursive: true });
    await copyFiles(fromDir, dir, files);
  }

  async getArtifacts(jobId: string, toDir: string): Promise<number> {
    const dir = this.artifactDir(jobId);
    const files = await listTree(dir);
    if (files.length === 0) return 0;
    return copyFiles(dir, toDir, files);
  }

  private stashDir(name: string): string {
    return path.join(this.stateDir, "runs", this.runId, "stash", hashedSlug(name));
  }

  async putStash(name: string, fromDir: string, files: string[]): Promise<void> {
    const dir = this.stashDir(name);
    await removeDir(dir);
    await fs.mkdir(dir, { recursive: true });
    await copyFiles(fromDir, dir, files);
  }

  async getStash(name: string, toDir: string): Promise<boolean> {
    const dir = this.stashDir(name);
    const exists = await fs.stat(dir).catch(() => undefined);
    if (!exists) return false;
    await copyFiles(dir, toDir, await listTree(dir));
    return true;
  }

  async putDotenv(jobId: string, vars: Record<string, string>): Promise<void> {
    await fs.mkdir(path.join(this.stateDir, "dotenv"), { recursive: true });
    await fs.writeFile(path.join(this.stateDir, "dotenv", `${hashedSlug(jobId)}.json`), JSON.stringify(vars));
  }

  async getDotenv(jobId: string): Promise<Record<string, string>> {
    try {
      return JSON.parse(
        await fs.readFile(path.join(this.stateDir, "dotenv", `${hashedSlug(jobId)}.json`), "utf8"),
      );
    } catch {
      return {};
    }
  }
}

/** Caches under `<stateDir>/cache/<key>/`, kept across runs. */
export class LocalCacheStore implements CacheStore {
  constructor(private readonly stateDir: string) {}

  private dir(k: string): string {
    return path.join(this.stateDir, "cache", hashedSlug(k));
  }

  async restore(k: string, toDir: string): Promise<boolean> {
    const dir = this.dir(k);
    const files = await listTree(dir);
    if (files.length === 0) return false;
    await copyFiles(dir, toDir, files);
    return true;
  }

  async save(k: string, fromDir: string, files: string[]): Promise<void> {
    const dir = this.dir(k);
    await removeDir(dir);
    await fs.mkdir(dir, { recursive: true });
    await copyFiles(fromDir, dir, files);
  }
}
