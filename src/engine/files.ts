import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import picomatch from "picomatch";
import type { glob as Glob } from "tinyglobby";
import { capture } from "../executors/spawner.js";

/** tinyglobby, loaded when first needed: many runs never glob, and it loads picomatch from disk. */
async function globber(): Promise<typeof Glob> {
  return (await import("tinyglobby")).glob;
}

/** Folders never copied into a workspace nor collected as artifacts. */
const ALWAYS_EXCLUDED = [".git", ".gantry"];

/**
 * The files of a checkout that a job's workspace starts with: tracked files plus untracked
 * files that are not ignored (what `git status` shows), relative to `dir`. Outside a git
 * repository: every file but `.git/` and `.gantry/`.
 */
export async function listProjectFiles(dir: string): Promise<string[]> {
  // `--exclude=/.gantry/`: git must not walk Gantry's own state (run logs, workspaces), which
  // grows with every run and made listing slower each time.
  const git = await capture(
    ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--exclude=/.gantry/"],
    dir,
  );
  if (git.code !== 0)
    return (await globber())(["**/*"], {
      cwd: dir,
      dot: true,
      ignore: ALWAYS_EXCLUDED.map((x) => `${x}/**`),
    });
  const seen = new Set<string>();
  for (const f of git.stdout.toString("utf8").split("\0")) {
    if (f && !ALWAYS_EXCLUDED.some((x) => f === x || f.startsWith(`${x}/`))) seen.add(f);
  }
  return [...seen];
}

/**
 * Small copies are done synchronously: a copy or mkdir of a small file takes microseconds,
 * while each promise round trip through the thread pool costs ~0.2 ms of latency, which adds
 * up for pipelines of many short jobs. Past these limits the event loop is not held up.
 */
const SYNC_COPY_FILES = 32;
const SYNC_COPY_BYTES = 4 * 1024 * 1024;

/** A tracked file deleted in the work tree, or a directory entry (submodule): skipped. */
function skippable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR";
}

/** The files of a small tree, read into memory once to make many workspaces from. */
export interface TreeSnapshot {
  /** Folders to create first (parents before children). */
  dirs: string[];
  files: { path: string; data: Buffer; mode: number }[];
}

/**
 * Reads `files` (relative to `dir`) into memory when they are few and small (the limits of
 * synchronous copies); undefined otherwise.
 *
 * Why: a run makes one workspace per job from the same files. Writing a file from memory
 * takes four system calls; copying one takes ten (open both, stat, truncate, chmod, a clone
 * attempt, the copy, close both), about three times as long on ext4.
 */
export function readSmallTree(dir: string, files: readonly string[]): TreeSnapshot | undefined {
  if (files.length > SYNC_COPY_FILES) return undefined;
  let bytes = 0;
  const read: TreeSnapshot["files"] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    try {
      const st = statSync(file);
      if (!st.isFile()) continue; // a submodule's folder
      bytes += st.size;
      if (bytes > SYNC_COPY_BYTES) return undefined;
      read.push({ path: f, data: readFileSync(file), mode: st.mode & 0o7777 });
    } catch (err) {
      if (!skippable(err)) throw err;
    }
  }
  const dirs = [...new Set(read.map((f) => path.dirname(f.path)))].filter((d) => d !== ".").sort();
  return { dirs, files: read };
}

/** Writes a snapshot's files into the folder `to` (which exists), modes included. */
export function writeTree(to: string, tree: TreeSnapshot): number {
  for (const d of tree.dirs) mkdirSync(path.join(to, d), { recursive: true });
  for (const f of tree.files) writeFileWithMode(path.join(to, f.path), f.data, f.mode);
  return tree.files.length;
}

/**
 * Writes `data` to `file` with exactly `mode` (whatever the umask). An existing file is
 * overwritten in place, read-only or not, and cut only where it was longer: freeing a file's
 * blocks costs far more than writing them where the file system discards freed blocks at once
 * (ext4 mounted with `discard` and no journal).
 */
export function writeFileWithMode(file: string, data: Buffer, mode: number): void {
  const flags = constants.O_WRONLY | constants.O_CREAT;
  let fd: number;
  try {
    fd = openSync(file, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EACCES") throw err;
    chmodSync(file, 0o600); // an existing read-only file of ours; its mode is set below
    fd = openSync(file, flags, mode);
  }
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done, done);
    ftruncateSync(fd, data.length);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** Copies `files` (relative paths) from `from` to `to`, many at a time, cloning where the filesystem can. */
export async function copyFiles(from: string, to: string, files: readonly string[]): Promise<number> {
  const dirs = [...new Set(files.map((f) => path.dirname(f)))].sort();
  let copied = 0;
  let next = 0;
  if (files.length <= SYNC_COPY_FILES) {
    for (const d of dirs) mkdirSync(path.join(to, d), { recursive: true });
    let bytes = 0;
    while (next < files.length && bytes <= SYNC_COPY_BYTES) {
      const f = files[next++]!;
      try {
        bytes += statSync(path.join(from, f)).size;
        copyFileSync(path.join(from, f), path.join(to, f), constants.COPYFILE_FICLONE);
        copied++;
      } catch (err) {
        if (!skippable(err)) throw err;
      }
    }
    if (next === files.length) return copied;
  } else {
    await Promise.all(dirs.map((d) => fs.mkdir(path.join(to, d), { recursive: true })));
  }
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      try {
        await fs.copyFile(path.join(from, f), path.join(to, f), constants.COPYFILE_FICLONE);
        copied++;
      } catch (err) {
        if (!skippable(err)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, files.length - next) }, worker));
  return copied;
}

/**
 * Files under `dir` matching artifact-style patterns: globs (`**`, `*`), and directories
 * (`path/` or `path`) meaning everything below them. `exclude` patterns remove files.
 */
export async function collectFiles(
  dir: string,
  patterns: readonly string[],
  exclude: readonly string[] = [],
): Promise<string[]> {
  const expanded: string[] = [];
  for (const raw of patterns) {
    let p = raw.replace(/^\.\//, "");
    if (p === "" || p === ".") p = "**";
    const abs = path.join(dir, p);
    const stat = await fs.stat(abs).catch(() => undefined);
    if (stat?.isDirectory()) expanded.push(`${p.replace(/\/+$/, "")}/**`);
    else expanded.push(p.replace(/\/+$/, ""));
  }
  if (expanded.length === 0) return [];
  const found = await (
    await globber()
  )(expanded, {
    cwd: dir,
    dot: true,
    onlyFiles: true,
    ignore: ALWAYS_EXCLUDED.map((x) => `${x}/**`),
    expandDirectories: false,
  });
  if (exclude.length === 0) return found.sort();
  const isExcluded = picomatch(
    exclude.flatMap((e) => {
      const x = e.replace(/^\.\//, "").replace(/\/+$/, "");
      return [x, `${x}/**`];
    }),
    { dot: true },
  );
  return found.filter((f) => !isExcluded(f)).sort();
}

/** Removes a directory tree; missing is fine. */
export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
