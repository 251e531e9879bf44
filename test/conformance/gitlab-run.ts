import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const gantryBin = path.join(repoRoot, "bin/gantry");

const checkouts: string[] = [];

/** Removes every checkout made so far. */
export function removeCheckouts(): void {
  for (const d of checkouts.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A copy of a corpus case in a fresh git repository with one commit (branch `main`). */
export function checkout(caseDir: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gantry-glc-${path.basename(caseDir)}-`));
  checkouts.push(dir);
  cpSync(caseDir, dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Gantry Test", "-c", "user.email=test@gantry.invalid", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "--no-verify", "-m", "corpus case");
  return dir;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built CLI like CI would (non-TTY, no colours). */
export function gantry(args: string[], cwd: string, timeoutMs = 60_000): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(gantryBin, args, {
      cwd,
      env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
