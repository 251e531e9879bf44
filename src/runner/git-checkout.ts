import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { GitInfo } from "../pipeline/git.js";

const run = promisify(execFile);

async function git(args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run("git", args, {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `git ${args[0]} failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-2).join(" ")}`,
    );
  }
}

/** Serialises work per key (one fetch per mirror at a time). */
const locks = new Map<string, Promise<unknown>>();
function locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(
    key,
    next.catch(() => undefined),
  );
  return next;
}

/**
 * A bare mirror of a project's repository under `cacheDir`, cloned on first use and fetched
 * on every call (a path or any URL git understands).
 */
export async function updateMirror(cacheDir: string, repo: string): Promise<string> {
  const dir = path.join(
    cacheDir,
    "repos",
    createHash("sha256").update(repo).digest("hex").slice(0, 16) + ".git",
  );
  return locked(dir, async () => {
    if (fs.existsSync(path.join(dir, "HEAD")))
      await git([
        "--git-dir",
        dir,
        "fetch",
        "--quiet",
        "--prune",
        "--tags",
        "origin",
        "+refs/heads/*:refs/heads/*",
      ]);
    else {
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      await git(["clone", "--quiet", "--mirror", repo, dir]);
    }
    return dir;
  });
}

/** Resolves a branch, tag or commit to a full sha; `kind` says which it was. */
export async function resolveRef(
  mirror: string,
  ref: string,
): Promise<{ sha: string; kind: "branch" | "tag" | "commit"; name: string }> {
  const name = ref.replace(/^refs\/(heads|tags)\//, "");
  // A full ref names its kind: `refs/tags/v1` is the tag even when a branch `v1` exists too.
  const kinds = (
    [
      ["branch", `refs/heads/${name}`],
      ["tag", `refs/tags/${name}`],
    ] as const
  ).filter(([, full]) => !/^refs\/(heads|tags)\//.test(ref) || full === ref);
  for (const [kind, full] of kinds) {
    const sha = await git([
      "--git-dir",
      mirror,
      "rev-parse",
      "--verify",
      "--quiet",
      `${full}^{commit}`,
    ]).catch(() => "");
    if (sha) return { sha, kind, name };
  }
  const sha = await git(["--git-dir", mirror, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).catch(
    () => "",
  );
  if (!sha) throw new Error(`ref "${ref}" is not a branch, tag or commit of the repository`);
  return { sha, kind: "commit", name: ref };
}

/**
 * A read-only checkout of `sha` under `cacheDir/src/<sha>`, created once and shared by every
 * job of that commit (the engine copies it into each job's workspace).
 */
export async function checkoutCommit(cacheDir: string, mirror: string, sha: string): Promise<string> {
  const dir = path.join(cacheDir, "src", sha);
  return locked(dir, async () => {
    if (fs.existsSync(path.join(dir, ".git"))) return dir;
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    await git(["clone", "--quiet", "--shared", "--no-checkout", mirror, tmp]);
    await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha], tmp);
    fs.renameSync(tmp, dir);
    return dir;
  });
}

/** How a pipeline's ref resolved. */
export type RefKind = "branch" | "tag" | "commit";

/**
 * The checkout's git facts as the pipeline's ref makes them: a branch sets `branch`, a tag
 * `tag` (never `branch`, as in GitLab and Jenkins tag builds), a bare commit neither.
 */
export function gitInfoForRef(info: GitInfo, name: string, kind: RefKind): GitInfo {
  return {
    ...info,
    branch: kind === "branch" ? name : "",
    tag: kind === "tag" ? name : "",
    ref: kind === "branch" ? `refs/heads/${name}` : kind === "tag" ? `refs/tags/${name}` : "",
  };
}
