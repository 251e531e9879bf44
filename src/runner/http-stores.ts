import path from "node:path";
import type { ArtifactStore, CacheStore, SecretResolver, SecretValue } from "../engine/types.js";
import { ServerError, type RunnerClient } from "./client.js";

const q = (o: Record<string, string>) => new URLSearchParams(o).toString();

async function notFoundIsEmpty<T>(p: Promise<T>, empty: T): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ServerError && err.status === 404) return empty;
    throw err;
  }
}

/**
 * The engine's `ArtifactStore` over the runner protocol: artifacts, stashes and dotenv
 * reports go to the server, scoped to the leased job (the server refuses them once the
 * lease is lost). Jobs are named by their Plan id, as in the Plan.
 */
export class HttpArtifactStore implements ArtifactStore {
  constructor(
    private readonly c: RunnerClient,
    private readonly jobId: number,
  ) {}

  private get base(): string {
    return `/api/v1/runner/jobs/${this.jobId}`;
  }

  async putArtifacts(_jobKey: string, fromDir: string, files: string[]): Promise<void> {
    await this.c.jsonRetry("DELETE", `${this.base}/artifacts`);
    for (const f of files)
      await this.c.upload(`${this.base}/artifacts?${q({ path: f })}`, path.join(fromDir, f));
  }

  async getArtifacts(jobKey: string, toDir: string): Promise<number> {
    const { files } = await notFoundIsEmpty(
      this.c.json<{ files: { path: string }[] }>("GET", `${this.base}/deps/artifacts?${q({ key: jobKey })}`),
      { files: [] },
    );
    for (const f of files)
      await this.c.download(
        `${this.base}/deps/artifact?${q({ key: jobKey, path: f.path })}`,
        path.join(toDir, f.path),
      );
    return files.length;
  }

  async putStash(name: string, fromDir: string, files: string[]): Promise<void> {
    await this.c.jsonRetry("DELETE", `${this.base}/stash?${q({ name })}`);
    for (const f of files)
      await this.c.upload(`${this.base}/stash/file?${q({ name, path: f })}`, path.join(fromDir, f));
  }

  async getStash(name: string, toDir: string): Promise<boolean> {
    const { files } = await notFoundIsEmpty(
      this.c.json<{ files: { path: string }[] }>("GET", `${this.base}/stash?${q({ name })}`),
      { files: [] },
    );
    for (const f of files)
      await this.c.download(`${this.base}/stash/file?${q({ name, path: f.path })}`, path.join(toDir, f.path));
    return files.length > 0;
  }

  async putDotenv(_jobKey: string, vars: Record<string, string>): Promise<void> {
    await this.c.jsonRetry("PUT", `${this.base}/dotenv`, { vars });
  }

  async getDotenv(jobKey: string): Promise<Record<string, string>> {
    return (
      await notFoundIsEmpty(
        this.c.json<{ vars: Record<string, string> }>(
          "GET",
          `${this.base}/deps/dotenv?${q({ key: jobKey })}`,
        ),
        { vars: {} },
      )
    ).vars;
  }
}

/** The engine's `CacheStore` over the runner protocol (caches are per project on the server). */
export class HttpCacheStore implements CacheStore {
  constructor(
    private readonly c: RunnerClient,
    private readonly jobId: number,
  ) {}

  async restore(key: string, toDir: string): Promise<boolean> {
    const base = `/api/v1/runner/jobs/${this.jobId}/cache`;
    const { files } = await notFoundIsEmpty(
      this.c.json<{ files: { path: string }[] }>("GET", `${base}?${q({ name: key })}`),
      { files: [] },
    );
    for (const f of files)
      await this.c.download(`${base}/file?${q({ name: key, path: f.path })}`, path.join(toDir, f.path));
    return files.length > 0;
  }

  async save(key: string, fromDir: string, files: string[]): Promise<void> {
    const base = `/api/v1/runner/jobs/${this.jobId}/cache`;
    await this.c.jsonRetry("DELETE", `${base}?${q({ name: key })}`);
    for (const f of files)
      await this.c.upload(`${base}/file?${q({ name: key, path: f })}`, path.join(fromDir, f));
  }
}

/** Secrets asked from the server for the leased job; undefined when it may not see them. */
export function httpSecrets(c: RunnerClient, jobId: number): SecretResolver {
  return (id) =>
    notFoundIsEmpty<SecretValue | undefined>(
      c.json<SecretValue>("GET", `/api/v1/runner/jobs/${jobId}/secrets?${q({ name: id })}`),
      undefined,
    );
}
