import fs from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

/** A file chosen for scanning. */
export interface ScanFile {
  /** Absolute path. */
  abs: string;
  /** Relative to the scan root, `/`-separated. */
  rel: string;
  size: number;
}

/** What the walk skipped, for the report's summary. */
export interface SkipCounts {
  ignored: number;
  binary: number;
  huge: number;
}

/** Options for walking a working tree. */
export interface WalkOptions {
  /** Files larger than this are skipped and counted (default 10 MiB). */
  maxFileBytes?: number;
  /** Extra ignore patterns (`.gitignore` syntax). */
  exclude?: string[];
}

const ALWAYS_SKIPPED = new Set([".git", "node_modules", ".hg", ".svn"]);

/**
 * Lists the files under `root`, honouring `.gitignore` (at every level) and `.gantryignore`
 * (same syntax). `.git` and `node_modules` are never walked. Symlinks are not followed.
 */
export function walkTree(root: string, opts: WalkOptions = {}): { files: ScanFile[]; skipped: SkipCounts } {
  const maxBytes = opts.maxFileBytes ?? 10 * 1024 * 1024;
  const files: ScanFile[] = [];
  const skipped: SkipCounts = { ignored: 0, binary: 0, huge: 0 };
  const stat = fs.statSync(root);
  if (stat.isFile()) {
    const rel = path.basename(root);
    if (stat.size > maxBytes) skipped.huge++;
    else files.push({ abs: path.resolve(root), rel, size: stat.size });
    return { files, skipped };
  }
  const base = ignore().add(opts.exclude ?? []);
  type Rules = { dir: string; ig: Ignore };
  const visit = (dirRel: string, stack: Rules[]): void => {
    const dirAbs = path.join(root, dirRel);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirAbs, { withFileTypes: true });
    } catch {
      return;
    }
    const local = ignore();
    let hasLocal = false;
    for (const name of [".gitignore", ".gantryignore"]) {
      if (entries.some((e) => e.name === name && e.isFile())) {
        local.add(fs.readFileSync(path.join(dirAbs, name), "utf8"));
        hasLocal = true;
      }
    }
    const rules = hasLocal ? [...stack, { dir: dirRel, ig: local }] : stack;
    for (const e of entries) {
      if (ALWAYS_SKIPPED.has(e.name)) continue;
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (!isDir && !e.isFile()) continue;
      const probe = isDir ? `${rel}/` : rel;
      if (
        base.ignores(probe) ||
        rules.some((r) => r.ig.ignores(r.dir ? probe.slice(r.dir.length + 1) : probe))
      ) {
        skipped.ignored++;
        continue;
      }
      if (isDir) {
        visit(rel, rules);
        continue;
      }
      const abs = path.join(root, rel);
      const size = fs.statSync(abs).size;
      if (size > maxBytes) {
        skipped.huge++;
        continue;
      }
      files.push({ abs, rel, size });
    }
  };
  visit("", []);
  return { files, skipped };
}

/** True when the bytes look binary: a NUL in the first 8 KiB, as git decides. */
export function isBinary(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, 8192)).indexOf(0) !== -1;
}
