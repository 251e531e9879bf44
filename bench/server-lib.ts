import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN = "gty_bench_admin_token_0123456789abcdef";

export interface Proc {
  proc: ChildProcess;
  out: string[];
  kill(): void;
}

const DIST = path.join(repoRoot, "node_modules/.cache/gantry-bench-dist");
let built = false;

/**
 * `gantry`'s entry point compiled to JavaScript (once per bench run, into node_modules/.cache),
 * so that memory and CPU are measured without the TypeScript loader.
 */
export function gantryMain(): string {
  if (!built) {
    try {
      execFileSync(
        process.execPath,
        [
          path.join(repoRoot, "node_modules/typescript/bin/tsc"),
          "-p",
          "tsconfig.build.json",
          "--outDir",
          DIST,
        ],
        { cwd: repoRoot, stdio: "ignore" },
      );
    } catch {
      // Type errors elsewhere in the tree still emit JavaScript; only a missing entry point is fatal.
    }
    if (!fs.existsSync(path.join(DIST, "cli/main.js")))
      throw new Error("could not compile src/ for the bench");
    built = true;
  }
  return path.join(DIST, "cli/main.js");
}

/** Starts a node script (`.ts` via tsx) in its own process group, collecting its output. */
export function node(script: string, args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(
    process.execPath,
    [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, GANTRY_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const out: string[] = [];
  proc.stdout.on("data", (b: Buffer) => out.push(...b.toString().split("\n")));
  proc.stderr.on("data", (b: Buffer) => out.push(...b.toString().split("\n")));
  return {
    proc,
    out,
    kill: () => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        // gone
      }
    },
  };
}

/** `gantry server` without a built-in runner on `port`, waiting until it answers. */
export async function server(o: {
  dataDir: string;
  port: number;
  databaseUrl?: string;
  builtin?: boolean;
}): Promise<Proc & { url: string }> {
  const args = ["server", "--port", String(o.port), "--data-dir", o.dataDir];
  if (o.databaseUrl) args.push("--database-url", o.databaseUrl);
  if (!o.builtin) args.push("--no-builtin-runner");
  const p = node(gantryMain(), args, { GANTRY_BOOTSTRAP_TOKEN: ADMIN });
  const url = `http://127.0.0.1:${o.port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { ...p, url };
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  p.kill();
  throw new Error(`server did not start:\n${p.out.join("\n")}`);
}

export function api(url: string, token = ADMIN) {
  return async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + p, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

export function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function gitRepo(files: Record<string, string>): string {
  const dir = tmp("gantry-bench-repo-");
  for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), t);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "b",
    GIT_AUTHOR_EMAIL: "b@x",
    GIT_COMMITTER_NAME: "b",
    GIT_COMMITTER_EMAIL: "b@x",
  };
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir });
  execFileSync("git", ["add", "-A"], { cwd: dir });
  execFileSync("git", ["commit", "-q", "-m", "bench"], { cwd: dir, env });
  return dir;
}

/** A pipeline of `n` independent jobs with one engine-side `echo` step each. */
export function echoJobs(n: number): string {
  const stages = Array.from(
    { length: n },
    (_, i) => `        - stage: n${i}\n          steps:\n            - echo: "n${i}"\n`,
  );
  return `pipeline:\n  agent: any\n  stages:\n    - stage: Work\n      parallel:\n${stages.join("")}`;
}

/**
 * Two stages of `n / 2` echo jobs each: every job of the second stage needs every job of the
 * first (the shape of a GitLab pipeline with stages).
 */
export function twoStageJobs(n: number): string {
  const stage = (p: string) =>
    Array.from(
      { length: n / 2 },
      (_, i) => `        - stage: ${p}${i}\n          steps:\n            - echo: "${p}${i}"\n`,
    ).join("");
  return `pipeline:\n  agent: any\n  stages:\n    - stage: A\n      parallel:\n${stage("a")}    - stage: B\n      parallel:\n${stage("b")}`;
}

/** Peak resident memory of a process (VmHWM), MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Waits until a pipeline leaves pending/running; returns the wall time since `t0`. With
 * `project`, polls the project's pipeline list every 50 ms (a cheap read); without, the
 * pipeline's own view every 250 ms (it lists every job, which costs the server with thousands).
 */
export async function finish(
  url: string,
  id: number,
  t0: number,
  limitMs = 600_000,
  project?: string,
): Promise<{ ms: number; status: string }> {
  const call = api(url);
  for (;;) {
    const status = project
      ? (
          await call<{ items: { id: number; status: string }[] }>(
            "GET",
            `/api/v1/projects/${project}/pipelines?limit=10`,
          )
        ).items.find((p) => p.id === id)?.status
      : (await call<{ status: string }>("GET", `/api/v1/pipelines/${id}`)).status;
    if (status && !["pending", "running"].includes(status)) return { ms: Date.now() - t0, status };
    if (Date.now() - t0 > limitMs) throw new Error("pipeline did not finish in time");
    await new Promise((r) => setTimeout(r, project ? 50 : 250));
  }
}

/** Waits until a pipeline has jobs (compiled). */
export async function compiled(url: string, id: number): Promise<void> {
  const call = api(url);
  for (let i = 0; i < 600; i++) {
    const p = await call<{ status: string; error?: string }>("GET", `/api/v1/pipelines/${id}`);
    if (p.status === "error") throw new Error(p.error);
    if (p.status !== "pending") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
