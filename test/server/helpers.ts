import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Agent, type AgentOptions } from "../../src/runner/agent.js";
import { buildApp, type GantryApp } from "../../src/server/app.js";
import { bootstrapAdmin } from "../../src/server/server.js";
import type { ServerConfig } from "../../src/server/services.js";
import { freshDb } from "../store/helpers.js";

export { databases, PG_URL } from "../store/helpers.js";

/** A real git repository with `files` committed on `main`. */
export function makeRepo(files: Record<string, string>, branch = "main"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-repo-"));
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "T",
        GIT_AUTHOR_EMAIL: "t@x",
        GIT_COMMITTER_NAME: "T",
        GIT_COMMITTER_EMAIL: "t@x",
      },
    });
  git("init", "-q", "-b", branch);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return dir;
}

export interface TestServer extends GantryApp {
  admin: string;
  dataDir: string;
  /** `app.inject` with the admin token unless another is given. */
  call(
    method: string,
    url: string,
    o?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number; // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON answers freely
    json: any;
    body: string;
    headers: Record<string, unknown>;
  }>;
  close(): Promise<void>;
}

/** A server app (not listening) on a fresh database of `kind`, with an admin token. */
export async function testServer(
  kind: "sqlite" | "postgres",
  cfg: Partial<ServerConfig> = {},
): Promise<TestServer> {
  const f = await freshDb(kind);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-data-"));
  const built = await buildApp({
    db: f.db,
    secretKey: randomBytes(32),
    cfg: {
      dataDir,
      leaseMs: 30_000,
      maxLeaseWaitMs: 2_000,
      publicUrl: "http://gantry.test",
      version: "test",
      bodyLimit: 256 * 1024,
      artifactLimit: 10 * 1024 * 1024,
      ...cfg,
    },
  });
  const admin = "gty_test_admin_" + randomBytes(8).toString("hex");
  await bootstrapAdmin(f.db, { GANTRY_BOOTSTRAP_TOKEN: admin });
  const call: TestServer["call"] = async (method, url, o = {}) => {
    const token = o.token === undefined ? admin : o.token;
    const res = await built.app.inject({
      method: method as "GET",
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(o.headers ?? {}) },
      ...(o.body !== undefined ? { payload: o.body as object } : {}),
    });
    let json: unknown;
    try {
      json = res.json();
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, body: res.body, headers: res.headers };
  };
  return {
    ...built,
    admin,
    dataDir,
    call,
    close: async () => {
      await built.services.starter.idle();
      await built.app.close();
      await f.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A pipeline's JSON (`GET /api/v1/pipelines/{id}`) once it ended, whatever the result. */
export function finishedPipeline(s: TestServer, id: number, timeoutMs?: number) {
  return waitFor(
    async () => {
      const p = (await s.call("GET", `/api/v1/pipelines/${id}`)).json;
      return ["success", "unstable", "failed", "canceled", "error"].includes(p.status) ? p : undefined;
    },
    "pipeline finished",
    timeoutMs,
  );
}

/** Polls `fn` until it returns a truthy value (bounded). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false | null>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const GITLAB_CI = `stages: [build, test, deploy]
build:
  stage: build
  script:
    - mkdir -p dist && echo "built $CI_COMMIT_SHORT_SHA" > dist/app.txt
    - echo "building on $CI_COMMIT_REF_NAME pipeline $CI_PIPELINE_ID"
  artifacts:
    paths: [dist/]
test:
  stage: test
  script:
    - cat dist/app.txt
    - 'printf "<testsuite name=\\"s\\"><testcase name=\\"a\\" classname=\\"c\\" time=\\"0.5\\"/><testcase name=\\"b\\" classname=\\"c\\"><failure message=\\"boom\\"/></testcase></testsuite>" > report.xml'
  artifacts:
    reports:
      junit: report.xml
deploy:
  stage: deploy
  script: [echo deploying]
  when: manual
`;

/**
 * Makes the server listen on a free loopback port, registers a runner and starts an agent
 * against it. Stop it with `agent.stop()`, then `await loop`.
 */
export async function startRunner(
  s: TestServer,
  o: { name?: string; concurrency?: number; runJob?: AgentOptions["runJob"] } = {},
): Promise<{ agent: Agent; loop: Promise<void>; port: number }> {
  const name = o.name ?? "r";
  await s.app.listen({ port: 0, host: "127.0.0.1" });
  const port = (s.app.server.address() as { port: number }).port;
  const rt = await s.call("POST", "/api/v1/runners", { body: { name } });
  const agent = new Agent({
    server: `http://127.0.0.1:${port}`,
    token: rt.json.token as string,
    workDir: `${s.dataDir}/runner-${name}`,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.runJob ? { runJob: o.runJob } : {}),
  });
  return { agent, loop: agent.run(), port };
}
