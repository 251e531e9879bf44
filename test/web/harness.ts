import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext } from "playwright-core";

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Debian's Chromium; the browser tests never download one. */
export const CHROMIUM = "/usr/bin/chromium";
/** Where screenshots and measured numbers go (git-ignored). */
export const resultsDir = path.join(repoRoot, "test-results", "web");

/** Makes sure `dist/` and `web/dist/` exist (`npm test` builds both; a bare vitest run may not have). */
export function ensureBuilt(): void {
  if (!fs.existsSync(path.join(repoRoot, "dist/cli/main.js")))
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
  if (!fs.existsSync(path.join(repoRoot, "web/dist/index.html")))
    execFileSync("npx", ["vite", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"], {
      cwd: repoRoot,
      stdio: "inherit",
    });
}

/** A temporary git repository with the given files, committed on `main`. */
export function gitRepo(dir: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: dir,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@e",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@e",
      },
    });
  git("init", "-q", "-b", "main");
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  git("add", ".");
  git("commit", "-q", "-m", "init");
  return dir;
}

/** A `gantry server` child process on 127.0.0.1 with a port of its own choosing. */
export interface TestServer {
  url: string;
  token: string;
  proc: ChildProcess;
  /** The server's output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the built `gantry server` with a fresh data dir and a known bootstrap token. */
export async function startServer(dataDir: string): Promise<TestServer> {
  const token = `gty_webtest_${Math.random().toString(36).slice(2)}`;
  const proc = spawn(
    path.join(repoRoot, "bin/gantry"),
    ["server", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    {
      cwd: repoRoot,
      env: { ...process.env, GANTRY_BOOTSTRAP_TOKEN: token, GANTRY_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  proc.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`gantry server did not start in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m =
        /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*gantry server listening|gantry server listening[^\n]*"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(
          out,
        );
      if (m) {
        clearTimeout(t);
        resolve((m[1] ?? m[2])!);
      }
    };
    proc.stdout?.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`gantry server exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    token,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill("SIGKILL"), 15_000);
        proc.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill("SIGTERM");
      }),
  };
}

/** Calls the server's API from the test (setup and checks, not what the UI does). */
export async function call<T>(s: TestServer, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(s.url + p, {
    method,
    headers: {
      Authorization: `Bearer ${s.token}`,
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Launches Debian's Chromium headless with a fresh profile (no network beyond 127.0.0.1 is used). */
export async function launchChromium(profileDir: string): Promise<BrowserContext> {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1366, height: 860 },
  });
}

/** A fresh temp directory. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
