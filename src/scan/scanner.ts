import fs from "node:fs";
import path from "node:path";
import ignore from "ignore";
import { readBaseline } from "./baseline.js";
import { walkTree, type ScanFile, type SkipCounts } from "./files.js";
import { scanHistory, scanStaged } from "./git-source.js";
import type { SecretFinding } from "./secrets/locate.js";
import { scanFilesForSecrets } from "./secrets/scan-files.js";
import { SCANNERS, type Finding, type ScannerKind } from "./types.js";

/** What to scan and how. */
export interface ScanOptions {
  /** File or folder to scan (the working tree by default). */
  path: string;
  only?: ScannerKind[];
  /** Scan the staged version of staged files (secrets only). */
  staged?: boolean;
  /** Scan the lines added in a git range, e.g. `origin/main..HEAD` (secrets only). */
  gitRange?: string;
  /** Baseline file: findings whose fingerprint it lists are left out. */
  baseline?: string;
  /** False to ignore `gantry:allow` comments (a policy switch for strict pipelines). */
  allowInline?: boolean;
  maxFileBytes?: number;
  exclude?: string[];
  /** Worker threads for the secrets scan (default: one per core, at most 4). */
  workers?: number;
}

/** The result of a scan, before formatting. */
export interface ScanReport {
  root: string;
  /** Findings that count (not suppressed, not in the baseline), sorted by file and line. */
  findings: Finding[];
  /** Findings silenced by `gantry:allow <reason>`, kept for the audit trail. */
  suppressed: (Finding & { reason: string })[];
  baselined: number;
  stats: {
    files: number;
    bytes: number;
    durationMs: number;
    skipped: SkipCounts & { unreadable: number };
    commits?: number;
  };
  scanners: ScannerKind[];
}

const DOCKERFILE_NAME = /(?:^|\/)(?:Dockerfile|Containerfile)(?:\.[\w.-]+)?$|\.(?:dockerfile|Dockerfile)$/;
const YAML_NAME = /\.ya?ml$/i;
const K8S_HINT = /^\s*apiVersion\s*:/m;

/** Runs the selected scanners over a tree, the index or a git range. */
export async function scan(opts: ScanOptions): Promise<ScanReport> {
  const started = performance.now();
  const scanners =
    opts.only && opts.only.length > 0 ? SCANNERS.filter((s) => opts.only?.includes(s)) : [...SCANNERS];
  const root = path.resolve(opts.path);
  if (!fs.existsSync(root)) throw new Error(`${opts.path}: no such file or folder`);
  const isDir = fs.statSync(root).isDirectory();
  const baseDir = isDir ? root : path.dirname(root);
  const report: ScanReport = {
    root: baseDir,
    findings: [],
    suppressed: [],
    baselined: 0,
    stats: { files: 0, bytes: 0, durationMs: 0, skipped: { ignored: 0, binary: 0, huge: 0, unreadable: 0 } },
    scanners,
  };
  const raw: SecretFinding[] = [];

  if (opts.staged || opts.gitRange) {
    const ig = ignore().add(opts.exclude ?? []);
    const gantryIgnore = path.join(baseDir, ".gantryignore");
    if (fs.existsSync(gantryIgnore)) ig.add(fs.readFileSync(gantryIgnore, "utf8"));
    const accept = (rel: string): boolean => !ig.ignores(rel);
    if (scanners.includes("secrets")) {
      if (opts.staged) {
        const r = await scanStaged(baseDir, accept);
        raw.push(...r.findings);
        report.stats.files += r.files;
        report.stats.bytes += r.bytes;
        report.stats.skipped.binary += r.binary;
      }
      if (opts.gitRange) {
        const r = await scanHistory(baseDir, opts.gitRange, accept);
        raw.push(...r.findings);
        report.stats.bytes += r.bytes;
        report.stats.commits = r.commits;
      }
    }
  } else {
    const { files, skipped } = walkTree(root, { maxFileBytes: opts.maxFileBytes, exclude: opts.exclude });
    report.stats.skipped = { ...skipped, unreadable: 0 };
    if (scanners.includes("secrets")) {
      const r = await scanFilesForSecrets(files, { workers: opts.workers });
      raw.push(...r.findings);
      report.stats.files = r.scannedFiles;
      report.stats.bytes = r.scannedBytes;
      report.stats.skipped.binary += r.binary;
      report.stats.skipped.unreadable += r.unreadable;
    } else report.stats.files = files.length;
    if (scanners.includes("dockerfile")) raw.push(...(await scanDockerfiles(files, root, isDir)));
    if (scanners.includes("kubernetes")) raw.push(...(await scanManifests(files)));
  }

  const baseline = opts.baseline ? readBaseline(opts.baseline) : new Set<string>();
  for (const f of raw) {
    if (baseline.has(f.fingerprint)) {
      report.baselined++;
      continue;
    }
    const { suppressed, ...finding } = f;
    if (suppressed !== undefined && opts.allowInline !== false)
      report.suppressed.push({ ...finding, reason: suppressed });
    else report.findings.push(finding);
  }
  report.findings.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.ruleId.localeCompare(b.ruleId),
  );
  report.stats.durationMs = Math.round(performance.now() - started);
  return report;
}

// The Dockerfile and Kubernetes checkers (and their parsers) load only when selected.
async function scanDockerfiles(files: readonly ScanFile[], root: string, isDir: boolean): Promise<Finding[]> {
  const { checkDockerfile } = await import("./dockerfile/check.js");
  const out: Finding[] = [];
  for (const f of files) {
    if (!DOCKERFILE_NAME.test(f.rel)) continue;
    const text = readText(f.abs);
    if (text === undefined) continue;
    const dir = path.dirname(f.abs);
    const hasDockerignore = isDir
      ? fs.existsSync(path.join(dir, ".dockerignore")) ||
        fs.existsSync(`${f.abs}.dockerignore`) ||
        fs.existsSync(path.join(root, ".dockerignore"))
      : undefined;
    out.push(...checkDockerfile(text, f.rel, { hasDockerignore }));
  }
  return out;
}

async function scanManifests(files: readonly ScanFile[]): Promise<Finding[]> {
  const manifests: { file: string; text: string }[] = [];
  for (const f of files) {
    if (!YAML_NAME.test(f.rel)) continue;
    const text = readText(f.abs);
    // Only YAML that looks like Kubernetes: CI files, compose files and Helm values are not manifests.
    if (text === undefined || !K8S_HINT.test(text) || !/^\s*kind\s*:/m.test(text) || /\{\{/.test(text))
      continue;
    manifests.push({ file: f.rel, text });
  }
  if (manifests.length === 0) return [];
  const { checkManifests } = await import("./k8s/check.js");
  return checkManifests(manifests);
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
