import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readGitInfo } from "../../src/pipeline/git.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], { cwd })
    .toString()
    .trim();

function repo(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gantry-git-"));
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(path.join(dir, "a.txt"), "a");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "first\n\nbody text");
  writeFileSync(path.join(dir, "b.txt"), "b");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "second");
  return dir;
}

describe("readGitInfo", () => {
  it("reads branch, commit and changed files of a checkout, from a subfolder too", async () => {
    const dir = repo();
    git(dir, "remote", "add", "origin", "https://example.com/acme/app.git");
    const sub = path.join(dir, "sub");
    execFileSync("mkdir", [sub]);
    const info = await readGitInfo(sub);
    expect(info).toMatchObject({
      isRepo: true,
      root: dir,
      branch: "main",
      tag: "",
      ref: "refs/heads/main",
      sha: git(dir, "rev-parse", "HEAD"),
      commitTitle: "second",
      authorName: "Ada",
      authorEmail: "ada@example.com",
      remoteUrl: "https://example.com/acme/app.git",
      changedFiles: ["b.txt"],
    });
    expect(info.shortSha).toBe(info.sha.slice(0, 8));
  });

  it("treats a detached HEAD at a tag as a tag pipeline, with packed refs", async () => {
    const dir = repo();
    git(dir, "tag", "-a", "v1.0", "-m", "release");
    git(dir, "pack-refs", "--all");
    git(dir, "checkout", "-q", "v1.0");
    const info = await readGitInfo(dir);
    expect(info).toMatchObject({
      branch: "",
      tag: "v1.0",
      ref: "refs/tags/v1.0",
      sha: git(dir, "rev-parse", "HEAD"),
    });
  });

  it("follows a linked work tree's .git file", async () => {
    const dir = repo();
    const wt = path.join(mkdtempSync(path.join(os.tmpdir(), "gantry-wt-")), "wt");
    git(dir, "worktree", "add", "-q", "-b", "feature", wt);
    const info = await readGitInfo(wt);
    expect(info).toMatchObject({
      isRepo: true,
      root: wt,
      branch: "feature",
      sha: git(dir, "rev-parse", "HEAD"),
    });
  });

  it("skips the changed files when asked, and copes with no commits or no git", async () => {
    expect((await readGitInfo(repo(), { changedFiles: false })).changedFiles).toEqual([]);
    const empty = mkdtempSync(path.join(os.tmpdir(), "gantry-git-"));
    git(empty, "init", "-q", "-b", "trunk");
    expect(await readGitInfo(empty)).toMatchObject({ isRepo: true, branch: "trunk", commitTitle: "" });
    expect((await readGitInfo(os.tmpdir())).isRepo).toBe(false);
  });
});
