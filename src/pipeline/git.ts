import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What the pipeline frontends and the engine need to know about the checkout. */
export interface GitInfo {
  /** False when the directory is not inside a git work tree; the other fields are then defaults. */
  isRepo: boolean;
  root: string;
  sha: string;
  shortSha: string;
  branch: string;
  tag: string;
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string;
  defaultBranch: string;
  commitMessage: string;
  commitTitle: string;
  commitTimestamp: string;
  authorName: string;
  authorEmail: string;
  remoteUrl: string;
  /** Files changed by the last commit (for `changes:`/`changeset`), relative to the root. */
  changedFiles: string[];
}

async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    return stdout.replace(/\n$/, "");
  } catch {
    return undefined;
  }
}

/**
 * Reads the checkout's state with real git. Every field has a sensible default so that a
 * folder without commits (or without git) still compiles.
 */
export async function readGitInfo(dir: string): Promise<GitInfo> {
  const root = await git(dir, ["rev-parse", "--show-toplevel"]);
  if (root === undefined) return emptyGitInfo(dir);
  const [head, branch, tag, remote, changed] = await Promise.all([
    git(dir, ["log", "-1", "--format=%H%x00%s%x00%cI%x00%an%x00%ae%x00%B"]),
    git(dir, ["symbolic-ref", "--short", "-q", "HEAD"]),
    git(dir, ["describe", "--tags", "--exact-match", "HEAD"]),
    git(dir, ["config", "--get", "remote.origin.url"]),
    git(dir, ["diff-tree", "--no-commit-id", "--name-only", "-r", "--root", "HEAD"]),
  ]);
  const [sha = "", title = "", timestamp = "", authorName = "", authorEmail = "", message = ""] = (
    head ?? ""
  ).split("\0");
  const info = emptyGitInfo(root);
  info.isRepo = true;
  info.sha = sha || info.sha;
  info.shortSha = info.sha.slice(0, 8);
  info.branch = branch ?? "";
  info.tag = tag ?? "";
  info.ref = info.tag ? `refs/tags/${info.tag}` : info.branch ? `refs/heads/${info.branch}` : "";
  info.commitTitle = title;
  info.commitMessage = message;
  info.commitTimestamp = timestamp || info.commitTimestamp;
  info.authorName = authorName;
  info.authorEmail = authorEmail;
  info.remoteUrl = remote ?? "";
  info.changedFiles = changed ? changed.split("\n").filter(Boolean) : [];
  const originHead = await git(root, ["symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"]);
  info.defaultBranch = originHead?.replace(/^origin\//, "") ?? (info.branch || "main");
  return info;
}

export function emptyGitInfo(dir: string): GitInfo {
  return {
    isRepo: false,
    root: dir,
    sha: "0000000000000000000000000000000000000000",
    shortSha: "00000000",
    branch: "",
    tag: "",
    ref: "",
    defaultBranch: "main",
    commitMessage: "",
    commitTitle: "",
    commitTimestamp: new Date(0).toISOString(),
    authorName: "",
    authorEmail: "",
    remoteUrl: "",
    changedFiles: [],
  };
}
