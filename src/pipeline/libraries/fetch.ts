/**
 * Fetches a library at a version with real git into the cache
 * (`<cacheDir>/libraries/<name>/<hash of source and version>`), reusing the copy while the
 * version still points at the same commit. A plain directory without a version is used as is.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { LibrarySource } from "../context.js";
import { isRemote } from "./config.js";

const run = promisify(execFile);
const MARKER = ".gantry-library.json";

export interface Fetched {
  dir: string;
  commit?: string;
}

export class LibraryFetchError extends Error {}

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
    throw new LibraryFetchError((e.stderr ?? e.message).trim().split("\n").slice(-1)[0] ?? e.message);
  }
}

/** The commit `version` names in `source` (branch, tag or commit id), via `git ls-remote`. */
async function resolveCommit(source: string, version: string): Promise<string | undefined> {
  const out = await git(["ls-remote", source, version, `refs/tags/${version}^{}`]);
  const lines = out
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t") as [string, string]);
  const peeled = lines.find(([, ref]) => ref === `refs/tags/${version}^{}`);
  const exact =
    lines.find(([, ref]) => ref === `refs/heads/${version}` || ref === `refs/tags/${version}`) ?? lines[0];
  return (peeled ?? exact)?.[0];
}

export async function fetchLibrary(src: LibrarySource, version: string, cacheDir: string): Promise<Fetched> {
  const remote = isRemote(src.source);
  if (!remote) {
    const exists = existsSync(src.source) && statSync(src.source).isDirectory();
    if (!version) {
      if (!exists) throw new LibraryFetchError(`directory ${src.source} does not exist`);
      return { dir: src.source };
    }
    // A missing directory may still be in the cache; only a plain directory cannot have versions.
    if (exists && !existsSync(path.join(src.source, ".git"))) {
      throw new LibraryFetchError(
        `${src.source} is a plain directory, not a git repository, so it has no version "${version}"`,
      );
    }
  }
  if (!version)
    throw new LibraryFetchError("a git library needs a version: name@branch, name@tag or a defaultVersion");
  const key = createHash("sha256").update(`${src.source}@${version}`).digest("hex").slice(0, 16);
  const target = path.join(cacheDir, "libraries", src.name, key);
  const marker = path.join(target, MARKER);
  const cached = existsSync(marker)
    ? (JSON.parse(readFileSync(marker, "utf8")) as { commit: string }).commit
    : undefined;
  let commit: string | undefined;
  try {
    commit = await resolveCommit(src.source, version);
  } catch (err) {
    // Offline with a cached copy: use it rather than fail.
    if (cached) return { dir: target, commit: cached };
    throw err;
  }
  if (!commit && /^[0-9a-f]{7,40}$/i.test(version)) commit = version;
  if (!commit)
    throw new LibraryFetchError(
      `version "${version}" is neither a branch, a tag nor a commit of ${src.source}`,
    );
  if (cached && (cached === commit || cached.startsWith(commit))) return { dir: target, commit: cached };
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await git(["clone", "--quiet", "--no-checkout", src.source, tmp]);
    await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], tmp);
    const full = await git(["rev-parse", "HEAD"], tmp);
    writeFileSync(path.join(tmp, MARKER), JSON.stringify({ source: src.source, version, commit: full }));
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return { dir: target, commit: full };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
