import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CompileContext, LibrarySource } from "../../../src/pipeline/context.js";
import { emptyGitInfo } from "../../../src/pipeline/git.js";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");
export const corpusDir = path.resolve(repoRoot, "../shared/corpus/jenkins");

/** A compile context for a Jenkinsfile held in memory. */
export function context(
  source: string,
  over: Partial<CompileContext> = {},
): CompileContext & { source: string } {
  const dir = over.projectDir ?? mkdtempSync(path.join(tmpdir(), "gantry-jk-"));
  return {
    projectDir: dir,
    file: "Jenkinsfile",
    source,
    variables: {},
    params: {},
    git: emptyGitInfo(dir),
    libraries: [],
    cacheDir: path.join(dir, ".cache"),
    env: {},
    ...over,
  };
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  }).trim();
}

/** Writes files (path → text) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

/** A git repository holding a library, with a `master` branch; returns its source. */
export function gitLibrary(name: string, files: Record<string, string>): LibrarySource {
  const dir = mkdtempSync(path.join(tmpdir(), `gantry-lib-${name}-`));
  git(dir, "init", "-q", "-b", "master");
  writeTree(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "library");
  return { name, source: dir, defaultVersion: "master" };
}
