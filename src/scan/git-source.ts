import { execFile, spawn } from "node:child_process";
import readline from "node:readline";
import { promisify } from "node:util";
import { detectSecrets } from "./secrets/detector.js";
import { locateSecrets, type SecretFinding } from "./secrets/locate.js";
import { scanBuffer, secretRules } from "./secrets/scan-buffer.js";

const run = promisify(execFile);

/** A user-facing git failure (bad range, not a repository). */
export class GitSourceError extends Error {
  override name = "GitSourceError";
}

async function git(cwd: string, args: string[], maxBuffer = 256 * 1024 * 1024): Promise<Buffer> {
  try {
    const { stdout } = await run("git", args, { cwd, encoding: "buffer", maxBuffer });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new GitSourceError(stderr || (err instanceof Error ? err.message : String(err)));
  }
}

/** The files staged in the index (added, copied, modified, renamed), relative to the repository root. */
export async function stagedFiles(cwd: string): Promise<{ root: string; files: string[] }> {
  const root = (await git(cwd, ["rev-parse", "--show-toplevel"])).toString().trim();
  const out = (await git(root, ["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"])).toString();
  return { root, files: out.split("\0").filter(Boolean) };
}

/** Scans the staged version (the index) of each staged file for secrets. */
export async function scanStaged(
  cwd: string,
  accept: (rel: string) => boolean,
): Promise<{ findings: SecretFinding[]; files: number; bytes: number; binary: number }> {
  const { root, files } = await stagedFiles(cwd);
  const result = { findings: [] as SecretFinding[], files: 0, bytes: 0, binary: 0 };
  for (const rel of files.filter(accept)) {
    const blob = await git(root, ["show", `:${rel}`]);
    const r = scanBuffer(rel, blob);
    if (r.binary) result.binary++;
    else {
      result.files++;
      result.bytes += blob.length;
    }
    result.findings.push(...r.findings);
  }
  return result;
}

/**
 * Scans the lines added by each commit in `range` (`git log -p RANGE`, e.g. `origin/main..HEAD`
 * or `all` for every branch). Findings carry the commit and the line number in that commit's version of the file.
 */
export async function scanHistory(
  cwd: string,
  range: string,
  accept: (rel: string) => boolean,
): Promise<{ findings: SecretFinding[]; commits: number; bytes: number }> {
  const revs = range.trim() === "all" ? ["--all"] : range.split(/\s+/).filter(Boolean);
  // Revisions only: an option smuggled in as a "range" (`--output=…`) must not reach git.
  if (range.trim() !== "all" && revs.some((r) => r.startsWith("-")))
    throw new GitSourceError(`'${range}' is not a revision range`);
  await git(cwd, ["rev-parse", "--git-dir"]);
  const args = [
    "log",
    "-p",
    "-U0",
    "--no-color",
    "--no-ext-diff",
    "--no-renames",
    "--format=%x00commit %H",
    ...revs,
    "--",
  ];
  const child = spawn("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const rules = secretRules();
  const findings: SecretFinding[] = [];
  let commit = "";
  let file: string | undefined;
  let lines: string[] = [];
  let lineNos: number[] = [];
  let nextLine = 0;
  let commits = 0;
  let bytes = 0;
  const flush = (): void => {
    if (file !== undefined && lines.length > 0 && accept(file)) {
      const text = lines.join("\n");
      bytes += text.length;
      const raws = detectSecrets(text, rules);
      if (raws.length > 0)
        for (const f of locateSecrets(text, raws, file, lineNos))
          findings.push({ ...f, commit, fingerprint: f.fingerprint });
    }
    lines = [];
    lineNos = [];
  };
  const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.startsWith("\0commit ")) {
      flush();
      commit = line.slice(8);
      file = undefined;
      commits++;
    } else if (line.startsWith("+++ ")) {
      flush();
      file = line === "+++ /dev/null" ? undefined : line.slice(4).replace(/^b\//, "");
    } else if (line.startsWith("@@")) {
      const m = /\+(\d+)/.exec(line);
      nextLine = m ? Number(m[1]) : 0;
    } else if (line.startsWith("+") && file !== undefined) {
      lines.push(line.slice(1));
      lineNos.push(nextLine++);
    }
  }
  flush();
  const code: number = await new Promise((resolve) =>
    child.exitCode !== null
      ? resolve(child.exitCode)
      : child.once("close", (c: number | null) => resolve(c ?? 1)),
  );
  if (code !== 0) throw new GitSourceError(stderr.trim() || `git log exited with ${code}`);
  return { findings, commits, bytes };
}
