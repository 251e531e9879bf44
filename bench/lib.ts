import { spawnSync } from "node:child_process";
import os from "node:os";

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs a command under /usr/bin/time; wall seconds and peak RSS in MB. */
export function timed(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { wall: number; rssMb: number; code: number | null; stdout: string } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stderr.trim().split("\n").at(-1) ?? "";
  const [wall, rss] = last.split(" ").map(Number);
  return { wall: wall ?? NaN, rssMb: (rss ?? 0) / 1024, code: r.status, stdout: r.stdout };
}

/** A precise wall-clock timing of a command (ms), with the peak RSS of a separate /usr/bin/time run. */
export function wallMs(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { ms: number; code: number | null; stdout: string; stderr: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    ms: Number(process.hrtime.bigint() - t) / 1e6,
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}
