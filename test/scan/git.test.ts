import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GitSourceError } from "../../src/scan/git-source.js";
import { scan } from "../../src/scan/scanner.js";
import { GITHUB_PAT, SLACK_BOT, git, tree } from "./fixtures.js";

describe("secrets in git (real git)", () => {
  it("--staged scans the index version, not the working copy", async () => {
    const dir = tree({ "a.txt": "hello\n" });
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", "a.txt");
    git(dir, "commit", "-q", "-m", "init");
    fs.writeFileSync(path.join(dir, "a.txt"), `token = "${GITHUB_PAT}"\n`);
    git(dir, "add", "a.txt");
    // The working copy no longer has the token, the index still does.
    fs.writeFileSync(path.join(dir, "a.txt"), "clean\n");
    fs.writeFileSync(path.join(dir, "unstaged.txt"), `t = "${SLACK_BOT}"\n`);
    const report = await scan({ path: dir, only: ["secrets"], staged: true });
    expect(report.findings.map((f) => [f.file, f.line, f.ruleId])).toEqual([
      ["a.txt", 1, "secrets/github-pat"],
    ]);
  });

  it("--git RANGE reports secrets added in history with the commit and line, even if removed later", async () => {
    const dir = tree({ "a.txt": "one\n" });
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "base");
    fs.writeFileSync(path.join(dir, "a.txt"), `one\ntwo\nslack = "${SLACK_BOT}"\n`);
    git(dir, "commit", "-q", "-am", "leak");
    const leak = git(dir, "rev-parse", "HEAD").trim();
    fs.writeFileSync(path.join(dir, "a.txt"), "one\n");
    git(dir, "commit", "-q", "-am", "remove");
    const report = await scan({ path: dir, only: ["secrets"], gitRange: "main~2..main" });
    expect(report.findings.map((f) => [f.file, f.line, f.ruleId, f.commit])).toEqual([
      ["a.txt", 3, "secrets/slack-bot-token", leak],
    ]);
    expect(report.stats.commits).toBe(2);
    const tree2 = await scan({ path: dir, only: ["secrets"] });
    expect(tree2.findings).toEqual([]);
  });

  it("reports a bad range as a git error", async () => {
    const dir = tree({ "a.txt": "x\n" });
    git(dir, "init", "-q", "-b", "main");
    await expect(scan({ path: dir, only: ["secrets"], gitRange: "nope..main" })).rejects.toBeInstanceOf(
      GitSourceError,
    );
  });
});
