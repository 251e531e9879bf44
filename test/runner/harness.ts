import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAIN = path.join(repoRoot, "src/cli/main.ts");

/** A `gantry` process started from the sources (tsx), with its output collected. */
export interface Proc {
  proc: ChildProcess;
  out: string[];
  /** SIGKILL the whole process group (the process and the jobs it started). */
  kill9(): void;
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

export function gantry(args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: repoRoot,
    env: { ...process.env, GANTRY_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const out: string[] = [];
  let partial = "";
  const take = (b: Buffer) => {
    const text = partial + b.toString();
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    out.push(...lines);
  };
  proc.stdout.on("data", take);
  proc.stderr.on("data", take);
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  return {
    proc,
    out,
    exited,
    kill9: () => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid!, "SIGTERM");
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(-proc.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }, 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function waitForLine(p: Proc, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const l of p.out) {
      const m = re.exec(l);
      if (m) return m;
    }
    if (p.proc.exitCode !== null)
      throw new Error(
        `process exited (${p.proc.exitCode}) before printing ${re}:\n${p.out.slice(-20).join("\n")}`,
      );
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${p.out.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ServerProc extends Proc {
  url: string;
}

/** Starts `gantry server` on a free port and waits until it listens. */
export async function startServerProc(o: {
  dataDir: string;
  token: string;
  databaseUrl?: string;
  builtin?: boolean;
  lease?: number;
  concurrency?: number;
  port?: number;
}): Promise<ServerProc> {
  const args = [
    "server",
    "--port",
    String(o.port ?? 0),
    "--data-dir",
    o.dataDir,
    "--lease",
    String(o.lease ?? 30),
    "--runner-concurrency",
    String(o.concurrency ?? 2),
  ];
  if (o.databaseUrl) args.push("--database-url", o.databaseUrl);
  if (o.builtin === false) args.push("--no-builtin-runner");
  const p = gantry(args, { GANTRY_BOOTSTRAP_TOKEN: o.token });
  const m = await waitForLine(p, /"url":"(http:\/\/[^"]+)".*gantry server listening/);
  return { ...p, url: m[1]! };
}

/** JSON API calls with a token; throws on non-2xx. */
export function api(url: string, token: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read JSON answers freely
  return async <T = any>(method: string, p: string, body?: unknown): Promise<T> => {
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
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
