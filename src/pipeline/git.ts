import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import path from "node:path";
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

export interface ReadGitOptions {
  /**
   * Whether to list the files the last commit changed (one more git process). Callers that
   * know the pipeline never asks (`changes:`, `changeset`) pass false.
   */
  changedFiles?: boolean;
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
 * Reads a small file of the repository, undefined if it is missing. Synchronously: these are
 * a few hundred bytes each, and a thread-pool round trip per file was most of their cost.
 */
function read(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

/** The work tree root and git directory containing `dir`, found by walking up. */
function findRepo(dir: string): { root: string; gitDir: string; commonDir: string } | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    const dotGit = path.join(cur, ".git");
    const stat = statSync(dotGit, { throwIfNoEntry: false });
    if (stat?.isDirectory()) return { root: cur, gitDir: dotGit, commonDir: dotGit };
    if (stat?.isFile()) {
      // A linked work tree or submodule: `.git` is a file pointing at the real git directory.
      const m = /^gitdir:\s*(.+)$/m.exec(read(dotGit) ?? "");
      if (!m) return undefined;
      const gitDir = path.resolve(cur, m[1]!.trim());
      const common = read(path.join(gitDir, "commondir"))?.trim();
      return { root: cur, gitDir, commonDir: common ? path.resolve(gitDir, common) : gitDir };
    }
    const up = path.dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

/** Resolves a ref to a sha from loose refs or `packed-refs`. */
function resolveRef(commonDir: string, ref: string): string | undefined {
  const loose = read(path.join(commonDir, ref))?.trim();
  if (loose) return loose;
  const packed = read(path.join(commonDir, "packed-refs"));
  const m =
    packed && new RegExp(`^([0-9a-f]{40}) ${ref.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m").exec(packed);
  return m ? m[1] : undefined;
}

/** Tags pointing at `sha` (lightweight ones, and annotated ones via packed-refs' peeled lines). */
function tagsAt(commonDir: string, sha: string): string[] {
  const tags: string[] = [];
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(commonDir, "refs/tags", rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(name);
      else if (read(path.join(commonDir, "refs/tags", name))?.trim() === sha) tags.push(name);
    }
  };
  walk("");
  const packed = read(path.join(commonDir, "packed-refs")) ?? "";
  const lines = packed.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([0-9a-f]{40}) refs\/tags\/(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const peeled = /^\^([0-9a-f]{40})$/.exec(lines[i + 1] ?? "");
    if (m[1] === sha || peeled?.[1] === sha) tags.push(m[2]!);
  }
  return tags.sort();
}

function remoteOrigin(config: string): string {
  const section = /\[remote "origin"\]([^[]*)/.exec(config)?.[1] ?? "";
  return /^\s*url\s*=\s*(.+)$/m.exec(section)?.[1]?.trim() ?? "";
}

/**
 * Reads the checkout's state. Refs, HEAD and config are read from the repository's files;
 * git itself runs once for the commit's details (and once more for `changedFiles`), because
 * every process spawned from a large parent costs milliseconds on the critical path of
 * `gantry run`. Every field has a default so that a folder without commits (or without git)
 * still compiles.
 */
export async function readGitInfo(dir: string, opts: ReadGitOptions = {}): Promise<GitInfo> {
  const repo = findRepo(dir);
  if (!repo) return emptyGitInfo(dir);
  const info = emptyGitInfo(repo.root);
  info.isRepo = true;
  const head = (read(path.join(repo.gitDir, "HEAD")) ?? "").trim();
  const symbolic = /^ref:\s*(.+)$/.exec(head)?.[1];
  if (symbolic?.startsWith("refs/heads/")) info.branch = symbolic.slice("refs/heads/".length);
  const sha = symbolic
    ? resolveRef(repo.commonDir, symbolic)
    : /^[0-9a-f]{40}$/.test(head)
      ? head
      : undefined;
  const config = read(path.join(repo.commonDir, "config"));
  const originHead = read(path.join(repo.commonDir, "refs/remotes/origin/HEAD"));
  info.remoteUrl = remoteOrigin(config ?? "");
  const originDefault = /^ref:\s*refs\/remotes\/origin\/(.+)$/.exec(originHead?.trim() ?? "")?.[1];
  info.defaultBranch = originDefault ?? (info.branch || "main");
  if (!sha) return info; // no commits yet

  const tags = tagsAt(repo.commonDir, sha);
  const [log, changed] = await Promise.all([
    git(repo.root, ["log", "-1", "--format=%H%x00%s%x00%cI%x00%an%x00%ae%x00%B", sha]),
    opts.changedFiles === false
      ? Promise.resolve(undefined)
      : git(repo.root, ["diff-tree", "--no-commit-id", "--name-only", "-r", "--root", sha]),
  ]);
  const [full = sha, title = "", timestamp = "", authorName = "", authorEmail = "", message = ""] = (
    log ?? ""
  ).split("\0");
  info.sha = full || sha;
  info.shortSha = info.sha.slice(0, 8);
  // On a branch this is a branch pipeline even if the commit is tagged (as on GitLab and
  // Jenkins); a detached HEAD at a tag is a tag pipeline.
  info.tag = info.branch ? "" : (tags[0] ?? "");
  info.ref = info.branch ? `refs/heads/${info.branch}` : info.tag ? `refs/tags/${info.tag}` : "";
  info.commitTitle = title;
  info.commitMessage = message;
  info.commitTimestamp = timestamp || info.commitTimestamp;
  info.authorName = authorName;
  info.authorEmail = authorEmail;
  info.changedFiles = changed ? changed.split("\n").filter(Boolean) : [];
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
